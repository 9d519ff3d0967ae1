"""Overview page: a repository's briefing, top to bottom in the order a manager asks.

Name and what it does, the status line, the opening sentences, risks, waiting to ship, what reached
users, what changed by impact; then the charts, what the software does and its parts, the report;
last, the figures and the Narrate control for the team running Code Narrator. Each block carries one
source label; each sentence's own source and the jargon in it are on hover.
"""

from __future__ import annotations

import streamlit as st

from dashboard import figures, shared, widgets, wording
from dashboard.widgets import show_narrative
from dashboard.wording import plain
from narrator.defaults import COMMITS, DIGEST_PERIOD
from narrator.facts import provenance
from narrator.facts.description import first_line
from narrator.service.core import NarratorService
from narrator.service.views import SHALLOW_NOTE

CHART = dict(on_select="rerun", selection_mode=("points", "box"), config={"displaylogo": False})
SELECT_HINT = "Click a bar or a point, or drag a box across several, to see just those changes."

service = shared.session_service()
repo = shared.require_repo(service)
overview = service.overview(repo.id, period=None)  # the digest follows the period the pages share
chosen = shared.shared_period()  # drawn as a picker further down; read here for the blocks above it
bounds = shared.per_history(service, "chart_range", repo.id)  # None: no change read yet (up to today)
brief = service.briefing(repo.id, chosen) if bounds is not None else None
digest = brief.digest if brief is not None else None

# --- Name, what it does, and the status line -----------------------------------------------------
st.title(plain(repo.name))
if brief is not None and brief.description is not None:
    st.markdown(plain(brief.description.text), help=f"Source: {provenance.label(brief.description.provenance)}.")
elif overview.summary is not None and overview.summary.text.strip():
    st.markdown(plain(first_line(overview.summary.text)), help=f"Source: {provenance.label(overview.summary.provenance)}.")
else:
    st.caption("Not described yet: the project has no package description or README.")
if brief is None:
    st.caption("No changes have been read yet.")
else:
    st.markdown(f"**{plain(brief.status.text)}**", help=wording.line_help(brief.status.text, provenance.label(brief.status.provenance)))
st.caption(plain(wording.refreshed(repo)) + " (when Code Narrator read it, not the project's activity).")

# --- The opening, then risks, waiting to ship, what reached users ---------------------------------
if brief is not None:
    with st.container(key="overview_opening"):
        st.caption(plain(f"Over {brief.period.label}:"))
        widgets.sentences(brief.opening)

period = shared.period_picker(service, repo.id, key="overview_period")

if brief is not None:
    with st.container(border=True, key="overview_status"):
        widgets.section(brief.risks, empty="None that git alone can show.")
        widgets.section(brief.waiting, empty="No release is recorded, so nothing can be said to wait for one.")
        widgets.section(brief.reached)
        if brief.delivery is not None:
            widgets.section(brief.delivery, small=True)

# --- What changed, by impact ---------------------------------------------------------------------
st.header("What changed, by impact")
if digest is None:
    st.caption("No changes have been read yet.")
else:
    st.caption(plain(digest.period.label))
    widgets.said_lines(digest.summary)
    widgets.section(brief.by_impact)
    for title, lines in (("May affect existing users", digest.affects), ("Security fixes", digest.security),
                         ("New for users", digest.features), ("Fixed for users", digest.fixes),
                         ("Behind the scenes", digest.internal)):
        if lines:
            st.subheader(title)
            widgets.said_lines(lines, reading_of=brief.reading_of, reading_provenance_of=brief.reading_provenance_of)
    columns = st.columns(3)
    for column, (name, value) in zip(columns, digest.counts.items()):
        column.metric(name.capitalize(), value)
    widgets.said_lines([digest.comparison])

# --- Charts --------------------------------------------------------------------------------------
if digest is not None:
    busy = service.busiest_areas(repo.id, digest.period.first_day, digest.period.last_day)
    if busy:
        st.header("The areas changed most")
        chart = figures.busiest_chart(busy, digest.period.name)
        event = st.plotly_chart(chart.figure, key="overview_busiest", **CHART)
        st.caption(chart.caption + " " + SELECT_HINT)
        widgets.chart_links(chart, event, lambda: widgets.commit_link(chart.every))
        for area in busy:
            role = plain(area.part.role) if area.part else "no longer in the code"
            st.markdown(f"**{plain(area.area)}** · {role} · {area.changes} change{'s' if area.changes != 1 else ''}")
            if area.part is not None and area.part.narrative is not None:
                show_narrative(area.part.narrative)

st.header("Activity over time")
if bounds is None:
    st.caption("No changes have been read yet.")
