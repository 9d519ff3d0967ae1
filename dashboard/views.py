"""What the dashboard pages share: the one service, the chosen repository, and safe text.

Pages read like a description of the UI; the small decisions behind them (how to escape text,
how to word a job's progress, how to lay out a chart) live here as plain functions so they are
tested without a browser. Everything a page shows comes from ``narrator.service.core``; nothing here
touches git, the model or the database.

Narratives and commit messages are untrusted text (a commit subject can say anything, and a
model repeats what it reads), so every such string goes through :func:`plain` before it reaches
``st.markdown`` or any label that Streamlit renders as Markdown.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime

import streamlit as st

from narrator.defaults import DIGEST_PERIOD
from narrator.errors import UserError, first_line
from narrator.facts import glossary
from narrator.facts.provenance import Said
from narrator.facts.reading import GIT_FACTS
from narrator.facts.reading import LABEL as READING_LABEL
from narrator.facts.reading import source_of as reading_source
from narrator.insights.portfolio import RISK_NAMES, trend_words
from narrator.insights.periods import FIRST_DAY, WITH_COMMITS, today
from narrator.insights.status import Status
from narrator.render.charts import COLOURS as _CHART_COLOURS
from narrator.render.charts import LABELS as CATEGORY_LABELS
from narrator.service.core import JobView, NarrativeView, NarratorService, PortfolioRow, RepoView
from narrator.settings import Settings, load_settings
from narrator.text import markdown_text

log = logging.getLogger(__name__)

REPO_KEY = "app_repo_id"
"""Session-state key of the repository chosen in the sidebar (read by every page)."""

STALE_NOTE = "(out of date — will be redone)"

_BADGES = {"feature": "green", "fix": "orange", "security": "red", "release": "primary", "dependencies": "yellow",
           "maintenance": "gray", "docs": "blue", "tests": "violet"}
CATEGORIES: dict[str, tuple[str, str]] = {c: (CATEGORY_LABELS[c], _BADGES[c]) for c in CATEGORY_LABELS}
"""category -> (label for readers, badge colour); the order is the chart's stacking order."""


def plain(text: str | None) -> str:
    """Markdown that shows ``text`` exactly as written, with no markup, links, HTML or control
    characters (``narrator.text.markdown_text``); line breaks are kept as hard breaks."""
    return markdown_text(text, keep_newlines=True)


def category_label(category: str) -> str:
    """A reader's name for a commit category ('fix' -> 'Fix'); unknown ones are shown as given."""
    return CATEGORIES.get(category, (category.capitalize(), "gray"))[0]


def category_colour(category: str) -> str:
    """The badge colour of a commit category."""
    return CATEGORIES.get(category, ("", "gray"))[1]


def chart_colour(category: str) -> str | None:
    """The chart colour of a commit category (None: Plotly's own)."""
    return _CHART_COLOURS.get(category)


def when(moment: datetime | date | None) -> str:
    """A short human date ('27 Nov 2026'); an empty string for None."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y}"


def refreshed(repo: RepoView) -> str:
    """When Code Narrator last read the repository, never a sign of the project's own activity:
    'Code Narrator last looked on 2 Dec 2026, 14:05 UTC'."""
    if repo.narrated_at is None:
        return "Code Narrator has not read it yet"
    return f"Code Narrator last looked on {when(repo.narrated_at)}, {repo.narrated_at:%H:%M} UTC"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def portfolio_line(row: PortfolioRow) -> str:
    """A repository's period in one plain line: '12 changes, mostly in src; released 2.7.1; 1 security fix.'"""
    parts = [_plural(row.changes, "change") + (f", most in {row.busiest_area}" if row.busiest_area else "")]
    if row.releases:
        parts.append("released " + ", ".join(row.releases))
    if row.security:
        parts.append(_plural(row.security, "security fix", "security fixes"))
    return "; ".join(parts) + "."


def delivery_trend(now: Status | None) -> str:
    """The delivery figures against the period before, in a few words (``narrator.insights.portfolio.trend_words``):
    'releases up from 1 to 3; changes wait longer for a release (12 days, was 5)'; empty without both
    periods' figures."""
    return trend_words(now.delivery, now.before) if now is not None else ""


