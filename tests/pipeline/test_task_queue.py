"""The task queue (narrator/pipeline/task_queue.py): real redis-server and PostgreSQL, workers as processes.

Nothing here waits on how fast the machine is: the worker to kill narrates with a fake model that
waits for a file never created (``fake:wait:PATH``), and is killed once the database says it runs a
job; the others narrate with the plain fake model.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from db.store import Store
from narrator.__main__ import main
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from tests.conftest import MODEL_SENTENCES_ON, START, commit_files, make_sample_repo
from tests.helpers.cli import ROOT, cli_env
from tests.helpers.postgres import free_port, running_postgres
from tests.helpers.redis_server import running_redis
from tests.helpers.waiting import wait_for

REPOSITORIES = 8


@pytest.fixture(scope="module")
def postgres_server():
    with running_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def redis_url():
    with running_redis() as url:
        yield url


def build_repositories(folder: Path, count: int) -> list[Path]:
    """``count`` small repositories, each with code of its own besides the shared sample."""
    paths = []
    for i in range(count):
        repo = make_sample_repo(folder / f"team{i}")
        commit_files(repo, {f"team{i}/handler_{i}.py": f"def handle_{i}(event):\n    return event['n{i}']\n\n\n"
                                                       f"def retry_{i}(event):\n    return handle_{i}(event)\n"},
                     f"Add the handler of team {i}", START.replace(day=20))
        paths.append(Path(repo.working_tree_dir))
    return paths


def narratives(store: Store, repo_id: int) -> list[tuple[str, str, str]]:
    """Every narrative row of a repository as (kind, target, text), sorted; a duplicate shows twice."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, target, text FROM narratives WHERE repo_id = :r"), {"r": repo_id}).all()
    return sorted(tuple(row) for row in rows)


def queue_env(home: Path, model: str, db: str, queue: str) -> dict[str, str]:
    return {**cli_env(home, model), "CODE_NARRATOR_DB": db, "CODE_NARRATOR_QUEUE": queue,
            "CODE_NARRATOR_QUEUE_HEARTBEAT": "2"}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "narrator", "worker"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_three_workers_one_killed_mid_job_end_like_one_process(postgres_server, redis_url, tmp_path, monkeypatch):
    for variable, value in MODEL_SENTENCES_ON.items():
        monkeypatch.setenv(variable, value)
    db = postgres_server("queue_run")
    paths = build_repositories(tmp_path / "repos", REPOSITORIES)
    service = NarratorService(load_settings(home=tmp_path / "home", db_url=db, model="fake", adapter="none"))
    repos = {path.name: service.add_repository(str(path)) for path in paths}

    refresh = subprocess.Popen([sys.executable, "-m", "narrator", "narrate", "--all"], cwd=ROOT,
                               env=queue_env(tmp_path / "home", "fake", db, redis_url),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = []
    try:
        wait_for(lambda: len(service.store.list_jobs(kind="narrate")) == REPOSITORIES)
        # The worker to kill: its model waits for a file never created, so it stops inside a job.
        victim = start_worker(queue_env(tmp_path / "w0", f"fake:wait:{tmp_path / 'never'}", db, redis_url),
                              tmp_path / "w0.log")
        workers.append(victim)
        taken = wait_for(lambda: next((j for j in service.store.list_jobs(kind="narrate")
                                       if j.status == "running" and j.pid == victim.pid), None))
        for i in (1, 2):
            workers.append(start_worker(queue_env(tmp_path / f"w{i}", "fake", db, redis_url), tmp_path / f"w{i}.log"))
        wait_for(lambda: any(j.pid in (workers[1].pid, workers[2].pid) for j in service.store.list_jobs(kind="narrate")))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)

        stdout, stderr = refresh.communicate(timeout=600)
    finally:
        refresh.kill()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
    assert refresh.returncode == 0, stderr
    lines = stdout.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(repos), stdout
    assert all("new narratives" in line and "model calls" in line for line in lines), stdout

    rows = service.store.list_jobs(kind="narrate")
    assert [j.status for j in rows] == ["done"] * REPOSITORIES, [(j.id, j.status, j.error) for j in rows]
    retaken = service.store.get_job(taken.id)
    assert retaken.pid in (workers[1].pid, workers[2].pid), "another worker ran the killed worker's job"
    assert retaken.host == socket.gethostname()
    for worker in workers[1:]:
        assert worker.returncode == 0, "SIGTERM stops a worker cleanly"

    # The same repositories narrated one after another in one process, into a database of their own.
    clean = NarratorService(load_settings(home=tmp_path / "clean", model="fake", adapter="none"))
    for path in paths:
        repo = clean.add_repository(str(path))
        run_job(clean.settings, clean.store.create_job(repo.id, "narrate", {"commits": 30, "full": False}))
        expected = narratives(clean.store, repo.id)
        assert len(expected) > 10
        assert narratives(service.store, repos[path.name].id) == expected, path.name


