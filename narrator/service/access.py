"""The service as one signed-in person may use it (``ScopedService``): every admin action passes the
one guard of ``narrator.service.roles`` (``require_admin``), every read of a repository checks it is
one of theirs. Where a repository may be added from is ``narrator.service.admission``.

``ScopedService`` fails closed: a public method of ``NarratorService`` is an admin action unless it
is named below as a read, so a method added later is refused to viewers until someone says it is a
read. Reads of one repository check the repository is among the viewer's; the list of repositories
(and so the Portfolio and its report, built from it) holds only theirs.
"""

from __future__ import annotations

from narrator.service.core import NarratorService
from narrator.service.roles import Principal, require_admin, require_readable

REPO_READS = frozenset({
    "repository", "digest", "status", "briefing", "overview", "parts", "code", "check_outcomes", "change_filters",
    "changes", "change_page", "changes_of", "change_count", "chart_range", "activity", "releases",
    "busiest_areas", "forecast", "latest_job"})
"""Reads of one repository, its id the first argument."""
OPEN_READS = frozenset({"repositories", "portfolio", "period", "canonical_source", "require_readable",
                        "has_accounts", "sign_in", "account_principal", "session_stamp", "principal_for_email"})
"""Reads of no repository in particular, or of the repositories listed for the reader."""
RESULT_READS = frozenset({"job", "find"})
"""Reads whose answer names its repository (``repo_id`` or ``id``), checked after."""
ACTIONS = {"add_repository": "Adding a repository", "remove_repository": "Removing a repository",
           "start_narration": "Narrating", "narrate_on_demand": "Narrating", "queue_narration": "Narrating",
           "resume_interrupted": "Narrating", **dict.fromkeys(
               ("accounts", "add_account", "set_account_password", "set_account_repositories", "remove_account"),
               "Managing accounts")}
"""Words for the admin actions' refusals; any other public method not read above is refused as itself."""


class ScopedService(NarratorService):
    """``NarratorService`` as ``who`` may use it, on a dashboard that is ``exposed`` (bound beyond
    this computer) or not. It shares the process's service (its store, settings and caches): one
    is made per page run, cheaply."""

    def __init__(self, service: NarratorService, who: Principal, exposed: bool = False) -> None:
        self.__dict__.update(vars(service))  # the same objects, not copies
        self.who = who
        self.exposed = exposed

    def repositories(self):
        return [r for r in super().repositories() if self.who.may_read(r.id)]

    def require_readable(self, repo_id: int) -> None:
        """Refuse a repository outside the reader's set (before a cache shared by every session is asked)."""
        require_readable(self.who, repo_id)

    def __getattribute__(self, name: str):
        value = super().__getattribute__(name)
        if name.startswith("_") or name in OPEN_READS or not callable(value) or not hasattr(NarratorService, name):
            return value
        who = super().__getattribute__("who")
        if name in REPO_READS:
            def read(repo_id, *args, **kwargs):
                require_readable(who, repo_id)
                return value(repo_id, *args, **kwargs)
            return read
        if name in RESULT_READS:
            def read_one(*args, **kwargs):
                found = value(*args, **kwargs)
                require_readable(who, getattr(found, "repo_id", None) or found.id)
                return found
            return read_one

        def action(*args, **kwargs):
            require_admin(who, ACTIONS.get(name, name.replace("_", " ").capitalize()))
            return value(*args, **kwargs)
        return action
