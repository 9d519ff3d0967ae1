"""Charts' numbers from stored commit facts: activity, releases, busiest areas, sparklines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest

from narrator.insights import history


@dataclass
class C:
    sha: str
    date: datetime
    area: str = "src"
    category: str | None = "feature"
    added: int = 1
    removed: int = 0
    details: dict = field(default_factory=dict)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


def test_buckets_and_periods_cover_every_week_or_month():
    assert history.bucket(date(2026, 12, 3), "week") == date(2026, 11, 30)
    assert history.bucket(date(2026, 12, 3), "month") == date(2026, 12, 1)
    assert history.periods(date(2026, 11, 15), date(2027, 2, 1), "month") == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert len(history.periods(date(2026, 1, 5), date(2026, 3, 1), "week")) == 8
    with pytest.raises(ValueError):
        history.bucket(date(2026, 1, 1), "day")


def test_default_range_is_the_last_twelve_months_to_the_newest_commit():
    commits = [C("a", at("2019-05-01")), C("b", at("2026-03-15"))]
    assert history.default_range(commits) == (date(2025, 3, 1), date(2026, 3, 15))
    assert history.default_range([C("a", at("2026-02-10")), C("b", at("2026-03-15"))]) == (date(2026, 2, 10), date(2026, 3, 15))
    assert history.default_range([]) is None


def test_activity_by_category_has_every_period_and_links_to_its_commits():
    commits = [C("a", at("2026-01-05")), C("b", at("2026-01-06"), category="fix"), C("c", at("2026-03-02"))]
    points = history.activity(commits, "category", "month")
    assert [(p.period, p.key, p.changes) for p in points] == [
        (date(2026, 1, 1), "feature", 1), (date(2026, 2, 1), "feature", 0), (date(2026, 3, 1), "feature", 1),
        (date(2026, 1, 1), "fix", 1), (date(2026, 2, 1), "fix", 0), (date(2026, 3, 1), "fix", 0)]
    assert next(p for p in points if p.key == "fix" and p.changes).shas == ("b",)
    assert history.activity(commits, "category", "month", start=date(2026, 3, 1))[0].shas == ("c",)


def test_activity_by_area_keeps_the_busiest_and_sums_the_rest():
    commits = [C(f"s{i}", at("2026-01-05") + timedelta(hours=i), area="src") for i in range(3)]
    commits += [C("d", at("2026-01-06"), area="docs"), C("t", at("2026-01-07"), area="tests")]
    points = history.activity(commits, "area", "week", top=1)
    assert {p.key: p.changes for p in points} == {"src": 3, history.OTHER_AREAS: 2}
    with pytest.raises(ValueError):
        history.activity(commits, "author", "week")


def test_releases_come_from_versions_and_tags_once_each_oldest_first():
    commits = [
        C("r1", at("2026-01-01"), category="release", details={"version": "1.0.0", "tags": ["v1.0.0"]}),
        C("t2", at("2026-02-01"), details={"tags": ["v1.1.0"]}),
        C("x", at("2026-02-02"), details={"tags": ["latest"]}),
        C("r2", at("2026-03-01"), category="release", details={"version": "1.1.0"}),  # same version: kept once
    ]
    assert [(r.version, r.sha) for r in history.releases(commits)] == [("1.0.0", "r1"), ("1.1.0", "t2")]


def test_a_bump_to_a_development_version_released_nothing():
    """flask's 'Start version 3.1.3.dev' is the start of work on 3.1.3, not a release users got."""
    commits = [
        C("d1", at("2026-02-18"), details={"version": "3.1.3.dev"}),
        C("r1", at("2026-02-19"), category="release", details={"version": "3.1.3"}),
        C("d2", at("2026-02-20"), details={"version": "3.2.0.dev0"}),
        C("s1", at("2026-02-21"), details={"version": "1.4-SNAPSHOT"}),
        C("t1", at("2026-02-22"), details={"version": "4.0.dev1", "tags": ["v4.0.0"]}),  # its tag still counts
    ]
    assert [(r.version, r.sha) for r in history.releases(commits)] == [("3.1.3", "r1"), ("4.0.0", "t1")]


