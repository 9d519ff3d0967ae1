"""Portfolio page: every added repository side by side, busiest first, with a way into each one."""

from __future__ import annotations

import streamlit as st

from dashboard import shared, widgets, wording
from dashboard.wording import plain
from narrator.defaults import DIGEST_PERIOD
from narrator.insights.delivery import HOTFIX_DAYS

service = shared.session_service()

st.title("Portfolio")
if not service.repositories():
    st.info("No repository yet. Add one in the sidebar: a folder on this computer or a repository address.")
    st.stop()

period = shared.period_picker(service, None, key="portfolio_period")
rows = service.portfolio(period or DIGEST_PERIOD)
chosen = rows[0].period if rows else None
order = "busiest first" if any(row.changes for row in rows) else "none with a change in these days"
st.caption((f"Every repository over the same days, {plain(chosen.label)}, {order}." if chosen
            else "No changes have been read yet.")
           + " Each row is that repository's briefing in figures, the numbers its Overview shows for the same days;"
           " all of them come from git facts. The line is changes per week"
           f" over the {len(rows[0].sparkline)} weeks up to the period's end.")

with st.expander("Report to share: every repository, one section each", icon=":material/download:"):
    widgets.report_download(service, [row.repo.id for row in rows], period or DIGEST_PERIOD, key="portfolio_report")

ids = [row.repo.id for row in rows]


def open_picked() -> None:
    """Table callback: a row picked in the table opens that repository's Overview (as a callback,
    because the sidebar's selectbox owns the chosen repository once it is drawn)."""
    picked = st.session_state["portfolio_table"]["selection"]["rows"]
    if picked and 0 <= picked[0] < len(ids):
        shared.choose_repo(ids[picked[0]])
        st.session_state["portfolio_open"] = True


st.dataframe(
    wording.portfolio_table(rows),
    hide_index=True,
    key="portfolio_table",
    on_select=open_picked,
    selection_mode="single-row",
    column_config={
        "What it does": st.column_config.TextColumn("What it does", help="The project's own description, first sentence",
                                                    width="medium"),
        "Status": st.column_config.TextColumn(
            "Status", help="Active, slowing, or quiet since a date: the last change against the usual gap between changes"),
        "Last change": st.column_config.DatetimeColumn("Last change", format="D MMM YYYY"),
        "How long ago": st.column_config.TextColumn("How long ago", help="From the last change to today"),
        "Changes": st.column_config.NumberColumn("Changes", help="Changes in the period (merges left out)"),
        "Activity": st.column_config.LineChartColumn("Activity", help="Changes per week, oldest first", y_min=0),
        "Waiting to ship": st.column_config.NumberColumn(
            "Waiting to ship", help="Changes since the last release; empty when no release is recorded"),
        "Waiting: may affect users": st.column_config.NumberColumn(
            "Waiting: may affect users", help="Of those, changes that may break what users built on the software"),
        "Waiting: security fixes": st.column_config.NumberColumn(
            "Waiting: security fixes", help="Of those, security fixes: users are exposed until the next release"),
        "Number of risks": st.column_config.NumberColumn("Number of risks", help="Risks git alone can show"),
        "Risks": st.column_config.TextColumn("Risks", help="Which risks; each is explained on the Overview"),
        "Releases": st.column_config.TextColumn("Releases", help="Versions released in the period, newest first"),
        "Releases per 30 days": st.column_config.NumberColumn("Releases per 30 days", help="Release frequency in the period"),
        "Lead time (days)": st.column_config.NumberColumn(
            "Lead time (days)", help="Median days from a change to the release that shipped it"),
        "Hotfix rate": st.column_config.NumberColumn(
            "Hotfix rate", format="percent", help=f"Releases followed by a patch release within {HOTFIX_DAYS} days"),
        "Delivery trend": st.column_config.TextColumn(
            "Delivery trend", help="Releases, the days a change waits for one and hotfixes, against the period before"),
        "Last refresh": st.column_config.TextColumn("Last refresh", help="The error of its latest refresh, if it failed"),
        "Code Narrator looked": st.column_config.DatetimeColumn("Code Narrator looked", format="D MMM YYYY, HH:mm",
                                                                help="When Code Narrator last read it: not activity"),
    },
)

if st.session_state.pop("portfolio_open", False):
    st.switch_page("app_pages/overview.py")
st.caption("Pick a row to open that repository's Overview.")

st.subheader("Open a repository")
for row in rows:
    with st.container(border=True, key=f"portfolio_repo_{row.repo.id}"):
        name, facts, action = st.columns([3, 5, 2], vertical_alignment="center")
        name.markdown(f"**{plain(row.repo.name)}**")
        name.caption(plain(row.description) if row.description else "Not described yet.")
        name.caption(plain(wording.refreshed(row.repo)))
        facts.markdown(plain(row.briefing.status.text))
        facts.markdown(plain(wording.portfolio_line(row)))
        if row.status is not None and row.status.release.last is not None:
            facts.markdown(plain(row.status.release.waiting_text))
        if row.status is not None and row.status.risks:
            facts.markdown("Risks: " + " ".join(plain(risk.text) for risk in row.status.risks))
        if row.status is not None and row.status.delivery is not None:
            facts.caption(plain(f"Delivery, {row.status.delivery.period.label}: " + " ".join(row.status.trend)))
        if row.last_error:
            facts.error(plain("The last refresh failed: " + row.last_error))
        if action.button("Open its Overview", key=f"portfolio_open_{row.repo.id}",
                         on_click=shared.choose_repo, args=(row.repo.id,)):
            st.switch_page("app_pages/overview.py")
