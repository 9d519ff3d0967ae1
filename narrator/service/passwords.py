"""Passwords, wherever one is asked for: salted scrypt hashes, and the lock after wrong guesses.

The Admin page's password (``dashboard.auth``) and the sign-in accounts (``narrator.service.accounts``)
share both. Only a hash is ever kept: a random salt, the scrypt parameters and the derived key
(``hash_password``), checked in constant time (``matches``).

Guessing is limited per lock file, not per browser session (``attempt``): wrong passwords are
counted in a small JSON file, read and written under an exclusive lock (``db.locks``) so parallel
sessions and dashboard processes share one count. After ``MAX_FAILURES`` wrong ones in a row every
guess, even the right one, is refused for ``LOCK_SECONDS`` (doubling with each further lock, up to
``MAX_LOCK_SECONDS``); the right password resets it all. Deleting the file lifts a lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from db.errors import UserError
from db.files import write_atomic
from db.locks import file_lock

WRONG_PASSWORD_DELAY = 1.0
"""Seconds a wrong password waits before its answer, so guessing is slow."""

MAX_FAILURES = 10
"""Wrong passwords in a row that lock, however far apart: a count that expired with time would let
bursts of nine, one window apart, guess for ever without a lock."""
LOCK_SECONDS = 60.0
"""How long the first lock lasts; each further lock before a right password lasts twice as long."""
MAX_LOCK_SECONDS = 3600.0

# scrypt cost: 16 MiB and ~50 ms per check; n, r, p are stored with each hash so they can change.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> dict:
    """A record of ``password``: random salt, scrypt parameters and the derived key (hex)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return {"scheme": "scrypt", "n": _N, "r": _R, "p": _P, "salt": salt.hex(), "hash": key.hex()}


def matches(password: str, record: dict | None) -> bool:
    """Whether ``password`` is the one ``record`` was made from (a constant-time comparison)."""
    if not isinstance(record, dict) or record.get("scheme") != "scrypt":
        return False
    key = hashlib.scrypt(password.encode(), salt=bytes.fromhex(record["salt"]), n=int(record["n"]),
                         r=int(record["r"]), p=int(record["p"]), dklen=len(record["hash"]) // 2)
    return hmac.compare_digest(key.hex(), record["hash"])


class LockedOut(UserError):
    """Too many wrong passwords: every guess is refused until ``until`` (a Unix time)."""

    def __init__(self, until: float, now: float, what: str = "the Admin page") -> None:
        self.until = until
        wait = max(1, math.ceil(until - now))
        after = f"{wait} s" if wait < 120 else f"{math.ceil(wait / 60)} min"
        super().__init__(f"Too many wrong passwords: {what} is locked. Try again in {after} "
                         f"(after {time.strftime('%H:%M:%S', time.localtime(until))}).")


def _number(state: dict, key: str) -> float:
    value = state.get(key, 0)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0.0


@contextmanager
def _attempts(path: Path) -> Iterator[dict]:
    """The failure record at ``path`` (a dict to change in place), held under an exclusive lock.

    Every process and thread waits on the lock file beside the record for the one before to finish
    its check; the record itself is replaced whole, so a crash mid-write never loses the count.
    """
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


def attempt(path: Path, right: Callable[[], bool | None], now: float | None = None,
            what: str = "the Admin page") -> bool:
    """One guess counted in the failure record ``path``: whether ``right()`` says it is the password
    (None: no guess at all, e.g. an empty field, which is not counted).

    Raises ``LockedOut`` (naming ``what``) while the record is locked by too many wrong passwords,
    without asking ``right``. ``now`` (a Unix time) is for tests. The whole check runs under the
    record's lock, so guesses made in parallel are counted one after another and none slips past a lock.
    """
    now = time.time() if now is None else now
    with _attempts(Path(path)) as state:
        # A clock set back must not leave a lock that never ends.
        until = min(_number(state, "locked_until"), now + MAX_LOCK_SECONDS)
        if until > now:
            state["locked_until"] = until
            raise LockedOut(until, now, what)
        verdict = right()
        if verdict is None:
            return False
        if verdict:
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
