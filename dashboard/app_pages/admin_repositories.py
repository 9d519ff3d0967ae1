"""The Admin page's "Repositories" section: remove a repository, after a confirmation step.

Removing goes through the session's service (``shared.session_service``), whose one guard refuses a
viewer; the command line (``code-narrator remove REPO``) does the same from the server. A Remove button
only asks; the removal happens on "Yes, remove it", and says what it deleted.
"""

from __future__ import annotations

import streamlit as st

from dashboard import shared, widgets
from dashboard.wording import plain
from narrator.service.access import ScopedService

CONFIRM_KEY = "repos_confirm"
"""Session-state key of the repository whose removal waits for a confirmation."""


def _ask(repo_id: int) -> None:
    st.session_state[CONFIRM_KEY] = repo_id


def _keep() -> None:
    st.session_state.pop(CONFIRM_KEY, None)


def _remove(svc: ScopedService, repo_id: int) -> None:
    """Confirmed: remove the repository and say what went with it."""
    st.session_state.pop(CONFIRM_KEY, None)
    removed = {}
    error = widgets.guarded(lambda: removed.setdefault("it", svc.remove_repository(repo_id)), "Removing the repository")
    st.session_state["repos_notice"] = ("error", error) if error else ("success", removed["it"].line())
    if not error and st.session_state.get(shared.REPO_KEY) == repo_id:
        del st.session_state[shared.REPO_KEY]  # the sidebar chooses another


def section(svc: ScopedService) -> None:
    """The Repositories section: each repository with a Remove button, and the confirmation it asks for."""
    st.subheader("Repositories")
    st.caption("Removing a repository deletes everything narrated of it, its jobs, and the narrator's own clone of "
               "a URL; a folder on this computer is left as it is. Refused while it is being narrated.")
    repos = svc.repositories()
    if not repos:
        st.caption("No repository has been added yet.")
    waiting = st.session_state.get(CONFIRM_KEY)
    for repo in repos:
        text_col, button_col = st.columns([5, 1], vertical_alignment="center")
        text_col.markdown(plain(f"{repo.name} · {repo.source}"))
        button_col.button("Remove", key=f"repos_remove_{repo.id}", on_click=_ask, args=(repo.id,))
        if waiting == repo.id:
            st.warning(plain(f"Remove {repo.name} and everything narrated of it? This cannot be undone."))
            yes, no = st.columns(2)
            yes.button("Yes, remove it", key="repos_confirm_yes", type="primary", on_click=_remove,
                       args=(svc, repo.id))
            no.button("Keep it", key="repos_confirm_no", on_click=_keep)
    notice = st.session_state.pop("repos_notice", None)
    if notice:
        kind, text = notice
        (st.error if kind == "error" else st.success)(plain(text))
