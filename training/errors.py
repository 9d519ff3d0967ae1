"""Errors a training user can act on, each explained in one line (see ``narrator.errors``)."""

from narrator.errors import NarratorError


class DataError(NarratorError):
    """Input data is missing, empty or unreadable."""


class TrainingError(NarratorError):
    """A run cannot start or resume with the given settings."""