def portfolio_table(rows: Iterable[PortfolioRow]) -> list[dict]:
    """The Portfolio table: one row per repository, in reader's column names (plain values, no markup).

    Every figure is read off the repository's briefing over the row's period
    (``narrator.insights.portfolio.figures``): the numbers its Overview shows for the same days."""
    table = []
    for row in rows:
        f = row.figures
        delivery = f.delivery
        table.append({
            "Repository": row.repo.name,
            "What it does": row.description or "",
            "Status": f.status,
            "Last change": f.last_change,
            "How long ago": f.since,
            "Changes": row.changes,
            "Activity": list(row.sparkline),
            "Waiting to ship": f.waiting.n if f.waiting is not None else None,
            "Waiting: may affect users": f.waiting_affects.n if f.waiting is not None else None,
            "Waiting: security fixes": f.waiting_security.n if f.waiting is not None else None,
            "Number of risks": len(f.risks),
            "Risks": "; ".join(RISK_NAMES.get(kind, kind) for kind in f.risks),
            "Releases": ", ".join(row.releases),
            "Releases per 30 days": round(delivery.per_30_days, 1) if delivery else None,
            "Lead time (days)": round(delivery.lead_days, 1) if delivery and delivery.lead_days is not None else None,
            "Hotfix rate": delivery.hotfix_rate if delivery else None,
            "Delivery trend": f.trend,
            "Security fixes": row.security,
            "Most active area": row.busiest_area or "",
            "Last refresh": "failed: " + row.last_error if row.last_error else "",
            "Code Narrator looked": row.repo.narrated_at,
        })
    return table


def shared_period():
    """The period the pages share (``PERIOD_KEY``), as ``period_picker`` returns it, read before the
    picker is drawn (a block above it on the page)."""
    choice = st.session_state.get(PERIOD_KEY, DIGEST_PERIOD) or DIGEST_PERIOD
    if choice == "range":
        picked = st.session_state.get(PERIOD_KEY + "_dates")
        return (picked[0], picked[1]) if picked is not None and len(picked) == 2 else DIGEST_PERIOD
    return choice + (WITH_COMMITS if st.session_state.get(PERIOD_KEY + "_commits") else "")


def progress_fraction(job: JobView) -> float:
    """How far a job is, between 0 and 1 (0 while its total is still unknown)."""
    if job.total <= 0:
        return 0.0
    return min(1.0, max(0.0, job.done / job.total))


def job_summary(job: JobView) -> str:
    """One line about a narration job, as a reader would say it."""
    steps = f"{job.done} of {job.total} steps" if job.total else "getting ready"
    if job.status in ("queued", "running"):
        verb = "Waiting to start" if job.status == "queued" else "Narrating"
        return f"{verb}: {steps}" + (f" — {job.message}" if job.message else "")
    if job.status == "done":
        return f"Narration finished {when(job.updated_at)}: {steps}."
    if job.status == "interrupted":
        return f"Narration was interrupted at {steps}; press Narrate to go on where it stopped."
    return "Narration failed" + (f" after {job.done} of {job.total} steps." if job.total else ".")


def source_caption(label: str, by_model: bool) -> str:
    """The small provenance label under a sentence; model text is marked as such."""
    return f"\u2139\ufe0f {label}" if by_model else f"\u2714 {label}"


def reading_caption(text: str) -> str:
    """A change's plain reading (``narrator.facts.reading``) as the labelled second line under its headline."""
    return f"{READING_LABEL}: {text} (source: {GIT_FACTS})"


def glossary_help(terms: Iterable[tuple[str, str]]) -> str | None:
    """Tooltip text explaining the jargon in a headline, or None when there is none."""
    lines = [f"{term}: {explanation}" for term, explanation in terms]
    return "\n\n".join(lines) or None


DROPPED = {
    "faithfulness": "named things its input does not show",
    "contradicts the subject": "contradicted what the developer wrote",
    "adds nothing to the subject": "added nothing the developer had not written",
    "contradicts git": "claimed something the change's files do not show",
    "reads like a commit subject": "read like a commit subject, not an explanation",
}


def narrative_notes(narrative: NarrativeView) -> list[str]:
    """Small notes under a narrative: out of date, or edited or dropped by the checks."""
    notes = []
    flags = narrative.flags or {}
    reason = flags.get("dropped")
    dropped = int(flags.get("dropped_sentences") or 0)
    if reason:
        notes.append(f"The model's text was left out: it {DROPPED.get(reason, reason)}.")
    elif dropped and not narrative.text.strip():
        notes.append("The model's explanation named things not found in the code, so it was left out.")
    elif dropped:
        notes.append(f"({dropped} sentence{'s' if dropped != 1 else ''} left out: "
                     f"{'they' if dropped != 1 else 'it'} named things not found in the code)")
    if narrative.stale:
        notes.append(STALE_NOTE)
    return notes


