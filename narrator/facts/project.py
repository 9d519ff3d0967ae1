"""What a project says it does, in its own words: package metadata, README, package docs.

A manager is told what the software does first in the words its authors chose, each with where they
came from; model text comes after, if at all. Everything here is a pure function of file texts
(`files` maps posix repository paths to their text), so it works on any repository and is tested
without git. The same module gives each top-level folder (an "area") a role by convention.
"""

from __future__ import annotations

import ast
import configparser
import html
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import tomllib

from narrator.facts import prefixes
from narrator.facts.paths import TOP_LEVEL, is_test_path
from narrator.facts.sentences import PROSE, split_sentences
from narrator.text import link_text


@dataclass(frozen=True)
class Description:
    """A description in the project's own words and where it came from."""

    text: str  # plain text, one or a few sentences, no markup
    source: str  # a label for the reader: "package metadata (pyproject.toml)", "README", ...


# --- text helpers ---------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_][\w'’-]*")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'’”)\]]*$")
_PLACEHOLDER = re.compile(
    r"^(?:|todo\b.*|tbd|fixme\b.*|xxx|none|null|n/?a|-+|\.+|description|(?:project|package) description"
    r"|(?:add|put|insert|enter|write) (?:a |an |your |the )?(?:short |brief |one[- ]line )?(?:project |package )?description.*"
    r"|(?:a |an )?(?:short|brief|one[- ]line) description(?: of (?:the|your|this|my) \w+)?"
    r"|my (?:awesome |first |new |cool )?(?:project|package|app|application|library|module|crate|gem|plugin)"
    r"|lorem ipsum.*)$"
)
_TEMPLATE = re.compile(r"\{\{|\}\}|\$\{|\{%|<%")
_MAX_SENTENCES = 3
_MAX_CHARS = 500


def _squash(text: str) -> str:
    """Whitespace collapsed to single spaces."""
    return " ".join(text.split())


def _as_sentence(text: str) -> str:
    """Whitespace cleaned, ending with a full stop when it has no end punctuation."""
    text = _squash(text).rstrip(",;:- ")
    return text if not text or _ENDS_SENTENCE.search(text) else text + "."


def _is_placeholder(text: str) -> bool:
    """Template defaults ("Add your description here", "TODO", "{{ cookiecutter.description }}")."""
    return bool(_TEMPLATE.search(text)) or bool(_PLACEHOLDER.match(_squash(text).lower().strip(" .!:")))


