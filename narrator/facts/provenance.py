"""Where a sentence comes from: a typed value carried from the facts to the page, and the one function
that turns it into the reader's words.

Provenance is data on every narrative (``Source``, whose values are the stored ``db.models.SOURCES``,
plus the file it was read from); only renderers (``narrator.render``, the dashboard's widgets) call
``label``, so the dashboard, ``show`` and every report say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Source(StrEnum):
    """Whose words a sentence is, most trusted first; each value is what the database stores."""

    GIT = "git"
    DEVELOPER = "developer"
    PULL_REQUEST = "pull request"
    RELEASE_NOTES = "release notes"
    README = "readme"
    PACKAGE = "package"
    DOCSTRING = "docstring"
    MODEL = "model"
    """Model text that passed the checks."""


LABELS = {
    Source.GIT: "git facts",
    Source.DEVELOPER: "developer's message",
    Source.PULL_REQUEST: "pull request title",
    Source.RELEASE_NOTES: "release notes",
    Source.README: "README",
    Source.PACKAGE: "package description",
    Source.DOCSTRING: "docstring",
    Source.MODEL: "written by the model (checked)",
}

MODEL_HEADLINE = "summary written by the model from the diff"
"""The label of a headline the model wrote because the developer's subject said nothing."""
MODEL_KIND = "kind of change judged by the model"
"""How a plain reading whose impact group the model's kind of change decided says so, in its text
(``narrator.facts.reading.model_words``) and in its label ('git facts; the kind of change judged by the model')."""

_FROM_A_FILE = (Source.README, Source.PACKAGE, Source.DOCSTRING)


@dataclass(frozen=True)
class Provenance:
    """Where one text came from."""

    source: Source
    origin: str = ""
    """The file a README, package description or docstring was read from ('pyproject.toml'); else empty."""
    headline: bool = False
    """Model text standing in, as a change's headline, for a developer's subject that said nothing."""
    model_kind: bool = False
    """Git facts whose impact group the model's kind of change decided (a plain reading,
    ``narrator.facts.impact.with_model_kind``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", Source(self.source))  # a stored string becomes its Source


def label(provenance: Provenance | Source | str) -> str:
    """The reader's words for where a text came from: the one place provenance becomes a label.

    The file is named for READMEs, package metadata and docstrings ("package description (pyproject.toml)");
    a model headline says it summarises the diff; git facts whose kind of change the model judged say so.
    """
    if not isinstance(provenance, Provenance):
        provenance = Provenance(provenance)
    if provenance.source is Source.MODEL and provenance.headline:
        return MODEL_HEADLINE
    if provenance.source is Source.GIT and provenance.model_kind:
        return f"{LABELS[Source.GIT]}; the {MODEL_KIND}"
    text = LABELS[provenance.source]
    return f"{text} ({provenance.origin})" if provenance.origin and provenance.source in _FROM_A_FILE else text


@dataclass(frozen=True)
class Said:
    """One piece of text with where it came from."""

    text: str
    provenance: Provenance
    stale: bool = False
    """Model text written by another model, adapter or prompt, or for code that changed since."""
    flags: dict = field(default_factory=dict)

    @property
    def source(self) -> Source:
        return self.provenance.source

    @property
    def by_model(self) -> bool:
        return self.provenance.source is Source.MODEL
