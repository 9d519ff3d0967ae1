"""The record of every training run: config, data mix, status, timings, and metrics per step
(train loss) and per evaluation (validation CE and perplexity per task).

``RunLog(url)`` writes to the project database through ``Store`` (tables and sessions in ``db/``),
which the dashboard reads. A run's lifecycle is its job (``narrator.pipeline.jobs``, statuses in
``db.models.JOB_STATUSES``): ``running`` until ``finish`` marks it ``done``, ``failed`` (with its
error) or ``interrupted``; resuming a run sets it back to ``running``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime

from db.models import FINISHED_JOB_STATUSES
from db.rows import TrainingMetricRow, TrainingRunRow
from db.store import Store


@dataclass(frozen=True)
class RunSummary:
    id: int
    job_id: int
    """The job that carries the run's lifecycle (``narrator.pipeline.jobs``)."""
    name: str
    status: str
    """The run's job status: one of ``db.models.JOB_STATUSES``."""
    step: int
    """Last optimizer step logged."""
    train_seconds: float
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    config: dict
    mix: dict
    last_loss: float | None
    """Train loss of the last logged step."""
    baseline: dict
    """Per task, the first evaluation (step 0 = the base model, as LoRA starts as a no-op)."""
    final: dict
    """Per task, the latest evaluation: ``{"step", "ce", "ppl", "examples"}``."""

    def as_dict(self) -> dict:
        values = asdict(self)
        values["created_at"] = self.created_at.isoformat()
        values["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return values


class RunLog:
    """Run records in the database at ``url`` (migrated on open)."""

    def __init__(self, url: str) -> None:
        self.store = Store(url)

    def close(self) -> None:
        self.store.close()

    def create_run(self, config: dict, mix: dict | None = None, name: str = "") -> int:
        """A new run with ``config`` (JSON values) and data ``mix``, running in this process; returns its id."""
        return self.store.create_training_run(name or str(config.get("out", "")), config, mix, pid=os.getpid())

    def resume_run(self, run_id: int, step: int) -> None:
        """Mark a run ``running`` again from its checkpoint at ``step``, clearing its error; metrics
        logged after ``step`` are dropped (the resumed run logs those steps again)."""
        self.store.resume_training_run(run_id, step, os.getpid())

    def log_step(self, run_id: int, step: int, loss: float, tokens: int, seconds: float) -> None:
        """Train loss of optimizer step ``step`` over ``tokens`` target tokens, taking ``seconds``."""
        self.store.log_training_step(run_id, step, loss, tokens, seconds)

    def log_eval(self, run_id: int, step: int, task: str, ce: float, ppl: float, examples: int) -> None:
        """Validation cross-entropy and perplexity of ``task`` after ``step`` steps."""
        self.store.log_training_eval(run_id, step, task, ce, ppl, examples)

    def finish(self, run_id: int, status: str, error: str | None = None) -> bool:
        """End a run as ``done``, ``failed`` (with ``error``) or ``interrupted``, unless it already
        ended (e.g. the admin cancelled it); returns whether it did."""
        if status not in FINISHED_JOB_STATUSES:
            raise ValueError(f"finish status must be one of {', '.join(FINISHED_JOB_STATUSES)}, not {status!r}")
        return self.store.finish_job(self.job_id(run_id), status, error)

    def job_id(self, run_id: int) -> int:
        """The job that carries the run's lifecycle."""
        return self._row(run_id).job_id

    def metrics(self, run_id: int, kind: str | None = None) -> list[TrainingMetricRow]:
        """The run's metrics in step order (``kind``: ``train`` or ``eval`` only)."""
        return self.store.training_metrics(run_id, kind)

    def get_run(self, run_id: int) -> RunSummary | None:
        row = self.store.get_training_run(run_id)
        return None if row is None else self._summary(row)

    def list_runs(self) -> list[RunSummary]:
        """Every run, newest first, with its status and final metrics."""
        return [self._summary(row) for row in self.store.list_training_runs()]

    def _row(self, run_id: int) -> TrainingRunRow:
        row = self.store.get_training_run(run_id)
        if row is None:
            raise KeyError(f"no training run {run_id}")
        return row

    def _summary(self, run: TrainingRunRow) -> RunSummary:
        last = self.store.training_metrics(run.id, "train", last=True)
        baseline: dict = {}
        final: dict = {}
        for metric in self.store.training_metrics(run.id, "eval"):
            entry = {"step": metric.step, "ce": metric.value, "ppl": metric.ppl, "examples": metric.examples}
            baseline.setdefault(metric.task, entry)
            final[metric.task] = entry
        return RunSummary(
            id=run.id, job_id=run.job_id, name=run.name, status=run.job.status, step=run.step, train_seconds=run.train_seconds,
            created_at=run.created_at, finished_at=run.job.finished_at, error=run.job.error, config=run.config,
            mix=run.mix, last_loss=last[0].value if last else None, baseline=baseline, final=final,
        )
