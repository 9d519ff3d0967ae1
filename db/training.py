"""The training history in the database: one row per run, one per logged step or evaluation.

``TrainingRecords`` is a part of ``Store`` (mixed into it), so ``training/`` records runs through
store methods and never opens a session. A run's lifecycle is a ``Job`` of kind ``train`` (status,
pid, error, start and end), the same job system narration uses; the ``training_runs`` row holds
what only a run has: its config, data mix, step count and training time. The job's ``done`` is kept
equal to the run's step, so the job row alone says how far any long work got.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.errors import UserError
from db.models import ACTIVE_JOB_STATUSES, METRIC_KINDS, Job, TrainingMetric, TrainingRun, utc_now
from db.rows import JobRow, TrainingMetricRow, TrainingRunRow, to_row

TRAINING_RUN_FIELDS = frozenset({"config", "mix"})


class TrainingBusy(UserError):
    """A training run was asked for while another is queued or running: one at a time.

    The database enforces it (the partial unique index ``uq_jobs_one_active_train``), so two starts
    at the same moment, from two pages or two terminals, give one run and this error.
    """

    def __init__(self, run_id: int | None) -> None:
        self.run_id = run_id
        which = f" (run {run_id})" if run_id is not None else ""
        super().__init__(f"A training run is already running{which}; wait for it or cancel it on the Admin page.")


def _run(session: Session, run_id: int) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise LookupError(f"No training run {run_id}")
    return run


def _run_row(session: Session, run: TrainingRun) -> TrainingRunRow:
    job = session.get(Job, run.job_id)
    return TrainingRunRow(id=run.id, job_id=run.job_id, name=run.name, config=run.config, mix=run.mix,
                          step=run.step, train_seconds=run.train_seconds, created_at=run.created_at,
                          job=to_row(JobRow, job))


class TrainingRecords:
    """Store methods for training runs and their metrics (``Store`` provides ``session``)."""

    def session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError  # Store's own session() comes first in its method order

    def mark_stale_jobs(self) -> list[int]:
        raise NotImplementedError  # Store's own, as session()

    def active_training_run(self) -> int | None:
        """The id of the run whose job is queued or running, if any (there is at most one)."""
        with self.session() as s:
            return s.scalar(select(TrainingRun.id).join(Job, Job.id == TrainingRun.job_id)
                            .where(Job.kind == "train", Job.status.in_(ACTIVE_JOB_STATUSES)).limit(1))

    def _one_training_run(self, write: Callable[[], int]) -> int:
        """``write()``, which makes a run active; ``TrainingBusy`` when another one is active.

        A run whose process is gone (killed, the machine restarted) is marked interrupted on the
        way, so it never blocks training for good.
        """
        for last in (False, True):
            try:
                return write()
            except IntegrityError:
                busy = self.active_training_run()
                # Once more when the active run ended meanwhile or its process is gone (now interrupted).
                if not last and (busy is None or self.mark_stale_jobs()):
                    continue
                if busy is None:
                    raise
                raise TrainingBusy(busy) from None
        raise AssertionError("unreachable")

    def create_training_run(self, name: str, config: Any, mix: Any = None, *, pid: int | None = None) -> int:
        """A new run and its ``train`` job, in one transaction; returns the run id.

        With ``pid`` the job is 'running' in that process (a run trained right here); without, it is
        'queued' until its worker starts. Raises ``TrainingBusy`` while another run is active.
        """
        return self._one_training_run(lambda: self._create_training_run(name, config, mix, pid))

    def _create_training_run(self, name: str, config: Any, mix: Any, pid: int | None) -> int:
        now = utc_now()
        with self.session(write=True) as s:
            job = Job(repo_id=None, kind="train", params={}, status="queued" if pid is None else "running",
                      pid=pid, created_at=now, updated_at=now, started_at=None if pid is None else now)
            s.add(job)
            s.flush()
            run = TrainingRun(job_id=job.id, name=name, config=config, mix=mix or {}, step=0, train_seconds=0.0,
                              created_at=now)
            s.add(run)
            s.flush()
            job.params = {"run_id": run.id}
            return run.id

    def update_training_run(self, run_id: int, **fields: Any) -> None:
        """Change a run's ``config`` or ``mix``."""
        unknown = set(fields) - TRAINING_RUN_FIELDS
        if unknown:
            raise ValueError(f"Unknown training run field(s): {', '.join(sorted(unknown))}")
        with self.session(write=True) as s:
            run = _run(s, run_id)
            for name, value in fields.items():
                setattr(run, name, value)
            s.get(Job, run.job_id).updated_at = utc_now()

    def resume_training_run(self, run_id: int, step: int, pid: int) -> None:
        """Mark a run 'running' again in process ``pid`` from its checkpoint at ``step``, clearing its error.

        Metrics logged after ``step`` (lost with the crash or interrupt) are deleted; the resumed
        run logs those steps again, and its training time is what the kept steps took. Raises
        ``TrainingBusy`` while another run is active.
        """
        self._one_training_run(lambda: self._resume_training_run(run_id, step, pid))

    def _resume_training_run(self, run_id: int, step: int, pid: int) -> int:
        with self.session(write=True) as s:
            run = _run(s, run_id)
            s.execute(delete(TrainingMetric).where(TrainingMetric.run_id == run_id, TrainingMetric.step > step))
            kept = s.scalar(select(func.sum(TrainingMetric.seconds)).where(
                TrainingMetric.run_id == run_id, TrainingMetric.kind == "train"))
            run.step, run.train_seconds = step, float(kept or 0.0)
            job = s.get(Job, run.job_id)
            now = utc_now()
            job.status, job.error, job.finished_at, job.pid, job.done, job.updated_at = (
                "running", None, None, pid, step, now)
            job.started_at = job.started_at or now
            return run_id

    def log_training_step(self, run_id: int, step: int, loss: float, tokens: int, seconds: float) -> None:
        """Train loss of optimizer step ``step`` over ``tokens`` target tokens, taking ``seconds``."""
        with self.session(write=True) as s:
            run = _run(s, run_id)
            s.add(TrainingMetric(run_id=run_id, step=step, kind="train", value=float(loss), tokens=tokens,
                                 seconds=seconds))
            run.step, run.train_seconds = step, run.train_seconds + seconds
            job = s.get(Job, run.job_id)
            job.done, job.updated_at = step, utc_now()

    def log_training_eval(self, run_id: int, step: int, task: str, ce: float, ppl: float, examples: int) -> None:
        """Validation cross-entropy and perplexity of ``task`` after ``step`` steps."""
        with self.session(write=True) as s:
            run = _run(s, run_id)
            s.get(Job, run.job_id).updated_at = utc_now()
            s.add(TrainingMetric(run_id=run_id, step=step, kind="eval", task=task, value=float(ce),
                                 ppl=float(ppl), examples=examples))

    def training_metrics(self, run_id: int, kind: str | None = None,
                         last: bool = False) -> list[TrainingMetricRow]:
        """The run's metrics in step order (``kind``: ``train`` or ``eval`` only); ``last``: only the newest."""
        if kind is not None and kind not in METRIC_KINDS:
            raise ValueError(f"kind must be one of {METRIC_KINDS}")
        query = select(TrainingMetric).where(TrainingMetric.run_id == run_id)
        if kind:
            query = query.where(TrainingMetric.kind == kind)
        if last:
            query = query.order_by(TrainingMetric.step.desc(), TrainingMetric.id.desc()).limit(1)
        else:
            query = query.order_by(TrainingMetric.step, TrainingMetric.id)
        with self.session() as s:
            return [_metric_row(m) for m in s.scalars(query)]

    def get_training_run(self, run_id: int) -> TrainingRunRow | None:
        with self.session() as s:
            run = s.get(TrainingRun, run_id)
            return None if run is None else _run_row(s, run)

    def list_training_runs(self) -> list[TrainingRunRow]:
        """Every run, newest first."""
        with self.session() as s:
            runs = s.scalars(select(TrainingRun).order_by(TrainingRun.id.desc())).all()
            return [_run_row(s, run) for run in runs]


def _metric_row(metric: TrainingMetric) -> TrainingMetricRow:
    return to_row(TrainingMetricRow, metric)
