"""What reached users and what is waiting: the release status (the last release against the usual gap
between releases, the changes waiting to ship, the forecast), hotfixes, and a period's delivery figures
with their trend against the period before. The thresholds are explained in ``narrator.insights.status``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import median

from narrator.insights.activity import Fact, _day, ago, average_gap, changes, day, days_phrase, every
from narrator.insights.digest import counted
from narrator.insights.forecast import Forecast, how_sure, next_release
from narrator.insights.history import ReleasePoint
from narrator.insights.periods import Period

USUAL_RELEASES = 10
"""How many of the latest releases the usual gap between releases is the median of."""
HOTFIX_DAYS = 7
"""A patch release this many days or fewer after the release before it is a hotfix."""
WAITING_LISTED = 20
"""At most this many waiting changes are listed one by one; the count says the rest."""
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


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


def _versus(now: float, then: float, when: str, unit: str = "") -> str:
    if now > then:
        return f", up from {then:g}{unit}{when}"
    if now < then:
        return f", down from {then:g}{unit}{when}"
    return f", the same as{when}"
