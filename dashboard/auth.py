"""The admin password: only a salted scrypt hash of it is kept, in ``<home>/admin.json``.

Where the password comes from:

- ``CODE_NARRATOR_ADMIN_PASSWORD``: the admin's choice. The dashboard hashes it when it starts
  (and again whenever the variable changes); the variable's value is never written anywhere.
- otherwise, on the very first start, one is made up and printed once on the console:
  ``scripts/launch.sh`` does it before the server starts (``announce_password``), so it shows next to
  the dashboard's address and in the launch log (``<home>/logs/launch.log``, readable by its owner
  only); a dashboard started some other way does it on its first page view (the standard output of
  the ``streamlit`` process). Later starts find the hash and print nothing; to get a new password,
  set the variable, or delete ``admin.json`` and restart. The password itself is never stored.

Managers reading the dashboard never see it; the Admin page asks for it before showing anything.

Guessing is limited for the whole home, not per browser session: wrong passwords are counted in
``<home>/admin_attempts.json`` and lock the page after ``MAX_FAILURES`` in a row (the rule and the
salted scrypt hash are ``narrator.service.passwords``', shared with the sign-in accounts); the right
password resets it all. Deleting the file lifts a lock.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import streamlit as st

from db.files import write_atomic
from narrator.service.passwords import (  # noqa: F401  (the Admin page and its tests read them here)
    LOCK_SECONDS,
    MAX_FAILURES,
    MAX_LOCK_SECONDS,
    WRONG_PASSWORD_DELAY,
    LockedOut,
    attempt,
    hash_password,
    matches,
)

ENV = "CODE_NARRATOR_ADMIN_PASSWORD"
FILE = "admin.json"
UNLOCKED_KEY = "admin_unlocked"
"""Session-state flag: this browser session entered the right password."""

ATTEMPTS_FILE = "admin_attempts.json"


def password_file(home: Path) -> Path:
    return Path(home) / FILE


def _read(home: Path) -> dict | None:
    try:
        return json.loads(password_file(home).read_text())
    except (OSError, ValueError):
        return None


def _write(home: Path, record: dict, exclusive: bool) -> bool:
    """Write ``record`` readable by its owner only; with ``exclusive``, only if no file exists yet.

    The file appears whole or not at all (a temporary file linked or renamed into place), and an
    exclusive write loses cleanly to another process that got there first (returns False).
    """
    target = password_file(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Not replacing fails if the file exists: two first starts make one password.
        write_atomic(target, json.dumps(record), permissions=0o600, replace=not exclusive)
    except FileExistsError:
        return False
    return True


def ensure_password(home: Path, given: str | None = None) -> str | None:
    """Make sure ``<home>/admin.json`` holds a password hash; return a newly made-up password.

    ``given`` (the environment variable's value) replaces a stored hash that does not match it.
    With neither ``given`` nor a file, a random password is made up, stored as a hash, and
    returned, once; every later call returns None.
    """
    record = _read(home)
    if given:
        if record is None or not matches(given, record):
            _write(home, hash_password(given), exclusive=False)
        return None
    if record is not None:
        return None
    password = secrets.token_urlsafe(12)
    return password if _write(home, hash_password(password), exclusive=True) else None


def attempts_file(home: Path) -> Path:
    return Path(home) / ATTEMPTS_FILE


def check(home: Path, password: str, now: float | None = None) -> bool:
    """Whether ``password`` is the admin password of ``home``; a wrong one is counted.

    Raises ``LockedOut`` while ``home`` is locked by too many wrong passwords, whatever
    ``password`` is. ``now`` (a Unix time) is for tests.
    """
    return attempt(attempts_file(home), lambda: matches(password, _read(home)) if password else None, now)


def announce_password(home: Path, given: str | None) -> None:
    """``ensure_password``, printing a newly made-up password on standard output (its only showing)."""
    made_up = ensure_password(Path(home), given)
    if made_up:
        # The one place it is ever shown: the console of whoever started the dashboard.
        print(f"Code Narrator admin password (shown only this once; set {ENV} to choose your own): {made_up}",
              flush=True)


@st.cache_resource(show_spinner=False)
def _prepared(home: str, given: str | None) -> bool:
    announce_password(Path(home), given)
    return True


def prepare_password(home: Path) -> None:
    """At start-up: hash the environment's admin password, or make one up and print it once.

    Runs once per dashboard process (and home); later reruns only look up the cache.
    """
    _prepared(str(home), os.environ.get(ENV) or None)


def unlocked() -> bool:
    """Whether this browser session entered the admin password."""
    return bool(st.session_state.get(UNLOCKED_KEY))
