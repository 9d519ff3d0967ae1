"""Queue benchmark: ``python -m narrator.eval.bench_queue`` prints, as JSON, the repositories refreshed
per minute with 1, 2 and 3 queue workers (``--workers``).

The queue and the database are ``--queue REDIS_URL`` and ``--db POSTGRES_URL`` (or ``CODE_NARRATOR_QUEUE``
and ``CODE_NARRATOR_DB``); where one is not given the benchmark starts a throw-away server of its own for
the run (``narrator.eval.local_servers``: Debian's redis-server and PostgreSQL, which
``bash scripts/setup.sh --redis --postgres`` installs) and stops it at the end, however the run ends.
Which servers it used is said on stderr, passwords hidden.

For each number of workers it builds ``--repos`` small repositories of its own (code no earlier round
narrated, so nothing comes from the cache), starts that many ``python -m narrator worker`` processes
on this machine, sends one narration job per repository to the queue and times from the first job
sent until every job has ended, reading the ``jobs`` rows as ``narrate --all`` does. The model is
``--model`` (default ``fake:0.05``: the fake model taking 0.05 s per prompt, standing in for a model
server, so the figure measures the queue, git reading and the database, not a language model).
Failed jobs are counted and reported; the workers are stopped with SIGTERM at the end of each round.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git

from narrator.entry import run_command
from narrator.eval import local_servers
from narrator.pipeline import task_queue
from narrator.pipeline.jobs import ROOT, worker_env
from narrator.service.core import NarratorService
from narrator.service.narration import narration_request
from narrator.settings import MODEL_TASKS, load_settings, without_password

MODEL_WORK_ON = {MODEL_TASKS["code_summary"]: "on", MODEL_TASKS["explanation"]: "on"}
"""Model work for every repository: code summaries and a sentence under each change."""


def build_repository(path: Path, tag: str, commits: int = 6) -> None:
    """A small Python repository whose names all carry ``tag`` (so no other round's answers fit it)."""
    repo = git.Repo.init(path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Bench").set_value("user", "email", "bench@example.com")
    start = datetime(2026, 10, 1, 9, tzinfo=timezone.utc)
    for i in range(commits):
        module = path / f"{tag}_pkg" / f"part_{i % 3}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        functions = "".join(f"def {tag}_step_{i}_{j}(value):\n    return value + {j}\n\n\n" for j in range(3))
        with module.open("a", encoding="utf-8") as file:
            file.write(functions)
        repo.index.add([str(module.relative_to(path))])
        when = (start + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S")
        repo.index.commit(f"Add the {tag} steps of stage {i}", author_date=when, commit_date=when)


def one_round(workers: int, repos: int, model: str, queue: str, db: str, folder: Path) -> dict:
    """Time ``repos`` repositories refreshed by ``workers`` worker processes; returns the round's figures."""
    tag = f"w{workers}r{int(time.time())}"
    settings = load_settings(home=folder / f"home-{tag}", db_url=db, model=model, adapter="none", queue=queue)
    service = NarratorService(settings)
    ids = []
    for i in range(repos):
        path = folder / f"{tag}-{i}"
        build_repository(path, f"{tag}_{i}")
        ids.append(service.add_repository(str(path)).id)
    env = {**worker_env(settings), "CODE_NARRATOR_QUEUE": queue, **MODEL_WORK_ON}
    processes = []
    for w in range(workers):
        log = open(folder / f"{tag}-worker{w}.log", "ab")
        processes.append(subprocess.Popen([sys.executable, "-m", "narrator", "worker"], cwd=ROOT,
                                          env={**env, "CODE_NARRATOR_HOME": str(folder / f"{tag}-worker{w}")},
                                          stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        log.close()
    try:
        wait_ready(folder, tag, workers)
        started = time.perf_counter()
        jobs = []
        for repo_id in ids:
            job_id = service.queue_narration(repo_id, narration_request())
            task_queue.send(settings, service.store, job_id)
            jobs.append(job_id)
        while True:
            rows = [service.store.get_job(job_id) for job_id in jobs]
            if all(row.status in ("done", "failed", "cancelled") for row in rows):
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
    failed = sum(row.status != "done" for row in rows)
    return {"workers": workers, "repositories": repos, "seconds": round(seconds, 2),
            "repositories_per_minute": round(repos * 60 / seconds, 1), "failed": failed,
            "narratives": sum((row.result or {}).get("narrated", 0) for row in rows)}


def wait_ready(folder: Path, tag: str, workers: int, timeout: float = 300.0) -> None:
    """Until every worker's log says it takes jobs (imports and the database are ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = [folder / f"{tag}-worker{w}.log" for w in range(workers)]
        if all(log.exists() and "Worker ready" in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the workers did not start: see {folder}")


@contextmanager
def servers(queue: str | None, db: str | None) -> Iterator[tuple[str, str]]:
    """Yields ``(queue URL, database URL)``: the given ones, and for each one missing a throw-away server
    started here and stopped when the block ends (``local_servers.ServerUnavailable`` if it cannot start).
    Says on stderr which it used."""
    with ExitStack() as stack:
        if not queue:
            queue = stack.enter_context(local_servers.running_redis())
            print(f"queue: a throw-away redis-server for this run, {queue}", file=sys.stderr)
        else:
            print(f"queue: {without_password(queue)}", file=sys.stderr)
        if not db:
            db = stack.enter_context(local_servers.running_postgres())("bench_queue")
            print(f"database: a throw-away PostgreSQL server for this run, {db}", file=sys.stderr)
        else:
            print(f"database: {without_password(db)}", file=sys.stderr)
        yield queue, db


def main(argv: list[str] | None = None, prog: str = "python -m narrator.eval.bench_queue") -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--queue", default=os.environ.get("CODE_NARRATOR_QUEUE"),
                   help="Redis URL (default: CODE_NARRATOR_QUEUE, else a throw-away redis-server for the run)")
    p.add_argument("--db", default=os.environ.get("CODE_NARRATOR_DB"),
                   help="database URL shared by the workers (PostgreSQL; default: CODE_NARRATOR_DB, "
                        "else a throw-away PostgreSQL server for the run)")
    p.add_argument("--repos", type=int, default=8, help="repositories per round (default 8)")
    p.add_argument("--workers", default="1,2,3", help="worker counts, one round each (default 1,2,3)")
    p.add_argument("--model", default="fake:0.05", help="the workers' model (default fake:0.05)")
    args = p.parse_args(argv)
    # SIGTERM (timeout, kill) ends the bench as Ctrl+C does: its workers and servers are stopped, not left behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    def run() -> int:
        with servers(args.queue, args.db) as (queue, db), \
                tempfile.TemporaryDirectory(prefix="narrator-bench-queue-") as tmp:
            rounds = [one_round(int(w), args.repos, args.model, queue, db, Path(tmp))
                      for w in args.workers.split(",")]
        print(json.dumps({"model": args.model, "rounds": rounds}, indent=2))
        return 1 if any(r["failed"] for r in rounds) else 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
