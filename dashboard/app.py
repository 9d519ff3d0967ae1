"""Entry point of the Code Narrator dashboard: ``streamlit run dashboard/app.py``.

Sets up what every page shares, once per rerun: the page layout, the one ``NarratorService``
(built once per process), the repository chooser and the "add a repository" form in the sidebar,
and the navigation between pages. The pages themselves live in ``dashboard/app_pages/``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts only dashboard/ on sys.path: these come from the installed
# package (scripts/setup.sh installs this checkout, editable), whatever the working folder.
from dashboard import auth, shared, signin, widgets, wording
from db.errors import UserError, first_line
from narrator.defaults import DIGEST_PERIOD
from narrator.service.core import NarratorService

# This project's checkout, narrated as a first example on a fresh install. (A comment: Streamlit would
# show a bare string here on every page.)
ROOT = Path(__file__).resolve().parents[1]

st.set_page_config(page_title="Code Narrator", page_icon="📖", layout="wide")

try:
    service = shared.service()
except UserError as error:  # a setting that cannot work (CODE_NARRATOR_MODEL=fake:abc, ...): say which
    st.error(wording.plain(first_line(error)))
    st.stop()
auth.prepare_password(service.settings.home)  # first start: make up the admin password, print it once
# Sections group the pages, the Portfolio of every repository first; the Admin page asks for the
# admin password first. The folder is not
# called `pages/` on purpose: Streamlit treats a `pages/` folder next to the entry point as an old-style
# multipage app and, until some session has run st.navigation, serves e.g. /changes by running that
# file alone, without this entry point (no sidebar, no shared set-up).
pages = {
    "Read": [
        st.Page("app_pages/portfolio.py", title="Portfolio", icon=":material/dashboard:", default=True),
        st.Page("app_pages/overview.py", title="Overview", icon=":material/menu_book:"),
        st.Page("app_pages/changes.py", title="Changes", icon=":material/history:"),
        st.Page("app_pages/code.py", title="Code", icon=":material/code:"),
    ],
    "Admin": [
        st.Page("app_pages/admin.py", title="Training and adapters", icon=":material/admin_panel_settings:"),
    ],
}
# Bound beyond this computer, or accounts: nothing until signed in. The sign-in box keeps the page
# asked for (a link of an e-mailed briefing: /overview?repo=ID), which shows once signed in.
who, signed_in = signin.require_sign_in(service, keep_page=lambda: st.navigation(pages, position="hidden"))
st.session_state[shared.WHO_KEY] = who
service = shared.session_service()  # from here on, every action and read is checked for who


def add_default_repository(svc: NarratorService) -> None:
    """On a fresh install, narrate this project's own checkout so the first visit shows something."""
    if not widgets.may_act(svc) or svc.repositories() or st.session_state.get("app_default_tried"):
        return
    st.session_state["app_default_tried"] = True
    try:
        repo = svc.add_repository(str(ROOT))
        svc.start_narration(repo.id)
    except UserError as error:
        st.session_state["app_notice"] = ("info", f"Add a repository to begin ({error})")
        return
    st.session_state[shared.REPO_KEY] = repo.id
    st.session_state["app_notice"] = ("success", f"Narrating {repo.name}, this project itself, as a first example.")


def add_repository() -> None:
    """Form callback: add the typed source, choose it, and start narrating it."""
    source = (st.session_state.get("app_add_source") or "").strip()
    if not source:
        st.session_state["app_notice"] = ("error", "Type a folder path or a repository address first.")
        return
    added = {}

    def add() -> None:
        added["repo"] = service.add_repository(source, visitor=True)  # one answer for any path it cannot add
        service.start_narration(added["repo"].id)

    error = widgets.guarded(add, "Adding the repository")
    if error:
        st.session_state["app_notice"] = ("error", error)
        return
    repo = added["repo"]
    st.session_state[shared.REPO_KEY] = repo.id
    st.session_state["app_add_source"] = ""
    st.session_state["app_notice"] = ("success", f"Added {repo.name}; narration has started.")


add_default_repository(service)

with st.sidebar:
    repos = service.repositories()
    if repos:
        ids = [r.id for r in repos]
        linked = st.query_params.get("repo", "")  # a link of an e-mailed briefing: ?repo=ID, followed once
        if linked.isdigit() and int(linked) in ids:
            st.session_state[shared.REPO_KEY] = int(linked)
            del st.query_params["repo"]
        if st.session_state.get(shared.REPO_KEY) not in ids:
            st.session_state[shared.REPO_KEY] = ids[0]
        names = {r.id: r.name for r in repos}
        st.selectbox("Repository", ids, key=shared.REPO_KEY, format_func=lambda i: names.get(i, str(i)))

    if widgets.may_act(service):  # a viewer reads only: no form to add (the service would refuse it too)
        with st.form("app_add_form", border=False):
            st.text_input(
                "Add a repository",
                key="app_add_source",
                placeholder="/path/to/folder or https://host/owner/project.git",
                help="A git folder on this computer, or an https:// or ssh address to clone.",
            )
            st.form_submit_button("Add and narrate", on_click=add_repository)
    elif not repos:
        st.info("No repository to read yet: an admin adds them.")

    if signed_in:
        signin.signed_in_box(who)

    notice = st.session_state.pop("app_notice", None)
    if notice:
        kind, text = notice
        {"error": st.error, "success": st.success}.get(kind, st.info)(wording.plain(text))

st.session_state.setdefault(shared.PERIOD_KEY, DIGEST_PERIOD)  # the digest period Portfolio and Overview share

st.navigation(pages).run()
