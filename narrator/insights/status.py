"""As of today: is the repository active, what reached users last, what is waiting, what could hurt.

Pure functions over stored commit facts (``db.models.CommitRow``: ``sha``, ``date``, ``author``,
``email``, ``subject``, ``message``, ``category``, ``files``, ``is_merge``, ``details``), the releases
of ``narrator.insights.history.releases`` and the day taken as today (``narrator.insights.periods.today``). Nothing here
reads git, the database or a model. A "change" is a non-merge commit dated no later than today (a
commit dated in the future, a wrong clock, never counts as the latest change).

The thresholds, all documented below, are kept simple enough to say in one sentence each:

- **Usual gap** between changes: the median gap between the days of the last ``USUAL_CHANGES``
  changes (changes of one day count once: a burst of merges on one day is not the pace). Between
  releases: the average gap between the last ``USUAL_RELEASES`` days with a release (their span
  divided by their gaps; releases of one day count once), since releases come in clusters (two
  lines of versions tagged the same day) whose zero gaps would make the median read 'about every 4
  days' for a project that releases a few times a year.
- **Active**, **slowing**, **quiet**: quiet when the days since the last change exceed
  ``QUIET_TIMES`` times the usual gap and are at least ``QUIET_MIN_DAYS``; slowing when they exceed
  ``SLOWING_TIMES`` times the usual gap and are at least ``SLOWING_MIN_DAYS``; else active. With no
  usual gap (a single change), quiet after ``QUIET_MIN_DAYS`` days.
- **Waiting to ship**: the changes dated after the last release's commit; among them, those that
  may affect existing users (breaking marks, removals, changed defaults...) and security fixes, by
  their impact group (``narrator.facts.impact``).
- **Hotfix**: a release followed within ``HOTFIX_DAYS`` days by a patch release of the same
  major.minor version (1.4.0 then 1.4.1).
- **Key person**: one person (bots left out) made at least ``KEY_PERSON_SHARE`` of the period's
  changes, and the period has at least ``KEY_PERSON_MIN_CHANGES`` of them.
- **Large change without tests**: a change of at least ``LARGE_LINES`` lines of shipped code
  (``narrator.facts.impact.is_shipped_path``, release notes left out) that touched no test file.
- **Delivery figures** of a period, from tags and commits only: releases per 30 days, the median
  days a change waited for the release that shipped it (over the changes shipped by the period's
  releases), and the share of the period's releases that were hotfixes; each against the period
  before of the same length.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from statistics import median
from typing import Literal, Protocol

from narrator.facts import categories as facts
from narrator.facts import impact
from narrator.facts.paths import is_release_notes_path, is_test_path
from narrator.insights.digest import changes_in, counted
from narrator.insights.periods import Period, day_range
from narrator.insights.forecast import Forecast, how_sure, next_release
from narrator.insights.history import ReleasePoint

USUAL_CHANGES = 50
"""How many of the latest changes the usual gap between changes is the median of."""
USUAL_RELEASES = 10
"""How many of the latest releases the usual gap between releases is the median of."""
QUIET_TIMES, QUIET_MIN_DAYS = 3, 14
"""Quiet: more than 3 times the usual gap since the last change, and at least 14 days."""
SLOWING_TIMES, SLOWING_MIN_DAYS = 2, 7
"""Slowing: more than twice the usual gap since the last change, and at least 7 days."""
HOTFIX_DAYS = 7
"""A patch release this many days or fewer after the release before it is a hotfix."""
KEY_PERSON_SHARE, KEY_PERSON_MIN_CHANGES = 0.6, 5
"""Key-person risk: one person made at least 60% of at least 5 changes in the period."""
LARGE_LINES = 500
"""Lines added plus removed in shipped code that make a change large."""
WAITING_LISTED = 20
"""At most this many waiting changes are listed one by one; the count says the rest."""

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


@dataclass(frozen=True)
class Risk:
    """Something that could hurt, with the commits that show it."""

    kind: str
    """'breaking', 'security', 'hotfix', 'quiet', 'key person' or 'untested'."""
    text: str
    shas: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """Delivery figures of one period, from tags and commits only."""

    period: Period
    releases: int
    per_30_days: float
    lead_days: float | None
    """Median days from a change to the release that shipped it; None when no release shipped a change."""
    hotfixes: int
    shas: tuple[str, ...]
    """The releases' commits."""

    @property
    def hotfix_rate(self) -> float | None:
        return self.hotfixes / self.releases if self.releases else None


@dataclass(frozen=True)
class ReleaseStatus:
    """The last release against the usual gap, what is waiting to ship, and the forecast."""

    last: ReleasePoint | None
    usual_gap: float | None
    """The median gap between the latest releases, in days."""
    text: str
    waiting: tuple[str, ...]
    """The changes since the last release, newest first (every change when nothing was released)."""
    waiting_text: str
    next: tuple[str, ...]
    """The forecast in a sentence: the likely range, or 'overdue since …'."""
    how_sure: tuple[str, ...]
    """How the forecast was made and how often it was right: the 'how sure is this' detail."""
    overdue_since: date | None


