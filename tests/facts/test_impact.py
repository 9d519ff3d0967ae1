"""Impact groups (narrator.facts.impact): what each change means to users, recorded, read again, and counted
by the digest so the groups of a period add up to its changes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import git
import pytest
from sqlalchemy import select

from db.models import Commit
from narrator.facts import impact
from narrator.facts.release_notes import affecting_notes
from narrator.model.fake import FakeBackend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from tests.conftest import START, TODAY, commit_files

DAY = START + timedelta(days=22)  # inside the 30 days that end on the tests' today


def _at(hours: int, minutes: int = 0):
    return DAY + timedelta(hours=hours, minutes=minutes)


def make_mixed_repo(path: Path) -> tuple[git.Repo, dict[str, str]]:
    """A web app with one change of every impact, a branch merged with a pull request, and the
    shas by name."""
    repo = git.Repo.init(path)
    sha = {}
    commit_files(repo, {"README.md": "# Shop\n\nA web shop.\n", "lib/app.js": "module.exports = 1\n",
                        "lib/upload.js": "module.exports = 'up'\n", "tests/upload.test.js": "test('x')\n",
                        "package.json": '{"name": "shop", "dependencies": {"qs": "6.10.0"}}\n',
                        "package-lock.json": '{"qs": "6.10.0", "lodash": "4.17.20"}\n',
                        ".github/workflows/ci.yml": "uses: actions/checkout@v3\n"}, "Start the shop", START - timedelta(days=20))
    sha["bang"] = commit_files(repo, {"lib/app.js": "module.exports = 2\n"}, "feat!: drop the v1 routes", _at(1))
    sha["footer"] = commit_files(repo, {"lib/app.js": "module.exports = 3\n"},
                                 "feat: send a request id header\n\nBREAKING CHANGE: the X-Trace header is gone.", _at(2))
    sha["security"] = commit_files(repo, {"package.json": '{"name": "shop", "dependencies": {"qs": "6.14.0"}}\n',
                                          "package-lock.json": '{"qs": "6.14.0", "lodash": "4.17.20"}\n'},
                                   "Bump qs from 6.10 to 6.14 (fixes CVE-2026-2391)", _at(3), author="dependabot[bot]")
    sha["lodash"] = commit_files(repo, {"package-lock.json": '{"qs": "6.14.0", "lodash": "4.17.21"}\n'},
                                 "Bump lodash from 4.17.20 to 4.17.21\n\nRelease notes: faster.", _at(4), author="dependabot[bot]")
    sha["action"] = commit_files(repo, {".github/workflows/ci.yml": "uses: actions/checkout@v4\n"},
                                 "Bump actions/checkout from 3 to 4", _at(5), author="dependabot[bot]")
    sha["linter"] = commit_files(repo, {"lib/app.js": "module.exports = 3 // eslint-disable-line\n"},
                                 "Ignore the linter error", _at(6))
    sha["fix"] = commit_files(repo, {"lib/upload.js": "module.exports = 'upload'\n"}, "Fix broken file uploads", _at(7))
    sha["test fix"] = commit_files(repo, {"tests/upload.test.js": "test('y')\n"}, "Fix the flaky upload test", _at(8))
    sha["changelog"] = commit_files(repo, {"lib/app.js": "module.exports = 4\n",
                                           "CHANGELOG.md": "# Changelog\n\n## Unreleased\n\n### Removed\n\n- The /v0 routes.\n"},
                                    "Tidy the routes", _at(8, 30))
    main = repo.active_branch.name
    repo.git.checkout("-b", "fix-size")
    sha["branch fix"] = commit_files(repo, {"lib/upload.js": "module.exports = 'upload 10MB'\n"},
                                     "Fix the upload size limit", _at(9))
    repo.git.checkout(main)
    stamp = _at(10).strftime("%Y-%m-%dT%H:%M:%S%z")
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": "Ada Lovelace",
           "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    repo.git.merge("--no-ff", "-m", "Merge pull request #7 from ada/fix-size\n\nFix the upload size limit", "fix-size", env=env)
    sha["merge"] = repo.head.commit.hexsha
    return repo, sha


@pytest.fixture
def mixed(tmp_path, settings):
    repo, sha = make_mixed_repo(tmp_path / "shop")
    service = NarratorService(settings)
    added = service.add_repository(repo.working_tree_dir)
    narrate_repository(settings, service.store, added.id, Budget(commits=1, units=0, files=0, batch_size=4), FakeBackend())
    return service, added.id, sha


EXPECTED = {"bang": ("affects", None), "footer": ("affects", None), "security": ("security", None),
            "lodash": ("internal", "dependencies"), "action": ("internal", "dependencies"),
            "linter": ("internal", "maintenance"), "fix": ("fixed", None), "test fix": ("internal", "tests"),
            "branch fix": ("fixed", None), "merge": (impact.MERGE, None), "changelog": ("affects", None)}


def test_every_change_is_recorded_with_one_impact(mixed):
    service, repo_id, sha = mixed
    views = {v.sha: v for v in service.changes(repo_id)}
    assert {name: (views[s].impact.group, views[s].impact.kind) for name, s in sha.items()} == EXPECTED
    # The bot's update of a CI action is a dependency in the list as in its impact.
    assert views[sha["action"]].category == "dependencies" and views[sha["action"]].ci
    assert views[sha["bang"]].impact.why == "its developer marked it as a breaking change"
    assert views[sha["security"]].impact.why == "it names a security advisory (CVE-2026-2391)"
    assert views[sha["changelog"]].impact.why == "its changelog entry \u201cThe /v0 routes.\u201d is listed under \u201cRemoved\u201d"


def test_rows_recorded_before_impacts_get_their_groups_from_the_stored_facts(mixed):
    service, repo_id, sha = mixed
    with service.store.session(write=True) as session:
        for row in session.scalars(select(Commit).where(Commit.repo_id == repo_id)):
            row.details = {k: v for k, v in row.details.items() if k not in ("impact", "breaking")}
        session.commit()
    rows = service.store.list_commits(repo_id)
    assert rows and all("impact" not in r.details for r in rows)
    views = {v.sha: v for v in service.changes(repo_id)}
    # Read again without the diff, the changelog's heading is not seen: the subject says only "Tidy".
    assert {name: (views[s].impact.group, views[s].impact.kind) for name, s in sha.items()} == {
        **EXPECTED, "changelog": ("internal", "maintenance")}


def test_the_digest_groups_by_impact_and_the_groups_add_up(mixed):
    service, repo_id, sha = mixed
    digest = service.digest(repo_id, "30d")
    assert digest.period.last_day == TODAY
    changes = set(sha.values()) - {sha["merge"]}
    assert digest.counts["changes"] == len(changes) == sum(digest.impact_counts.values())
    assert digest.impact_counts == {"affects": 3, "security": 1, "new": 0, "fixed": 2, "internal": 4}
    counted = [s for line in digest.by_impact for s in line.shas]
    assert sorted(counted) == sorted(changes)  # each change once, the merge in none
    assert [line.text for line in digest.by_impact] == [
        "May affect existing users: 3 changes", "Security: 1 change", "Fixed for users: 2 changes",
        "Behind the scenes: 4 changes (1 test change, 2 dependency updates, 1 maintenance change)"]
    assert {s for line in digest.affects for s in line.shas} == {sha["bang"], sha["footer"], sha["changelog"]}
    assert [line.shas for line in digest.security] == [(sha["security"],)]
    # The merge joins its branch's fix and is not a second one; the linter and the test fix are not fixes.
    assert sorted(line.shas for line in digest.fixes) == sorted([(sha["merge"], sha["branch fix"]), (sha["fix"],)])
    internal = {line.text: set(line.shas) for line in digest.internal}
    assert internal == {"1 test change": {sha["test fix"]}, "2 dependency updates": {sha["lodash"], sha["action"]},
                        "1 maintenance change": {sha["linter"]}}
    assert digest.summary[-1].text.startswith(
        "They fixed 2 problems and made 3 changes that may affect existing users")


def test_the_category_and_area_charts_count_the_changes_of_the_period(mixed):
    service, repo_id, sha = mixed
    digest = service.digest(repo_id, "30d")
    first, last = digest.period.first_day, digest.period.last_day
    by_category = service.activity(repo_id, "category", "week", first, last)
    assert sum(p.changes for p in by_category) == digest.counts["changes"]
    assert sha["merge"] not in {s for p in by_category for s in p.shas}
    areas = service.busiest_areas(repo_id, first, last, n=10)
    assert sum(a.changes for a in areas) == digest.counts["changes"]
    assert sorted((line.text for line in digest.areas)) == sorted(f"{a.area}: {a.changes} change{'s' if a.changes != 1 else ''}"
                                                                  for a in areas)


@pytest.mark.parametrize(("headline", "category", "paths", "extra", "group"), [
    ("Fix broken file uploads", "fix", ["lib/upload.js"], {}, ("fixed", None)),
    ("Ignore the linter error", "fix", ["lib/app.js"], {}, ("internal", "maintenance")),
    ("Fix typo in a comment", "fix", ["src/a.py"], {}, ("internal", "maintenance")),
    ("Fix the build script", "fix", ["scripts/build.sh"], {}, ("internal", "maintenance")),
    ("Add dark mode", "feature", ["src/theme.py"], {}, ("new", None)),
    ("Add a release helper", "feature", ["Makefile"], {}, ("internal", "maintenance")),
    ("Drop support for Python 3.8", "maintenance", ["pyproject.toml", ".github/workflows/ci.yml"], {}, ("affects", None)),
    ("Deprecate the old client", "maintenance", ["src/client.py"], {}, ("affects", None)),
    ("Mark req.host as deprecated", "maintenance", ["lib/request.js"], {}, ("affects", None)),
    ("Replace deprecated trimRight() with trimEnd()", "fix", ["lib/utils.js"], {}, ("fixed", None)),
    ("Fix deprecation warnings in the parser", "fix", ["src/parse.py"], {}, ("fixed", None)),
    ("Remove the --legacy option", "maintenance", ["src/cli.py"], {}, ("affects", None)),
    ("Remove an unused helper", "maintenance", ["src/util.py"], {}, ("internal", "maintenance")),
    ("res.download no longer sets Content-Type", "fix", ["lib/response.js"], {}, ("affects", None)),
    ("Run tests on Python 3.13", "maintenance", [".github/workflows/ci.yml"], {"ci": True}, ("internal", "ci")),
    ("Bump actions/checkout from 3 to 4", "dependencies", [".github/workflows/ci.yml"], {"ci": True},
     ("internal", "dependencies")),
    ("Bump foo from 1.9 to 2.0", "dependencies", ["package-lock.json"], {"breaking": True},  # upstream's notes
     ("internal", "dependencies")),
    ("Document CVE-2026-1 in the guide", "docs", ["docs/security.md"], {"advisories": ["CVE-2026-1"]}, ("internal", "docs")),
    ("Release 2.0.0", "release", ["CHANGELOG.md"], {"version": "2.0.0"}, ("affects", None)),
    ("Release 2.1.0", "release", ["CHANGELOG.md"], {"version": "2.1.0"}, ("internal", "release")),
    ("Release 0.9.0", "release", ["CHANGELOG.md"], {"version": "0.9.0"}, ("internal", "release")),
    ("Release 1.0.0", "release", ["CHANGELOG.md"], {"version": "1.0.0"}, ("internal", "release")),
    ("Merge pull request #1 from a/fix", "fix", ["src/a.py"], {"is_merge": True}, (impact.MERGE, None)),
    # The changelog entry the commit added says what changes for users, whatever the subject says.
    ("Upgrade content-disposition", "maintenance", ["package.json", "History.md", "test/res.download.js"],
     {"notes": ["Upgrade content-disposition to 2.0, which changes the header of res.download(): file names are "
                "no longer wrapped in quotes."]}, ("affects", None)),
    ("Upgrade content-type", "maintenance", ["package.json", "History.md"],
     {"notes": ["Upgrade content-type, with a behavior change: res.send() keeps existing parameters."]}, ("affects", None)),
    ("Tidy the changelog", "docs", ["History.md"],
     {"notes": ["The parser no longer accepts tabs."]}, ("internal", "docs")),  # only the notes changed
    ("Upgrade qs", "maintenance", ["package.json", "History.md"],
     {"notes": ["Upgrade qs to 6.14."]}, ("internal", "maintenance")),  # an entry that warns of nothing
])
def test_classify(headline, category, paths, extra, group):
    found = impact.classify(headline=headline, category=category, paths=paths, **extra)
    assert (found.group, found.kind) == group


def test_a_changelog_entry_under_a_removed_heading_may_affect_users():
    patch = ("diff --git a/CHANGELOG.md b/CHANGELOG.md\n--- a/CHANGELOG.md\n+++ b/CHANGELOG.md\n@@ -1,4 +1,8 @@\n"
             " # Changelog\n \n ## Unreleased\n+\n+### Removed\n+\n+- The `--legacy` flag.\n \n"
             "diff --git a/src/cli.py b/src/cli.py\n--- a/src/cli.py\n+++ b/src/cli.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert affecting_notes(patch) == [("Removed", "The --legacy flag.")]
    found = impact.of_commit(subject="Tidy the command line", message="Tidy the command line", category="maintenance",
                             paths=["CHANGELOG.md", "src/cli.py"], patch=patch)
    assert found.group == "affects" and "Removed" in found.why
    added_elsewhere = patch.replace("### Removed", "### Added")
    assert affecting_notes(added_elsewhere) == []
