"""The Admin page's Repositories section (remove, after a confirmation step) and Accounts section (change
what a viewer reads), and a viewer's pages without admin controls (Streamlit's AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import shared
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.service.access import ScopedService
from narrator.service.core import NarratorService
from tests.conftest import make_sample_repo
from tests.helpers.dashboard import APP, no_worker, shown, sign_in

PASSWORD = "correct horse"


@pytest.fixture
def service(settings, tmp_path, monkeypatch) -> NarratorService:
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    svc = NarratorService(settings)
    for name in ("shop", "till"):
        repo = svc.add_repository(make_sample_repo(tmp_path / name).working_tree_dir)
        run_job(settings, svc.start_narration(repo.id, commits=2).id)
    svc.add_account("ada", "admin", PASSWORD)
    svc.add_account("vera", "viewer", PASSWORD, repositories=["shop"])
    return svc


def admin_page(name: str) -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), name, PASSWORD)
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_removing_a_repository_on_the_admin_page_asks_first(service):
    shop = next(r for r in service.repositories() if r.name == "shop")
    at = admin_page("ada")
    at.button(key=f"repos_remove_{shop.id}").click().run()
    assert any("Remove shop and everything narrated of it?" in w.value for w in at.warning)
    assert shop.id in [r.id for r in service.repositories()]  # asked, not removed
    at.button(key="repos_confirm_no").click().run()
    assert not at.warning and shop.id in [r.id for r in service.repositories()]
    at.button(key=f"repos_remove_{shop.id}").click().run()
    at.button(key="repos_confirm_yes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.startswith("Removed shop (") and "left the folder" in t for t in shown(at))
    assert [r.name for r in service.repositories()] == ["till"]
    assert Path(shop.source, ".git").is_dir()
    assert at.selectbox(key=shared.REPO_KEY).options == ["till"]


def test_changing_what_a_viewer_reads_on_the_admin_page(service):
    till = next(r for r in service.repositories() if r.name == "till")
    at = admin_page("ada")
    at.selectbox(key="accounts_repos_name").select("vera")
    at.multiselect(key="accounts_repos_ids").select(till.id)
    next(b for b in at.button if b.label == "Change what the viewer reads").click().run()
    assert "Changed what vera reads." in shown(at)
    assert [r.name for r in ScopedService(service, service.account_principal("vera")).repositories()] == ["till"]


def test_a_viewer_is_given_every_repository_only_when_ticked_never_by_choosing_none(service):
    at = admin_page("ada")
    at.selectbox(key="accounts_repos_name").select("vera")  # and nothing chosen: a slip, not "every one"
    next(b for b in at.button if b.label == "Change what the viewer reads").click().run()
    assert "Choose the repositories the viewer reads, or tick Every repository." in shown(at)
    assert [r.name for r in ScopedService(service, service.account_principal("vera")).repositories()] == ["shop"]
    at.text_input(key="accounts_add_name").input("victor")
    at.text_input(key="accounts_add_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Add the account").click().run()
    assert "Choose the repositories the viewer reads, or tick Every repository." in shown(at)
    assert service.account_principal("victor") is None
    at.checkbox(key="accounts_repos_ids_all").check()
    next(b for b in at.button if b.label == "Change what the viewer reads").click().run()
    assert service.account_principal("vera").repo_ids is None


def test_a_viewer_is_shown_no_control_to_add_or_narrate(service):
    for name, admin in (("ada", True), ("vera", False)):
        at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), name, PASSWORD)
        assert any(t.key == "app_add_source" for t in at.text_input) is admin
        at.switch_page("app_pages/overview.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any(b.key == "overview_narrate" for b in at.button) is admin
