"""A training run as the Admin page reads it: the recorded run and where its adapter is (``RunView``), how far
a run has come (``Progress``) and which adapter narration uses (``ActiveAdapter``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

from db.errors import ModelError
from db.models import ACTIVE_JOB_STATUSES
from narrator.model.transformers_backend import adapter_weights
from training.runs import RunSummary


@dataclass(frozen=True)
class RunView(RunSummary):
    """A training run as the Admin page shows it: the recorded run, plus where its adapter is.

    A cancelled run is ``cancelled`` and its error says at which step; ``config`` also holds the
    launch's ``sources``.
    """

    adapter: str | None = None
    """Folder of the trained adapter once the run is done and its weights are saved, else None."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def sources(self) -> list[str]:
        return list(self.config.get("sources") or [])


@dataclass(frozen=True)
class Progress:
    """Where a run stands, for the live view."""

    run_id: int
    status: str
    phase: str
    """What the run does now, in words (empty once it ended)."""
    step: int
    total_steps: int | None
    """Steps the run will take in all; None until the data mix is known."""
    loss: float | None
    """Train loss of the last step."""
    seconds_per_step: float | None
    """Mean time of the last steps."""
    eta_seconds: float | None
    """Time left for the remaining steps at that speed (evaluations not counted)."""
    error: str | None

    @property
    def fraction(self) -> float:
        """How far the run is, between 0 and 1 (0 while the total is unknown)."""
        if self.status == "done":
            return 1.0
        if not self.total_steps:
            return 0.0
        return min(1.0, self.step / self.total_steps)


@dataclass(frozen=True)
class ActiveAdapter:
    """The adapter narration uses now, and why."""

    path: str | None
    """Adapter folder, or None for the plain model."""
    origin: str
    """``environment`` (CODE_NARRATOR_ADAPTER, which wins over any choice made here), ``admin``
    (made active on the Admin page), ``shipped`` (the project's default adapter) or ``none``."""
    applies: bool
    """Whether the narration model takes an adapter at all (the fake and OpenAI-style backends do not)."""
    run_id: int | None
    """The training run that made it, when it is one of the recorded runs."""


def _adapter_folder(summary: RunSummary) -> str | None:
    out = summary.config.get("out")
    if summary.status != "done" or not out:
        return None
    try:
        adapter_weights(Path(out))
    except ModelError:
        return None  # deleted or moved since
    return out


def _view(summary: RunSummary) -> RunView:
    recorded = {f.name: getattr(summary, f.name) for f in fields(RunSummary)}
    recorded.update(config=summary.config or {}, mix=summary.mix or {})
    return RunView(**recorded, adapter=_adapter_folder(summary))


def total_steps(config: dict, mix: dict) -> int | None:
    """Steps a run takes in all, as the trainer counts them (one process); None before the mix is drawn."""
    max_steps = config.get("max_steps")
    drawn = sum((mix.get("drawn") or {}).values())
    if not drawn:
        return max_steps
    total = math.ceil(drawn / max(1, int(config.get("batch_size") or 1))) * int(config.get("epochs") or 1)
    return min(total, max_steps) if max_steps else total
