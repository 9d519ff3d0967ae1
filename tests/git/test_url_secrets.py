"""A password written into a clone URL reaches git and nothing else: not the database, a page, a
report, a log or an error. The upstream is a real https server that asks for the password
(``tests/helpers/https_git.py``)."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import git
import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from dashboard.shared import REPO_KEY
from dashboard.wording import plain
from db.errors import RepoError
from db.store import Store
from narrator.git.repo import open_repository
from narrator.git.sources import _clone_folder_name, without_credentials
from narrator.pipeline import jobs
from narrator.render import exports as reports
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import START, commit_files, make_sample_repo
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.dashboard import APP
from tests.helpers.https_git import serve, stop

SECRET = "S3cretP4ss"


@pytest.fixture
def https_git(tmp_path, monkeypatch):
    """The sample repository served at https://127.0.0.1:<port>/up.git to alice:S3cretP4ss only.

    The user's global git config names a credential helper with a wrong password: git must ask ours.
    """
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    (tmp_path / "gitconfig").write_text('[credential]\n\thelper = "!f() { echo username=alice; echo password=wrong; }; f"\n')
    for name in ("GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS"):
        monkeypatch.delenv(name, raising=False)
    work = make_sample_repo(tmp_path / "work")
    (tmp_path / "srv").mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(tmp_path / "work"), str(tmp_path / "srv" / "up.git")], check=True)
    server = serve(tmp_path / "srv", tmp_path, "alice", SECRET)
    monkeypatch.setenv("GIT_SSL_CAINFO", str(tmp_path / "cert.pem"))
    yield server, work
    stop(server)


def publish(work: git.Repo, tmp_path: Path, message: str, day: int) -> str:
    """Commit in the work repository and push it to the served one; returns the new sha."""
    sha = commit_files(work, {f"notes/{day}.md": f"Day {day}\n"}, message, START + timedelta(days=day))
    subprocess.run(["git", "-C", str(tmp_path / "srv" / "up.git"), "fetch", "-q", str(work.working_tree_dir),
                    "+HEAD:refs/heads/" + work.active_branch.name], check=True)
    return sha


def files_holding(folder: Path, secret: str = SECRET) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes())


@pytest.mark.parametrize(("given", "clean"), [
    ("https://alice:S3cretP4ss@host/up.git", "https://host/up.git"),
    ("https://ghp_token0123456789@github.com:8443/o/r.git", "https://github.com:8443/o/r.git"),
    ("https://a@b:c@host/x", "https://host/x"),
    ("ssh://git:S3cretP4ss@host/x.git", "ssh://git@host/x.git"),
    ("ssh://git@host/x.git", "ssh://git@host/x.git"),
    ("git@host:team/x.git", "git@host:team/x.git"),
    ("https://host/x@y.git", "https://host/x@y.git"),
    ("/srv/code/a:b@c", "/srv/code/a:b@c"),
])
def test_without_credentials(given, clean):
    assert without_credentials(given) == clean


def test_a_password_in_a_url_reaches_git_only_through_our_helper(https_git, tmp_path):
    server, work = https_git
    clones = tmp_path / "clones"
    repo = open_repository(server.secret_url("up.git"), clones)
    assert repo.head.commit.hexsha == work.head.commit.hexsha
    assert any(ok for _, ok in server.requests), "git sent the password"
    assert repo.remote("origin").url == server.url("up.git")
    [kept] = files_holding(clones)  # not the clone's config, FETCH_HEAD or logs: one file of ours
    assert kept.parent == clones / ".credentials"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(kept.parent.stat().st_mode) == 0o700

    # A later run given the URL without the password (narrate --all, the dashboard) still fetches.
    newest = publish(work, tmp_path, "Write day notes", 20)
    again = open_repository(server.url("up.git"), clones)
    assert again.git_dir == repo.git_dir and again.head.commit.hexsha == newest

    # Without the kept password the server refuses: the helper is what made the fetch work.
    with pytest.raises(RepoError) as refused:
        open_repository(server.url("up.git"), tmp_path / "elsewhere")
    assert SECRET not in str(refused.value) and "wrong" not in str(refused.value)


def test_an_unreachable_url_with_a_password_fails_without_showing_it(tmp_path):
    with pytest.raises(RepoError) as info:
        open_repository(f"https://alice:{SECRET}@127.0.0.1:9/up.git", tmp_path / "clones", timeout=30)
    assert SECRET not in str(info.value) and "127.0.0.1" in str(info.value)
    # Nothing was cloned, so the password is not kept either.
    assert not any((tmp_path / "clones" / ".credentials").iterdir())
    result = run_cli("narrate", f"https://alice:{SECRET}@127.0.0.1:9/up.git", home=tmp_path / "home")
    assert_one_line_error(result, "could not clone")
    assert SECRET not in result.stderr + result.stdout


def test_a_clone_made_with_the_password_in_its_config_is_taken_over(https_git, tmp_path):
    """Clones made before this version are named after the URL with its password, which their
    config holds: the next run moves the password out and keeps the objects."""
    server, work = https_git
    clones = tmp_path / "clones"
    repo = open_repository(server.secret_url("up.git"), clones)
    old_name = _clone_folder_name(server.secret_url("up.git"))
    Path(repo.git_dir).rename(clones / old_name)
    (clones / old_name / "config").write_text((clones / old_name / "config").read_text()
                                              .replace(server.url("up.git"), server.secret_url("up.git")))
    for kept in (clones / ".credentials").iterdir():
        kept.unlink()

    newest = publish(work, tmp_path, "Write day notes", 21)
    again = open_repository(server.url("up.git"), clones)
    assert again.head.commit.hexsha == newest
    assert Path(again.git_dir).name == _clone_folder_name(server.url("up.git"))
    assert not (clones / old_name).exists()
    assert files_holding(clones) == [clones / ".credentials" / _clone_folder_name(server.url("up.git"))]


def test_no_output_shows_the_password(https_git, tmp_path, monkeypatch):
    """narrate, show, report (md, html, pdf and its metadata), the portfolio report, narrate --all,
    a narration in a worker (its log and job), the dashboard's Overview and the database file."""
    server, work = https_git
    home = tmp_path / "home"
    secret_url, clean_url = server.secret_url("up.git"), server.url("up.git")
    said = []

    def cli(*args: str) -> subprocess.CompletedProcess:
        result = run_cli(*args, home=home)
        assert result.returncode == 0, result.stderr
        said.append(result.stdout + result.stderr)
        return result

    cli("narrate", secret_url, "--commits", "3")
    cli("show", secret_url)
    cli("show", clean_url)
    for fmt in ("md", "html", "pdf"):
        cli("report", secret_url, "--out", str(tmp_path / f"report.{fmt}"))
    subject = PdfReader(tmp_path / "report.pdf").metadata.get("/Subject", "")
    assert clean_url in subject and SECRET not in subject
    publish(work, tmp_path, "Write day notes", 22)
    cli("narrate", "--all")
    shop = make_sample_repo(tmp_path / "shop").working_tree_dir
    cli("narrate", shop, "--commits", "3")

    monkeypatch.setenv("CODE_NARRATOR_HOME", str(home))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    monkeypatch.delenv("CODE_NARRATOR_ADAPTER", raising=False)
    service = NarratorService(load_settings())
    repo = service.find(secret_url)
    assert (repo.source, repo.name) == (clean_url, "up")
    local = service.find(shop)
    for fmt in ("md", "html", "pdf"):
        (tmp_path / f"portfolio.{fmt}").write_bytes(reports.build(service, [repo.id, local.id], "30d", fmt))

    # A narration in a worker process, as the dashboard starts it: its log and its job.
    publish(work, tmp_path, "Write more notes", 23)
    job = service.start_narration(repo.id, commits=3)
    deadline = time.monotonic() + 240
    while service.store.get_job(job.id).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert service.store.get_job(job.id).status == "done", service.store.get_job(job.id).error
    assert service.repository(repo.id).head_sha == work.head.commit.hexsha
    assert list((home / "logs").glob("*.log")), "the worker wrote a log"

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[REPO_KEY] = repo.id
    at.run()
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith(plain(clean_url) + " ·") for c in at.caption)
    page = [e.value for kind in ("markdown", "caption", "error", "info", "success", "title") for e in getattr(at, kind)]
    assert not [text for text in page if SECRET in text]

    assert not [text for text in said if SECRET in text]
    assert files_holding(tmp_path, "S3cretP4ss") == [home / "repos" / ".credentials" / _clone_folder_name(clean_url)]