def test_a_bad_queue_setting_is_one_line(sample_repo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_QUEUE", "http://cache:6379")
    assert main(["narrate", "--all", "--model", "fake"]) == 1
    err = capsys.readouterr().err
    assert err == "error: CODE_NARRATOR_QUEUE must be a Redis URL such as redis://host:6379/0, not 'http://cache:6379'\n"
    monkeypatch.setenv("CODE_NARRATOR_QUEUE", "redis://cache:6379/zero")
    assert main(["worker"]) == 1
    assert "must be a Redis URL" in capsys.readouterr().err
    monkeypatch.setenv("CODE_NARRATOR_QUEUE", "redis://alice:secret@cache:port/0")
    assert main(["worker"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must be a Redis URL" in err and "secret" not in err


def test_a_worker_without_a_queue_says_how_to_set_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CODE_NARRATOR_QUEUE", raising=False)
    assert main(["worker"]) == 1
    assert capsys.readouterr().err == ("error: No task queue is configured: set CODE_NARRATOR_QUEUE to a Redis URL such as "
                                       "redis://host:6379/0 (without it, narration runs in local worker processes).\n")


def test_redis_down_fails_the_job_with_one_line(sample_repo, tmp_path, monkeypatch, capsys):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_QUEUE", f"redis://127.0.0.1:{port}/0")
    settings = load_settings(model="fake", adapter="none")
    service = NarratorService(settings)
    repo = service.add_repository(str(sample_repo.working_tree_dir))

    assert main(["narrate", "--all", "--model", "fake"]) == 1
    err = capsys.readouterr().err
    expected = f"The task queue at redis://127.0.0.1:{port}/0 cannot be reached: "
    assert err.startswith(f"error: {expected}") and err.count("\n") == 1, err
    (job,) = service.store.list_jobs(repo.id)
    assert job.status == "failed" and job.error.startswith(expected), "the job says what happened; nothing waits forever"

    # The dashboard's narrate action: an error box with the same line, and the job failed, not lost.
    from db.errors import QueueError

    with pytest.raises(QueueError, match="cannot be reached"):
        service.start_narration(repo.id)
    assert [j.status for j in service.store.list_jobs(repo.id)] == ["failed", "failed"]

    assert main(["worker"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {expected}")


@pytest.mark.slow
def test_sigterm_puts_the_running_job_back_on_the_queue(sample_repo, redis_url, tmp_path, monkeypatch):
    for variable, value in MODEL_SENTENCES_ON.items():
        monkeypatch.setenv(variable, value)
    db = f"sqlite:///{tmp_path / 'cache.db'}"  # one machine: a SQLite file and its lock file serve too
    settings = load_settings(home=tmp_path / "home", db_url=db, model="fake", adapter="none", queue=redis_url)
    service = NarratorService(settings)
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    gate = tmp_path / "gate"
    worker = start_worker(queue_env(tmp_path / "home", f"fake:wait:{gate}", db, redis_url), tmp_path / "w.log")
    workers = [worker]
    try:
        job = service.start_narration(repo.id)
        wait_for(lambda: service.store.get_job(job.id).status == "running")
        worker.send_signal(signal.SIGTERM)
        gate.touch()  # the model's batch ends; the job stops at its next step
        assert worker.wait(timeout=120) == 0
        stopped = service.store.get_job(job.id)
        assert (stopped.status, stopped.message) == ("queued", "Its worker stopped; it waits for another worker.")

        again = start_worker(queue_env(tmp_path / "home", "fake", db, redis_url), tmp_path / "w2.log")
        workers.append(again)
        wait_for(lambda: service.store.get_job(job.id).status == "done")
        assert service.store.get_job(job.id).pid == again.pid
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_jobs_lost_by_a_restarted_redis_are_sent_again(postgres_server, redis_url, tmp_path, monkeypatch):
    """Redis restarted without its data while jobs waited (here: FLUSHALL on the real server): narrate
    --all sends them again, says so, and ends with every repository done instead of waiting forever."""
    import redis

    db = postgres_server("queue_lost")
    paths = build_repositories(tmp_path / "repos", 2)
    service = NarratorService(load_settings(home=tmp_path / "home", db_url=db, model="fake", adapter="none"))
    for path in paths:
        service.add_repository(str(path))
    env = queue_env(tmp_path / "home", "fake", db, redis_url)
    refresh = subprocess.Popen([sys.executable, "-m", "narrator", "narrate", "--all"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    worker = None
    try:
        wait_for(lambda: len(service.store.list_jobs(kind="narrate")) == 2)
        client = redis.Redis.from_url(redis_url)
        wait_for(lambda: client.hlen("dramatiq:narrate.msgs") == 2)  # both sent, no worker yet
        client.flushall()
        worker = start_worker(queue_env(tmp_path / "w", "fake", db, redis_url), tmp_path / "w.log")
        stdout, stderr = refresh.communicate(timeout=180)
    finally:
        refresh.kill()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    assert refresh.returncode == 0, stderr
    assert sorted(line.split(":")[0] for line in stdout.splitlines()) == sorted(p.name for p in paths), stdout
    assert stderr.count("the task queue no longer held its job") == 2, stderr
    assert [j.status for j in service.store.list_jobs(kind="narrate")] == ["done", "done"]


@pytest.mark.slow
def test_redis_gone_while_jobs_wait_ends_them_failed(postgres_server, tmp_path, monkeypatch):
    """Redis stops for good while jobs wait for a worker: narrate --all ends within about the heartbeat,
    each waiting job failed with the line saying the queue stopped answering."""
    db = postgres_server("queue_gone")
    paths = build_repositories(tmp_path / "repos", 2)
    service = NarratorService(load_settings(home=tmp_path / "home", db_url=db, model="fake", adapter="none"))
    for path in paths:
        service.add_repository(str(path))
    with running_redis() as url:
        refresh = subprocess.Popen([sys.executable, "-m", "narrator", "narrate", "--all"], cwd=ROOT,
                                   env=queue_env(tmp_path / "home", "fake", db, url), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        wait_for(lambda: len(service.store.list_jobs(kind="narrate")) == 2)
    try:
        stdout, stderr = refresh.communicate(timeout=120)  # the server stopped with the block; no worker ever ran
    finally:
        refresh.kill()
    assert refresh.returncode == 1 and stdout == "", stdout
    lines = stderr.splitlines()
    failed = [line for line in lines if "failed:" in line]
    assert len(failed) == 2 and all(f"The task queue at {url} cannot be reached" in line for line in failed), stderr
    assert all(j.status == "failed" and "no worker took this job" in j.error for j in service.store.list_jobs(kind="narrate"))


@pytest.mark.slow
def test_a_job_the_queue_lost_earlier_is_ended_not_left_waiting(sample_repo, redis_url, tmp_path, monkeypatch):
    """A job left 'queued' by an earlier run whose message Redis lost (restarted without its data, nobody
    waiting): the next narrate --all ends it 'failed' saying so, instead of it waiting forever and
    keeping its repository from being removed."""
    db = f"sqlite:///{tmp_path / 'cache.db'}"
    service = NarratorService(load_settings(home=tmp_path / "home", db_url=db, model="fake", adapter="none"))
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    lost = service.queue_narration(repo.id, {"commits": 30, "full": False})  # never reached Redis
    time.sleep(2.5)  # older than the heartbeat (2 s in queue_env)
    worker = start_worker(queue_env(tmp_path / "w", "fake", db, redis_url), tmp_path / "w.log")
    try:
        refresh = subprocess.run([sys.executable, "-m", "narrator", "narrate", "--all"], cwd=ROOT,
                                 env=queue_env(tmp_path / "home", "fake", db, redis_url), capture_output=True,
                                 text=True, stdin=subprocess.DEVNULL, timeout=180)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert refresh.returncode == 0, refresh.stderr
    assert f"Job #{lost} had waited since" in refresh.stderr and "no longer held it" in refresh.stderr
    ended = service.store.get_job(lost)
    assert ended.status == "failed" and ended.error.startswith("The task queue lost this job")
    assert [j.status for j in service.store.list_jobs(repo.id)] == ["done", "failed"]


@pytest.mark.slow
def test_narrate_all_progress_counts_repositories_and_never_goes_back(redis_url, tmp_path, monkeypatch):
    """The one bar over every job: a fixed total (the repositories), never moving backwards when a job
    goes from reading commits to narrating (steps that count different things)."""
    from narrator.service.refresh import SHARE, refresh_all

    db = f"sqlite:///{tmp_path / 'cache.db'}"
    settings = load_settings(home=tmp_path / "home", db_url=db, model="fake", adapter="none", queue=redis_url)
    service = NarratorService(settings)
    for path in build_repositories(tmp_path / "repos", 3):
        service.add_repository(str(path))
    worker = start_worker(queue_env(tmp_path / "w", "fake", db, redis_url), tmp_path / "w.log")
    told = []
    try:
        outcomes = list(refresh_all(settings, progress=lambda done, total, message: told.append((done, total, message))))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert [o.error for o in outcomes] == [None] * 3
    assert {total for _, total, _ in told} == {3 * SHARE}
    done = [d for d, _, _ in told]
    assert done == sorted(done) and done[-1] == 3 * SHARE, done
    assert told[-1][2] == "3 of 3 repositories done, 0 running"
