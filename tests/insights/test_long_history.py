"""The briefing and ``show`` read only the days they need, by SQL, whatever the length of the history.

On a 50,000-commit history ``show`` took 9 s and 535 MB to print 30 changes, and a narration with no
new commit 4.6 s, because both read and viewed every commit ever recorded.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import git
import pytest

from narrator.__main__ import main
from narrator.eval.bench import command_figures, history_figures
from narrator.insights import history
from narrator.insights.periods import today
from narrator.pipeline import history_pass as gitlog
from narrator.render.show import markdown
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import MODEL_SENTENCES_ON, fake_home
from tests.helpers.repos import fast_import_history

pytestmark = pytest.mark.slow  # a 600-commit history, narrated and benched

COMMITS = 600
HOURS = 3_600
WHOLE = ["90d", (date(1971, 1, 1), today())]


@pytest.fixture(scope="module")
def tagged_history(tmp_path_factory):
    """600 commits, one every 8 hours up to two days ago, a version tag on every 60th."""
    with pytest.MonkeyPatch.context() as mp:
        fake_home(mp, tmp_path_factory.mktemp("home"))
        for variable, value in MODEL_SENTENCES_ON.items():  # narratives of every kind, for the check outcomes
            mp.setenv(variable, value)
        source = tmp_path_factory.mktemp("src") / "tagged"
        start = int(time.time()) - 2 * 24 * HOURS - COMMITS * 8 * HOURS
        fast_import_history(source, COMMITS, start=start, step=8 * HOURS, tag_every=60)
        assert main(["narrate", str(source), "--commits", "3"]) == 0
        service = NarratorService(load_settings())
        yield service, service.find(str(source))


def _spy_on_reads(monkeypatch, service) -> list[dict]:
    """Every ``list_commits`` call of ``service``'s store, with its arguments."""
    calls: list[dict] = []
    real = service.store.list_commits

    def spy(repo_id, **kwargs):
        calls.append(kwargs)
        return real(repo_id, **kwargs)

    monkeypatch.setattr(service.store, "list_commits", spy)
    return calls


def test_the_briefing_reads_its_days_only_and_says_what_the_whole_history_says(tagged_history, monkeypatch):
    service, repo = tagged_history
    whole = service._commits(repo.id)
    assert len(whole) == COMMITS and len(service.releases(repo.id)) == COMMITS // 60
    periods = ["7d", "30d", "30d-commits", (today() - timedelta(days=40), today() - timedelta(days=20))]
    expected = {str(p): (service.briefing(repo.id, p, commits=whole), service.digest(repo.id, p, commits=whole),
                         service.status(repo.id, p, commits=whole)) for p in [*periods, *WHOLE]}
    fresh = NarratorService(service.settings)
    calls = _spy_on_reads(monkeypatch, fresh)
    for p in periods:
        assert (fresh.briefing(repo.id, p), fresh.digest(repo.id, p), fresh.status(repo.id, p)) == expected[str(p)]
    # The last release came before the 7 days and the 7 before them: read by SQL all the same.
    assert fresh.status(repo.id, "7d").release.last.version.startswith("1.")
    # No call read every commit: each starts at most a few months back.
    assert calls and all(c.get("since") is not None for c in calls), calls
    assert all(c["since"].date() >= today() - timedelta(days=200) for c in calls)
    # A period whose releases' lead times reach the first commit reads them all, and says what the
    # whole history says (90 days and the 90 before them hold the first release).
    for p in WHOLE:
        assert (fresh.briefing(repo.id, p), fresh.digest(repo.id, p), fresh.status(repo.id, p)) == expected[str(p)]


def test_the_charts_read_their_days_by_sql_and_draw_what_the_whole_history_draws(tagged_history, monkeypatch):
    service, repo = tagged_history
    whole = service._commits(repo.id)
    changes = [c for c in whole if not c.is_merge]
    bounds = history.default_range(whole, today=today())
    fresh = NarratorService(service.settings)
    monkeypatch.setattr(fresh, "_commits", lambda repo_id: pytest.fail("a chart read the whole history"))
    calls = _spy_on_reads(monkeypatch, fresh)
    assert fresh.chart_range(repo.id) == bounds
    assert fresh.releases(repo.id) == history.releases(whole) and len(history.releases(whole)) == COMMITS // 60
    for start, end in (bounds, (None, None), (today() - timedelta(days=30), today()), (date.min, date.max)):
        for by, grain in (("category", "week"), ("area", "month")):
            assert fresh.activity(repo.id, by, grain, start, end) == history.activity(changes, by, grain, start, end)
        busiest = [(a.area, a.changes, a.lines, a.shas) for a in fresh.busiest_areas(repo.id, start, end)]
        assert busiest == [(a.area, a.changes, a.lines, a.shas) for a in history.busiest_areas(changes, start, end)]
    narrated = {r.target for kind in ("headline", "commit") for r in fresh._latest(repo.id, kind).values()}
    assert narrated and fresh.store.reachable_among(repo.id, [*narrated, "0" * 40]) == narrated & {c.sha for c in whole}
    assert set(fresh.check_outcomes(repo.id)) == {"headline", "commit", "unit", "file", "module", "overview"}
    assert not calls  # not one list of whole rows


def test_show_reads_one_page_of_changes_and_the_briefings_days(tagged_history, monkeypatch):
    service, repo = tagged_history
    fresh = NarratorService(service.settings)
    calls = _spy_on_reads(monkeypatch, fresh)
    shown = markdown(fresh, repo.id, commits=5)
    assert all(c.get("since") is not None or c.get("limit") == 5 for c in calls), calls
    recent = shown.split("## Recent changes", 1)[1]
    assert recent.count("Change value to") == 5 and f"Change value to {COMMITS - 1}" in recent


def test_the_bench_times_an_unchanged_narration_and_show_as_a_user_runs_them(tmp_path, monkeypatch):
    fake_home(monkeypatch, tmp_path / "home")
    fast_import_history(tmp_path / "small", 20)
    figures = command_figures(str(tmp_path / "small"))
    assert set(figures) == {"narrate_unchanged_seconds", "narrate_unchanged_peak_rss_mb", "show_seconds_long",
                            "show_peak_rss_mb"}
    assert all(value > 0 for value in figures.values()), figures


def test_the_bench_gives_the_history_pass_in_cpu_seconds_beside_git_log(tmp_path, monkeypatch):
    # On a busy machine the seconds depend on what else runs; the CPU seconds (ours and git's) do not.
    fake_home(monkeypatch, tmp_path / "home")
    fast_import_history(tmp_path / "small", 2000)
    figures = history_figures(str(tmp_path / "small"), "fake")
    assert figures["history_commits"] == 2000
    assert figures["git_log_numstat_cpu_seconds"] > 0, figures
    # The pass runs git log itself, and the command the pass: neither costs less than git log alone.
    assert figures["history_command_cpu_ratio"] > figures["history_facts_cpu_ratio"] > 0, figures


def test_counting_the_latest_changes_stops_at_the_limit(tmp_path):
    fast_import_history(tmp_path / "small", 20)
    repo = git.Repo(tmp_path / "small")
    assert [gitlog.count_commits(repo, "HEAD", limit) for limit in (None, 5, 0, 100)] == [20, 5, 0, 20]
