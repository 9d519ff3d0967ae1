"""As of today (``narrator.insights.status``): the status line, release status, waiting to ship, risks and
delivery figures, on repositories built here and rendered by ``show`` and the reports."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import git
import pytest

from narrator.insights import activity, delivery
from narrator.insights.history import ReleasePoint
from narrator.render import exports as reports
from narrator.render import renderers
from narrator.render.show import markdown
from tests.conftest import TODAY
from tests.helpers.repos import NOW, narrated  # noqa: F401  (fixtures)


def test_a_repository_quiet_for_a_year_says_quiet_since_and_its_default_period_is_empty(narrated):
    service, ids, _ = narrated
    now = service.status(ids["quiet"], "30d")
    assert now.activity.state == "quiet"
    assert now.activity.text == ("Quiet since 1 Dec 2025: last change 1 Dec 2025, 1 year ago; "
                                 "changes usually came about every 2 days.")
    assert [r.kind for r in now.risks] == ["quiet"]
    assert now.looked.startswith("Code Narrator last looked on ")
    text = markdown(service, ids["quiet"])
    # The status line heads the repository, before anything else; the empty period says so.
    assert text.splitlines()[2].startswith("**Quiet since 1 Dec 2025: last change 1 Dec 2025, 1 year ago")
    assert "No changes were recorded in the last 7 days" in text
    assert "No release is recorded" in text
    # No empty heading: the comparison is a sentence of its own.
    assert "By impact (0 changes)" not in text and "No changes in this period or the 7 days before." in text


def test_a_hotfix_breaking_and_security_changes_waiting_key_person_and_an_untested_change(narrated):
    service, ids, shas = narrated
    now = service.status(ids["hotfixed"], "30d")
    assert now.activity.state == "active"
    assert now.release.last.version == "2.0.1"
    assert now.release.waiting == (shas["last"], shas["tested"], shas["untested"], shas["security"], shas["breaking"])
    assert now.release.waiting_text == "5 changes since 2.0.1 are waiting to ship, the oldest from 22 Nov 2026."
    risks = {r.kind: r for r in now.risks}
    assert set(risks) == {"breaking", "security", "hotfix", "key person", "untested"}
    assert risks["breaking"].shas == (shas["breaking"],)
    assert risks["security"].shas == (shas["security"],)
    assert risks["hotfix"].shas == (shas["2.0.0"], shas["2.0.1"])
    assert risks["hotfix"].text.startswith("2.0.1 came 3 days after 2.0.0")
    assert risks["untested"].shas == (shas["untested"],)  # the large change with a test is not flagged
    # Ada made 7 of the 8 changes of the last 30 days (the two releases included); Grace the fix.
    assert risks["key person"].text.startswith("Ada Lovelace made 7 of the 8 changes in the last 30 days (88%)")
    assert len(risks["key person"].shas) == 7
    assert now.delivery.releases == 2 and now.delivery.hotfixes == 1 and now.delivery.hotfix_rate == 0.5
    assert now.trend[0] == "Releases: 2 (2.0 per 30 days), up from 0 in the 30 days before."
    text = markdown(service, ids["hotfixed"], period="30d")
    assert "### Waiting to ship (5)" in text and "### Risks, from git alone" in text
    assert f"({shas['breaking'][:8]})" in text and "Hotfixes: 1 of 2 releases" in text


def test_a_forecast_that_has_passed_says_overdue_since_in_show_and_reports(narrated):
    service, ids, _ = narrated
    now = service.status(ids["overdue"], "30d")
    assert now.release.overdue_since is not None
    [line] = now.release.next
    assert line.startswith(f"The next release is overdue since {activity.day(now.release.overdue_since)}")
    assert len(now.release.waiting) == 3
    show = markdown(service, ids["overdue"])
    assert "The next release is overdue since" in show and "Next release: The next" not in show
    assert "How sure is this: Estimated from the gaps between the last 5 releases" in show
    report = renderers.markdown(reports.document(service, [ids["overdue"]]))
    assert "overdue since" in report and "likely between" not in report
    assert "How sure is this" in report and "Waiting to ship (3)" in report
    # The report opens with the status line: changes came about daily, the last four weeks ago.
    first = next(line for line in report.splitlines()[3:] if line.strip())
    assert first == ("Quiet since 4 Nov 2026: last change 4 Nov 2026, 4 weeks ago; "
                     "changes usually came about every day. [git facts]")


def test_the_portfolio_rows_carry_the_status(narrated):
    service, ids, shas = narrated
    rows = {row.repo.id: row for row in service.portfolio("30d")}
    assert rows[ids["quiet"]].status.activity.state == "quiet"
    assert len(rows[ids["hotfixed"]].status.release.waiting) == 5


@pytest.mark.parametrize("since, gap, state", [
    (0, 1.0, "active"), (6, 1.0, "active"), (7, 1.0, "slowing"), (14, 1.0, "quiet"),
    (28, 14.0, "active"), (40, 14.0, "slowing"), (43, 14.0, "quiet"), (13, None, "active"), (14, None, "quiet"), (30, 12.0, "slowing"),
])
def test_active_slowing_and_quiet_follow_the_documented_thresholds(since, gap, state):
    assert activity.state_of(since, gap) == state


def test_ago_and_every_in_words():
    assert [activity.ago(d) for d in (0, 1, 5, 20, 132, 400, 800)] == [
        "today", "yesterday", "5 days ago", "2 weeks ago", "4 months ago", "1 year ago", "2 years ago"]
    assert [activity.every(d) for d in (0.2, 1, 3, 21, 90)] == [
        "several times a day", "about every day", "about every 3 days", "about every 3 weeks", "about every 3 months"]


def test_a_hotfix_is_a_patch_of_the_same_minor_within_seven_days():
    def point(version, days):
        return ReleasePoint(version, version, NOW + timedelta(days=days))

    assert delivery.is_hotfix(point("1.4.0", 0), point("1.4.1", 7))
    assert not delivery.is_hotfix(point("1.4.0", 0), point("1.4.1", 8))
    assert not delivery.is_hotfix(point("1.4.0", 0), point("1.5.0", 2))
    assert delivery.is_hotfix(point("v2.0", 0), point("v2.0.1", 1))


def test_the_usual_pace_counts_days_with_a_change_not_a_burst_of_merges_on_one_day():
    """Ten changes on each of five days a week apart: the project changes about every week, not
    'several times a day' (express read so, its pull requests merged in bursts)."""
    from types import SimpleNamespace

    last = datetime.combine(TODAY - timedelta(days=2), time(12), timezone.utc)
    commits = [SimpleNamespace(sha=f"{week}{i}", date=last - timedelta(weeks=week, minutes=i), is_merge=False)
               for week in range(5) for i in range(10)]
    now = activity.activity(commits, TODAY)
    assert now.usual_gap == 7 and now.state == "active"
    assert now.text.endswith("changes usually come about every 7 days.")
