"""A dashboard bound beyond this computer (``--server.address 0.0.0.0``), driven in Debian's chromium:
nothing before sign-in, a wrong password refused, a viewer limited to one repository sees only it and
is refused the Admin page."""

from __future__ import annotations

import os

import pytest

from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import make_sample_repo
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from tests.helpers.cli import ROOT

PASSWORD = "correct horse"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (bash scripts/setup.sh --browser installs it)"
)]


def shared_home(tmp_path, monkeypatch) -> tuple[dict[str, str], NarratorService]:
    """The environment of a dashboard server over a fresh home with the fake model, and a service on that home."""
    home = tmp_path / "home"
    env = dict(os.environ, CODE_NARRATOR_HOME=str(home), CODE_NARRATOR_MODEL="fake", HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT))
    for name in ("CODE_NARRATOR_DB", "CODE_NARRATOR_ADAPTER", "CODE_NARRATOR_ALLOWED_ROOTS"):
        env.pop(name, None)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(home))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    return env, NarratorService(load_settings())


def test_a_shared_dashboard_shows_nothing_before_sign_in(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    env, service = shared_home(tmp_path, monkeypatch)
    for name in ("shop", "secret-project"):
        service.add_repository(make_sample_repo(tmp_path / name).working_tree_dir)
    service.add_account("vera", "viewer", PASSWORD, repositories=["shop"])

    with streamlit_server(env, tmp_path / "streamlit.log", address="0.0.0.0") as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1200})
                for address in ("/", "/overview", "/admin"):
                    page.goto(url + address, wait_until="domcontentloaded")
                    page.locator("input[type=password]").wait_for(timeout=60_000)
                    body = page.locator("body").inner_text()
                    assert "shop" not in body and "secret-project" not in body and "Portfolio" not in body

                page.get_by_label("Name", exact=True).fill("vera")
                page.locator("input[type=password]").fill("not the password")
                page.get_by_role("button", name="Sign in").click()
                page.get_by_text("Wrong name or password.").wait_for(timeout=30_000)

                page.get_by_label("Name", exact=True).fill("vera")
                page.locator("input[type=password]").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_text("Signed in as vera (viewer)").wait_for(timeout=60_000)
                page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
                assert "secret-project" not in page.locator("body").inner_text()

                page.get_by_role("link", name="Training and adapters").click()
                page.get_by_text("The Admin page is for admins").wait_for(timeout=60_000)
            finally:
                browser.close()


def test_an_emailed_link_opens_its_page_once_signed_in_and_never_another_readers_repository(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    env, service = shared_home(tmp_path, monkeypatch)
    shop, secret = (service.add_repository(make_sample_repo(tmp_path / name).working_tree_dir)
                    for name in ("shop", "secret-project"))
    service.add_account("vera", "viewer", PASSWORD, repositories=["shop"])

    with streamlit_server(env, tmp_path / "streamlit.log", address="0.0.0.0") as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for link, heading in ((f"/changes?repo={shop.id}", "Changes"), (f"/changes?repo={secret.id}", "Changes"),
                                      (f"/code?repo={secret.id}", "Code")):
                    page = browser.new_page(viewport={"width": 1280, "height": 1200})
                    page.goto(url + link, wait_until="domcontentloaded")
                    page.locator("input[type=password]").wait_for(timeout=60_000)
                    page.get_by_label("Name", exact=True).fill("vera")
                    page.locator("input[type=password]").fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    page.get_by_text("Signed in as vera (viewer)").wait_for(timeout=60_000)
                    page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=60_000)  # not the Portfolio
                    assert "secret-project" not in page.locator("body").inner_text()
                    page.close()
            finally:
                browser.close()
