"""The Admin page's "Briefing subscriptions" section: who gets the portfolio briefing by e-mail or chat
(``code-narrator send``), the repositories each covers, pausing, removing, and each one's last delivery.

Every change goes through the service (``narrator.service.subscriptions``), which checks the address;
the command line (``code-narrator subscriptions``) does the same from the server. A webhook URL is
a secret: only its scheme and host are shown once added.
"""

from __future__ import annotations

import streamlit as st

from dashboard import widgets
from dashboard.wording import plain
from db.models import CHANNELS
from narrator.service.access import ScopedService
from narrator.service.core import NarratorService

CHANNEL_TITLES = {"email": "E-mail", "slack": "Slack webhook", "teams": "Microsoft Teams webhook",
                  "mattermost": "Mattermost webhook"}


def _add(svc: NarratorService | ScopedService) -> None:
    """Form callback: subscribe the typed address; the webhook URL does not stay in the session."""
    state = st.session_state
    repos = state.get("admin_subs_repos") or None
    address = state.get("admin_subs_address") or ""
    error = widgets.guarded(lambda: svc.subscribe(state.get("admin_subs_channel") or "email", address, repos),
                            "Adding the subscription")
    if not error:
        state["admin_subs_address"] = ""
    state["admin_subs_notice"] = ("error", error) if error else ("success", "Subscription added.")


def _change(svc: NarratorService | ScopedService, subscription_id: int, action: str) -> None:
    if action == "remove":
        error = widgets.guarded(lambda: svc.unsubscribe(subscription_id), "Removing the subscription")
    else:
        error = widgets.guarded(lambda: svc.set_subscribed(subscription_id, action == "resume"), "Changing the subscription")
    if error:
        st.session_state["admin_subs_notice"] = ("error", error)


def section(svc: NarratorService | ScopedService) -> None:
    """The section, drawn where the Admin page calls it."""
    st.subheader("Briefing subscriptions")
    st.caption("Who gets the portfolio briefing when `code-narrator send --period 7d` runs (cron or a systemd "
               "timer): each period once, by e-mail (CODE_NARRATOR_SMTP_URL) or to a chat's incoming webhook.")
    notice = st.session_state.pop("admin_subs_notice", None)
    if notice:
        (st.error if notice[0] == "error" else st.success)(plain(notice[1]))
    repos = {repo.id: repo.name for repo in svc.repositories()}
    for view in svc.subscriptions():
        text, pause, remove = st.columns([6, 1, 1], vertical_alignment="center")
        covers = "every repository" if view.repositories is None else ", ".join(view.repositories) or "no repository left"
        last = (f" · last: {view.last_period} {view.last_status}" + (f" ({view.last_error})" if view.last_error else "")
                if view.last_status else " · nothing sent yet")
        text.markdown(plain(f"#{view.id} {CHANNEL_TITLES[view.channel]} {view.shown}: {covers}"
                            f"{'' if view.active else ' · paused'}{last}"))
        action = "pause" if view.active else "resume"
        pause.button(action.capitalize(), key=f"admin_subs_{action}_{view.id}", on_click=_change,
                     args=(svc, view.id, action))
        remove.button("Remove", key=f"admin_subs_remove_{view.id}", on_click=_change, args=(svc, view.id, "remove"))
    with st.form("admin_subs_form"):
        channel_col, address_col = st.columns([1, 3])
        channel_col.selectbox("Channel", CHANNELS, key="admin_subs_channel", format_func=CHANNEL_TITLES.get)
        address_col.text_input("E-mail address or incoming-webhook URL (https)", key="admin_subs_address")
        st.multiselect("Repositories (none chosen: every repository)", list(repos), key="admin_subs_repos",
                       format_func=lambda i: repos.get(i, str(i)))
        st.form_submit_button("Add subscription", on_click=_add, args=(svc,))
