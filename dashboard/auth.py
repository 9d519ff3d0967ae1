"""The admin password: only a salted scrypt hash of it is kept, in ``<home>/admin.json``.

Where the password comes from:

- ``CODE_NARRATOR_ADMIN_PASSWORD``: the admin's choice. The dashboard hashes it when it starts
  (and again whenever the variable changes); the variable's value is never written anywhere.
- otherwise, on the very first start, the dashboard makes one up and prints it once on its own
  console (the standard output of the ``streamlit`` process). Later starts find the hash and print
  nothing; to get a new password, set the variable, or delete ``admin.json`` and restart.

Managers reading the dashboard never see it; the Admin page asks for it before showing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

import streamlit as st

ENV = "CODE_NARRATOR_ADMIN_PASSWORD"
FILE = "admin.json"
UNLOCKED_KEY = "admin_unlocked"
"""Session-state flag: this browser session entered the right password."""

WRONG_PASSWORD_DELAY = 1.0
"""Seconds a wrong password waits before its answer, so guessing is slow."""

# scrypt cost: 16 MiB and ~50 ms per check; n, r, p are stored with each hash so they can change.
_N, _R, _P = 2**14, 8, 1


def password_file(home: Path) -> Path:
    return Path(home) / FILE


def hash_password(password: str, salt: bytes | None = None) -> dict:
    """A record of ``password``: random salt, scrypt parameters and the derived key (hex)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return {"scheme": "scrypt", "n": _N, "r": _R, "p": _P, "salt": salt.hex(), "hash": key.hex()}


def matches(password: str, record: dict) -> bool:
    """Whether ``password`` is the one ``record`` was made from (a constant-time comparison)."""
    if record.get("scheme") != "scrypt":
        return False
    key = hashlib.scrypt(password.encode(), salt=bytes.fromhex(record["salt"]), n=int(record["n"]),
                         r=int(record["r"]), p=int(record["p"]), dklen=len(record["hash"]) // 2)
    return hmac.compare_digest(key.hex(), record["hash"])


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
    temporary = target.with_name(f".{FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(record, handle)
    try:
        if not exclusive:
            temporary.replace(target)
            return True
        try:
            os.link(temporary, target)  # fails if the file exists: two first starts make one password
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


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


def check(home: Path, password: str) -> bool:
    """Whether ``password`` is the admin password of ``home``."""
    record = _read(home)
    return bool(password) and record is not None and matches(password, record)


@st.cache_resource(show_spinner=False)
def _prepared(home: str, given: str | None) -> bool:
    made_up = ensure_password(Path(home), given)
    if made_up:
        # The one place it is ever shown: the console of whoever started the dashboard.
        print(f"Code Narrator admin password (shown only this once; set {ENV} to choose your own): {made_up}",
              flush=True)
    return True


def prepare_password(home: Path) -> None:
    """At start-up: hash the environment's admin password, or make one up and print it once.

    Runs once per dashboard process (and home); later reruns only look up the cache.
    """
    _prepared(str(home), os.environ.get(ENV) or None)


def unlocked() -> bool:
    """Whether this browser session entered the admin password."""
    return bool(st.session_state.get(UNLOCKED_KEY))
