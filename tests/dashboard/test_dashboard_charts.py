"""The Overview's charts (pure builders and the page) and the Portfolio page, with the fake model.

Figure builders are checked as data (traces, labels, the commits behind each point); the pages are
run with Streamlit's AppTest against two small narrated repositories.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import figures, wording
from dashboard.shared import PERIOD_KEY
from dashboard.wording import link_label, linked_range, plain
from narrator.facts.description import first_line
from narrator.insights import forecast
from narrator.insights.history import Point, ReleasePoint
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from narrator.service.views import BusyArea
from narrator.settings import load_settings
from tests.conftest import START, TODAY, fake_home, make_sample_repo, model_sentences_on
from tests.helpers.dashboard import APP, EVIL, no_worker, shown
from tests.helpers.repos import make_busy_repo


def day(n: int) -> datetime:
    return START + timedelta(days=n)


# --- figure builders ------------------------------------------------------------------------------


def test_activity_chart_stacks_series_and_keeps_the_commits_of_each_bar():
    weeks = [date(2026, 11, 2), date(2026, 11, 9)]
    points = [Point(weeks[0], "fix", 2, ("a", "b")), Point(weeks[1], "fix", 0, ()),
              Point(weeks[0], "feature", 1, ("c",)), Point(weeks[1], "feature", 3, ("d", "e", "f"))]
    chart = figures.activity_chart(points, "category", "week", weeks[0], date(2026, 11, 15))
    assert chart.figure.layout.barmode == "stack"
    assert [t.name for t in chart.figure.data] == ["New feature", "Fix"]  # the readers' order of kinds
    assert [list(t.y) for t in chart.figure.data] == [[1, 3], [2, 0]]
    assert chart.caption == "Changes per week by kind of change, 2 - 15 Nov 2026."
    # A click on the second bar of the first trace, and a box over two bars, map back to commits.
    assert chart.selected({"points": [{"curve_number": 0, "point_index": 1}]}) == ["d", "e", "f"]
    assert chart.selected({"points": [{"curve_number": 1, "point_index": 0}, {"curve_number": 0, "point_index": 0}]}) == ["a", "b", "c"]
    assert chart.selected({"points": [{"curve_number": 9, "point_index": 0}]}) == []
    assert chart.selected(None) == [] and set(chart.every) == set("abcdef")


def test_names_from_the_repository_cannot_become_plotly_markup():
    points = [Point(date(2026, 11, 2), EVIL, 1, ("a",)), Point(date(2026, 11, 2), "%{y}<br>", 1, ("b",))]
    chart = figures.activity_chart(points, "area", "month", date(2026, 11, 1), date(2026, 11, 30))
    names = [t.name for t in chart.figure.data]
    assert not any("<" in n for n in names) and "&lt;script&gt;" in names[0]
    assert all("%{fullData.name}" in t.hovertemplate and "%{y}<br>" not in t.hovertemplate for t in chart.figure.data)
    assert chart.caption == "Changes per month by area, 1 - 30 Nov 2026."
    timeline = figures.releases_chart([ReleasePoint('<a href="javascript:x">1.0</a>', "s", day(0))])
    assert "<a" not in timeline.figure.data[0].text[0] and "&lt;a href=" in timeline.figure.data[0].text[0]


def test_releases_timeline_labels_versions_and_shades_the_forecast():
    history = [ReleasePoint(f"1.{i}", f"s{i}", day(14 * i)) for i in range(6)]
    result = forecast.forecast(history)
    chart = figures.releases_chart(history, result)
    [trace] = chart.figure.data
    assert list(trace.text) == [f"1.{i}" for i in range(6)]
    [band] = chart.figure.layout.shapes
    assert band.x0 == result.earliest.isoformat()
    assert chart.caption.startswith("6 releases, 2 Nov 2026 - 11 Jan 2027, each labelled with its version; the shaded band")
    assert chart.selected({"points": [{"curve_number": 0, "point_index": 2}]}) == ["s2"]
    assert figures.releases_chart([]).caption.startswith("No releases are recorded")


def drawn_labels(chart) -> list[tuple[float, float, float]]:
    """(left px, right px, row) of every version label the release timeline draws."""
    [trace] = chart.figure.data
    start, end = (date.fromisoformat(str(x)[:10]) for x in chart.figure.layout.xaxis.range)
    return [(*figures.label_box(x.astimezone(timezone.utc).date(), text, (start, end)), row)
            for x, text, row in zip(trace.x, trace.text, trace.y) if text]


def overlapping(boxes) -> list:
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a[2] == b[2] and a[0] < b[1] and b[0] < a[1]]


def test_release_labels_never_sit_on_each_other():
    """30 releases within a year, each minor release followed by a patch two days later: every
    version is labelled, staggered over rows so that no two labels' boxes overlap."""
    days = [d for minor in range(15) for d in (24 * minor, 24 * minor + 2)]
    year = [ReleasePoint(f"5.{i // 2}.{i % 2}", f"s{i}", day(d)) for i, d in enumerate(days)]
    chart = figures.releases_chart(year)
    boxes = drawn_labels(chart)
    assert len(boxes) == 30 and overlapping(boxes) == []
    assert len(set(chart.figure.data[0].y)) > 1, "neighbours are staggered over several rows"
    assert "each labelled with its version" in chart.caption
    # Too many to label (a release a day): the newest keep their labels, the rest show on hover only.
    daily = [ReleasePoint(f"0.{i}", f"m{i}", day(i)) for i in range(60)]
    chart = figures.releases_chart(daily)
    labels, boxes = list(chart.figure.data[0].text), drawn_labels(chart)
    assert overlapping(boxes) == [] and labels[-1] == "0.59" and "" in labels
    assert all(t.startswith("0.") for t in chart.figure.data[0].hovertext), "every version is on hover"
    assert f"({labels.count('')} on hover only)" in chart.caption


