"""The briefing's training tasks (issue 18): labels from conventional types, repository-level splits, prompts
shared with narration, the prepared files and the rules' baseline command."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import git
import pytest

from narrator.facts.subjects import read_subject
from narrator.git.commits import cut_patch, recent_commits
from narrator.model import prompts
from narrator.pipeline.tasks import Budget
from tests.conftest import START, commit_files
from tests.helpers.training import DOCS_DIFF, FIX_DIFF, conventional_row, note_row, write_shared
from training.__main__ import main
from training.briefing_tasks import (
    assign_splits,
    change_kind_example,
    kind_of_type,
    kind_row,
    kinds_baseline,
    note_target,
    prepare_briefing,
    rules_kind,
    user_note_example,
)
from training.dataset import load_split
from training.examples import SPLITS

# --- labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_, scope, kind", [
    ("feat", None, "feature"), ("fix", "parser", "fix"), ("docs", None, "docs"), ("test", None, "tests"),
    ("tests", None, "tests"), ("ci", None, "ci"), ("build", None, "build"), ("chore", "deps", "build"),
    ("build", "deps-dev", "build"), ("fix", "deps", "build"), ("ci", "deps", "build"), ("chore", None, "maintenance"),
    ("refactor", None, "maintenance"), ("perf", None, "maintenance"), ("style", None, "maintenance"),
    ("FEAT", None, "feature"), ("revert", None, None), ("wip", None, None),
])
def test_conventional_types_map_to_seven_kinds(type_, scope, kind):
    assert kind_of_type(type_, scope) == kind


def test_rows_dropped_for_bots_reverts_releases_and_missing_diffs():
    assert kind_row(conventional_row("a/b", "chore", "update dependency x to v2", scope="deps", bot=True)) == "written by a bot"
    assert kind_row(conventional_row("a/b", "chore", "update x", scope="deps", bot=True), include_bots=True).kind == "build"
    assert kind_row(conventional_row("a/b", "revert", "add a wish list")) == "revert"
    assert kind_row(conventional_row("a/b", "chore", "release 1.2.3")) == "release commit"
    assert kind_row(conventional_row("a/b", "fix", "handle empty items", diff="")) == "no diff"
    row = kind_row(conventional_row("a/b", "feat", "add a wish list", breaking=True))
    assert (row.kind, row.breaking) == ("feature", True)
    example = change_kind_example(row)
    assert (example.task, example.target, example.source) == ("change_kind", "feature, breaking", "conventional_commits:a/b")


def test_change_kind_answer_reads_back():
    assert prompts.read_change_kind(prompts.change_kind_answer("fix", False)) == ("fix", False)
    assert prompts.read_change_kind(prompts.change_kind_answer("feature", True)) == ("feature", True)
    assert prompts.read_change_kind("Maintenance.") == ("maintenance", False)
    assert prompts.read_change_kind("This change fixes a bug") is None
    with pytest.raises(ValueError):
        prompts.change_kind_answer("release", False)


def test_user_notes_keep_people_words_for_users_only():
    example = user_note_example(note_row("a/b", "fix: handle empty items (#12)", "- fix: Adding an empty item no longer crashes.\n- Other"))
    assert example.target == "Adding an empty item no longer crashes."
    assert example.messages == prompts.user_note_prompt("Handle empty items", ["shop/cart.py"], FIX_DIFF.strip("\n"))
    assert user_note_example(note_row("a/b", "Vendor x", "Upgrade vendored x to 1.2.3.", "vendor")) == "note not for users"
    assert user_note_example(note_row("a/b", "Fix the crash on empty carts", "Fix the crash on empty carts.")) == "note repeats the subject"
    assert note_target("* feat(cli): Add a --dry-run flag") == "Add a --dry-run flag"


# --- repository-level splits --------------------------------------------------------------------------


def test_splits_put_each_repository_in_one_split_deterministically():
    repos = [f"owner{n}/project{n}" for n in range(25)]
    splits = assign_splits(repos, seed=0)
    assert set(splits) == set(repos)
    counts = {name: sum(1 for s in splits.values() if s == name) for name in SPLITS}
    assert counts == {"train": 18, "val": 2, "test": 5}
    assert assign_splits(list(reversed(repos)), seed=0) == splits  # order of reading does not matter
    assert assign_splits(repos, seed=1) != splits  # the seed moves repositories
    pinned = assign_splits(repos, seed=0, pinned={"owner0/project0": "test", "owner1/project1": "train", "other/repo": "test"})
    assert pinned["owner0/project0"] == "test" and pinned["owner1/project1"] == "train" and "other/repo" not in pinned
    assert sum(1 for s in pinned.values() if s == "test") == 5


def test_prepared_briefing_tasks_never_share_a_repository_between_splits(tmp_path):
    shared = write_shared(tmp_path / "shared")
    commitpack = shared / "commitpack_style_mined_more"  # the study trains on this repository's commits
    commitpack.mkdir()
    (commitpack / "python.jsonl").write_text(json.dumps({"repos": "owner0/project0", "subject": "Add x"}) + "\n")
    manifest = prepare_briefing(shared, tmp_path / "data")
    for task in ("change_kind", "user_note"):
        seen: dict[str, str] = {}
        for split in SPLITS:
            for example in load_split(tmp_path / "data", task, split, required=False):
                repo = example.source.split(":", 1)[1]
                assert seen.setdefault(repo, split) == split, f"{repo} is in {seen[repo]} and {split}"
        assert set(seen.values()) == set(SPLITS)
        assert seen["owner0/project0"] == "train"
        repos = manifest["tasks"][task]["repositories"]
        assert sorted(r for name in SPLITS for r in repos[name]) == sorted(f"owner{n}/project{n}" for n in range(6))
    part = manifest["tasks"]["change_kind"]
    assert sum(part["examples"].values()) == 18 and part["dropped"] == {"written by a bot": 6}
    assert manifest["tasks"]["user_note"]["dropped"] == {"note not for users": 6}
    assert prepare_briefing(shared, tmp_path / "again")["tasks"]["change_kind"]["repositories"] == part["repositories"]


# --- the prompt is narration's ------------------------------------------------------------------------


def test_training_prompt_is_the_run_time_prompt_for_the_same_commit(tmp_path):
    """A data set row made from a real commit as the shared data was mined (``git show``) gives exactly the
    prompt narration builds from the same commit (its headline, paths and patch cut to the budget)."""
    repo = git.Repo.init(tmp_path / "shop")
    commit_files(repo, {"shop/cart.py": "def add_item(cart, item):\n    cart.append(item)\n"}, "feat: add the cart", START)
    body = "".join(f"    # step {n}\n" for n in range(400))  # longer than the budget: both cut it alike
    sha = commit_files(repo, {"shop/cart.py": "def add_item(cart, item):\n    if item is None:\n        raise ValueError('no item')\n"
                              + body + "    cart.append(item)\n", "tests/test_cart.py": "def test_add():\n    pass\n"},
                       "fix(cart)!: handle an empty item", START + timedelta(days=1))
    diff = subprocess.run(["git", "show", "--format=", "--no-color", "-U3", sha], cwd=tmp_path / "shop",
                          capture_output=True, text=True, check=True).stdout
    paths = subprocess.run(["git", "show", "--format=", "--name-only", sha], cwd=tmp_path / "shop",
                           capture_output=True, text=True, check=True).stdout.split()
    row = conventional_row("owner/shop", "fix", "handle an empty item", scope="cart", breaking=True, paths=paths, diff=diff)
    example = change_kind_example(kind_row(row))

    commit = recent_commits(repo, limit=1)[0]
    headline = read_subject(commit.subject, commit.message).headline
    patch, omitted = cut_patch(commit.patch, Budget().patch_tokens)
    assert omitted  # the budget did cut this diff
    assert example.messages == prompts.change_kind_prompt(headline, [f.path for f in commit.files], patch)
    assert example.target == "fix, breaking"
    note = user_note_example(note_row("owner/shop", commit.subject, "Adding an empty item no longer crashes the shop.")
                             | {"paths": paths, "diff": diff})
    assert note.messages == prompts.user_note_prompt(headline, [f.path for f in commit.files], patch)


# --- the rules' baseline ------------------------------------------------------------------------------


def test_rules_kind_reads_only_what_the_model_is_shown():
    assert rules_kind("explain how to run the shop", ["docs/guide.md"], DOCS_DIFF) == ("docs", False)
    assert rules_kind("fix a crash on empty carts", ["shop/cart.py"], FIX_DIFF) == ("fix", False)
    assert rules_kind("run the tests on Python 3.13", [".github/workflows/ci.yml"]) == ("ci", False)
    assert rules_kind("bump lodash to 5.0", ["package-lock.json"]) == ("build", False)


def test_kinds_baseline_command_reports_accuracy_and_per_kind_precision_recall(tmp_path, capsys):
    shared = write_shared(tmp_path / "shared")
    report = kinds_baseline(shared, "test")
    test_repos = sorted({r for r, s in assign_splits([f"owner{n}/project{n}" for n in range(6)]).items() if s == "test"})
    assert sorted(report["per_repository"]) == test_repos
    assert report["commits"] == 3 * len(test_repos) and report["dropped"] == {"written by a bot": len(test_repos)}
    # The rules call "add a wish list" a feature, the fix a fix and the docs docs, but miss the breaking mark.
    assert report["accuracy"] == 1.0 and report["majority_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["per_kind"]["feature"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": len(test_repos),
                                             "predicted": len(test_repos)}
    assert report["per_kind"]["ci"]["precision"] is None and report["per_kind"]["ci"]["support"] == 0
    assert report["breaking"] == {"support": len(test_repos), "predicted": 0, "precision": None, "recall": 0.0}
    assert kinds_baseline(shared, "test", include_bots=True)["commits"] == 4 * len(test_repos)

    assert main(["kinds-baseline", "--data", str(shared), "--split", "test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0
    assert main(["kinds-baseline", "--data", str(shared)]) == 0
    out = capsys.readouterr().out
    assert "accuracy 100.0%" in out and "build/dependencies" in out
    assert main(["kinds-baseline", "--data", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.strip() == f"error: No such shared data folder: {tmp_path / 'missing'}"


def test_prepare_briefing_command_writes_the_task_files(tmp_path, capsys):
    shared = write_shared(tmp_path / "shared")
    assert main(["prepare-briefing", "--data", str(shared), "--out", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("change_kind  train") and "user_note" in out
    train = load_split(tmp_path / "data", "change_kind", "train")
    assert train and {e.target for e in train} == {"fix", "feature, breaking", "docs"}
