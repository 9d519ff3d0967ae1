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
``<home>/admin_attempts.json``, read and written under an exclusive lock (``db.locks``) so
parallel sessions and dashboard processes share one count. After ``MAX_FAILURES`` wrong ones in a
row every guess, even the right one, is refused for ``LOCK_SECONDS`` (doubling with each further
lock, up to ``MAX_LOCK_SECONDS``); the right password resets it all. Deleting the file lifts a lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from db.errors import UserError
from db.files import write_atomic
from db.locks import file_lock

ENV = "CODE_NARRATOR_ADMIN_PASSWORD"
FILE = "admin.json"
UNLOCKED_KEY = "admin_unlocked"
"""Session-state flag: this browser session entered the right password."""

WRONG_PASSWORD_DELAY = 1.0
"""Seconds a wrong password waits before its answer, so guessing is slow."""

ATTEMPTS_FILE = "admin_attempts.json"
MAX_FAILURES = 10
"""Wrong passwords in a row that lock the Admin page, however far apart: a count that expired with time
would let bursts of nine, one window apart, guess for ever without a lock."""
LOCK_SECONDS = 60.0
"""How long the first lock lasts; each further lock before a right password lasts twice as long."""
MAX_LOCK_SECONDS = 3600.0

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


class LockedOut(UserError):
    """Too many wrong passwords: every guess is refused until ``until`` (a Unix time)."""

    def __init__(self, until: float, now: float) -> None:
        self.until = until
        wait = max(1, math.ceil(until - now))
        after = f"{wait} s" if wait < 120 else f"{math.ceil(wait / 60)} min"
        super().__init__(f"Too many wrong passwords: the Admin page is locked. Try again in {after} "
                         f"(after {time.strftime('%H:%M:%S', time.localtime(until))}).")


def attempts_file(home: Path) -> Path:
    return Path(home) / ATTEMPTS_FILE


def _number(state: dict, key: str) -> float:
    value = state.get(key, 0)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0.0


@contextmanager
def _attempts(home: Path) -> Iterator[dict]:
    """The failure record of ``home`` (a dict to change in place), held under an exclusive lock.

    Every process and thread waits on the lock file beside the record for the one before to finish
    its check; the record itself is replaced whole, so a crash mid-write never loses the count.
    """
    path = attempts_file(home)
    with file_lock(path.with_name(path.name + ".lock")):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            state = {}
        state = state if isinstance(state, dict) else {}
        before = dict(state)
        try:
            yield state
        finally:  # LockedOut too: what was changed before it is kept
            if state != before:
                write_atomic(path, json.dumps(state), permissions=0o600)


def check(home: Path, password: str, now: float | None = None) -> bool:
    """Whether ``password`` is the admin password of ``home``; a wrong one is counted.

    Raises ``LockedOut`` while ``home`` is locked by too many wrong passwords, whatever
    ``password`` is. ``now`` (a Unix time) is for tests. The whole check runs under the record's
    lock, so guesses made in parallel are counted one after another and none slips past a lock.
    """
    now = time.time() if now is None else now
    with _attempts(home) as state:
        # A clock set back must not leave a lock that never ends.
        until = min(_number(state, "locked_until"), now + MAX_LOCK_SECONDS)
        if until > now:
            state["locked_until"] = until
            raise LockedOut(until, now)
        if not password:
            return False
        record = _read(home)
        if record is not None and matches(password, record):
            state.clear()
            return True
        failures = int(_number(state, "failures")) + 1
        if failures >= MAX_FAILURES:
            locks = min(int(_number(state, "locks")), 16)
            state.update(failures=0, locks=locks + 1,
                         locked_until=now + min(LOCK_SECONDS * 2**locks, MAX_LOCK_SECONDS))
        else:
            state["failures"] = failures
        return False


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
