"""The release forecast: a range from the gaps between past releases, back-tested on the same history."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from narrator.insights import forecast
from narrator.insights.history import ReleasePoint

START = datetime(2025, 1, 6, 12, 0, tzinfo=timezone.utc)


def releases(days: list[float]) -> list[ReleasePoint]:
    """Releases 1.0, 1.1, ... on ``START`` + each number of days."""
    return [ReleasePoint(f"1.{i}", f"sha{i}", START + timedelta(days=d)) for i, d in enumerate(days)]


def every(gap: float, n: int) -> list[float]:
    return [gap * i for i in range(n)]


def test_percentile_interpolates_between_sorted_values():
    assert forecast.percentile([10, 20, 30, 40, 50], 0.5) == 30
    assert forecast.percentile([50, 10, 30], 0.1) == pytest.approx(14)  # 10 + 0.2 * (30 - 10)
    assert forecast.percentile([7], 0.9) == 7
    with pytest.raises(ValueError):
        forecast.percentile([], 0.5)


def test_the_range_is_the_middle_of_recent_gaps_added_to_the_last_release():
    history = releases([0, 10, 30, 40, 60])  # gaps 10, 20, 10, 20
    earliest, latest = forecast.likely_range(history)
    last = date(2025, 3, 7)  # START + 60 days
    assert history[-1].date.date() == last
    assert (earliest, latest) == (last + timedelta(days=10), last + timedelta(days=20))


def test_only_the_last_window_of_gaps_counts():
    # Years of monthly releases, then a steady fortnightly habit: the forecast follows the habit.
    old = every(30, 20)
    new = [old[-1] + 14 * i for i in range(1, forecast.WINDOW + 2)]
    earliest, latest = forecast.likely_range(releases(old + new))
    last = (START + timedelta(days=new[-1])).date()
    assert earliest == latest == last + timedelta(days=14)


def test_a_regular_history_is_always_inside_its_forecast():
    result = forecast.forecast(releases(every(14, 12)))
    assert result.possible and result.gaps == 10
    assert (result.hits, result.tries) == (8, 8)  # releases 5..12 each forecast from those before
    assert forecast.hit_rate(result) == "Past releases fell inside the forecast range 8 times out of 8."
    assert forecast.sentences(result)[0] == "The next release is likely on 23 Jun 2025."


def test_an_irregular_history_is_sometimes_outside():
    rng = random.Random(7)
    days, day = [], 0.0
    for _ in range(40):
        days.append(day)
        day += rng.choice([3, 7, 14, 30, 60, 90])
    result = forecast.forecast(releases(days))
    assert result.tries == 36
    assert 0 < result.hits < result.tries  # an 80% range misses some releases of a history like this
    hits, tries = forecast.back_test(releases(days))
    assert (hits, tries) == (result.hits, result.tries)
    text = " ".join(forecast.sentences(result))
    assert f"fell inside the forecast range {result.hits} times out of 36." in text
    assert "The next release is likely between" in text


def test_the_back_test_uses_only_earlier_releases():
    # Four steady weekly releases then one a year later: forecast from the first four, it is a miss;
    # nothing later exists to leak into that forecast.
    hits, tries = forecast.back_test(releases([0, 7, 14, 21, 386]))
    assert (hits, tries) == (0, 1)
    hits, tries = forecast.back_test(releases([0, 7, 14, 21, 28]))
    assert (hits, tries) == (1, 1)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_fewer_than_four_releases_is_not_enough(count):
    result = forecast.forecast(releases(every(14, count)))
    assert not result.possible and result.releases == count
    assert forecast.likely_range(releases(every(14, count))) is None
    [line] = forecast.sentences(result)
    assert line.startswith("Not enough releases to forecast")


def test_four_releases_forecast_but_cannot_be_checked_yet():
    result = forecast.forecast(releases(every(14, 4)))
    assert result.possible and result.tries == 0
    assert forecast.sentences(result)[-1] == "Too few releases yet to check this forecast against the past."


def test_a_range_that_has_passed_without_a_release_is_overdue():
    history = releases(every(14, 6))
    due = forecast.forecast(history, as_of=history[-1].date.date() + timedelta(days=5))
    assert not due.overdue
    late = forecast.forecast(history, as_of=history[-1].date.date() + timedelta(days=60))
    assert late.overdue
    assert "none is recorded since 1.5 on" in forecast.sentences(late)[0]


def test_a_range_that_opened_before_today_is_said_from_today_never_as_a_range_in_the_past():
    history = releases([0, 10, 20, 40, 50, 70])  # gaps of 10 and 20 days: the next 10-20 days after the last
    last = history[-1].date.date()
    inside = forecast.forecast(history, as_of=last + timedelta(days=14))
    assert inside.earliest < last + timedelta(days=14) <= inside.latest and not inside.overdue
    said = forecast.next_release(inside)[0]
    assert said.startswith(f"The next release is likely by {forecast.day_range(inside.latest, inside.latest)}")
    assert "between" not in said
    ahead = forecast.forecast(history, as_of=last + timedelta(days=1))  # the range is still all ahead
    assert forecast.next_release(ahead)[0].startswith("The next release is likely")
    assert "likely by" not in forecast.next_release(ahead)[0]


def test_a_release_dated_in_the_future_is_left_out_with_a_note():
    """A tag on a commit of the year 9000 (a wrong clock): no OverflowError, no range counted from it."""
    history = releases(every(14, 6))
    wrong = ReleasePoint("9.0", "sha9", datetime(9000, 1, 1, tzinfo=timezone.utc))
    as_of = history[-1].date.date() + timedelta(days=5)
    result = forecast.forecast([*history, wrong], as_of=as_of)
    assert result.future == (wrong,) and result.releases == 6 and result.last == history[-1]
    assert result == dataclasses.replace(forecast.forecast(history, as_of=as_of), future=(wrong,))
    words = forecast.sentences(result)
    assert words[0] == ("The latest release (9.0) is dated in the future (1 Jan 9000): the clock of the computer "
                        "that made it was wrong, so it is left out of the forecast.")
    assert words[1].startswith("The next release is likely")
    few = forecast.sentences(forecast.forecast([*history[:2], wrong, replace_version(wrong, "9.1")], as_of=as_of))
    assert few == ["2 releases are dated in the future (the latest, 9.1, on 2 Jan 9000): the clock of the computer "
                   "that made it was wrong, so they are left out of the forecast.",
                   "Not enough releases to forecast (2 recorded; 4 are needed)."]


def test_gaps_that_run_past_the_year_9999_stop_there():
    """Without a day to compare with, a huge gap ends the range on the last day Python holds."""
    history = [ReleasePoint(f"{i}.0", f"s{i}", datetime(year, 1, 1, tzinfo=timezone.utc))
               for i, year in enumerate((1970, 1971, 1972, 9000))]
    result = forecast.forecast(history)
    assert result.latest == date(9999, 12, 31) and result.possible
    assert forecast.sentences(result)[0].startswith("The next release is likely between")


def replace_version(release: ReleasePoint, version: str) -> ReleasePoint:
    return ReleasePoint(version, release.sha + version, release.date + timedelta(days=1))


def test_a_passed_range_says_overdue_since_its_last_day_and_never_a_range_in_the_past():
    history = releases(every(14, 6))  # 1.5 on 17 Mar 2025; the range is 14 days later
    late = forecast.forecast(history, as_of=history[-1].date.date() + timedelta(days=60))
    assert forecast.next_release(late) == ["The next release is overdue since 31 Mar 2025: "
                                           "none is recorded since 1.5 on 17 Mar 2025."]
    assert "likely" not in " ".join(forecast.next_release(late))
    # The back-test figures are the separate "how sure is this" detail, not part of the headline.
    assert forecast.how_sure(late)[-1] == "Past releases fell inside the forecast range 2 times out of 2."
    assert forecast.sentences(late) == forecast.next_release(late) + forecast.how_sure(late)
    assert forecast.how_sure(forecast.forecast(history[:2])) == []
