"""The cocktail: a declarative, seeded mixture of the tasks' training examples.

``Mixture(parts=(("codesearchnet", 0.5), ("commitpackft", 0.5)), seed=0)`` draws examples so that
each task has exactly its share (up to rounding of one example), and the same seed gives the same
draw. ``describe`` is what a run records about its data. ``Mixture.parse`` reads the ``--mix`` flag
(``csn=0.25,commit=0.25,kind=0.25,note=0.25``: any of the four tasks of ``training.examples.TASKS``,
by name or short name); ``Mixture.from_ratio`` the older ``--ratio`` of the first two.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Sequence, TypeVar

from db.errors import DataError
from training.examples import TASKS

T = TypeVar("T")

TASK_ALIASES = {"csn": "codesearchnet", "code": "codesearchnet", "commit": "commitpackft", "cpft": "commitpackft",
                "kind": "change_kind", "note": "user_note", **{task: task for task in TASKS}}
"""The names ``--mix`` accepts for each task of the cocktail."""


@dataclass(frozen=True)
class Mixture:
    """Shares of each task in the training stream."""

    parts: tuple[tuple[str, float], ...] = (("codesearchnet", 0.5), ("commitpackft", 0.5))
    """``(task, share)`` pairs; shares are between 0 and 1 and sum to 1."""
    seed: int = 0
    """Seed of the draw and of the order."""
    size: int | None = None
    """Examples drawn in all; None: as many as the scarcest task allows without repeating any."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple((str(n), float(w)) for n, w in self.parts))
        names = [name for name, _ in self.parts]
        if not self.parts or len(set(names)) != len(names):
            raise ValueError("parts must name each task once")
        if any(not 0 <= w <= 1 for _, w in self.parts) or abs(sum(w for _, w in self.parts) - 1) > 1e-6:
            raise ValueError("shares must be between 0 and 1 and sum to 1")
        if self.size is not None and self.size < 1:
            raise ValueError("size must be positive")

    @classmethod
    def from_ratio(cls, ratio: float, seed: int = 0, size: int | None = None) -> "Mixture":
        """``ratio`` of code -> summary, the rest diff -> message (``--ratio 0.4`` is 40/60)."""
        if not 0 <= ratio <= 1:
            raise DataError(f"--ratio must be between 0 and 1 (the share of codesearchnet), not {ratio}")
        return cls(parts=(("codesearchnet", ratio), ("commitpackft", round(1 - ratio, 12))), seed=seed, size=size)

    @classmethod
    def parse(cls, text: str, seed: int = 0, size: int | None = None) -> "Mixture":
        """``csn=0.25,commit=0.25,kind=0.25,note=0.25`` (shares of ``TASK_ALIASES`` names, summing to 1)."""
        parts: list[tuple[str, float]] = []
        for item in (part.strip() for part in text.split(",") if part.strip()):
            name, sep, share = item.partition("=")
            task = TASK_ALIASES.get(name.strip().lower())
            if not sep or task is None:
                raise DataError(f"--mix takes TASK=SHARE,... with tasks {', '.join(sorted(set(TASK_ALIASES) - set(TASKS)))} "
                                f"(or {', '.join(TASKS)}), not {item!r}")
            try:
                parts.append((task, float(share)))
            except ValueError:
                raise DataError(f"--mix: {share.strip()!r} is not a share (a number between 0 and 1)") from None
        try:
            return cls(parts=tuple(parts), seed=seed, size=size)
        except ValueError as exc:
            raise DataError(f"--mix {text!r}: {exc}") from None

    def spec(self) -> str:
        """The ``--mix`` text of this mixture, with full task names (what a run records)."""
        return ",".join(f"{name}={weight:g}" for name, weight in self.parts)

    def counts(self, available: dict[str, int]) -> dict[str, int]:
        """How many examples of each task to draw, given how many each pool has."""
        for name, weight in self.parts:
            if weight > 0 and available.get(name, 0) == 0:
                raise DataError(f"No {name} training examples, but the mixture gives it a share of {weight:g}")
        total = self.size
        if total is None:
            total = min(math.floor(available[name] / weight + 1e-9) for name, weight in self.parts if weight > 0)
        exact = [(name, weight * total) for name, weight in self.parts]
        counts = {name: math.floor(share + 1e-9) for name, share in exact}
        # Largest remainder: hand the examples lost to rounding to the biggest fractional parts.
        order = sorted(exact, key=lambda item: -(item[1] - math.floor(item[1] + 1e-9)))
        for name, _ in order[: total - sum(counts.values())]:
            counts[name] += 1
        return counts

    def draw(self, pools: dict[str, Sequence[T]]) -> list[T]:
        """The mixed, shuffled training stream (pools are repeated only when ``size`` asks for more)."""
        rng = random.Random(self.seed)
        counts = self.counts({name: len(pool) for name, pool in pools.items()})
        stream: list[T] = []
        for name, _ in self.parts:
            pool, wanted = list(pools.get(name, [])), counts[name]
            repeats, rest = divmod(wanted, len(pool)) if pool else (0, 0)
            stream.extend(pool * repeats)
            stream.extend(rng.sample(pool, rest))
        rng.shuffle(stream)
        return stream

    def describe(self, available: dict[str, int]) -> dict:
        """What a run records about its data mix."""
        return {"parts": [list(p) for p in self.parts], "seed": self.seed, "size": self.size,
                "available": available, "drawn": self.counts(available)}
