"""The cocktail mixture: exact shares, seeded draws, recorded description."""

from __future__ import annotations

from collections import Counter

import pytest

from db.errors import DataError
from training.mixture import Mixture

POOLS = {"codesearchnet": [f"csn{i}" for i in range(1000)], "commitpackft": [f"cpf{i}" for i in range(300)]}


def shares(stream: list[str]) -> Counter:
    return Counter("codesearchnet" if item.startswith("csn") else "commitpackft" for item in stream)


@pytest.mark.parametrize("ratio, expected", [
    (0.5, {"codesearchnet": 300, "commitpackft": 300}),
    (0.4, {"codesearchnet": 200, "commitpackft": 300}),
    (0.7, {"codesearchnet": 700, "commitpackft": 300}),
    (1.0, {"codesearchnet": 1000, "commitpackft": 0}),
])
def test_the_draw_has_exactly_the_asked_ratio_and_uses_the_scarcer_pool_fully(ratio, expected):
    stream = Mixture.from_ratio(ratio, seed=3).draw(POOLS)
    assert shares(stream) == Counter({k: v for k, v in expected.items() if v})
    assert len(set(stream)) == len(stream)  # nothing repeated


def test_a_fixed_size_keeps_the_ratio_and_repeats_only_when_asked_for_more():
    stream = Mixture.from_ratio(0.4, seed=0, size=1000).draw(POOLS)
    assert shares(stream) == Counter({"codesearchnet": 400, "commitpackft": 600})  # 600 > 300: commits repeat
    assert Counter(stream).most_common(1)[0][1] == 2


def test_the_draw_is_seeded_and_shuffled():
    first = Mixture.from_ratio(0.5, seed=7).draw(POOLS)
    assert Mixture.from_ratio(0.5, seed=7).draw(POOLS) == first
    assert Mixture.from_ratio(0.5, seed=8).draw(POOLS) != first
    assert shares(first[:100])["commitpackft"] > 20  # interleaved, not one task after the other


def test_odd_totals_are_split_by_largest_remainder():
    mixture = Mixture(parts=(("codesearchnet", 0.5), ("commitpackft", 0.5)), size=7)
    counts = mixture.counts({"codesearchnet": 10, "commitpackft": 10})
    assert sum(counts.values()) == 7 and sorted(counts.values()) == [3, 4]


def test_describe_records_the_declarative_mix():
    mixture = Mixture.from_ratio(0.7, seed=2)
    record = mixture.describe({"codesearchnet": 1000, "commitpackft": 300})
    assert record == {"parts": [["codesearchnet", 0.7], ["commitpackft", 0.3]], "seed": 2, "size": None,
                      "available": {"codesearchnet": 1000, "commitpackft": 300},
                      "drawn": {"codesearchnet": 700, "commitpackft": 300}}


def test_bad_mixtures_are_refused():
    with pytest.raises(DataError, match="--ratio must be between 0 and 1"):
        Mixture.from_ratio(1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        Mixture(parts=(("codesearchnet", 0.5), ("commitpackft", 0.6)))
    with pytest.raises(DataError, match="No commitpackft training examples"):
        Mixture.from_ratio(0.5).draw({"codesearchnet": ["a"], "commitpackft": []})
