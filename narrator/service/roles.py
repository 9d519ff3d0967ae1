"""Who may see and do what: the signed-in person (``Principal``), and the one guard every admin action
passes (``require_admin``), whoever calls it (``narrator.service.access.ScopedService``, the Admin page).

Two roles. Viewers read briefings, of every repository or of a set of them; admins also add and
remove repositories, narrate, train and manage accounts. The command line is the machine's operator
(``OPERATOR``, an admin); so is everyone on a dashboard bound to this computer with no accounts
(as before sign-in existed; the Admin page keeps its password).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from db.errors import UserError

Role = Literal["admin", "viewer"]


class NotAllowed(UserError):
    """The signed-in person may not do this, or this source may not be added here."""


@dataclass(frozen=True)
class Principal:
    """Whoever is asking: an account's name, its role, and the repositories it reads (None: every one)."""

    name: str
    role: Role
    repo_ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.role not in ("admin", "viewer"):
            raise ValueError(f"Unknown role {self.role!r}")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_read(self, repo_id: int) -> bool:
        return self.is_admin or self.repo_ids is None or repo_id in self.repo_ids


OPERATOR = Principal("operator", "admin")
"""The command line, and a dashboard on this computer with no accounts."""


def require_admin(who: Principal, action: str) -> None:
    """The one guard of every admin action (adding, removing, narrating, training, accounts): refuses a viewer."""
    if not who.is_admin:
        raise NotAllowed(f"{action} is for admins; {who.name} may read briefings only.")


def require_readable(who: Principal, repo_id: int) -> None:
    if not who.may_read(repo_id):
        raise NotAllowed(f"No repository with id {repo_id} for {who.name}.")  # the same as one that does not exist
