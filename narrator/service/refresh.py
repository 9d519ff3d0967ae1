"""Refresh every added repository, one after another: ``python -m narrator narrate --all``.

Meant for cron or a systemd timer. Each repository is one narration job (``run_job``), so a failure
is recorded on its job row (the dashboard shows it) and the next repository still runs. The loaded
model is shared by all of them (``backends.make_backend`` keeps one per process).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from db.errors import UserError, first_line
from narrator.pipeline import jobs
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


def refresh_all(settings: Settings, commits: int = Budget.commits, full: bool = False) -> Iterator[Refreshed]:
    """Narrate every repository in the cache again (new commits, changed code), yielding each outcome."""
    service = NarratorService(settings)
    jobs.recover(service.store)  # a run killed earlier (kill -9) left its job 'running'
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
