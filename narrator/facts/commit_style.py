"""Whether a sentence reads like a commit subject ("Fix typo", "docs: ...") rather than a description:
generated descriptions that do are not shown.
"""

from __future__ import annotations

import re

from narrator.facts import prefixes
from narrator.facts.readme import _WORD

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