def evidence_rows(files: Iterable[dict]) -> list[dict]:
    """The Evidence table of a commit: one row per changed file, in reader's column names."""
    return [
        {
            "File": f.get("path", ""),
            "Change": f.get("change", ""),
            "Lines added": f.get("added", 0),
            "Lines removed": f.get("removed", 0),
        }
        for f in files
    ]


# ---- Streamlit pieces shared by the pages -------------------------------------------------


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


def show_narrative(narrative: NarrativeView | None, missing: str = "Not narrated yet.") -> None:
    """A narrative as literal text with its source label, and a note when it is out of date."""
    if narrative is None:
        st.caption(missing)
        return
    if narrative.text.strip():
        st.markdown(plain(narrative.text))
        st.caption(plain(source_caption(narrative.label, narrative.source == "model")))
    for note in narrative_notes(narrative):
        st.caption(note)


def show_said(item: Said, help: str | None = None, bold: bool = False) -> None:
    """A sentence with its source label (``narrator.facts.provenance.Said``), as literal text."""
    text = plain(item.text)
    st.markdown(f"**{text}**" if bold and text else text, help=help)
    st.caption(plain(source_caption(item.label, item.by_model)) + (f" {STALE_NOTE}" if item.stale else ""))


def start_on_demand(svc: NarratorService, pending_key: str, kind: str, target: str, repo_id: int) -> None:
    """Ask the service to narrate one item in the background and remember its job to watch."""
    try:
        job = svc.narrate_on_demand(repo_id, kind, target)
    except UserError as error:
        st.session_state.setdefault(pending_key + "_failed", {})[target] = str(error)
        return
    st.session_state.setdefault(pending_key, {})[target] = job.id
    st.session_state.get(pending_key + "_failed", {}).pop(target, None)


def is_pending(pending_key: str, target: str) -> bool:
    """Whether an on-demand narration of ``target`` started from this page is still running."""
    return target in st.session_state.get(pending_key, {})


def failure(pending_key: str, target: str) -> str | None:
    """The error of the last on-demand narration of ``target``, if it failed."""
    return st.session_state.get(pending_key + "_failed", {}).get(target)


def narrate_control(svc: NarratorService, pending_key: str, kind: str, target: str, repo_id: int,
                    narrative: NarrativeView | None, key: str, help: str) -> None:
    """What an item offers when its narrative is missing or out of date: a Narrate (again) button,
    "Being narrated…" while its on-demand job runs, and the error of a failed attempt."""
    if is_pending(pending_key, target):
        st.caption("Being narrated…")
    elif narrative is None or narrative.stale:
        if st.button("Narrate" if narrative is None else "Narrate again", key=key, help=help):
            start_on_demand(svc, pending_key, kind, target, repo_id)
            st.rerun()
    problem = failure(pending_key, target)
    if problem:
        st.error(plain(problem))


def watch_jobs(svc: NarratorService, pending_key: str) -> None:
    """While on-demand jobs started from this page run, poll them every two seconds.

    ``st.session_state[pending_key]`` maps target -> job id. When any job ends the whole page
    reruns so its new narrative shows; failures are kept under ``pending_key + "_failed"`` so the
    page can show them next to their item. With nothing pending nothing polls.
    """
    if st.session_state.get(pending_key):
        _poll_jobs(svc, pending_key)


@st.fragment(run_every=2)
def _poll_jobs(svc: NarratorService, pending_key: str) -> None:
    pending: dict[str, int] = st.session_state.get(pending_key, {})
    finished = []
    for target, job_id in pending.items():
        job = svc.job(job_id)
        if not job.active:
            finished.append(target)
            if job.status == "failed":
                st.session_state.setdefault(pending_key + "_failed", {})[target] = job.error or job_summary(job)
    for target in finished:
        pending.pop(target)
    if finished:
        st.rerun()  # from a fragment this reruns the whole page, so the new narrative shows
    st.caption(f"Narrating {len(pending)} item{'s' if len(pending) != 1 else ''} in the background…")


