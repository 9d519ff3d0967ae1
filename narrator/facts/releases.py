"""Releases: the version a release subject announces, a changed version field in a package's files,
and whether a version is only the start of work on a release.
"""

from __future__ import annotations

import functools
import re

from narrator.facts import prefixes
from narrator.facts.diffs import _patch_files
from narrator.facts.paths import is_release_notes_path

# The path rules below are pure and a long history names the same paths thousands of times.
_per_path = functools.lru_cache(maxsize=1 << 16)

_VER = r"v?(\d+(?:\.\d+)+(?:[-.]?(?:a|b|c|rc|alpha|beta|pre|preview|dev|post)\.?\d*)?(?:[-+][0-9A-Za-z][0-9A-Za-z.-]*)?)"
_DIGIT = re.compile(r"\d")
_RELEASE_TYPES = frozenset({"chore", "build", "ci", "release", "bump"})
_RELEASE_TAG = re.compile(r"^\[release\]\s*", re.I)
_RELEASE_FORMS = [re.compile(f"^{form}$", re.I) for form in (
    rf"(?:prepare|prepare for|cut|tag|publish)?\s*(?:the )?releas(?:e|ed|ing)(?: of)?(?: version)? {_VER}(?:\s*[-–—:(].*)?",
    rf"(?:bump|update|set|change|increment)(?: the)?(?: package)? version(?: number)?:?(?: to| from \S+ to| \S+ (?:to|->|→))? {_VER}",
    rf"(?:bump|update) to {_VER}",
    rf"version(?: bump)?:?(?: to| \S+ (?:to|->|→))? {_VER}",
    rf"{_VER}(?: release| released)?",
)]


@functools.lru_cache(maxsize=1 << 12)  # asked up to four times per commit with the same words
def release_version(subject: str) -> str | None:
    """The version a release subject announces, without a leading "v", or None.

    "Release 2.7.1", "v2.7.1", "Bump version to 2.7.1", "Bump version: 1.2.0 → 1.3.0", "Version 2.7.1",
    "Prepare release 1.2.0", "chore(release): 1.2.0", "Release v2.0.0-rc.1" all announce one;
    "Bump requests from 2.1 to 2.2" (a dependency) and "Fix crash in 2.7 parser" do not.
    """
    if not _DIGIT.search(subject):  # every form names a version, and a version has digits
        return None
    text = re.sub(r"^[^\w\[]+", "", " ".join(subject.split()))      # leading emoji such as "🔖"
    found = prefixes.prefix(text)
    text = found.rest if found and found.type.lower() in _RELEASE_TYPES else _RELEASE_TAG.sub("", text)
    text = re.sub(r"\s*\((?:#\d+|[\w.-]+/[\w.-]+#\d+)\)\s*$|[.!\s]+$", "", text)
    for form in _RELEASE_FORMS:
        if match := form.match(text):
            return next(g for g in match.groups() if g)
    return None


_QUOTED = r"""["']([^"']+)["']"""
_VERSION_FIELDS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"(^|/)(pyproject\.toml|cargo\.toml|setup\.cfg)$", re.I), re.compile(r"""^version\s*=\s*["']?([^"'\s#]+)""")),
    (re.compile(r"(^|/)(package\.json|composer\.json)$", re.I), re.compile(r'^\s*"version"\s*:\s*"([^"]+)"')),
    (re.compile(r"(^|/)setup\.py$", re.I), re.compile(rf"\bversion\s*=\s*{_QUOTED}")),
    (re.compile(r"(\.gemspec|(^|/)version\.rb)$", re.I), re.compile(rf"(?:\bVERSION|\.version)\s*=\s*{_QUOTED}")),
    (re.compile(r"(^|/)(__init__|_version|__about__|version)\.py$"), re.compile(rf"^__version__\s*=\s*(?:version\s*=\s*)?{_QUOTED}")),
    (re.compile(r"(^|/)version\.go$", re.I), re.compile(r'\bVersion\s*=\s*"v?([^"]+)"')),
    (re.compile(r"(^|/)mix\.exs$", re.I), re.compile(rf"\bversion:\s*{_QUOTED}")),
    (re.compile(r"(^|/)VERSION(\.txt)?$"), re.compile(r"^\s*v?(\d+(?:\.\d+)+\S*)\s*$")),
]
_NOT_PACKAGE_SECTION = re.compile(r"^\s*\[.*(depend|target|patch|replace|workspace\.dependencies|tool\.(?!poetry\]|hatch|setuptools)).*\]", re.I)
_SECTION = re.compile(r"^\s*\[")
_POM_NESTED = re.compile(r"<(parent|dependency|plugin|extension|exclusion)>")


