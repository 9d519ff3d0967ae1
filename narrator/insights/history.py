"""The whole history as a manager charts it: activity over time, releases, busiest areas.

Pure functions over stored commit facts (``db.rows.CommitRow``: ``sha``, ``date``, ``area``,
``category``, ``added``, ``removed``, ``details``: its ``CommitFacts`` as stored), so the dashboard,
reports and the release forecast draw the same numbers, and tests need no database. Nothing here
reads git or asks the model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal, Protocol

from narrator.facts.commit_facts import CommitFacts
from narrator.facts.releases import is_development_version

Grain = Literal["week", "month"]
By = Literal["area", "category"]
GRAINS: tuple[Grain, ...] = ("week", "month")
OTHER_AREAS = "other areas"
"""The series that collects every area beyond the busiest few, so a chart stays readable."""
DEFAULT_MONTHS = 12


class Fact(Protocol):
    """What these functions read of a stored commit."""

    sha: str
    date: datetime
    area: str
    category: str | None
    added: int
    removed: int
    details: dict | None
    """Its ``narrator.facts.commit_facts.CommitFacts`` as stored (``to_json``)."""


@dataclass(frozen=True)
class Point:
    """Changes of one series (an area or a category) in one week or month."""

    period: date
    """The Monday of the week, or the first day of the month."""
    key: str
    changes: int
    shas: tuple[str, ...]
    """The commits counted, newest first, so a chart can link through to them."""


@dataclass(frozen=True)
class ReleasePoint:
    """A release on the timeline: the commit a version tag points at, or a release commit."""

    version: str
    sha: str
    date: datetime


@dataclass(frozen=True)
class AreaActivity:
    """An area's share of the changes in a period."""

    area: str
    changes: int
    lines: int
    """Lines added plus removed."""
    shas: tuple[str, ...]


def bucket(day: date, grain: Grain) -> date:
    """The week (its Monday) or month (its first day) that ``day`` falls in."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"Unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")


def periods(start: date, end: date, grain: Grain) -> list[date]:
    """Every week or month from the one holding ``start`` to the one holding ``end``, in order.

    Nothing is computed past ``end``'s own week or month, so the last days Python can hold (9999)
    chart like any others.
    """
    current, last, found = bucket(start, grain), bucket(end, grain), []
    while current <= last:
        found.append(current)
        if current == last:
            break
        current = current + timedelta(days=7) if grain == "week" else \
            date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return found


def default_range(commits: Iterable[Fact], months: int = DEFAULT_MONTHS,
                  today: date | None = None) -> tuple[date, date] | None:
    """The last ``months`` months up to the newest commit (not today: a quiet project still charts).

    With ``today``, the newest commit not later than it: a commit dated in the future (a wrong
    clock) never moves the range. None when no commit qualifies.
    """
    days = [day for day in (_day(c) for c in commits) if today is None or day <= today]
    if not days:
        return None
    end = max(days)
    months_since_year_0 = max(end.year * 12 + end.month - 1 - months, 12)  # never before the year 1
    start = date(months_since_year_0 // 12, months_since_year_0 % 12 + 1, 1)
    return max(start, min(days)), end


def in_range(commits: Iterable[Fact], start: date | None, end: date | None) -> list[Fact]:
    """The commits made from ``start`` to ``end`` (inclusive, UTC days), newest first."""
    chosen = [c for c in commits if (start is None or _day(c) >= start) and (end is None or _day(c) <= end)]
    return sorted(chosen, key=lambda c: c.date, reverse=True)


def activity(commits: Iterable[Fact], by: By, grain: Grain, start: date | None = None,
             end: date | None = None, top: int = 8) -> list[Point]:
    """Changes per week or month, one series per area or category, from ``start`` to ``end``.

    By area, the ``top`` busiest areas of the range keep their own series and the rest are summed
    as ``OTHER_AREAS``. Every period of the range appears for each series (zeros included), so a
    chart's axis has no gaps.
    """
    if by not in ("area", "category"):
        raise ValueError(f"Unknown series {by!r}; expected 'area' or 'category'")
    chosen = in_range(commits, start, end)
    if not chosen:
        return []
    keys = [_key(c, by) for c in chosen]
    if by == "area":
        busiest = {area for area, _ in Counter(keys).most_common(top)}
        keys = [k if k in busiest else OTHER_AREAS for k in keys]
    grouped: dict[tuple[date, str], list[str]] = defaultdict(list)
    for commit, key in zip(chosen, keys):
        grouped[(bucket(_day(commit), grain), key)].append(commit.sha)
    axis = periods(start or min(map(_day, chosen)), end or max(map(_day, chosen)), grain)
    order = sorted(set(keys), key=lambda k: (k == OTHER_AREAS, -keys.count(k), k))
    return [Point(p, key, len(grouped.get((p, key), ())), tuple(grouped.get((p, key), ())))
            for key in order for p in axis]


def releases(commits: Iterable[Fact]) -> list[ReleasePoint]:
    """Every release, oldest first: one per version (a tag and its release commit count once).

    A commit is a release when a version tag points at it or its facts name a version (a
    "Release 2.7.1" subject, a version bump). A version seen twice keeps its earliest commit.
    """
    first: dict[str, ReleasePoint] = {}
    for commit in sorted(commits, key=lambda c: c.date):
        version = release_version(commit)
        if version and version not in first:
            first[version] = ReleasePoint(version, commit.sha, commit.date)
    return sorted(first.values(), key=lambda r: r.date)


def release_version(commit: Fact) -> str | None:
    """The version a commit released, from its facts: the version it names, else a version tag. A
    bump to a development version ('Start version 3.1.3.dev') released nothing."""
    stored = CommitFacts.from_json(commit.details)
    if stored.version and not is_development_version(str(stored.version)):
        return str(stored.version)
    for tag in stored.tags:
        if any(ch.isdigit() for ch in tag):
            return tag[1:] if tag[:1] in "vV" and tag[1:2].isdigit() else tag
    return None


def busiest_areas(commits: Iterable[Fact], start: date | None = None, end: date | None = None,
                  n: int = 5) -> list[AreaActivity]:
    """The ``n`` areas with the most changes from ``start`` to ``end`` (ties: more lines first)."""
    grouped: dict[str, list[Fact]] = defaultdict(list)
    for commit in in_range(commits, start, end):
        grouped[commit.area or "(top level)"].append(commit)
    ranked = sorted(grouped.items(), key=lambda item: (-len(item[1]), -sum(c.added + c.removed for c in item[1]), item[0]))
    return [AreaActivity(area, len(group), sum(c.added + c.removed for c in group), tuple(c.sha for c in group))
            for area, group in ranked[:n]]


def sparkline(commits: Sequence[Fact], end: date, weeks: int = 12) -> list[int]:
    """Changes per week for the ``weeks`` weeks up to ``end``, oldest first (for a portfolio row)."""
    axis = periods(end - timedelta(weeks=weeks - 1), end, "week")
    counts = Counter(bucket(_day(c), "week") for c in commits)
    return [counts.get(week, 0) for week in axis]


def _day(commit: Fact) -> date:
    return commit.date.astimezone(timezone.utc).date()


def _key(commit: Fact, by: By) -> str:
    if by == "area":
        return commit.area or "(top level)"
    return commit.category or "maintenance"
