"""What a project says it does, in its own words: package metadata (pyproject.toml, setup.cfg,
setup.py, package.json, Cargo.toml, composer.json, pom.xml, *.gemspec), then the README's first paragraph.

A manager is told what the software does first in the words its authors chose, each with where they
came from; model text comes after, if at all. Everything here is a pure function of file texts
(`files` maps posix repository paths to their text), so it works on any repository and is tested
without git.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import tomllib

from narrator.facts.area_roles import _name_role
from narrator.facts.provenance import Source
from narrator.facts.readme import _as_sentence, _readme_path, _squash, readme_paragraph


@dataclass(frozen=True)
class Description:
    """A description in the project's own words and where it came from."""

    text: str
    """Plain text, one or a few sentences, no markup."""
    source: Source
    """Package metadata, a README or a docstring (``Source.GIT`` for the main code's folder, a git fact)."""
    origin: str = ""
    """The file it was read from: 'pyproject.toml', 'shop/README.md', 'shop/__init__.py'."""


_PLACEHOLDER = re.compile(
    r"^(?:|todo\b.*|tbd|fixme\b.*|xxx|none|null|n/?a|-+|\.+|description|(?:project|package) description"
    r"|(?:add|put|insert|enter|write) (?:a |an |your |the )?(?:short |brief |one[- ]line )?(?:project |package )?description.*"
    r"|(?:a |an )?(?:short|brief|one[- ]line) description(?: of (?:the|your|this|my) \w+)?"
    r"|my (?:awesome |first |new |cool )?(?:project|package|app|application|library|module|crate|gem|plugin)"
    r"|lorem ipsum.*)$"
)
_TEMPLATE = re.compile(r"\{\{|\}\}|\$\{|\{%|<%")


def _is_placeholder(text: str) -> bool:
    """Template defaults ("Add your description here", "TODO", "{{ cookiecutter.description }}")."""
    return bool(_TEMPLATE.search(text)) or bool(_PLACEHOLDER.match(_squash(text).lower().strip(" .!:")))


def _norm(text: str) -> str:
    """Lower-case words only, for comparing two texts for the same content."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# --- package metadata -----------------------------------------------------------------------------


def _walk(data: object, *keys: str) -> str | None:
    """data[k1][k2]... when every step is a mapping and the end is a string."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) else None


