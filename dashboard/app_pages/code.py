"""Code page: the repository's folders, files and pieces of code, each explained in plain words."""

from __future__ import annotations

import streamlit as st

from dashboard import shared, widgets
from dashboard.widgets import show_narrative
from dashboard.wording import plain

PENDING = "code_pending"

service = shared.session_service()
repo = shared.require_repo(service)

st.title("Code")
areas = service.code(repo.id)
if not areas:
    st.info("The code has not been read yet. Press Narrate on the Overview page.")
    st.stop()

key = f"code_{repo.id}"
pick_col, find_col = st.columns(2)
folders = [a.area for a in areas]
folder = pick_col.selectbox("Folder", [None, *folders], key=f"{key}_folder",
                            format_func=lambda v: "All folders" if v is None else v)
needle = find_col.text_input("Find a file", key=f"{key}_find", placeholder="part of a file name").strip().lower()
widgets.watch_jobs(service, PENDING)

for area in areas:
    if folder is not None and area.area != folder:
        continue
    files = [f for f in area.files if needle in f.path.lower()]
    if needle and not files:
        continue
    st.header(plain(area.area))
    show_narrative(area.narrative, missing="This folder has not been summarised yet.")
    for file in files:
        with st.expander(plain(file.path)):
            if file.narrative is not None:
                show_narrative(file.narrative)
            elif not widgets.is_pending(PENDING, file.path):
                st.caption("This file has not been narrated yet.")
            widgets.narrate_control(service, PENDING, "file", file.path, repo.id, file.narrative,
                                  key=f"code_narrate_{file.path}", help="Explain this file in plain words.")
            for unit in file.units:
                if unit.kind == "file" and file.narrative is not None:
                    continue  # a whole-file unit says what the file's narrative above says
                st.markdown(f"**{plain(unit.name)}** · {plain(unit.kind)}, lines {unit.start_line}–{unit.end_line}")
                show_narrative(unit.narrative)
