"""Background narration: a real worker process, killed half way, resumes without loss or duplicates."""

from __future__ import annotations

import os
import signal
import time

from narrator.service import NarratorService
from narrator.settings import load_settings


def wait_for(condition, timeout: float = 60.0, every: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def test_killed_worker_is_marked_interrupted_and_resumes(sample_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    # A slow fake model: 0.3 s a prompt, so the worker is still busy when it is killed.
    settings = load_settings(model="fake:0.3", adapter="none")
    service = NarratorService(settings)
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    job = service.start_narration(repo.id)
    pid = wait_for(lambda: service.store.get_job(job.id).pid)
    wait_for(lambda: service.job(job.id).done >= 3)
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: service.latest_job(repo.id).status == "interrupted")
    partial = service.store.count_narratives(repo.id)
    assert partial >= 3

    resumed = service.resume_interrupted()
    assert [j.id for j in resumed] == [job.id]
    wait_for(lambda: service.job(job.id).status == "done", timeout=120)

    # A clean run into another database gives the same set of narratives: nothing lost or doubled.
    clean = NarratorService(load_settings(home=tmp_path / "clean", model="fake", adapter="none"))
    clean_repo = clean.add_repository(str(sample_repo.working_tree_dir))
    from narrator.narrate import run_job

    run_job(clean.settings, clean.store.create_job(clean_repo.id, "narrate", {"commits": 30}))
    assert service.store.count_narratives(repo.id) == clean.store.count_narratives(clean_repo.id)
