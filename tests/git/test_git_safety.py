"""A narrated repository cannot make git run a command of its choosing (narrator.git.safety.git_safety_env).

Each test writes a program that touches a marker file, names it in the repository's own config (or
hooks, or a remote of a partial clone that git would fetch from lazily), reads the repository the
way the narrator does, and checks the marker was never made.
"""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import threading
from pathlib import Path

import git
import pytest

from db.errors import RepoError
from narrator.git import safety
from narrator.git.commits import recent_commits
from narrator.git.files import scan_source_files
from narrator.git.repo import is_shallow, open_repository
from narrator.pipeline.history_pass import read_history
from tests.helpers.cli import run_cli

HOOKS = ("applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit",
         "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase", "post-checkout", "post-merge",
         "pre-push", "pre-receive", "update", "proc-receive", "post-receive", "post-update",
         "reference-transaction", "push-to-checkout", "pre-auto-gc", "post-rewrite", "post-index-change",
         "fsmonitor-watchman")


@pytest.fixture(autouse=True)
def quiet_git_config(monkeypatch, tmp_path):
    """Only the test repository's config counts: no system or user config, no prompt that waits."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    for name in ("GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_COUNT", "GIT_PAGER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def evil(tmp_path) -> tuple[Path, Path]:
    """(a program that touches the marker and fails, the marker it touches)."""
    marker = tmp_path / "pwned"
    program = tmp_path / "evil.sh"
    program.write_text(f"#!/bin/sh\ntouch '{marker}'\ncat >/dev/null 2>&1 &\nexit 1\n")
    program.chmod(0o755)
    return program, marker


def make_project(root: Path, attributes: str | None = None) -> git.Repo:
    """A repository with two commits of app.py and its changelog (and .gitattributes when given).

    The changelog makes the history reader run its diff-tree too (it reads release notes' diffs).
    """
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Ada Lovelace")
        config.set_value("user", "email", "ada@example.com")
    if attributes is not None:
        (root / ".gitattributes").write_text(attributes + "\n")
    for n in (1, 2):
        (root / "app.py").write_text(f"def main():\n    return {n}\n")
        (root / "CHANGES.md").write_text("".join(f"- The answer is {k}.\n" for k in range(n, 0, -1)))
        repo.git.add("-A")
        repo.git.commit("-q", "-m", f"Change the answer to {n}")
    return repo


def set_config(repo: git.Repo, settings: dict[str, str]) -> None:
    # After the commits: a clean filter or hook set earlier would run in the test's own `git add`.
    for key, value in settings.items():
        repo.git.config(key, value)


def install_hooks(folder: Path, program: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        (folder / name).write_text(f"#!/bin/sh\nexec '{program}' \"$@\"\n")
        (folder / name).chmod(0o755)


def read_like_the_narrator(source: str, clone_dir: Path) -> None:
    """Everything the narrator asks git about a repository."""
    repo = open_repository(source, clone_dir)
    scan_source_files(repo)
    recent_commits(repo)
    list(read_history(repo, repo.head.commit.hexsha))  # the log and diff-tree of every commit's facts
    is_shallow(repo)


# Config keys naming a program git may run while reading; "{evil}" stands for the program.
LOCAL_CONFIG = {
    "core.fsmonitor": ({"core.fsmonitor": "{evil}"}, None),
    "diff.external": ({"diff.external": "{evil}"}, None),
    "diff.<driver>.command": ({"diff.evil.command": "{evil}"}, "* diff=evil"),
    "diff.<driver>.textconv": ({"diff.evil.textconv": "{evil}", "diff.evil.cachetextconv": "false"}, "* diff=evil"),
    "filter.<driver>": ({"filter.evil.clean": "{evil}", "filter.evil.smudge": "{evil}",
                         "filter.evil.process": "{evil}", "filter.evil.required": "true"}, "* filter=evil"),
    "core.pager": ({"core.pager": "{evil}", "pager.log": "{evil}", "pager.rev-list": "{evil}",
                    "pager.diff-tree": "{evil}", "pager.ls-tree": "{evil}", "pager.cat-file": "{evil}"}, None),
    "gpg.program": ({"gpg.program": "{evil}", "gpg.ssh.program": "{evil}", "gpg.x509.program": "{evil}",
                     "log.showSignature": "true"}, None),
    "core.askPass": ({"core.askPass": "{evil}", "credential.helper": "{evil}"}, None),
    "core.alternateRefsCommand": ({"core.alternateRefsCommand": "{evil}"}, None),
    "uploadpack.packObjectsHook": ({"uploadpack.packObjectsHook": "{evil}"}, None),
}


@pytest.mark.parametrize("name", list(LOCAL_CONFIG))
def test_a_local_repository_config_runs_nothing(name, evil, tmp_path):
    program, marker = evil
    settings, attributes = LOCAL_CONFIG[name]
    repo = make_project(tmp_path / "project", attributes)
    set_config(repo, {key: value.format(evil=program) for key, value in settings.items()})
    read_like_the_narrator(str(tmp_path / "project"), tmp_path / "clones")
    assert not marker.exists(), f"{name} ran"


@pytest.mark.parametrize("where", ["core.hooksPath", ".git/hooks"])
def test_a_local_repository_hooks_do_not_run(where, evil, tmp_path):
    program, marker = evil
    repo = make_project(tmp_path / "project")
    if where == "core.hooksPath":
        install_hooks(tmp_path / "hooks", program)
        set_config(repo, {"core.hooksPath": str(tmp_path / "hooks")})
    else:
        install_hooks(tmp_path / "project" / ".git" / "hooks", program)
    read_like_the_narrator(str(tmp_path / "project"), tmp_path / "clones")
    assert not marker.exists()


class _AskForPassword(http.server.BaseHTTPRequestHandler):
    """An http server that wants credentials for everything: git then asks its helper."""

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def password_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AskForPassword)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/team/app.git"
    server.shutdown()


def make_partial_clone(root: Path, url: str, settings: dict[str, str]) -> None:
    """A repository that says it is a partial clone of ``url`` and lacks app.py's blob, so git
    fetches it from ``url`` the moment anything reads it (with the transport ``settings`` choose)."""
    repo = make_project(root)
    blob = repo.git.rev_parse("HEAD:app.py")
    (root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    set_config(repo, {"core.repositoryformatversion": "1", "extensions.partialClone": "origin",
                      "remote.origin.url": url, "remote.origin.promisor": "true",
                      "remote.origin.partialclonefilter": "blob:none", **settings})


@pytest.mark.parametrize("transport", ["protocol.ext.allow", "core.sshCommand", "core.gitProxy",
                                       "credential.helper"])
def test_a_lazy_fetch_cannot_run_a_command(transport, evil, tmp_path, request):
    program, marker = evil
    if transport == "protocol.ext.allow":
        url, settings = f"ext::{program}", {"protocol.ext.allow": "always"}
    elif transport == "core.sshCommand":
        url, settings = "ssh://127.0.0.1:1/team/app.git", {"core.sshCommand": str(program)}
    elif transport == "core.gitProxy":
        url, settings = "git://127.0.0.1:1/team/app.git", {"core.gitProxy": str(program)}
    else:
        url = request.getfixturevalue("password_server")
        settings = {"credential.helper": str(program), "core.askPass": str(program)}
    make_partial_clone(tmp_path / "project", url, settings)
    with contextlib.suppress(RepoError):  # the blob cannot be fetched: one clear line is fine
        read_like_the_narrator(str(tmp_path / "project"), tmp_path / "clones")
    assert not marker.exists(), f"{transport} ran"


def test_cloning_a_repository_runs_none_of_its_commands(evil, tmp_path, monkeypatch):
    program, marker = evil
    origin = make_project(tmp_path / "upstream")
    install_hooks(tmp_path / "upstream" / ".git" / "hooks", program)
    install_hooks(tmp_path / "upstream-hooks", program)
    set_config(origin, {"uploadpack.packObjectsHook": str(program), "core.fsmonitor": str(program),
                        "core.hooksPath": str(tmp_path / "upstream-hooks"),
                        "core.alternateRefsCommand": str(program)})
    url = "https://git.example.test/team/app.git"
    (tmp_path / "no-global-gitconfig").write_text(f'[url "file://{tmp_path / "upstream"}"]\n\tinsteadOf = {url}\n')
    monkeypatch.setattr(safety, "CLONE_PROTOCOLS", ("https", "ssh", "file"))  # reach the local upstream
    read_like_the_narrator(url, tmp_path / "clones")
    read_like_the_narrator(url, tmp_path / "clones")  # the second time updates the clone
    assert not marker.exists()


def test_git_safety_env_keeps_the_callers_config_entries(monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.name")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "Ada")
    env = safety.git_safety_env(network=True)
    assert env["GIT_CONFIG_COUNT"] == str(1 + len(safety.SAFE_GIT_CONFIG))
    assert "GIT_CONFIG_KEY_0" not in env and env["GIT_CONFIG_KEY_1"] == safety.SAFE_GIT_CONFIG[0][0]
    assert env["GIT_ALLOW_PROTOCOL"] == "https:ssh"
    assert safety.git_safety_env(network=False)["GIT_ALLOW_PROTOCOL"] == ""


def test_narrate_command_runs_nothing_from_the_repository(evil, tmp_path):
    program, marker = evil
    repo = make_project(tmp_path / "project", "* diff=evil filter=evil")
    install_hooks(tmp_path / "hooks", program)
    set_config(repo, {"core.fsmonitor": str(program), "core.hooksPath": str(tmp_path / "hooks"),
                      "diff.external": str(program), "diff.evil.textconv": str(program),
                      "diff.evil.command": str(program), "filter.evil.clean": str(program),
                      "filter.evil.smudge": str(program), "core.pager": str(program)})
    result = run_cli("narrate", str(tmp_path / "project"), "--model", "fake",
                     "--db", f"sqlite:///{tmp_path / 'cache.sqlite'}", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    # The trap is armed: the same read without the narrator's protection runs the program.
    subprocess.run(["git", "-C", str(tmp_path / "project"), "diff-tree", "-p", "HEAD"], capture_output=True)
    assert marker.exists()