def test_busiest_chart_puts_the_busiest_area_on_top():
    areas = [BusyArea("src", 5, 50, ("a",), None), BusyArea("docs", 2, 9, ("b", "c"), None)]
    chart = figures.busiest_chart(areas, "the last 7 days with commits")
    [bars] = chart.figure.data
    assert list(bars.y) == ["docs", "src"] and list(bars.x) == [2, 5]  # Plotly draws the first bar lowest
    assert chart.selected({"points": [{"curve_number": 0, "point_index": 1}]}) == ["a"]
    assert chart.caption == "The 2 areas with the most changes in the last 7 days with commits."


def test_links_say_how_many_changes_they_show():
    assert link_label(1, 1) == "See the change"
    assert link_label(12, 12) == "See the 12 changes"
    assert link_label(350, 200) == "See 200 of the 350 changes"
    assert linked_range({"since": "2026-11-02", "until": "2026-11-09"}) == (date(2026, 11, 2), date(2026, 11, 9))
    assert linked_range({"since": "2026-11-09", "until": "2026-11-02"}) is None
    assert linked_range({"since": "yesterday"}) is None and linked_range({}) is None


# --- the pages ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The sample shop (no releases) and a busy till repository (a release, a security fix), narrated."""
    with pytest.MonkeyPatch.context() as mp:
        fake_home(mp, tmp_path_factory.mktemp("home"))
        mp.setattr(jobs, "spawn_worker", no_worker)
        service = NarratorService(model_sentences_on(mp, load_settings()))
        repos = {}
        for name, make in (("shop", make_sample_repo), ("till", make_busy_repo)):
            source = make(tmp_path_factory.mktemp("src") / name)
            repo = service.add_repository(source.working_tree_dir)
            run_job(service.settings, service.start_narration(repo.id, commits=3).id)
            repos[name] = service.repository(repo.id)
        yield service, repos


