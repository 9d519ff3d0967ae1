"""Portfolio page: every added repository side by side, busiest first, with a way into each one."""

from __future__ import annotations

import streamlit as st

from dashboard import views
from dashboard.views import plain
from narrator.status import HOTFIX_DAYS

service = views.service()

st.title("Portfolio")
if not service.repositories():
    st.info("No repository yet. Add one in the sidebar: a folder on this computer or a repository address.")
    st.stop()

period = views.period_picker(service, None, key="portfolio_period")
rows = service.portfolio(period or "7d")
chosen = rows[0].period if rows else None
st.caption((f"Every repository in {plain(chosen.label)}, busiest first." if chosen else "No changes have been read yet.")
           + " Changes, releases and security fixes come from git facts; the line is changes per week"
           f" over the {len(rows[0].sparkline)} weeks up to the period's end.")

with st.expander("Report to share: every repository, one section each", icon=":material/download:"):
    views.report_download(service, [row.repo.id for row in rows], period or "7d", key="portfolio_report")

ids = [row.repo.id for row in rows]


def open_picked() -> None:
    """Table callback: a row picked in the table opens that repository's Overview (as a callback,
    because the sidebar's selectbox owns the chosen repository once it is drawn)."""
    picked = st.session_state["portfolio_table"]["selection"]["rows"]
    if picked and 0 <= picked[0] < len(ids):
        views.choose_repo(ids[picked[0]])
        st.session_state["portfolio_open"] = True


st.dataframe(
    views.portfolio_table(rows),
    hide_index=True,
    key="portfolio_table",
    on_select=open_picked,
    selection_mode="single-row",
    column_config={
        "Activity": st.column_config.LineChartColumn("Activity", help="Changes per week, oldest first", y_min=0),
        "Last change": st.column_config.DatetimeColumn("Last change", format="D MMM YYYY"),
        "Waiting to ship": st.column_config.NumberColumn("Waiting to ship", help="Changes since the last release"),
        "Risks": st.column_config.TextColumn("Risks", help="Risks git alone can show; each is explained on the Overview"),
        "What it does": st.column_config.TextColumn("What it does", help="The project's own description, first sentence",
                                                    width="medium"),
        "Delivery trend": st.column_config.TextColumn(
            "Delivery trend", help="Releases and the days a change waits for one, against the period before"),
        "Hotfix rate": st.column_config.NumberColumn(
            "Hotfix rate", format="percent", help=f"Releases followed by a patch release within {HOTFIX_DAYS} days"),
        "Lead time (days)": st.column_config.NumberColumn(
            "Lead time (days)", help="Median days from a change to the release that shipped it"),
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
        name.caption(plain(views.refreshed(row.repo)))
        if row.status is not None:
            facts.markdown(plain(row.status.activity.text))
        facts.markdown(plain(views.portfolio_line(row)))
        if row.status is not None and row.status.release.last is not None:
            facts.markdown(plain(row.status.release.waiting_text))
        if row.status is not None and row.status.risks:
            facts.markdown("Risks: " + " ".join(plain(risk.text) for risk in row.status.risks))
        if row.status is not None and row.status.delivery is not None:
            facts.caption(plain(f"Delivery, {row.status.delivery.period.label}: " + " ".join(row.status.trend)))
        if row.last_error:
            facts.error(plain("The last refresh failed: " + row.last_error))
        if action.button("Open its Overview", key=f"portfolio_open_{row.repo.id}",
                         on_click=views.choose_repo, args=(row.repo.id,)):
            st.switch_page("app_pages/overview.py")
