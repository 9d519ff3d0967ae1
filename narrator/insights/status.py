"""As of today: is the repository active, what reached users last, what is waiting, what could hurt.

Built from the status line (``narrator.insights.activity``), the release status and delivery figures
(``narrator.insights.delivery``) and the risks (``narrator.insights.risks``): pure functions over stored
commit facts (``db.rows.CommitRow``: ``sha``, ``date``, ``author``, ``email``, ``subject``, ``message``,
``category``, ``files``, ``is_merge``, ``details``), the releases of ``narrator.insights.history.releases``
and the day taken as today (``narrator.insights.periods.today``). Nothing here reads git, the database or a model. A "change" is a non-merge commit dated no later than today (a
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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from narrator.insights.activity import Activity, Fact, _day, activity, looked
from narrator.insights.delivery import Delivery, ReleaseStatus, delivery, release_status, trend
from narrator.insights.forecast import Forecast
from narrator.insights.history import ReleasePoint
from narrator.insights.periods import Period
from narrator.insights.risks import Risk, risks


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