def test_busiest_areas_and_sparkline():
    commits = [C("a", at("2026-01-05"), area="api", added=10), C("b", at("2026-01-06"), area="api"),
               C("c", at("2026-01-07"), area="docs", added=100), C("d", at("2025-01-01"), area="old")]
    top = history.busiest_areas(commits, start=date(2026, 1, 1))
    assert [(a.area, a.changes, a.lines) for a in top] == [("api", 2, 11), ("docs", 1, 100)]
    assert history.sparkline(commits, date(2026, 1, 18), weeks=3) == [0, 3, 0]  # weeks of 29 Dec, 5 and 12 Jan


def test_the_service_charts_every_recorded_commit(settings, sample_repo):
    from narrator.model.fake import FakeBackend
    from narrator.pipeline.narrate import narrate_repository
    from narrator.pipeline.tasks import Budget
    from narrator.service.core import NarratorService
    from tests.conftest import commit_files

    sample_repo.create_tag("v1.0.0")
    commit_files(sample_repo, {"shop/cart.py": "def total(cart):\n    return 0\n"}, "Release 1.1.0",
                 datetime(2026, 11, 20, tzinfo=timezone.utc))
    service = NarratorService(settings)
    repo = service.add_repository(sample_repo.working_tree_dir)
    narrate_repository(settings, service.store, repo.id, Budget(), FakeBackend())
    start, end = service.chart_range(repo.id)
    assert end == date(2026, 11, 20)
    weekly = service.activity(repo.id, "category", "week", start, end)
    assert sum(p.changes for p in weekly) == 6
    assert {r.version for r in service.releases(repo.id)} == {"1.0.0", "1.1.0"}
    [top, *_] = service.busiest_areas(repo.id, start, end)
    assert top.area == "shop" and top.changes == 4 and top.part is not None and top.part.role == "source code"


def test_the_service_reads_a_long_history_once_until_it_changes(settings, sample_repo, monkeypatch):
    from narrator.model.fake import FakeBackend
    from narrator.pipeline.narrate import narrate_repository
    from narrator.pipeline.tasks import Budget
    from narrator.service.core import NarratorService

    service = NarratorService(settings)
    repo = service.add_repository(sample_repo.working_tree_dir)
    narrate_repository(settings, service.store, repo.id, Budget(), FakeBackend())
    reads = []
    original = service.store.list_commits
    monkeypatch.setattr(service.store, "list_commits", lambda *a, **k: reads.append(a) or original(*a, **k))
    service.overview(repo.id, "30d")
    service.activity(repo.id)
    service.releases(repo.id)
    service.forecast(repo.id)
    assert len(reads) == 1
    newest = service.changes(repo.id)[0]
    service.store.upsert_commits(repo.id, [{"sha": newest.sha, "headline": "Changed in place"}])
    assert any(c.headline == "Changed in place" for c in service._commits(repo.id)) and len(reads) == 3


def test_weeks_and_months_at_the_end_of_the_calendar_never_overflow():
    assert history.periods(date(9999, 11, 15), date(9999, 12, 31), "month") == [date(9999, 11, 1), date(9999, 12, 1)]
    assert history.periods(date(9999, 12, 1), date(9999, 12, 31), "week")[-1] == date(9999, 12, 27)
    assert history.sparkline([C("z", at("9999-12-31"))], date(9999, 12, 31), weeks=2) == [0, 1]
    assert history.periods(date(1, 1, 1), date(1, 1, 7), "week") == [date(1, 1, 1)]  # 1 Jan 1 is a Monday


def test_the_default_chart_range_ignores_a_commit_dated_after_today():
    commits = [C("a", at("2026-02-10")), C("b", at("2026-03-15")), C("wrong clock", at("2100-01-01"))]
    assert history.default_range(commits, today=date(2026, 12, 6)) == (date(2026, 2, 10), date(2026, 3, 15))
    assert history.default_range(commits[2:], today=date(2026, 12, 6)) is None
