"""Refresh every added repository: ``python -m narrator narrate --all``.

Meant for cron or a systemd timer. Each repository is one narration job, so a failure is recorded
on its job row (the dashboard shows it) and the next repository still runs. Without a task queue
they run one after another in this process (``run_job``), sharing its loaded model
(``backends.make_backend`` keeps one per process). With one (``CODE_NARRATOR_QUEUE``) every job is
sent to the queue at once and this process waits for the workers, reading the rows: its progress
is the sum over all jobs, and each repository's outcome comes as its job ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from db.errors import UserError, first_line
from narrator.pipeline import jobs, task_queue
from narrator.pipeline.narrate import run_job
from narrator.pipeline.tasks import Budget, RunReport
from narrator.service.core import NarratorService
from narrator.service.narration import narration_request
from narrator.service.views import RepoView
from narrator.settings import Settings
from narrator.text import plain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refreshed:
    """What refreshing one repository did."""

    repo: RepoView
    report: RunReport | None
    error: str | None
    """One line, when it failed."""

    def line(self) -> str:
        """One line for a log: 'shop: 3 new narratives, 40 from the cache, 3 model calls'."""
        name = plain(self.repo.name)
        if self.error is not None:
            return f"{name}: failed: {plain(self.error)}"
        r = self.report
        return f"{name}: {r.narrated} new narratives, {r.cached} from the cache, {r.model_calls} model calls"


POLL_SECONDS = 0.5
"""How often the jobs sent to the task queue are read while ``refresh_all`` waits for them."""
Progress = Callable[[int, int, str], None]


def refresh_all(settings: Settings, commits: int = Budget.commits, full: bool = False,
                progress: Progress | None = None) -> Iterator[Refreshed]:
    """Narrate every repository in the cache again (new commits, changed code), yielding each outcome.

    With a task queue, ``progress(done, total, message)`` is told the sum over all jobs as they run.
    """
    service = NarratorService(settings)
    jobs.recover(service.store)  # a run killed earlier (kill -9) left its job 'running'
    if settings.queue:
        yield from _through_queue(service, narration_request(commits, full), progress or (lambda *_: None))
        return
    for repo in service.repositories():
        job_id = service.queue_narration(repo.id, narration_request(commits, full))
        try:
            report = run_job(settings, job_id)
        except UserError as error:
            yield Refreshed(repo, None, first_line(error))
        except Exception as error:  # a bug; the others still run, and the log keeps the trace
            log.exception("Refreshing %s failed", repo.name)
            yield Refreshed(repo, None, first_line(error, with_type=True))
        else:
            yield Refreshed(service.repository(repo.id), report, None)


def _through_queue(service: NarratorService, request: dict, progress: Progress) -> Iterator[Refreshed]:
    """Send one job per repository to the task queue, then yield each outcome as its job ends.

    'interrupted' is not an end here: the queue gives a job whose worker died to another worker.
    """
    waiting: dict[int, RepoView] = {}
    for repo in service.repositories():
        job_id = service.queue_narration(repo.id, request)
        task_queue.send(service.settings, service.store, job_id)  # QueueError: Redis is down, said at once
        waiting[job_id] = repo
    count, rows = len(waiting), {}
    while waiting:
        rows.update((job_id, service.store.get_job(job_id)) for job_id in waiting)  # ended ones keep their last row
        ended = [job_id for job_id in waiting if rows[job_id].status in ("done", "failed", "cancelled")]
        for job_id in ended:
            row, repo = rows[job_id], waiting.pop(job_id)
            if row.status == "done":
                report = RunReport(**{k: v for k, v in (row.result or {}).items() if k in ("narrated", "cached", "model_calls")})
                yield Refreshed(service.repository(repo.id), report, None)
            else:
                yield Refreshed(repo, None, row.error or row.status)
        running = sum(row.status == "running" for row in rows.values())
        progress(sum(row.done for row in rows.values()), sum(row.total for row in rows.values()),
                 f"{count - len(waiting)} of {count} repositories done, {running} running")
        if waiting:
            time.sleep(POLL_SECONDS)
