"""``python -m training prepare`` splits by repository, never by commit: whole repositories go to train,
validation and test, seeded, with row shares near the plan's; given partitions still win; a task and
language with fewer than 3 repositories falls back as the manifest says."""

from __future__ import annotations

import pytest

from training.dataset import PrepareConfig, prepare
from training.examples import read_examples
from training.sources import SourceSpec, mined_repository
from training.splits import SplitPlan, assign_splits
from tests.helpers.training import commit_row, csn_row, write_jsonl

ALL = SplitPlan(caps=(None, None, None))
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]


def commits_of(repo: str, n: int, **extra) -> list[dict]:
    """``n`` commits of ``repo``; each subject names its repository ("Raise the alpha limit to 3")."""
    word = repo.split("/")[1]
    return [commit_row(f"Raise the {word} limit to {i}", new=f"{word} = {i}\n", repos=repo, **extra) for i in range(n)]


def repo_of_subject(subject: str) -> str:
    return f"owner/{subject.split()[2]}"


def split_of_examples(out) -> dict[str, set[str]]:
    """{repository: the splits its commit examples landed in}, read back from the written files."""
    found: dict[str, set[str]] = {}
    for split in ("train", "val", "test"):
        path = out / "commitpackft" / f"{split}.jsonl"
        for example in read_examples(path) if path.is_file() else []:
            found.setdefault(repo_of_subject(example.target), set()).add(split)
    return found


def twelve_repositories(tmp_path):
    sizes = [4, 6, 8, 10, 12, 14, 5, 7, 9, 11, 13, 15]  # 114 commits in all
    rows = [row for word, n in zip(WORDS, sizes) for row in commits_of(f"owner/{word}", n)]
    return write_jsonl(tmp_path / "cpf" / "python.jsonl", rows), dict(zip((f"owner/{w}" for w in WORDS), sizes))


def test_rows_naming_their_repository_are_split_by_whole_repositories_near_the_plans_shares(tmp_path):
    cpf, sizes = twelve_repositories(tmp_path)
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"commitpackft:{cpf}"),), out=tmp_path / "out", plan=ALL))

    found = split_of_examples(tmp_path / "out")
    assert set(found) == set(sizes) and all(len(splits) == 1 for splits in found.values())  # no repository in two
    by_split = manifest["repositories"]["commitpackft"]
    assert sorted(repo for repos in by_split.values() for repo in repos) == sorted(sizes)
    assert {repo: split for split, repos in by_split.items() for repo in repos} == {r: s.pop() for r, s in found.items()}
    assert all(by_split[split][repo] == sizes[repo] for split in by_split for repo in by_split[split])
    # Shares of rows as near 70/10/20 as whole repositories of 4 to 15 commits allow.
    total = sum(sizes.values())
    for split, fraction in (("train", 0.7), ("val", 0.1), ("test", 0.2)):
        assert abs(sum(by_split[split].values()) / total - fraction) <= max(sizes.values()) / total / 2 + 0.01
        assert by_split[split]  # at least one repository each
    assert manifest["split_by"]["commitpackft"]["python"] == {"given": 0, "repository": total, "commit": 0, "notes": []}
    assert manifest["repositories_in_several_splits"] == {}


def test_repository_splits_are_seeded(tmp_path):
    cpf, _ = twelve_repositories(tmp_path)
    source = (SourceSpec.parse(f"commitpackft:{cpf}"),)
    first = prepare(PrepareConfig(sources=source, out=tmp_path / "a", plan=ALL))["repositories"]
    again = prepare(PrepareConfig(sources=source, out=tmp_path / "b", plan=ALL))["repositories"]
    other = prepare(PrepareConfig(sources=source, out=tmp_path / "c", plan=SplitPlan(caps=(None,) * 3, seed=1)))
    assert first == again and other["repositories"] != first
    assert (tmp_path / "a" / "commitpackft" / "test.jsonl").read_text() == (tmp_path / "b" / "commitpackft" / "test.jsonl").read_text()


def test_given_partitions_win_and_their_repositories_keep_that_split_everywhere(tmp_path):
    cpf, sizes = twelve_repositories(tmp_path)
    # CodeSearchNet rows of owner/alpha given as test, and of owner/bravo given as train; alpha's
    # unpartitioned commits then go to test too, and bravo's to train.
    csn = write_jsonl(tmp_path / "csn" / "python.jsonl", [
        csn_row(f"Return the total price of the {word} cart, tax included.", name=f"total_{word}{i}", repo=f"owner/{word}",
                partition=split, code=f"def total_{word}{i}(cart):\n    return sum(cart) + {i}\n")
        for word, split in (("alpha", "test"), ("bravo", "train")) for i in range(3)])
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"csn:{csn}"), SourceSpec.parse(f"commitpackft:{cpf}")),
                                     out=tmp_path / "out", plan=ALL))
    assert manifest["repositories"]["codesearchnet"]["test"] == {"owner/alpha": 3}
    assert manifest["repositories"]["codesearchnet"]["train"] == {"owner/bravo": 3}
    assert manifest["split_by"]["codesearchnet"]["python"]["given"] == 6
    found = split_of_examples(tmp_path / "out")
    assert found["owner/alpha"] == {"test"} and found["owner/bravo"] == {"train"}
    assert manifest["repositories_in_several_splits"] == {}
    # --resplit ignores the given partitions: the CodeSearchNet rows of two repositories are then split
    # by commit, and the manifest says why.
    resplit = prepare(PrepareConfig(sources=(SourceSpec.parse(f"csn:{csn}"),), out=tmp_path / "re",
                                    plan=SplitPlan(caps=(None,) * 3, keep_partitions=False)))
    assert resplit["split_by"]["codesearchnet"]["python"]["commit"] == 6
    assert resplit["split_by"]["codesearchnet"]["python"]["notes"] == [
        "only 2 repositories: the rows of owner/alpha, owner/bravo are split by commit"]


