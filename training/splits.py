"""Deduplicate, split per language (stratified 70/10/20) by repository, and compact to fixed-size subsets.

Splitting is per task and per language, seeded. Rows that a data set already places in a split (a
CodeSearchNet ``partition``, a ``valid.jsonl`` file, a ``@test`` source) stay there when
``keep_partitions`` is set, so held-out repositories stay held out. The other rows are divided by
``fractions``:

- rows that name their repository (CodeSearchNet/CodeXGLUE ``repo``, CommitPackFT ``repos``, a mined
  ``mine:REPO``) by repository, never by commit (``assign_splits``): whole repositories go to test,
  validation and training, in the order of a seeded hash of their names, each taken while it brings
  the split's share of rows closer to its fraction. A repository keeps one split across every task
  and language: one a data set places (a given partition) or an earlier group placed keeps that
  split. Where a task and language has fewer than 3 repositories, they cannot fill three splits:
  when the group already has held-out test rows (from other repositories), they all go to training;
  otherwise their rows are split by commit, and the manifest says so (``split_by``, with the reason).
- rows without a repository by commit, as before.

A split left empty (e.g. no validation rows in a data set that only has train and test) is carved
from train: whole repositories where train has at least two that no other group placed, else rows.

A row is everything made from one item of a data set: one function's example, or one commit's title
and explain examples. Rows, not examples, are deduplicated, split and capped, so the examples of
one commit always land in the same split and never leak from train into test.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from training.examples import SPLITS, Example

Examples = tuple[Example, ...]
"""The examples made from one item of a data set; the first is its main one."""


class Row(NamedTuple):
    """One item's examples, the split its data set gives it and the repository it comes from."""

    examples: Examples
    partition: str | None
    """``train``/``val``/``test`` when the data set gives one, else None."""
    repo: str | None = None
    """The repository the item comes from (``owner/name``), None when the data set does not say."""


DEFAULT_FRACTIONS = (0.7, 0.1, 0.2)


@dataclass(frozen=True)
class SplitPlan:
    """How prepared rows are divided into train/val/test."""

    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
    """Shares of train, val and test for rows without a split of their own."""
    caps: tuple[int | None, int | None, int | None] = (2100, 300, 600)
    """Most rows (functions, commits) kept per language in train, val and test (None: keep all)."""
    seed: int = 0
    """Seed of the shuffles and of the repositories' order, so the same input always gives the same files."""
    keep_partitions: bool = True
    """Keep rows in the split their data set gives them."""

    def __post_init__(self) -> None:
        if len(self.fractions) != 3 or any(f < 0 for f in self.fractions) or abs(sum(self.fractions) - 1) > 1e-6:
            raise ValueError("fractions must be three non-negative shares of train, val, test summing to 1")
        if self.fractions[0] <= 0:
            raise ValueError("the train fraction must be positive")
        if len(self.caps) != 3 or any(c is not None and c < 0 for c in self.caps):
            raise ValueError("caps must be three non-negative counts (or None) for train, val, test")


# --- repositories ---------------------------------------------------------------------------------


def repository_of(row: dict) -> str | None:
    """The repository a data set's row names: ``repo`` (CodeSearchNet, CodeXGLUE) or the first of
    ``repos`` (CommitPackFT lists every repository holding the commit), else None."""
    value = row.get("repo") or row.get("repos")
    return str(value).split(",")[0].strip() or None if value else None


def repository_hash(repo: str, seed: int = 0) -> str:
    """The seeded hash that orders repositories for ``assign_splits`` (case and spaces do not matter)."""
    return hashlib.sha256(f"{seed}:{repo.strip().lower()}".encode()).hexdigest()