def _norm(text: str) -> str:
    """Lower-case words only, for comparing two texts for the same content."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _cut(text: str) -> str:
    """At most _MAX_SENTENCES sentences and about _MAX_CHARS characters, cut at a sentence end."""
    kept: list[str] = []
    for sentence in split_sentences(text, PROSE):
        if len(kept) == _MAX_SENTENCES or (kept and len(" ".join(kept + [sentence])) > _MAX_CHARS):
            break
        kept.append(sentence)
    if not kept:
        return ""
    if len(kept[0]) > _MAX_CHARS:  # one very long sentence: cut at a word
        kept = [kept[0][:_MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:- ") + "…"]
    if len(kept) > 1 and kept[-1].endswith(":"):  # "Install it with:" introduces what was skipped
        kept.pop()
    return _as_sentence(" ".join(kept))


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
                return Description(_as_sentence(value), f"package metadata ({path})")
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


# --- README and doc-comment paragraphs ------------------------------------------------------------

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_LINE = re.compile(r"^</?([A-Za-z][\w-]*)(?=[\s/>]|$)|^<!")  # not an autolink <https://...>
_VOID_TAGS = {"img", "br", "hr", "source", "meta", "link", "input"}
_HTML_NO_PROSE = {"h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "td", "th", "details", "summary",
                  "sub", "sup", "small", "pre", "code", "script", "style", "button", "picture", "svg", "video",
                  "iframe", "kbd", "nav", "figure", "figcaption", "a", "img"}
_FENCES = {"md": re.compile(r"^(`{3,}|~{3,})"), "rst": re.compile(r"^(`{3,})"),  # "~~~~" underlines in RST
           "adoc": re.compile(r"^(-{4,}|\.{4,}|={4,}|\*{4,}|_{4,}|\+{4,}|/{4,})\s*$")}
_UNDERLINE = re.compile(r"^([=\-~^*+#\"'`:._])\1{2,}\s*$")
_ATX = re.compile(r"^#{1,6}(\s|$)")
_ADOC_HEADING = re.compile(r"^=+\s")
_DIRECTIVE = re.compile(r"^\.\.(\s|$)")
_SKIP_LINE = re.compile(
    r"^(?::[\w -]+:(\s|$)"  # RST field list / AsciiDoc attribute
    r"|\[[^\]]*\]\s*$"  # AsciiDoc block attribute, [TOC]
    r"|\[\[?_?toc_?\]\]?"
    r"|\[[^\]]+\]:\s*\S"  # Markdown link reference definition
    r"|\w+::\S*\[.*\]\s*$"  # AsciiDoc block macro: image::x[], toc::[]
    r"|>>>|\$ )",  # doctest prompt, shell prompt
    re.I,
)
_LIST = re.compile(r"^([-*+•]|\d+[.)])\s")
_IMAGE = re.compile(r"!\[[^\]]*\](\([^)]*\)|\[[^\]]*\])?|<img\b[^>]*>|<picture\b|<source\b|\bimage::?\S*\[[^\]]*\]|\|[^|\s][^|]*\|_{0,2}")
_LINKS = re.compile(
    r"\[[^\]]*\]\([^)]*\)|\[[^\]]*\]\[[^\]]*\]|<a\b[^>]*>.*?</a>|`[^`<]*<[^>]+>`_{1,2}"
    r"|(?:link:\S+?|https?://\S+?)\[[^\]]*\]|<?https?://\S+>?"
)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_NOTICE = re.compile(
    r"^\W*(?:note|notice|warning|important|caution|tip|attention|disclaimer|update|news|announcement|heads up)\b\s*[:!]"
    r"|no longer (?:actively )?maintained|this (?:project|repository|repo) (?:has moved|is archived|has been archived|is deprecated)",
    re.I,
)
_LICENCE = re.compile(
    r"\b(?:copyright|spdx-license-identifier|licen[cs]ed under|all rights reserved|permission is hereby granted"
    r"|do not edit|auto-?generated|generated by|this file is part of)\b|\(c\)|©|@license",
    re.I,
)
_POINTER = re.compile(  # sentences that only point elsewhere, or pick up from a quip ("... so sign it")
    r"^(?:\.\.\.|…|for (?:more|further|full|detailed) (?:information|info|details|documentation)|more (?:information|info|details)"
    r"|see (?:the|our|also|https?)|please (?:see|read|refer|visit|check)|check ?out\b|read (?:the|our|more)|refer to|visit"
    r"|questions\b|and\b|but\b|also\b)",
    re.I,
)
_TOC = re.compile(r"^(?:table of contents|contents|toc|index)\s*:?$", re.I)
_MIN_README_WORDS = 4  # shorter blocks are titles, taglines or labels ("HTTP for Humans", "Features")
_MIN_DOC_WORDS = 2  # a docstring may be short and still the author's own words ("Cart totals.")


def _markup_of(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    return {".rst": "rst", ".rest": "rst", ".adoc": "adoc", ".asciidoc": "adoc", ".asc": "adoc"}.get(suffix, "md")


def _residual_words(text: str) -> int:
    """Words left once images, links, URLs and tags are taken out: 0 for a badge or link line."""
    text = _TAG.sub(" ", _LINKS.sub(" ", _IMAGE.sub(" ", text)))
    return len(_WORD.findall(text))


def _html_text(line: str) -> str:
    """The prose an HTML line carries ("<i>A client for the Hub.</i>"); '' for links, images, headings."""
    first = re.match(r"<([A-Za-z][\w-]*)", line)
    if (first and first.group(1).lower() in _HTML_NO_PROSE) or _residual_words(line) == 0:
        return ""
    return _squash(_TAG.sub(" ", line))


def _strip_front_matter(text: str) -> str:
    match = re.match(r"(---|\+\+\+)\n.*?\n(---|\.\.\.|\+\+\+)\n", text, re.S)
    return text[match.end():] if match else text


def _blocks(text: str, markup: str) -> list[list[str]]:
    """Candidate paragraphs as lists of lines, with code, HTML, headings and directives taken out.

    Gotcha: READMEs often put badges, HTML and the first paragraph on consecutive lines with no
    blank line between, so badge and HTML lines end a paragraph as a blank line would.
    """
    text = _HTML_COMMENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = _strip_front_matter(text.lstrip("\ufeff")).split("\n")
    blocks: list[list[str]] = []
    block: list[str] = []
    fence = html_tag = None
    html_prose = False  # whether the open HTML block may carry prose (a <p>, not a <table>)
    skip_indented = False  # inside an RST directive body or a literal block after "::"

    def flush() -> None:
        nonlocal block
        if block:
            blocks.append(block)
        block = []

    for line in lines:
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            continue
        if html_tag:  # inside a multi-line HTML block, which ends at a blank line or its closing tag
            if html_prose and (html_text := _html_text(stripped)):
                block.append(html_text)
            if not stripped or f"</{html_tag}" in stripped.lower():
                html_tag = None
                flush()
            continue
        if not stripped:
            flush()
            continue
        indent = len(line) - len(line.lstrip())
        if skip_indented and indent:
            continue
        skip_indented = False
        fence_match = _FENCES[markup].match(stripped)
        if fence_match:
            flush()
            fence = fence_match.group(1)
            continue
        if not block and (line.startswith("\t") or indent >= (1 if markup == "rst" else 4)):
            continue  # an indented code block or quote, not the opening prose
        if _UNDERLINE.match(stripped):  # setext / RST heading: the line above was its title
            if block:
                block.pop()
            flush()
            continue
        html_match = _HTML_LINE.match(stripped)
        if html_match:
            flush()
            tag = (html_match.group(1) or "").lower()
            closed = (not tag or tag in _VOID_TAGS or stripped.endswith("/>") or f"</{tag}" in stripped.lower()
                      or stripped.startswith("</"))
            html_prose = tag not in _HTML_NO_PROSE
            if html_prose and (html_text := _html_text(stripped)):
                block.append(html_text)
            if closed:
                flush()
            else:
                html_tag = tag
            continue
        if (_ATX.match(stripped) or (markup == "adoc" and _ADOC_HEADING.match(stripped)) or _DIRECTIVE.match(stripped)
                or _SKIP_LINE.match(stripped)):
            flush()
            skip_indented = bool(_DIRECTIVE.match(stripped))
            continue
        if _IMAGE.search(stripped) and _residual_words(stripped) == 0:
            flush()  # a badge row
            continue
        if not block and _LINKS.search(stripped) and _residual_words(stripped) == 0:
            flush()  # a row of links: "[Docs](..) | [Install](..)"
            continue
        if block and _LIST.match(stripped):
            flush()  # a list may start right under a paragraph's last line
        block.append(stripped)
        if stripped.endswith("::") and markup != "md":
            skip_indented = True
    flush()
    return blocks


def _strip_symbols(text: str) -> str:
    """Emoji and other symbols taken off both ends ("✨ The little framework. ✨")."""
    def symbol(ch: str) -> bool:
        return ch.isspace() or unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn", "Co")
    start, end = 0, len(text)
    while start < end and symbol(text[start]):
        start += 1
    while end > start and symbol(text[end - 1]):
        end -= 1
    return text[start:end]


def _plain(text: str, markup: str) -> str:
    """Inline markup taken out: [text](url) -> text, **x** -> x, `x` -> x, `text <url>`_ -> text."""
    text = _IMAGE.sub(" ", text) if markup != "rst" else re.sub(r"\|[^|\s][^|]*\|_{0,2}", " ", text)
    text = link_text(text)
    if markup == "md":
        text = re.sub(r"(?<![\w\]])\[([A-Za-z][\w .-]*)\](?![(\[:])", r"\1", text)  # shortcut reference links: [markdown-it]
    text = re.sub(r"(?:link:\S+?|https?://\S+?)\[([^\]]+)\]", r"\1", text)
    text = re.sub(r":[\w:-]+:`([^`]+)`", r"\1", text)  # RST roles
    text = re.sub(r"`([^`<]+?)\s*<[^>]+>`_{1,2}", r"\1", text)
    text = re.sub(r"``(.+?)``|`([^`]+)`_{0,2}", lambda m: m.group(1) or m.group(2), text)
    if markup == "rst":
        text = re.sub(r"\b(\w+)__?(?=[\s.,;:!?)]|$)", r"\1", text)  # reference names: Django_
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = _TAG.sub(" ", text)
    text = re.sub(r"(\*\*|__|~~)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)", r"\1", text)
    text = re.sub(r"(?<!\S):[a-z][a-z0-9_+-]*:(?!\S)", " ", text)  # emoji shortcodes
    text = _squash(html.unescape(text))
    text = _strip_symbols(text)
    text = re.sub(r"\(\s*\)", "", text)
    return re.sub(r"\s+([,.;:!?])", r"\1", text).strip()


def _first_paragraph(text: str, markup: str, min_words: int, skip_licence: bool = False) -> str:
    """The first block that reads as prose, cleaned and cut; '' when there is none."""
    for block in _blocks(text, markup):
        if _LIST.match(block[0]) or block[0].startswith(("|", "+-", ">")):
            continue  # lists, tables and quotes are not the opening description
        raw = " ".join(block)
        plain = _plain(raw, markup)
        words = len(_WORD.findall(plain))
        if (words < min_words or _TOC.match(plain) or _NOTICE.search(plain) or _POINTER.match(plain)
                or (skip_licence and _LICENCE.search(plain))):
            continue
        if _LINKS.search(raw):
            residual = _residual_words(raw)
            listed = re.search(r"\s[|·•]\s", raw) or len(_LINKS.findall(raw)) >= 3
            if residual <= 1 or (listed and residual * 2 <= words):
                continue  # mostly links: "**Docs**: [x](..) | **Source**: [y](..)"
        if len(split_sentences(plain, PROSE)) == 1 and plain.endswith(":") and words < 8:
            continue  # a label for what follows ("Features include:")
        return _cut(plain)
    return ""


def readme_paragraph(text: str, path: str = "README.md") -> str:
    """The first prose paragraph of a README (Markdown, RST, AsciiDoc or plain text), plain text.

    Badges, images, HTML, headings, link rows, tables, lists, quotes, code and front matter are
    skipped; the paragraph is cut to three sentences or about 500 characters. '' when none.
    """
    return _first_paragraph(text, _markup_of(path), _MIN_README_WORDS)


_README_ORDER = ("md", "markdown", "rst", "", "txt", "adoc", "asciidoc", "rdoc", "org")


def _readme_path(folder: str, files: Mapping[str, str]) -> str | None:
    """The README directly in folder ('' for the top), any case, Markdown preferred."""
    prefix = f"{folder}/" if folder else ""
    found = {}
    for path in files:
        name = path[len(prefix):] if path.startswith(prefix) else None
        if name and "/" not in name:
            stem, _, ext = name.partition(".")
            if stem.lower() == "readme" and ext.lower() in _README_ORDER:
                found[_README_ORDER.index(ext.lower())] = path
    return found[min(found)] if found else None


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
            out.append(Description(paragraph, "README"))
    return out


# --- area roles -----------------------------------------------------------------------------------

ROLES = ("source code", "tests", "documentation", "CI and automation", "build and packaging", "examples",
         "dependencies", "release notes", "configuration")

# Choices: scripts/, tools/ and hack/ hold developer helpers, so they are "CI and automation";
# bin/ is left to its files (Node and Python put the program's entry points there). config/,
# settings/ and editor folders are "configuration", a ninth role: calling them code or build misleads.
_NAMES = {
    "tests": {"test", "tests", "spec", "specs", "__tests__", "testing", "e2e", "t", "integration", "integration-tests",
              "integration_tests", "functional", "testdata", "test-data", "fixtures", "benchmarks", "benchmark",
              "bench", "cypress", "unittests", "unit-tests", "unit_tests"},
    "documentation": {"docs", "doc", "documentation", "man", "manual", "manuals", "guide", "guides", "wiki", "book",
                      "handbook", "docs-src", "docs_src", "mkdocs", "sphinx", "javadoc", "api-docs"},
    "CI and automation": {".github", ".gitlab", ".circleci", ".buildkite", ".travis", ".azure-pipelines", ".azure",
                          ".jenkins", "jenkins", ".husky", ".woodpecker", ".drone", ".ci", "ci", "scripts", "script",
                          "tools", "tooling", "hack", ".tekton", ".teamcity", ".forgejo", ".gitea"},
    "build and packaging": {"build", "dist", "packaging", "docker", ".docker", "deploy", "deployment", "deployments",
                            "helm", "charts", "chart", "k8s", "kubernetes", "kustomize", "terraform", "infra",
                            "infrastructure", "ansible", "installer", "installers", "debian", "rpm", "snap",
                            "snapcraft", "flatpak", "homebrew", "nix", "cmake", "gradle", ".mvn", "conda",
                            "conda-recipe", "conda.recipe", "releng"},
    "examples": {"examples", "example", "samples", "sample", "demo", "demos", "sandbox", "playground", "cookbook",
                 "showcase", "starter", "starters"},
    "dependencies": {"vendor", "vendors", "vendored", "_vendor", "third_party", "thirdparty", "third-party", "3rdparty",
                     "external", "externals", "extern", "deps", "node_modules", "bower_components", "pods", "carthage",
                     ".yarn", "submodules"},
    "release notes": {"changelog.d", "changes", "changes.d", "newsfragments", ".changeset", ".changes", "changelog",
                      "changelogs", "release-notes", "release_notes", "releasenotes", "news", "unreleased"},
    "configuration": {"config", "configs", "conf", "configuration", "settings", "etc", ".vscode", ".idea",
                      ".devcontainer", ".config", "env", "environments"},
    "source code": {"src", "lib", "app", "apps", "pkg", "cmd", "internal", "source", "sources", "packages",
                    "modules", "crates", "include", "core"},
}
_NAME_TOKENS = {"test": "tests", "tests": "tests", "e2e": "tests", "benchmarks": "tests", "docs": "documentation",
                "doc": "documentation", "example": "examples", "examples": "examples", "demo": "examples",
                "demos": "examples", "samples": "examples", "vendor": "dependencies"}
_WEBSITES = {"site", "website", "www", "web-site", "gh-pages", "pages"}

_CODE = {".py", ".pyi", ".go", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".kt", ".kts", ".scala", ".rb",
         ".php", ".rs", ".c", ".h", ".cc", ".cpp", ".hpp", ".cxx", ".cs", ".swift", ".m", ".mm", ".vue", ".svelte",
         ".ex", ".exs", ".erl", ".hs", ".ml", ".clj", ".lua", ".r", ".jl", ".dart", ".pl", ".pm", ".zig", ".nim",
         ".groovy", ".fs", ".vb", ".elm", ".sol", ".ipynb"}
_SHELL = {".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd"}
_DOCS = {".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".txt", ".mdx", ".rdoc", ".org", ".tex"}
_DOC_STEMS = {"readme", "license", "licence", "copying", "notice", "authors", "contributors", "changelog", "changes",
              "history", "news", "security", "code_of_conduct", "contributing", "maintainers", "support"}
_CONFIG = {".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".env", ".properties"}
_BUILD_NAMES = {"makefile", "gnumakefile", "cmakelists.txt", "dockerfile", "containerfile", "docker-compose.yml",
                "docker-compose.yaml", "compose.yml", "compose.yaml", ".dockerignore", "setup.py", "setup.cfg",
                "pyproject.toml", "manifest.in", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                "pnpm-workspace.yaml", "lerna.json", "nx.json", "turbo.json", "cargo.toml", "cargo.lock", "go.mod",
                "go.sum", "go.work", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle",
                "settings.gradle.kts", "gradlew", "gradlew.bat", "gradle.properties", "build.xml", "gemfile",
                "gemfile.lock", "rakefile", "composer.json", "composer.lock", "pipfile", "pipfile.lock",
                "poetry.lock", "uv.lock", "tox.ini", "noxfile.py", "environment.yml", "meson.build", "configure",
                "configure.ac", "makefile.am", "build.rs", "build.sbt", "justfile", "taskfile.yml", "mix.exs",
                "mix.lock", "deno.json", "flake.nix", "default.nix", "shell.nix", "vcpkg.json", "conanfile.txt",
                "conanfile.py", "build", "workspace", "build.bazel", "workspace.bazel", "module.bazel", "tsconfig.json"}
_BUILD_SUFFIXES = {".gemspec", ".mk", ".cmake", ".nuspec", ".csproj", ".sln", ".podspec", ".bzl", ".spec", ".lock"}
_CI_NAMES = {".travis.yml", ".gitlab-ci.yml", "jenkinsfile", "azure-pipelines.yml", ".pre-commit-config.yaml",
             "appveyor.yml", ".appveyor.yml", "codecov.yml", ".codecov.yml", "renovate.json", ".renovaterc",
             "bitbucket-pipelines.yml", ".drone.yml", "cloudbuild.yaml", ".cirrus.yml"}


def _kind(path: str) -> str:
    """What one file is: code, test, shell, build, ci, doc, config or other."""
    p = PurePosixPath(path)
    name, suffix = p.name.lower(), p.suffix.lower()
    if name in _CI_NAMES:
        return "ci"
    if (name in _BUILD_NAMES or suffix in _BUILD_SUFFIXES or name.startswith(("dockerfile", "requirements"))
            or re.search(r"\.config\.[cm]?[jt]s$", name)):
        return "build"
    if name == "conftest.py" or is_test_path(path):
        return "test"
    if suffix in _SHELL:
        return "shell"
    if suffix in _CODE:
        return "code"
    if suffix in _DOCS or p.stem.lower() in _DOC_STEMS:
        return "doc"
    if suffix in _CONFIG or name.startswith("."):
        return "config"
    return "other"


def _name_role(area: str, kinds: list[str], package: bool = False) -> str | None:
    """The role the folder's name gives by convention, or None.

    A word inside a longer name ("e2e-tests") counts only when the folder is not a Python package:
    "annotated_doc/__init__.py" is code that happens to mention docs.
    """
    name = area.lower()
    for role, names in _NAMES.items():
        if name in names:
            return role
    if name in _WEBSITES:
        return "documentation" if "doc" in kinds else None
    for token in [] if package else re.split(r"[-_.\s]+", name):
        if token in _NAME_TOKENS:
            return _NAME_TOKENS[token]
    return "configuration" if name.startswith(".") else None


def area_role(area: str, paths: list[str]) -> str:
    """One of ROLES for a top-level folder (or TOP_LEVEL), from its name first, then its files.

    paths may be repository paths ("tests/test_a.py") or paths inside the area ("test_a.py").
    """
    prefix = f"{area}/"
    kinds = [_kind(p[len(prefix):] if p.startswith(prefix) else p) for p in paths]
    count = Counter(kinds)
    if area == TOP_LEVEL:
        if count["build"] > count["code"]:
            return "build and packaging"
        order = ("code", "build", "ci", "shell", "doc", "config")
        roles = ("source code", "build and packaging", "CI and automation", "CI and automation", "documentation",
                 "configuration")
        return next((role for kind, role in zip(order, roles) if count[kind]), "source code")
    named = _name_role(area, kinds, package=any(p in (f"{prefix}__init__.py", "__init__.py") for p in paths))
    if named:
        return named
    code = count["code"] + count["test"]
    if count["doc"] > 2 * code:
        return "documentation"
    if count["test"] and not count["code"]:
        return "tests"  # every code file is a test
    if code:
        return "source code"
    if count["shell"]:
        return "CI and automation"
    ranked = [(count[k], r) for k, r in (("build", "build and packaging"), ("ci", "CI and automation"),
                                         ("doc", "documentation"), ("config", "configuration"))]
    best = max(ranked, key=lambda item: item[0])
    return best[1] if best[0] else "source code"  # assets and data belong to the product


# --- an area's own words --------------------------------------------------------------------------


def _python_docstring(text: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(text))
    except (SyntaxError, ValueError):
        return ""
    return _first_paragraph(doc, "rst", _MIN_DOC_WORDS, skip_licence=True) if doc else ""


_GO_PACKAGE = re.compile(r"^package\s+\w+", re.M)


def _go_package_comment(text: str, any_comment: bool) -> str:
    """The doc comment directly above the package clause; outside doc.go it must say "Package ..."."""
    clause = _GO_PACKAGE.search(text)
    if not clause:
        return ""
    above = text[:clause.start()].rstrip("\n").split("\n")
    group: list[str] = []
    if above and above[-1].strip().endswith("*/"):
        block = text[:clause.start()].rstrip()
        start = block.rfind("/*")
        group = [re.sub(r"^\s*\*\s?", "", line) for line in block[start + 2:-2].split("\n")]
    else:
        while above and above[-1].lstrip().startswith("//"):
            line = above.pop()
            if not re.match(r"^\s*//\s*(go:|\+build|nolint)", line):
                group.insert(0, re.sub(r"^\s*// ?", "", line))
    comment = "\n".join(group).strip()
    if not comment or not (any_comment or comment.startswith("Package ")):
        return ""
    return _first_paragraph(comment, "md", _MIN_DOC_WORDS, skip_licence=True)


# A comment that only labels the lines below it ("Module dependencies.", "Expose `app`."), as Node
# modules put above their require() lines: not what the module is for.
_SECTION_LABEL = re.compile(
    r"^(?:module\s+)?(?:dependencies|exports?|imports?|requires?|variables|constants|globals?|private|public"
    r"|polyfills?|helpers?|types?)\W*$|^expose\b",
    re.I,
)


def _js_leading_comment(text: str) -> str:
    """The first /** */ block before any code that is not a licence banner."""
    rest = re.sub(r"^#!.*\n", "", text.lstrip("\ufeff"))
    while True:
        rest = rest.lstrip()
        if rest.startswith("/*"):
            end = rest.find("*/")
            if end < 0:
                return ""
            body, rest = rest[2:end], rest[end + 2:]
            if body.startswith("*"):
                lines = [re.sub(r"^\s*\*+\s?", "", line) for line in body[1:].split("\n")]
                lines = [re.sub(r"^@(fileoverview|file|overview|description)\s*", "", line) for line in lines]
                paragraph = _first_paragraph("\n".join(l for l in lines if not l.startswith("@")), "md",
                                             _MIN_DOC_WORDS, skip_licence=True)
                if paragraph and not _SECTION_LABEL.match(paragraph):
                    return paragraph
        elif rest.startswith("//"):
            rest = rest.split("\n", 1)[1] if "\n" in rest else ""
        elif re.match(r"""['"]use (strict|client|server)['"];?""", rest):
            rest = rest.split("\n", 1)[1] if "\n" in rest else ""
        else:
            return ""