def _new_version(path: str, lines: tuple[str, ...]) -> str | None:
    """The new value of ``path``'s version field when its hunks change it, else None."""
    if path.endswith("pom.xml"):
        return _pom_version(lines)
    field = _version_field(path)
    if field is not None:
        old, new, skip = None, None, False
        for line in lines:
            if line.startswith("@@"):
                skip = False
                continue
            body = line[1:]
            if _SECTION.match(body):                # a TOML/INI section header seen in the hunk
                skip = bool(_NOT_PACKAGE_SECTION.match(body))
            match = None if skip else field.search(body)
            if match and line.startswith("-"):
                old = old or match.group(1)
            elif match and line.startswith("+"):
                new = new or match.group(1)
        return new if new and old and new.lstrip("v") != old.lstrip("v") else None
    return None


@_per_path
def _version_field(path: str) -> re.Pattern[str] | None:
    """The pattern of the version field of ``path``'s kind of file (the first of ``_VERSION_FIELDS``
    whose name fits), or None."""
    return next((field for name, field in _VERSION_FIELDS if name.search(path)), None)


def _pom_version(lines: tuple[str, ...]) -> str | None:
    """Best effort for Maven: a changed <version> near the top of pom.xml, outside <parent>/<dependency>."""
    old = new = None
    depth = 0
    for line in lines:
        if line.startswith("@@"):
            start = re.search(r"\+(\d+)", line)
            if start and int(start.group(1)) > 40:
                return new if old and new and old != new else None
            continue
        depth += len(_POM_NESTED.findall(line)) - len(re.findall(r"</(parent|dependency|plugin|extension|exclusion)>", line))
        match = re.search(r"<version>\s*([^<\s]+)\s*</version>", line)
        if match and depth == 0:
            if line.startswith("-"):
                old = old or match.group(1)
            elif line.startswith("+"):
                new = new or match.group(1)
    return new if old and new and old != new else None


def version_change(patch: str) -> str | None:
    """The new version when a git diff changes a package's version field, else None.

    Reads pyproject.toml / setup.cfg / Cargo.toml (``version = "..."`` outside dependency tables seen
    in the hunk), package.json / composer.json (``"version": "..."``), setup.py (``version="..."``),
    *.gemspec / version.rb (``VERSION = "..."``), __init__.py / _version.py / __about__.py
    (``__version__ = "..."``), version.go, mix.exs, a VERSION file and, best effort, pom.xml's own
    <version>. A field only added (a new file) is not a change.
    """
    for path, lines in _patch_files(patch):
        if version := _new_version(path, lines):
            return version
    return None


@_per_path
def reads_diff(path: str) -> bool:
    """Whether a commit's facts read this file's diff: release notes, or a file with a version field.

    ``version_change`` and ``release_notes`` look at nothing else, so a history read without patches
    needs the diffs of these files only.
    """
    return (is_release_notes_path(path) or path.endswith("pom.xml")
            or any(name.search(path) for name, _ in _VERSION_FIELDS))


_DEVELOPMENT = re.compile(r"(?:[.+_-]?dev\d*|-snapshot)$", re.I)


def is_development_version(version: str) -> bool:
    """'3.1.3.dev', '2.0.0.dev0', '1.4-SNAPSHOT': the start of work on a release, not one users got."""
    return bool(_DEVELOPMENT.search(version))
