"""What the dashboard's pages share across a run and between sessions: the one service, answers cached
per recorded history, the chosen repository and the shared period (with its picker).
"""

from __future__ import annotations

import gc
import sys
import threading
from datetime import date

import streamlit as st

from narrator.defaults import DIGEST_PERIOD
from narrator.insights.periods import FIRST_DAY, WITH_COMMITS, today
from dashboard import signin
from narrator.service.access import ScopedService
from narrator.service.core import NarratorService
from narrator.service.roles import Principal
from narrator.service.views import RepoView
from narrator.settings import Settings, load_settings


REPO_KEY = "app_repo_id"
"""Session-state key of the repository chosen in the sidebar (read by every page)."""


@st.cache_resource(show_spinner=False)
def _service_for(settings_key: str, _settings: Settings) -> NarratorService:
    # Keyed by the settings' text so tests that point CODE_NARRATOR_HOME elsewhere in the same
    # process get their own service; a running dashboard builds exactly one.
    svc = NarratorService(_settings)
    svc.resume_interrupted()  # a narration cut short by a crash or restart goes on by itself
    return svc


def service() -> NarratorService:
    """The process-wide service built from the environment's settings."""
    settings = load_settings()
    freeze_loaded()
    return _service_for(repr(settings), settings)


WHO_KEY = "app_signed_in"
"""Session-state key of who this session is (a ``Principal``), set by the entry point on every run."""
NOBODY = Principal("nobody", "viewer", frozenset())
"""Who a session is before the entry point said: reads nothing, does nothing."""


def session_service() -> ScopedService:
    """The service as this session's signed-in person may use it (``narrator.service.access``): what
    pages call, so every admin action and every read of a repository is checked in one place."""
    return ScopedService(service(), st.session_state.get(WHO_KEY, NOBODY), signin.exposed())


_frozen = {"modules": 0}


_freezing = threading.Lock()


def freeze_loaded() -> None:
    """Once the modules the pages import are loaded, put every object alive into the collector's
    permanent generation (``gc.freeze``), after one full collection.

    Streamlit collects all garbage after every page run (``runner.postScriptGC``), which keeps the
    server's memory flat; but a full collection walks every object the process holds, and the code
    of Streamlit, Plotly, pandas and SQLAlchemy alone is a few hundred thousand objects that never
    become garbage: a fifth of a second after every run, holding every other session up. Frozen,
    they are no longer walked; what a page run makes after that is still collected as before. Done
    again only when a first visit to a page has loaded more modules (a few times per process), and
    only in the dashboard's server (``streamlit run``): a process that runs pages among other work
    (a test) keeps its collector as it is.
    """
    if len(sys.modules) == _frozen["modules"] or "streamlit.web.bootstrap" not in sys.modules:
        return
    with _freezing:
        if len(sys.modules) != _frozen["modules"]:
            gc.collect()
            gc.freeze()
            _frozen["modules"] = len(sys.modules)


@st.cache_resource(show_spinner=False, max_entries=256)
def _per_history(_svc: NarratorService, db_url: str, repo_id: int, version: int | None, day: date, what: str,
                 args: tuple):
    return getattr(_svc, what)(repo_id, *args)


@st.cache_resource(show_spinner=False, max_entries=16)
def _charted(_svc: NarratorService, db_url: str, repo_id: int, version: int | None, day: date, what: str,
             args: tuple):
    # A chart's points hold the commits behind every bar (a year of a long history is thousands):
    # only the few ranges being looked at are kept.
    return getattr(_svc, what)(repo_id, *args)


def per_history(svc: NarratorService, what: str, repo_id: int, *args):
    """``svc.<what>(repo_id, *args)`` computed once per recorded history and day, shared by every
    session: the answer of a function of the recorded commits alone (``chart_range``,
    ``change_filters``, ``releases``, ``activity``), asked again only when a narration records
    commits (the store's ``history_version``) or the day changes. The result is shared: read it,
    never change it."""
    if isinstance(svc, ScopedService):  # the cache is every session's: ask it only for a reader's own
        svc.require_readable(repo_id)
    cached = _charted if what == "activity" else _per_history
    return cached(svc, svc.settings.db_url, repo_id, svc.store.history_version(repo_id), today(), what, args)