def run_app(page: str | None = None, repo_id: int | None = None, latest_commit: bool = True) -> AppTest:
    """The dashboard on ``page``; with ``latest_commit``, periods end on the latest commit (the sample
    repositories' commits are weeks older than the tests' today, and most tests here read the digest)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[PERIOD_KEY + "_commits"] = latest_commit
    if repo_id is not None:
        at.session_state["app_repo_id"] = repo_id
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_portfolio_is_the_first_page_and_lists_repositories_busiest_first(pair):
    service, repos = pair
    at = run_app()
    assert [t.value for t in at.title] == ["Portfolio"]
    [table] = at.dataframe
    frame = table.value
    assert list(frame["Repository"]) == ["till", "shop"]  # till's week is busier than shop's empty one
    assert list(frame["Changes"]) == [6, 0] and list(frame["Releases"]) == ["1.1.0", ""]
    assert list(frame["Security fixes"]) == [1, 0] and list(frame["Most active area"]) == ["till", ""]
    assert len(frame["Activity"][0]) == 12
    text = shown(at)
    assert plain("6 changes, most in till; released 1.1.0; 1 security fix.") in text
    assert any(t.startswith("Code Narrator last looked on ") for t in text)


def test_the_portfolio_and_the_overview_open_with_the_status_line(pair):
    """Each Portfolio row has its status; the Overview's status line comes right under its name,
    before the operator figures, and the forecast's back-test sits behind 'How sure is this'."""
    service, repos = pair
    at = run_app()
    frame = at.dataframe[0].value
    till = service.status(repos["till"].id, "7d-commits")
    assert list(frame["Status"]) == [till.activity.text.split(":")[0], service.status(repos["shop"].id).activity.text.split(":")[0]]
    assert list(frame["Waiting to ship"])[0] == 0 and list(frame["Risks"])[0] == "key person"  # Ada made all 7
    assert plain(till.activity.text) in shown(at)
    at = run_app("app_pages/overview.py", repo_id=repos["till"].id)
    # Right under its name and the one line of what it does (here the checked model summary).
    [what, status, *_] = at.markdown
    assert what.value == plain(first_line(service.overview(repos["till"].id, None).summary.text))
    assert status.value == f"**{plain(till.activity.text)}**"
    assert plain(till.release.text) in [m.value for m in at.markdown]
    assert "How sure is this" not in [e.label for e in at.expander]  # one release: nothing to back-test


def test_open_from_the_portfolio_shows_that_repositorys_overview(pair):
    service, repos = pair
    at = run_app(repo_id=repos["shop"].id)
    at.button(key=f"portfolio_open_{repos['till'].id}").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["till"]
    assert at.session_state["app_repo_id"] == repos["till"].id
    assert any("Code Narrator last looked on" in c for c in shown(at))


def test_the_period_is_shared_by_portfolio_and_overview(pair):
    service, repos = pair
    at = run_app(repo_id=repos["shop"].id)
    at.segmented_control(key="portfolio_period").set_value("90d").run()
    assert list(at.dataframe[0].value["Changes"]) == [7, 5]
    at.switch_page("app_pages/overview.py").run()
    assert at.segmented_control(key="overview_period").value == "90d"
    assert any("last 90 days" in c for c in shown(at))
    at.segmented_control(key="overview_period").set_value("30d").run()
    at.switch_page("app_pages/portfolio.py").run()
    assert at.segmented_control(key="portfolio_period").value == "30d"


def test_overview_charts_have_captions_links_and_controls(pair):
    service, repos = pair
    at = run_app("app_pages/overview.py", repo_id=repos["till"].id)
    assert len(at.get("plotly_chart")) == 3
    text = shown(at)
    assert any(t.startswith("The 3 areas with the most changes in the last 7 days with commits.") for t in text)
    assert any(t.startswith("Changes per week by kind of change,") for t in text)
    assert any(t.startswith("1 release, ") for t in text)
    # The forecast is a line of 'What reached users', up top.
    assert any(plain("Not enough releases to forecast (1 recorded; 4 are needed).") in t for t in text)
    links = [link.proto for link in at.get("page_link")]
    assert any("since" in str(p) and "until" in str(p) for p in links), "the activity chart links to its whole range"
    # The described areas carry their role and their source like the rest of the page.
    assert any(t.startswith(f"**{plain('till')}** · source code · ") for t in text)
    at.segmented_control(key="overview_chart_by").set_value("area").run()
    at.segmented_control(key="overview_chart_grain").set_value("month").run()
    assert not at.exception
    assert any(t.startswith("Changes per month by area,") for t in shown(at))
    at.date_input(key=f"overview_{repos['till'].id}_chart_dates").set_value((day(0).date(), day(20).date())).run()
    assert any(t.startswith("Changes per month by area, 2 - 22 Nov 2026.") for t in shown(at))


def test_a_chart_range_link_shows_just_those_changes(pair):
    service, repos = pair
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["app_repo_id"] = repos["shop"].id
    at.query_params["since"] = START.date().isoformat()
    at.query_params["until"] = (START + timedelta(days=2)).date().isoformat()
    at.run()
    at.switch_page("app_pages/changes.py").run()
    assert not at.exception
    assert any("Showing the 3 changes from" in i.value for i in at.info)
    assert sum(1 for e in at.expander if e.label == "Evidence") == 3


