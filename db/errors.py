"""Every error a user can act on, and the one way to turn any exception into one line.

This is the lowest layer (``db`` imports nothing from ``narrator`` or ``training``), so every
user-facing error class lives here, all deriving from ``UserError``: the database's
(``StoreError``), the narrator's (``NarratorError``: ``RepoError``, ``ModelError``) and training's
(``DataError``, ``TrainingError``). A failure caused by input (a bad path, a refused URL, a model
that will not load, missing training data) is raised as one of them, its message one plain line:
the command line prints it as one ``error:`` line and exits non-zero (``narrator.entry.run_command``),
the dashboard shows it in an error box. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

LINE_LIMIT = 300


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class StoreError(UserError):
    """The database cannot be opened, migrated, read or written."""


class QueueError(UserError):
    """The task queue (``CODE_NARRATOR_QUEUE``) is not a Redis URL, or cannot be reached."""


class NarratorError(UserError):
    """A repository, period, format or narration request the narrator cannot act on."""


class RepoError(NarratorError):
    """The repository cannot be opened, cloned or read."""


class ModelError(NarratorError):
    """The model cannot be loaded or cannot generate."""


class DataError(NarratorError):
    """Training input data is missing, empty or unreadable."""


class TrainingError(NarratorError):
    """A training run cannot start or resume with the given settings."""


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
