"""Background narration jobs: a worker process per job, progress in the database.

The dashboard never narrates in its own script thread: it queues a job row and starts
``python -m narrator worker JOB_ID`` as a separate process. The worker writes progress to the job
row; the page polls it. A worker that died (machine restart, kill) leaves a 'running' row whose pid
is gone: it is marked 'interrupted' and started again, and the cache makes the restart skip every
narrative the dead worker had finished.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from db.store import Store, pid_alive
from narrator.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a worker see the same settings as its parent."""
    env = dict(os.environ)
    env.update(CODE_NARRATOR_HOME=str(settings.home), CODE_NARRATOR_DB=settings.db_url,
               CODE_NARRATOR_MODEL=settings.model, CODE_NARRATOR_QUANT=settings.quant)
    env["CODE_NARRATOR_ADAPTER"] = settings.adapter or "none"  # "none": do not fall back to a default
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def spawn_worker(settings: Settings, store: Store, job_id: int) -> int:
    """Start the worker process for a queued job; returns its pid."""
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"job-{job_id}.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "narrator", "worker", str(job_id)],
            cwd=ROOT, env=worker_env(settings), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,  # survives the dashboard's reruns
        )
    store.update_job(job_id, pid=process.pid)
    return process.pid


def recover(store: Store) -> list[int]:
    """Mark jobs whose worker died as interrupted; returns their ids."""
    return store.mark_stale_jobs(pid_alive)


def work(settings: Settings, job_id: int, run) -> None:
    """Run ``job_id``, then every job queued for the same repository meanwhile, oldest first."""
    store = Store(settings.db_url)
    repo_id = store.get_job(job_id).repo_id
    while job_id is not None:
        try:
            run(settings, job_id)
        except Exception:  # recorded on the job row by run(); go on with the queue
            pass
        queued = [j for j in store.list_jobs(repo_id) if j.status == "queued"]
        job_id = queued[-1].id if queued else None