def test_the_period_ends_today_unless_it_is_set_to_end_on_the_latest_commit(pair):
    """Portfolio and Overview share one period; by default it is the days up to today."""
    service, repos = pair
    at = run_app(repo_id=repos["till"].id, latest_commit=False)
    assert list(at.dataframe[0].value["Changes"]) == [0, 0]  # every commit is weeks before the tests' today
    assert "none with a change in these days" in " ".join(shown(at)) and "busiest first" not in " ".join(shown(at))
    assert at.toggle(key="portfolio_period_commits").value is False
    at.switch_page("app_pages/overview.py").run()
    week = service.digest(repos["till"].id, "7d").period
    assert plain(week.label) in shown(at) and week.last_day == TODAY
    at.toggle(key="overview_period_commits").set_value(True).run()
    assert plain(service.digest(repos["till"].id, "7d-commits").period.label) in shown(at)
    at.switch_page("app_pages/portfolio.py").run()
    assert at.toggle(key="portfolio_period_commits").value is True
    assert list(at.dataframe[0].value["Changes"]) == [6, 0]
    assert "busiest first" in " ".join(shown(at))


def test_the_portfolio_says_what_each_repository_does_its_risks_and_delivery_trend(pair):
    """Per repository: its one-line description, status, waiting to ship, risks, delivery figures and trend."""
    service, repos = pair
    at = run_app()
    frame = at.dataframe[0].value
    rows = {row.repo.name: row for row in service.portfolio("7d-commits")}
    assert rows["shop"].description == "A small web shop that lists products and takes orders."
    assert list(frame["What it does"]) == [rows["till"].description or "", rows["shop"].description]
    assert list(frame["Delivery trend"]) == [wording.delivery_trend(rows[n].status) for n in ("till", "shop")]
    text = shown(at)
    assert plain(rows["shop"].description) in text
    till = rows["till"].status
    assert "Risks: " + " ".join(plain(r.text) for r in till.risks) in text
    assert plain(till.release.waiting_text) in text
    assert any(t.startswith(plain(f"Delivery, {till.delivery.period.label}: ")) for t in text)
    now = SimpleNamespace(delivery=SimpleNamespace(releases=3, lead_days=12.2, hotfixes=0),
                          before=SimpleNamespace(releases=1, lead_days=5.0, hotfixes=0))
    assert wording.delivery_trend(now) == "releases up from 1 to 3; changes wait longer for a release (12 days, was 5)"
    now.delivery.hotfixes = 1  # the hotfix rate is a delivery figure too: its trend is said when it moves
    assert wording.delivery_trend(now) == ("releases up from 1 to 3; changes wait longer for a release (12 days, was 5); "
                                         "hotfixes 1 of 3, was 0 of 1")
    assert wording.delivery_trend(SimpleNamespace(delivery=None, before=None)) == ""


def linked_counts(at) -> list[tuple[str, int, int]]:
    """(label, the number the label says, the commits the link carries) of every commit link on a page."""
    found = []
    for link in at.get("page_link"):
        query = parse_qs(link.proto.query_string)
        if "commits" not in query:
            continue
        said = re.search(r"See (?:the (\d+) changes|the change)", link.proto.label)
        found.append((link.proto.label, int(said.group(1) or 1), len(query["commits"][0].split(","))))
    return found


def test_every_number_on_the_overview_equals_its_linked_list(pair):
    """Each 'See the N changes' link carries exactly N changes, and each section's number is the
    number of changes its first sentence links to."""
    service, repos = pair
    at = run_app("app_pages/overview.py", repo_id=repos["till"].id)
    links = linked_counts(at)
    assert links and all(said == carried for _, said, carried in links), links
    brief = service.briefing(repos["till"].id, "7d-commits")
    headings = [h.value for h in at.subheader]
    assert plain(brief.waiting.heading) in headings and brief.waiting.count.n == len(brief.waiting.lines[0].shas)
    assert plain(brief.by_impact.heading) in headings
    assert brief.by_impact.count.n == sum(len(line.shas) for line in brief.by_impact.lines)
