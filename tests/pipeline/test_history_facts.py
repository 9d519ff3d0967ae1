"""Every commit's facts from one git log pass (narrator.pipeline.history_pass), read again only where new, and the
first look (facts and people's words) stored before the model's first call."""

from __future__ import annotations

import os
import subprocess
from dataclasses import astuple
from datetime import timedelta
from pathlib import Path

import git
import pytest

from narrator.facts import changes
from narrator.facts.paths import TOP_LEVEL
from narrator.git.commits import recent_commits
from narrator.git.repo import open_repository
from narrator.model.fake import FakeBackend
from narrator.pipeline import history_pass as gitlog
from narrator.pipeline.narrate import FIRST_LOOK, run_job
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files, model_sentences_on
from tests.helpers.narration import narrate_here
from tests.helpers.repos import run_git


def history(repo: git.Repo) -> list:
    return list(gitlog.read_history(repo, repo.head.commit.hexsha))


def make_long_repo(root: Path, commits: int = 9) -> git.Repo:
    """A project with more commits than a narration budget of 3, a tag and a changelog release."""
    repo = git.Repo.init(root)
    commit_files(repo, {"README.md": "# Pantry\n\nKeeps track of what is in the kitchen.\n",
                        "pantry/shelf.py": "def count(shelf):\n    return len(shelf)\n"}, "Start the pantry", START)
    for n in range(1, commits - 1):
        commit_files(repo, {f"pantry/item_{n}.py": f"def item_{n}():\n    return {n}\n"},
                     f"Add item number {n} to the pantry", START + timedelta(hours=n),
                     author="Grace Hopper" if n % 2 else "Ada Lovelace")
    commit_files(repo, {"CHANGES.md": "# Changes\n\n## 1.1.0\n\n- Shelves can be counted.\n",
                        "pyproject.toml": '[project]\nname = "pantry"\nversion = "1.1.0"\n'},
                 "Release 1.1.0", START + timedelta(hours=commits))
    repo.create_tag("v1.1.0")
    return repo


@pytest.fixture
def long_repo(tmp_path) -> git.Repo:
    return make_long_repo(tmp_path / "pantry")


def test_every_commit_gets_its_facts_beyond_the_narration_budget(settings, long_repo):
    service, view, _ = narrate_here(settings, long_repo.working_tree_dir, commits=3, batch_size=4)
    rows = {c.sha: c for c in service.store.list_commits(view.id)}
    assert set(rows) == {c.hexsha for c in long_repo.iter_commits("HEAD")}
    assert len(rows) == 9 > 3
    oldest = rows[long_repo.commit("HEAD~8").hexsha]
    assert (oldest.author, oldest.email, oldest.date) == ("Ada Lovelace", "ada@example.com", START)
    # The README's three lines outweigh the shelf's two.
    assert oldest.area == TOP_LEVEL and oldest.category and oldest.added == 5 and oldest.removed == 0
    assert {f["path"] for f in oldest.files} == {"README.md", "pantry/shelf.py"}
    assert oldest.headline == "Start the pantry" and oldest.input_hash is None  # read without its patch
    item = rows[long_repo.commit("HEAD~7").hexsha]
    assert item.author == "Grace Hopper" and item.area == "pantry" and item.files == [{"path": "pantry/item_1.py", "change": "added", "added": 2, "removed": 0}]
    release = rows[long_repo.head.commit.hexsha]
    assert release.category == "release" and release.details["tags"] == ["v1.1.0"] and release.input_hash
    assert service.changes(view.id)[-1].headline.text == "Start the pantry"  # every headline is there


def test_old_commits_get_the_same_facts_as_when_read_with_their_patch(long_repo):
    # The release commit is read without its whole patch: only its changelog and version diffs.
    read = {c.sha: c for c in history(long_repo)}
    for full in recent_commits(long_repo):
        assert changes.commit_details(read[full.sha]) == changes.commit_details(full)
        assert [astuple(f) for f in read[full.sha].files] == [astuple(f) for f in full.files]
    release = changes.commit_details(read[long_repo.head.commit.hexsha])
    assert release[2].release_notes == ("Shelves can be counted.",) and release[2].version == "1.1.0"


