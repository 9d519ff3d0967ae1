"""The Streamlit pieces the pages draw: a narrative or sentence with its source, briefing sections and
digest lines, links to the Changes page, narrating one item on demand and watching its job, a
button's one-line error, and the report download. Their wording is ``dashboard.wording``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date

import streamlit as st

from dashboard.wording import (
    STALE_NOTE,
    block_label,
    job_summary,
    line_help,
    link_label,
    narrative_notes,
    plain,
    reading_caption,
    reading_help,
    source_caption,
    when,
)
from db.errors import UserError, first_line
from narrator.facts import provenance
from narrator.facts.provenance import Said
from narrator.service.core import NarratorService
from narrator.service.views import NarrativeView


log = logging.getLogger(__name__)


def show_narrative(narrative: NarrativeView | None, missing: str = "Not narrated yet.") -> None:
    """A narrative as literal text with its source label, and a note when it is out of date."""
    if narrative is None:
        st.caption(missing)
        return
    if narrative.text.strip():
        st.markdown(plain(narrative.text))
        st.caption(plain(source_caption(provenance.label(narrative.provenance), narrative.by_model)))
    for note in narrative_notes(narrative):
        st.caption(note)


def show_said(item: Said, help: str | None = None, bold: bool = False) -> None:
    """A sentence with its source label (``narrator.facts.provenance.Said``), as literal text."""
    text = plain(item.text)
    st.markdown(f"**{text}**" if bold and text else text, help=help)
    caption = source_caption(provenance.label(item.provenance), item.by_model)
    st.caption(plain(caption) + (f" {STALE_NOTE}" if item.stale else ""))


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


def may_act(svc: NarratorService) -> bool:
    """Whether the session may use admin controls (narrate, add, remove): a viewer is shown none (the
    service's guard would refuse them anyway). A service not scoped to anyone is the operator's."""
    who = getattr(svc, "who", None)
    return who is None or who.is_admin


def narrate_control(svc: NarratorService, pending_key: str, kind: str, target: str, repo_id: int,
                    narrative: NarrativeView | None, key: str, help: str) -> None:
    """What an item offers when its narrative is missing or out of date: a Narrate (again) button (to an
    admin), "Being narrated…" while its on-demand job runs, and the error of a failed attempt."""
    if is_pending(pending_key, target):
        st.caption("Being narrated…")
    elif (narrative is None or narrative.stale) and may_act(svc):
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


LINK_LIMIT = 200
"""At most this many commits go into a ``?commits=`` link (the address stays a few kB)."""


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


def chart_links(chart, event, default: Callable[[], None]) -> None:
    """Under a chart: a link to the selected points' commits, else the chart's ``default`` link."""
    chosen = chart.selected(getattr(event, "selection", None) if event is not None else None)
    if chosen:
        st.caption(f"{len(chosen)} change{'s' if len(chosen) != 1 else ''} selected on the chart.")
        commit_link(chosen)
    else:
        default()


def said_lines(lines: Iterable, key: str | None = None, reading_of: Callable | None = None,
               reading_provenance_of: Callable | None = None) -> None:
    """A block of digest lines (``narrator.insights.digest.Line``): each sentence with its source and jargon
    on hover, its plain reading under a listed headline (``Briefing.reading_of``) and a link to its
    commits, then one source label for the whole block."""
    lines = list(lines)
    for line in lines:
        st.markdown(plain(line.text), help=line_help(line.text, provenance.label(line.provenance)))
        if reading_of is not None and reading_of(line.shas):
            st.caption(plain(reading_caption(reading_of(line.shas))),
                       help=reading_help(reading_of(line.shas), reading_provenance_of(line.shas)))
        commit_link(line.shas)
    label = block_label(provenance.label(line.provenance) for line in lines)
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
        st.markdown(f"{plain(line.lead)} {text}" if line.lead else text, help=line_help(line.text, provenance.label(line.provenance)))
        if getattr(line, "reading", ""):  # a listed change's plain reading, from git facts
            st.caption(plain(reading_caption(line.reading)), help=reading_help(line.reading, line.reading_provenance))
        if link and not (line.lead and len(line.shas) == 1 and not line.counts) and tuple(line.shas) != before:
            commit_link(line.shas)
        before = tuple(line.shas)
    label = block_label(provenance.label(line.provenance) for line in said)
    if label:
        st.caption(plain(label))


def section(part, empty: str | None = None, small: bool = False) -> None:
    """A briefing section (``narrator.insights.briefing.Section``): its heading with its number, its sentences
    under one source label, and what a reader opens on demand ('How sure is this')."""
    (st.markdown(f"**{plain(part.heading)}**") if small else st.subheader(plain(part.heading), anchor=False))
    if not part.lines and empty:
        st.markdown(plain(empty))
        st.caption(plain(source_caption(provenance.label(part.provenance), False)))
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
