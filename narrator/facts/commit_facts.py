"""A commit's facts as one typed value, from the history pass to the page: what git and the developer's
words say of it (``narrator.facts.changes.commit_details`` builds it), and what narration adds (the
change-kind head's answer). The database keeps ``to_json()`` in ``commits.details``; ``from_json``
reads any row back, one recorded by an earlier version included (a missing key takes its default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from narrator.facts.impact import Impact
from narrator.facts.provenance import Source

MODEL_KIND_KEY = "model_kind"
"""Where the stored facts keep the change-kind head's answer (``CommitFacts.model_kind``)."""


@dataclass(frozen=True)
class ModelKind:
    """The change-kind head's answer for one commit (``narrator.model.kind_model.commit_kinds``)."""

    kind: str
    breaking: bool
    probability: float | None
    """The head's own probability; None when the rules decided."""
    decided: str
    """'model' (the head's answer) or 'rules' (the rules were sure)."""
    method: str
    """'head' or 'rules+head' (``kind_model.Head.method``)."""
    head: str
    """``kind_model.Head.id``: a commit judged by another head is judged again."""
    input: str | None
    """The commit's input hash when judged: a changed commit is judged again."""

    def to_json(self) -> dict:
        return {"kind": self.kind, "breaking": self.breaking, "probability": self.probability,
                "decided": self.decided, "method": self.method, "head": self.head, "input": self.input}

    @classmethod
    def from_json(cls, data: Any) -> ModelKind | None:
        """The answer stored in ``data``, or None when there is none or it cannot be read."""
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return None
        probability = data.get("probability")
        return cls(data["kind"], bool(data.get("breaking")),
                   float(probability) if isinstance(probability, (int, float)) else None,
                   str(data.get("decided") or "model"), str(data.get("method") or ""), str(data.get("head") or ""),
                   data.get("input"))


def _impact(data: Any) -> Impact | None:
    if not data:
        return None
    try:
        return Impact.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # recorded by another version: read again from the commit (``impact.stored``)


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


@dataclass(frozen=True)
class CommitFacts:
    """What git and the developer's words say of a commit, and what narration added."""

    headline_source: Source = Source.DEVELOPER
    """Whose words the headline is: the developer, a pull request, release notes or git (a release)."""
    informative: bool = True
    """Whether the headline tells a reader something; when not, the model may be asked for one."""
    uninformative: str | None = None
    """Why the headline says nothing (``subjects.uninformative_reason``); None when it is informative."""
    subject_uninformative: str | None = None
    """Why the subject itself says nothing, whatever headed the change instead."""
    scope: str | None = None
    """The conventional commit's scope ('api' of 'fix(api): ...')."""
    refs: tuple[str, ...] = ()
    """Issues and pull requests the subject names."""
    advisories: tuple[str, ...] = ()
    """Security advisory ids (CVE, GHSA) in the subject and body."""
    version: str | None = None
    """The version a release commit names; None for any other commit."""
    tags: tuple[str, ...] = ()
    """git tags on the commit."""
    release_notes: tuple[str, ...] = ()
    """Changelog lines the commit added."""
    explanation: str = ""
    """The developer's sentences under the headline ('' for none)."""
    ci: bool = False
    """Whether the commit changes only CI files."""
    breaking: bool = False
    """Marked as a breaking change by its developer."""
    impact: Impact | None = None
    """What it means to users; None for a row recorded before impacts were (``impact.stored`` reads it again)."""
    rules_impact: Impact | None = None
    """The rules' impact when the change-kind head's answer replaced it in ``impact``."""
    model_kind: ModelKind | None = None
    """The change-kind head's answer, once narration asked it."""
    date_note: str | None = None
    """Why the date shown is not the author date as written (``narrator.git.dates``)."""
    words_in_order: bool = True
    """False for a row recorded before people's words were read in ``changes.peoples_words``' order (it
    has no ``subject_uninformative``): ``changes.stored_words`` reads its message again."""
    recorded: bool = True
    """False for a row recorded before commits' facts were (an empty column): the model is not asked for it."""

    def to_json(self) -> dict:
        """The stored form (``commits.details``); ``from_json(to_json())`` gives the same facts."""
        data: dict[str, Any] = {}
        if self.recorded:
            data = {"headline_source": str(self.headline_source), "informative": self.informative,
                    "uninformative": self.uninformative}
            if self.words_in_order:
                data["subject_uninformative"] = self.subject_uninformative
            data.update(scope=self.scope, refs=list(self.refs), advisories=list(self.advisories), version=self.version,
                        tags=list(self.tags), release_notes=list(self.release_notes), explanation=self.explanation,
                        ci=self.ci, breaking=self.breaking)
            if self.impact is not None:
                data["impact"] = self.impact.to_json()
            if self.date_note:
                data["date_note"] = self.date_note
        if self.model_kind is not None:
            data[MODEL_KIND_KEY] = self.model_kind.to_json()
        if self.rules_impact is not None:
            data["rules_impact"] = self.rules_impact.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> CommitFacts:
        """The facts stored as ``data``; keys an earlier version did not record take their defaults."""
        data = data or {}
        return cls(
            headline_source=Source(data.get("headline_source") or Source.DEVELOPER), informative=data.get("informative", True),
            uninformative=data.get("uninformative"), subject_uninformative=data.get("subject_uninformative"),
            scope=data.get("scope"), refs=_texts(data.get("refs")), advisories=_texts(data.get("advisories")),
            version=data.get("version"), tags=_texts(data.get("tags")), release_notes=_texts(data.get("release_notes")),
            explanation=data.get("explanation") or "", ci=bool(data.get("ci")), breaking=bool(data.get("breaking")),
            impact=_impact(data.get("impact")), rules_impact=_impact(data.get("rules_impact")),
            model_kind=ModelKind.from_json(data.get(MODEL_KIND_KEY)), date_note=data.get("date_note"),
            words_in_order="subject_uninformative" in data, recorded=bool(data),
        )
