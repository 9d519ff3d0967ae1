"""Briefing subscriptions and deliveries (issue 20): who gets the portfolio briefing, and what was sent.

``subscriptions``: one channel (``email``, ``slack``, ``teams``, ``mattermost``) and its address (an
e-mail address or an incoming-webhook URL), the repositories it covers (``repo_ids``: a JSON list of
repository ids, NULL for every repository) and whether it is active.

``deliveries``: one row per subscription and period (``period_key``, its first and last day), so a
briefing is never sent twice for the same period; its status (``sending``, ``sent``, ``failed``),
the attempts made, the last error (one line, without secrets) and when it was sent.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("repo_ids", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscription_id", sa.Integer(),
                  sa.ForeignKey("subscriptions.id", name="fk_deliveries_subscription_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("period_key", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("sent_at", Timestamp, nullable=True),
        sa.UniqueConstraint("subscription_id", "period_key", name="uq_deliveries_subscription_period"),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("subscriptions")