def test_fewer_than_three_repositories_go_to_train_when_test_comes_from_other_repositories(tmp_path):
    seen = write_jsonl(tmp_path / "seen" / "python.jsonl", commits_of("owner/alpha", 10) + commits_of("owner/bravo", 6))
    held = write_jsonl(tmp_path / "held" / "python.jsonl", commits_of("owner/charlie", 5))
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"commitpackft:{seen}"), SourceSpec.parse(f"commitpackft:{held}@test")),
                                     out=tmp_path / "out", plan=ALL))
    by_split = manifest["repositories"]["commitpackft"]
    assert by_split["test"] == {"owner/charlie": 5}
    # Validation is carved from train by whole repositories: the smaller one is nearer 1/8 of the rows.
    assert by_split["val"] == {"owner/bravo": 6} and by_split["train"] == {"owner/alpha": 10}
    assert manifest["split_by"]["commitpackft"]["python"]["notes"] == [
        "only 2 repositories without a split of their own: all in train (test comes from other repositories)"]
    assert manifest["repositories_in_several_splits"] == {}


def test_a_single_repository_with_no_held_out_rows_is_split_by_commit_and_says_so(tmp_path):
    one = write_jsonl(tmp_path / "one" / "python.jsonl", commits_of("owner/alpha", 20))
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"commitpackft:{one}"),), out=tmp_path / "out", plan=ALL))
    assert manifest["totals"]["commitpackft"] == {"train": 14, "val": 2, "test": 4}
    assert manifest["split_by"]["commitpackft"]["python"]["commit"] == 20
    assert manifest["split_by"]["commitpackft"]["python"]["notes"] == ["only 1 repository: the rows of owner/alpha are split by commit"]
    assert manifest["repositories_in_several_splits"] == {"owner/alpha": ["train", "val", "test"]}


def test_rows_without_a_repository_keep_the_split_by_commit(tmp_path):
    plain = write_jsonl(tmp_path / "cpf.jsonl", [commit_row(f"Raise the default limit to {i}", new=f"a = {i}\n") for i in range(2, 12)])
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"commitpackft:{plain}"),), out=tmp_path / "out"))
    assert manifest["totals"]["commitpackft"] == {"train": 7, "val": 1, "test": 2}
    assert manifest["split_by"]["commitpackft"]["python"] == {"given": 0, "repository": 0, "commit": 10, "notes": []}
    assert manifest["repositories"]["commitpackft"] == {"train": {}, "val": {}, "test": {}}


def test_weighted_assignment_fills_shares_of_rows_and_keeps_one_repository_for_training():
    weights = {"a/one": 50, "a/two": 30, "a/three": 10, "a/four": 10}
    splits = assign_splits(weights, seed=0, weights=weights)
    rows = {name: sum(w for repo, w in weights.items() if splits[repo] == name) for name in ("train", "val", "test")}
    assert all(rows.values()) and rows["test"] in (10, 20, 30) and rows["val"] in (10, 30)
    assert assign_splits(weights, seed=0, weights=weights) == splits
    # Pins keep their split and count towards its share; one repository always stays for training.
    pinned = assign_splits(weights, seed=0, weights=weights, pinned={"a/one": "test"})
    assert pinned["a/one"] == "test" and "test" not in {pinned[r] for r in weights if r != "a/one"}
    both = {"x/a": "train", "x/b": "train"}
    assert assign_splits(["x/a", "x/b"], weights={"x/a": 1, "x/b": 1}, pinned=both) == both  # nothing left to move
    assert assign_splits(["x/a", "x/b"], weights={"x/a": 1, "x/b": 1}) in (
        {"x/a": "test", "x/b": "train"}, {"x/a": "train", "x/b": "test"})


@pytest.mark.parametrize("location, name", [
    ("https://github.com/psf/requests.git", "psf/requests"),
    ("git@github.com:pallets/click.git", "pallets/click"),
    ("/srv/code/shop/", "shop"),
])
def test_a_mined_repository_is_named_as_data_sets_name_theirs(location, name):
    assert mined_repository(location) == name
