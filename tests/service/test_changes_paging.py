"""The Changes page reads a long history a page at a time: bounded requests, flat memory.

A request for every day there is (``?since=0001-01-01&until=9999-12-31``) or for a thousand shas
once read every matching commit; on a 200,000-commit history that took half a minute and gigabytes
that the server never gave back.
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import date

import psutil
import pytest
from streamlit.testing.v1 import AppTest

from narrator.__main__ import main
from narrator.service.changes import MAX_LINKED, MAX_PER_PAGE
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import fake_home
from tests.helpers.dashboard import APP
from tests.helpers.repos import fast_import_history

COMMITS = 3000
EVERY_DAY = dict(since=date(1, 1, 1), until=date(9999, 12, 31))


@pytest.fixture(scope="module")
def long_history(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        fake_home(mp, tmp_path_factory.mktemp("home"))
        source = tmp_path_factory.mktemp("src") / "long"
        fast_import_history(source, COMMITS)
        assert main(["narrate", str(source), "--commits", "3"]) == 0
        service = NarratorService(load_settings())
        yield service, service.find(str(source))


def test_one_request_lists_one_page_whatever_it_asks_for(long_history):
    service, repo = long_history
    first = service.change_page(repo.id, **EVERY_DAY, per_page=1_000_000)
    assert (len(first.changes), first.page, first.total) == (MAX_PER_PAGE, 1, COMMITS)
    assert first.pages == COMMITS // MAX_PER_PAGE and first.changes[0].subject == f"Change value to {COMMITS - 1}"
    last = service.change_page(repo.id, **EVERY_DAY, page=10**9, per_page=MAX_PER_PAGE)
    assert last.page == last.pages and last.changes[-1].subject == "Change value to 0"
    second = service.change_page(repo.id, **EVERY_DAY, page=2, per_page=MAX_PER_PAGE)
    assert {c.sha for c in second.changes}.isdisjoint(c.sha for c in first.changes)

    shas = [c.sha for c in service.changes(repo.id, limit=1000)]
    linked = service.changes_of(repo.id, [s[:10] for s in shas] + ["zz%", "_", "'; drop table commits"])
    assert len(linked) == MAX_LINKED and [c.sha for c in linked] == shas[:MAX_LINKED]


@pytest.mark.slow
def test_repeated_requests_for_everything_keep_memory_flat(long_history):
    service, repo = long_history
    linked = [c.sha for c in service.changes(repo.id, limit=1000)]

    def request() -> None:
        service.change_filters(repo.id)
        service.change_page(repo.id, **EVERY_DAY, per_page=1_000_000)
        service.changes_of(repo.id, linked)

    request()  # warm: the first request imports and caches what every later one shares
    tracemalloc.start()
    try:
        request()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A page of 100 changes and 200 linked ones (under 2 MiB), not 3,000 (12 MiB when the page read them all).
    assert peak < 4 * 2**20, f"one request peaked at {peak / 2**20:.1f} MiB"

    process = psutil.Process()
    gc.collect()
    before = process.memory_info().rss
    for _ in range(50):
        request()
    gc.collect()
    grown = process.memory_info().rss - before
    assert grown < 20 * 2**20, f"50 requests kept {grown / 2**20:.1f} MiB"


def test_the_changes_page_for_every_day_shows_one_page_and_pages_on(long_history):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/changes.py")
    at.query_params.update(since="0001-01-01", until="9999-12-31")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    evidence = lambda: sum(1 for e in at.expander if e.label == "Evidence")  # noqa: E731
    pages = -(-COMMITS // 50)
    assert evidence() == 50 and f"Page 1 of {pages}" in [c.value for c in at.caption]
    next(b for b in at.button if b.label == "Next").click().run()
    assert f"Page 2 of {pages}" in [c.value for c in at.caption]
    assert any(f"Change value to {COMMITS - 51}" in m.value for m in at.markdown)


@pytest.mark.slow
def test_reading_a_long_history_reports_progress_while_it_reads(tmp_path, settings):
    """``--commits`` beyond the history: both passes tell how far they are before they end (events, not time)."""
    from narrator.pipeline import scan
    from narrator.service.core import NarratorService

    fast_import_history(tmp_path / "long", 1200)
    service = NarratorService(settings)
    repo = service.add_repository(str(tmp_path / "long"))
    heard: list[tuple[int, int, str, int]] = []

    def progress(done: int, total: int, message: str) -> None:
        heard.append((done, total, message, service.store.count_commits(repo.id)))

    scan.scan(settings, service.store, repo.id, 1_000_000, progress=progress)  # what narrate --commits 1000000 reads
    history = [(done, total, stored) for done, total, message, stored in heard if message == scan.READING_HISTORY]
    assert history[0][:2] == (0, 1200) and (1000, 1200) in [h[:2] for h in history]
    assert any(stored < 1200 for done, _, stored in history if done), "told while the history was still being read"
    latest = [(done, total) for done, total, message, _ in heard if message == scan.READING_CHANGES]
    assert latest[0] == (0, 1200) and [done for done, _ in latest] == list(range(0, 1201, 100))
