"""The service layer: everything the dashboard (and ``narrator show``) may ask for.

Pages call only the ``NarratorService`` built here. It reads the cache and starts background jobs;
it never loads a model and never runs git beyond validating and opening a new repository. Its
methods live by concern beside it (repositories, narratives, changes, briefings, timeline,
narration) and hand back the frozen views of ``narrator.service.views``, so a page cannot change
what it was given.
"""

from __future__ import annotations

from db.store import Store
from narrator.model.backends import describe
from narrator.service.accounts import AccountAdmin
from narrator.service.briefings import BriefingReads
from narrator.service.changes import ChangeReads
from narrator.service.narration import NarrationJobs
from narrator.service.narratives import NarrativeReads
from narrator.service.repositories import Repositories
from narrator.service.subscriptions import Subscriptions
from narrator.service.timeline import TimelineReads
from narrator.settings import Settings


class NarratorService(Repositories, NarrativeReads, ChangeReads, BriefingReads, TimelineReads, NarrationJobs,
                      Subscriptions, AccountAdmin):
    """Reads narratives and facts from the cache; starts narration in worker processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.db_url)
        self.model, self.adapter = describe(settings)
        self._commit_cache: dict[int, tuple[int | None, tuple]] = {}
