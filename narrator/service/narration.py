"""Starting narration: the one request shape, queueing a job, starting or resuming a worker, and
reading jobs back."""

from __future__ import annotations

from collections.abc import Iterable

from db.errors import NarratorError
from narrator.defaults import COMMITS
from narrator.pipeline import jobs
from narrator.service.views import JobView, _job_view


def narration_request(commits: int = COMMITS, full: bool = False, only: Iterable[tuple[str, str]] = ()) -> dict:
    """What a narration job is asked to do, as its row stores it (JSON, so equal requests compare
    equal): the latest ``commits`` and the important files (every file when ``full``), or only the
    ``(kind, target)`` pairs named ("commit"/"file"/"module", a sha or a path)."""
    if only:
        return {"only": [[kind, target] for kind, target in only]}
    return {"commits": commits, "full": full}


class NarrationJobs:
    """``NarratorService``'s narration jobs (uses ``self.store``, ``self.settings`` and ``self.repository``)."""

    def _start(self, repo_id: int, params: dict) -> JobView:
        """Queue a job; send it to the task queue when one is configured, else start a worker unless
        one is already running for this repository.

        A running local worker takes queued jobs of its repository one after another, so an
        on-demand request made during a long run is narrated right after it instead of being dropped.
        """
        self.repository(repo_id)
        jobs.recover(self.store)
        rows = self.store.list_jobs(repo_id)
        running = [j for j in rows if j.status == "running"]
        same = [j for j in rows if j.is_active and (j.params or {}) == params]
        if same:
            return _job_view(same[0])  # the very same request is already queued or running
        job_id = self.queue_narration(repo_id, params)
        if self.settings.queue:
            _task_queue().send(self.settings, self.store, job_id)
        elif not running:
            jobs.spawn_worker(self.settings, self.store, job_id)
        return self.job(job_id)

    def queue_narration(self, repo_id: int, request: dict) -> int:
        """Record a queued narration job and return its id: the one way every entry point makes one.

        ``request`` comes from :func:`narration_request`. The job then runs in a worker
        (:meth:`start_narration`, :meth:`narrate_on_demand`) or in the caller's process with
        ``narrate.run_job`` (``python -m narrator narrate``, ``narrate --all``).
        """
        return self.store.create_job(repo_id, "narrate", request)

    def start_narration(self, repo_id: int, commits: int = COMMITS, full: bool = False) -> JobView:
        return self._start(repo_id, narration_request(commits, full))

    def narrate_on_demand(self, repo_id: int, kind: str, target: str) -> JobView:
        if kind not in ("commit", "file", "module"):
            raise NarratorError(f"Cannot narrate a {kind!r} on demand.")
        return self._start(repo_id, narration_request(only=[(kind, target)]))

    def resume_interrupted(self) -> list[JobView]:
        """Restart the newest interrupted job of each repository whose worker died.

        The cache makes the restarted job skip every narrative the dead worker had finished.
        """
        jobs.recover(self.store)
        resumed, seen = [], set()
        for row in self.store.list_jobs(kind="narrate"):  # newest first; training resumes from its checkpoints
            if row.repo_id in seen:
                continue
            seen.add(row.repo_id)
            if row.status == "interrupted":
                self.store.update_job(row.id, status="queued", error=None)
                if self.settings.queue:
                    _task_queue().send(self.settings, self.store, row.id)
                else:
                    jobs.spawn_worker(self.settings, self.store, row.id)
                resumed.append(self.job(row.id))
        return resumed

    def job(self, job_id: int) -> JobView:
        return _job_view(self.store.get_job(job_id))

    def latest_job(self, repo_id: int) -> JobView | None:
        jobs.recover(self.store)
        rows = self.store.list_jobs(repo_id)
        return _job_view(rows[0]) if rows else None


def _task_queue():
    """``narrator.pipeline.task_queue``, imported only where a queue is configured: Dramatiq and Redis
    cost every command that never uses them memory at start-up (``show``'s peak in ``python -m
    narrator.eval.bench REPO --no-model``: 90 MB with them, 81 MB without)."""
    from narrator.pipeline import task_queue

    return task_queue
