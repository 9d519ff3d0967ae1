"""One briefing, built once (``narrator.insights.briefing``): the opening sentences from the facts, and every
number shown equal to the list of changes it links to, in the briefing, ``show`` and the reports."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import git
import pytest

from narrator.insights.briefing import Count, count
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.render import exports as reports
from narrator.render import renderers
from narrator.render.show import markdown, summary_text
from narrator.service.core import NarratorService
from narrator.text import markdown_text as md
from tests.conftest import commit_files
from tests.helpers.dashboard import no_worker
from tests.helpers.pages import Tags, counted_sentences, pdf_text
from tests.helpers.repos import NOW, narrated, release  # noqa: F401  (fixtures)

_NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
_COUNTED = re.compile(rf"\b{_NUMBER} (?:[\w-]+ ){{0,3}}?(?:changes?|releases?|commits?|updates?|fix(?:es)?)\b"
                      rf"|\b{_NUMBER} of which\b", re.I)
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def numbers_in(text: str) -> list[int]:
    """The counts a sentence prints: '5 changes, 2 of which ...' -> [5, 2]."""
    found = []
    for match in _COUNTED.finditer(text):
        word = (match.group(1) or match.group(2)).lower()
        found.append(_WORDS.index(word) if word in _WORDS else int(word))
    return found


def test_the_opening_of_a_repository_with_a_hotfix_and_a_breaking_change_and_a_security_fix_waiting(narrated):
    service, ids, shas = narrated
    b = service.briefing(ids["hotfixed"], "30d")
    assert [s.text for s in b.opening] == [
        "The team is active: 8 changes in the last 30 days.",
        "2 releases reached users in the last 30 days, the latest 2.0.1 on 15 Nov 2026, 2 weeks ago.",
        "Waiting for the next release are 5 changes, 1 of which may affect existing users.",
        "One security fix is waiting to ship.",
    ]
    status, reached, waiting, risk = b.opening
    assert set(status.shas) == set(b.changes.shas) and b.changes.n == 8
    assert reached.shas == (shas["2.0.1"], shas["2.0.0"])
    assert waiting.counts == (count(b.waiting.count.shas), Count(1, (shas["breaking"],)))
    assert risk.shas == (shas["security"],)
    # One period for all: the digest, the status's delivery figures and the briefing share it.
    assert b.digest.period == b.period
    assert service.status(ids["hotfixed"], b.period).delivery.period == b.period


def test_a_quiet_repository_says_work_has_stopped_and_its_period_is_empty(narrated):
    service, ids, _ = narrated
    b = service.briefing(ids["quiet"], "30d")
    assert [s.text for s in b.opening] == ["Work has stopped: the last change was 1 Dec 2025, 1 year ago.",
                                           "No release is recorded, so the project's history cannot tell what reached users."]
    assert b.opening[0].shas == b.status.shas and len(b.opening[0].shas) == 1
    assert b.changes == Count(0, ()) and not b.by_impact.lines and b.waiting.count is None
    b = service.briefing(ids["overdue"], "30d")
    assert [s.text for s in b.opening] == ["Work has stopped: the last change was 4 Nov 2026, 4 weeks ago.",
                                           "The last release, 1.4.0, reached users on 24 Aug 2026, 3 months ago.",
                                           "Waiting for the next release are 3 changes."]


@pytest.fixture
def bumped(tmp_path, settings, monkeypatch):
    """A release, then a dependency bot's security update of a library and a small feature merged from
    a branch, waiting."""
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    repo = git.Repo.init(tmp_path / "bumped")
    commit_files(repo, {"package.json": '{"name": "site", "dependencies": {"qs": "6.13.0"}}\n',
                        "lib/app.js": "module.exports = {}\n"}, "Start the site", NOW - timedelta(days=40))
    shipped = release(repo, "5.1.0", NOW - timedelta(days=30))
    bump = commit_files(repo, {"package.json": '{"name": "site", "dependencies": {"qs": "6.14.1"}}\n'},
                        "Bump qs from 6.13.0 to 6.14.1\n\nFixes a denial of service flaw (CVE-2026-2391).",
                        NOW - timedelta(days=9), author="dependabot[bot]")
    main = repo.active_branch.name
    repo.git.checkout("-b", "send")
    feature = commit_files(repo, {"lib/app.js": "module.exports = {send: () => 1}\n"}, "Add a send helper",
                           NOW - timedelta(days=5))
    repo.git.checkout(main)
    stamp = (NOW - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S%z")
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": "Ada Lovelace",
           "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    repo.git.merge("--no-ff", "-m", "Merge pull request #3 from ada/send\n\nAdd a send helper", "send", env=env)
    service = NarratorService(settings)
    view = service.add_repository(repo.working_tree_dir)
    run_job(settings, service.start_narration(view.id, commits=6).id)
    return service, view.id, {"5.1.0": shipped, "bump": bump, "feature": feature, "merge": repo.head.commit.hexsha}


def test_a_security_dependency_bump_waiting_to_ship_opens_as_a_risk(bumped):
    service, repo_id, shas = bumped
    b = service.briefing(repo_id, "30d")
    assert [s.text for s in b.opening][1:] == [
        "The last release, 5.1.0, reached users on 2 Nov 2026, 4 weeks ago.",
        "Waiting for the next release are 2 changes.",
        "One security fix is waiting to ship.",
    ]
    assert b.opening[3].shas == (shas["bump"],) and b.waiting_security == Count(1, (shas["bump"],))
    assert b.waiting.count == Count(2, (shas["feature"], shas["bump"]))


def test_the_report_counts_and_lists_the_same_changes_of_the_period_merges_left_out(bumped):
    service, repo_id, shas = bumped
    b = service.briefing(repo_id, "30d")
    assert set(b.changes.shas) == {shas["bump"], shas["feature"]}  # the release is 30 days old: outside
    report = renderers.markdown(reports.document(service, [repo_id], "30d"))
    assert "Every change in the period (2)" in report and "By impact (2 changes)" in report
    listed = re.findall(r"^- \*\*\d{4}-\d\d-\d\d ([0-9a-f]{8}) ", report.split("Every change in the period")[1], re.M)
    assert sorted(listed) == sorted(s[:8] for s in b.changes.shas) and shas["merge"][:8] not in listed


@pytest.mark.parametrize("name", ["quiet", "hotfixed", "overdue"])
@pytest.mark.parametrize("period", ["7d", "30d", "90d"])
def test_every_number_of_a_briefing_links_to_exactly_that_many_changes(narrated, name, period):
    service, ids, _ = narrated
    repo_id = ids[name]
    b = service.briefing(repo_id, period)
    for c in b.counts():
        linked = service.changes_of(repo_id, c.shas)
        assert sorted(v.sha for v in linked) == sorted(c.shas) and len(linked) == c.n
    # A change has one impact group: the groups add up to the period's changes.
    assert sum(s.counts[0].n for s in b.by_impact.lines) == b.changes.n
    for s in counted_sentences(b):
        assert numbers_in(s.text) == [c.n for c in s.counts], s.text


@pytest.mark.parametrize("name", ["hotfixed", "overdue"])
def test_show_and_the_report_print_the_briefing_s_numbers(narrated, name):
    service, ids, _ = narrated
    b = service.briefing(ids[name], "30d")
    show = markdown(service, ids[name], period="30d")
    report = renderers.markdown(reports.document(service, [ids[name]], "30d"))
    headings = [b.waiting.heading, b.reached.heading, b.by_impact.heading]
    assert b.waiting.heading.startswith("Waiting to ship (") and b.by_impact.heading.endswith(f"({b.changes.n} changes)")
    for text in (show, report):
        for s in counted_sentences(b):
            assert md(s.text) in text, s.text
        for heading in headings:
            assert md(heading) in text
        assert f"In brief: {md(b.period.label)}" in text  # the period with both its dates
    assert f"Every change in the period ({b.changes.n})" in report
    # Every change the report lists under that heading is one the briefing counts, and all of them.
    listed = re.findall(r"^- \*\*\d{4}-\d\d-\d\d ([0-9a-f]{8}) ", report.split("Every change in the period")[1], re.M)
    assert sorted(listed) == sorted(s[:8] for s in b.changes.shas)


def test_a_count_stands_on_exactly_its_commits():
    assert count(["a", "b", "a"]) == Count(2, ("a", "b"))
    with pytest.raises(ValueError):
        Count(3, ("a", "b"))


def test_the_portfolio_report_opens_with_one_comparison_and_every_briefing_over_the_same_dates(narrated):
    service, ids, _ = narrated
    chosen = [ids["quiet"], ids["hotfixed"]]
    shared = service.period("7d-commits", chosen)
    assert shared.last_day == service.period("7d-commits", [ids["hotfixed"]]).last_day  # the latest of them
    report = renderers.markdown(reports.document(service, chosen, "7d-commits"))
    comparison = report.split(f"## {md('Comparison: ' + shared.label)}")[1].split("\n## ")[0]
    # One comparison table (issue 17: 'the portfolio report is one comparison table'), one row each.
    assert "| quiet | Quiet since 1 Dec 2025 | 1 Dec 2025, 1 year ago | 0 | no release recorded | 1: quiet |" in comparison
    assert "| hotfixed | Active | " in comparison and " | 5 (1 may affect users, 1 security fix) | " in comparison
    # The quiet repository is shown over the hotfixed one's week, not its own last active week of 2025.
    assert report.count(f"What changed: {md(shared.label)}") == 2


def test_the_summary_after_narrate_carries_the_status_line_and_the_opening(narrated):
    service, ids, _ = narrated
    ran = SimpleNamespace(narrated=1, cached=0, model_calls=1, flagged=0, commits=10, skipped_note="")
    text = summary_text(service, ids["quiet"], ran)
    assert ("In brief: Quiet since 1 Dec 2025: last change 1 Dec 2025, 1 year ago; changes usually came about "
            "every 2 days.\n  Work has stopped: the last change was 1 Dec 2025, 1 year ago.\n"
            "  No release is recorded, so the project's history cannot tell what reached users.") in text


def test_the_html_and_pdf_reports_print_the_same_opening_and_numbers(narrated):
    service, ids, _ = narrated
    b = service.briefing(ids["hotfixed"], "30d")
    document = reports.document(service, [ids["hotfixed"]], "30d")
    parsed = Tags()
    parsed.feed(renderers.render(document, "html").decode())
    page = " ".join(" ".join(parsed.text).split())
    printed = pdf_text(renderers.render(document, "pdf"))
    for text in (page, printed):
        for said in b.opening:
            assert said.text in text
        assert b.waiting.heading in text and b.by_impact.heading in text
        assert f"Every change in the period ({b.changes.n})" in text
