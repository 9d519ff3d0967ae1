"""The portfolio of every repository (``NarratorService.portfolio``) and ``narrate --all``."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git
import pytest

from narrator.__main__ import main
from narrator.insights.periods import day_range
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.render.show import markdown
from narrator.service.core import NarratorService
from narrator.service.views import SPARK_WEEKS
from narrator.text import markdown_text as md
from tests.conftest import START, TODAY, commit_files
from tests.helpers.dashboard import no_worker
from tests.helpers.repos import make_busy_repo


def make_quiet_repo(path: Path) -> git.Repo:
    """Two changes, the last a month before the busy repository's newest."""
    repo = git.Repo.init(path)
    commit_files(repo, {"lib/core.py": "def core():\n    return 1\n"}, "Add the core", START - timedelta(days=30))
    commit_files(repo, {"lib/core.py": "def core():\n    return 2\n"}, "Return two", START - timedelta(days=10))
    return repo


@pytest.fixture
def two(tmp_path, settings, monkeypatch):
    """A busy and a quiet repository, both added and narrated with the fake model."""
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    repos = {}
    for name, make in (("till", make_busy_repo), ("quiet", make_quiet_repo)):
        source = make(tmp_path / name)
        repo = service.add_repository(source.working_tree_dir)
        run_job(settings, service.start_narration(repo.id, commits=3).id)
        repos[name] = service.repository(repo.id)
    return service, repos


def test_portfolio_lists_every_repository_busiest_first(two):
    service, repos = two
    rows = service.portfolio("7d-commits")
    assert [r.repo.name for r in rows] == ["till", "quiet"]
    till, quiet = rows
    # Every row covers the same seven days, ending on the newest commit of any repository.
    assert till.period == quiet.period and till.period.last_day == (START + timedelta(days=20)).date()
    assert till.changes == 6 and quiet.changes == 0
    assert till.releases == ("1.1.0",) and till.security == 1
    assert till.busiest_area == "till" and quiet.busiest_area is None
    assert len(till.sparkline) == SPARK_WEEKS and sum(till.sparkline) == 7 and till.sparkline[-1] >= 6
    assert till.repo.narrated_at is not None and till.last_error is None


def test_a_longer_period_counts_the_quiet_repository_too(two):
    service, _ = two
    rows = {r.repo.name: r for r in service.portfolio("90d")}
    assert rows["quiet"].changes == 2 and rows["quiet"].busiest_area == "lib"
    assert rows["till"].changes == 7
    ranged = {r.repo.name: r for r in service.portfolio((START - timedelta(days=31), START))}
    assert ranged["quiet"].changes == 2 and ranged["till"].changes == 1  # its first commit
    assert [r.repo.name for r in service.portfolio((START - timedelta(days=31), START))] == ["quiet", "till"]


def test_narrate_all_refreshes_every_repository(two, capsys):
    service, repos = two
    before = {name: repo.narrated_at for name, repo in repos.items()}
    assert main(["narrate", "--all", "--commits", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["quiet", "till"]  # one line each, by name
    assert all("0 model calls" in line for line in out), "everything was cached already"
    for name, repo in repos.items():
        assert service.repository(repo.id).narrated_at > before[name]


def test_narrate_all_goes_on_after_a_failure_and_exits_non_zero(two, capsys):
    service, repos = two
    shutil.rmtree(repos["quiet"].source)
    before = repos["till"].narrated_at
    assert main(["narrate", "--all"]) == 1
    captured = capsys.readouterr()
    [failed] = captured.err.strip().splitlines()
    assert failed.startswith("quiet: failed: ") and "Traceback" not in captured.err
    [done] = captured.out.strip().splitlines()
    assert done.startswith("till: ")
    assert service.repository(repos["till"].id).narrated_at > before
    # The failure is on the repository's job, so the dashboard's portfolio shows it.
    row = next(r for r in service.portfolio() if r.repo.name == "quiet")
    assert row.last_error and row.last_error in failed


def test_narrate_all_with_no_repository_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "empty-home"))
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    assert main(["narrate", "--all", "--model", "fake"]) == 0
    assert capsys.readouterr().out.startswith("No repository has been added yet")


def test_narrate_needs_a_repository_or_all(capsys):
    with pytest.raises(SystemExit):
        main(["narrate"])
    with pytest.raises(SystemExit):
        main(["narrate", "/some/repo", "--all"])


def test_show_prints_the_release_forecast(two):
    from narrator.render.show import markdown

    service, repos = two
    text = markdown(service, repos["till"].id)
    assert "Not enough releases to forecast (1 recorded; 4 are needed). [git facts]" in text


def test_the_portfolio_and_overview_end_today_and_a_future_commit_moves_neither(two):
    """A commit dated 2100 (a wrong clock) is listed with a warning and is never taken as 'now'."""
    service, repos = two
    quiet = repos["quiet"]
    commit_files(git.Repo(quiet.source), {"lib/core.py": "def core():\n    return 3\n"}, "Return three",
                 datetime(2100, 1, 1, 12, tzinfo=timezone.utc))
    run_job(service.settings, service.start_narration(quiet.id, commits=3).id)
    rows = {r.repo.name: r for r in service.portfolio("7d")}
    overview = service.digest(quiet.id, "7d")
    # Both pages cover the 7 days up to today (the tests' today), whatever any commit says.
    assert rows["quiet"].period == rows["till"].period == overview.period
    assert overview.period.label == f"the last 7 days ({day_range(TODAY - timedelta(days=6), TODAY)})"
    assert rows["till"].changes == rows["quiet"].changes == 0
    # Ending on the latest commit still means the latest up to today: the busy repository's last day.
    assert service.portfolio("7d-commits")[0].period.last_day == (START + timedelta(days=20)).date()
    assert service.chart_range(quiet.id)[1] == (START - timedelta(days=10)).date()
    [future] = [c for c in service.changes(quiet.id) if c.subject == "Return three"]
    warning = "Dated in the future (2100-01-01): the clock of the computer that made it was wrong."
    assert future.date_note == future.future_note == warning
    # Listed first (its date is the newest), so the warning stands beside it, not only in its evidence.
    shown = markdown(service, quiet.id).splitlines()
    at = next(i for i, line in enumerate(shown) if line.startswith("- 2100-01-01 "))
    assert shown[at + 1] == f"  - Warning: {md(warning)} [git facts]"
