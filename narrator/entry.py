"""How every command-line entry point runs (``python -m narrator``, ``python -m training``, the
training worker, the evaluation tools): a user error is one ``error:`` line and a non-zero exit.

The errors themselves live in ``db.errors``; everything else is a bug and keeps its traceback.
"""

import os
import sys
from typing import Callable

from db.errors import UserError, first_line


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
