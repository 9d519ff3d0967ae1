"""One job system: a training run's lifecycle is a ``jobs`` row of kind ``train``.

Before, ``training_runs`` kept its own status, pid, error and end time, with statuses of its own.
Now every run points at its job (``training_runs.job_id``), and the job holds the lifecycle with the
statuses narration uses (queued, running, done, failed, interrupted, cancelled). Each existing run
gets a job carrying its old status, pid, error and times; a run the admin cancelled (recorded as
failed, "Cancelled by the admin ...") becomes 'cancelled'.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)

# The tables as this revision sees them (not the models, which move on with later revisions).
_meta = sa.MetaData()
jobs = sa.Table(
    "jobs", _meta,
    sa.Column("id", sa.Integer(), primary_key=True), sa.Column("repo_id", sa.Integer()), sa.Column("kind", sa.String()),
    sa.Column("status", sa.String()), sa.Column("params", sa.JSON()), sa.Column("done", sa.Integer()),
    sa.Column("total", sa.Integer()), sa.Column("message", sa.Text()), sa.Column("error", sa.Text()),
    sa.Column("pid", sa.Integer()), sa.Column("created_at", Timestamp), sa.Column("started_at", Timestamp),
    sa.Column("updated_at", Timestamp), sa.Column("finished_at", Timestamp),
)
runs = sa.Table(
    "training_runs", _meta,
    sa.Column("id", sa.Integer(), primary_key=True), sa.Column("job_id", sa.Integer()), sa.Column("status", sa.String()),
    sa.Column("step", sa.Integer()), sa.Column("error", sa.Text()), sa.Column("pid", sa.Integer()),
    sa.Column("created_at", Timestamp), sa.Column("updated_at", Timestamp), sa.Column("finished_at", Timestamp),
)


def upgrade() -> None:
    with op.batch_alter_table("training_runs") as batch:
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
    connection = op.get_bind()
    for run in connection.execute(sa.select(runs)).mappings().all():
        status = run["status"]
        if status == "failed" and (run["error"] or "").startswith("Cancelled"):
            status = "cancelled"
        inserted = connection.execute(jobs.insert().values(
            repo_id=None, kind="train", status=status, params={"run_id": run["id"]}, done=run["step"] or 0,
            total=0, message="", error=run["error"], pid=run["pid"], created_at=run["created_at"],
            started_at=run["created_at"], updated_at=run["updated_at"], finished_at=run["finished_at"],
        ))
        connection.execute(runs.update().where(runs.c.id == run["id"]).values(job_id=inserted.inserted_primary_key[0]))
    with op.batch_alter_table("training_runs") as batch:
        batch.alter_column("job_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_training_runs_job_id", "jobs", ["job_id"], ["id"])
        batch.create_unique_constraint("uq_training_runs_job_id", ["job_id"])
        for name in ("status", "error", "pid", "updated_at", "finished_at"):
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("training_runs") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="failed"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("updated_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("finished_at", Timestamp, nullable=True))
    connection = op.get_bind()
    for job in connection.execute(sa.select(jobs).where(jobs.c.kind == "train")).mappings().all():
        # The old statuses had no 'queued' or 'cancelled': a queued run counts as running, a cancelled one failed.
        status = {"queued": "running", "cancelled": "failed"}.get(job["status"], job["status"])
        connection.execute(runs.update().where(runs.c.job_id == job["id"]).values(
            status=status, error=job["error"], pid=job["pid"], updated_at=job["updated_at"], finished_at=job["finished_at"]))
    with op.batch_alter_table("training_runs") as batch:
        batch.alter_column("status", existing_type=sa.String(20), server_default=None)
        batch.alter_column("updated_at", existing_type=Timestamp, nullable=False)
        batch.drop_constraint("uq_training_runs_job_id", type_="unique")
        batch.drop_constraint("fk_training_runs_job_id", type_="foreignkey")
        batch.drop_column("job_id")
    op.execute(jobs.delete().where(jobs.c.kind == "train"))