def assign_splits(repos: Iterable[str], seed: int = 0, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
                  pinned: dict[str, str] | None = None, weights: dict[str, int] | None = None) -> dict[str, str]:
    """``{repository: split}``: every repository in exactly one of train/val/test.

    Repositories are taken in the order of a seeded hash of their names (``repository_hash``) to fill
    test, then validation; the rest train. Without ``weights`` the shares are of repositories: with
    three or more, at least one each to test and validation. With ``weights`` (rows per repository)
    the shares are of rows: a repository goes to a split while it brings the split's rows closer to its
    fraction, and each split with a positive fraction gets at least one while one stays for training.
    The same repositories, seed, pins and weights always give the same splits. Pinned repositories keep
    their split and count towards its share.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6 or fractions[0] <= 0:
        raise ValueError("fractions must be three non-negative shares of train, val, test summing to 1 (train > 0)")
    names = sorted(set(repos))
    pinned = {repo: split for repo, split in (pinned or {}).items() if repo in names}
    out = dict(pinned)
    free = sorted((repo for repo in names if repo not in pinned), key=lambda repo: repository_hash(repo, seed))
    if weights is None:
        wanted = {"test": max(1, round(len(names) * fractions[2])) if fractions[2] and len(names) > 2 else 0,
                  "val": max(1, round(len(names) * fractions[1])) if fractions[1] and len(names) > 2 else 0}
        for split in ("test", "val"):
            room = max(0, wanted[split] - sum(1 for s in pinned.values() if s == split))
            for repo in free[:room]:
                out[repo] = split
            free = free[room:]
    else:
        total = sum(weights.get(repo, 0) for repo in names)
        has_train = any(s == "train" for s in pinned.values())
        for split, fraction in (("test", fractions[2]), ("val", fractions[1])):
            if not fraction:
                continue
            have = sum(weights.get(repo, 0) for repo, s in pinned.items() if s == split)
            target = total * fraction
            taken: list[str] = []
            for repo in free:
                spare = has_train or len(free) - len(taken) > 1  # one stays for training
                if spare and have + weights.get(repo, 0) / 2 < target:
                    taken.append(repo)
                    have += weights.get(repo, 0)
            if not taken and split not in pinned.values() and free and (has_train or len(free) > 1):
                taken = [min(free, key=lambda repo: abs(weights.get(repo, 0) - target))]
            free = [repo for repo in free if repo not in taken]
            out.update(dict.fromkeys(taken, split))
    out.update(dict.fromkeys(free, "train"))
    return out


def dedupe_key(example: Example) -> str:
    """Examples with the same task and the same prompt (whitespace aside) are duplicates."""
    prompt = " ".join(m["content"] for m in example.messages if m.get("role") == "user")
    return hashlib.sha1(f"{example.task}\0{' '.join(prompt.split())}".encode()).hexdigest()


def dedupe(rows: list[Row]) -> tuple[list[Row], int]:
    """``rows`` without duplicates (the first copy wins) and how many were dropped.

    Rows are compared by their main example (a commit's by its diff -> title prompt), so a commit
    met twice goes with all its examples.
    """
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = dedupe_key(row[0][0])
        if key not in seen:
            seen.add(key)
            kept.append(Row(*row))
    return kept, len(rows) - len(kept)


Placed = tuple[Row, str]
"""A row and how it got its split: ``given``, ``repository`` or ``commit``."""


@dataclass
class Placement:
    """Where ``split_rows`` put every repository, shared by the groups (tasks and languages) it splits."""

    given: dict[str, str] = field(default_factory=dict)
    """The split data sets give each repository's rows (the first one met)."""
    decided: dict[str, str] = field(default_factory=dict)
    """The split this module gave a repository, for the groups split after it."""

    def pin(self, repo: str) -> str | None:
        return self.decided.get(repo) or self.given.get(repo)


def _by_repository(rows: list[Row], name: str, plan: SplitPlan, share: float, placement: Placement) -> list[Row]:
    """The rows of whole repositories to carve out of ``rows`` (train) into split ``name``, about ``share``
    of them. A repository an earlier group placed keeps its place (in ``name`` or train); [] when no
    whole repository can go while one stays."""
    rows_of: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        rows_of[row.repo].append(row)
    fixed = {repo: "val" if placement.decided[repo] == name else "train" for repo in rows_of if repo in placement.decided}
    chosen = assign_splits(rows_of, plan.seed, (1 - share, share, 0.0), pinned=fixed,
                           weights={repo: len(found) for repo, found in rows_of.items()})
    if "train" not in chosen.values():
        return []
    return [row for repo, split in chosen.items() if split == "val" for row in rows_of[repo]]


def _carve(pool: list[Placed], name: str, share: float, plan: SplitPlan,
           placement: Placement) -> tuple[list[Placed], list[Placed], str]:
    """Carve about ``share`` of ``pool`` (train) into the empty split ``name``: whole repositories where
    one can go while one stays, else rows; rows without a repository always by row. Returns what stays,
    what was carved and how (``repository`` or ``commit``)."""
    with_repo = [row for row, _ in pool if row.repo]
    moved = {id(row) for row in _by_repository(with_repo, name, plan, share, placement)}
    loose = [placed for placed in pool if not (moved and placed[0].repo)]
    n = round(len(loose) * share)
    stay = [placed for placed in pool if placed[0].repo and moved and id(placed[0]) not in moved] + loose[n:]
    carved = [(row, "repository") for row, _ in pool if id(row) in moved] + [(row, "commit") for row, _ in loose[:n]]
    return stay, carved, "repository" if moved else "commit"


def _repositories(n: int) -> str:
    return f"{n} repository" if n == 1 else f"{n} repositories"


def split_language(rows: list[Row], plan: SplitPlan, rng: random.Random,
                   placement: Placement | None = None) -> tuple[dict[str, list[Placed]], list[str]]:
    """Split the rows of one task and language (see the module docstring): the rows of each split with
    how each got there, and notes on where a split could not be by repository."""
    placement = placement if placement is not None else Placement()
    out: dict[str, list[Placed]] = {name: [] for name in SPLITS}
    free: list[Row] = []
    rows_of: dict[str, list[Row]] = defaultdict(list)
    notes: list[str] = []
    for row in rows:
        if plan.keep_partitions and row.partition in out:
            out[row.partition].append((row, "given"))
        elif row.repo:
            rows_of[row.repo].append(row)
        else:
            free.append(row)
    if rows_of:
        pins = {repo: split for repo in rows_of if (split := placement.pin(repo))}
        if len(rows_of) >= 3 or len(pins) == len(rows_of):
            chosen = assign_splits(rows_of, plan.seed, plan.fractions, pinned=pins,
                                   weights={repo: len(found) for repo, found in rows_of.items()})
        elif out["test"]:
            chosen = {repo: pins.get(repo, "train") for repo in rows_of}
            notes.append(f"only {_repositories(len(rows_of))} without a split of their own: all in train "
                         "(test comes from other repositories)")
        else:
            chosen = pins
            loose = sorted(repo for repo in rows_of if repo not in pins)
            free += [row for repo in loose for row in rows_of[repo]]
            notes.append(f"only {_repositories(len(rows_of))}: the rows of {', '.join(loose)} are split by commit")
        for repo, split in sorted(chosen.items()):
            out[split] += [(row, "repository") for row in rows_of[repo]]
    rng.shuffle(free)
    n_train = round(len(free) * plan.fractions[0])
    n_val = round(len(free) * plan.fractions[1])
    out["train"] += [(row, "commit") for row in free[:n_train]]
    out["val"] += [(row, "commit") for row in free[n_train : n_train + n_val]]
    out["test"] += [(row, "commit") for row in free[n_train + n_val :]]
    for name in SPLITS:
        rng.shuffle(out[name])
    train_share = plan.fractions[0]
    for index, name in ((1, "val"), (2, "test")):
        if not out[name] and plan.fractions[index] > 0 and len(out["train"]) > 1:
            share = plan.fractions[index] / (train_share + plan.fractions[index])
            out["train"], out[name], how = _carve(out["train"], name, share, plan, placement)
            if how == "commit" and any(row.repo for row, _ in out[name]):
                notes.append(f"{name} carved from train by commit: no repository could go while one stays")
    for name in SPLITS:  # this group's repositories keep their split in the groups after it
        placement.decided.update((row.repo, name) for row, how in out[name] if row.repo and how != "commit")
    for name, cap in zip(SPLITS, plan.caps):
        if cap is not None:
            out[name] = out[name][:cap]
    return out, notes


@dataclass
class Splits:
    """The examples of each split and how the rows were divided (recorded in the manifest)."""

    examples: dict[str, list[Example]]
    repositories: dict[str, dict[str, dict[str, int]]]
    """``{task: {split: {repository: rows}}}``."""
    split_by: dict[str, dict[str, dict]]
    """``{task: {language: {"given": rows, "repository": rows, "commit": rows, "notes": [...]}}}``."""

    @property
    def shared_repositories(self) -> dict[str, list[str]]:
        """Repositories whose rows sit in more than one split (any task), with those splits."""
        seen: dict[str, set[str]] = defaultdict(set)
        for by_split in self.repositories.values():
            for split, repos in by_split.items():
                for repo in repos:
                    seen[repo].add(split)
        return {repo: [s for s in SPLITS if s in splits] for repo, splits in sorted(seen.items()) if len(splits) > 1}


def split_rows(rows: list[Row], plan: SplitPlan) -> Splits:
    """Split rows of any tasks and languages, stratified per (task, language) of their main example;
    a repository keeps one split over all of them (see the module docstring)."""
    rows = [Row(*row) for row in rows]
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    placement = Placement()
    for row in rows:
        groups[(row.examples[0].task, row.examples[0].language)].append(row)
        if row.repo and plan.keep_partitions and row.partition in SPLITS:
            placement.given.setdefault(row.repo, row.partition)
    examples: dict[str, list[Example]] = {name: [] for name in SPLITS}
    repositories: dict = defaultdict(lambda: {name: Counter() for name in SPLITS})
    split_by: dict = defaultdict(dict)
    for (task, language), group in sorted(groups.items()):
        rng = random.Random(f"{plan.seed}:{task}:{language}")
        placed, notes = split_language(group, plan, rng, placement)
        how = Counter()
        for name in SPLITS:
            flat = [example for row, _ in placed[name] for example in row.examples]
            rng.shuffle(flat)  # a commit's two examples need not sit side by side
            examples[name].extend(flat)
            repositories[task][name].update(row.repo for row, _ in placed[name] if row.repo)
            how.update(way for _, way in placed[name])
        split_by[task][language] = {way: how[way] for way in ("given", "repository", "commit")} | {"notes": notes}
    return Splits(examples, {task: {name: dict(sorted(c.items())) for name, c in by.items()} for task, by in repositories.items()},
                  dict(split_by))


def split_examples(rows: list[Row], plan: SplitPlan) -> dict[str, list[Example]]:
    """The examples of ``split_rows``."""
    return split_rows(rows, plan).examples
