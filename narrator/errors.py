"""Errors a user can act on.

Every failure caused by input (a bad path, a refused URL, a model that will not load) is raised as
a ``NarratorError`` whose message is one plain line. The CLI prints it and exits non-zero; the
dashboard shows it in an error box. Anything else is a bug and keeps its traceback.
"""


class NarratorError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class RepoError(NarratorError):
    """The repository cannot be opened, cloned or read."""


class ModelError(NarratorError):
    """The model cannot be loaded or cannot generate."""
