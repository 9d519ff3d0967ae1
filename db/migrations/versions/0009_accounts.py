"""Sign-in accounts and roles (issue 20): who may read a shared dashboard, and who may change it.

``accounts``: one person, by ``name`` (what they type to sign in, unique) and, for sign-in through an
OpenID Connect provider, ``email`` (unique, lower-case; the provider's e-mail is mapped to the
account); ``role`` ``admin`` or ``viewer``; ``password`` the salted scrypt record of a local password
(JSON; NULL for an account that signs in only through the provider); ``every_repository`` whether a
viewer reads every repository, else only those listed in ``account_repositories``.

``account_repositories``: the repositories a limited viewer may read; a row goes with its account or
its repository (ON DELETE CASCADE).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password", sa.JSON(), nullable=True),
        sa.Column("every_repository", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
        sa.UniqueConstraint("email", name="uq_accounts_email"),
    )
    op.create_table(
        "account_repositories",
        sa.Column("account_id", sa.Integer(),
                  sa.ForeignKey("accounts.id", name="fk_account_repositories_account_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("repo_id", sa.Integer(),
                  sa.ForeignKey("repositories.id", name="fk_account_repositories_repo_id", ondelete="CASCADE"),
                  primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("account_repositories")
    op.drop_table("accounts")
