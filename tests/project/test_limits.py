"""A commit of a megabyte (subject and message) narrates, reports and shows in seconds, cut with a marker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from narrator.__main__ import main
from narrator.limits import MESSAGE_CHARS, SUBJECT_CHARS, cut
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import START, commit_files, fake_home, make_sample_repo
from tests.helpers.dashboard import APP

MEGABYTE = 1 << 20
# The worst case for a layout: one word of a megabyte, nowhere to break a line.
SUBJECT = "Fix " + "x" * MEGABYTE
MESSAGE = SUBJECT + "\n\n" + "The body goes on and on. " * (MEGABYTE // 25)


def test_cut_keeps_short_text_and_marks_what_it_left_out():
    assert cut("short", 10) == "short" and cut(None, 10) is None
    assert cut("a" * 25, 10) == "aaaaaaaaaa \u2026 [cut: 15 more characters]"


def test_a_text_cut_again_keeps_the_count_of_the_whole():
    """A stored subject (already cut) shown through ``cut`` again says how much the original had."""
    once = cut("a" * 1000, 10)
    assert cut(once, 10) == once
    assert cut(once, 4) == "aaaa \u2026 [cut: 996 more characters]"


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    """The sample shop plus one commit with a megabyte subject and a megabyte body, narrated."""
    with pytest.MonkeyPatch.context() as mp:
        fake_home(mp, tmp_path_factory.mktemp("home"))
        repo = make_sample_repo(tmp_path_factory.mktemp("src") / "shop")
        commit_files(repo, {"shop/huge.py": "x = 1\n"}, MESSAGE, START + timedelta(days=10))
        assert main(["narrate", repo.working_tree_dir, "--commits", "10"]) == 0
        service = NarratorService(load_settings())
        yield service, service.find(repo.working_tree_dir)


def test_a_megabyte_commit_is_stored_cut_with_a_marker(huge):
    service, repo = huge
    [row] = [c for c in service.store.list_commits(repo.id) if c.subject.startswith("Fix x")]
    assert len(row.subject) < SUBJECT_CHARS + 50 and row.subject.endswith(f"[cut: {len(SUBJECT) - SUBJECT_CHARS:,} more characters]")
    assert len(row.message) < MESSAGE_CHARS + 50 and row.message.endswith("more characters]")
    assert len(row.headline) < SUBJECT_CHARS + 50
    [view] = [c for c in service.changes(repo.id) if c.sha == row.sha]
    assert view.headline.text.endswith("more characters]") and len(view.message) < MESSAGE_CHARS + 50
    assert view.subject == row.subject, "shown with the count of the whole subject, not of the stored cut"


def test_a_megabyte_commit_reports_as_pdf_in_seconds(huge, tmp_path):
    service, repo = huge
    started = time.monotonic()
    # A guard against time growing with the square of a text's length (minutes), not a benchmark.
    assert main(["report", repo.source, "--format", "pdf", "--out", str(tmp_path / "r.pdf")]) == 0
    assert time.monotonic() - started < 20
    assert (tmp_path / "r.pdf").stat().st_size < 2 * MEGABYTE


def test_a_megabyte_commit_row_from_before_the_caps_is_shown_cut(huge):
    """A row recorded before the caps (a megabyte in the database) is cut when shown."""
    service, repo = huge
    [row] = [c for c in service.store.list_commits(repo.id) if c.subject.startswith("Fix x")]
    with service.store.session(write=True) as s:
        from db.models import Commit

        stored = s.get(Commit, row.id)
        stored.subject, stored.message, stored.headline = SUBJECT, MESSAGE, SUBJECT
    [view] = [c for c in service.changes(repo.id) if c.sha == row.sha]
    assert len(view.subject) < SUBJECT_CHARS + 50 and len(view.headline.text) < SUBJECT_CHARS + 50
    assert len(view.message) < MESSAGE_CHARS + 50

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/changes.py").run()
    assert not at.exception, [e.value for e in at.exception]
    page = sum(len(e.value) for e in at.markdown)
    assert page < 4 * MESSAGE_CHARS, "the page carries the cut texts, not the megabyte"
    assert any("more characters\\]" in e.value for e in at.markdown)
