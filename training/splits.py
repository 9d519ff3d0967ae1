"""Deduplicate, split per language (stratified 70/10/20) and compact to fixed-size subsets.

Splitting is per task and per language, seeded. Rows that a data set already places in a split (a
CodeSearchNet ``partition``, a ``valid.jsonl`` file) stay there when ``keep_partitions`` is set, so
held-out repositories stay held out; rows without one are split by ``fractions``. A split left empty
(e.g. no validation rows in a data set that only has train and test) is carved from train.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass

from training.examples import SPLITS, Example


@dataclass(frozen=True)
class SplitPlan:
    """How prepared rows are divided into train/val/test."""

    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    """Shares of train, val and test for rows without a split of their own."""
    caps: tuple[int | None, int | None, int | None] = (2100, 300, 600)
    """Most rows kept per language in train, val and test (None: keep all); the write-up's subsets."""
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


def dedupe(rows: list[tuple[Example, str | None]]) -> tuple[list[tuple[Example, str | None]], int]:
    """``rows`` without duplicates (the first copy wins) and how many were dropped."""
    seen: set[str] = set()
    kept = []
    for example, partition in rows:
        key = dedupe_key(example)
        if key not in seen:
            seen.add(key)
            kept.append((example, partition))
    return kept, len(rows) - len(kept)


def _carve(pool: list[Example], share: float) -> tuple[list[Example], list[Example]]:
    n = round(len(pool) * share)
    return pool[n:], pool[:n]


def split_language(rows: list[tuple[Example, str | None]], plan: SplitPlan, rng: random.Random) -> dict[str, list[Example]]:
    """Split the rows of one task and language (see the module docstring)."""
    out: dict[str, list[Example]] = {name: [] for name in SPLITS}
    free: list[Example] = []
    for example, partition in rows:
        if plan.keep_partitions and partition in out:
            out[partition].append(example)
        else:
            free.append(example)
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
    return out


def split_examples(rows: list[tuple[Example, str | None]], plan: SplitPlan) -> dict[str, list[Example]]:
    """Split rows of any tasks and languages, stratified per (task, language)."""
    groups: dict[tuple[str, str], list[tuple[Example, str | None]]] = defaultdict(list)
    for example, partition in rows:
        groups[(example.task, example.language)].append((example, partition))
    out: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for (task, language), group in sorted(groups.items()):
        rng = random.Random(f"{plan.seed}:{task}:{language}")
        for name, examples in split_language(group, plan, rng).items():
            out[name].extend(examples)
    return out
