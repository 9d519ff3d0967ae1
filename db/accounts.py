"""The ``accounts`` and ``account_repositories`` tables: the ``Store`` methods that add, find, change
and remove sign-in accounts, and the row they hand out (``AccountRow``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from db.errors import StoreError
from db.models import ACCOUNT_ROLES, Account, AccountRepository, Repository
from db.records import Records


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    email: str | None
    role: str
    """``admin`` or ``viewer`` (``db.models.ACCOUNT_ROLES``)."""
    password: dict | None
    """The salted scrypt record; None: signs in through the OpenID Connect provider only."""
    repo_ids: frozenset[int] | None
    """The repositories the account may read; None: every one."""
    created_at: datetime


class AccountRecords(Records):
    """Store methods for accounts."""

    def _account_row(self, s, account: Account) -> AccountRow:
        repo_ids = None
        if not account.every_repository:
            repo_ids = frozenset(s.scalars(select(AccountRepository.repo_id)
                                           .where(AccountRepository.account_id == account.id)))
        return AccountRow(account.id, account.name, account.email, account.role, account.password, repo_ids,
                          account.created_at)

    def add_account(self, name: str, role: str, password: dict | None = None, email: str | None = None,
                    repo_ids: Iterable[int] | None = None) -> AccountRow:
        """A new account; ``repo_ids`` None reads every repository. A taken name or e-mail is a ``StoreError``."""
        if role not in ACCOUNT_ROLES:
            raise ValueError(f"Unknown role {role!r}")
        try:
            with self.session(write=True) as s:
                account = Account(name=name, role=role, password=password, email=email,
                                  every_repository=repo_ids is None)
                s.add(account)
                s.flush()
                self._set_repos(s, account.id, repo_ids)
                return self._account_row(s, account)
        except IntegrityError:
            raise StoreError(f"An account named {name!r} or with that e-mail already exists.") from None

    def _set_repos(self, s, account_id: int, repo_ids: Iterable[int] | None) -> None:
        s.execute(delete(AccountRepository).where(AccountRepository.account_id == account_id))
        wanted = sorted(set(repo_ids or ()))
        known = set(s.scalars(select(Repository.id).where(Repository.id.in_(wanted)))) if wanted else set()
        missing = [i for i in wanted if i not in known]
        if missing:
            raise StoreError(f"No repository with id {missing[0]}.")
        s.add_all(AccountRepository(account_id=account_id, repo_id=i) for i in wanted)

    def get_account(self, name: str) -> AccountRow | None:
        with self.session() as s:
            account = s.scalars(select(Account).where(Account.name == name)).first()
            return None if account is None else self._account_row(s, account)

    def account_by_email(self, email: str) -> AccountRow | None:
        """The account of ``email`` (compared lower-case, as stored)."""
        with self.session() as s:
            account = s.scalars(select(Account).where(Account.email == email.strip().lower())).first()
            return None if account is None else self._account_row(s, account)

    def list_accounts(self) -> list[AccountRow]:
        with self.session() as s:
            return [self._account_row(s, a) for a in s.scalars(select(Account).order_by(Account.name))]

    def count_accounts(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(Account)) or 0

    def update_account(self, name: str, *, password: dict | None = None, role: str | None = None,
                       repo_ids: Iterable[int] | None | bool = False) -> AccountRow:
        """Change an account's password, role or repositories (``repo_ids`` False: unchanged; None: every one)."""
        if role is not None and role not in ACCOUNT_ROLES:
            raise ValueError(f"Unknown role {role!r}")
        with self.session(write=True) as s:
            account = s.scalars(select(Account).where(Account.name == name)).first()
            if account is None:
                raise StoreError(f"No account named {name!r}.")
            if password is not None:
                account.password = password
            if role is not None:
                account.role = role
            if repo_ids is not False:
                account.every_repository = repo_ids is None
                self._set_repos(s, account.id, repo_ids)
            s.flush()
            return self._account_row(s, account)

    def remove_account(self, name: str) -> bool:
        """Delete an account (its repository rows go with it); whether there was one."""
        with self.session(write=True) as s:
            account = s.scalars(select(Account).where(Account.name == name)).first()
            if account is None:
                return False
            s.execute(delete(AccountRepository).where(AccountRepository.account_id == account.id))
            s.delete(account)
            return True
