"""Errors a user can act on.

Every failure caused by input (a bad path, a refused URL, a model that will not load) is raised as
a ``NarratorError`` whose message is one plain line. The CLI prints it and exits non-zero; the
dashboard shows it in an error box. Anything else is a bug and keeps its traceback.
"""

import os
import sys
from typing import Callable

from db.errors import UserError, first_line  # noqa: F401  (first_line: the one helper, re-exported)


class NarratorError(UserError):
    """A problem with the user's input or environment, explained in one line."""


class RepoError(NarratorError):
    """The repository cannot be opened, cloned or read."""


class ModelError(NarratorError):
    """The model cannot be loaded or cannot generate."""


def run_command(command: Callable[[], int], interrupted: str = "interrupted") -> int:
    """Run a command-line entry point: a ``UserError`` (``NarratorError``, ``StoreError``) becomes
    one ``error:`` line on stderr and exit status 1, Ctrl+C prints ``interrupted`` and exits 130;
    any other exception is a bug and keeps its traceback."""
    try:
        return command()
    except UserError as error:
        print(f"error: {first_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`show | head`): stop quietly, as other command-line tools do.
        # stdout is pointed at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
