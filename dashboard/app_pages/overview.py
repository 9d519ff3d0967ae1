"""Overview page: what the software does, its main parts, what changed lately, and narration."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, views
from dashboard.views import plain, show_narrative
from narrator import forecast as forecasting
from narrator.digest import GIT_FACTS as FACTS_LABEL
from narrator.service import SHALLOW_NOTE, NarratorService

CHART = dict(on_select="rerun", selection_mode=("points", "box"), config={"displaylogo": False})
SELECT_HINT = "Click a bar or a point, or drag a box across several, to see just those changes."

service = views.service()
repo = views.require_repo(service)
overview = service.overview(repo.id, period=None)  # the digest follows the period picked below

st.title(plain(repo.name))
st.caption(plain(repo.source) + " · " + views.refreshed(repo))

# As of today: the status line, then release status, waiting to ship and risks (narrator.status),
# over the period the pages share (picked further down).
now = service.status(repo.id, views.shared_period())
st.markdown(f"**{plain(now.activity.text)}**")
with st.container(border=True, key="overview_status"):
    st.markdown(plain(now.release.text))
    if now.release.next:
        st.markdown(plain(" ".join(now.release.next)))
    if now.release.how_sure:
        with st.expander("How sure is this"):
            for sentence in now.release.how_sure:
                st.markdown(plain(sentence))
    if now.release.last is not None:
        st.markdown(f"**Waiting to ship: {len(now.release.waiting)}.** {plain(now.release.waiting_text)}")
        views.commit_link(now.release.waiting)
    st.markdown("**Risks, from git alone**" + ("" if now.risks else ": none that git alone can show."))
    for risk in now.risks:
        st.markdown(f"- {plain(risk.text)}")
        views.commit_link(risk.shas)
    if now.delivery is not None:
        st.caption(plain(f"Delivery, {now.delivery.period.label}: " + " ".join(now.trend)))
    st.caption(plain(views.source_caption(FACTS_LABEL, False)))

labels = {"files": "Files read", "units": "Pieces of code", "commits": "Changes read", "narratives": "Narratives"}
columns = st.columns(max(1, len(overview.counts)))
for column, (name, value) in zip(columns, overview.counts.items()):
    column.metric(labels.get(name, name.replace("_", " ").capitalize()), value)


def narration_progress(svc: NarratorService, repo_id: int) -> None:
    """The latest narration job of this repository (run as a fragment that polls while it runs)."""
    job = svc.latest_job(repo_id)
    if job is None:
        narrated = svc.repository(repo_id).narrated_at
        st.caption(f"Last narrated {narrated:%d %b %Y %H:%M} UTC." if narrated else "This repository has not been narrated yet.")
        return
    if job.active:
        st.session_state["overview_watching"] = job.id
        st.progress(views.progress_fraction(job), text=plain(views.job_summary(job)))
        return
    if st.session_state.get("overview_watching") == job.id:
        # The job we were watching just ended: rerun the whole page so its narratives show.
        del st.session_state["overview_watching"]
        st.rerun()
    if job.status == "failed":
        st.error(plain(views.job_summary(job) + " " + (job.error or job.message)))
    else:
        st.caption(plain(views.job_summary(job)))


with st.container(border=True):
    left, right = st.columns([1, 3], vertical_alignment="center")
    with left:
        commits = st.number_input("Recent changes to read", min_value=1, max_value=1000, value=30, step=10,
                                  key="overview_commits")
        if st.button("Narrate", key="overview_narrate", type="primary",
                     help="Read the repository again and narrate what is new; finished narratives are reused."):
            error = views.guarded(lambda: service.start_narration(repo.id, commits=int(commits)), "Starting narration")
            if error:
                st.error(plain(error))
    with right:
        latest = service.latest_job(repo.id)
        # Poll every two seconds only while a job runs; when it ends the fragment reruns the page.
        live = latest is not None and latest.active
        st.fragment(narration_progress, run_every=2 if live else None)(service, repo.id)

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

st.header("What changed lately")
period = views.period_picker(service, repo.id, key="overview_period")
digest = service.digest(repo.id, period or "7d")
if digest is None:
    st.caption("No changes have been read yet.")
else:
    st.caption(plain(digest.period.label))
    for line in digest.summary:
        views.digest_line(line)
    columns = st.columns(3)
    for column, (name, value) in zip(columns, digest.counts.items()):
        column.metric(name.capitalize(), value)
    views.digest_line(digest.comparison)
    if digest.releases:
        st.subheader("Releases")
        for release in digest.releases:
            st.markdown(f"**{plain(release.version)}** · {views.when(release.date)}")
            for note in release.notes:
                st.markdown(f"- {plain(note)}")
            if release.notes:
                st.caption(plain(views.source_caption("release notes", False)))
            else:
                st.caption("This release added no notes of its own: see the project's changelog or release page.")
            views.commit_link([release.sha])
    for title, lines in (("By impact", digest.by_impact), ("May affect existing users", digest.affects),
                         ("Security fixes", digest.security), ("New for users", digest.features),
                         ("Fixed for users", digest.fixes), ("Behind the scenes", digest.internal)):
        if lines:
            st.subheader(title)
            for number, line in enumerate(lines):
                views.digest_line(line)
    busy = service.busiest_areas(repo.id, digest.period.first_day, digest.period.last_day)
    if busy:
        st.subheader("The areas changed most")
        chart = charts.busiest_chart(busy, digest.period.name)
        event = st.plotly_chart(chart.figure, key="overview_busiest", **CHART)
        st.caption(chart.caption + " " + SELECT_HINT)
        views.chart_links(chart, event, lambda: views.commit_link(chart.every))
        for area in busy:
            role = plain(area.part.role) if area.part else "no longer in the code"
            st.markdown(f"**{plain(area.area)}** · {role} · {area.changes} change{'s' if area.changes != 1 else ''}")
            if area.part is not None and area.part.narrative is not None:
                show_narrative(area.part.narrative)

st.header("Activity over time")
bounds = service.chart_range(repo.id)
if bounds is None:
    st.caption("No changes have been read yet.")
else:
    first, last = service.change_filters(repo.id)["first"], bounds[1]
    by_col, grain_col, dates_col = st.columns([2, 2, 3])
    by = by_col.segmented_control("By", ["category", "area"], default="category", key="overview_chart_by",
                                  format_func={"category": "Kind of change", "area": "Area"}.get) or "category"
    grain = grain_col.segmented_control("Each bar", ["week", "month"], default="week", key="overview_chart_grain",
                                        format_func=str.capitalize) or "week"
    # Keyed by repository: another repository has other dates.
    picked = dates_col.date_input("Between", value=bounds, min_value=first, max_value=last,
                                  key=f"overview_{repo.id}_chart_dates")
    start, end = (picked[0], picked[1]) if len(picked) == 2 else bounds
    chart = charts.activity_chart(service.activity(repo.id, by, grain, start, end), by, grain, start, end)
    event = st.plotly_chart(chart.figure, key="overview_activity", **CHART)
    st.caption(chart.caption + " " + SELECT_HINT)
    views.chart_links(chart, event, lambda: views.range_link(start, end, len(chart.every)))
    if repo.shallow:
        st.caption(SHALLOW_NOTE)

    st.header("Releases")
    releases = service.releases(repo.id)
    forecast = service.forecast(repo.id)
    chart = charts.releases_chart(releases, forecast)
    if releases:
        event = st.plotly_chart(chart.figure, key="overview_releases", **CHART)
        st.caption(chart.caption + " " + SELECT_HINT)
        views.chart_links(chart, event, lambda: views.commit_link(chart.every))
    else:
        st.caption(chart.caption)
    st.subheader("When the next release is likely")
    for sentence in forecasting.next_release(forecast):
        st.markdown(plain(sentence))
    if forecasting.how_sure(forecast):
        with st.expander("How sure is this"):
            for sentence in forecasting.how_sure(forecast):
                st.markdown(plain(sentence))
    st.caption(plain(views.source_caption(f"{FACTS_LABEL}: an estimate from the dates of past releases", False)))

st.header("Report to share")
st.caption("The overview, what changed in the period chosen above, charts, releases and every change of the period.")
views.report_download(service, repo.id, period or "7d", key=f"overview_report_{repo.id}")