def test_a_second_run_reads_only_the_new_commits(settings, long_repo, monkeypatch):
    service, view, _ = narrate_here(settings, long_repo.working_tree_dir, commits=3, batch_size=4)
    old_head = long_repo.head.commit.hexsha
    calls = []
    real = gitlog.read_history

    def recording(repo, head, old=None, known=frozenset()):
        read = list(real(repo, head, old, known))
        calls.append((old, [c.sha for c in read]))
        return iter(read)

    monkeypatch.setattr(gitlog, "read_history", recording)
    new = [commit_files(long_repo, {"pantry/jar.py": f"JARS = {n}\n"}, f"Count {n} jars on the shelf",
                        START + timedelta(days=1, hours=n)) for n in (1, 2)]
    narrate_here(settings, long_repo.working_tree_dir, commits=3, batch_size=4)
    assert calls == [(old_head, new[::-1])]
    assert len(service.store.list_commits(view.id)) == 11
    narrate_here(settings, long_repo.working_tree_dir, commits=3, batch_size=4)
    assert len(calls) == 1  # nothing new: git log is not even run

    # A rewritten branch: the stored head is no longer in the history; the whole history is read
    # and only the commit not stored yet is kept.
    long_repo.git.reset("--hard", "HEAD~1")
    rewritten = commit_files(long_repo, {"pantry/jar.py": "JARS = 3\n"}, "Count three jars", START + timedelta(days=2))
    narrate_here(settings, long_repo.working_tree_dir, commits=3, batch_size=4)
    assert calls[-1] == (None, [rewritten])


