"""Behaviour of narrator.git.repo: source validation, opening/cloning, files at HEAD, commits, patch cutting."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git
import pytest

from db.errors import RepoError
from narrator.git import safety
from narrator.git.commits import approx_tokens, cut_patch, recent_commits
from narrator.git.files import scan_source_files, skipped_summary, source_files
from narrator.git.repo import is_shallow, open_repository
from narrator.git.sources import repository_name, validate_source
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.repos import (  # noqa: F401  (fixtures)
    AUTHOR,
    commit_all,
    make_repo,
    quiet_git_config,
    upstream,
    write,
)

# ---------------------------------------------------------------------------------------------
# validate_source


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/psf/requests.git",
        "https://github.com/psf/requests",
        "https://gitlab.example.com:8443/group/sub/project.git",
        "ssh://git@github.com/psf/requests.git",
        "ssh://git@example.com:2222/srv/repo.git",
        "git@github.com:psf/requests.git",
        "deploy@git.example.org:team/tool",
        "  https://github.com/psf/requests.git  ",
    ],
)
def test_validate_source_accepts_https_ssh_and_scp_like(source):
    assert validate_source(source) == source.strip()


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("ext::sh -c touch% /tmp/pwned", "'ext::' transport"),
        ("ext::sh", "transport"),
        ("file::/tmp/repo", "transport"),
        ("fd::17", "transport"),
        ("file:///tmp/repo", "file://"),
        ("http://github.com/psf/requests.git", "http://"),
        ("git://github.com/psf/requests.git", "protocol"),
        ("ftp://example.com/repo.git", "protocol"),
        ("-uhelp", "option"),
        ("--upload-pack=touch /tmp/pwned", "option"),
        ("   --upload-pack=x", "option"),
        ("https://github.com/psf/requests.git --upload-pack=x", "option"),
        ("https://github.com/psf/requests.git\t-c core.sshCommand=x", "control"),
        ("ssh://-oProxyCommand=touch%20x/repo", "option"),
        ("https://github.com/psf/re quests.git", "spaces"),
        ("https://github.com/psf/requests.git\nfatal", "control"),
        ("https://github.com/psf/\x1b[31mred", "control"),
        ("https:///psf/requests.git", "host"),
        ("https://github.com", "path"),
        ("https://github.com:notaport/x.git", "port"),
        ("", "No repository given"),
        ("   ", "No repository given"),
    ],
)
def test_validate_source_refuses_unsafe_or_unsupported(source, why):
    with pytest.raises(RepoError) as info:
        validate_source(source)
    message = str(info.value)
    assert why in message
    assert "\n" not in message and "\x1b" not in message


def test_validate_source_resolves_local_folders(tmp_path, monkeypatch):
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path)
    assert validate_source("project") == str(tmp_path / "project")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RepoError, match="is not a folder"):
        validate_source("notes.txt")


@pytest.mark.parametrize(
    "source", ["http://user:s3cret@example.com/repo.git", "http://ghp_s3cretS3cretS3cretS3cret@example.com/r.git"]
)
def test_validate_source_hides_url_secrets_in_messages(source):
    with pytest.raises(RepoError) as info:
        validate_source(source)
    assert "s3cret" not in str(info.value) and "example.com" in str(info.value)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("https://github.com/psf/requests.git", "requests"),
        ("https://github.com/psf/requests/", "requests"),
        ("git@github.com:psf/requests.git", "requests"),
        ("ssh://git@example.com/srv/tool.git", "tool"),
        ("/srv/code/my-project/", "my-project"),
        ("/srv/code/bare.git", "bare"),
    ],
)
def test_repository_name(source, name):
    assert repository_name(source) == name


# ---------------------------------------------------------------------------------------------
# open_repository


def test_open_repository_missing_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(RepoError, match=r"^No such folder: .*nope$"):
        open_repository(str(missing), tmp_path / "clones")


def test_open_repository_folder_without_git(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(RepoError, match=r"plain is not a git repository\.$"):
        open_repository(str(tmp_path / "plain"), tmp_path / "clones")


def test_open_repository_empty_repository(tmp_path):
    make_repo(tmp_path / "empty")
    with pytest.raises(RepoError, match=r"empty is an empty repository \(no commits yet\)\.$"):
        open_repository(str(tmp_path / "empty"), tmp_path / "clones")


def test_open_repository_local_folder(tmp_path):
    repo = make_repo(tmp_path / "proj")
    write(tmp_path / "proj", "a.py", "x = 1\n")
    first = commit_all(repo, "Start", 1)
    opened = open_repository(str(tmp_path / "proj"), tmp_path / "clones")
    assert opened.head.commit.hexsha == first.hexsha
    assert not (tmp_path / "clones").exists()  # local folders are read in place


def test_open_repository_unreachable_url_fails_fast(tmp_path):
    started = time.monotonic()
    with pytest.raises(RepoError) as info:
        open_repository("https://127.0.0.1:9/nothing.git", tmp_path / "clones", timeout=30)
    message = str(info.value)
    assert message.startswith("Could not clone URL: ")
    assert "\n" not in message and "127.0.0.1" in message
    assert time.monotonic() - started < 20
    # A failed clone leaves nothing behind that could pass for a clone later.
    assert list((tmp_path / "clones").iterdir()) == []


def test_open_repository_unreachable_ssh_names_the_cause(tmp_path):
    with pytest.raises(RepoError, match=r"^Could not clone URL: ssh: connect to host 127\.0\.0\.1 port 9: Connection refused$"):
        open_repository("ssh://git@127.0.0.1:9/team/app.git", tmp_path / "clones", timeout=30)


def test_open_repository_times_out_on_a_silent_server(tmp_path):
    # A server that accepts the connection and never answers: without the timeout git would wait forever.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        port = server.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(RepoError, match=r"^Could not clone URL: no answer within 2 seconds$"):
            open_repository(f"https://127.0.0.1:{port}/silent.git", tmp_path / "clones", timeout=2)
        assert time.monotonic() - started < 15


def test_clone_refuses_a_redirect_to_a_disallowed_protocol(upstream, tmp_path):
    # The https URL is rewritten to file:// by git config; GIT_ALLOW_PROTOCOL still blocks it.
    url, _ = upstream
    with pytest.raises(RepoError, match=r"^Could not clone URL: .*'file' not allowed"):
        open_repository(url, tmp_path / "clones")


def test_clone_then_update(upstream, tmp_path, monkeypatch):
    url, origin = upstream
    monkeypatch.setattr(safety, "CLONE_PROTOCOLS", ("https", "ssh", "file"))  # only for this test
    clones = tmp_path / "clones"
    cloned = open_repository(url, clones)
    assert cloned.bare and Path(cloned.git_dir).parent == clones
    assert Path(cloned.git_dir).name.startswith("app-")
    assert [f.path for f in source_files(cloned)] == ["app.py"]

    write(tmp_path / "upstream", "app.py", "def main():\n    return 2\n")
    newest = commit_all(origin, "Second", 2)
    again = open_repository(url, clones)
    assert again.git_dir == cloned.git_dir
    assert again.head.commit.hexsha == newest.hexsha
    assert "return 2" in source_files(again)[0].text
    assert [p.name for p in clones.iterdir()] == [Path(cloned.git_dir).name]


def test_existing_clone_is_used_when_update_fails(upstream, tmp_path, monkeypatch):
    url, origin = upstream
    monkeypatch.setattr(safety, "CLONE_PROTOCOLS", ("https", "ssh", "file"))
    first = open_repository(url, tmp_path / "clones")
    head = first.head.commit.hexsha
    monkeypatch.setattr(safety, "CLONE_PROTOCOLS", ("https", "ssh"))  # now the fetch is refused
    again = open_repository(url, tmp_path / "clones")
    assert again.head.commit.hexsha == head


# ---------------------------------------------------------------------------------------------
# source_files


def test_source_files_keeps_code_and_skips_the_rest(tmp_path):
    root = tmp_path / "proj"
    repo = make_repo(root)
    write(root, "src/app.py", "def main():\n    print('hi')\n")
    write(root, "src/util.js", "export function add(a, b) {\n  return a + b;\n}\n")
    write(root, "README.md", "# Project\n\nDoes things.\n")
    write(root, "src/café.rb", "def hello\n  'bonjour'\nend\n")
    write(root, "blob.dat", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(root, "logo.png", b"not really a png but named like one")
    write(root, "node_modules/left-pad/index.js", "module.exports = 1;\n")
    write(root, "vendor/lib/helper.php", "<?php function h() {}\n")
    write(root, "static/jquery.min.js", "var a=1;\n")
    write(root, "static/bundle.js", "var a=1;" * 1000 + "\n")  # one 8,000-character line
    write(root, "data/huge.txt", ("word " * 10 + "\n") * 6_000)  # 306 KB, over the default 200 KB
    write(root, "legacy/latin1.txt", "caf\xe9 cr\xe8me\n".encode("latin-1"))
    write(root, "api/types.pb.go", "package api\n")
    write(root, "api/gen.go", "// Code generated by stringer. DO NOT EDIT.\n\npackage api\n")
    write(root, "package-lock.json", "{}\n")
    write(root, "empty.py", "")
    commit_all(repo, "Add files", 1)
    write(root, "src/app.py", "def changed_but_not_committed():\n    pass\n")
    write(root, "untracked.py", "x = 1\n")

    scan = scan_source_files(repo)
    by_path = {f.path: f for f in scan.files}
    assert sorted(by_path) == ["README.md", "src/app.py", "src/café.rb", "src/util.js"]
    assert by_path["src/app.py"].text == "def main():\n    print('hi')\n"  # HEAD, not the working folder
    assert by_path["src/app.py"].language == "python"
    assert by_path["src/util.js"].language == "javascript"
    assert by_path["src/café.rb"].language == "ruby"
    assert by_path["README.md"].language is None
    assert by_path["src/app.py"].size == len("def main():\n    print('hi')\n")
    assert scan.skipped == {
        "binary": ("blob.dat", "logo.png"),
        "generated": ("api/gen.go", "api/types.pb.go", "package-lock.json"),
        "huge": ("data/huge.txt",),
        "non_utf8": ("legacy/latin1.txt",),
        "minified": ("static/bundle.js", "static/jquery.min.js"),
        "vendored": ("node_modules/left-pad/index.js", "vendor/lib/helper.php"),
        "empty": ("empty.py",),
    }
    assert skipped_summary(scan)["generated"] == 3
    assert scan.note() == (
        "Skipped 12 files: 3 generated, 2 binary, 2 minified, 2 vendored, 1 empty, 1 too large, 1 not UTF-8."
    )
    assert [f.path for f in source_files(repo, max_bytes=1_000_000)].count("data/huge.txt") == 1


def test_source_files_keeps_prose_with_long_paragraph_lines(tmp_path):
    repo = make_repo(tmp_path / "p")
    paragraph = "This tool explains code to people who do not read code. " * 12  # ~700 characters
    write(tmp_path / "p", "README.md", f"# Tool\n\n{paragraph}\n\n{paragraph}\n")
    write(tmp_path / "p", "main.go", "package main\n")
    commit_all(repo, "Docs", 1)
    scan = scan_source_files(repo)
    assert [f.path for f in scan.files] == ["README.md", "main.go"] and scan.note() is None


def test_source_files_of_an_empty_repository(tmp_path):
    assert source_files(make_repo(tmp_path / "e")) == []


# ---------------------------------------------------------------------------------------------
# recent_commits


@pytest.fixture
def history(tmp_path) -> git.Repo:
    """root -> edit + rename -> feature branch merged with --no-ff."""
    root = tmp_path / "hist"
    repo = make_repo(root)
    write(root, "app.py", "a = 1\nb = 2\nc = 3\n")
    write(root, "notes.txt", "first note\nsecond note\nthird note\nfourth note\n")
    commit_all(repo, "Start the project\n\nWith two files.", 1)
    write(root, "app.py", "a = 1\nb = 20\nc = 3\nd = 4\n")
    (root / "notes.txt").rename(root / "NOTES.md")
    write(root, "logo.bin", b"\x00\x01\x02\x03")
    commit_all(repo, "Change b, add d, rename notes", 2)
    repo.git.checkout("-q", "-b", "feature")
    write(root, "feature.py", "def feature():\n    return 'new'\n")
    commit_all(repo, "Add feature", 3)
    repo.git.checkout("-q", "main")
    write(root, "app.py", "a = 1\nb = 20\nc = 3\nd = 4\ne = 5\n")
    commit_all(repo, "Add e", 4)
    date = "2024-03-05T12:00:00+02:00"
    repo.git.merge("-q", "--no-ff", "feature", "-m", "Merge feature",
                   env={**AUTHOR, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    return repo


def test_recent_commits_describe_each_commit(history):
    commits = recent_commits(history)
    assert [c.subject for c in commits] == ["Merge feature", "Add e", "Add feature",
                                           "Change b, add d, rename notes", "Start the project"]
    merge, add_e, feature, change, start = commits

    assert start.is_root and not start.is_merge and start.parents == ()
    assert start.message == "Start the project\n\nWith two files."
    assert start.author == "Ada Lovelace" and start.email == "ada@example.com"
    assert start.date == datetime(2024, 3, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert {(f.path, f.change, f.added, f.removed) for f in start.files} == {
        ("app.py", "added", 3, 0), ("notes.txt", "added", 4, 0)}
    assert (start.added, start.removed) == (7, 0)
    assert "+a = 1" in start.patch and "--- /dev/null" in start.patch

    files = {f.path: f for f in change.files}
    assert files["app.py"].change == "modified" and (files["app.py"].added, files["app.py"].removed) == (2, 1)
    assert files["NOTES.md"].change == "renamed" and files["NOTES.md"].old_path == "notes.txt"
    assert (files["NOTES.md"].added, files["NOTES.md"].removed) == (0, 0)
    assert files["logo.bin"].binary and files["logo.bin"].change == "added"
    assert (change.added, change.removed) == (2, 1)
    # Direction check: '+' lines carry the new content, '-' lines the old.
    assert "\n+b = 20\n" in change.patch and "\n-b = 2\n" in change.patch
    assert "rename from notes.txt" in change.patch and "Binary files" in change.patch

    # A merge is shown against its first parent: what the merge brought into main.
    assert merge.is_merge and merge.parents == (add_e.sha, feature.sha)
    assert [(f.path, f.change, f.added, f.removed) for f in merge.files] == [("feature.py", "added", 2, 0)]
    assert "+def feature():" in merge.patch and "e = 5" not in merge.patch


def test_recent_commits_limit_and_since(history):
    assert [c.subject for c in recent_commits(history, limit=2)] == ["Merge feature", "Add e"]
    since = datetime(2024, 3, 4, 0, 0, tzinfo=timezone.utc)
    assert [c.subject for c in recent_commits(history, since=since)] == ["Merge feature", "Add e"]


def test_recent_commits_of_an_empty_repository(tmp_path):
    assert recent_commits(make_repo(tmp_path / "e")) == []


def test_recent_commits_honour_the_declared_encoding(tmp_path):
    root = tmp_path / "latin"
    repo = make_repo(root)
    write(root, "menu.txt", "coffee\n")
    repo.git.add("-A")
    (tmp_path / "message").write_bytes(b"Serve caf\xe9\n\nThe caf\xe9 opens at nine.\n")
    # git records the bytes as given and declares them: the commit has an 'encoding ISO-8859-1' header.
    subprocess.run(["git", "-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "-F", str(tmp_path / "message")],
                   cwd=root, check=True, env={**os.environ, **{k.encode(): v.encode() for k, v in AUTHOR.items()},
                                              b"GIT_AUTHOR_NAME": b"Ren\xe9 Descartes"})
    assert b"\nencoding ISO-8859-1\n" in repo.git.cat_file("commit", "HEAD", stdout_as_string=False)
    (commit,) = recent_commits(repo)
    assert commit.subject == "Serve café"
    assert commit.message == "Serve café\n\nThe café opens at nine."
    assert commit.author == "René Descartes"


# ---------------------------------------------------------------------------------------------
# Shallow clones and damaged repositories


@pytest.fixture
def shallow(tmp_path) -> tuple[Path, git.Repo]:
    """(a five-commit repository, its clone with the newest three only, as CI checkouts make)."""
    root = tmp_path / "full"
    repo = make_repo(root)
    for day in range(1, 6):
        write(root, "app.py", "".join(f"step_{n} = {n}\n" for n in range(day)))
        commit_all(repo, f"Add step {day}", day)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "3", f"file://{root}", str(clone)], check=True)
    return clone, repo


def test_a_shallow_clone_keeps_its_boundary_commit_without_inventing_changes(shallow, tmp_path):
    clone, full = shallow
    repo = open_repository(str(clone), tmp_path / "clones")
    assert is_shallow(repo) and not is_shallow(full)
    commits = recent_commits(repo)
    assert [c.subject for c in commits] == ["Add step 5", "Add step 4", "Add step 3"]
    newest, _, oldest = commits
    assert not newest.parent_missing and [f.path for f in newest.files] == ["app.py"]
    assert "+step_4 = 4" in newest.patch
    # Its parent is not in the clone: no claim that it added every file, and it is no root commit.
    assert oldest.parent_missing and oldest.files == () and oldest.patch == ""
    assert not oldest.is_root and oldest.parents == (full.commit("HEAD~3").hexsha,)


def test_narrate_and_show_a_shallow_clone(shallow, tmp_path):
    clone, _ = shallow
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'cache.sqlite'}"
    result = run_cli("narrate", str(clone), "--model", "fake", "--db", db, home=home)
    assert result.returncode == 0, result.stderr
    shown = run_cli("show", str(clone), "--db", db, home=home)
    assert shown.returncode == 0, shown.stderr
    assert "Partial history: this is a shallow clone; older commits are not in it." in shown.stdout
    assert "Add step 3" in shown.stdout and "Add step 5" in shown.stdout


@pytest.mark.parametrize("target, damage", [("HEAD:app.py", "overwrite"), ("HEAD~1:app.py", "delete"),
                                            ("HEAD^{tree}", "delete"), ("HEAD~1", "overwrite"),
                                            ("HEAD", "delete")])
def test_a_damaged_repository_gives_one_line(target, damage, tmp_path):
    root = tmp_path / "damaged"
    repo = make_repo(root)
    for day in (1, 2, 3):
        write(root, "app.py", f"answer = {day}\n")
        commit_all(repo, f"Answer {day}", day)
    sha = repo.git.rev_parse(target)
    loose = root / ".git" / "objects" / sha[:2] / sha[2:]
    loose.chmod(0o644)
    if damage == "delete":
        loose.unlink()
    else:
        loose.write_bytes(b"not a zlib stream\n")
    result = run_cli("narrate", str(root), "--model", "fake", "--db", f"sqlite:///{tmp_path / 'c.sqlite'}",
                     home=tmp_path / "home")
    assert result.returncode == 1
    assert_one_line_error(result, "could not read", "damaged")


# ---------------------------------------------------------------------------------------------
# cut_patch


def test_cut_patch_leaves_small_patches_alone():
    patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    assert cut_patch(patch, 1000) == (patch, None)


def test_big_commit_is_read_quickly_and_cut_to_budget(tmp_path):
    root = tmp_path / "big"
    repo = make_repo(root)
    write(root, "README.md", "hello\n")
    commit_all(repo, "Start", 1)
    write(root, "data/table.py", "".join(f"ROW_{i} = {i}\n" for i in range(10_000)))
    write(root, "src/small.py", "def small():\n    return 1\n")
    write(root, "package-lock.json", "{\n" + "".join(f'  "dep{i}": "1.0.{i}",\n' for i in range(300)) + "}\n")
    write(root, "README.md", "hello\nworld\n")
    commit_all(repo, "Add a big table", 2)

    started = time.monotonic()
    [commit] = recent_commits(repo, limit=1)
    assert time.monotonic() - started < 5
    assert commit.added == 10_000 + 2 + 302 + 1

    started = time.monotonic()
    cut, note = cut_patch(commit.patch, max_tokens=1500)
    assert time.monotonic() - started < 2
    assert approx_tokens(cut) <= 1500
    # Small files are kept whole; the big file is shown from its start; the lockfile is dropped.
    assert "+def small():" in cut and "+world" in cut and "+ROW_0 = 0" in cut
    assert "ROW_9999" not in cut and "dep0" not in cut
    assert note is not None and "\n" not in note
    assert "the rest of data/table.py (" in note and "package-lock.json" in note
    shown_rows = cut.count("\n+ROW_")
    assert f"({10_000 - shown_rows:,} changed lines)" in note
    assert "1 more file (package-lock.json; 302 changed lines)" in note


def test_cut_patch_names_every_omitted_file_count():
    sections = "".join(
        f"diff --git a/f{i}.py b/f{i}.py\n--- a/f{i}.py\n+++ b/f{i}.py\n@@ -0,0 +1,50 @@\n" + "+x\n" * 50
        for i in range(8)
    )
    cut, note = cut_patch(sections, max_tokens=60)
    assert approx_tokens(cut) <= 60
    assert note is not None and "and " in note and "others" in note
    assert cut_patch(sections, max_tokens=0)[0] == ""


def test_a_shallow_boundary_commit_is_never_sent_to_the_model(tmp_path, monkeypatch):
    root = tmp_path / "full"
    repo = make_repo(root)
    for day, subject in enumerate(["Start", "wip", "Add the report", "Add the chart"], start=1):
        write(root, "app.py", f"value = {day}\n")
        commit_all(repo, subject, day)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "3", f"file://{root}", str(clone)], check=True)
    boundary = git.Repo(clone).git.rev_parse("HEAD~2")  # "wip": uninformative, but with no diff to read

    from narrator.model.fake import FakeBackend
    from narrator.pipeline.narrate import narrate_repository
    from narrator.pipeline.tasks import Budget
    from narrator.service.core import NarratorService
    from narrator.settings import load_settings

    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    settings = load_settings()
    service = NarratorService(settings)
    view = service.add_repository(str(clone))
    narrate_repository(settings, service.store, view.id, Budget(), FakeBackend())
    told = {sha for kind in ("commit", "headline") for sha in service.store.latest_narratives(view.id, kind)}
    assert boundary not in told
    change = next(c for c in service.changes(view.id) if c.sha == boundary)
    assert change.headline.text.lower() == "wip" and service.repository(view.id).shallow


def test_a_symlink_out_of_the_repository_is_skipped_never_read(tmp_path):
    root = tmp_path / "links"
    repo = make_repo(root)
    write(root, "app.py", "def main():\n    return 1\n")
    os.symlink("/etc/passwd", root / "passwords.py")
    commit_all(repo, "Add the app and a link", 1)
    scan = scan_source_files(repo)
    assert [f.path for f in scan.files] == ["app.py"]
    assert scan.skipped == {"symlink": ("passwords.py",)}
    assert all("root:" not in f.text for f in scan.files)


def test_the_dashboard_says_a_shallow_history_is_partial_even_once_the_folder_is_gone(shallow, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from narrator.service.core import NarratorService
    from narrator.service.views import SHALLOW_NOTE
    from narrator.settings import load_settings

    clone, _ = shallow
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'cache.sqlite'}"
    assert run_cli("narrate", str(clone), "--model", "fake", "--db", db, home=home).returncode == 0
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(home))
    monkeypatch.setenv("CODE_NARRATOR_DB", db)
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    shutil.rmtree(clone)  # the flag was recorded by the scan: no git is needed to show it
    assert NarratorService(load_settings()).repositories()[0].shallow
    app = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
    for page, kind in (("app_pages/changes.py", "info"), ("app_pages/overview.py", "caption")):
        at = AppTest.from_file(app, default_timeout=60).run()
        at.switch_page(page).run()
        assert not at.exception
        assert any(SHALLOW_NOTE in e.value for e in getattr(at, kind)), page
