"""Deduplicate, split per language (stratified 70/10/20) and compact to fixed-size subsets.

Splitting is per task and per language, seeded. Rows that a data set already places in a split (a
CodeSearchNet ``partition``, a ``valid.jsonl`` file) stay there when ``keep_partitions`` is set, so
held-out repositories stay held out; rows without one are split by ``fractions``. A split left empty
(e.g. no validation rows in a data set that only has train and test) is carved from train.

A row is everything made from one item of a data set: one function's example, or one commit's title
and explain examples. Rows, not examples, are deduplicated, split and capped, so the examples of
one commit always land in the same split and never leak from train into test.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass

from training.examples import SPLITS, Example

Examples = tuple[Example, ...]
"""The examples made from one item of a data set; the first is its main one."""
Row = tuple[Examples, str | None]
"""One item's examples and the split its data set gives it (None: none)."""


@dataclass(frozen=True)
class SplitPlan:
    """How prepared rows are divided into train/val/test."""

    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    """Shares of train, val and test for rows without a split of their own."""
    caps: tuple[int | None, int | None, int | None] = (2100, 300, 600)
    """Most rows (functions, commits) kept per language in train, val and test (None: keep all)."""
    seed: int = 0
    """Seed of the shuffles, so the same input always gives the same files."""
    keep_partitions: bool = True
    """Keep rows in the split their data set gives them."""

    def __post_init__(self) -> None:
        if len(self.fractions) != 3 or any(f < 0 for f in self.fractions) or abs(sum(self.fractions) - 1) > 1e-6:
            raise ValueError("fractions must be three non-negative shares of train, val, test summing to 1")
        if self.fractions[0] <= 0:
            raise ValueError("the train fraction must be positive")
        if len(self.caps) != 3 or any(c is not None and c < 0 for c in self.caps):
            raise ValueError("caps must be three non-negative counts (or None) for train, val, test")


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
    for examples, partition in rows:
        key = dedupe_key(examples[0])
        if key not in seen:
            seen.add(key)
            kept.append((examples, partition))
    return kept, len(rows) - len(kept)


def _carve(pool: list[Examples], share: float) -> tuple[list[Examples], list[Examples]]:
    n = round(len(pool) * share)
    return pool[n:], pool[:n]


def split_language(rows: list[Row], plan: SplitPlan, rng: random.Random) -> dict[str, list[Example]]:
    """Split the rows of one task and language (see the module docstring) into shuffled examples."""
    out: dict[str, list[Examples]] = {name: [] for name in SPLITS}
    free: list[Examples] = []
    for examples, partition in rows:
        if plan.keep_partitions and partition in out:
            out[partition].append(examples)
        else:
            free.append(examples)
    rng.shuffle(free)
    n_train = round(len(free) * plan.fractions[0])
    n_val = round(len(free) * plan.fractions[1])
    out["train"] += free[:n_train]
    out["val"] += free[n_train : n_train + n_val]
    out["test"] += free[n_train + n_val :]
    for name in SPLITS:
        rng.shuffle(out[name])
    train_share = plan.fractions[0]
    for index, name in ((1, "val"), (2, "test")):
        if not out[name] and plan.fractions[index] > 0 and len(out["train"]) > 1:
            out["train"], out[name] = _carve(out["train"], plan.fractions[index] / (train_share + plan.fractions[index]))
    for name, cap in zip(SPLITS, plan.caps):
        if cap is not None:
            out[name] = out[name][:cap]
    flat = {name: [example for examples in out[name] for example in examples] for name in SPLITS}
    for name in SPLITS:
        rng.shuffle(flat[name])  # a commit's two examples need not sit side by side
    return flat


def split_examples(rows: list[Row], plan: SplitPlan) -> dict[str, list[Example]]:
    """Split rows of any tasks and languages, stratified per (task, language) of their main example."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for examples, partition in rows:
        groups[(examples[0].task, examples[0].language)].append((examples, partition))
    out: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for (task, language), group in sorted(groups.items()):
        rng = random.Random(f"{plan.seed}:{task}:{language}")
        for name, examples in split_language(group, plan, rng).items():
            out[name].extend(examples)
    return out
