"""Every page of the real dashboard in a real browser (Debian chromium via Playwright), as a manager
clicks through it: Portfolio, Overview, Changes, Code, Admin locked and unlocked, a period change and
a report download. Screenshots are kept as test artifacts in ``test-artifacts/browser`` (or
``$CODE_NARRATOR_ARTIFACTS``).

Two repositories are narrated in this process first (fake model), so the server only reads.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import START, commit_files, make_sample_repo
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from tests.helpers.cli import ROOT

PASSWORD = "correct horse battery staple"
BRIEFINGS: dict = {}
"""Repository name -> (id, its briefing over the default period), filled by the ``server`` fixture."""
FIRST_SCREEN = {"width": 1280, "height": 800}
ORDER: list[str] = []
"""The Portfolio's rows, top to bottom, over the default period."""

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (bash scripts/setup.sh --browser installs it)"
)]


def artifacts() -> Path:
    folder = Path(os.environ.get("CODE_NARRATOR_ARTIFACTS") or ROOT / "test-artifacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A narrated shop (with two releases) and a second small repository, served by `streamlit run`."""
    tmp = tmp_path_factory.mktemp("pages")
    home = tmp / "home"
    env = dict(os.environ, CODE_NARRATOR_HOME=str(home), CODE_NARRATOR_MODEL="fake", HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT), CODE_NARRATOR_ADMIN_PASSWORD=PASSWORD, HOME=str(tmp / "user"))
    env.pop("CODE_NARRATOR_DB", None)
    env.pop("CODE_NARRATOR_ADAPTER", None)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("CODE_NARRATOR_HOME", "CODE_NARRATOR_MODEL"):
            mp.setenv(name, env[name])
        mp.delenv("CODE_NARRATOR_DB", raising=False)
        mp.delenv("CODE_NARRATOR_ADAPTER", raising=False)
        mp.setattr(jobs, "spawn_worker", lambda settings, store, job_id: 0)  # narrated below instead
        shop = make_sample_repo(tmp / "shop")
        shop.create_tag("v1.0.0", ref=shop.head.commit.parents[0])
        commit_files(shop, {"pyproject.toml": '[project]\nname = "shop"\nversion = "1.1.0"\n'},
                     "Release 1.1.0", START + timedelta(days=10))
        shop.create_tag("v1.1.0")
        other = make_sample_repo(tmp / "warehouse")
        settings = load_settings()
        service = NarratorService(settings)
        for source in (shop, other):
            repo = service.add_repository(source.working_tree_dir)
            run_job(settings, service.start_narration(repo.id).id)
            # What its Overview opens with over the default period (the days up to the pinned today).
            BRIEFINGS[repo.name] = (repo.id, service.briefing(repo.id, "7d"))
        ORDER.extend(row.repo.name for row in service.portfolio("7d"))

    env["OMP_NUM_THREADS"] = "1"  # the server only reads: no need for many torch threads
    with streamlit_server(env, tmp / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 2400}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    context.close()
    assert errors == [], errors


def main(page):
    return page.locator("[data-testid='stMain']").first


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, main(page).inner_text()[:2000]


def settle(page) -> None:
    """Wait until the script run is over (Streamlit shows its status widget while one runs)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=90_000)


def visit(page, url: str, heading: str, shot: str, *texts: str) -> None:
    """Open ``url``, wait for ``heading`` and ``texts`` and for the run to end, then screenshot it."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    for text in texts:
        main(page).get_by_text(text).first.wait_for(timeout=60_000)
    settle(page)
    no_exception(page)
    page.screenshot(path=str(artifacts() / f"{shot}.png"), full_page=True)


def test_portfolio_lists_every_repository_and_opens_an_overview(server, page):
    visit(page, server, "Portfolio", "portfolio", "warehouse", "Open its Overview")
    page.get_by_role("button", name="Open its Overview").first.click()
    page.get_by_role("heading", name="What this software does").wait_for(timeout=60_000)
    settle(page)
    no_exception(page)


def test_overview_shows_description_charts_and_a_period_change(server, page):
    visit(page, f"{server}/overview", "What this software does", "overview",
          "A small web shop that lists products and takes orders.", "Activity over time")
    body = main(page)
    # Plotly is loaded on demand: wait for the activity and releases charts to be drawn.
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts() / "overview.png"), full_page=True)
    week = body.inner_text()
    main(page).get_by_text("Last 90 days", exact=True).first.click()
    page.get_by_text("the last 90 days").first.wait_for(timeout=30_000)
    settle(page)
    no_exception(page)
    assert body.inner_text() != week
    page.screenshot(path=str(artifacts() / "overview-90-days.png"), full_page=True)


def test_changes_and_code_pages(server, page):
    visit(page, f"{server}/changes", "Changes", "changes", "Release 1.1.0")
    visit(page, f"{server}/code", "Code", "code", "shop/cart.py")


