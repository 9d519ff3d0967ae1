"""Where a sentence comes from, in the words a reader sees.

Provenance is data on every narrative (``db.models.SOURCES``); pages and exports turn it into a label
here, so the dashboard, ``show`` and every report say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS = {
    "git": "git facts",
    "developer": "developer's message",
    "pull request": "pull request title",
    "release notes": "release notes",
    "readme": "README",
    "package": "package description",
    "docstring": "docstring",
    "model": "written by the model (checked)",
}

MODEL_HEADLINE = "summary written by the model from the diff"
"""The label of a headline the model wrote because the developer's subject said nothing."""


def label(source: str, origin: str = "") -> str:
    """The reader's label of ``source``; ``origin`` (a file) is added for READMEs and metadata."""
    text = LABELS.get(source, source)
    return f"{text} ({origin})" if origin and source in ("readme", "package", "docstring") else text


@dataclass(frozen=True)
class Said:
    """One piece of text with where it came from."""

    text: str
    source: str
    """A ``db.models.SOURCES`` value."""
    label: str
    """What the reader is shown next to it."""
    stale: bool = False
    """Model text written by another model, adapter or prompt, or for code that changed since."""
    flags: dict = field(default_factory=dict)

    @property
    def by_model(self) -> bool:
        return self.source == "model"
