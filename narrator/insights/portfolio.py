"""A portfolio's line of one repository, read off its briefing alone (``figures``): the same numbers
as the briefing (``narrator.insights.briefing``), fewer words, for a table beside others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from narrator.insights.activity import ago, day, days_phrase
from narrator.insights.briefing import Briefing, Count
from narrator.insights.delivery import Delivery
from narrator.insights.digest import counted


RISK_NAMES = {"breaking": "may break users' work", "security": "security fix waiting", "hotfix": "hotfix",
              "quiet": "quiet", "key person": "key person", "untested": "large change without tests"}
"""Each risk kind (``narrator.insights.status.Risk.kind``) in a few plain words, for a table cell."""


@dataclass(frozen=True)
class Figures:
    """A repository's line in a portfolio, read off its briefing alone: the same numbers, fewer words.

    Every number is one the briefing prints: a page or a report that shows these figures beside the
    briefing shows the same numbers twice, never two different ones.
    """

    status: str
    """The status line's head: 'Active', 'Slowing', 'Quiet since 27 Jul 2026', 'No change yet'."""
    state: str
    """'active', 'slowing', 'quiet' or 'none' (``narrator.insights.status.State``)."""
    last_change: datetime | None
    since: str
    """How long ago the last change was: '4 months ago'; '' without a change."""
    changes: Count
    releases: Count
    """The period's releases."""
    waiting: Count | None
    """Every change since the last release; None when no release is recorded (nothing can wait)."""
    waiting_affects: Count
    waiting_security: Count
    risks: tuple[str, ...]
    """The kinds of the briefing's risks, one per risk, in its order ('breaking', 'key person')."""
    delivery: Delivery | None
    before: Delivery | None
    """The delivery figures of the period and of the period before it, of the same length."""

    @property
    def last_change_words(self) -> str:
        """'27 Jul 2026, 4 months ago'; 'none recorded' without a change."""
        return f"{day(self.last_change)}, {self.since}" if self.last_change is not None else "none recorded"

    @property
    def waiting_words(self) -> str:
        """'5 (1 may affect users, 1 security fix)', '0', or 'no release recorded'."""
        if self.waiting is None:
            return "no release recorded"
        parts = [f"{self.waiting_affects.n} may affect users"] if self.waiting_affects.n else []
        if self.waiting_security.n:
            parts.append(counted(self.waiting_security.n, "security fix", "security fixes"))
        return f"{self.waiting.n}" + (f" ({', '.join(parts)})" if parts else "")

    @property
    def risk_words(self) -> str:
        """'2: hotfix, key person' or 'none'."""
        if not self.risks:
            return "none"
        return f"{len(self.risks)}: " + ", ".join(RISK_NAMES.get(kind, kind) for kind in self.risks)

    @property
    def release_rate(self) -> str:
        """'2 (2.0 per 30 days)', as the briefing's delivery section prints it; '' without a period."""
        if self.delivery is None:
            return ""
        return f"{self.delivery.releases} ({self.delivery.per_30_days:.1f} per 30 days)"

    @property
    def lead_time(self) -> str:
        """'12 days', 'less than a day'; '' when no release of the period shipped a change."""
        if self.delivery is None or self.delivery.lead_days is None:
            return ""
        return days_phrase(self.delivery.lead_days)

    @property
    def hotfix_rate(self) -> str:
        """'1 of 2' (releases followed by a quick patch release); '' without a release in the period."""
        if self.delivery is None or not self.delivery.releases:
            return ""
        return f"{self.delivery.hotfixes} of {self.delivery.releases}"

    @property
    def trend(self) -> str:
        """The delivery figures against the period before, in a few words (``trend_words``)."""
        return trend_words(self.delivery, self.before)


def trend_words(now: Delivery | None, before: Delivery | None) -> str:
    """The delivery figures against the period before, in a few words: 'releases up from 1 to 3;
    changes wait longer for a release (12 days, was 5); hotfixes 1 of 3, was 0 of 1'; empty
    without both periods' figures. A figure that did not change says nothing, releases aside."""
    if now is None or before is None:
        return ""
    if now.releases == before.releases:
        parts = [f"releases the same ({now.releases})"]
    else:
        parts = [f"releases {'up' if now.releases > before.releases else 'down'} from {before.releases} to {now.releases}"]
    if now.lead_days is not None and before.lead_days is not None and round(now.lead_days) != round(before.lead_days):
        longer = round(now.lead_days) > round(before.lead_days)
        parts.append(f"changes wait {'longer' if longer else 'less'} for a release "
                     f"({round(now.lead_days)} days, was {round(before.lead_days)})")
    if now.releases and before.releases and now.hotfixes * before.releases != before.hotfixes * now.releases:
        parts.append(f"hotfixes {now.hotfixes} of {now.releases}, was {before.hotfixes} of {before.releases}")
    return "; ".join(parts)


def figures(brief: Briefing) -> Figures:
    """A portfolio's line of one repository, from its briefing (its ``now`` status included)."""
    now = brief.now
    activity = now.activity if now is not None else None
    if activity is None or activity.last_change is None:
        status, state, last, since = "No change yet", "none", None, ""
    else:
        status, state, last = activity.text.split(":", 1)[0], activity.state, activity.last_change
        since = ago(activity.days_since)
    kinds = tuple(r.kind for r in now.risks) if now is not None else ()
    return Figures(status, state, last, since, brief.changes, brief.releases, brief.waiting.count,
                   brief.waiting_affects, brief.waiting_security, kinds,
                   now.delivery if now is not None else None, now.before if now is not None else None)