@pytest.fixture
def odd_repo(tmp_path) -> git.Repo:
    """A binary file, a rename with an edit, a merge, a Latin-1 message, a subject with odd characters."""
    root = tmp_path / "odd"
    repo = git.Repo.init(root, initial_branch="main")
    commit_files(repo, {"app/main.py": "".join(f"line_{n} = {n}\n" for n in range(20)),
                        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\xff binary"}, "Start the app with a logo", START)
    run_git(root, "mv", "app/main.py", "app/core.py")
    (root / "app" / "core.py").write_text("".join(f"line_{n} = {n}\n" for n in range(21)))
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "Rename main to core", env={"GIT_AUTHOR_NAME": "Ada Lovelace",
                                                                   "GIT_AUTHOR_EMAIL": "ada@example.com",
                                                                   "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "a@x"})
    run_git(root, "checkout", "-q", "-b", "side")
    commit_files(repo, {"app/side.py": "SIDE = 1\n"}, "Add the side part", START + timedelta(hours=2))
    run_git(root, "checkout", "-q", "main")
    commit_files(repo, {"app/other.py": "OTHER = 1\n"}, "Add the other part", START + timedelta(hours=3))
    run_git(root, "merge", "-q", "--no-ff", "side", "-m", "Merge branch 'side'",
         env={"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "a@x", "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "a@x"})
    (root / "menu.txt").write_text("coffee\n")
    run_git(root, "add", "-A")
    (tmp_path / "message").write_bytes(b"Serve caf\xe9\n\nThe caf\xe9 opens at nine.\n")
    subprocess.run(["git", "-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "-F", str(tmp_path / "message")],
                   cwd=root, check=True, env={**os.environ, b"GIT_AUTHOR_NAME": b"Ren\xe9 Descartes",
                                              b"GIT_AUTHOR_EMAIL": b"rene@example.com",
                                              b"GIT_COMMITTER_NAME": b"R", b"GIT_COMMITTER_EMAIL": b"r@x"})
    commit_files(repo, {"tab\there.txt": "odd\n", ":colon.txt": "odd\n"},
                 "Fix \x1e odd\tsubject \u2014 caf\u00e9 \U0001F600 -\t- 1\t2\n\nBody with \x1e and : too.",
                 START + timedelta(hours=5))
    return repo


def test_the_log_pass_reads_what_the_patch_reader_reads(odd_repo):
    by_log = {c.sha: c for c in history(odd_repo)}
    by_patch = {c.sha: c for c in recent_commits(odd_repo)}
    assert set(by_log) == set(by_patch) and len(by_log) == 7
    for sha, full in by_patch.items():
        read = by_log[sha]
        assert (read.subject, read.message, read.author, read.email, read.date, read.parents, read.tags) == \
               (full.subject, full.message, full.author, full.email, full.date, full.parents, full.tags)
        if full.is_merge:
            # A merge brought its branch's commits, which are read themselves: no files twice.
            assert read.is_merge and read.files == () and full.files
        else:
            assert [astuple(f) for f in read.files] == [astuple(f) for f in full.files]
    start = by_log[odd_repo.commit("HEAD~5").hexsha]
    logo = next(f for f in start.files if f.path == "logo.png")
    assert logo.binary and (logo.added, logo.removed) == (0, 0)
    rename = by_log[odd_repo.commit("HEAD~4").hexsha].files
    assert [(f.path, f.old_path, f.change, f.added, f.removed) for f in rename] == [("app/core.py", "app/main.py", "renamed", 1, 0)]
    latin = by_log[odd_repo.commit("HEAD~1").hexsha]
    assert (latin.subject, latin.author) == ("Serve café", "René Descartes")
    odd = by_log[odd_repo.head.commit.hexsha]
    assert odd.subject == "Fix \x1e odd\tsubject \u2014 caf\u00e9 \U0001F600 -\t- 1\t2"
    assert {f.path for f in odd.files} == {"tab\there.txt", ":colon.txt"}


def test_a_shallow_clone_keeps_its_boundary_commit_without_changes(tmp_path):
    full = make_long_repo(tmp_path / "full", commits=5)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{full.working_tree_dir}", str(clone)], check=True)
    repo = open_repository(str(clone), tmp_path / "clones")
    read = {c.sha: c for c in history(repo)}
    newest, oldest = read[full.head.commit.hexsha], read[full.commit("HEAD~1").hexsha]
    assert len(read) == 2 and not newest.parent_missing and newest.files
    assert oldest.parent_missing and oldest.files == () and oldest.parents == (full.commit("HEAD~2").hexsha,)


class Watching(FakeBackend):
    """Records, at its first call, what the Overview, the digest and the Changes page could show."""

    def __init__(self, service: NarratorService, repo_id: int, job_id: int | None = None) -> None:
        super().__init__()
        self.service, self.repo_id, self.job_id, self.seen = service, repo_id, job_id, None

    def generate(self, prompts, max_new_tokens=64):
        if self.seen is None:
            overview = self.service.overview(self.repo_id)
            self.seen = dict(
                commits=len(self.service.store.list_commits(self.repo_id)),
                headlines=[c.headline.text for c in self.service.changes(self.repo_id)],
                descriptions=[d.text for d in overview.descriptions],
                parts={p.area: p.role for p in overview.parts},
                digest=self.service.digest(self.repo_id, "30d"),
                narrated=self.service.repository(self.repo_id).narrated_at is not None,
                job=self.service.store.get_job(self.job_id).message if self.job_id else None,
            )
        return super().generate(prompts, max_new_tokens)


def test_the_first_look_is_stored_before_the_first_model_call(settings, long_repo, monkeypatch):
    settings = model_sentences_on(monkeypatch, settings)  # model work to come after the first look
    service = NarratorService(settings)
    repo_id = service.add_repository(long_repo.working_tree_dir).id
    job_id = service.store.create_job(repo_id, "narrate", {"commits": 3})
    backend = Watching(service, repo_id, job_id)
    run_job(settings, job_id, backend=backend)
    seen = backend.seen
    assert seen is not None and backend.calls > 0  # the model was needed, after the first look
    assert seen["commits"] == 9 and len(seen["headlines"]) == 9 and "Start the pantry" in seen["headlines"]
    assert seen["descriptions"] == ["Keeps track of what is in the kitchen."]
    assert seen["parts"]["pantry"] == "source code"
    assert seen["digest"] is not None and seen["narrated"]
    assert seen["job"].startswith(FIRST_LOOK)
    assert service.job(job_id).status == "done"


def test_a_history_longer_than_the_old_window_of_200_is_recorded_whole(settings, tmp_path):
    root = tmp_path / "long"
    git.Repo.init(root, initial_branch="main")
    stream = []
    for n in range(250):
        message, content = f"Set the limit to {n} items".encode(), f"LIMIT = {n}\n".encode()
        stream += [b"commit refs/heads/main", f"author Ada <ada@example.com> {1_700_000_000 + n * 60} +0000".encode(),
                   f"committer Ada <ada@example.com> {1_700_000_000 + n * 60} +0000".encode(),
                   f"data {len(message)}".encode(), message, b"M 100644 inline app/limits.py",
                   f"data {len(content)}".encode(), content]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"\n".join(stream) + b"\n", check=True)
    service, view, _ = narrate_here(settings, root, commits=2, units=0, files=0, batch_size=4)
    rows = service.store.list_commits(view.id)
    assert len(rows) == 250
    assert rows[-1].subject == "Set the limit to 0 items" and rows[-1].files[0]["added"] == 1
    assert sum(1 for r in rows if r.input_hash) == 2  # only the narrated ones were read with their patch
