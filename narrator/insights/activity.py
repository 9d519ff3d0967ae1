"""Is the team working: the status line (the last change against the usual gap between changes), and
the words the status, the briefing and the pages say spans of days and dates with.

Pure functions over stored commit facts (``Fact``); the thresholds are explained in
``narrator.insights.status``. Nothing here reads git, the database or a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from statistics import median
from typing import Literal, Protocol

from narrator.insights.digest import counted
from narrator.insights.periods import day_range

USUAL_CHANGES = 50
"""How many of the latest changes the usual gap between changes is the median of."""
QUIET_TIMES, QUIET_MIN_DAYS = 3, 14
"""Quiet: more than 3 times the usual gap since the last change, and at least 14 days."""
SLOWING_TIMES, SLOWING_MIN_DAYS = 2, 7
"""Slowing: more than twice the usual gap since the last change, and at least 7 days."""

State = Literal["active", "slowing", "quiet", "none"]


class Fact(Protocol):
    """What these functions read of a stored commit."""

    sha: str
    date: datetime
    author: str
    subject: str
    message: str
    category: str | None
    files: list
    is_merge: bool
    details: dict | None
    """Its ``narrator.facts.commit_facts.CommitFacts`` as stored (``to_json``)."""


@dataclass(frozen=True)
class Activity:
    """The status line: the last change against the usual gap between changes."""

    state: State
    last_change: datetime | None
    """The latest change up to today; None when there is none."""
    days_since: int
    """Whole days from the last change's day to today."""
    usual_gap: float | None
    """The median gap between the latest changes, in days; None with fewer than two changes."""
    text: str
    """'Quiet since 27 Jul 2026: last change 27 Jul 2026, 4 months ago; changes usually came about every 2 days.'"""
    shas: tuple[str, ...]
    """The last change."""


def ago(days: int) -> str:
    """'today', 'yesterday', '5 days ago', '3 weeks ago', '4 months ago', '2 years ago'."""
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 365:
        return f"{days // 30} months ago"
    return counted(days // 365, "year") + " ago"


def every(days: float) -> str:
    """A usual gap in words: 'several times a day', 'about every day', 'about every 3 weeks'."""
    if days < 0.5:
        return "several times a day"
    if days < 1.5:
        return "about every day"
    if days < 14:
        return f"about every {round(days)} days"
    if days < 60:
        return f"about every {round(days / 7)} weeks"
    return f"about every {round(days / 30)} months"


def day(moment: datetime | date) -> str:
    """'27 Jul 2026'."""
    if isinstance(moment, datetime):
        moment = _day(moment)
    return day_range(moment, moment)


def looked(narrated_at: datetime | None) -> str:
    """When Code Narrator last read the repository: never a sign of the project's activity."""
    if narrated_at is None:
        return "Code Narrator has not read this repository yet."
    return f"Code Narrator last looked on {day(narrated_at)}."


def changes(commits: Iterable[Fact], today: date) -> list[Fact]:
    """Non-merge commits dated no later than ``today``, newest first."""
    return sorted((c for c in commits if not c.is_merge and _day(c.date) <= today), key=lambda c: c.date, reverse=True)


def usual_gap(moments: Sequence[datetime | date], n: int) -> float | None:
    """The median gap in days between the latest ``n`` moments (any order); None with fewer than two."""
    latest = sorted(moments)[-n:]
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(latest, latest[1:])]
    return median(gaps) if gaps else None


def average_gap(moments: Sequence[datetime | date], n: int) -> float | None:
    """The average gap in days between the latest ``n`` moments (their span over their gaps); None
    with fewer than two."""
    latest = sorted(moments)[-n:]
    return (latest[-1] - latest[0]).total_seconds() / 86400 / (len(latest) - 1) if len(latest) > 1 else None


def activity(commits: Iterable[Fact], today: date) -> Activity:
    """Active, slowing or quiet since a date, from the last change and the usual gap (module docstring)."""
    done = changes(commits, today)
    if not done:
        return Activity("none", None, 0, None, "No change is recorded yet.", ())
    last = done[0]
    since = (today - _day(last.date)).days
    # Days with a change, not changes: a burst of merges on one day is not the project's pace.
    gap = usual_gap(sorted({_day(c.date) for c in done[:USUAL_CHANGES]}), USUAL_CHANGES)
    state = state_of(since, gap)
    when = f"last change {day(last.date)}, {ago(since)}"
    usual = f"; changes usually {'came' if state == 'quiet' else 'come'} {every(gap)}" if gap is not None else ""
    heads = {"active": "Active", "slowing": "Slowing", "quiet": f"Quiet since {day(last.date)}"}
    return Activity(state, last.date, since, gap, f"{heads[state]}: {when}{usual}.", (last.sha,))


def state_of(days_since: int, gap: float | None) -> State:
    """'quiet', 'slowing' or 'active' for ``days_since`` the last change against the usual ``gap``."""
    if days_since >= QUIET_MIN_DAYS and (gap is None or days_since > QUIET_TIMES * gap):
        return "quiet"
    if gap is not None and days_since >= SLOWING_MIN_DAYS and days_since > SLOWING_TIMES * gap:
        return "slowing"
    return "active"


def days_phrase(days: float) -> str:
    """'12 days', 'less than a day': a span of days in words."""
    if days < 1:
        return "less than a day"
    return counted(round(days), "day")


def _day(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()
