"""Background narration: a real worker process, killed half way, resumes without loss or duplicates.

Nothing here depends on how fast the machine is: the model is a fake whose every batch waits for a
file (``fake:wait:PATH``), so a worker is stopped or signalled while it surely waits on the model,
and lets a batch through only when the test creates the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from db.store import Store
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import MODEL_SENTENCES_ON
from tests.helpers.cli import ROOT, cli_env
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.slow  # workers and commands run, killed and resumed as processes


def gated_model(tmp_path: Path) -> tuple[str, Path]:
    """A fake model spec whose every batch waits until the returned file exists (and removes it)."""
    gate = tmp_path / "model-gate"
    return f"fake:wait:{gate}", gate


def let_one_batch_through(gate: Path) -> None:
    gate.touch()
    wait_for(lambda: not gate.exists())


def test_the_gated_fake_model_answers_one_batch_per_opening(tmp_path):
    from narrator.model.backends import make_backend

    model, gate = gated_model(tmp_path)
    backend = make_backend(load_settings(home=tmp_path / "home", model=model, adapter="none"))
    prompts = [[{"role": "user", "content": "explain parse_config"}]]
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(backend.generate, prompts)
        time.sleep(0.3)
        assert not answer.done(), "waits while the file is missing"
        let_one_batch_through(gate)
        assert answer.result(timeout=10) == ["This part handles parse_config."]
        assert not gate.exists()


def test_killed_worker_is_marked_interrupted_and_resumes(sample_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    for variable, value in MODEL_SENTENCES_ON.items():  # model work to stop
        monkeypatch.setenv(variable, value)
    model, gate = gated_model(tmp_path)
    service = NarratorService(load_settings(model=model, adapter="none"))
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    job = service.start_narration(repo.id)
    pid = wait_for(lambda: service.store.get_job(job.id).pid)
    let_one_batch_through(gate)  # one batch of the model's work is stored; the next waits for the gate
    wait_for(lambda: service.store.count_narratives(repo.id) >= 3)
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: service.latest_job(repo.id).status == "interrupted")
    partial = service.store.count_narratives(repo.id)
    assert partial >= 3

    # Resumed with a model that answers at once (the same "fake" in every cache key).
    service = NarratorService(load_settings(model="fake", adapter="none"))
    resumed = service.resume_interrupted()
    assert [j.id for j in resumed] == [job.id]
    wait_for(lambda: service.job(job.id).status == "done", timeout=120)

    # A clean run into another database gives the same set of narratives: nothing lost or doubled.
    clean = NarratorService(load_settings(home=tmp_path / "clean", model="fake", adapter="none"))
    clean_repo = clean.add_repository(str(sample_repo.working_tree_dir))
    from narrator.pipeline.narrate import run_job

    run_job(clean.settings, clean.store.create_job(clean_repo.id, "narrate", {"commits": 30}))
    assert service.store.count_narratives(repo.id) == clean.store.count_narratives(clean_repo.id)


# --- the command line and the worker as processes -------------------------------------------------

INTERRUPTED = "interrupted: finished narratives are kept; run the same command again to resume"


def narrate_cli(repo, db: str, home: Path, model: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "narrator", "narrate", str(repo.working_tree_dir), "--db", db,
                             "--model", model], cwd=ROOT, env=cli_env(home, model), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def running_job(db: str):
    """The CLI's job once it is running and has narrated something: with a gated model, it is mid-way."""
    def find():
        store = Store(db)
        try:
            rows = store.list_jobs()
            return rows[0] if rows and rows[0].status == "running" and rows[0].done >= 1 else None
        finally:
            store.close()
    return wait_for(find)


def test_a_job_that_fails_before_it_runs_ends_failed_and_the_worker_moves_on(sample_repo, tmp_path):
    home = tmp_path / "home"
    service = NarratorService(load_settings(home=home, model="fake", adapter="none"))
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    bad = service.store.create_job(repo.id, "narrate", {"commits": "many"})  # run_job raises before 'running'
    good = service.store.create_job(repo.id, "narrate", {"commits": 2})
    result = subprocess.run([sys.executable, "-m", "narrator", "worker", str(bad)], cwd=ROOT, capture_output=True,
                            env={**cli_env(home), "CODE_NARRATOR_DB": service.settings.db_url}, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    failed = service.store.get_job(bad)
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.error == "ValueError: invalid literal for int() with base 10: 'many'"
    assert service.store.get_job(good).status == "done", "the worker went on with the next queued job"


def test_ctrl_c_during_narrate_leaves_an_interrupted_job_that_resumes(sample_repo, tmp_path):
    home, db = tmp_path / "home", f"sqlite:///{tmp_path}/cache.db"
    model, _ = gated_model(tmp_path)
    process = narrate_cli(sample_repo, db, home, model)  # the model waits for a gate never opened
    job = running_job(db)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    # One line after the progress bar, no traceback.
    assert "Traceback" not in stderr and stderr.endswith("\n" + INTERRUPTED + "\n") and stderr.count(INTERRUPTED) == 1
    interrupted = Store(db).get_job(job.id)
    assert interrupted.status == "interrupted" and interrupted.finished_at is not None

    service = NarratorService(load_settings(home=home, db_url=db, model="fake", adapter="none"))
    assert [j.id for j in service.resume_interrupted()] == [job.id], "resumed like a job whose worker was killed"
    wait_for(lambda: service.job(job.id).status == "done", timeout=120)


def test_a_killed_cli_run_is_marked_interrupted_when_the_next_one_starts(sample_repo, tmp_path):
    home, db = tmp_path / "home", f"sqlite:///{tmp_path}/cache.db"
    model, _ = gated_model(tmp_path)
    process = narrate_cli(sample_repo, db, home, model)  # the model waits for a gate never opened
    job = running_job(db)
    process.kill()
    process.communicate(timeout=60)
    assert Store(db).get_job(job.id).status == "running", "nobody was left to record the kill"

    again = narrate_cli(sample_repo, db, home, "fake")
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    stale = Store(db).get_job(job.id)
    assert stale.status == "interrupted" and "ended at step" in stale.error
    assert Store(db).list_jobs()[0].status == "done"
