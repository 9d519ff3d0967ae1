"""Issue 17's acceptance audit on repositories built here: what a manager reads in ``show`` and the
reports holds together (a count and the lines under it, a usual gap a manager can believe)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import git

from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.render.show import markdown
from narrator.service.core import NarratorService
from tests.conftest import TODAY, commit_files
from tests.helpers.dashboard import no_worker

NOW = datetime.combine(TODAY, time(12), timezone.utc)


def merge(repo: git.Repo, branch: str, message: str, when: datetime) -> str:
    """Merge ``branch`` into the checked-out branch with a merge commit of ``message`` dated ``when``."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": "Ada Lovelace",
           "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Lovelace",
           "GIT_COMMITTER_EMAIL": "ada@example.com"}
    with repo.git.custom_environment(**env):
        repo.git.merge("--no-ff", "-m", message, branch)
    return repo.head.commit.hexsha


def narrate(settings, monkeypatch, repo: git.Repo, commits: int = 30) -> tuple[NarratorService, int]:
    """Add and narrate ``repo`` with the fake model; the model reads the latest ``commits`` only (the
    rest are read from git alone, as on a long history)."""
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    view = service.add_repository(repo.working_tree_dir)
    run_job(settings, service.start_narration(view.id, commits=commits).id)
    return service, view.id


def section(text: str, heading: str) -> str:
    """The lines under a '### heading' of a Markdown briefing, up to the next heading."""
    return text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]


def test_merges_named_by_git_are_never_listed_as_fixes_and_a_pull_request_joins_its_change(
        tmp_path, settings, monkeypatch):
    repo = git.Repo.init(tmp_path / "shop", initial_branch="main")
    commit_files(repo, {"shop/cart.py": "def cart():\n    return []\n"}, "Add the cart", NOW - timedelta(days=9))
    repo.git.checkout("-b", "fix-help-collision")
    commit_files(repo, {"tests/test_cart.py": "def test_cart():\n    pass\n"}, "Test the cart",
                 NOW - timedelta(days=8))
    repo.git.checkout("main")
    commit_files(repo, {"shop/pay.py": "def pay():\n    return 1\n"}, "Add card payments", NOW - timedelta(days=7))
    repo.git.checkout("fix-help-collision")
    merge(repo, "main", "Merge branch 'main' into fix-help-collision", NOW - timedelta(days=6))
    repo.git.checkout("main")
    merge(repo, "fix-help-collision", "Merge stable into main. Resolve conflicts about test utils.",
          NOW - timedelta(days=5))
    repo.git.checkout("-b", "powershell")
    commit_files(repo, {"shop/complete.py": "def complete():\n    return 'ps'\n"},
                 "Add built-in PowerShell completion support", NOW - timedelta(days=4))
    repo.git.checkout("main")
    merge(repo, "powershell", "Add built-in PowerShell completion support (#3637)", NOW - timedelta(days=3))
    commit_files(repo, {"docs/index.md": "# Shop\n"}, "Document the shop", NOW - timedelta(days=2))

    service, repo_id = narrate(settings, monkeypatch, repo, commits=1)
    text = markdown(service, repo_id, period="30d")
    fixed = section(text, "Fixed for users") if "### Fixed for users\n" in text else ""
    assert "Merge" not in fixed  # git's words name branches ('fix-help-…'), not a fix
    new = section(text, "New for users")
    # The pull request's merge joins the line of the change it brought in: one line, not two.
    assert new.count("PowerShell") == 1, new


def test_releases_tagged_in_clusters_read_as_their_real_pace_not_every_few_days(tmp_path, settings, monkeypatch):
    # Two lines of versions (4.x and 5.x) tagged on the same days, four times 120 days apart, the last
    # a year ago: releases come about every 4 months, not 'several times a day' (the median gap).
    repo = git.Repo.init(tmp_path / "web")
    last = NOW - timedelta(days=365)
    for i in range(4):
        when = last - timedelta(days=120 * (3 - i))
        for major in (4, 5):
            commit_files(repo, {"lib/app.py": f"VERSION = '{major}.{i}.0'\n"}, f"Release {major}.{i}.0", when)
            repo.create_tag(f"v{major}.{i}.0")
            when += timedelta(hours=1)
    service, repo_id = narrate(settings, monkeypatch, repo)
    now = service.status(repo_id, "30d")
    assert now.release.text.startswith("Last release 5.3.0 on ")
    assert now.release.text.endswith("1 year ago; releases usually come about every 4 months.")