_JS_INDEX = ("index.ts", "index.js", "index.mjs", "index.tsx", "index.jsx", "index.cjs")
_JS_SUFFIXES = (".ts", ".js", ".mjs", ".cjs", ".tsx", ".jsx")
# A main module that only says how it is started ("Entry point for python -m shop.") describes nothing.
_ENTRY_ONLY = re.compile(r"\bpython3? -m\b|\bentry[- ]?point\b|__main__|\bcommand[- ]line entry\b", re.I)


def _python_packages(area: str, files: Mapping[str, str]) -> list[str]:
    """The Python package folders that speak for an area: the area itself, or in a src layout the
    packages directly in it (not tests or docs packages)."""
    if f"{area}/__init__.py" in files:
        return [area]
    return sorted(p.rsplit("/", 1)[0] for p in files if p.startswith(f"{area}/") and p.endswith("/__init__.py")
                  and p.count("/") == 2 and _name_role(p.split("/")[1], []) in (None, "source code"))


def _main_modules(area: str, files: Mapping[str, str]) -> list[str]:
    """The area's main modules, in order: a Python package's module named like it (shop/shop.py) and its
    __main__.py; a Go main.go; the JavaScript entry points index.*, src/index.*, lib/index.*, a module
    named like the area (web/web.js) or like the project (lib/express.js), and package.json's "main"."""
    paths = []
    for package in _python_packages(area, files):
        name = package.rsplit("/", 1)[-1]
        paths += [f"{package}/{name}.py", f"{package}/__main__.py"]
    paths.append(f"{area}/main.go")
    paths += [f"{area}/{sub}{n}" for sub in ("", "src/", "lib/") for n in _JS_INDEX]
    named = [area, project_name(files) or ""]
    paths += [f"{area}/{sub}{stem}{suffix}" for stem in named if stem for sub in ("", "src/", "lib/")
              for suffix in _JS_SUFFIXES]
    entry = _walk(_json(files.get("package.json", "")), "main")
    if entry:
        entry = str(PurePosixPath(entry.removeprefix("./")))
        paths += [entry, f"{entry}.js", f"{entry}/index.js"]  # Node resolves "lib/app" to these too
    return [p for p in dict.fromkeys(paths) if p in files and p.startswith(f"{area}/")]


