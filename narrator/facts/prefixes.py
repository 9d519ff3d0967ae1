"""The one reader of a conventional-commit prefix: ``type(scope)!: rest``.

"feat(api)!: drop v1", "fix: crash", "net/http: fix ...", "chore(release): 1.2.0". :func:`prefix`
finds the parts wherever a reader needs them; which types a reader accepts is its own choice (the
headline reader knows the conventional types, the release reader only chore/build/ci/release/bump).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(
    r"^(?P<type>[A-Za-z0-9][\w/.,*-]*?)(?:\((?P<scope>[^)]*)\))?(?P<bang>!)?:(?P<space>\s*)(?P<rest>.*)$", re.S
)


@dataclass(frozen=True)
class Prefix:
    """The parts of ``type(scope)!: rest``, as written."""

    type: str
    """The word before the scope and the colon: "feat", "Fix", "net/http" (its case kept)."""
    scope: str | None
    """What the parentheses hold, unstripped; None without parentheses."""
    bang: bool
    """A "!" before the colon: a breaking change."""
    spaced: bool
    """Whitespace follows the colon ("fix: x", not "fix:x")."""
    rest: str
    """The text after the colon and its whitespace ('' when nothing follows)."""


def prefix(text: str) -> Prefix | None:
    """The conventional prefix ``text`` starts with, or None. A type may hold letters, digits and
    ``_ / . , * -``; a scope anything but ``)``."""
    match = _PREFIX.match(text)
    if match is None:
        return None
    return Prefix(match["type"], match["scope"], bool(match["bang"]), bool(match["space"]), match["rest"])
