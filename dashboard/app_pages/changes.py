"""Changes page: the commits of the chosen repository in plain words, with their evidence."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import shared, widgets, wording
from dashboard.wording import plain
from narrator.facts import provenance
from narrator.facts.provenance import Source
from narrator.service.changes import MAX_LINKED, PER_PAGE
from narrator.service.views import SHALLOW_NOTE, ChangePage

PENDING = "changes_pending"

service = shared.session_service()
repo = shared.require_repo(service)

st.title("Changes")
filters = shared.per_history(service, "change_filters", repo.id)
if filters["first"] is None:
    st.info("No changes have been read yet. Press Narrate on the Overview page.")
    st.stop()

# Widget keys carry the repository id: another repository has other authors and dates.
key = f"changes_{repo.id}"
everyone = {"author": "Everyone", "folder": "Everywhere", "category": "Every kind"}
date_col, author_col, folder_col, category_col = st.columns(4)
dates = date_col.date_input("Between", value=(filters["first"], filters["last"]), min_value=filters["first"],
                            max_value=filters["last"], key=f"{key}_dates")
author = author_col.selectbox("Author", [None, *filters["authors"]], key=f"{key}_author",
                              format_func=lambda v: everyone["author"] if v is None else v)
folder = folder_col.selectbox("Folder", [None, *filters["folders"]], key=f"{key}_folder",
                              format_func=lambda v: everyone["folder"] if v is None else v)
category = category_col.selectbox("Kind of change", [None, *filters["categories"]], key=f"{key}_category",
                                  format_func=lambda v: everyone["category"] if v is None else wording.category_label(v))

# While a range is being picked the widget holds only its first day.
since = dates[0] if len(dates) > 0 else None
until = dates[1] if len(dates) > 1 else None
# A digest line links here with the commits it stands on; an Overview chart with the days it shows.
linked = [s for s in st.query_params.get("commits", "").split(",") if s]
charted = wording.linked_range(st.query_params) if not linked else None
# The page asked for, back to the first whenever what is listed changes. A long history is read
# one page at a time: counted in the database, never loaded whole.
listing = (repo.id, since, until, author, folder, category, tuple(linked), charted)
page_key = f"{key}_page"
if st.session_state.get(page_key, (None, 1))[0] != listing:
    st.session_state[page_key] = (listing, 1)
wanted = st.session_state[page_key][1]

if linked:
    found = service.changes_of(repo.id, linked)
    pages = max(1, math.ceil(len(found) / PER_PAGE))
    page = min(wanted, pages)
    shown = ChangePage(found[(page - 1) * PER_PAGE: page * PER_PAGE], page, pages, len(found))
    st.info(f"Showing the {len(found)} change{'s' if len(found) != 1 else ''} behind a line of the digest"
            + (f" (the first {MAX_LINKED} it names)." if len(linked) > MAX_LINKED else "."))
elif charted:
    shown = service.change_page(repo.id, since=charted[0], until=charted[1], page=wanted)
    st.info(f"Showing the {shown.total:,} change{'s' if shown.total != 1 else ''} "
            f"from {wording.when(charted[0])} to {wording.when(charted[1])}, as charted.")
else:
    shown = service.change_page(repo.id, since=since, until=until, author=author, folder=folder, category=category,
                                page=wanted)
if (linked or charted) and st.button("Show every change", key=f"{key}_all"):
    st.query_params.clear()
    st.rerun()


def page_buttons(where: str) -> None:
    """Previous and next, and which page of how many (only when there is more than one)."""
    if shown.pages == 1:
        return
    back, label, forward = st.columns([1, 3, 1])
    label.caption(f"Page {shown.page:,} of {shown.pages:,}")
    for column, text, step, disabled in ((back, "Previous", -1, shown.page == 1),
                                         (forward, "Next", 1, shown.page == shown.pages)):
        if column.button(text, key=f"{key}_{where}_{text.lower()}", disabled=disabled):
            st.session_state[page_key] = (listing, shown.page + step)
            st.rerun()


if repo.shallow:
    st.info(SHALLOW_NOTE)
first = (shown.page - 1) * PER_PAGE + 1
st.caption(f"{shown.total:,} change{'s' if shown.total != 1 else ''}"
           + (f", showing {first:,} to {first + len(shown.changes) - 1:,}" if shown.pages > 1 else ""))
widgets.watch_jobs(service, PENDING)
page_buttons("top")

for commit in shown.changes:
    with st.container(border=True, key=f"changes_commit_{commit.sha}"):
        head, badge = st.columns([5, 1])
        where = plain(commit.area) + (f" · {plain(commit.scope)}" if commit.scope and commit.scope != commit.area else "")
        head.markdown(f"**{wording.when(commit.date)}** · {plain(commit.author)} · in {where}")
        if commit.future_note:
            head.warning(plain(commit.future_note))
        badge.badge(wording.category_label(commit.category) + (f" {commit.version}" if commit.version else ""),
                    color=wording.category_colour(commit.category))
        widgets.show_said(commit.headline, help=wording.glossary_help(commit.glossary), bold=True)
        if commit.reading:
            st.caption(plain(wording.reading_caption(commit.reading)), help=wording.reading_help(commit.reading, commit.reading_provenance))
        if commit.explanation is not None:
            widgets.show_said(commit.explanation)
        if commit.release_notes:
            st.markdown("\n".join(f"- {plain(note)}" for note in commit.release_notes[:5]))
            st.caption(plain(wording.source_caption(provenance.label(Source.RELEASE_NOTES), False)))
        elif commit.category == "release":
            st.caption("This release added no notes of its own: see the project's changelog or release page.")
        if commit.narrative is not None:
            for note in wording.narrative_notes(commit.narrative):
                st.caption(note)
        if commit.needs_model:
            widgets.narrate_control(service, PENDING, "commit", commit.sha, repo.id, commit.narrative,
                                  key=f"changes_narrate_{commit.sha}", help="Explain this change in plain words.")
        with st.expander("Evidence"):
            st.markdown(f"{len(commit.files)} file{'s' if len(commit.files) != 1 else ''} · "
                        f"\\+{commit.added} / \\-{commit.removed} lines · commit {plain(commit.sha)}")
            st.markdown(f"Developer's message: {plain(commit.message or commit.subject)}")
            if commit.date_note:
                st.markdown(f"Date: {plain(commit.date_note)}")
            for name, values in (("Advisories", commit.advisories), ("References", commit.refs), ("Tags", commit.tags)):
                if values:
                    st.markdown(f"{name}: {plain(', '.join(values))}")
            if commit.files:
                st.dataframe(wording.evidence_rows(commit.files), hide_index=True, key=f"changes_files_{commit.sha}")

page_buttons("bottom")