@dataclass(frozen=True)
class Status:
    """A repository as of today."""

    activity: Activity
    looked: str
    """'Code Narrator last looked on 6 Dec 2026.' (when the history was read, never activity)."""
    release: ReleaseStatus
    risks: tuple[Risk, ...]
    delivery: Delivery | None
    before: Delivery | None
    """The same figures for the period before, for the trend."""
    trend: tuple[str, ...]
    """The delivery figures in words, each with its trend."""


# --- words -----------------------------------------------------------------------------------


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


# --- the status line -------------------------------------------------------------------------


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


# --- releases --------------------------------------------------------------------------------


def release_status(commits: Iterable[Fact], releases: Sequence[ReleasePoint], today: date,
                   forecast: Forecast | None = None) -> ReleaseStatus:
    """The last release (version, date, how long ago) against the usual gap, and what waits to ship."""
    shipped = [r for r in sorted(releases, key=lambda r: r.date) if _day(r.date) <= today]
    done = changes(commits, today)
    nxt = tuple(next_release(forecast)) if forecast is not None else ()
    sure = tuple(how_sure(forecast)) if forecast is not None else ()
    overdue = forecast.latest if forecast is not None and forecast.overdue else None
    if not shipped:
        text = "No release is recorded: no version tag or release commit, so the project's history cannot tell what reached users."
        return ReleaseStatus(None, None, text, (), "", nxt, sure, overdue)
    last = shipped[-1]
    gap = average_gap(sorted({_day(r.date) for r in shipped}), USUAL_RELEASES)
    text = f"Last release {last.version} on {day(last.date)}, {ago((today - _day(last.date)).days)}"
    text += f"; releases usually come {every(gap)}." if gap is not None else "; it is the only one recorded."
    pending = [c for c in done if c.date > last.date and c.sha != last.sha]
    waiting = tuple(c.sha for c in pending)
    if pending:
        waiting_text = (f"{counted(len(pending), 'change')} since {last.version} "
                        f"{'is' if len(pending) == 1 else 'are'} waiting to ship"
                        + (f", the oldest from {day(pending[-1].date)}." if len(pending) > 1 else "."))
    else:
        waiting_text = f"Nothing is waiting to ship: no change since {last.version}."
    return ReleaseStatus(last, gap, text, waiting, waiting_text, nxt, sure, overdue)


_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def is_hotfix(before: ReleasePoint, after: ReleasePoint) -> bool:
    """Whether ``after`` is a patch release of ``before``'s major.minor within ``HOTFIX_DAYS`` days."""
    a, b = _VERSION.search(before.version), _VERSION.search(after.version)
    if a is None or b is None or a.group(1, 2) != b.group(1, 2):
        return False
    if int(b.group(3) or 0) <= int(a.group(3) or 0):
        return False
    return 0 <= (after.date - before.date).total_seconds() <= HOTFIX_DAYS * 86400


def hotfixes(releases: Sequence[ReleasePoint]) -> list[tuple[ReleasePoint, ReleasePoint]]:
    """(release, its hotfix) pairs, oldest first."""
    ordered = sorted(releases, key=lambda r: r.date)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if is_hotfix(a, b)]


def delivery(commits: Iterable[Fact], releases: Sequence[ReleasePoint], period: Period) -> Delivery:
    """Release frequency, median lead time and hotfixes of ``period`` (module docstring)."""
    ordered = sorted(releases, key=lambda r: r.date)
    done = sorted((c for c in commits if not c.is_merge), key=lambda c: c.date)
    inside = [(i, r) for i, r in enumerate(ordered) if period.contains(r.date)]
    leads = []
    for i, release in inside:
        after = ordered[i - 1].date if i else None
        leads += [(release.date - c.date).total_seconds() / 86400 for c in done
                  if (after is None or c.date > after) and c.date <= release.date and c.sha != release.sha]
    fixes = sum(1 for i, r in inside if i and is_hotfix(ordered[i - 1], r))
    return Delivery(period, len(inside), len(inside) * 30 / period.days, median(leads) if leads else None, fixes,
                    tuple(r.sha for _, r in inside))


def trend(now: Delivery, before: Delivery | None) -> list[str]:
    """The delivery figures in words, each against the period before."""
    then = f" in {before.period.name}" if before is not None else ""
    lines = [f"Releases: {now.releases} ({now.per_30_days:.1f} per 30 days)"
             + (_versus(now.releases, before.releases, then) if before is not None else "") + "."]
    if now.lead_days is not None:
        line = f"A change waited {days_phrase(now.lead_days)} (median) for the release that shipped it"
        if before is not None and before.lead_days is not None:
            line += _versus(round(now.lead_days), round(before.lead_days), then, unit=" days")
        lines.append(line + ".")
    if now.releases:
        line = f"Hotfixes: {now.hotfixes} of {counted(now.releases, 'release')} (a patch within {HOTFIX_DAYS} days)"
        if before is not None and before.releases:
            line += f", against {before.hotfixes} of {before.releases}{then}"
        lines.append(line + ".")
    return lines


# --- risks -----------------------------------------------------------------------------------