def test_admin_is_locked_until_the_password_then_unlocked(server, page):
    visit(page, f"{server}/admin", "Admin", "admin-locked")
    assert main(page).get_by_text("Now training").count() == 0
    page.get_by_label("Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("heading", name="Now training").wait_for(timeout=60_000)
    settle(page)
    no_exception(page)
    page.screenshot(path=str(artifacts() / "admin-unlocked.png"), full_page=True)


def test_the_overview_report_downloads_as_one_html_file(server, page, tmp_path):
    visit(page, f"{server}/overview", "Report to share", "overview-report")
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Download report").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert saved.suffix == ".html" and "<script" not in html.lower()
    assert "A small web shop that lists products and takes orders." in html


def test_the_overview_first_screen_shows_the_status_line_and_the_opening(server, browser):
    """At 1280 x 800, without scrolling, the Overview shows the repository's status line and its
    opening sentences (the first repository is the one shown when none was chosen)."""
    repo_id, brief = BRIEFINGS["shop"]
    context = browser.new_context(viewport=FIRST_SCREEN)
    try:
        page = context.new_page()
        page.goto(f"{server}/overview", wait_until="domcontentloaded")
        page.get_by_role("heading", name="shop").first.wait_for(timeout=60_000)
        settle(page)
        no_exception(page)
        assert brief.opening, "the briefing opens with at least its status sentence"
        for text in (brief.status.text, *(line.text for line in brief.opening)):
            shown = main(page).get_by_text(text, exact=True).first
            shown.wait_for(timeout=30_000)
            box = shown.bounding_box()
            assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= FIRST_SCREEN["height"], (text, box)
        assert page.evaluate("window.scrollY") == 0
        # The figures for the team running Code Narrator wait, folded, in the details at the bottom.
        assert not main(page).get_by_text("Files read", exact=True).first.is_visible()
        assert main(page).get_by_text("Details for the team running Code Narrator").first.count() == 1
        page.screenshot(path=str(artifacts() / "overview-first-screen.png"))
    finally:
        context.close()


def test_a_portfolio_row_opens_that_repositorys_overview(server, page):
    repo_id, brief = BRIEFINGS["warehouse"]
    visit(page, server, "Portfolio", "portfolio-rows", "warehouse", "Open its Overview")
    page.locator(f".st-key-portfolio_repo_{repo_id}").get_by_role("button", name="Open its Overview").click()
    page.get_by_role("heading", name="warehouse").first.wait_for(timeout=60_000)
    main(page).get_by_text(brief.status.text, exact=True).first.wait_for(timeout=30_000)
    settle(page)
    no_exception(page)
    assert "/overview" in page.url


def test_picking_a_row_of_the_portfolio_table_opens_its_overview(server, page):
    repo_id, brief = BRIEFINGS["warehouse"]
    visit(page, server, "Portfolio", "portfolio-table", "warehouse")
    grid = main(page).locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    row = ORDER.index("warehouse")
    # The row's selection box, left of its first cell (the header and each row are 35 px high).
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)
    page.get_by_role("heading", name="warehouse").first.wait_for(timeout=60_000)
    main(page).get_by_text(brief.status.text, exact=True).first.wait_for(timeout=30_000)
    settle(page)
    no_exception(page)


def linked_lists(page, url: str, heading: str, *texts: str) -> list[tuple[str, int, str]]:
    """Every 'See the N changes' link of the page at ``url``, once ``texts`` are shown: (its label, N,
    where it goes)."""
    visit(page, url, heading, f"links-{heading.lower()}", *texts)
    found = []
    for link in main(page).locator("a[href*='commits='], a[href*='since=']").all():
        label = link.inner_text().strip().splitlines()[-1]  # after the link's icon
        said = re.match(r"See (?:the (\d[\d,]*) changes|the change)", label)
        if said:
            found.append((label, int((said.group(1) or "1").replace(",", "")), link.get_attribute("href")))
    return found


def test_every_count_on_the_overview_and_portfolio_opens_a_list_of_that_many_changes(server, page):
    """In the browser, as a manager clicks: each 'See the N changes' link of the Overview and of the
    Portfolio (a digest line's changes, a chart's days) opens the Changes page showing exactly N changes."""
    # The whole Overview is drawn (its last section) and its opening links are there, however busy the machine.
    links = linked_lists(page, f"{server}/overview", "shop", "See the change", "Report to share")
    links += linked_lists(page, server, "Portfolio")
    assert len(links) >= 3, links
    for label, said, href in dict.fromkeys(links):
        page.goto(href if href.startswith("http") else f"{server}/{href.lstrip('/')}", wait_until="domcontentloaded")
        shown = main(page).get_by_text(re.compile(r"^Showing the [\d,]+ changes?\b")).first
        shown.wait_for(timeout=60_000)
        settle(page)
        no_exception(page)
        listed = int(re.match(r"Showing the (\d[\d,]*)", shown.inner_text()).group(1).replace(",", ""))
        assert listed == said, (label, href, shown.inner_text())
