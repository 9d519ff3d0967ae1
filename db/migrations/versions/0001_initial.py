"""Initial schema: repositories, narratives, commits, units, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored in UTC; db.models.UTCDateTime attaches UTC on read where the backend (SQLite) drops it.
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "repositories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("local_path", sa.Text(), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=True),
        sa.Column("added_at", Timestamp, nullable=False),
        sa.Column("narrated_at", Timestamp, nullable=True),
        sa.UniqueConstraint("source", name="uq_repositories_source"),
    )
    op.create_table(
        "narratives",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repositories.id", name="fk_narratives_repo_id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(1000), nullable=False),
        sa.Column("input_hash", sa.String(100), nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("adapter", sa.String(300), nullable=True),
        sa.Column("prompt_version", sa.String(50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("key", name="uq_narratives_key"),
    )
    op.create_index("ix_narratives_repo_kind_target", "narratives", ["repo_id", "kind", "target"])
    op.create_table(
        "commits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repositories.id", name="fk_commits_repo_id"), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("email", sa.String(300), nullable=False),
        sa.Column("date", Timestamp, nullable=False),
        sa.Column("area", sa.String(500), nullable=False),
        sa.Column("category", sa.String(50), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("is_merge", sa.Boolean(), nullable=False),
        sa.Column("input_hash", sa.String(100), nullable=True),
        sa.UniqueConstraint("repo_id", "sha", name="uq_commits_repo_sha"),
    )
    op.create_index("ix_commits_repo_date", "commits", ["repo_id", "date"])
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repositories.id", name="fk_units_repo_id"), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("start_line", sa.Integer(), nullable=False),
        sa.Column("end_line", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(1000), nullable=False),
        sa.Column("input_hash", sa.String(100), nullable=True),
        sa.UniqueConstraint("repo_id", "path", "name", name="uq_units_repo_path_name"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repo_id", sa.Integer(), sa.ForeignKey("repositories.id", name="fk_jobs_repo_id"), nullable=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
    )
    op.create_index("ix_jobs_repo_status", "jobs", ["repo_id", "status"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("units")
    op.drop_index("ix_commits_repo_date", table_name="commits")
    op.drop_table("commits")
    op.drop_index("ix_narratives_repo_kind_target", table_name="narratives")
    op.drop_table("narratives")
    op.drop_table("repositories")
