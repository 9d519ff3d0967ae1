"""Facts computed from git, never generated: a change's category, its area, its size in words.

The model writes only short "what" sentences; everything a manager might count or filter on comes
from here, so it is exact and repeatable.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath

CATEGORIES = ("feature", "fix", "maintenance", "docs", "tests")

TOP_LEVEL = "(top level)"

_DOC_SUFFIXES = {".md", ".rst", ".adoc"}
_FIX = re.compile(r"\b(fix(e[sd])?|bug|crash|error|broken|regression|typo|issue|wrong|incorrect|repair|resolve[sd]?|hotfix|patch(ed)?)\b", re.I)
_FEATURE = re.compile(r"\b(add(s|ed)?|implement(s|ed)?|introduce[sd]?|support(s|ed)?|new|allow(s|ed)?|enable[sd]?|create[sd]?|feature)\b", re.I)
_MAINTENANCE = re.compile(r"\b(refactor|bump|upgrade|chore|ci|cleanup|clean up|rename|remove[sd]?|deprecate[sd]?|lint|format|release|merge|revert|update dependenc)", re.I)
_DOCS_WORDS = re.compile(r"\b(docs?|documentation|readme|changelog|comment[s]?)\b", re.I)
_TEST_WORDS = re.compile(r"\b(tests?|testing|spec[s]?|coverage)\b", re.I)


def is_doc_path(path: str) -> bool:
    """Documentation files: README/CHANGELOG/*.md and anything under docs/."""
    p = PurePosixPath(path)
    top = p.parts[0].lower() if p.parts else ""
    return top in ("doc", "docs", "documentation") or p.suffix.lower() in _DOC_SUFFIXES or p.stem.upper() in ("README", "CHANGELOG", "LICENSE", "AUTHORS")


def is_test_path(path: str) -> bool:
    """Test files by the usual conventions of the six languages."""
    p = PurePosixPath(path)
    name = p.name.lower()
    folders = {part.lower() for part in p.parts[:-1]}
    return bool(folders & {"test", "tests", "spec", "specs", "__tests__", "testdata"}) or name.startswith("test_") or re.search(
        r"(_test\.go|_test\.py|test\.java|tests?\.php|_spec\.rb|\.test\.[jt]sx?|\.spec\.[jt]sx?)$", name
    ) is not None


def categorize(subject: str, paths: list[str]) -> str:
    """One of CATEGORIES, from the commit's paths first (they cannot lie), then its message."""
    if paths and all(is_doc_path(p) for p in paths):
        return "docs"
    if paths and all(is_test_path(p) or is_doc_path(p) for p in paths):
        return "tests"
    if _FIX.search(subject):
        return "fix"
    if _MAINTENANCE.search(subject):
        return "maintenance"
    if _DOCS_WORDS.search(subject) and not _FEATURE.search(subject):
        return "docs"
    if _TEST_WORDS.search(subject) and not _FEATURE.search(subject):
        return "tests"
    if _FEATURE.search(subject):
        return "feature"
    return "maintenance"


def module_of(path: str) -> str:
    """The folder a file belongs to for the module level: its first folder, or TOP_LEVEL."""
    parts = PurePosixPath(path).parts
    return parts[0] if len(parts) > 1 else TOP_LEVEL


def area_of(changes: list[tuple[str, int]]) -> str:
    """The module that most changed lines of a commit fall in (ties: first seen)."""
    if not changes:
        return TOP_LEVEL
    weight: Counter[str] = Counter()
    for path, lines in changes:
        weight[module_of(path)] += max(lines, 1)
    return weight.most_common(1)[0][0]


def size_phrase(files: int, added: int, removed: int) -> str:
    """'3 files, +120/-4 lines': the size of a change in the words a manager reads."""
    return f"{files} file{'s' if files != 1 else ''}, +{added}/-{removed} lines"


_DOC_BLOCK = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'|/\*\*(.*?)\*/', re.S)
_DOC_LINES = re.compile(r"^\s*(?:#|//)\s?(.*)$", re.M)


def doc_sentence(code: str) -> str:
    """The first sentence of a unit's own doc comment or docstring, or ''.

    Used when the model's answer fails the faithfulness check: the developer's words are a fact.
    """
    match = _DOC_BLOCK.search(code)
    if match:
        text = next(g for g in match.groups() if g is not None)
        text = re.sub(r"^\s*\*\s?", "", text, flags=re.M)
    else:
        text = " ".join(_DOC_LINES.findall("\n".join(code.splitlines()[:6])))
    text = " ".join(text.split())
    text = re.split(r"(?:^|\s)[@:](?:param|return|returns|throws|type|rtype)\b", text)[0].strip()
    text = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""
    if len(text.split()) < 3 or text.startswith(("@", ":param")):
        return ""
    return text if text.endswith((".", "!", "?")) else text + "."
