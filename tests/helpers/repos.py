"""Git repositories built for tests: empty ones, a busy shop till, long histories made with git
fast-import, three repositories as of today (quiet, hotfixed, overdue), and a local repository served
as an https URL."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import git
import pytest

from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from tests.conftest import START, TODAY, commit_files
from tests.helpers.dashboard import no_worker


def make_repo(path: Path, *, branch: str | None = "main", identity: bool = False) -> git.Repo:
    """An empty repository at ``path`` on ``branch`` (git's default for None); with ``identity``, an author
    of its own in its config (tags and merges need one)."""
    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, initial_branch=branch) if branch else git.Repo.init(path)
    if identity:
        with repo.config_writer() as config:
            config.set_value("user", "name", "Ada Lovelace")
            config.set_value("user", "email", "ada@example.com")
    return repo


AUTHOR = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
          "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"}


@pytest.fixture(autouse=True)
def quiet_git_config(monkeypatch, tmp_path):
    """Keep the user's and system's git config (signing, hooks, rewrites) out of the tests: for every test
    of a module that imports it."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    for name in ("GIT_SSH_COMMAND", "GIT_SSH"):
        monkeypatch.delenv(name, raising=False)


def write(root: Path, rel: str, content: str | bytes) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")


def commit_all(repo: git.Repo, message: str, day: int) -> git.Commit:
    """Commit everything with a fixed author and date (2024-03-<day> 12:00 +02:00)."""
    date = f"2024-03-{day:02d}T12:00:00+02:00"
    repo.git.add("-A")
    repo.git.commit("-q", "--allow-empty", "-m", message,
                    env={**AUTHOR, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    return repo.head.commit


@pytest.fixture
def upstream(tmp_path, monkeypatch) -> tuple[str, git.Repo]:
    """A local repository reachable as an https URL through git's url.insteadOf rewrite."""
    origin = make_repo(tmp_path / "upstream")
    write(tmp_path / "upstream", "app.py", "def main():\n    return 1\n")
    commit_all(origin, "First", 1)
    url = "https://git.example.test/team/app.git"
    (tmp_path / "no-global-gitconfig").write_text(
        f'[url "file://{tmp_path / "upstream"}"]\n\tinsteadOf = {url}\n'
    )
    return url, origin


def run_git(root: Path, *args: str, env: dict | None = None) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env={**os.environ, **(env or {})})


def make_busy_repo(path: Path) -> git.Repo:
    """Six changes in the week up to START + 20 days: two areas, a release, a security fix."""
    repo = git.Repo.init(path)
    last = START + timedelta(days=20)
    commit_files(repo, {"README.md": "# Till\n\nA shop till.\n", "till/scan.py": "def scan(item):\n    return item\n"},
                 "Add the scanner", last - timedelta(days=40))
    commit_files(repo, {"till/scan.py": "def scan(item):\n    return item or None\n"}, "Scan empty items",
                 last - timedelta(days=6))
    commit_files(repo, {"till/pay.py": "def pay(total):\n    return total\n"}, "Add card payments",
                 last - timedelta(days=5))
    commit_files(repo, {"till/pay.py": "def pay(total):\n    return max(total, 0)\n"},
                 "Fix negative totals being charged (CVE-2026-12345)", last - timedelta(days=4))
    commit_files(repo, {"docs/till.md": "# Till\n"}, "Write the till guide", last - timedelta(days=3))
    commit_files(repo, {"till/scan.py": "def scan(item):\n    return item or ''\n"}, "Scan unnamed items",
                 last - timedelta(days=2))
    commit_files(repo, {"pyproject.toml": '[project]\nname = "till"\nversion = "1.1.0"\n',
                        "CHANGELOG.md": "# 1.1.0\n\n- Card payments.\n"}, "Release 1.1.0", last)
    repo.create_tag("v1.1.0")
    return repo


def fast_import_history(path: Path, commits: int, start: int = 1_600_000_000, step: int = 86_400,
                        tag_every: int = 0) -> None:
    """A repository of ``commits`` commits, one every ``step`` seconds from ``start`` (one a day), each
    changing one of a few files (git fast-import); with ``tag_every``, a version tag v1.N.0 on every
    ``tag_every``-th commit."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    lines = []
    for i in range(commits):
        when = start + i * step
        content = f"value = {i}\n".encode()
        message = f"Change value to {i}\n".encode()
        lines += [b"commit refs/heads/main", b"mark :%d" % (i + 1),
                  b"author Ada <ada@example.com> %d +0000" % when, b"committer Ada <ada@example.com> %d +0000" % when,
                  b"data %d" % len(message), message]
        if i:
            lines.append(b"from :%d" % i)
        lines += [b"M 644 inline src/part%d.py" % (i % 7), b"data %d" % len(content), content, b""]
        if tag_every and (i + 1) % tag_every == 0:
            lines += [b"reset refs/tags/v1.%d.0" % ((i + 1) // tag_every), b"from :%d" % (i + 1), b""]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"\n".join(lines) + b"\n", check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)


NOW = datetime.combine(TODAY, time(12), timezone.utc)


def release(repo: git.Repo, version: str, when: datetime) -> str:
    sha = commit_files(repo, {"pyproject.toml": f'[project]\nname = "shop"\nversion = "{version}"\n'},
                       f"Release {version}", when)
    repo.create_tag(f"v{version}")
    return sha


def make_quiet(path: Path) -> git.Repo:
    """Ten changes two days apart, the last a year before today."""
    repo = git.Repo.init(path)
    last = NOW - timedelta(days=366)
    for i in range(10):
        commit_files(repo, {"lib/core.py": f"def core():\n    return {i}\n"}, f"Return {i} from the core",
                     last - timedelta(days=2 * (9 - i)))
    return repo


def make_hotfixed(path: Path) -> tuple[git.Repo, dict]:
    """A release, its hotfix three days later, then five changes waiting to ship, mostly by Ada:
    one breaking, one security fix, one large change with no test and one large change with its test."""
    repo = git.Repo.init(path)
    shas = {}
    commit_files(repo, {"README.md": "# Shop\n\nA small web shop.\n", "shop/cart.py": "def cart():\n    return []\n"},
                 "Add the cart", NOW - timedelta(days=60), author="Grace Hopper")
    shas["2.0.0"] = release(repo, "2.0.0", NOW - timedelta(days=20))
    commit_files(repo, {"shop/cart.py": "def cart():\n    return list()\n"}, "Fix the empty cart crash",
                 NOW - timedelta(days=18), author="Grace Hopper")
    shas["2.0.1"] = release(repo, "2.0.1", NOW - timedelta(days=17))
    shas["breaking"] = commit_files(repo, {"shop/api.py": "def api():\n    return 2\n"},
                                    "feat!: drop the version 1 API", NOW - timedelta(days=10))
    shas["security"] = commit_files(repo, {"shop/form.py": "def form(x):\n    return escape(x)\n"},
                                    "Escape form input (CVE-2026-2391)", NOW - timedelta(days=8))
    big = "".join(f"def f{i}():\n    return {i}\n" for i in range(300))
    shas["untested"] = commit_files(repo, {"shop/big.py": big}, "Add the pricing engine", NOW - timedelta(days=6))
    shas["tested"] = commit_files(repo, {"shop/other.py": big, "tests/test_other.py": "def test_it():\n    pass\n"},
                                  "Add the stock engine", NOW - timedelta(days=4))
    shas["last"] = commit_files(repo, {"shop/cart.py": "def cart():\n    return []\n"}, "Keep the cart a list",
                                NOW - timedelta(days=2))
    return repo, shas


def make_overdue(path: Path) -> git.Repo:
    """Five releases two weeks apart, the last 100 days ago, and changes since."""
    repo = git.Repo.init(path)
    first = NOW - timedelta(days=100 + 4 * 14)
    for i in range(5):
        commit_files(repo, {"shop/cart.py": f"def cart():\n    return {i}\n"}, f"Change the cart {i}",
                     first + timedelta(days=14 * i - 1))
        release(repo, f"1.{i}.0", first + timedelta(days=14 * i))
    for i in range(3):
        commit_files(repo, {"shop/cart.py": f"def cart():\n    return {i + 10}\n"}, f"Tune the cart {i}",
                     NOW - timedelta(days=30 - i))
    return repo


@pytest.fixture
def narrated(tmp_path, settings, monkeypatch):
    """The three repositories above, added and narrated with the fake model."""
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    hotfixed, shas = make_hotfixed(tmp_path / "hotfixed")
    ids = {}
    for name, repo in (("quiet", make_quiet(tmp_path / "quiet")), ("hotfixed", hotfixed),
                       ("overdue", make_overdue(tmp_path / "overdue"))):
        view = service.add_repository(repo.working_tree_dir)
        run_job(settings, service.start_narration(view.id, commits=3).id)
        ids[name] = view.id
    return service, ids, shas
