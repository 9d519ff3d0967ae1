"""Refresh every added repository: ``python -m narrator narrate --all``.

Meant for cron or a systemd timer. Each repository is one narration job, so a failure is recorded
on its job row (the dashboard shows it) and the next repository still runs. Without a task queue
they run one after another in this process (``run_job``), sharing its loaded model
(``backends.make_backend`` keeps one per process). With one (``CODE_NARRATOR_QUEUE``) every job is
sent to the queue at once and this process waits for the workers, reading the rows: its progress
counts repositories (a running one by how far its current step got), and each repository's outcome
comes as its job ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from db.errors import QueueError, UserError, first_line
from db.models import as_utc
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
CHECK_SECONDS = 5.0
"""How often the task queue is asked which of the waiting jobs it still holds."""
WAITING = ("queued", "interrupted")
"""A job's statuses while no worker runs it."""
SHARE = 1000
"""With a task queue, progress counts in thousandths of a repository."""
Progress = Callable[[int, int, str], None]


def refresh_all(settings: Settings, commits: int = Budget.commits, full: bool = False,
                progress: Progress | None = None, notice: Callable[[str], None] = log.warning) -> Iterator[Refreshed]:
    """Narrate every repository in the cache again (new commits, changed code), yielding each outcome.

    With a task queue, ``progress(done, total, message)`` is told how far the run is in ``SHARE``s of a
    repository (never less than it said before),
    and ``notice`` one line for each thing that happened to a job on the way (its worker died, the
    queue lost it).
    """
    service = NarratorService(settings)
    jobs.recover(service.store)  # a run killed earlier (kill -9) left its job 'running'
    if settings.queue:
        yield from _through_queue(service, narration_request(commits, full), progress or (lambda *_: None), notice)
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


def _through_queue(service: NarratorService, request: dict, progress: Progress,
                   notice: Callable[[str], None]) -> Iterator[Refreshed]:
    """Send one job per repository to the task queue, then yield each outcome as its job ends.

    'interrupted' is not an end here: the queue gives a job whose worker died to another worker.
    Every ``CHECK_SECONDS`` the queue is asked which jobs it still holds: a waiting job it lost (Redis
    restarted without its data) is sent again; when Redis has not answered for
    ``Settings.queue_heartbeat`` seconds, the jobs no worker runs end 'failed' saying so (those running
    are still waited for: their workers write to the database, not to Redis).
    """
    settings, store = service.settings, service.store
    _end_lost_jobs(service, notice)
    waiting: dict[int, RepoView] = {}
    for repo in service.repositories():
        job_id = service.queue_narration(repo.id, request)
        task_queue.send(settings, store, job_id)  # QueueError: Redis is down, said at once
        waiting[job_id] = repo
    count, rows, shown = len(waiting), {}, 0
    ran_by: dict[int, tuple] = {}  # the worker last seen running each job
    next_check, silent_since = time.monotonic() + CHECK_SECONDS, None
    while waiting:
        rows.update(store.get_jobs(waiting))  # one query a poll; ended ones keep their last row
        for job_id in waiting:
            _told_of_worker(waiting[job_id], rows[job_id], ran_by, notice)
        ended = [job_id for job_id in waiting if rows[job_id].status in ("done", "failed", "cancelled")]
        for job_id in ended:
            row, repo = rows[job_id], waiting.pop(job_id)
            if row.status == "done":
                report = RunReport(**{k: v for k, v in (row.result or {}).items() if k in ("narrated", "cached", "model_calls")})
                yield Refreshed(service.repository(repo.id), report, None)
            else:
                yield Refreshed(repo, None, row.error or row.status)
        running = sum(row.status == "running" for row in rows.values())
        shown = max(shown, _share_done(rows, waiting))
        progress(shown, SHARE * count, f"{count - len(waiting)} of {count} repositories done, {running} running")
        if waiting and time.monotonic() >= next_check:
            next_check = time.monotonic() + CHECK_SECONDS
            silent_since = _check_queue(service, waiting, silent_since, notice)
        if waiting:
            time.sleep(POLL_SECONDS)


def _share_done(rows: dict, waiting: dict[int, RepoView]) -> int:
    """How much of the run is done, in ``SHARE``s of a repository: an ended job counts whole, a running
    one by how far its current step got (its steps count different things, so the sum never adds them)."""
    return sum(SHARE if job_id not in waiting else SHARE * min(row.done, row.total) // row.total if row.total else 0
               for job_id, row in rows.items())


def _end_lost_jobs(service: NarratorService, notice: Callable[[str], None]) -> None:
    """End 'failed' the narration jobs an earlier run left waiting that the queue no longer holds (Redis
    restarted without its data while nobody waited for them): else they would wait forever and keep
    their repository from being removed. A job sent less than ``Settings.queue_heartbeat`` seconds ago
    is left alone (whoever made it may be sending it now)."""
    store = service.store
    try:
        held = task_queue.job_ids_on_queue(service.settings)
    except QueueError:
        return  # sending the first job says so, and records it on that job
    oldest = datetime.now(timezone.utc) - timedelta(seconds=service.settings.queue_heartbeat)
    for row in store.list_jobs(kind="narrate"):
        if row.status == "queued" and row.pid is None and row.id not in held and as_utc(row.updated_at) < oldest:
            if store.get_job(row.id).status != "queued":
                continue  # a worker took it meanwhile
            store.finish_job(row.id, "failed", "The task queue lost this job before a worker took it (Redis "
                                               "restarted without its data?); narrate again.")
            notice(f"Job #{row.id} had waited since {row.updated_at:%Y-%m-%d %H:%M} UTC, but the task queue no "
                   "longer held it: ended as failed (this run sends a new one for every repository).")


def _told_of_worker(repo: RepoView, row, ran_by: dict[int, tuple], notice: Callable[[str], None]) -> None:
    """Tell ``notice`` when a job's worker let it go: it went back to waiting, or another worker runs it."""
    before = ran_by.get(row.id)
    now = (row.host, row.pid) if row.status == "running" and row.pid is not None else None
    if before and (row.status in WAITING or (now and now != before)):
        del ran_by[row.id]
        if row.status == "queued" and row.message:  # the worker said why: it stopped, or a failure retried
            notice(f"{plain(repo.name)}: {plain(row.message)}")
        else:
            notice(f"{plain(repo.name)}: its worker (pid {before[1]} on {plain(before[0] or 'this machine')}) "
                   "ended without finishing it; another worker takes it again.")
    if now:
        ran_by[row.id] = now


def _check_queue(service: NarratorService, waiting: dict[int, RepoView], silent_since: float | None,
                 notice: Callable[[str], None]) -> float | None:
    """Send again each waiting job the queue lost, or fail them once Redis has been silent too long;
    returns since when Redis has not answered (None: it answers)."""
    settings, store = service.settings, service.store
    try:
        held = task_queue.job_ids_on_queue(settings)
    except QueueError as silent:
        silent_since = silent_since or time.monotonic()
        if time.monotonic() - silent_since < settings.queue_heartbeat:
            return silent_since
        for job_id, row in store.get_jobs(waiting).items():
            if row.status in WAITING:
                store.finish_job(job_id, "failed", f"{silent}; no worker took this job before it stopped answering.")
        return silent_since
    # Read after the queue was, so a job that ended meanwhile (its message gone) is not taken as lost.
    rows = store.get_jobs(waiting)
    for job_id, repo in waiting.items():
        if job_id not in held and rows[job_id].status in WAITING:
            notice(f"{plain(repo.name)}: the task queue no longer held its job (was Redis restarted without "
                   "its data?); sent again.")
            task_queue.send(settings, store, job_id)
    return None
