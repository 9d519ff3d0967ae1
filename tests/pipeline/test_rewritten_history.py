"""A history that changes is told as it is now: commits a reset, an amend, a rebase or a force-push left
behind stop counting (their narratives stay in the cache for reuse), commits of one moment keep git's
order, a tag added later to an old commit is recorded, and a ``.gitmodules`` git refuses is no damage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import git
from sqlalchemy import text

from narrator.git import safety
from narrator.model.fake import FakeBackend
from narrator.render.show import markdown
from tests.conftest import START, commit_files
from tests.helpers.narration import narrate_here
from tests.helpers.repos import AUTHOR, commit_all, quiet_git_config, run_git, upstream, write  # noqa: F401  (fixtures)


def _git(root, *args: str) -> None:
    """git with an author and committer (rebase, amend and annotated tags need one)."""
    run_git(Path(root), *args, env=AUTHOR)


def _history(repo: git.Repo) -> list[str]:
    """The branch's commits in git's order, newest first."""
    return repo.git.rev_list("--topo-order", "HEAD").split()


def assert_told_as_it_is(service, repo_id: int, repo: git.Repo) -> None:
    """Every count and list holds exactly the commits HEAD reaches, each once."""
    shas = _history(repo)
    assert service.change_count(repo_id) == len(shas)
    assert sorted(c.sha for c in service.changes(repo_id)) == sorted(shas)
    assert sorted(c.sha for c in service.store.list_commits(repo_id)) == sorted(shas)
    assert service.store.commit_shas(repo_id) == set(shas)
    days = sorted(repo.commit(sha).authored_datetime.date() for sha in shas)
    assert service.digest(repo_id, (days[0], days[-1])).counts["changes"] == len(shas)


def assert_back_without_model_calls(settings, service, repo_id: int, repo: git.Repo, head: str, source=None) -> None:
    """Going back to an earlier history (``head``) counts its commits again and asks the model nothing."""
    repo.git.reset("--hard", head)
    backend = FakeBackend()
    _, _, report = narrate_here(settings, source or repo.working_tree_dir, backend, batch_size=4)
    assert backend.calls == 0 and report.model_calls == 0


def _subjects(service, repo_id: int) -> list[str]:
    return [c.subject for c in service.changes(repo_id)]


def test_a_reset_and_rewritten_history_counts_only_its_commits_and_reuses_narratives(settings, sample_repo):
    root = sample_repo.working_tree_dir
    service, view, _ = narrate_here(settings, root, batch_size=4)
    old_head = sample_repo.head.commit.hexsha
    assert service.change_count(view.id) == 5

    sample_repo.git.reset("--hard", "HEAD~2")
    commit_files(sample_repo, {"shop/pay.py": "def pay(cart):\n    return True\n"}, "Take payments",
                 START + timedelta(days=10))
    narrate_here(settings, root, batch_size=4)
    assert_told_as_it_is(service, view.id, sample_repo)
    assert service.change_count(view.id) == 4
    shown = markdown(service, view.id)
    assert "Take payments" in shown and "Write a user guide" not in shown and "Test the cart total" not in shown
    assert service.store.history_version(view.id) is not None
    assert len(service.store.commit_order(view.id)) == 6  # the rows left behind stay, for the cache

    # Back to the first history: its commits count again, and nothing is asked of the model again.
    assert_back_without_model_calls(settings, service, view.id, sample_repo, old_head)
    assert_told_as_it_is(service, view.id, sample_repo)
    assert "Take payments" not in markdown(service, view.id)

    # A branch moved back, then forward again (a fast-forward to commits already stored).
    sample_repo.git.reset("--hard", "HEAD~1")
    narrate_here(settings, root, FakeBackend(), batch_size=4)
    assert service.change_count(view.id) == 4
    assert_back_without_model_calls(settings, service, view.id, sample_repo, old_head)
    assert_told_as_it_is(service, view.id, sample_repo)


def test_an_amended_head_is_listed_once(settings, sample_repo):
    root = sample_repo.working_tree_dir
    service, view, _ = narrate_here(settings, root, batch_size=4)
    old_head = sample_repo.head.commit.hexsha
    _git(root, "commit", "-q", "--amend", "-m", "Test the cart total with one item")
    backend = FakeBackend()
    narrate_here(settings, root, backend, batch_size=4)
    assert_told_as_it_is(service, view.id, sample_repo)
    subjects = _subjects(service, view.id)
    assert len(subjects) == 5 and subjects[0] == "Test the cart total with one item"
    assert "Test the cart total" not in subjects
    assert backend.calls <= 1  # at most the amended commit: every other narrative is reused
    assert_back_without_model_calls(settings, service, view.id, sample_repo, old_head)
    assert_told_as_it_is(service, view.id, sample_repo)
    assert "Test the cart total with one item" not in _subjects(service, view.id)


def test_a_rebased_branch_counts_each_change_once(settings, tmp_path):
    repo = git.Repo.init(tmp_path / "app", initial_branch="main")
    root = repo.working_tree_dir
    commit_files(repo, {"app/core.py": "CORE = 1\n"}, "Start the core", START)
    _git(root, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"app/search.py": "def search():\n    return []\n"}, "Add search", START + timedelta(hours=1))
    commit_files(repo, {"app/search.py": "def search(q):\n    return [q]\n"}, "Search by query", START + timedelta(hours=2))
    _git(root, "checkout", "-q", "main")
    commit_files(repo, {"app/core.py": "CORE = 2\n"}, "Speed up the core", START + timedelta(hours=3))
    _git(root, "checkout", "-q", "feature")
    service, view, _ = narrate_here(settings, root, batch_size=4)
    assert service.change_count(view.id) == 3
    old_head = repo.head.commit.hexsha

    _git(root, "rebase", "-q", "main")
    narrate_here(settings, root, batch_size=4)
    assert_told_as_it_is(service, view.id, repo)
    assert sorted(_subjects(service, view.id)) == ["Add search", "Search by query", "Speed up the core", "Start the core"]
    assert_back_without_model_calls(settings, service, view.id, repo, old_head)
    assert_told_as_it_is(service, view.id, repo)


def test_a_force_pushed_upstream_is_followed_by_its_clone(settings, upstream, tmp_path, monkeypatch):
    url, origin = upstream
    monkeypatch.setattr(safety, "CLONE_PROTOCOLS", ("https", "ssh", "file"))
    for day in (2, 3):
        write(tmp_path / "upstream", "app.py", f"def main():\n    return {day}\n")
        commit_all(origin, f"Return {day}", day)
    service, view, _ = narrate_here(settings, url, batch_size=4)
    assert service.change_count(view.id) == 3
    old_head = origin.head.commit.hexsha

    # The upstream's branch is reset and rewritten: the clone's branch is not a fast-forward of it.
    origin.git.reset("--hard", "HEAD~2")
    write(tmp_path / "upstream", "app.py", "def main():\n    return 'rewritten'\n")
    rewritten = commit_all(origin, "Return a word", 4).hexsha
    narrate_here(settings, url, batch_size=4)
    clone = git.Repo(service.store.get_repository(view.id).local_path)
    assert clone.head.commit.hexsha == rewritten
    assert_told_as_it_is(service, view.id, clone)
    assert _subjects(service, view.id) == ["Return a word", "First"]
    assert "Return 3" not in markdown(service, view.id)
    # Force-pushed back: the clone follows again, and every narrative comes from the cache.
    assert_back_without_model_calls(settings, service, view.id, origin, old_head, source=url)
    assert clone.head.commit.hexsha == old_head
    assert_told_as_it_is(service, view.id, clone)


def test_commits_of_one_moment_keep_gits_order(settings, tmp_path):
    repo = git.Repo.init(tmp_path / "clock")
    for n in range(3):  # three commits in the same second: only git's order says which is the latest
        commit_files(repo, {f"step_{n}.py": f"STEP = {n}\n"}, f"Take step {n}", START)
    service, view, _ = narrate_here(settings, repo.working_tree_dir, batch_size=4)
    assert service.changes(view.id)[0].sha == repo.head.commit.hexsha
    assert [c.subject for c in service.changes(view.id)] == ["Take step 2", "Take step 1", "Take step 0"]

    for n in range(3, 5):  # a later run's new commits come after the stored ones
        commit_files(repo, {f"step_{n}.py": f"STEP = {n}\n"}, f"Take step {n}", START)
    narrate_here(settings, repo.working_tree_dir, batch_size=4)
    assert_told_as_it_is(service, view.id, repo)
    assert markdown(service, view.id).index("Take step 4") < markdown(service, view.id).index("Take step 3")


def test_a_tag_added_later_to_an_old_commit_is_recorded(settings, tmp_path):
    repo = git.Repo.init(tmp_path / "long")
    for n in range(35):
        commit_files(repo, {"app.py": f"VALUE = {n}\n"}, f"Set the value to {n}", START + timedelta(days=n))
    service, view, _ = narrate_here(settings, repo.working_tree_dir, batch_size=4)
    assert service.forecast(view.id).releases == 0

    old = repo.commit("HEAD~32").hexsha  # beyond the 30 latest commits a narration reads again
    older = repo.commit("HEAD~33").hexsha
    repo.create_tag("v0.9.0", ref=old)
    _git(repo.working_tree_dir, "tag", "-a", "-m", "The first beta", "v0.8.0", older)  # an annotated tag
    narrate_here(settings, repo.working_tree_dir, batch_size=4)
    rows = {c.sha: c for c in service.store.list_commits(view.id)}
    assert rows[old].category == "release" and rows[old].details["version"] == "0.9.0"
    assert rows[old].details["tags"] == ["v0.9.0"] and rows[older].details["version"] == "0.8.0"
    assert service.forecast(view.id).releases == 2
    assert rows[old].author == "Ada Lovelace" and rows[old].date == START + timedelta(days=2)

    repo.delete_tag("v0.9.0")  # a tag removed: no longer a release
    narrate_here(settings, repo.working_tree_dir, batch_size=4)
    row = next(c for c in service.store.list_commits(view.id) if c.sha == old)
    assert row.category != "release" and row.details["tags"] == [] and service.forecast(view.id).releases == 1


def test_a_gitmodules_with_an_update_command_is_narrated_and_the_command_never_runs(settings, tmp_path):
    marker = tmp_path / "MARKER"
    repo = git.Repo.init(tmp_path / "with-submodule")
    root = Path(repo.working_tree_dir)
    commit_files(repo, {"app.py": "def main():\n    return 1\n"}, "Start the app", START)
    (root / ".gitmodules").write_text(f'[submodule "lib"]\n\tpath = lib\n\turl = https://example.invalid/lib.git\n'
                                      f"\tupdate = !touch {marker}\n")
    _git(root, "add", ".gitmodules")
    _git(root, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},lib")  # the submodule's commit
    _git(root, "commit", "-q", "-m", "Add the lib submodule")
    service, view, report = narrate_here(settings, root, batch_size=4)
    assert service.change_count(view.id) == 2
    [added, _] = service.changes(view.id)
    assert added.subject == "Add the lib submodule" and sorted(f["path"] for f in added.files) == [".gitmodules", "lib"]
    assert not marker.exists()


def test_a_history_stored_before_commits_were_numbered_is_checked_on_the_next_run(settings, sample_repo):
    # A database from before migration 0006: every row reachable with seq 0, including one that a
    # reset left behind back then; the head did not move since.
    service, view, _ = narrate_here(settings, sample_repo.working_tree_dir, batch_size=4)
    service.store.upsert_commits(view.id, [{"sha": "f" * 40, "subject": "Left behind", "date": START}])
    with service.store.engine.begin() as connection:
        connection.execute(text("UPDATE commits SET seq = 0, reachable = 1"))
    assert service.change_count(view.id) == 6
    backend = FakeBackend()
    narrate_here(settings, sample_repo.working_tree_dir, backend, batch_size=4)
    assert backend.calls == 0
    assert_told_as_it_is(service, view.id, sample_repo)
    assert [c.seq for c in service.store.list_commits(view.id)] == [5, 4, 3, 2, 1]
