"""Provenance: a commit's headline and its facts from people's words; a narrative's source.

``commits.headline`` is the developer's own subject (conventional prefix removed; a merge's pull
request title), ``commits.details`` the facts read from the message and the diff (conventional type
and scope, references, advisory ids, version, tags, release notes, whether the subject is
informative). ``narratives.source`` says whose words a narrative is: the model's (checked), a
docstring, a README, package metadata, the developer's message or git facts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("commits") as batch:
        batch.add_column(sa.Column("headline", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("narratives") as batch:
        batch.add_column(sa.Column("source", sa.String(40), nullable=False, server_default="model"))


def downgrade() -> None:
    with op.batch_alter_table("narratives") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("commits") as batch:
        batch.drop_column("details")
        batch.drop_column("headline")
