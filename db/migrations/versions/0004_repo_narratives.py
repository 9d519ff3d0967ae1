"""Narratives belong to their repository: the cache key is unique per repository, not globally;
a repository records whether it was read as a shallow clone.

Before, ``narratives.key`` was unique across the database. A second repository whose prompt was
identical to one already cached (a copy, a bare clone, two projects with the same "init" commit)
stored nothing and showed "not narrated yet" for good. Now each repository has its own rows; the
model's answer is still reused across repositories by copying the cached row (same key) into the
new repository, so no model call is repeated. The index on ``key`` keeps that lookup fast.

``repositories.shallow`` is set by each scan (``git rev-parse --is-shallow-repository``), so pages
can say a history is partial without running git, also once the folder is gone.
``repositories.history_version`` grows with every write to a repository's commits, so a reader
that keeps a copy of a long history (the charts) rereads it only when it changed.

Existing rows keep their repository; repositories that lost rows to the old constraint get them on
their next narration (from the cache, without a model call).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not batch mode: rebuilding "repositories" would drop a table that other
    # tables' foreign keys point at, which SQLite refuses with foreign keys on.
    op.add_column("repositories", sa.Column("shallow", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("repositories", sa.Column("history_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("narratives") as batch:
        batch.drop_constraint("uq_narratives_key", type_="unique")
        batch.create_unique_constraint("uq_narratives_repo_id_key", ["repo_id", "key"])
        batch.create_index("ix_narratives_key", ["key"])


def downgrade() -> None:
    # Keep the oldest row of each key: the one the old schema would have kept.
    op.execute("DELETE FROM narratives WHERE id NOT IN (SELECT MIN(id) FROM narratives GROUP BY key)")
    with op.batch_alter_table("narratives") as batch:
        batch.drop_index("ix_narratives_key")
        batch.drop_constraint("uq_narratives_repo_id_key", type_="unique")
        batch.create_unique_constraint("uq_narratives_key", ["key"])
    for column in ("history_version", "shallow"):
        if op.get_context().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE repositories DROP COLUMN {column}")  # SQLite 3.35+, no table rebuild
        else:
            op.drop_column("repositories", column)
