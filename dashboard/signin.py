"""Signing in to the dashboard, before any page shows anything.

Sign-in is required when the dashboard is bound beyond this computer (Streamlit's ``server.address``
is not ``localhost``, ``127.0.0.1`` or ``::1``; unset means every address), when accounts exist, or
when Streamlit's secrets configure an OpenID Connect provider (an ``[auth]`` section,
``oidc_configured``). With a provider, ``st.login`` signs the person in and the e-mail it vouches
for is mapped to an account (``NarratorService.principal_for_email``; an address the provider marks
unverified, ``email_verified`` false, maps to none); without one, a name and a
password are checked against the local accounts (salted hashes; wrong ones lock the account as wrong
Admin passwords lock the Admin page). Otherwise (this computer, no accounts) everyone is the
operator, as before, and the Admin page keeps its own password.

The account is read again on every page run, so a removed account or a changed role counts at once,
and a changed password signs out every session signed in with the old one.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping

import streamlit as st

from dashboard.wording import plain
from db.errors import UserError
from narrator.service.core import NarratorService
from narrator.service.passwords import WRONG_PASSWORD_DELAY
from narrator.service.roles import OPERATOR, NotAllowed, Principal, require_admin

NAME_KEY = "signin_name"
"""Session key: the name of the account signed in with a password."""
STAMP_KEY = "signin_stamp"
"""Session key: the account's ``session_stamp`` at sign-in; a new password (or a new account of that
name) no longer matches it, and the session is signed out."""
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def is_loopback(address: str | None) -> bool:
    """Whether a server bound to ``address`` is reachable from this computer only (unset: every address)."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def exposed() -> bool:
    """Whether this dashboard's server listens beyond this computer."""
    return not is_loopback(st.get_option("server.address"))


def oidc_configured(secrets: Mapping) -> bool:
    """Whether ``secrets`` (Streamlit's ``st.secrets``) configure ``st.login``: an ``[auth]`` section with
    ``redirect_uri`` and ``cookie_secret``, and a provider's ``client_id``, ``client_secret`` and
    ``server_metadata_url`` in it or in one named sub-section (``[auth.NAME]``)."""
    try:
        auth = secrets.get("auth") if "auth" in secrets else None
    except Exception:  # noqa: BLE001  (no secrets file, or one Streamlit cannot parse: nothing configured)
        return False
    if not isinstance(auth, Mapping) or not all(auth.get(k) for k in ("redirect_uri", "cookie_secret")):
        return False
    providers = [auth, *(v for v in auth.values() if isinstance(v, Mapping))]
    return any(all(p.get(k) for k in PROVIDER_KEYS) for p in providers)


def provider_name(secrets: Mapping) -> str | None:
    """The ``[auth.NAME]`` provider ``st.login`` is given, or None for the one in ``[auth]`` itself."""
    auth = secrets["auth"]
    if all(auth.get(k) for k in PROVIDER_KEYS):
        return None
    return next(name for name, v in auth.items() if isinstance(v, Mapping) and all(v.get(k) for k in PROVIDER_KEYS))


def _sign_in(svc: NarratorService) -> None:
    """Form callback: check the typed name and password; never keep the password in the session."""
    name = (st.session_state.get("signin_form_name") or "").strip()
    try:
        svc.sign_in(name, st.session_state.get("signin_form_password") or "")
    except UserError as refused:
        if "locked" not in str(refused):
            time.sleep(WRONG_PASSWORD_DELAY)
        st.session_state["signin_wrong"] = str(refused)
    else:
        st.session_state[NAME_KEY] = name
        st.session_state[STAMP_KEY] = svc.session_stamp(name)
    st.session_state["signin_form_password"] = ""


def sign_out() -> None:
    st.session_state.pop(NAME_KEY, None)
    st.session_state.pop(STAMP_KEY, None)


def require_sign_in(svc: NarratorService, keep_page: Callable[[], object] = lambda: None) -> tuple[Principal, bool]:
    """Who this browser session is, and whether sign-in is in force; draws the sign-in box and stops
    the page while nobody is signed in. ``keep_page`` is called first then (the entry point's hidden
    ``st.navigation``), so the page in the address is the one shown once signed in."""
    oidc = oidc_configured(st.secrets)
    is_exposed = exposed()
    if not oidc and not is_exposed and not svc.has_accounts():
        return OPERATOR, False
    if oidc:
        if not st.user.get("is_logged_in"):
            keep_page()
            st.title("Code Narrator")
            st.button("Sign in", type="primary", on_click=st.login, args=(provider_name(st.secrets),) if
                      provider_name(st.secrets) else ())
            st.stop()
        email = st.user.get("email")
        # An address the provider says it has not verified is anyone's to type: it maps to no account.
        who = svc.principal_for_email(email) if st.user.get("email_verified") is not False else None
        if who is None:
            st.error(plain(f"No account for {email or 'this sign-in'}"
                           + (" (the sign-in provider has not verified that address)"
                              if email and st.user.get("email_verified") is False else "")
                           + ": ask an admin to add one (code-narrator accounts add NAME --email ADDRESS)."))
            st.button("Sign out", on_click=st.logout)
            st.stop()
        return who, True
    who = (svc.account_principal(st.session_state[NAME_KEY], st.session_state.get(STAMP_KEY) or "")
           if st.session_state.get(NAME_KEY) else None)
    if who is not None:
        return who, True
    keep_page()
    st.title("Code Narrator")
    if not svc.has_accounts():
        st.error("This dashboard is reachable beyond this computer and has no accounts yet. On the server, "
                 "create the first admin: code-narrator accounts add NAME --role admin")
        st.stop()
    with st.form("signin_form"):
        st.text_input("Name", key="signin_form_name")
        st.text_input("Password", type="password", key="signin_form_password")
        st.form_submit_button("Sign in", on_click=_sign_in, args=(svc,))
    wrong = st.session_state.pop("signin_wrong", None)
    if wrong:
        st.error(wrong)
    st.stop()


def signed_in_box(who: Principal) -> None:
    """The sidebar's line saying who is signed in, with a sign-out button."""
    st.caption(f"Signed in as {who.name} ({who.role})")
    st.button("Sign out", key="signin_out", on_click=st.logout if st.user.get("is_logged_in") else sign_out)


def admin_gate(who: Principal) -> bool:
    """Whether sign-in decides who sees the Admin page (then a viewer gets an error box and the page
    stops); False when sign-in is off and the Admin password still guards it."""
    if who == OPERATOR:
        return False
    try:
        require_admin(who, "The Admin page")
    except NotAllowed as refused:
        st.error(str(refused))
        st.stop()
    return True
