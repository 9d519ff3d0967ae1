"""How well the categories read from a commit match the ones its author stated: ``category_accuracy``
checks ``facts.categorize`` against the category a conventional-commit prefix states, with the prefix
hidden from it (``python -m narrator.eval.evaluate``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from narrator.facts import categories as facts
from narrator.facts.subjects import read_subject


@dataclass(frozen=True)
class PrefixedCommit:
    """What ``category_accuracy`` reads of a commit (any object with these attributes will do)."""

    subject: str
    body: str
    paths: list[str]
    author: str
    email: str
    tagged: bool
    version: str | None


_TYPE_CATEGORY = {
    "feat": "feature",
    "fix": "fix",
    "docs": "docs",
    "test": "tests",
    "tests": "tests",
    "deps": "dependencies",
    "release": "release",
    "security": "security",
    **dict.fromkeys(("perf", "refactor", "style", "chore", "build", "ci", "revert"), "maintenance"),
}
_DEPENDENCY_SCOPES = {"deps", "deps-dev", "dependencies"}  # Dependabot writes chore(deps-dev) too


def expected_category(conventional_type: str, scope: str | None) -> tuple[str, str] | None:
    """(label for the tally, category) that a conventional-commit prefix states, or None if unknown."""
    kind = conventional_type.lower()
    scope = (scope or "").lower()
    if kind in ("build", "chore") and scope in _DEPENDENCY_SCOPES:
        return f"{kind}({scope})", "dependencies"
    if kind == "chore" and scope == "release":
        return "chore(release)", "release"
    category = _TYPE_CATEGORY.get(kind)
    return (kind, category) if category else None


def category_accuracy(commits: Iterable[PrefixedCommit]) -> dict:
    """How often ``facts.categorize`` on the subject without its prefix agrees with the prefix.

    Only commits whose prefix maps to a category count (``wip:`` or a missing prefix do not). The
    prefix's type is not passed to ``categorize``: the point is to see how well the rest of the
    commit (headline, paths, body, author, tag) tells the category.
    """
    total = correct = 0
    by_type: dict[str, dict[str, int]] = {}
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for commit in commits:
        subject = read_subject(commit.subject, commit.body)
        if not subject.conventional_type:
            continue
        expected = expected_category(subject.conventional_type, subject.scope)
        if expected is None:
            continue
        label, want = expected
        got = facts.categorize(subject.headline, list(commit.paths), body=commit.body, author=commit.author,
                               email=commit.email, tagged=commit.tagged, version=commit.version)
        tally = by_type.setdefault(label, {"n": 0, "correct": 0})
        tally["n"] += 1
        total += 1
        if got == want:
            tally["correct"] += 1
            correct += 1
        confusion[want][got] += 1
    return {
        "commits": total,
        "correct": correct,
        "accuracy": correct / total if total else None,
        "by_type": dict(sorted(by_type.items())),
        "confusion": {want: dict(got) for want, got in sorted(confusion.items())},
    }
