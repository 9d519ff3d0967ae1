"""The periods a digest, briefing or status covers, named ("7d", "30d-commits") or a date range, and
the day taken as today. Nothing here calls git, the database or a model.

Periods are whole calendar days in UTC. A ``Period`` is half-open, ``(start, end]``:
``start`` is the last instant before the first day and ``end`` the last instant of the last day, so
``start < date <= end`` holds exactly for commits on those days.

A named period ends today (``today``), whatever the commits' dates: a commit dated later than today
(a computer whose clock was wrong) falls in no such period and never stands in for "now". Its
``-commits`` form ends on the day of the latest commit up to today instead, so a quiet repository
still shows its last active days. No period starts before ``FIRST_DAY``: git records no earlier
date, and the period before it must still be a date Python can hold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Sequence

from db.errors import NarratorError
from narrator.defaults import DIGEST_PERIOD

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
"""The named periods: the N days ending today (UTC)."""
WITH_COMMITS = "-commits"
"""Appended to a named period ('7d-commits'): the N days ending on the latest commit's day up to today."""
PERIOD_NAMES = (*PERIODS, *(name + WITH_COMMITS for name in PERIODS))
"""Every named period a page or the command line offers."""
FIRST_DAY = date(1970, 1, 1)
"""No period starts earlier: git dates count seconds from this day."""
TODAY_VARIABLE = "CODE_NARRATOR_TODAY"
"""An environment variable naming the day to take as today (YYYY-MM-DD), for tests and demonstrations."""
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_INSTANT = timedelta(microseconds=1)
_EARLIEST_DAY = date.min + timedelta(days=1)
"""The first day a Period can start on: its start is the instant before that day's midnight."""


@dataclass(frozen=True)
class Period:
    """A run of whole UTC calendar days, half-open as ``(start, end]``."""

    start: datetime
    """The last instant before the first day (so the first day's midnight is inside)."""
    end: datetime
    """The last instant of the last day."""
    label: str
    """How a page heads the period: 'the last 7 days with commits (26 Nov - 2 Dec 2026)'."""
    days: int
    """How many calendar days it covers."""
    name: str = ""
    """How a sentence names it: 'the last 7 days with commits', 'the 7 days before'. Defaults to label."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period's start and end must be timezone-aware")
        if self.days < 1 or self.end - self.start != timedelta(days=self.days):
            raise ValueError(f"a period of {self.days} days must span exactly that many days")
        if not self.name:
            object.__setattr__(self, "name", self.label)

    @property
    def first_day(self) -> date:
        return (self.start + _INSTANT).astimezone(timezone.utc).date()

    @property
    def last_day(self) -> date:
        return self.end.astimezone(timezone.utc).date()

    def contains(self, when: datetime) -> bool:
        """Whether ``when`` (naive means UTC) falls in ``(start, end]``."""
        return self.start < _utc(when) <= self.end

    def previous(self) -> Period:
        """The same number of days just before this period, or as many as the calendar holds
        (a range of 8,000 years, ``1970-01-01..9999-12-31``, has fewer before it)."""
        last = self.first_day - timedelta(days=1)
        days = min(self.days, (last - _EARLIEST_DAY).days + 1)
        name = "the day before" if days == 1 else f"the {days:,} days before"
        return _period(last - timedelta(days=days - 1), last, name, with_days=True)


def today() -> date:
    """The day named periods end on: today in UTC, or the day ``CODE_NARRATOR_TODAY`` names.

    The one place that reads the clock for periods, so tests pin it instead of depending on the date.
    """
    pinned = os.environ.get(TODAY_VARIABLE, "").strip()
    if not pinned:
        return datetime.now(timezone.utc).date()
    try:
        day = date.fromisoformat(pinned)
    except ValueError:
        day = None
    if day is None or day < FIRST_DAY:
        raise NarratorError(f"{TODAY_VARIABLE}={pinned!r} is not a day git can record: use YYYY-MM-DD from {FIRST_DAY}")
    return day


def choose_period(dates: Sequence[datetime], choice: str | tuple[date, date] = DIGEST_PERIOD, on: date | None = None) -> Period:
    """The period a digest covers, as of the day ``on`` (default ``today()``).

    "7d", "30d" or "90d": the N days ending on ``on``. "7d-commits" (and the others with
    ``WITH_COMMITS``): the N days ending on the day of the latest commit in ``dates`` that is not
    later than ``on``, so a quiet repository still gets its last active week (with none, they end on
    ``on``). A ``(from, to)`` pair of dates: those days, both included. Raises ValueError for an
    unknown choice, a range that ends before it starts, or one that starts before ``FIRST_DAY``.
    """
    if isinstance(choice, tuple):
        if len(choice) != 2 or not all(isinstance(d, date) for d in choice):
            raise ValueError("a period range must be a (from, to) pair of dates")
        first, last = (_utc(d).date() if isinstance(d, datetime) else d for d in choice)
        if first > last:
            raise ValueError(f"the period starts ({first}) after it ends ({last})")
        if first < FIRST_DAY:
            raise ValueError(f"the period starts ({first}) before {FIRST_DAY}: git records no earlier day")
        return _period(first, last, "the period " + day_range(first, last), with_days=False)
    name = choice.removesuffix(WITH_COMMITS) if isinstance(choice, str) else None
    if name not in PERIODS:
        raise ValueError(f"unknown period {choice!r}: choose {', '.join(PERIOD_NAMES)} or a (from, to) date range")
    days, on = PERIODS[name], on or today()
    active = [day for day in (_utc(d).date() for d in dates) if day <= on] if choice != name else []
    last = max(active, default=on)
    words = f"the last {days} days with commits" if active else f"the last {days} days"
    return _period(max(last - timedelta(days=days - 1), FIRST_DAY), last, words, with_days=True)


def _period(first: date, last: date, name: str, with_days: bool) -> Period:
    """The Period covering ``first``..``last``; its label is the name with the days, or the days alone."""
    start = datetime.combine(first, time.min, timezone.utc) - _INSTANT
    end = datetime.combine(last, time.max, timezone.utc)
    days = day_range(first, last)
    label = f"{name} ({days})" if with_days else days
    return Period(start=start, end=end, label=label, days=(last - first).days + 1, name=name)


def day_range(first: date, last: date) -> str:
    """'2 Dec 2026', '3 - 9 Dec 2026', '26 Nov - 2 Dec 2026', '28 Dec 2026 - 3 Jan 2027'."""
    def day(d: date, month: bool = True, year: bool = True) -> str:
        return " ".join([str(d.day)] + [_MONTHS[d.month - 1]] * month + [str(d.year)] * year)

    if first == last:
        return day(last)
    if first.year != last.year:
        return f"{day(first)} - {day(last)}"
    same_month = first.month == last.month
    return f"{day(first, month=not same_month, year=False)} - {day(last)}"


def _utc(when: datetime) -> datetime:
    """``when`` in UTC; a naive datetime is taken to be UTC already."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