def _main_module_words(path: str, text: str) -> str:
    """The description a main module gives of itself: its docstring or leading doc comment."""
    if path.endswith(".py"):
        words = _python_docstring(text)
    elif path.endswith(".go"):
        words = _go_package_comment(text, any_comment=True)
    else:
        words = _js_leading_comment(text)
    return "" if _ENTRY_ONLY.search(words) else words


def area_own_words(area: str, files: Mapping[str, str]) -> Description | None:
    """The area's description in its own words, or None. Tried in order, first found wins:

    its README's first paragraph; the module docstring of area/__init__.py (or of area/<pkg>/__init__.py,
    the src layout); a Go package comment (area/doc.go, then other .go files directly in area); the
    doc comment of the area's main module (``_main_modules``: area/<pkg>/<pkg>.py, __main__.py,
    main.go, index.{ts,js} directly or under src/ or lib/, a module named like the area or the project,
    package.json's "main"). Licence headers, generated notices, comments that only label the lines
    below ("Module dependencies.") and docstrings that only say how a module is started are skipped.
    Any other file's or class's docstring never speaks for the area. For TOP_LEVEL only files
    directly at the top are read.
    """
    top = area == TOP_LEVEL
    prefix = "" if top else f"{area}/"
    readme = _readme_path("" if top else area, files)
    if readme:
        paragraph = readme_paragraph(files[readme], readme)
        if paragraph:
            return Description(paragraph, readme)
    inits = ["__init__.py"] if top else [f"{p}/__init__.py" for p in _python_packages(area, files)]
    for path in inits:
        if path in files and (text := _python_docstring(files[path])):
            return Description(_as_sentence(text), f"package docstring ({path})")
    go_files = sorted((p for p in files if p.startswith(prefix) and "/" not in p[len(prefix):]
                       and p.endswith(".go") and not p.endswith("_test.go")),
                      key=lambda p: (not p.endswith("/doc.go") and p != "doc.go", p))
    for path in go_files:
        if text := _go_package_comment(files[path], any_comment=PurePosixPath(path).name == "doc.go"):
            return Description(_as_sentence(text), f"package comment ({path})")
    if top:
        mains = [n for n in _JS_INDEX if n in files]
    else:
        mains = _main_modules(area, files)
    for path in mains:
        if text := _main_module_words(path, files[path]):
            kind = {".py": "main module docstring", ".go": "package comment"}.get(PurePosixPath(path).suffix, "module comment")
            return Description(_as_sentence(text), f"{kind} ({path})")
    return None


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


