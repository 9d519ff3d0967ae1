"""The ``jobs`` table: the ``Store`` methods that create, update, end and list jobs, and find stale ones."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import socket

import psutil
from sqlalchemy import select

from db.models import ACTIVE_JOB_STATUSES, FINISHED_JOB_STATUSES, JOB_STATUSES, Job, utc_now
from db.records import Records, _check_fields
from db.rows import JobRow, to_row

JOB_UPDATE_FIELDS = frozenset({"status", "params", "done", "total", "message", "error", "pid", "host", "result"})


def this_host() -> str:
    """This machine's name, recorded beside a job's pid: a pid names a process on one machine only."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs on this machine (a zombie, i.e. an unreaped dead child, does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # exists, owned by someone else
        return True


class JobRecords(Records):
    """Store methods for jobs."""

    def create_job(self, repo_id: int | None, kind: str, params: Mapping[str, Any] | None = None) -> int:
        """A new 'queued' job; returns its id."""
        with self.session(write=True) as s:
            job = Job(repo_id=repo_id, kind=kind, status="queued", params=dict(params or {}))
            s.add(job)
            s.flush()
            return job.id

    def update_job(self, job_id: int, **fields: Any) -> JobRow:
        """Change ``status``, ``params``, ``done``, ``total``, ``message``, ``error``, ``pid`` (with the
        ``host`` it runs on) or ``result``.

        ``started_at`` is set when the job first turns 'running', ``finished_at`` when it turns
        'done', 'failed', 'interrupted' or 'cancelled'; ``updated_at`` on every call. Returns the job as stored.
        """
        _check_fields(fields, JOB_UPDATE_FIELDS, "job")
        status = fields.get("status")
        if status is not None and status not in JOB_STATUSES:
            raise ValueError(f"Unknown job status {status!r}; expected one of {', '.join(JOB_STATUSES)}")
        with self.session(write=True) as s:
            job = s.get(Job, job_id)
            if job is None:
                raise LookupError(f"No job with id {job_id}")
            for name, value in fields.items():
                setattr(job, name, value)
            now = utc_now()
            job.updated_at = now
            if status == "running" and job.started_at is None:
                job.started_at = now
            if status in FINISHED_JOB_STATUSES:
                job.finished_at = now
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> JobRow | None:
        with self.session() as s:
            job = s.get(Job, job_id)
            return None if job is None else to_row(JobRow, job)

    def get_jobs(self, job_ids: Collection[int]) -> dict[int, JobRow]:
        """The jobs of ``job_ids`` that exist, by id, read in one query (a caller waiting on hundreds polls this)."""
        with self.session() as s:
            return {j.id: to_row(JobRow, j) for j in s.scalars(select(Job).where(Job.id.in_(list(job_ids))))}

    def active_job(self, repo_id: int | None) -> JobRow | None:
        """The newest 'queued' or 'running' job of the repository, if any."""
        query = (
            select(Job)
            .where(Job.repo_id == repo_id, Job.status.in_(ACTIVE_JOB_STATUSES))
            .order_by(Job.id.desc())
            .limit(1)
        )
        with self.session() as s:
            job = s.scalar(query)
            return None if job is None else to_row(JobRow, job)

    def finish_job(self, job_id: int, status: str, error: str | None = None, message: str | None = None,
                   pid: int | None = None) -> bool:
        """End an active job as ``status`` (with ``error``, and ``message`` when given) unless it
        already ended, or, given ``pid``, another process now runs it; returns whether it did.

        Checked and written in one transaction, so a worker that finishes at the same moment as a
        cancel or a recovery keeps its own outcome.
        """
        if status not in FINISHED_JOB_STATUSES:
            raise ValueError(f"A job ends as one of {', '.join(FINISHED_JOB_STATUSES)}, not {status!r}")
        with self.session(write=True) as s:
            job = s.get(Job, job_id)
            if job is None:
                raise LookupError(f"No job with id {job_id}")
            if job.status not in ACTIVE_JOB_STATUSES or (pid is not None and job.pid != pid):
                return False
            now = utc_now()
            job.status, job.error, job.updated_at, job.finished_at = status, error, now, now
            if message is not None:
                job.message = message
            return True

    def list_jobs(self, repo_id: int | None = None, limit: int | None = None, kind: str | None = None) -> list[JobRow]:
        """Jobs newest first, of one repository or (``repo_id=None``) of all; ``kind``: only that kind."""
        query = select(Job)
        if repo_id is not None:
            query = query.where(Job.repo_id == repo_id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        query = query.order_by(Job.id.desc()).limit(limit)
        with self.session() as s:
            return [to_row(JobRow, j) for j in s.scalars(query)]

    def mark_stale_jobs(self, is_alive: Callable[[int], bool] = pid_alive) -> list[int]:
        """Turn active jobs whose process is gone into 'interrupted'; returns their ids.

        Called at start-up and before reads so a crashed worker's job can be resumed (the cache and
        checkpoints keep its work). A running job without a pid has no process to wait for and
        counts as gone; a queued job with a pid is one whose worker died before it started. Only
        this machine's jobs are judged (``host``; rows without one are taken as this machine's, as
        before migration 0008): a job a queue worker runs on another machine has a pid this one
        cannot see, and the task queue, not this check, recovers it when that worker dies.
        """
        host = this_host()
        with self.session(write=True) as s:
            active = [job for job in s.scalars(select(Job).where(Job.status.in_(ACTIVE_JOB_STATUSES))).all()
                      if job.host in (None, host)]
            stale = [job for job in active if (job.status == "running" and job.pid is None)
                     or (job.pid is not None and not is_alive(job.pid))]
            now = utc_now()
            for job in stale:
                job.status, job.updated_at, job.finished_at = "interrupted", now, now
                job.message = (job.message + " " if job.message else "") + "(interrupted: its process ended)"
                job.error = (f"Its process ended at step {job.done} without finishing "
                             "(stopped or the machine restarted).")
            return [job.id for job in stale]
