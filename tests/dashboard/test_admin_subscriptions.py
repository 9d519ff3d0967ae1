"""The Admin page's briefing subscriptions (``dashboard/app_pages/admin_subscriptions.py``), in Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth
from dashboard.wording import plain
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.helpers.dashboard import APP

PASSWORD = "correct horse battery staple"


@pytest.fixture
def page(tmp_path, monkeypatch) -> AppTest:
    """The Admin page, unlocked, over an empty home."""
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    monkeypatch.setenv("CODE_NARRATOR_ADMIN_PASSWORD", PASSWORD)
    for name in ("CODE_NARRATOR_DB", "CODE_NARRATOR_ADAPTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(auth, "WRONG_PASSWORD_DELAY", 0.01)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/admin.py").run()
    at.text_input(key="admin_password").input(PASSWORD)
    at.main.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _add(at: AppTest, channel: str, address: str) -> None:
    at.selectbox(key="admin_subs_channel").set_value(channel)
    at.text_input(key="admin_subs_address").input(address)
    next(b for b in at.main.form_submit_button if b.label == "Add subscription").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_subscriptions_are_added_checked_paused_and_removed_on_the_admin_page(page):
    _add(page, "slack", "http://hooks.example.com/services/T0KEN")  # plain http beyond this computer
    assert [e.value for e in page.main.error] == [plain("Refused slack webhook: plain http is only for this computer "
                                                        "(localhost); use https://.")]
    assert NarratorService(load_settings()).subscriptions() == []
    _add(page, "slack", "https://hooks.slack.com/services/T0KEN")
    service = NarratorService(load_settings())
    view, = service.subscriptions()
    assert view.channel == "slack" and view.active and view.repositories is None
    listed = [m.value for m in page.main.markdown if "#1" in m.value]
    assert listed and "T0KEN" not in " ".join(listed) and "hooks.slack.com" in listed[0]
    page.button(key=f"admin_subs_pause_{view.id}").click().run()
    assert not service.subscriptions()[0].active
    page.button(key=f"admin_subs_remove_{view.id}").click().run()
    assert service.subscriptions() == []
