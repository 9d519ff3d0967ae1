"""A commit knows whether the narrated branch still reaches it, and its place in git's order; one
training run at a time.

``commits.reachable``: a history reset, amended, rebased or force-pushed leaves commits that the
branch no longer reaches. Their rows (and narratives) stay, so a return to them costs no model call,
but they stop counting and stop showing.

``commits.seq``: git's topological order of the history, larger is newer. Commits with the same
timestamp (a rebase, a scripted import) are ordered by it, so "latest" is git's latest.

``uq_jobs_one_active_train``: a unique index over the queued or running training jobs, so two
training starts at the same moment give one run and a clear message, on SQLite and PostgreSQL alike.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_TRAIN = "kind = 'train' AND status IN ('queued', 'running')"


def upgrade() -> None:
    op.add_column("commits", sa.Column("reachable", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("commits", sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_commits_repo_reachable_date", "commits", ["repo_id", "reachable", "date"])
    # Two active training jobs from before this revision would break the index: keep the newest.
    op.execute("UPDATE jobs SET status = 'interrupted' WHERE kind = 'train' AND status IN ('queued', 'running') "
               "AND id <> (SELECT MAX(id) FROM jobs WHERE kind = 'train' AND status IN ('queued', 'running'))")
    op.create_index("uq_jobs_one_active_train", "jobs", ["kind"], unique=True,
                    sqlite_where=sa.text(ACTIVE_TRAIN), postgresql_where=sa.text(ACTIVE_TRAIN))


def downgrade() -> None:
    op.drop_index("uq_jobs_one_active_train", table_name="jobs")
    op.drop_index("ix_commits_repo_reachable_date", table_name="commits")
    for column in ("seq", "reachable"):
        if op.get_context().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE commits DROP COLUMN {column}")  # SQLite 3.35+, no table rebuild
        else:
            op.drop_column("commits", column)