def guarded(action: Callable[[], object], what: str) -> str | None:
    """Run a service call for a button; return a one-line error to show instead of a traceback."""
    try:
        action()
    except UserError as error:
        return str(error)
    except Exception as error:  # a bug, but the reader still gets one line; the log keeps the trace
        log.exception("%s failed", what)
        return f"{what} failed: {first_line(error, with_type=True)}"
    return None


PERIOD_CHOICES = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "range": "Chosen dates"}
"""The period lengths a page offers; the named ones end today, or with ``PERIOD_KEY + "_commits"`` on
the latest commit's day (``periods.WITH_COMMITS``)."""
PERIOD_KEY = "app_period"
"""Session key of the period the digest pages share (Overview and Portfolio): changing it on one
page changes it on the other. Set once in the entry point; ``PERIOD_KEY + "_dates"`` holds chosen dates,
``PERIOD_KEY + "_commits"`` whether a named period ends on the latest commit's day."""
LINK_LIMIT = 200
"""At most this many commits go into a ``?commits=`` link (the address stays a few kB)."""


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


def choose_repo(repo_id: int) -> None:
    """Button callback: make ``repo_id`` the repository every page shows (the sidebar's choice).

    A callback, because the sidebar's selectbox owns ``REPO_KEY`` once it is drawn in a run."""
    st.session_state[REPO_KEY] = repo_id


def link_label(count: int, linked: int) -> str:
    """'See the change', 'See the 12 changes', 'See 200 of the 350 changes' (a capped link)."""
    if linked < count:
        return f"See {linked} of the {count} changes"
    return "See the change" if count == 1 else f"See the {count} changes"


