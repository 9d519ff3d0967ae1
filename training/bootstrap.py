"""Percentile bootstrap confidence intervals of a mean, resampling examples with a fixed seed."""

from __future__ import annotations

import random
from collections.abc import Sequence


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95, resamples: int = 1000, seed: int = 0,
                 weights: Sequence[float] | None = None) -> tuple[float, float]:
    """``(low, high)`` percentile bootstrap interval of the mean of ``values``.

    Each resample draws ``len(values)`` examples with replacement (seeded: the same input gives the
    same interval). With ``weights`` the statistic is the weighted mean ``sum(w*v) / sum(w)``: with
    per-example mean CE as values and target tokens as weights that is the token-pooled CE of
    ``training.cross_entropy.mean_ce``, so the interval is over examples, as the data was sampled.
    """
    if not values:
        raise ValueError("bootstrap_ci needs at least one value")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if weights is not None and len(weights) != len(values):
        raise ValueError("weights must give one weight per value")
    w = [1.0] * len(values) if weights is None else [float(x) for x in weights]
    weighted = [v * x for v, x in zip(values, w)]
    rng = random.Random(seed)
    n = len(values)
    means = []
    for _ in range(resamples):
        picks = [rng.randrange(n) for _ in range(n)]
        total = sum(w[i] for i in picks)
        means.append(sum(weighted[i] for i in picks) / total if total else float("nan"))
    means.sort()
    tail = (1 - confidence) / 2
    low = means[int(tail * (resamples - 1))]
    high = means[int(round((1 - tail) * (resamples - 1)))]
    return low, high
