"""Errors a user can act on, and the one way to turn any exception into one line.

This is the lowest layer: ``db`` imports nothing from ``narrator`` or ``training``, so the base
class every user-facing error derives from lives here. ``narrator.errors.NarratorError`` and
``StoreError`` both derive from ``UserError``; the command line prints any ``UserError`` as one
``error:`` line and the dashboard shows it in an error box.
"""

from __future__ import annotations

LINE_LIMIT = 300


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class StoreError(UserError):
    """The database cannot be opened, migrated, read or written."""


def first_line(reason: object, limit: int = LINE_LIMIT, with_type: bool = False) -> str:
    """The first non-empty line of ``reason`` (an exception or any text), cut to ``limit`` characters.

    An exception with no text is named by its type. ``with_type`` prefixes the type name
    ("ValueError: ..."), for logs and job rows where the kind of failure matters.
    """
    text = str(reason).strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if isinstance(reason, BaseException):
        name = type(reason).__name__
        if not line:
            line = name
        elif with_type:
            line = f"{name}: {line}"
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line