def commit_link(shas: Iterable[str]) -> None:
    """A link to the Changes page showing exactly these commits (the first ``LINK_LIMIT``)."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return
    st.page_link("app_pages/changes.py", label=link_label(len(shas), min(len(shas), LINK_LIMIT)),
                 icon=":material/arrow_forward:", query_params={"commits": ",".join(s[:12] for s in shas[:LINK_LIMIT])})


def range_link(start: date, end: date, count: int) -> None:
    """A link to the Changes page showing every change from ``start`` to ``end`` (a chart's range)."""
    if count:
        st.page_link("app_pages/changes.py", label=link_label(count, count) + f" from {when(start)} to {when(end)}",
                     icon=":material/arrow_forward:", query_params={"since": start.isoformat(), "until": end.isoformat()})


def linked_range(params: Mapping[str, str]) -> tuple[date, date] | None:
    """The ``?since=…&until=…`` days a chart linked to the Changes page with; None when absent or bad."""
    try:
        start, end = date.fromisoformat(params.get("since", "")), date.fromisoformat(params.get("until", ""))
    except ValueError:
        return None
    return (start, end) if start <= end else None


def chart_links(chart, event, default: Callable[[], None]) -> None:
    """Under a chart: a link to the selected points' commits, else the chart's ``default`` link."""
    chosen = chart.selected(getattr(event, "selection", None) if event is not None else None)
    if chosen:
        st.caption(f"{len(chosen)} change{'s' if len(chosen) != 1 else ''} selected on the chart.")
        commit_link(chosen)
    else:
        default()


def digest_line(line) -> None:
    """One digest line (``narrator.insights.digest.Line``): its text, its source, and a link to its commits."""
    st.markdown(plain(line.text))
    st.caption(plain(source_caption(line.source, "by the model" in line.source)))
    commit_link(line.shas)


def line_help(text: str, source: str) -> str:
    """A sentence's tooltip: where it comes from, then the jargon in it explained (``narrator.facts.glossary``)."""
    terms = glossary_help(glossary.terms_in(text))
    if source == GIT_FACTS:  # a plain reading whose kind of change the model judged says so
        source = reading_source(text)
    return f"Source: {source}." + (f"\n\n{terms}" if terms else "")


def block_label(sources: Iterable[str]) -> str | None:
    """The one source label under a block of sentences: 'git facts', "git facts and developer's
    message", model text marked as such; None for an empty block."""
    named = list(dict.fromkeys(s for s in sources if s))
    if not named:
        return None
    words = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return source_caption(words, any("by the model" in s for s in named))


def said_lines(lines: Iterable, key: str | None = None, reading_of: Callable | None = None) -> None:
    """A block of digest lines (``narrator.insights.digest.Line``): each sentence with its source and jargon
    on hover, its plain reading under a listed headline (``Briefing.reading_of``) and a link to its
    commits, then one source label for the whole block."""
    lines = list(lines)
    for line in lines:
        st.markdown(plain(line.text), help=line_help(line.text, line.source))
        if reading_of is not None and reading_of(line.shas):
            st.caption(plain(reading_caption(reading_of(line.shas))), help=line_help(reading_of(line.shas), GIT_FACTS))
        commit_link(line.shas)
    label = block_label(line.source for line in lines)
    if label:
        st.caption(plain(label))


def sentences(said: Iterable, link: bool = True) -> None:
    """A block of briefing sentences (``narrator.insights.briefing.Sentence``): each with its own source and
    the jargon in it on hover, and a link to the changes it stands on (a listed change, already one
    line of a linked whole, gets none, nor a line standing on the same changes as the line before:
    the delivery figures of one set of releases); then one source label for the whole block."""
    said = list(said)
    before: tuple[str, ...] = ()
    for line in said:
        text = plain(line.text) + (f" {STALE_NOTE}" if line.stale else "")
        st.markdown(f"{plain(line.lead)} {text}" if line.lead else text, help=line_help(line.text, line.source))
        if getattr(line, "reading", ""):  # a listed change's plain reading, from git facts
            st.caption(plain(reading_caption(line.reading)), help=line_help(line.reading, GIT_FACTS))
        if link and not (line.lead and len(line.shas) == 1 and not line.counts) and tuple(line.shas) != before:
            commit_link(line.shas)
        before = tuple(line.shas)
    label = block_label(line.source for line in said)
    if label:
        st.caption(plain(label))


def section(part, empty: str | None = None, small: bool = False) -> None:
    """A briefing section (``narrator.insights.briefing.Section``): its heading with its number, its sentences
    under one source label, and what a reader opens on demand ('How sure is this')."""
    (st.markdown(f"**{plain(part.heading)}**") if small else st.subheader(plain(part.heading), anchor=False))
    if not part.lines and empty:
        st.markdown(plain(empty))
        st.caption(plain(source_caption(part.source, False)))
    sentences(part.lines)
    if part.detail:
        with st.expander("How sure is this"):
            for line in part.detail:
                st.markdown(plain(line.text.removeprefix("How sure is this: ")))


REPORT_FORMATS = {"html": "Web page (HTML)", "pdf": "PDF", "md": "Markdown"}
"""The report formats a page offers, in the order shown."""


@st.cache_data(show_spinner=False, max_entries=32)
def _report_bytes(_svc: NarratorService, db_url: str, repo_ids: tuple[int, ...], period, fmt: str,
                  narrated: tuple[str, ...], day: date) -> bytes:
    # Keyed by the cache, the repositories, the period, the format, when each was last narrated and
    # the day (the report says when it was made): a new narration or a new day makes a new report.
    from narrator.render import exports as reports

    return reports.build(_svc, repo_ids, period, fmt)


def report_download(svc: NarratorService, repo_ids: int | Iterable[int], period, key: str,
                    name: str | None = None) -> None:
    """A format choice and a download button for the report of ``repo_ids`` over ``period``.

    The report is built only when the button is pressed (Streamlit's deferred download), so the
    page never waits for it, and cached per repository, period, format and narration.
    """
    from narrator.render import renderers

    ids = (repo_ids,) if isinstance(repo_ids, int) else tuple(repo_ids)
    repos = [r for r in map(svc.repository, ids) if r.narrated_at is not None]  # the others have nothing yet
    if not repos:
        st.caption("A report can be downloaded once the repository has been narrated.")
        return
    ids = tuple(r.id for r in repos)
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    fmt = left.selectbox("Report format", list(REPORT_FORMATS), format_func=REPORT_FORMATS.get, key=key + "_format")
    narrated = tuple(str(r.narrated_at) for r in repos)
    right.download_button(
        "Download report", key=key, icon=":material/download:", on_click="ignore",
        data=lambda: _report_bytes(svc, svc.settings.db_url, ids, period, fmt, narrated, date.today()),
        file_name=renderers.file_name(name or (repos[0].name if len(repos) == 1 else "portfolio"), fmt),
        mime=renderers.FORMATS[fmt].mime,
        help="What the software does, what changed in the period, charts, releases and every change, "
             "each sentence with its source.")
