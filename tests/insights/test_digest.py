"""The "what changed lately" digest: periods, sections, exact template sentences and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

import pytest

from narrator.facts.provenance import label
from narrator.insights.digest import Release, build_digest
from narrator.insights.periods import Period, choose_period


@dataclass(frozen=True)
class Fact:
    sha: str
    date: datetime
    author: str = "Ada Lovelace"
    area: str = "src"
    category: str = "feature"
    headline: str = "Add something"
    headline_source: str = "developer"
    version: str | None = None
    advisories: list[str] = field(default_factory=list)
    release_notes: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    is_merge: bool = False
    ci: bool = False


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=timezone.utc)


NOTES = ["Add CSV export", "Fix login timeout", "Dark mode", "Faster start", "Smaller wheel", "Typo fixes"]

FIXTURE = [
    Fact("a01", at(11, 26, 8), headline="Add CSV export", paths=["src/export.py"]),
    Fact("a02", at(11, 26, 9), author="ada lovelace", area="tests", category="tests", headline="Test CSV export edge cases"),
    Fact("a03", at(11, 27, 10), author="Grace Hopper", category="fix", headline="Fix login timeout"),
    Fact("a04", at(11, 27, 11), author="Grace Hopper", category="security",
         headline="Fix decompression bomb vulnerability in urllib3", advisories=["CVE-2025-66471"]),
    Fact("m01", at(11, 27, 12), author="Grace Hopper", headline="Add  csv export", headline_source="pull request",
         is_merge=True),
    Fact("a05", at(11, 28, 9), author="Linus", area="dashboard", headline="Add dark mode", headline_source="model"),
    Fact("r01", at(11, 28, 13), area="(top level)", category="release", headline="Release 2.7.0", version="2.7.0",
         release_notes=NOTES),
    Fact("a06", at(11, 28, 14), author="dependabot[bot]", area="(top level)", category="dependencies",
         headline="Bump urllib3 from 2.5.0 to 2.6.0"),
    Fact("a07", at(11, 29, 9), author="dependabot[bot]", area="(top level)", category="dependencies",
         headline="Bump requests from 2.32.3 to 2.32.4"),
    Fact("a08", at(11, 29, 10), category="security", headline="Fix CVE-2026-1111: escape file names in uploads",
         advisories=["CVE-2026-1111", "GHSA-2x3c-4v5b-6n7m"]),
    Fact("a09", at(11, 30, 9), author="Linus", area="docs", category="docs", headline="Document the export command"),
    Fact("a10", at(11, 30, 10), author="Linus", area=".github", category="maintenance", headline="Run tests on Python 3.13",
         ci=True),
    Fact("a11", at(11, 30, 11), author="Linus", category="maintenance", headline="Tidy the settings module"),
    Fact("a12", at(12, 1, 9), author="Grace Hopper", category="security", headline="Reject oversized tokens",
         headline_source="model", advisories=["CVE-2026-2222"]),
    Fact("a13", at(12, 1, 10), author="Grace Hopper", category="fix", headline="Handle empty config files"),
    Fact("r02", at(12, 2, 15), area="(top level)", category="release", headline="Release 2.7.1", version="2.7.1"),
    # Before the period: one change in the previous week, one long before.
    Fact("o01", at(11, 20), category="fix", headline="Fix the old bug"),
    Fact("o02", at(11, 2), headline="Add an old feature"),
]
IN_PERIOD = [c for c in FIXTURE if not c.sha.startswith("o")]


@pytest.fixture()
def digest():
    return build_digest(FIXTURE, choose_period([c.date for c in FIXTURE], "7d-commits"))


# --- periods -------------------------------------------------------------------------------------


def test_7d_commits_is_anchored_at_the_latest_commit_day_up_to_today():
    future = datetime(2100, 1, 1, tzinfo=timezone.utc)  # a wrong clock is never "now"
    period = choose_period([at(11, 2), at(12, 2, 15), future, at(11, 20)], "7d-commits", on=date(2026, 12, 6))
    assert period.label == "the last 7 days with commits (26 Nov - 2 Dec 2026)"
    assert period.name == "the last 7 days with commits"
    assert period.days == 7
    assert period.contains(datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc))
    assert period.contains(datetime(2026, 12, 2, 23, 59, 59, tzinfo=timezone.utc))
    assert not period.contains(datetime(2026, 11, 25, 23, 59, 59, tzinfo=timezone.utc))
    assert not period.contains(datetime(2026, 12, 3, 0, 0, tzinfo=timezone.utc))
    assert period.start < at(11, 26, 0) <= period.end  # the brief's (start, end] holds as plain comparisons


def test_a_chosen_range_includes_its_last_day():
    period = choose_period([], (date(2026, 11, 1), date(2026, 11, 30)))
    assert period.label == "1 - 30 Nov 2026"
    assert period.days == 30
    assert period.contains(datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc))
    assert period.contains(datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc))
    assert not period.contains(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    assert choose_period([], (date(2026, 12, 28), date(2027, 1, 3))).label == "28 Dec 2026 - 3 Jan 2027"
    assert choose_period([], (date(2026, 12, 2), date(2026, 12, 2))).label == "2 Dec 2026"


def test_previous_period_is_the_same_length_just_before():
    period = choose_period([at(12, 2)], "7d-commits")
    before = period.previous()
    assert before.label == "the 7 days before (19 - 25 Nov 2026)"
    assert before.end == period.start and before.days == 7
    assert choose_period([], (date(2026, 12, 2), date(2026, 12, 2))).previous().name == "the day before"


def test_bad_choices_say_what_is_valid():
    with pytest.raises(ValueError, match=r"unknown period '14d': choose 7d, 30d, 90d, 7d-commits, 30d-commits, "
                                         r"90d-commits or a \(from, to\) date range"):
        choose_period([at(12, 2)], "14d")
    with pytest.raises(ValueError, match="after it ends"):
        choose_period([], (date(2026, 12, 2), date(2026, 12, 1)))


# --- the digest ----------------------------------------------------------------------------------


def test_summary_sentences_are_exact(digest):
    assert [line.text for line in digest.summary] == [
        "In the last 7 days with commits, 4 people made 15 changes across 6 areas.",
        "The team shipped two releases (2.7.0 and 2.7.1) and fixed three security problems.",
        "They added 2 features and fixed 2 problems; the busiest area was src.",
    ]
    assert set(digest.summary[0].shas) == {c.sha for c in IN_PERIOD if not c.is_merge}
    assert set(digest.summary[1].shas) == {"r01", "r02", "a04", "a08", "a12"}
    assert {"a01", "m01", "a05", "a03", "a13", "a12"} <= set(digest.summary[2].shas)


def test_counts_leave_out_merges_and_fold_name_case(digest):
    # 16 commits in the period, one a merge; "ada lovelace" is Ada Lovelace.
    assert digest.counts == {"changes": 15, "people": 4, "areas": 6}
    assert not digest.empty


def test_a_merged_branch_is_listed_once(digest):
    assert [(f.text, f.shas, label(f.provenance)) for f in digest.features] == [
        ("Add dark mode", ("a05",), "summary written by the model from the diff"),
        ("Add CSV export", ("m01", "a01"), "developer's message"),
    ]
    assert [(f.text, f.shas) for f in digest.fixes] == [("Handle empty config files", ("a13",)),
                                                         ("Fix login timeout", ("a03",))]


def test_releases_newest_first_with_top_notes(digest):
    assert digest.releases == [
        Release("2.7.1", "r02", at(12, 2, 15), (), notes_missing=True),
        Release("2.7.0", "r01", at(11, 28, 13), tuple(NOTES[:5]), notes_missing=False),
    ]


def test_a_release_without_a_version_uses_its_headline():
    commits = [Fact("r1", at(12, 2), category="release", headline="Spring release", release_notes=["Faster"])]
    result = build_digest(commits, choose_period([at(12, 2)], "7d-commits"))
    assert [(r.version, r.notes) for r in result.releases] == [("Spring release", ("Faster",))]
    assert result.summary[1].text == "The team shipped one release (Spring release)."


def test_a_development_version_recorded_as_a_release_is_not_listed_as_one():
    """Rows an earlier version stored: 'Start version 3.1.3.dev' filed as a release shipped nothing."""
    commits = [Fact("d1", at(12, 1), category="release", headline="Start version 3.1.3.dev", version="3.1.3.dev"),
               Fact("r1", at(12, 2), category="release", headline="Release 3.1.2", version="3.1.2")]
    result = build_digest(commits, choose_period([at(12, 2)], "7d-commits"))
    assert [r.version for r in result.releases] == ["3.1.2"]


def test_security_lines_keep_ids_without_repeating_them(digest):
    assert [(s.text, s.shas, label(s.provenance)) for s in digest.security] == [
        ("Reject oversized tokens (CVE-2026-2222)", ("a12",), "summary written by the model from the diff"),
        ("Fix CVE-2026-1111: escape file names in uploads (GHSA-2x3c-4v5b-6n7m)", ("a08",), "developer's message"),
        ("Fix decompression bomb vulnerability in urllib3 (CVE-2025-66471)", ("a04",), "developer's message"),
    ]


def test_internal_work_is_counted_by_kind(digest):
    assert [(line.text, line.shas) for line in digest.internal] == [
        ("1 documentation update", ("a09",)),
        ("1 test change", ("a02",)),
        ("1 CI and automation change", ("a10",)),
        ("2 dependency updates", ("a07", "a06")),
        ("2 release commits", ("r02", "r01")),
        ("1 maintenance change", ("a11",)),
    ]


def test_impact_groups_add_up_to_the_changes(digest):
    # Release commits are behind the scenes (their releases are listed apart), the merge in no group.
    assert digest.impact_counts == {"affects": 0, "security": 3, "new": 2, "fixed": 2, "internal": 8}
    assert sum(digest.impact_counts.values()) == digest.counts["changes"]
    assert sorted(s for line in digest.by_impact for s in line.shas) == sorted(c.sha for c in IN_PERIOD if not c.is_merge)


def test_a_pull_request_title_is_listed_but_the_merge_is_no_fix():
    change = Fact("c1", at(12, 1, 9), category="maintenance", headline="Raise the login timeout to 30 seconds")
    merge = Fact("m1", at(12, 1, 10), category="fix", headline="Fix the login timeout on slow networks",
                 headline_source="pull request", is_merge=True)
    result = build_digest([change, merge], choose_period([merge.date], "7d-commits"))
    assert [(line.text, line.shas) for line in result.fixes] == [("Fix the login timeout on slow networks", ("m1",))]
    assert result.impact_counts["fixed"] == 0 and sum(result.impact_counts.values()) == result.counts["changes"] == 1
    assert not any("fixed" in line.text for line in result.summary)


def test_a_bot_update_of_a_ci_action_is_a_dependency_update():
    bump = Fact("b1", at(12, 1), author="dependabot[bot]", area=".github", category="dependencies",
                headline="Bump actions/checkout from 3 to 4", paths=[".github/workflows/ci.yml"], ci=True)
    result = build_digest([bump], choose_period([bump.date], "7d-commits"))
    assert [(line.text, line.shas) for line in result.internal] == [("1 dependency update", ("b1",))]


def test_areas_are_the_top_five_busiest(digest):
    assert [line.text for line in digest.areas] == [
        "src: 7 changes", "(top level): 4 changes", ".github: 1 change", "dashboard: 1 change", "docs: 1 change",
    ]
    assert digest.areas[0].shas == ("a13", "a12", "a11", "a08", "a04", "a03", "a01")


def test_every_line_stands_on_commits_from_the_period(digest):
    lines = [*digest.summary, *digest.security, *digest.features, *digest.fixes, *digest.internal, *digest.areas]
    in_period = {c.sha for c in IN_PERIOD}
    for line in lines:
        assert line.shas and set(line.shas) <= in_period, line
        assert label(line.provenance) in ("git facts", "developer's message", "pull request title",
                                          "summary written by the model from the diff")
    assert digest.comparison.shas


def test_comparison_wording():
    period = choose_period([at(12, 2)], "7d-commits")

    def week(now: int, before: int) -> str:
        commits = [Fact(f"n{i}", at(12, 1)) for i in range(now)] + [Fact(f"b{i}", at(11, 22)) for i in range(before)]
        return build_digest(commits, period).comparison.text

    assert week(15, 1) == "15 changes, up from 1 in the 7 days before."
    assert week(3, 3) == "3 changes, the same as in the 7 days before."
    assert week(1, 7) == "1 change, down from 7 in the 7 days before."
    assert week(2, 0) == "2 changes; no changes in the 7 days before."
    assert week(0, 4) == "No changes, down from 4 in the 7 days before."


def test_most_of_the_work_only_when_it_is_a_majority():
    commits = [Fact("s1", at(12, 1)), Fact("s2", at(12, 1), category="fix", headline="Fix a crash"),
               Fact("d1", at(12, 1), area="docs", category="docs", headline="Explain setup")]
    result = build_digest(commits, choose_period([at(12, 1)], "7d-commits"))
    assert [line.text for line in result.summary] == [
        "In the last 7 days with commits, 1 person made 3 changes across 2 areas.",
        "They added 1 feature and fixed 1 problem; most of the work was in src.",
    ]
    tied = build_digest(commits[:1] + commits[2:], choose_period([at(12, 1)], "7d-commits"))
    assert tied.summary[-1].text == "They added 1 feature; the busiest areas were docs and src."


def test_an_empty_period_says_so():
    result = build_digest(FIXTURE, choose_period([], (date(2026, 10, 1), date(2026, 10, 7))))
    assert result.empty
    assert [line.text for line in result.summary] == ["No changes were recorded in the period 1 - 7 Oct 2026."]
    assert result.counts == {"changes": 0, "people": 0, "areas": 0}
    assert (result.releases, result.features, result.security, result.internal) == ([], [], [], [])
    assert result.comparison.text == "No changes in this period or the 7 days before."


def test_unknown_category_is_refused():
    bad = replace(FIXTURE[0], category="chore")
    with pytest.raises(ValueError, match="unknown category 'chore'"):
        build_digest([bad], choose_period([bad.date], "7d-commits"))


def test_period_checks_its_span():
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="exactly"):
        Period(start=start, end=start.replace(day=3), label="x", days=7)


# --- periods end today (issue 16) ----------------------------------------------------------------


def test_named_periods_end_today_and_a_future_commit_moves_none():
    today = date(2026, 12, 6)
    future = datetime(2100, 1, 1, tzinfo=timezone.utc)  # a computer whose clock was wrong
    dates = [at(11, 20), at(12, 2, 15), future]
    week = choose_period(dates, "7d", on=today)
    assert week.label == "the last 7 days (30 Nov - 6 Dec 2026)"
    assert week.contains(datetime(2026, 12, 6, 23, 59, tzinfo=timezone.utc)) and not week.contains(future)
    assert choose_period(dates, "30d", on=today).label == "the last 30 days (7 Nov - 6 Dec 2026)"
    assert choose_period(dates, "90d-commits", on=today).last_day == date(2026, 12, 2)
    # With only future commits there is no day with commits to end on: the period ends today.
    assert choose_period([future], "7d-commits", on=today).label == "the last 7 days (30 Nov - 6 Dec 2026)"
    result = build_digest([Fact("f1", future), Fact("n1", at(12, 5))], week)
    assert result.counts["changes"] == 1 and result.summary[0].shas == ("n1",)


def test_today_is_the_clock_or_the_one_setting(monkeypatch):
    from db.errors import NarratorError
    from narrator.insights.periods import TODAY_VARIABLE, today

    monkeypatch.setenv(TODAY_VARIABLE, "2030-05-17")
    assert today() == date(2030, 5, 17)
    assert choose_period([], "7d").label == "the last 7 days (11 - 17 May 2030)"
    monkeypatch.delenv(TODAY_VARIABLE)
    assert today() == datetime.now(timezone.utc).date()
    for bad in ("yesterday", "0001-01-01"):
        monkeypatch.setenv(TODAY_VARIABLE, bad)
        with pytest.raises(NarratorError, match=f"CODE_NARRATOR_TODAY='{bad}' is not a day git can record"):
            today()


def test_periods_at_the_ends_of_the_calendar_never_overflow():
    last = choose_period([], (date(9999, 12, 1), date(9999, 12, 31)))
    assert last.label == "1 - 31 Dec 9999" and last.previous().label == "the 31 days before (31 Oct - 30 Nov 9999)"
    late = datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc)
    assert build_digest([Fact("z1", late)], last).counts["changes"] == 1
    first = choose_period([], (date(1970, 1, 1), date(1970, 1, 7)))
    assert first.previous().label == "the 7 days before (25 - 31 Dec 1969)"
    unknown = datetime(1970, 1, 1, tzinfo=timezone.utc)  # where a commit whose date git cannot read is shown
    assert build_digest([Fact("u1", unknown)], first).counts["changes"] == 1
    # A range longer than the time before it compares with what the calendar holds before it.
    everything = choose_period([], (date(1970, 1, 1), date(9999, 12, 31)))
    assert everything.previous().label == "the 719,161 days before (2 Jan 1 - 31 Dec 1969)"
    assert build_digest([Fact("u1", unknown)], everything).counts["changes"] == 1
    # The day before the year 1 cannot be held: a period that early is refused, not an OverflowError.
    for early in (date(1, 1, 1), date(1969, 12, 31)):
        with pytest.raises(ValueError, match=rf"starts \({early}\) before 1970-01-01: git records no earlier day"):
            choose_period([], (early, date(1970, 1, 6)))