def _toml(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return {}


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _from_pyproject(text: str) -> str | None:
    data = _toml(text)
    return _walk(data, "project", "description") or _walk(data, "tool", "poetry", "description")


def _from_setup_cfg(text: str) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    value = parser.get("metadata", "description", fallback=None) or parser.get("metadata", "summary", fallback=None)
    return None if value is None or value.strip().startswith(("file:", "attr:")) else value


def _from_setup_py(text: str) -> str | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup":
            for keyword in node.keywords:
                # Only a literal: a variable or a read of the README is not a description we can see.
                if keyword.arg == "description" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                    return keyword.value.value
    return None


def _from_json_description(text: str) -> str | None:
    return _walk(_json(text), "description")


def _from_cargo(text: str) -> str | None:
    data = _toml(text)
    return _walk(data, "package", "description") or _walk(data, "workspace", "package", "description")


_RUBY_STRING = r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%[qQ]?\{([^}]*)\})"""


def _from_gemspec(text: str) -> str | None:
    for field in ("summary", "description"):  # summary is the one-line form: preferred
        match = re.search(rf"\.{field}\s*=\s*{_RUBY_STRING}", text)
        if match:
            value = next(g for g in match.groups() if g is not None)
            if "#{" not in value:
                return re.sub(r"\\(.)", r"\1", value)
    return None


def _from_pom(text: str) -> str | None:
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    if root.tag.rsplit("}", 1)[-1] != "project":
        return None
    for child in root:  # the project's own <description>, not a dependency's or a plugin's
        if child.tag.rsplit("}", 1)[-1] == "description" and child.text:
            return child.text
    return None


_METADATA: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("pyproject.toml", _from_pyproject),
    ("setup.cfg", _from_setup_cfg),
    ("setup.py", _from_setup_py),
    ("package.json", _from_json_description),
    ("Cargo.toml", _from_cargo),
    ("composer.json", _from_json_description),
    ("pom.xml", _from_pom),
    ("*.gemspec", _from_gemspec),
)  # go.mod has no description: the README paragraph speaks for Go projects


def _metadata_in(folder: str, files: Mapping[str, str]) -> Description | None:
    """The first real description among the metadata files directly in folder ('' for the top)."""
    prefix = f"{folder}/" if folder else ""
    for name, read in _METADATA:
        if name.startswith("*"):
            paths = sorted(p for p in files if p.startswith(prefix) and "/" not in p[len(prefix):] and p.endswith(name[1:]))
        else:
            paths = [prefix + name] if prefix + name in files else []
        for path in paths:
            value = read(files[path])
            if value and not _is_placeholder(value):
                return Description(_as_sentence(value), Source.PACKAGE, path)
    return None


def package_description(files: Mapping[str, str]) -> Description | None:
    """The description field of the package metadata at the top level, or None.

    Only when the top has none, folders one level down are tried (monorepos), leaving out tests,
    examples, docs and vendored code, whose package files describe something else.
    """
    found = _metadata_in("", files)
    if found:
        return found
    folders = sorted({p.split("/", 1)[0] for p in files if "/" in p})
    for folder in folders:
        if not folder.startswith(".") and _name_role(folder, []) in (None, "source code", "build and packaging"):
            found = _metadata_in(folder, files)
            if found:
                return found
    return None


def project_descriptions(files: Mapping[str, str]) -> list[Description]:
    """The package description, then the README's first paragraph, each when present.

    The README paragraph is left out when one text contains the other (after normalising case,
    punctuation and markup): it would say the same thing twice.
    """
    out: list[Description] = []
    package = package_description(files)
    if package:
        out.append(package)
    path = _readme_path("", files)
    paragraph = readme_paragraph(files[path], path) if path else ""
    if paragraph:
        a, b = _norm(paragraph), _norm(package.text) if package else ""
        if not b or (a not in b and b not in a):
            out.append(Description(paragraph, Source.README, path))
    return out


def _project_names(files: Mapping[str, str]) -> list[str]:
    """The package names the top-level metadata gives, as written."""
    pyproject, cargo = _toml(files.get("pyproject.toml", "")), _toml(files.get("Cargo.toml", ""))
    names = [_walk(pyproject, "project", "name"), _walk(pyproject, "tool", "poetry", "name"),
             _walk(_json(files.get("package.json", "")), "name"), _walk(cargo, "package", "name"),
             _walk(_json(files.get("composer.json", "")), "name")]
    if "setup.cfg" in files:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(files["setup.cfg"])
            names.append(parser.get("metadata", "name", fallback=None))
        except configparser.Error:
            pass
    if match := re.search(r"""\bname\s*=\s*["']([\w.-]+)["']""", files.get("setup.py", "")):
        names.append(match.group(1))
    names += [p[:-len(".gemspec")] for p in sorted(files) if "/" not in p and p.endswith(".gemspec")]
    return [n for n in names if n and not _TEMPLATE.search(n)]


def project_name(files: Mapping[str, str]) -> str | None:
    """The project's package name from its top-level metadata, without a scope or vendor
    ("@acme/shop", "acme/shop" -> "shop"), or None."""
    names = _project_names(files)
    return names[0].rsplit("/", 1)[-1] if names else None


def first_line(text: str) -> str:
    """The first sentence of a description, for the one-line 'what it does'."""
    text = " ".join(text.split())
    cuts = [i for i in (text.find(end) for end in (". ", "! ", "? ")) if i > 0]
    return text[:min(cuts) + 1] if cuts else text