else:
    first, last = shared.per_history(service, "change_filters", repo.id)["first"], bounds[1]
    by_col, grain_col, dates_col = st.columns([2, 2, 3])
    by = by_col.segmented_control("By", ["category", "area"], default="category", key="overview_chart_by",
                                  format_func={"category": "Kind of change", "area": "Area"}.get) or "category"
    grain = grain_col.segmented_control("Each bar", ["week", "month"], default="week", key="overview_chart_grain",
                                        format_func=str.capitalize) or "week"
    # Keyed by repository: another repository has other dates.
    picked = dates_col.date_input("Between", value=bounds, min_value=first, max_value=last,
                                  key=f"overview_{repo.id}_chart_dates")
    start, end = (picked[0], picked[1]) if len(picked) == 2 else bounds
    chart = figures.activity_chart(shared.per_history(service, "activity", repo.id, by, grain, start, end),
                                  by, grain, start, end)
    event = st.plotly_chart(chart.figure, key="overview_activity", **CHART)
    st.caption(chart.caption + " " + SELECT_HINT)
    widgets.chart_links(chart, event, lambda: widgets.range_link(start, end, len(chart.every)))
    if repo.shallow:
        st.caption(SHALLOW_NOTE)

    st.header("Releases")
    releases = shared.per_history(service, "releases", repo.id)
    forecast = service.forecast(repo.id, releases)
    chart = figures.releases_chart(releases, forecast)
    if releases:
        event = st.plotly_chart(chart.figure, key="overview_releases", **CHART)
        st.caption(chart.caption + " " + SELECT_HINT)
        widgets.chart_links(chart, event, lambda: widgets.commit_link(chart.every))
    else:
        st.caption(chart.caption)

# --- What the software does, its parts -----------------------------------------------------------
st.header("What this software does")
if not overview.descriptions and overview.summary is None:
    st.caption("No description yet: the project has no package description or README, and nothing is narrated yet.")
for description in overview.descriptions:
    show_narrative(description)
if overview.summary is not None:
    show_narrative(overview.summary)

st.header("Its main parts")
if not overview.parts:
    st.caption("The parts are listed once the repository has been read.")
for part in overview.parts:
    files = f"{part.files} file{'s' if part.files != 1 else ''}"
    st.markdown(f"**{plain(part.area)}** · {plain(part.role)} · {files}")
    if part.narrative is not None or part.role == "source code":
        show_narrative(part.narrative, missing="Not described yet.")

st.header("Report to share")
st.caption("The overview, what changed in the period chosen above, charts, releases and every change of the period.")
widgets.report_download(service, repo.id, period or DIGEST_PERIOD, key=f"overview_report_{repo.id}")


# --- For the team running Code Narrator ----------------------------------------------------------
def narration_progress(svc: NarratorService, repo_id: int) -> None:
    """The latest narration job of this repository (run as a fragment that polls while it runs)."""
    job = svc.latest_job(repo_id)
    if job is None:
        narrated = svc.repository(repo_id).narrated_at
        st.caption(f"Last narrated {narrated:%d %b %Y %H:%M} UTC." if narrated else "This repository has not been narrated yet.")
        return
    if job.active:
        st.session_state["overview_watching"] = job.id
        st.progress(wording.progress_fraction(job), text=plain(wording.job_summary(job)))
        return
    if st.session_state.get("overview_watching") == job.id:
        # The job we were watching just ended: rerun the whole page so its narratives show.
        del st.session_state["overview_watching"]
        st.rerun()
    if job.status == "failed":
        st.error(plain(wording.job_summary(job) + " " + (job.error or job.message)))
    else:
        st.caption(plain(wording.job_summary(job)))


latest = service.latest_job(repo.id)
live = latest is not None and latest.active
# Open by itself while a narration runs or has failed, so its progress or its error is in sight.
with st.expander("Details for the team running Code Narrator", icon=":material/settings:",
                 expanded=live or (latest is not None and latest.status == "failed")):
    st.caption(plain(repo.source) + " · " + plain(wording.refreshed(repo)))
    labels = {"files": "Files read", "units": "Pieces of code", "commits": "Changes read", "narratives": "Narratives"}
    columns = st.columns(max(1, len(overview.counts)))
    for column, (name, value) in zip(columns, overview.counts.items()):
        column.metric(labels.get(name, name.replace("_", " ").capitalize()), value)
    left, right = st.columns([1, 3], vertical_alignment="center")
    if widgets.may_act(service):  # a viewer sees the progress, not the Narrate control
        with left:
            commits = st.number_input("Recent changes to read", min_value=1, max_value=1000, value=COMMITS, step=10,
                                      key="overview_commits")
            if st.button("Narrate", key="overview_narrate", type="primary",
                         help="Read the repository again and narrate what is new; finished narratives are reused."):
                error = widgets.guarded(lambda: service.start_narration(repo.id, commits=int(commits)),
                                        "Starting narration")
                if error:
                    st.error(plain(error))
    with right:
        # Poll every two seconds only while a job runs; when it ends the fragment reruns the page.
        st.fragment(narration_progress, run_every=2 if live else None)(service, repo.id)