def _same_name(a: str, b: str) -> bool:
    """Package names compare without case, and "-", "." and "_" are the same ("my-shop" is my_shop)."""
    return re.sub(r"[-_.]+", "_", a.lower()) == re.sub(r"[-_.]+", "_", b.lower())


def main_code_area(files: Mapping[str, str]) -> str | None:
    """The top-level folder that holds the project's main code, or None. First rule that applies:

    1. a source-code folder named like the project's package ("tqdm/" of the package tqdm);
    2. a source-code folder holding a module or package named like it ("lib/express.js",
       "src/shop/");
    3. the folder of package.json's "main" ("lib/index.js");
    4. the only source-code folder, when no code sits at the top level but index.* entry shims.
    "Source code" is ``area_role``'s role; tests, docs and examples never are the main code.
    """
    by_area: dict[str, list[str]] = {}
    for path in files:
        if "/" in path:
            by_area.setdefault(path.split("/", 1)[0], []).append(path)
    code = sorted(a for a, paths in by_area.items() if not a.startswith(".") and area_role(a, paths) == "source code")
    name = project_name(files)
    if name:
        for area in code:
            if _same_name(area, name):
                return area
        for area in code:
            children = {PurePosixPath(p.split("/")[1]).stem for p in by_area[area] if p.count("/") >= 1}
            if any(_same_name(child, name) for child in children):
                return area
    entry = _walk(_json(files.get("package.json", "")), "main")
    if entry and "/" in (entry := entry.removeprefix("./")) and entry.split("/", 1)[0] in code:
        return entry.split("/", 1)[0]
    top_code = [p for p in files if "/" not in p and _kind(p) == "code" and not p.startswith("index.")]
    return code[0] if len(code) == 1 and not top_code else None


