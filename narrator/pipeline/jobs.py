"""The one job system for long work, narration and training alike: spawn, recover, cancel.

Every long piece of work is a ``jobs`` row with one set of statuses (``db.models.JOB_STATUSES``:
queued, running, done, failed, interrupted, cancelled) and its progress (``done`` of ``total``). The
dashboard never narrates or trains in its own script thread: it queues a job and ``spawn``s a
worker process for it (``python -m narrator worker JOB_ID`` for narration, ``python -m
training.launch RUN_ID`` for training) in a session of its own, so the page returns at once and
``cancel`` can end the worker and everything it started (git, tokenizer threads) as one process
group. The worker marks the job running with its pid, writes progress, and ends it with
``Store.finish_job``; the page polls the row.

A worker that died (machine restart, kill -9) leaves an active row whose pid is gone: ``recover``
marks it 'interrupted' so it can be started again, and the cache (narration) or the checkpoints
(training) make the restart skip every piece the dead worker had finished.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from db.errors import UserError, first_line
from db.jobs import pid_alive, this_host
from db.rows import JobRow
from db.store import Store
from narrator.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CANCEL_GRACE = 10.0
"""Seconds a cancelled worker gets to exit after SIGTERM before it is killed."""


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a worker see the same settings as its parent."""
    env = dict(os.environ)
    env.update(CODE_NARRATOR_HOME=str(settings.home), CODE_NARRATOR_DB=settings.db_url,
               CODE_NARRATOR_MODEL=settings.model, CODE_NARRATOR_QUANT=settings.quant)
    env["CODE_NARRATOR_ADAPTER"] = settings.adapter or "none"  # "none": do not fall back to a default
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def spawn(settings: Settings, store: Store, job_id: int, command: list[str], log_name: str) -> int:
    """Start ``command`` as the worker of job ``job_id`` and record its pid; returns the pid.

    The worker runs in its own session (it outlives the page's reruns, and its process group is
    one thing to cancel), with the parent's settings, logging to ``<home>/logs/<log_name>.log``.
    """
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{log_name}.log", "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env(settings), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    store.update_job(job_id, pid=process.pid, host=this_host())
    return process.pid


def spawn_worker(settings: Settings, store: Store, job_id: int) -> int:
    """Start the narration worker for a queued narration job; returns its pid."""
    return spawn(settings, store, job_id, [sys.executable, "-m", "narrator", "worker", str(job_id)], f"job-{job_id}")


def recover(store: Store) -> list[int]:
    """Mark jobs whose worker died as interrupted; returns their ids."""
    return store.mark_stale_jobs(pid_alive)


def failure(exc: BaseException) -> str:
    """What a job records when its work raises: a user error's own line, else the type and first line."""
    return first_line(exc, with_type=not isinstance(exc, UserError))


def terminate(pid: int, grace: float = CANCEL_GRACE) -> None:
    """Stop process ``pid``, and its whole process group when it leads one (a spawned worker does)."""
    if pid == os.getpid():
        return  # a job run by this very process (a test, a notebook): nothing to kill
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return
    whole_group = group == pid and group != os.getpgrp()

    def send(sig: int) -> None:
        try:
            os.killpg(pid, sig) if whole_group else os.kill(pid, sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        send(signal.SIGKILL)


def cancel(store: Store, job_id: int, reason: Callable[[JobRow], str] = lambda job: "Cancelled.") -> bool:
    """Stop an active job's worker and end the job as 'cancelled'; returns whether it was active.

    ``reason(job)`` is the job's error, given the row as it stands once the worker has stopped (so
    it can say how far the work got). A worker that finished first keeps its own outcome.
    """
    job = store.get_job(job_id)
    if job is None:
        raise LookupError(f"No job with id {job_id}")
    if not job.is_active:
        return False
    if job.pid is not None and job.host in (None, this_host()):  # a pid elsewhere names another process
        terminate(job.pid)
    return store.finish_job(job_id, "cancelled", reason(store.get_job(job_id)))


def work(settings: Settings, job_id: int, run: Callable[[Settings, int], object]) -> None:
    """Run narration job ``job_id``, then every job queued for the same repository meanwhile, oldest first.

    ``run`` records each job's outcome on its row. A job it leaves active (it raised before it could
    say so, e.g. its params are bad) ends here as failed, and no job is taken twice, so a bad job
    cannot keep the worker in a loop.
    """
    store = Store(settings.db_url)
    repo_id = store.get_job(job_id).repo_id
    tried: set[int] = set()
    while job_id is not None:
        tried.add(job_id)
        try:
            run(settings, job_id)
            store.finish_job(job_id, "failed", "The worker ended without recording an outcome.")
        except Exception as exc:  # go on with the queue
            store.finish_job(job_id, "failed", failure(exc))
        queued = [j for j in store.list_jobs(repo_id, kind="narrate") if j.status == "queued" and j.id not in tried]
        job_id = queued[-1].id if queued else None
