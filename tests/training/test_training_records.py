"""Training runs in the database: tables and sessions in ``db/``, lifecycle in the one job system."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command

from db.store import Store, alembic_config
from narrator.pipeline import jobs
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.helpers.cli import ROOT
from training.runs import RunLog


def test_training_tables_and_sessions_live_in_db():
    # db/ describes every table by itself: nothing from training/ needs importing first.
    code = "import db.models; print(sorted(db.models.Base.metadata.tables))"
    tables = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "'training_metrics'" in tables and "'training_runs'" in tables
    for path in sorted((ROOT / "training").glob("*.py")):
        text = path.read_text()
        assert "session(" not in text and not re.search(r"^from sqlalchemy", text, re.M), path.name
    assert "training" not in (ROOT / "db" / "migrations" / "env.py").read_text()


def test_a_training_run_is_a_job_of_the_one_job_system(tmp_path):
    url = f"sqlite:///{tmp_path}/runs.db"
    log = RunLog(url)
    run_id = log.create_run({"out": "x"}, {}, name="x")
    run = log.get_run(run_id)
    job = log.store.get_job(run.job_id)
    assert (job.kind, job.status, job.pid, job.params) == ("train", "running", os.getpid(), {"run_id": run_id})
    log.log_step(run_id, 1, 2.0, 10, 0.5)
    log.log_step(run_id, 2, 1.5, 10, 0.5)
    assert log.store.get_job(run.job_id).done == 2 == log.get_run(run_id).step

    # Recovery is the job system's: a dead process leaves the run interrupted, with how far it got.
    finished = subprocess.Popen(["true"])
    finished.wait()
    log.store.update_job(run.job_id, pid=finished.pid)
    assert jobs.recover(log.store) == [run.job_id]
    stopped = log.get_run(run_id)
    assert stopped.status == "interrupted" and "ended at step 2 without finishing" in stopped.error
    assert not log.finish(run_id, "done"), "an ended job keeps its outcome"

    # Narration never takes a training job for one of its own.
    service = NarratorService(load_settings(home=tmp_path / "home", db_url=url, model="fake", adapter="none"))
    assert service.resume_interrupted() == []
    assert log.store.get_job(run.job_id).status == "interrupted"


def test_cancel_goes_through_the_job_system(tmp_path):
    log = RunLog(f"sqlite:///{tmp_path}/runs.db")
    run_id = log.store.create_training_run("y", {}, {})
    job_id = log.job_id(run_id)
    assert log.store.get_job(job_id).status == "queued"
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)
    log.store.update_job(job_id, status="running", pid=sleeper.pid)
    log.log_step(run_id, 1, 2.0, 10, 0.5)
    assert jobs.cancel(log.store, job_id, lambda job: f"Stopped at step {job.done}.")
    assert sleeper.wait(timeout=20) is not None
    cancelled = log.get_run(run_id)
    assert (cancelled.status, cancelled.error) == ("cancelled", "Stopped at step 1.")
    assert cancelled.finished_at is not None


def test_migration_0005_gives_every_existing_run_its_job(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        when = datetime(2026, 11, 30, 12, 0)
        for name, status, error, pid in (("done-run", "done", None, None), ("cut", "failed", "Cancelled by the admin at step 3.", None),
                                         ("crashed", "running", None, 999_999)):
            connection.execute(sa.text(
                "INSERT INTO training_runs (name, status, config, mix, step, train_seconds, error, pid, created_at,"
                " updated_at, finished_at) VALUES (:name, :status, '{}', '{}', 3, 1.5, :error, :pid, :when, :when,"
                " :finished)"), dict(name=name, status=status, error=error, pid=pid, when=when,
                                    finished=None if status == "running" else when))
    engine.dispose()

    log = RunLog(url)  # migrates to head
    runs = {run.name: run for run in log.list_runs()}
    assert {name: run.status for name, run in runs.items()} == {"done-run": "done", "cut": "cancelled", "crashed": "running"}
    assert runs["cut"].error == "Cancelled by the admin at step 3." and runs["done-run"].step == 3
    assert runs["done-run"].finished_at == datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    assert {job.kind for job in log.store.list_jobs()} == {"train"}
    assert log.store.get_job(runs["crashed"].job_id).pid == 999_999
    assert jobs.recover(log.store) == [runs["crashed"].job_id]
    assert Store(url).get_training_run(runs["crashed"].id).job.status == "interrupted"
