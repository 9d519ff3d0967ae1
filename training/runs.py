"""The record of every training run: config, data mix, status, timings, and metrics per step
(train loss) and per evaluation (validation CE and perplexity per task).

``RunLog(url)`` writes to the project database (tables in ``training/records.py``), which the
dashboard reads. A run is ``running`` until ``finish`` marks it ``done``, ``failed`` (with its
error) or ``interrupted``; resuming a run sets it back to ``running``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from db.models import utc_now
from db.store import Store
from training.records import METRIC_KINDS, RUN_STATUSES, TrainingMetric, TrainingRun


@dataclass(frozen=True)
class MetricRow:
    step: int
    kind: str
    """``train`` (value = mean loss of the step's batch) or ``eval`` (value = validation CE)."""
    task: str | None
    value: float
    ppl: float | None
    tokens: int | None
    examples: int | None
    seconds: float | None


@dataclass(frozen=True)
class RunSummary:
    id: int
    name: str
    status: str
    """One of ``running``, ``done``, ``failed``, ``interrupted``."""
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
        """A new ``running`` run with ``config`` (JSON values) and data ``mix``; returns its id."""
        with self.store.session(write=True) as session:
            run = TrainingRun(name=name or str(config.get("out", "")), status="running", config=config,
                              mix=mix or {}, step=0, train_seconds=0.0, pid=os.getpid())
            session.add(run)
            session.flush()
            return run.id

    def set_mix(self, run_id: int, mix: dict) -> None:
        with self.store.session(write=True) as session:
            self._run(session, run_id).mix = mix

    def resume_run(self, run_id: int, step: int) -> None:
        """Mark a run ``running`` again from its checkpoint at ``step``, clearing its error.

        Metrics logged after ``step`` (lost with the crash or interrupt) are deleted; the resumed
        run logs those steps again.
        """
        with self.store.session(write=True) as session:
            run = self._run(session, run_id)
            for metric in session.scalars(select(TrainingMetric).where(TrainingMetric.run_id == run_id,
                                                                      TrainingMetric.step > step)):
                session.delete(metric)
            session.flush()
            kept = session.scalars(select(TrainingMetric.seconds).where(
                TrainingMetric.run_id == run_id, TrainingMetric.kind == "train")).all()
            run.step, run.train_seconds = step, float(sum(s or 0.0 for s in kept))
            run.status, run.error, run.finished_at, run.pid, run.updated_at = "running", None, None, os.getpid(), utc_now()

    def log_step(self, run_id: int, step: int, loss: float, tokens: int, seconds: float) -> None:
        """Train loss of optimizer step ``step`` over ``tokens`` target tokens, taking ``seconds``."""
        with self.store.session(write=True) as session:
            run = self._run(session, run_id)
            session.add(TrainingMetric(run_id=run_id, step=step, kind="train", value=float(loss), tokens=tokens,
                                       seconds=seconds))
            run.step, run.train_seconds, run.updated_at = step, run.train_seconds + seconds, utc_now()

    def log_eval(self, run_id: int, step: int, task: str, ce: float, ppl: float, examples: int) -> None:
        """Validation cross-entropy and perplexity of ``task`` after ``step`` steps."""
        with self.store.session(write=True) as session:
            self._run(session, run_id).updated_at = utc_now()
            session.add(TrainingMetric(run_id=run_id, step=step, kind="eval", task=task, value=float(ce),
                                       ppl=float(ppl), examples=examples))

    def finish(self, run_id: int, status: str, error: str | None = None) -> None:
        """End a run as ``done``, ``failed`` (with ``error``) or ``interrupted``."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"finish status must be done, failed or interrupted, not {status!r}")
        with self.store.session(write=True) as session:
            run = self._run(session, run_id)
            run.status, run.error, run.finished_at, run.updated_at, run.pid = status, error, utc_now(), utc_now(), None

    def metrics(self, run_id: int, kind: str | None = None) -> list[MetricRow]:
        """The run's metrics in step order (``kind``: ``train`` or ``eval`` only)."""
        if kind is not None and kind not in METRIC_KINDS:
            raise ValueError(f"kind must be one of {METRIC_KINDS}")
        query = select(TrainingMetric).where(TrainingMetric.run_id == run_id)
        if kind:
            query = query.where(TrainingMetric.kind == kind)
        with self.store.session() as session:
            rows = session.scalars(query.order_by(TrainingMetric.step, TrainingMetric.id)).all()
            return [MetricRow(m.step, m.kind, m.task, m.value, m.ppl, m.tokens, m.examples, m.seconds) for m in rows]

    def get_run(self, run_id: int) -> RunSummary | None:
        with self.store.session() as session:
            run = session.get(TrainingRun, run_id)
            return self._summary(session, run) if run else None

    def list_runs(self) -> list[RunSummary]:
        """Every run, newest first, with its status and final metrics."""
        with self.store.session() as session:
            runs = session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc())).all()
            return [self._summary(session, run) for run in runs]

    @staticmethod
    def _run(session, run_id: int) -> TrainingRun:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise KeyError(f"no training run {run_id}")
        return run

    @staticmethod
    def _summary(session, run: TrainingRun) -> RunSummary:
        last = session.scalars(
            select(TrainingMetric).where(TrainingMetric.run_id == run.id, TrainingMetric.kind == "train")
            .order_by(TrainingMetric.step.desc(), TrainingMetric.id.desc()).limit(1)
        ).first()
        evals = session.scalars(
            select(TrainingMetric).where(TrainingMetric.run_id == run.id, TrainingMetric.kind == "eval")
            .order_by(TrainingMetric.step, TrainingMetric.id)
        ).all()
        baseline: dict = {}
        final: dict = {}
        for metric in evals:
            entry = {"step": metric.step, "ce": metric.value, "ppl": metric.ppl, "examples": metric.examples}
            baseline.setdefault(metric.task, entry)
            final[metric.task] = entry
        return RunSummary(
            id=run.id, name=run.name, status=run.status, step=run.step, train_seconds=run.train_seconds,
            created_at=run.created_at, finished_at=run.finished_at, error=run.error, config=run.config,
            mix=run.mix, last_loss=last.value if last else None, baseline=baseline, final=final,
        )
