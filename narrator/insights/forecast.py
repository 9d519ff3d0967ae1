"""When the next release is likely, from the gaps between past releases, and how often that was right.

The method, kept simple enough to explain in one sentence: take the gaps (in days) between the
last ``WINDOW`` releases, and say the next release is likely between the last release's date plus
the 10th percentile gap and plus the 90th percentile gap (percentiles by linear interpolation
between the sorted gaps, as numpy's default). So the range holds the middle 80% of recent gaps.

The back-test replays this on the repository's own history: for every release that had at least
``MIN_RELEASES`` releases before it, forecast from those earlier releases alone and check whether it
came inside the range (whole UTC days, both ends included). The hit rate is what a manager reads
next to the forecast: "past releases fell inside the forecast range 7 times out of 10".

A release dated later than the day of the forecast (a computer whose clock was wrong: a tag on a
commit of the year 9000) is left out, and the forecast says so; the arithmetic stops at the last day
Python can hold rather than overflow.

Pure functions over ``narrator.insights.history.ReleasePoint`` lists (oldest first); nothing here reads git,
the database or a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from narrator.insights.periods import day_range
from narrator.insights.history import ReleasePoint

MIN_RELEASES = 4
"""Fewer releases than this (three gaps) say too little to forecast from."""
WINDOW = 10
"""How many of the latest gaps the range is taken from: recent habits count, old ones fade out."""
LOW, HIGH = 0.10, 0.90
"""The percentiles of the gaps that bound the range."""
NOT_ENOUGH = "Not enough releases to forecast"


@dataclass(frozen=True)
class Forecast:
    """The likely date range of the next release, and how the same method did on past releases."""

    releases: int
    """How many releases are recorded."""
    last: ReleasePoint | None
    """The latest release, which the range is counted from."""
    earliest: date | None
    """The range's first day; None with fewer than ``MIN_RELEASES`` releases."""
    latest: date | None
    """The range's last day."""
    gaps: int = 0
    """How many gaps between releases the range stands on (at most ``WINDOW``)."""
    hits: int = 0
    """Past releases that fell inside the range forecast from the releases before them."""
    tries: int = 0
    """Past releases the back-test could check (those with ``MIN_RELEASES`` releases before them)."""
    overdue: bool = False
    """No release came by the range's last day, as of the day the forecast was made."""
    future: tuple[ReleasePoint, ...] = ()
    """Releases dated after the day the forecast was made (a wrong clock), oldest first: left out."""
    as_of: date | None = None
    """The day the forecast was made (None: not known): a range that opened before it is said from it."""

    @property
    def possible(self) -> bool:
        return self.earliest is not None


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between sorted values."""
    if not values:
        raise ValueError("the percentile of no values is undefined")
    if not 0 <= q <= 1:
        raise ValueError(f"a quantile lies between 0 and 1, not {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def gaps(releases: Sequence[ReleasePoint]) -> list[float]:
    """Days between consecutive releases (oldest first in, oldest gap first out)."""
    return [(b.date - a.date).total_seconds() / 86400 for a, b in zip(releases, releases[1:])]


def likely_range(releases: Sequence[ReleasePoint]) -> tuple[date, date] | None:
    """The next release's likely first and last day, or None with fewer than ``MIN_RELEASES``."""
    if len(releases) < MIN_RELEASES:
        return None
    recent = gaps(releases)[-WINDOW:]
    start = releases[-1].date
    return _day(_later(start, percentile(recent, LOW))), _day(_later(start, percentile(recent, HIGH)))


def back_test(releases: Sequence[ReleasePoint]) -> tuple[int, int]:
    """(hits, tries): how many past releases fell inside the range forecast from those before them."""
    hits = tries = 0
    for index in range(MIN_RELEASES, len(releases)):
        earliest, latest = likely_range(releases[:index])
        tries += 1
        hits += earliest <= _day(releases[index].date) <= latest
    return hits, tries


