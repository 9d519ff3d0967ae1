"""Signing in to the dashboard (Streamlit's AppTest): nothing shown before sign-in when it is bound
beyond this computer or accounts exist, a viewer refused every admin action with an error box and
shown only their repositories, and the OpenID Connect configuration detected from Streamlit's secrets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from dashboard import shared, signin
from narrator.pipeline import jobs
from narrator.service.core import NarratorService
from tests.conftest import make_sample_repo
from tests.helpers.dashboard import APP, no_worker, shown, sign_in

PASSWORD = "correct horse"
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
        "client_id": "narrator", "client_secret": "secret", "server_metadata_url":
            "https://id.example.org/.well-known/openid-configuration"}


@contextmanager
def bound_to(address: str | None) -> Iterator[None]:
    """Streamlit's ``server.address`` for the test (the project's config says localhost)."""
    before = config.get_option("server.address")
    config.set_option("server.address", address)
    try:
        yield
    finally:
        config.set_option("server.address", before)


@pytest.fixture
def service(settings, tmp_path, monkeypatch) -> NarratorService:
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    svc = NarratorService(settings)
    for name in ("shop", "till"):
        svc.add_repository(make_sample_repo(tmp_path / name).working_tree_dir)
    return svc


def test_loopback_addresses_are_this_computer_and_anything_else_is_shared():
    assert all(signin.is_loopback(a) for a in ("localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"))
    assert not any(signin.is_loopback(a) for a in ("0.0.0.0", "::", "", None, "192.168.1.5", "example.org"))


def test_bound_beyond_localhost_with_no_accounts_nothing_is_shown(service):
    with bound_to("0.0.0.0"):
        at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("no accounts yet" in text and "code-narrator accounts add NAME --role admin" in text for text in shown(at))
    assert not at.selectbox and not any("shop" in text for text in shown(at))


def test_bound_beyond_localhost_a_wrong_password_shows_nothing_and_a_viewer_sees_only_theirs(service):
    service.add_account("vera", "viewer", PASSWORD, repositories=["till"])
    with bound_to("0.0.0.0"):
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert [t.label for t in at.text_input] == ["Name", "Password"] and not at.selectbox
        at = sign_in(at, "vera", "not the password")
        assert "Wrong name or password." in shown(at) and not at.selectbox
        at = sign_in(at, "vera", PASSWORD)
        assert not at.exception, [e.value for e in at.exception]
        assert at.selectbox(key=shared.REPO_KEY).options == ["till"]
        assert any("Signed in as vera (viewer)" in text for text in shown(at))
        assert not any(t.key == "app_add_source" for t in at.text_input)  # no form to add (the guard: test_access)
        at.switch_page("app_pages/admin.py").run()
        assert any("The Admin page is for admins" in text for text in shown(at))
        assert not any(e.label == "Train" for e in at.button)


def test_on_this_computer_accounts_require_sign_in_and_an_admin_skips_the_admin_password(service):
    service.add_account("ada", "admin", PASSWORD)
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "ada", PASSWORD)
    assert at.selectbox(key=shared.REPO_KEY).options == ["shop", "till"]
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Accounts" in [h.value for h in at.subheader]
    assert not any(t.label == "Admin password" for t in at.text_input)


def test_on_this_computer_without_accounts_the_dashboard_is_as_before(service):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and at.selectbox(key=shared.REPO_KEY).options
    at.switch_page("app_pages/admin.py").run()
    assert any(t.label == "Admin password" for t in at.text_input)


def test_an_auth_section_in_the_secrets_is_detected_and_asks_the_provider(service):
    assert signin.oidc_configured({"auth": OIDC})
    assert signin.oidc_configured({"auth": {k: OIDC[k] for k in ("redirect_uri", "cookie_secret")} | {"google": OIDC}})
    assert signin.provider_name({"auth": {k: OIDC[k] for k in ("redirect_uri", "cookie_secret")} | {"google": OIDC}}) == "google"
    assert not signin.oidc_configured({})
    assert not signin.oidc_configured({"auth": {"redirect_uri": OIDC["redirect_uri"]}})
    assert not signin.oidc_configured({"auth": {k: v for k, v in OIDC.items() if k != "client_secret"}})
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = OIDC
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.button] == ["Sign in"] and not at.selectbox  # st.login's provider is not reachable here


def test_a_new_password_or_a_new_account_of_the_same_name_signs_the_session_out(service):
    service.add_account("vera", "viewer", PASSWORD, repositories=["till"])
    with bound_to("0.0.0.0"):
        at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "vera", PASSWORD)
        assert at.selectbox(key=shared.REPO_KEY).options == ["till"]
        service.set_account_repositories("vera", ["shop"])  # a changed set counts at once, signed in still
        at.run()
        assert at.selectbox(key=shared.REPO_KEY).options == ["shop"]
        service.set_account_password("vera", "a new password")  # e.g. the old one leaked
        at.run()
        assert [t.label for t in at.text_input] == ["Name", "Password"] and not at.selectbox
        at = sign_in(at, "vera", "a new password")
        assert at.selectbox(key=shared.REPO_KEY).options == ["shop"]
        service.remove_account("vera")  # and someone else is given the name
        service.add_account("vera", "admin", "another person's")
        at.run()
        assert [t.label for t in at.text_input] == ["Name", "Password"] and not at.selectbox


def test_the_providers_address_maps_to_its_account_unless_the_provider_says_it_is_unverified(service):
    service.add_account("ada", "admin", email="ada@example.org")
    for verified, admitted in ((True, True), (None, True), (False, False)):
        at = AppTest.from_file(APP, default_timeout=60)
        at.secrets["auth"] = OIDC
        at.user = {"is_logged_in": True, "email": "ada@example.org"} | (
            {} if verified is None else {"email_verified": verified})
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert bool(at.selectbox) == admitted
        assert any("Signed in as ada (admin)" in text for text in shown(at)) == admitted
        assert any("has not verified that address" in text for text in shown(at)) == (not admitted)
