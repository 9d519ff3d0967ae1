"""What the dashboard pages share: the one service, the chosen repository, and safe text.

Pages read like a description of the UI; the small decisions behind them (how to escape text,
how to word a job's progress, how to lay out a chart) live here as plain functions so they are
tested without a browser. Everything a page shows comes from ``narrator.service``; nothing here
touches git, the model or the database.

Narratives and commit messages are untrusted text (a commit subject can say anything, and a
model repeats what it reads), so every such string goes through :func:`plain` before it reaches
``st.markdown`` or any label that Streamlit renders as Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime

import plotly.graph_objects as go
import streamlit as st

from narrator.errors import UserError, first_line
from narrator.provenance import Said
from narrator.service import JobView, NarrativeView, NarratorService, RepoView
from narrator.settings import Settings, load_settings
from narrator.text import markdown_text

log = logging.getLogger(__name__)

REPO_KEY = "app_repo_id"
"""Session-state key of the repository chosen in the sidebar (read by every page)."""

STALE_NOTE = "(out of date — will be redone)"

CATEGORIES: dict[str, tuple[str, str]] = {
    # category -> (label for readers, badge colour); the order is the chart's stacking order.
    "feature": ("New feature", "green"),
    "fix": ("Fix", "orange"),
    "security": ("Security fix", "red"),
    "release": ("Release", "primary"),
    "dependencies": ("Dependency update", "yellow"),
    "maintenance": ("Maintenance", "gray"),
    "docs": ("Documentation", "blue"),
    "tests": ("Tests", "violet"),
}
_CHART_COLOURS = {
    "feature": "#2e9e5b", "fix": "#e08a2c", "security": "#d6453d", "release": "#ff4b4b", "dependencies": "#c9b22e",
    "maintenance": "#8a8f98", "docs": "#3b7dd8", "tests": "#8e5cc9",
}


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


def when(moment: datetime | date | None) -> str:
    """A short human date ('27 Nov 2026'); an empty string for None."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y}"


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


def activity_figure(rows: Iterable[dict]) -> go.Figure:
    """A stacked bar chart of commits per week, one colour per category.

    ``rows`` are ``{"week": date, "category": str, "commits": int}`` as returned by
    ``NarratorService.weekly_activity``.
    """
    counts: dict[str, dict[date, int]] = {}
    weeks: set[date] = set()
    for row in rows:
        counts.setdefault(row["category"], {})[row["week"]] = row["commits"]
        weeks.add(row["week"])
    axis = sorted(weeks)
    order = [c for c in CATEGORIES if c in counts] + sorted(c for c in counts if c not in CATEGORIES)
    figure = go.Figure()
    for category in order:
        figure.add_trace(
            go.Bar(
                name=category_label(category),
                x=axis,
                y=[counts[category].get(week, 0) for week in axis],
                marker_color=_CHART_COLOURS.get(category),
            )
        )
    tallest = max((sum(counts[c].get(week, 0) for c in counts) for week in axis), default=0)
    figure.update_layout(
        barmode="stack",
        # Whole changes only: without this a week with 3 commits gets ticks at 0.5, 1.5, ...
        yaxis=dict(dtick=1 if tallest <= 10 else None, rangemode="tozero"),
        xaxis=dict(tickformat="%-d %b %Y"),
        xaxis_title="Week starting",
        yaxis_title="Changes",
        legend_title_text="Kind of change",
        margin=dict(l=10, r=10, t=10, b=10),
        height=320,
    )
    return figure


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
    return _service_for(repr(settings), settings)


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
    """A sentence with its source label (``narrator.provenance.Said``), as literal text."""
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


PERIOD_CHOICES = {"7d": "Last 7 days with commits", "30d": "Last 30 days", "90d": "Last 90 days",
                  "range": "Chosen dates"}


def period_picker(svc: NarratorService, repo_id: int, key: str):
    """A period choice ('7d', '30d', '90d' or a (from, to) date pair), shared by the digest views."""
    choice = st.segmented_control("Period", list(PERIOD_CHOICES), format_func=PERIOD_CHOICES.get, default="7d",
                                  key=key)
    if choice != "range":
        return choice or "7d"
    bounds = svc.change_filters(repo_id)
    if bounds["first"] is None:
        return "7d"
    picked = st.date_input("Between", value=(bounds["first"], bounds["last"]), min_value=bounds["first"],
                           max_value=bounds["last"], key=key + "_dates")
    return (picked[0], picked[1]) if len(picked) == 2 else None


def commit_link(shas: Iterable[str]) -> None:
    """A link to the Changes page showing exactly these commits."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return
    label = "the change" if len(shas) == 1 else f"the {len(shas)} changes"
    st.page_link("app_pages/changes.py", label=f"See {label}", icon=":material/arrow_forward:",
                 query_params={"commits": ",".join(s[:12] for s in shas[:200])})


def digest_line(line) -> None:
    """One digest line (``narrator.digest.Line``): its text, its source, and a link to its commits."""
    st.markdown(plain(line.text))
    st.caption(plain(source_caption(line.source, "by the model" in line.source)))
    commit_link(line.shas)
