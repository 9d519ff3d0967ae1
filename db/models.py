"""Tables of the narrative cache: the SQLAlchemy classes, the column types and the allowed values.

The ORM classes (``Repository``, ``Narrative``, ``Commit``, ``Unit``, ``Job``, ``TrainingRun``,
``TrainingMetric``) never leave ``db/``:
every ``Store`` method turns them into the frozen ``*Row`` dataclasses of ``db.rows``, so pages and
workers hold ordinary values that stay readable after the session is closed.

The schema itself is owned by the Alembic migrations in ``db/migrations/versions``; these classes
must describe the same tables (a test compares them).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NARRATIVE_KINDS = ("unit", "file", "module", "overview", "parts", "commit", "headline", "note", "description", "digest")
SOURCES = ("git", "developer", "pull request", "release notes", "readme", "package", "docstring", "model")
"""Where a sentence comes from, most trusted first; 'model' is model text that passed the checks."""
JOB_STATUSES = ("queued", "running", "done", "failed", "interrupted", "cancelled")
"""The lifecycle of every long piece of work, narration and training alike (``narrator.pipeline.jobs``)."""
ACTIVE_JOB_STATUSES = ("queued", "running")
FINISHED_JOB_STATUSES = ("done", "failed", "interrupted", "cancelled")
JOB_KINDS = ("narrate", "train")
METRIC_KINDS = ("train", "eval")
CHANNELS = ("email", "slack", "teams", "mattermost")
"""Where a subscription's briefing goes: an e-mail address, or a chat's incoming webhook."""
DELIVERY_STATUSES = ("sending", "sent", "failed")
"""A delivery of one period to one subscription: being sent, sent, or failed (retried by the next run)."""
ACTIVE_TRAIN_WHERE = "kind = 'train' AND status IN ('queued', 'running')"
"""The training jobs of which at most one may exist (a partial unique index)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to already be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back tz-aware.

    SQLite has no time zones: ``DateTime(timezone=True)`` silently drops ``tzinfo`` there and reads
    back naive values. Normalising to UTC on write makes stored values comparable (``since``/``until``
    filters compare strings on SQLite), and attaching UTC on read gives every backend the same answer.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # Naive UTC for SQLite so the stored text has one format; PostgreSQL keeps the offset.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    # Named constraints, so the migrations can name the same ones and autogenerate finds no drift.
    metadata = MetaData(
        naming_convention={
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(1000), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    local_path: Mapped[str] = mapped_column(Text)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utc_now)
    narrated_at: Mapped[datetime | None]
    shallow: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    history_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Narrative(Base):
    __tablename__ = "narratives"
    __table_args__ = (
        # One row per repository and key: the same model answer may serve several repositories,
        # each keeps its own copy (migration 0004).
        UniqueConstraint("repo_id", "key", name="uq_narratives_repo_id_key"),
        Index("ix_narratives_repo_kind_target", "repo_id", "kind", "target"),
        Index("ix_narratives_key", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"))
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(1000))
    input_hash: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(300))
    adapter: Mapped[str | None] = mapped_column(String(300))
    prompt_version: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    flags: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str] = mapped_column(String(40), default="model", server_default="model")


class Commit(Base):
    __tablename__ = "commits"
    __table_args__ = (
        UniqueConstraint("repo_id", "sha", name="uq_commits_repo_sha"),
        Index("ix_commits_repo_date", "repo_id", "date"),
        Index("ix_commits_repo_reachable_date", "repo_id", "reachable", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"))
    sha: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    date: Mapped[datetime]
    area: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str | None] = mapped_column(String(50))
    files: Mapped[list] = mapped_column(default=list)
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    is_merge: Mapped[bool] = mapped_column(Boolean, default=False)
    input_hash: Mapped[str | None] = mapped_column(String(100))
    headline: Mapped[str] = mapped_column(Text, default="", server_default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    reachable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Whether the narrated branch still reaches it (False after a reset, amend, rebase or force-push)."""
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Its place in git's topological order of the history, larger is newer (ties of date)."""


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("repo_id", "path", "name", name="uq_units_repo_path_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"))
    path: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    start_line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    module: Mapped[str] = mapped_column(String(1000), default="")
    """The unit's area (top-level folder, ``narrator.facts.paths.area_of``); the column keeps its first name."""
    input_hash: Mapped[str | None] = mapped_column(String(100))


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_repo_status", "repo_id", "status"),
        # One training run at a time, enforced by the database (see migration 0006).
        Index("uq_jobs_one_active_train", "kind", unique=True,
              sqlite_where=text(ACTIVE_TRAIN_WHERE), postgresql_where=text(ACTIVE_TRAIN_WHERE)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id"))
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    params: Mapped[dict] = mapped_column(default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    """The machine whose process ``pid`` is (migration 0008); None on rows written before."""
    result: Mapped[dict | None] = mapped_column(JSON)
    """What the finished work did (a narration's ``RunReport`` figures), for whoever waits on it."""
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]


class TrainingRun(Base):
    """The details of one training run; its lifecycle (status, pid, error, times) is its ``Job``."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    config: Mapped[Any] = mapped_column(JSON)
    mix: Mapped[Any] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(Integer, default=0)
    train_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class TrainingMetric(Base):
    __tablename__ = "training_metrics"
    __table_args__ = (Index("ix_training_metrics_run_kind_step", "run_id", "kind", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    task: Mapped[str | None] = mapped_column(String(50))
    value: Mapped[float] = mapped_column(Float)
    ppl: Mapped[float | None] = mapped_column(Float)
    tokens: Mapped[int | None] = mapped_column(Integer)
    examples: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


ACCOUNT_ROLES = ("admin", "viewer")
"""Who may do what on a shared dashboard (``narrator.service.access``): admins everything, viewers read."""


class Account(Base):
    """One person who signs in: by name and password, or by e-mail through an OpenID Connect provider."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("name", name="uq_accounts_name"),
                      UniqueConstraint("email", name="uq_accounts_email"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    """Lower-case; the provider's e-mail of whoever signs in through it."""
    role: Mapped[str] = mapped_column(String(10))
    password: Mapped[dict | None] = mapped_column(JSON)
    """The salted scrypt record (``narrator.service.passwords``); None: the provider only."""
    every_repository: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False: the account reads only the repositories of ``account_repositories``."""
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AccountRepository(Base):
    """One repository a limited account may read."""

    __tablename__ = "account_repositories"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)


class Subscription(Base):
    """Who gets the portfolio briefing: a channel, its address, the repositories (None: all), active or not."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(Text)
    """An e-mail address, or an incoming-webhook URL (a secret: shown masked)."""
    repo_ids: Mapped[list | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Delivery(Base):
    """One period's briefing to one subscription: at most one row each, so nothing is sent twice."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "period_key", name="uq_deliveries_subscription_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(50))
    """The period's first and last day, ``YYYY-MM-DD..YYYY-MM-DD``."""
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]
