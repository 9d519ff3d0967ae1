"""``python -m narrator.eval.bench REPO --pages``: the real dashboard server, asked for each page the way a
browser asks (Streamlit's websocket), on a small repository. Not a timed test: it checks the figures
are there and make sense, and that a page that fails is counted as an error, not as a fast page."""

from __future__ import annotations

import pytest

from narrator.eval.bench import main
from narrator.eval.bench_pages import PAGE_TIMEOUT, PAGES, page_figures
from tests.helpers.repos import fast_import_history

pytestmark = pytest.mark.slow  # starts the dashboard server for every page

BROKEN_APP = '''
import streamlit as st


def fine():
    st.write("A page that works.")


def broken():
    raise RuntimeError("a page that fails")


st.navigation([st.Page(fine, title="Portfolio", default=True),
               st.Page(broken, title="Overview", url_path="overview")]).run()
'''


def test_the_bench_times_every_page_cold_warm_and_together_and_the_servers_memory(tmp_path):
    fast_import_history(tmp_path / "small", 20)
    figures = page_figures(str(tmp_path / "small"), requests=5, sessions=3, home=tmp_path / "home")

    assert set(figures["page_seconds"]) == set(PAGES) == {"Portfolio", "Overview", "Changes", "Code"}
    for page, seconds in figures["page_seconds"].items():
        assert set(seconds) == {"cold", "warm"} and all(0 < s < PAGE_TIMEOUT for s in seconds.values()), (page, seconds)
    assert figures["page_errors"] == figures["overview_concurrent_errors"] == figures["server_request_errors"] == 0
    assert figures["overview_concurrent_sessions"] == 3 and figures["server_requests"] == 5
    assert 0 < figures["overview_concurrent_p50_seconds"] <= figures["overview_concurrent_p95_seconds"] \
        <= figures["overview_concurrent_max_seconds"] < PAGE_TIMEOUT
    before, after = figures["server_rss_before_mb"], figures["server_rss_after_mb"]
    assert 50 < before and 50 < after and abs(figures["server_rss_growth_mb"] - (after - before)) < 0.2


def test_a_page_that_fails_counts_as_an_error_wherever_it_is_asked_for(tmp_path):
    fast_import_history(tmp_path / "small", 3)
    app = tmp_path / "broken_app.py"
    app.write_text(BROKEN_APP)
    figures = page_figures(str(tmp_path / "small"), requests=4, sessions=2, app=app,
                           pages={"Portfolio": "", "Overview": "overview"}, home=tmp_path / "home")
    # The failing page cold and warm, and once more while the load server warms up; each of the two
    # sessions asking at once; every other one of the 4 requests.
    assert (figures["page_errors"], figures["overview_concurrent_errors"], figures["server_request_errors"]) == (3, 2, 2)


def test_pages_is_an_option_of_the_bench(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    assert "--pages" in capsys.readouterr().out
