"""Tables of the training history: one row per run, one row per logged step or evaluation.

They share ``db.models.Base`` with the narrative cache, so one database (and one Alembic history:
``db/migrations/versions/0002_training.py`` creates them) holds everything the dashboard shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utc_now

RUN_STATUSES = ("running", "done", "failed", "interrupted")
METRIC_KINDS = ("train", "eval")


class TrainingRun(Base):
    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    config: Mapped[Any] = mapped_column(JSON)
    mix: Mapped[Any] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(Integer, default=0)
    train_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]


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
