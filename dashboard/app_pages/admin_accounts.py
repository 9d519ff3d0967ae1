"""The Admin page's "Accounts" section: who may sign in, their role and the repositories a viewer reads
(chosen when the account is added, changed later; "every repository" is ticked, never read from
an empty choice).

Every change goes through the session's service (``shared.session_service``), whose one guard
refuses a viewer; the command line (``code-narrator accounts``) does the same from the server.
"""

from __future__ import annotations

import streamlit as st

from dashboard import widgets
from dashboard.wording import plain
from narrator.service.access import ScopedService
from narrator.service.accounts import AccountError


NONE_CHOSEN = "Choose the repositories the viewer reads, or tick Every repository."


def _chosen(key: str) -> list[str] | None:
    """The repositories chosen in the form (ids as text), None for "Every repository" ticked; choosing
    none is refused (``NONE_CHOSEN``), never read as every one: forgetting to choose gives nothing away."""
    if st.session_state.get(key + "_all"):
        return None
    chosen = st.session_state.get(key) or []
    if not chosen:
        raise AccountError(NONE_CHOSEN)
    return [str(i) for i in chosen]


def _add(svc: ScopedService) -> None:
    """Form callback: add the typed account; the password never stays in the session."""
    state = st.session_state
    email = (state.get("accounts_add_email") or "").strip() or None
    password = state.get("accounts_add_password") or None
    name = (state.get("accounts_add_name") or "").strip()
    role = state.get("accounts_add_role") or "viewer"
    error = widgets.guarded(lambda: svc.add_account(name, role, password, email,
                                                    _chosen("accounts_add_repos") if role == "viewer" else None),
                            "Adding the account")
    state["accounts_add_password"] = ""
    state["accounts_notice"] = ("error", error) if error else ("success", f"Added {name}.")


def _remove(svc: ScopedService, name: str) -> None:
    error = widgets.guarded(lambda: svc.remove_account(name), "Removing the account")
    st.session_state["accounts_notice"] = ("error", error) if error else ("success", f"Removed {name}.")


def _set_repos(svc: ScopedService) -> None:
    """Form callback: give the chosen viewer the chosen repositories (or every one, ticked)."""
    state = st.session_state
    name = state.get("accounts_repos_name") or ""
    error = widgets.guarded(lambda: svc.set_account_repositories(name, _chosen("accounts_repos_ids")),
                            "Changing the repositories")
    state["accounts_notice"] = ("error", error) if error else ("success", f"Changed what {name} reads.")


def section(svc: ScopedService) -> None:
    """The Accounts section: the list, a remove button each, and a form to add one."""
    st.subheader("Accounts")
    st.caption("Who may sign in when the dashboard is shared: viewers read briefings (of every repository or "
               "of those chosen), admins also add and remove repositories, narrate, train and manage accounts.")
    rows = []
    error = widgets.guarded(lambda: rows.extend(svc.accounts()), "Listing accounts")
    if error:
        st.error(plain(error))
        return
    repos = {r.id: r.name for r in svc.repositories()}
    for row in rows:
        reads = "every repository" if row.repo_ids is None else \
            ", ".join(repos.get(i, str(i)) for i in sorted(row.repo_ids)) or "no repository"
        how = " and ".join(filter(None, ("password" if row.password else None, row.email)))
        text_col, button_col = st.columns([5, 1], vertical_alignment="center")
        text_col.markdown(plain(f"{row.name} · {row.role} · {how} · reads {reads}"))
        button_col.button("Remove", key=f"accounts_remove_{row.id}", on_click=_remove, args=(svc, row.name))
    viewers = [row.name for row in rows if row.role == "viewer"]
    if viewers:
        with st.form("accounts_repos"):
            st.selectbox("Viewer", viewers, key="accounts_repos_name")
            st.multiselect("Reads", list(repos), key="accounts_repos_ids", format_func=lambda i: repos.get(i, str(i)))
            st.checkbox("Every repository", key="accounts_repos_ids_all")
            st.form_submit_button("Change what the viewer reads", on_click=_set_repos, args=(svc,))
    with st.form("accounts_add", clear_on_submit=False):
        st.text_input("Name", key="accounts_add_name")
        st.selectbox("Role", ["viewer", "admin"], key="accounts_add_role")
        st.text_input("Password (8 characters or more; empty: the sign-in provider only)", type="password",
                      key="accounts_add_password")
        st.text_input("E-mail for the sign-in provider (optional)", key="accounts_add_email")
        st.multiselect("Repositories a viewer reads", list(repos), key="accounts_add_repos",
                       format_func=lambda i: repos.get(i, str(i)))
        st.checkbox("A viewer reads every repository", key="accounts_add_repos_all")
        st.form_submit_button("Add the account", on_click=_add, args=(svc,))
    notice = st.session_state.pop("accounts_notice", None)
    if notice:
        kind, text = notice
        (st.error if kind == "error" else st.success)(plain(text))