def current_repo(svc: NarratorService) -> RepoView | None:
    """The repository chosen in the sidebar, or None when there is none."""
    chosen = st.session_state.get(REPO_KEY)
    repos = svc.repositories()
    for repo in repos:
        if repo.id == chosen:
            return repo
    return repos[0] if repos else None


def require_repo(svc: NarratorService) -> RepoView:
    """The chosen repository; stops the page with a hint when no repository was added yet."""
    repo = current_repo(svc)
    if repo is None:
        st.info("No repository yet. Add one in the sidebar: a folder on this computer or a repository address.")
        st.stop()
    return repo


def choose_repo(repo_id: int) -> None:
    """Button callback: make ``repo_id`` the repository every page shows (the sidebar's choice).

    A callback, because the sidebar's selectbox owns ``REPO_KEY`` once it is drawn in a run."""
    st.session_state[REPO_KEY] = repo_id


PERIOD_CHOICES = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "range": "Chosen dates"}
"""The period lengths a page offers; the named ones end today, or with ``PERIOD_KEY + "_commits"`` on
the latest commit's day (``periods.WITH_COMMITS``)."""
PERIOD_KEY = "app_period"
"""Session key of the period the digest pages share (Overview and Portfolio): changing it on one
page changes it on the other. Set once in the entry point; ``PERIOD_KEY + "_dates"`` holds chosen dates,
``PERIOD_KEY + "_commits"`` whether a named period ends on the latest commit's day."""


def shared_period():
    """The period the pages share (``PERIOD_KEY``), as ``period_picker`` returns it, read before the
    picker is drawn (a block above it on the page)."""
    choice = st.session_state.get(PERIOD_KEY, DIGEST_PERIOD) or DIGEST_PERIOD
    if choice == "range":
        picked = st.session_state.get(PERIOD_KEY + "_dates")
        return (picked[0], picked[1]) if picked is not None and len(picked) == 2 else DIGEST_PERIOD
    return choice + (WITH_COMMITS if st.session_state.get(PERIOD_KEY + "_commits") else "")


def _share(widget_key: str, shared_key: str) -> None:
    """Widget callback: copy a page's widget value to the key every page reads."""
    st.session_state[shared_key] = st.session_state[widget_key]


def _shared_widget(widget_key: str, shared_key: str, default) -> dict:
    """Give a page's widget the shared value before it is drawn, and the callback that shares a change.

    Each page has its own widget key because Streamlit forgets a widget's value once a page without
    it has run; the shared key is plain session state, which is kept.
    """
    st.session_state[widget_key] = st.session_state.get(shared_key, default)
    return dict(key=widget_key, on_change=_share, args=(widget_key, shared_key))


def period_picker(svc: NarratorService, repo_id: int | None, key: str):
    """A period choice (a name of ``periods.PERIOD_NAMES`` or a (from, to) date pair), shared by the digest views.

    The named periods end today; a toggle ends them on the latest commit's day instead (a quiet
    repository's last active days). ``repo_id`` bounds the chosen dates to that repository's
    history; None (the Portfolio) to all. Returns None while a date range is half picked.
    """
    choice = st.segmented_control("Period", list(PERIOD_CHOICES), format_func=PERIOD_CHOICES.get,
                                  **_shared_widget(key, PERIOD_KEY, DIGEST_PERIOD))
    if choice != "range":
        anchored = st.toggle("End on the latest commit", help="Count back from the day of the latest commit "
                             "(up to today) instead of from today, so a quiet repository shows its last active days.",
                             **_shared_widget(key + "_commits", PERIOD_KEY + "_commits", False))
        return (choice or DIGEST_PERIOD) + (WITH_COMMITS if anchored else "")
    ids = [repo_id] if repo_id is not None else [r.id for r in svc.repositories()]
    filters = [per_history(svc, "change_filters", i) for i in ids]
    firsts, lasts = [f["first"] for f in filters if f["first"]], [f["last"] for f in filters if f["last"]]
    if not firsts:
        return DIGEST_PERIOD
    first, last = max(min(firsts), FIRST_DAY), max(max(lasts), FIRST_DAY)
    picked = st.date_input("Between", min_value=FIRST_DAY, max_value=date.max,
                           **_shared_widget(key + "_dates", PERIOD_KEY + "_dates", (first, last)))
    return (picked[0], picked[1]) if len(picked) == 2 else None
