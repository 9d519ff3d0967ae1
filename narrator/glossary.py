"""Plain explanations of the software jargon a manager meets in commit headlines.

The terms live in ``glossary.json`` next to this module (a plain package data file): each entry is
``{"Display term": {"aliases": [...], "explanation": "One sentence."}}``. Matching is on whole
words. An alias with two or more capitals ("CVE", "PyPI", "DoS") is an acronym and matches in that
case only, plus a plural "s"; any other alias matches in any case, with simple plurals ("caches",
"dependencies"). A word joined by a hyphen to letters is not a match ("pre-commit" is not "commit"),
but an id is ("CVE-2024-1234" is a CVE).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources


def load() -> dict[str, dict[str, object]]:
    """The glossary: display term -> {"aliases": list[str], "explanation": str}, a fresh copy each call."""
    data = json.loads(resources.files("narrator").joinpath("glossary.json").read_text(encoding="utf-8"))
    for term, entry in data.items():
        if not isinstance(entry.get("explanation"), str) or not isinstance(entry.get("aliases"), list):
            raise ValueError(f"glossary entry {term!r} needs an explanation and a list of aliases")
    return data


def _is_acronym(alias: str) -> bool:
    return sum(c.isupper() for c in alias) >= 2


def _alias_pattern(alias: str) -> str:
    words = [re.escape(w) for w in alias.split()]
    if _is_acronym(alias):
        body, plural = r"\s+".join(words), "s?"
        return rf"(?-i:(?<![\w-]){body}{plural}(?![\w]))"
    last = words[-1]
    if alias.endswith("y") and len(alias) > 2:
        last = rf"(?:{last}|{re.escape(alias.split()[-1][:-1])}ies)"
    else:
        last = rf"{last}(?:s|es)?"
    body = r"\s+".join([*words[:-1], last])
    return rf"(?<![\w-]){body}(?![\w]|-[A-Za-z])"


@lru_cache(maxsize=1)
def _matchers() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(pattern, display term, explanation) for every alias, longest alias first."""
    found = []
    for term, entry in load().items():
        for alias in {term, *entry["aliases"]}:  # type: ignore[misc]
            found.append((len(alias), re.compile(_alias_pattern(alias), re.I), term, str(entry["explanation"])))
    found.sort(key=lambda item: -item[0])
    return tuple((pattern, term, explanation) for _, pattern, term, explanation in found)


def terms_in(text: str) -> list[tuple[str, str]]:
    """(display term, explanation) for each glossary term in ``text``, unique, in order of appearance.

    Where aliases overlap ("pull request" and "request"), the longer one wins.
    """
    spans: list[tuple[int, int, str, str]] = []
    for pattern, term, explanation in _matchers():
        for match in pattern.finditer(text):
            if not any(match.start() < end and start < match.end() for start, end, _, _ in spans):
                spans.append((match.start(), match.end(), term, explanation))
    spans.sort()
    return list(dict.fromkeys((term, explanation) for _, _, term, explanation in spans))


def footnotes(texts: Iterable[str]) -> list[tuple[str, str]]:
    """The glossary terms of several texts, unique, in first-seen order: footnotes for a page."""
    return list(dict.fromkeys(pair for text in texts for pair in terms_in(text)))
