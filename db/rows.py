"""The plain rows the rest of the program reads: every ``Store`` method hands these out.

Each is a frozen dataclass with the columns of one table (``db.models``), copied out by ``to_row``
inside the session, so pages and workers hold ordinary values that stay readable after it closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from db.models import ACTIVE_JOB_STATUSES, Base


@dataclass(frozen=True)
class RepositoryRow:
    id: int
    source: str
    """Local folder path or clone URL, as the user gave it (normalised); unique."""
    name: str
    """Short display name."""
    local_path: str
    """Folder of the working copy that was read."""
    head_sha: str | None
    """HEAD commit at the last scan."""
    added_at: datetime
    narrated_at: datetime | None
    """When a narration job last finished for this repository."""
    shallow: bool = False
    """Whether the last scan read a shallow clone (``git clone --depth N``): its history is partial."""
    history_version: int = 0
    """Grows with every write to the repository's commits, so a reader's copy knows it is out of date."""


@dataclass(frozen=True)
class NarrativeRow:
    id: int
    key: str
    """Cache key (``cache_key(...)``) of everything that shaped the text."""
    repo_id: int
    kind: str
    """One of ``NARRATIVE_KINDS``."""
    target: str
    """What it narrates: unit id ``path::name``, file path, folder, commit sha or period ``a..b``."""
    input_hash: str
    model: str
    adapter: str | None
    prompt_version: str
    text: str
    flags: Any
    """JSON details, e.g. sentences removed by the faithfulness check."""
    created_at: datetime
    source: str = "model"
    """Whose words the text is: one of ``SOURCES`` ('model' = written by the model, checked)."""


@dataclass(frozen=True)
class CommitRow:
    id: int
    repo_id: int
    sha: str
    subject: str
    message: str
    author: str
    email: str
    date: datetime
    """Authored date, tz-aware (UTC)."""
    area: str
    """Top folder the commit mostly touches."""
    category: str | None
    files: list
    """``[{path, change, added, removed}, ...]``."""
    added: int
    removed: int
    is_merge: bool
    input_hash: str | None
    headline: str = ""
    """The developer's own subject without its conventional prefix, or a merge's pull request title."""
    details: dict = field(default_factory=dict)
    """Facts from the message and the diff, as stored: ``narrator.facts.commit_facts.CommitFacts.to_json()``
    (``CommitFacts.from_json`` reads them; ``db`` imports nothing from ``narrator``)."""
    reachable: bool = True
    """Whether the narrated branch still reaches it; unreachable rows only serve the cache."""
    seq: int = 0
    """Its place in git's topological order, larger is newer."""

    @property
    def paths(self) -> list[str]:
        return [f["path"] for f in self.files or []]


@dataclass(frozen=True)
class UnitRow:
    id: int
    repo_id: int
    path: str
    name: str
    kind: str
    """``function`` | ``class`` | ``method`` | ``file``."""
    start_line: int
    end_line: int
    module: str
    """Folder the unit lives in."""
    input_hash: str | None

    @property
    def unit_id(self) -> str:
        """The narrative target for this unit: ``path::name``."""
        return f"{self.path}::{self.name}"


@dataclass(frozen=True)
class JobRow:
    id: int
    repo_id: int | None
    kind: str
    status: str
    """One of ``JOB_STATUSES``."""
    params: dict
    done: int
    total: int
    message: str
    error: str | None
    pid: int | None
    """Process running the job (set together with ``status='running'``)."""
    host: str | None
    """The machine whose process ``pid`` is; None on rows written before migration 0008."""
    result: dict | None
    """What the finished work did (a narration's ``RunReport`` figures)."""
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def progress(self) -> float | None:
        """Share of the work done, 0..1, or None while the total is unknown."""
        return min(1.0, self.done / self.total) if self.total > 0 else None


@dataclass(frozen=True)
class TrainingMetricRow:
    step: int
    kind: str
    """One of ``METRIC_KINDS``: ``train`` (value = mean loss of the step's batch) or ``eval``
    (value = validation CE)."""
    task: str | None
    value: float
    ppl: float | None
    tokens: int | None
    examples: int | None
    seconds: float | None


@dataclass(frozen=True)
class TrainingRunRow:
    id: int
    job_id: int
    name: str
    config: Any
    """The run's ``TrainConfig.record()`` (a launch adds its ``sources``)."""
    mix: Any
    """The data mix drawn (``Mixture.describe``); empty until the data is ready."""
    step: int
    """Last optimizer step logged."""
    train_seconds: float
    created_at: datetime
    job: JobRow
    """The run's lifecycle: status, pid, error, start and end."""


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    channel: str
    """One of ``CHANNELS``."""
    address: str
    """An e-mail address or a webhook URL (a secret: shown masked)."""
    repo_ids: list | None
    """The repositories whose briefing it gets; None for every repository."""
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    subscription_id: int
    period_key: str
    """``YYYY-MM-DD..YYYY-MM-DD``: the period's first and last day."""
    status: str
    """One of ``DELIVERY_STATUSES``."""
    attempts: int
    error: str | None
    updated_at: datetime
    sent_at: datetime | None


RowT = TypeVar("RowT")


def to_row(row_class: type[RowT], obj: Base) -> RowT:
    """Copy the columns of an ORM object into the row dataclass of the same shape."""
    return row_class(**{f.name: getattr(obj, f.name) for f in fields(row_class)})