def test_stale_clone_folders_are_removed_on_the_next_clone(https_git, tmp_path):
    """A clone killed with kill -9 leaves its temporary folder: the next clone removes it, unless
    its process is still alive (and not older than a day)."""
    server, _ = https_git
    clones = tmp_path / "clones"
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead = clones / f".up-0123456789ab.tmp-{finished.pid}"
    alive = clones / f".up-0123456789ab.tmp-{os.getppid()}"
    old = clones / f".other-0123456789ab.tmp-{os.getppid()}"
    for folder in (dead, alive, old):
        (folder / "objects" / "pack").mkdir(parents=True)
        (folder / "objects" / "pack" / "pack-1.pack").write_bytes(b"x" * 1000)
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(old, (week_ago, week_ago))

    open_repository(server.secret_url("up.git"), clones)
    assert not dead.exists() and not old.exists()
    assert alive.exists(), "a clone still running keeps its folder"


def test_migration_0007_takes_credentials_out_of_stored_sources_and_jobs(tmp_path):
    from alembic import command

    from db.store import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0006")
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        def add(source, narrated):
            return conn.execute(sa.text(
                "INSERT INTO repositories (source, name, local_path, added_at, narrated_at, shallow, history_version) "
                "VALUES (:s, 'up', '/x', '2026-01-01 00:00:00.000000', :n, 0, 0) RETURNING id"),
                {"s": source, "n": narrated}).scalar()
        old = add(f"https://alice:{SECRET}@host/up.git", "2026-02-01 00:00:00.000000")
        newer = add("https://host/up.git", "2026-03-01 00:00:00.000000")
        alone = add(f"https://ghp_{SECRET}@host/alone.git", None)
        conn.execute(sa.text("INSERT INTO commits (repo_id, sha, subject, message, author, email, date, area, category, "
                             "headline, files, added, removed, is_merge, reachable, seq) VALUES (:r, 'abc', 's', 'm', 'a', 'e', "
                             "'2026-01-01 00:00:00.000000', 'x', 'c', 'h', '[]', 0, 0, 0, 1, 0)"), {"r": old})
        conn.execute(sa.text("INSERT INTO jobs (repo_id, kind, status, params, done, total, message, error, created_at, "
                             "updated_at) VALUES (:r, 'narrate', 'failed', :p, 0, 0, :m, :e, '2026-01-01 00:00:00', "
                             "'2026-01-01 00:00:00')"),
                     {"r": old, "p": f'{{"source": "https://alice:{SECRET}@host/up.git"}}',
                      "m": f"Cloning https://alice:{SECRET}@host/up.git", "e": f"Could not clone https://alice:{SECRET}@host/up.git"})
    engine.dispose()

    store = Store(url)  # migrates to the head
    rows = {r.id: r.source for r in store.list_repositories()}
    assert rows == {newer: "https://host/up.git", alone: "https://host/alone.git"}  # the one narrated last kept
    [job] = [store.get_job(1)]
    assert job.repo_id == newer and SECRET not in repr((job.params, job.message, job.error))
    assert "https://host/up.git" in job.error
    assert store.commit_shas(newer) == set()  # the dropped row's commits went with it
    store.close()  # the last connection closed: SQLite checkpoints the write-ahead log into the file
    assert files_holding(tmp_path) == []