def impact_of(commit: Fact) -> impact.Impact:
    """The change's impact group (``narrator.facts.impact``): recorded with the commit, else read again."""
    details = commit.details or {}
    return impact.stored(details, subject=commit.subject, message=commit.message,
                         category=commit.category or "maintenance", paths=[f.get("path", "") for f in commit.files or []],
                         advisories=tuple(details.get("advisories") or ()), is_merge=commit.is_merge,
                         ci=bool(details.get("ci")), version=details.get("version"))


def is_shipped_code(path: str) -> bool:
    """Code that reaches users (``narrator.facts.impact.is_shipped_path``), not its release notes."""
    return impact.is_shipped_path(path) and not is_release_notes_path(path)


def untested_lines(commit: Fact) -> int:
    """Lines of shipped code a change added and removed, 0 when it also changed a test file."""
    files = commit.files or []
    if any(is_test_path(f.get("path", "")) for f in files):
        return 0
    return sum(int(f.get("added") or 0) + int(f.get("removed") or 0) for f in files if is_shipped_code(f.get("path", "")))


def risks(commits: Sequence[Fact], release: ReleaseStatus, activity_now: Activity, period: Period | None,
          releases: Sequence[ReleasePoint]) -> list[Risk]:
    """Each risk git alone can show (module docstring), with its evidence; the period's ones need ``period``."""
    found = []
    by_sha = {c.sha: c for c in commits}
    if release.last is not None:
        waiting = [by_sha[s] for s in release.waiting if s in by_sha]
        groups = [(c.sha, impact_of(c).group) for c in waiting]
        breaking = [sha for sha, group in groups if group == "affects"]
        if breaking:
            found.append(Risk("breaking", f"{counted(len(breaking), 'change')} that may affect existing users "
                              f"{'is' if len(breaking) == 1 else 'are'} waiting to ship: "
                              "they may break what customers built on the software.", tuple(breaking)))
        security = [sha for sha, group in groups if group == "security"]
        if security:
            found.append(Risk("security", f"{counted(len(security), 'security fix', 'security fixes')} "
                              f"{'is' if len(security) == 1 else 'are'} waiting to ship: users are exposed until "
                              "the next release.", tuple(security)))
    if activity_now.state == "quiet" and activity_now.usual_gap is not None:
        found.append(Risk("quiet", f"No change for {activity_now.days_since} days, more than {QUIET_TIMES} times "
                          f"the usual gap ({every(activity_now.usual_gap)}).", activity_now.shas))
    if period is None:
        return found
    for before, after in hotfixes(r for r in releases if period.contains(r.date)):
        found.append(Risk("hotfix", f"{after.version} came {days_phrase((after.date - before.date).total_seconds() / 86400)} "
                          f"after {before.version}: a quick patch release suggests {before.version} shipped a problem.",
                          (before.sha, after.sha)))
    inside = changes_in(commits, period)
    people = [c for c in inside if not facts.is_bot(c.author, getattr(c, "email", "") or "")]
    if len(people) >= KEY_PERSON_MIN_CHANGES:
        names = Counter(" ".join(c.author.casefold().split()) for c in people)
        name, made = names.most_common(1)[0]
        if made >= KEY_PERSON_SHARE * len(people):
            theirs = [c for c in people if " ".join(c.author.casefold().split()) == name]
            found.append(Risk("key person", f"{theirs[0].author} made {made} of the {len(people)} changes in "
                              f"{period.name} ({made / len(people):.0%}): the work depends on one person.",
                              tuple(c.sha for c in theirs)))
    for c in sorted(inside, key=lambda c: c.date, reverse=True):
        lines = untested_lines(c)
        if lines >= LARGE_LINES:
            found.append(Risk("untested", f"A large change ({lines:,} lines of shipped code) changed no test: "
                              f"\u201c{c.subject.strip()[:120]}\u201d.", (c.sha,)))
    return found


# --- the whole status ------------------------------------------------------------------------


def status(commits: Sequence[Fact], releases: Sequence[ReleasePoint], today: date, period: Period | None = None,
           forecast: Forecast | None = None, narrated_at: datetime | None = None) -> Status:
    """A repository as of ``today``: status line, release status, risks and (with ``period``) delivery figures."""
    now = activity(commits, today)
    release = release_status(commits, releases, today, forecast)
    shipped = [r for r in releases if _day(r.date) <= today]
    found = risks(commits, release, now, period, shipped)
    figures = before = None
    words: tuple[str, ...] = ()
    if period is not None:
        figures = delivery(commits, shipped, period)
        before = delivery(commits, shipped, period.previous())
        words = tuple(trend(figures, before))
    return Status(now, looked(narrated_at), release, tuple(found), figures, before, words)


def _versus(now: float, then: float, when: str, unit: str = "") -> str:
    if now > then:
        return f", up from {then:g}{unit}{when}"
    if now < then:
        return f", down from {then:g}{unit}{when}"
    return f", the same as{when}"


def days_phrase(days: float) -> str:
    """'12 days', 'less than a day': a span of days in words."""
    if days < 1:
        return "less than a day"
    return counted(round(days), "day")


def _day(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()