def forecast(releases: Sequence[ReleasePoint], as_of: date | None = None) -> Forecast:
    """The forecast from ``releases`` (oldest first); ``as_of`` (the day the history was last read)
    tells whether the range has already passed without a release, and which releases are dated after
    it (left out: see the module docstring)."""
    ordered = sorted(releases, key=lambda r: r.date)
    future = tuple(r for r in ordered if as_of is not None and _day(r.date) > as_of)
    releases = [r for r in ordered if r not in future]
    last = releases[-1] if releases else None
    window = likely_range(releases)
    if window is None:
        return Forecast(len(releases), last, None, None, future=future)
    hits, tries = back_test(releases)
    overdue = as_of is not None and as_of > window[1]
    return Forecast(len(releases), last, window[0], window[1], min(WINDOW, len(releases) - 1), hits, tries, overdue,
                    future, as_of)


def sentences(result: Forecast) -> list[str]:
    """The forecast in plain words: ``next_release``, then ``how_sure`` (how it was made, how often it was right)."""
    return next_release(result) + how_sure(result)


def next_release(result: Forecast) -> list[str]:
    """Releases left out, then the likely range, or "overdue since …" once the range has passed
    (never a range in the past)."""
    lines = [_future(result.future)] if result.future else []
    if not result.possible:
        have = f"{result.releases} recorded" if result.releases else "none recorded"
        return lines + [f"{NOT_ENOUGH} ({have}; {MIN_RELEASES} are needed)."]
    span = day_range(result.earliest, result.latest)
    if result.overdue:
        last = f"{result.last.version} on {day_range(_day(result.last.date), _day(result.last.date))}"
        return lines + [f"The next release is overdue since {day_range(result.latest, result.latest)}: "
                        f"none is recorded since {last}."]
    if result.as_of is not None and result.earliest < result.as_of:
        # The range opened already with no release: only its end is still ahead.
        return lines + [f"The next release is likely by {day_range(result.latest, result.latest)} "
                        f"(the likely range opened on {day_range(result.earliest, result.earliest)})."]
    if result.earliest == result.latest:
        return lines + [f"The next release is likely on {span}."]
    return lines + [f"The next release is likely between {span}."]


def how_sure(result: Forecast) -> list[str]:
    """The "how sure is this" detail: how the range was made and how often past releases fell inside it."""
    if not result.possible:
        return []
    last = f"{result.last.version} on {day_range(_day(result.last.date), _day(result.last.date))}"
    return [f"Estimated from the gaps between the last {result.gaps + 1} releases (the middle 80% of them), "
            f"counted from {last}.", hit_rate(result)]


def hit_rate(result: Forecast) -> str:
    """'Past releases fell inside the forecast range 7 times out of 10.'"""
    if not result.tries:
        return "Too few releases yet to check this forecast against the past."
    times = "time" if result.hits == 1 else "times"
    return f"Past releases fell inside the forecast range {result.hits} {times} out of {result.tries}."


def _future(releases: tuple[ReleasePoint, ...]) -> str:
    """'The latest release (9.0) is dated in the future (1 Jan 9000): …, so it is left out of the forecast.'"""
    latest = releases[-1]
    when = day_range(_day(latest.date), _day(latest.date))
    clock = "the clock of the computer that made it was wrong"
    if len(releases) == 1:
        return (f"The latest release ({latest.version}) is dated in the future ({when}): {clock}, "
                "so it is left out of the forecast.")
    return (f"{len(releases)} releases are dated in the future (the latest, {latest.version}, on {when}): {clock}, "
            "so they are left out of the forecast.")


def _later(moment: datetime, days: float) -> datetime:
    """``days`` after ``moment``, or the last moment Python can hold when that is later still."""
    try:
        return moment + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=timezone.utc)


def _day(moment) -> date:
    return moment.astimezone(timezone.utc).date()
