"""Sign-in accounts: adding, listing, changing and removing them (admin actions), and signing in.

An account has a name, a role (``admin`` or ``viewer``), a local password (kept as a salted scrypt
hash, ``narrator.service.passwords``) and/or an e-mail that an OpenID Connect provider vouches for,
and for a viewer optionally the repositories it reads. Wrong passwords are counted per account in
``<home>/signin_attempts/`` and lock that account as wrong Admin passwords lock the Admin page (a
name that has no account is counted and locked alike, so the answers never tell which names exist).
``code-narrator accounts`` and the Admin page call these.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from db.accounts import AccountRow
from db.errors import UserError
from narrator.service.roles import Principal
from narrator.service.passwords import attempt, hash_password, matches

ATTEMPTS_FOLDER = "signin_attempts"
MIN_PASSWORD = 8
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(UserError):
    """An account that cannot be added, changed or removed as asked."""


class SignInFailed(UserError):
    """A wrong name or password (one answer for both, so names cannot be guessed)."""


def principal(row: AccountRow) -> Principal:
    return Principal(row.name, row.role, None if row.role == "admin" else row.repo_ids)


@functools.cache
def _unknown() -> dict:
    return hash_password(secrets.token_urlsafe(16))


def _stamp(row: AccountRow) -> str:
    """A digest of the account's id and password hash: it changes with a new password (a new salt)."""
    return hashlib.sha256(f"{row.id}:{(row.password or {}).get('hash', '')}".encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")


class AccountAdmin:
    """``NarratorService``'s accounts (uses ``self.store``, ``self.settings`` and ``self.repositories``)."""

    def accounts(self) -> list[AccountRow]:
        return self.store.list_accounts()

    def add_account(self, name: str, role: str, password: str | None = None, email: str | None = None,
                    repositories: Iterable[str] | None = None) -> AccountRow:
        """A new account; ``repositories`` (names, sources or ids) limits a viewer, None: every one."""
        if not NAME.fullmatch(name or ""):
            raise AccountError("An account name is 1 to 100 letters, digits or . _ @ + - (starting with a letter or digit).")
        if role not in ("admin", "viewer"):
            raise AccountError(f"Unknown role {role!r}: use admin or viewer.")
        if email is not None and not EMAIL.fullmatch(email.strip()):
            raise AccountError("That is not an e-mail address.")
        if password is None and email is None:
            raise AccountError("An account needs a password, an e-mail for the sign-in provider, or both.")
        if password is not None:
            check_password(password)
        if repositories is not None and role == "admin":
            raise AccountError("Admins read every repository: limit viewers only.")
        return self.store.add_account(name, role, hash_password(password) if password is not None else None,
                                      email.strip().lower() if email else None, self._repo_ids(repositories))

    def _repo_ids(self, repositories: Iterable[str] | None) -> list[int] | None:
        if repositories is None:
            return None
        known = self.repositories()
        ids = []
        for wanted in repositories:
            found = [r.id for r in known if wanted in (r.name, r.source, str(r.id))]
            if len(found) != 1:
                raise AccountError(f"No repository {wanted!r}" if not found else
                                   f"{wanted!r} names several repositories: give its source or id.")
            ids.append(found[0])
        return ids

    def set_account_password(self, name: str, password: str) -> AccountRow:
        check_password(password)
        return self.store.update_account(name, password=hash_password(password))

    def set_account_repositories(self, name: str, repositories: Iterable[str] | None) -> AccountRow:
        """The repositories (names, sources or ids) a viewer reads from now on; None: every one."""
        row = self.store.get_account(name)
        if row is None:
            raise AccountError(f"No account named {name!r}.")
        if repositories is not None and row.role == "admin":
            raise AccountError("Admins read every repository: limit viewers only.")
        return self.store.update_account(name, repo_ids=self._repo_ids(repositories))

    def remove_account(self, name: str) -> None:
        """Delete an account; the last admin is kept while other accounts exist (someone must manage them)."""
        rows = self.store.list_accounts()
        row = next((r for r in rows if r.name == name), None)
        if row is None:
            raise AccountError(f"No account named {name!r}.")
        if row.role == "admin" and len(rows) > 1 and sum(r.role == "admin" for r in rows) == 1:
            raise AccountError("That is the last admin: add another admin before removing it.")
        self.store.remove_account(name)

    # ---- signing in (open to everyone; ``ScopedService`` lists them as reads) --------------------

    def has_accounts(self) -> bool:
        return self.store.count_accounts() > 0

    def sign_in(self, name: str, password: str, now: float | None = None) -> Principal:
        """The account ``name`` if ``password`` is its own; else ``SignInFailed``. ``LockedOut`` while
        too many wrong passwords in a row lock that name."""
        name = (name or "").strip()
        row = self.store.get_account(name) if name else None
        # An unknown name (or an account of the provider alone) costs the same scrypt as a password
        # does, so timing does not tell names apart.
        record = row.password if row is not None and row.password else _unknown()
        folder = Path(self.settings.home) / ATTEMPTS_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        # Counted per name typed, known or not: one count shared by unknown names would lock them all
        # while a real name still said "wrong", and so tell which names exist.
        path = folder / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.json"
        if not attempt(path, lambda: (matches(password, record) and row is not None) if password else None, now,
                       what="signing in to this account"):
            raise SignInFailed("Wrong name or password.")
        return principal(row)

    def account_principal(self, name: str, stamp: str | None = None) -> Principal | None:
        """The account ``name`` as it is now (a removed one: None), re-read on every page run; with the
        ``stamp`` a session kept from signing in (``session_stamp``), None too once the account's
        password was changed or the account removed and added again: the session must sign in anew."""
        row = self.store.get_account(name)
        if row is None or (stamp is not None and not hmac.compare_digest(stamp, _stamp(row))):
            return None
        return principal(row)

    def session_stamp(self, name: str) -> str | None:
        """What a session signed in as ``name`` keeps, to notice a new password or a new account of that name."""
        row = self.store.get_account(name)
        return None if row is None else _stamp(row)

    def principal_for_email(self, email: str | None) -> Principal | None:
        """The account the sign-in provider's verified ``email`` belongs to (None: no account)."""
        row = self.store.account_by_email(email) if email and email.strip() else None
        return None if row is None else principal(row)
