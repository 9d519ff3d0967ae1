"""What an area (a top-level folder) is, in people's words: its README, package docstring, Go package
comment or main module's doc comment; which area holds the project's main code, which the project's
own description then speaks for. Never a class's or another module's docstring, and never a guess.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from narrator.facts.area_roles import _kind, _name_role, area_role
from narrator.facts.description import Description, _json, _walk, project_descriptions, project_name
from narrator.facts.paths import TOP_LEVEL
from narrator.facts.provenance import Source
from narrator.facts.readme import _MIN_DOC_WORDS, _as_sentence, _first_paragraph, _readme_path, readme_paragraph

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
            return Description(paragraph, Source.README, readme)
    inits = ["__init__.py"] if top else [f"{p}/__init__.py" for p in _python_packages(area, files)]
    for path in inits:
        if path in files and (text := _python_docstring(files[path])):
            return Description(_as_sentence(text), Source.DOCSTRING, path)
    go_files = sorted((p for p in files if p.startswith(prefix) and "/" not in p[len(prefix):]
                       and p.endswith(".go") and not p.endswith("_test.go")),
                      key=lambda p: (not p.endswith("/doc.go") and p != "doc.go", p))
    for path in go_files:
        if text := _go_package_comment(files[path], any_comment=PurePosixPath(path).name == "doc.go"):
            return Description(_as_sentence(text), Source.DOCSTRING, path)
    if top:
        mains = [n for n in _JS_INDEX if n in files]
    else:
        mains = _main_modules(area, files)
    for path in mains:
        if text := _main_module_words(path, files[path]):
            return Description(_as_sentence(text), Source.DOCSTRING, path)
    return None


# --- the project's main code ----------------------------------------------------------------------


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
