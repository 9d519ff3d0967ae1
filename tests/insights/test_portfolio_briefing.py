"""The Portfolio is every repository's briefing over one shared period (``NarratorService.portfolio``):
its rows and the portfolio report's comparison table show the numbers of each repository's own
briefing and Overview, read by SQL over the days they need, never a whole history."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import git
import pytest

from dashboard import wording
from narrator.insights.portfolio import figures
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.render import exports as reports
from narrator.render import renderers
from narrator.service.core import NarratorService
from narrator.text import markdown_text as md
from tests.conftest import commit_files
from tests.helpers.dashboard import no_worker
from tests.helpers.pages import Tags, pdf_text
from tests.helpers.repos import NOW, narrated, release  # noqa: F401  (fixtures)


def test_each_row_is_its_repositorys_briefing_over_the_shared_days(narrated):
    """A row shows the numbers of that repository's briefing and Overview for the same days, for a
    repository quiet for a year as for an active one with a hotfix and changes waiting."""
    service, ids, shas = narrated
    for choice in ("30d", "7d-commits", "90d"):
        rows = {row.repo.id: row for row in service.portfolio(choice)}
        shared = service.period(choice, list(ids.values()))
        for name in ("quiet", "hotfixed"):
            row = rows[ids[name]]
            assert row.period == shared
            brief = service.briefing(ids[name], shared)
            assert row.figures == figures(brief)
            assert row.changes == brief.changes.n == service.digest(ids[name], shared).counts["changes"]
            assert row.status.activity == service.status(ids[name], shared).activity
    quiet, hotfixed = (rows[ids[n]] for n in ("quiet", "hotfixed"))  # over 90 days
    assert (quiet.figures.status, quiet.figures.last_change_words) == ("Quiet since 1 Dec 2025", "1 Dec 2025, 1 year ago")
    assert quiet.changes == 0 and quiet.figures.waiting is None and quiet.figures.risks == ("quiet",)
    assert quiet.description is None and sum(quiet.sparkline) == 0
    week = service.portfolio("30d")
    hot = next(r for r in week if r.repo.id == ids["hotfixed"])
    f = hot.figures
    assert (f.state, f.changes.n, f.waiting.n, f.waiting_affects.shas, f.waiting_security.shas) == (
        "active", 8, 5, (shas["breaking"],), (shas["security"],))
    assert f.waiting_words == "5 (1 may affect users, 1 security fix)"
    assert f.risk_words.startswith("5: may break users' work, security fix waiting, hotfix, key person")
    assert (f.release_rate, f.hotfix_rate, f.trend) == ("2 (2.0 per 30 days)", "1 of 2", "releases up from 0 to 2")
    assert hot.releases == ("2.0.1", "2.0.0") and hot.security == 1
    # The dashboard's table says the same: read off the same figures.
    table = {line["Repository"]: line for line in wording.portfolio_table(week)}
    assert table["hotfixed"]["Waiting to ship"] == 5 and table["hotfixed"]["Waiting: may affect users"] == 1
    assert table["hotfixed"]["Number of risks"] == 5 and table["hotfixed"]["Hotfix rate"] == 0.5
    assert table["quiet"]["Status"] == "Quiet since 1 Dec 2025" and table["quiet"]["How long ago"] == "1 year ago"
    assert table["quiet"]["Waiting to ship"] is None and table["quiet"]["Risks"] == "quiet"


def make_long(path: Path, days: int, last_ago: int) -> git.Repo:
    """A change a day for ``days`` days, the last ``last_ago`` days before today, a release midway."""
    repo = git.Repo.init(path)
    last = NOW - timedelta(days=last_ago)
    for i in range(days):
        commit_files(repo, {f"lib/m{i % 3}.py": f"def m():\n    return {i}\n"}, f"Return {i} from the module",
                     last - timedelta(days=days - 1 - i))
        if i == days // 2:
            release(repo, "1.0.0", last - timedelta(days=days - 1 - i, hours=-1))
    return repo


@pytest.fixture
def long_pair(tmp_path, settings, monkeypatch):
    """Two histories longer than the status looks back (its last 50 changes): one active, one quiet for a year."""
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    ids = {}
    for name, repo in (("active", make_long(tmp_path / "active", 120, 1)),
                       ("stopped", make_long(tmp_path / "stopped", 120, 400))):
        view = service.add_repository(repo.working_tree_dir)
        run_job(settings, service.start_narration(view.id, commits=3).id)
        ids[name] = view.id
    return service, ids


def test_the_portfolio_reads_only_the_days_it_needs_never_a_whole_history(long_pair, monkeypatch):
    service, ids = long_pair
    expected = {row.repo.name: row.figures for row in service.portfolio("30d")}

    def whole_history(repo_id):
        raise AssertionError("the portfolio loaded a whole history")

    read = []
    listed = service.store.list_commits

    def list_commits(repo_id, since=None, *args, **kwargs):
        read.append(since)
        return listed(repo_id, since, *args, **kwargs)

    fresh = NarratorService(service.settings)
    monkeypatch.setattr(fresh, "_commits", whole_history)
    monkeypatch.setattr(fresh.store, "list_commits", list_commits)
    for choice in ("30d", "7d-commits"):
        rows = fresh.portfolio(choice)
        assert {r.repo.name for r in rows} == {"active", "stopped"}
    assert read and all(since is not None for since in read)  # always from a day, by SQL
    assert {row.repo.name: row.figures for row in fresh.portfolio("30d")} == expected
    # '-commits' ends on the newest commit of any repository, found by the database.
    assert fresh.period("7d-commits", ids.values()).last_day == (NOW - timedelta(days=1)).date()
    assert fresh.period("7d-commits", [ids["stopped"]]).last_day == (NOW - timedelta(days=400)).date()
    active = next(r for r in rows if r.repo.name == "active")
    assert active.changes == 7 and active.sparkline[-1] + active.sparkline[-2] >= 7
    assert active.busiest_area == "lib"


def _table(markdown: str) -> dict[str, dict[str, str]]:
    """The comparison table of a portfolio report, by repository: {column: cell}."""
    comparison = markdown.split("## Comparison: ")[1].split("\n## ")[0]
    lines = [line for line in comparison.splitlines() if line.startswith("| ")]
    header, *rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    return {row[0]: dict(zip(header, row)) for row in rows}


def _section(markdown: str, name: str) -> str:
    return markdown.split(f"\n## {name}\n")[1].split("\n## ")[0]


def test_every_number_of_the_comparison_is_the_one_in_that_repositorys_own_section(narrated):
    service, ids, _ = narrated
    chosen = [ids["quiet"], ids["hotfixed"], ids["overdue"]]
    for choice in ("30d", "90d"):
        text = renderers.markdown(reports.document(service, chosen, choice))
        table = _table(text)
        assert list(table) == ["quiet", "hotfixed", "overdue"]
        for name, row in table.items():
            section = _section(text, name)
            brief = service.briefing(ids[name], service.period(choice, chosen))
            status_line = section.strip().splitlines()[0]
            assert status_line.startswith(md(row["Status"]) + ":")
            assert f"last change {md(row['Last change'])}" in status_line
            assert int(row["Changes"]) == brief.changes.n
            # The section counts the same changes: its impact heading, or, for none, no heading at all.
            assert (f"By impact ({row['Changes']} change" in section if brief.changes.n
                    else "By impact (" not in section and "Every change in the period (0)" in section)
            waiting = re.match(r"(\d+)(?: \((?:(\d+) may affect users)?(?:, )?(?:(\d+) security fix)?)?", row["Waiting to ship"])
            if row["Waiting to ship"] == "no release recorded":
                assert "Waiting to ship (" not in section and brief.waiting.count is None
            else:
                assert f"Waiting to ship ({waiting.group(1)})" in section
                assert int(waiting.group(2) or 0) == brief.waiting_affects.n
                assert int(waiting.group(3) or 0) == brief.waiting_security.n
            risks = section.split("Risks, from git alone")[1].split("\n#")[0]
            said = int(row["Risks"].split(":")[0]) if row["Risks"] != "none" else 0
            assert said == risks.count("\n- ") == len(brief.risks.lines)
            assert f"- Releases: {md(row['Releases'])}" in section
            assert row["Lead time"] == "\u2014" or f"A change waited {row['Lead time']} (median)" in section
            assert row["Hotfix rate"] == "\u2014" or f"Hotfixes: {row['Hotfix rate']} releases" in section
            moved = re.match(r"releases (?:up|down) from (\d+) to (\d+)", row["Trend"])
            if moved:
                assert f"Releases: {moved.group(2)} (" in section and f"from {moved.group(1)} in" in section


def test_the_comparison_table_is_escaped_in_markdown_html_and_pdf():
    table = reports.Table(("Repository", "Status"), (("<b>shop</b> | *x*", "Active & well"),), "git facts")
    report = reports.Report("Portfolio", "made today", (table,))
    text = renderers.markdown(report)
    assert "| \\<b\\>shop\\</b\\> \\| \\*x\\* | Active & well |" in text and "[git facts]" in text
    html = renderers.render(report, "html").decode()
    assert "<td>&lt;b&gt;shop&lt;/b&gt; | *x*</td>" in html and "<b>shop" not in html
    parsed = Tags()
    parsed.feed(html)
    assert "Active & well" in " ".join(parsed.text)
    printed = pdf_text(renderers.render(report, "pdf"))
    assert "<b>shop</b> | *x*" in printed and "Active & well" in printed
    with pytest.raises(ValueError):
        reports.Table(("a", "b"), (("only one",),))
