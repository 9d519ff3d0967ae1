"""No password or token in a stored source, job or run: clone URLs are kept without credentials.

Before this revision a repository added as ``https://alice:secret@host/x.git`` was stored, shown and
reported with its password. The source (and name) of every repository loses the credentials of its
URL; so do the parameters, messages and errors of jobs and the configurations of training runs,
wherever a URL with credentials was written. git gets the password from a file of its own from now
on (``narrator.git.sources``); a clone made before keeps working: the next run moves its password there.

Two rows that become the same URL (``https://alice:secret@host/x.git`` and ``https://host/x.git``)
are one repository: the one narrated last is kept, the other's jobs move to it, and its commits,
units and narratives (a cache the next run fills again) are deleted with it.

Self-contained on purpose (no import of ``narrator``): a migration must mean the same thing forever.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import re
from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# user:password@ or a lone user@ (often a token) after an http(s) scheme; for ssh only a password
# (the user is who ssh logs in as). The same rule as ``narrator.git.sources.without_credentials``.
_HTTP_USERINFO = re.compile(r"(?i)\b(https?://)[^/\s?#]*@")
_SSH_PASSWORD = re.compile(r"(?i)\b(ssh://[^/\s:@?#]*):[^/\s?#]*@")


def clean(text: str) -> str:
    """``text`` with the credentials of every URL in it taken out."""
    return _SSH_PASSWORD.sub(r"\1@", _HTTP_USERINFO.sub(r"\1", text))


def _clean_json(value):
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    return value


def _when(value) -> datetime:
    """A stored time as an aware datetime, for comparing (SQLite hands back text, PostgreSQL a datetime)."""
    if value is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return datetime.min.replace(tzinfo=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # Overwrite what is deleted or updated with zeros, so the old bytes do not linger in free
        # pages of the file (on PostgreSQL, VACUUM reclaims dead rows).
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    rows = conn.execute(sa.text("SELECT id, source, name, narrated_at FROM repositories")).all()
    by_source: dict[str, list] = {}
    for row in rows:
        by_source.setdefault(clean(row.source), []).append(row)
    for source, group in by_source.items():
        if len(group) == 1 and group[0].source == source and group[0].name == clean(group[0].name):
            continue
        keep = max(group, key=lambda r: (_when(r.narrated_at), r.source == source, -r.id))
        for row in group:
            if row.id == keep.id:
                continue
            conn.execute(sa.text("UPDATE jobs SET repo_id = :keep WHERE repo_id = :gone"), {"keep": keep.id, "gone": row.id})
            for table in ("narratives", "commits", "units"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE repo_id = :gone"), {"gone": row.id})
            conn.execute(sa.text("DELETE FROM repositories WHERE id = :gone"), {"gone": row.id})
        conn.execute(sa.text("UPDATE repositories SET source = :source, name = :name WHERE id = :id"),
                     {"source": source, "name": clean(keep.name), "id": keep.id})

    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("params", sa.JSON),
                    sa.column("message", sa.Text), sa.column("error", sa.Text))
    for job in conn.execute(sa.select(jobs)).all():
        cleaned = {"params": _clean_json(job.params), "message": None if job.message is None else clean(job.message),
                   "error": None if job.error is None else clean(job.error)}
        if cleaned != {"params": job.params, "message": job.message, "error": job.error}:
            conn.execute(sa.update(jobs).where(jobs.c.id == job.id).values(**cleaned))
    runs = sa.table("training_runs", sa.column("id", sa.Integer), sa.column("config", sa.JSON))
    for run in conn.execute(sa.select(runs)).all():
        if _clean_json(run.config) != run.config:
            conn.execute(sa.update(runs).where(runs.c.id == run.id).values(config=_clean_json(run.config)))


def downgrade() -> None:
    pass  # the credentials are gone for good; the schema did not change