MAIN_CODE_TARGET = "project:main-code"
"""The stored description whose text is the folder of the project's main code (``main_code_area``)."""


def describe_area(area: str, files: Mapping[str, str]) -> Description | None:
    """What a part (top-level area) is, in people's words, or None for "not described".

    Its own words (``area_own_words``) first; else, when the area is the project's main code
    (``main_code_area``), the project's own description, labelled as what it is (the package
    metadata or the README). Never a class's or another module's docstring, and never a guess.
    """
    own = area_own_words(area, files)
    if own is not None or area == TOP_LEVEL or area != main_code_area(files):
        return own
    described = project_descriptions(files)
    return described[0] if described else None


# --- commit-style sentences -----------------------------------------------------------------------

_COMMIT_TYPES = {"feat", "feature", "fix", "bugfix", "hotfix", "docs", "doc", "test", "tests", "chore", "refactor",
                 "style", "perf", "ci", "build", "revert", "release", "deps", "dep", "wip", "security", "cleanup",
                 "lint", "i18n", "l10n", "typo", "merge", "tweak", "misc"}
_CHANGE_VERBS = {
    "add", "remove", "fix", "drop", "delete", "update", "bump", "create", "rename", "refactor", "merge", "revert",
    "move", "use", "replace", "change", "improve", "implement", "introduce", "upgrade", "release", "prepare",
    "downgrade", "deprecate", "disable", "enable", "avoid", "ensure", "simplify", "tweak", "adjust", "convert",
    "extract", "switch", "restore", "reorganize", "reorganise", "tidy", "polish", "pin", "unpin", "rewrite",
    "rework", "migrate", "cleanup", "reformat", "regenerate", "resolve", "correct", "apply", "wip",
    # past tense, as in "Fixed typo"; not "created"/"released"/"used", which describe ("Released under MIT")
    "added", "removed", "fixed", "dropped", "deleted", "updated", "bumped", "renamed", "refactored", "merged",
    "reverted", "moved", "replaced", "changed", "improved", "implemented", "introduced", "upgraded", "cleaned",
}
_CONVENTIONAL_TYPE = re.compile(r"[A-Za-z0-9]+")
_SCOPE = re.compile(r"[a-z0-9][\w./,*-]*")  # "net/http: fix ..."


