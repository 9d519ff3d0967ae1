"""The real dashboard in a real browser: `streamlit run` as a server, Debian's chromium via Playwright.

The repository is narrated in this process first (fake model), so the server only reads. The
overview's summary is replaced by hostile text to check, in a real DOM, that narratives are shown
as literal text: no script runs and no Markdown turns into markup.
"""

from __future__ import annotations

import os
import re

import pytest

from narrator.model import prompts
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import make_sample_repo
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from tests.helpers.cli import ROOT

HOSTILE = "<script>alert(1)</script> A **bold** claim <img src=x onerror=alert(2)>"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (bash scripts/setup.sh --browser installs it)"
)]


def test_overview_in_a_real_browser(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    env = dict(os.environ, CODE_NARRATOR_HOME=str(home), CODE_NARRATOR_MODEL="fake", HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT))
    env.pop("CODE_NARRATOR_DB", None)
    env.pop("CODE_NARRATOR_ADAPTER", None)
    for name in ("CODE_NARRATOR_HOME", "CODE_NARRATOR_MODEL"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    monkeypatch.delenv("CODE_NARRATOR_ADAPTER", raising=False)
    monkeypatch.setattr(jobs, "spawn_worker", lambda settings, store, job_id: 0)  # narrated below instead

    source = make_sample_repo(tmp_path / "shop")
    settings = load_settings()
    service = NarratorService(settings)
    repo = service.add_repository(source.working_tree_dir)
    run_job(settings, service.start_narration(repo.id).id)
    part = next(p for p in service.overview(repo.id).parts if p.narrative)
    service.store.put_narrative(key="test-hostile-summary", repo_id=repo.id, kind="overview", target="",
                                input_hash="x", model=service.model, adapter=service.adapter,
                                prompt_version=prompts.PROMPT_VERSION, text=HOSTILE, flags={})

    with streamlit_server(env, tmp_path / "streamlit.log") as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1600})
                dialogs: list[str] = []
                page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
                page.goto(url + "/overview", wait_until="domcontentloaded")  # "/" is the Portfolio
                page.get_by_text("What this software does").wait_for(timeout=60_000)
                page.get_by_text(part.narrative.text).first.wait_for(timeout=30_000)
                # The hostile summary is there, character for character, and inert.
                page.get_by_text(HOSTILE, exact=True).wait_for(timeout=30_000)
                page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
                main = page.locator("section.stMain, [data-testid='stMain']").first
                assert main.locator("strong", has_text=re.compile(r"^bold$")).count() == 0
                assert main.locator("img[src='x']").count() == 0
                assert dialogs == [], f"a script ran: {dialogs}"
            finally:
                browser.close()
