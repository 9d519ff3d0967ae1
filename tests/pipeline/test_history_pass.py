"""The whole-history pass as a long history needs it: git's work and ours overlap, the cache writes cheaply."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import timedelta

import git

from db.store import Store
from narrator.pipeline import history_pass as gitlog
from tests.conftest import START, commit_files


class _AtOnce:
    """An executor whose work is done when it is handed over: every diff batch is read at once."""

    def __init__(self, workers: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def submit(self, fn, *args) -> Future:
        done: Future = Future()
        done.set_result(fn(*args))
        return done


def test_changelog_commits_come_as_soon_as_their_diffs_are_read(tmp_path, monkeypatch):
    repo = git.Repo.init(tmp_path / "shop")
    notes = ""
    for n in range(6):
        files = {f"shop/part_{n}.py": f"PART = {n}\n"}
        if n % 2:
            notes += f"- Part {n} can be sold.\n"
            files["CHANGES.md"] = f"# Changes\n\n{notes}"
        commit_files(repo, files, f"Add part {n}", START + timedelta(hours=n))
    monkeypatch.setattr(gitlog, "DIFF_BATCH", 1)
    monkeypatch.setattr(gitlog, "ThreadPoolExecutor", _AtOnce)

    read = list(gitlog.read_history(repo, repo.head.commit.hexsha))

    # In git's order, newest first: a commit whose diff is read comes between the others, not after them.
    assert [c.sha for c in read] == repo.git.rev_list("HEAD").split()
    assert [bool(c.patch) for c in read] == [True, False, True, False, True, False]
    assert "+- Part 5 can be sold." in read[0].patch


def test_the_sqlite_cache_syncs_at_checkpoints_not_at_each_commit(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'cache.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: safe in WAL mode
