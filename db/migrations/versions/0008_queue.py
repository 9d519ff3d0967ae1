"""Jobs run by a task queue's workers on other machines: the host beside the pid, and the outcome.

A pid names a process on one machine only. ``jobs.host`` records the machine whose process ``pid``
is, so the recovery of dead workers (``Store.mark_stale_jobs``) judges only the jobs of its own
machine and never marks a job that a queue worker elsewhere is running as interrupted. Rows written
before have no host and are judged as before. ``jobs.result`` keeps what a finished narration did
(new narratives, cached ones, model calls), so ``narrate --all`` can say it for a job another
machine ran.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("result")
        batch.drop_column("host")