def is_commit_style(sentence: str) -> bool:
    """True when a sentence reads like a commit subject, not a description.

    A conventional prefix ("docs: ...", "feat(x): ..."), a lower-case scope and a change verb
    ("narrator: add ..."), or an opening imperative/past-tense change verb and more words
    ("Remove fake project directory."). Third person ("Reads settings ...") is descriptive.
    Gotcha: README taglines can be imperative ("Create projects from templates"): apply this to
    generated text, not to the project's own words.
    """
    text = re.sub(r"^(?:\W|:[a-z_]+:\s*)+", "", sentence.strip())  # emoji, gitmoji, quotes
    if not text:
        return False
    found = prefixes.prefix(text)
    if found and found.rest and _CONVENTIONAL_TYPE.fullmatch(found.type) and found.type.lower() in _COMMIT_TYPES:
        return True
    if found and found.spaced and found.rest and "\n" not in found.rest and _SCOPE.fullmatch(found.type):
        text = found.rest
    if re.match(r"^(v?\d+(\.\d+)+\b|initial commit\b|merge (branch|pull request)\b)", text, re.I):
        return True
    words = _WORD.findall(text)
    if len(words) < 2 or words[0].lower() not in _CHANGE_VERBS | {"clean"}:
        return False
    if words[0].lower() in ("clean", "cleaned"):  # "Clean architecture template" is a description
        return words[1].lower() == "up"
    return True
