"""Benchmark: ``python -m narrator.bench REPO`` prints measured narration figures as JSON.

It narrates into a fresh temporary cache (unless ``--db`` is given) so nothing is cached at the
start: model load seconds, commit narratives per minute, units per minute, generated tokens per
second, the seconds of a fully cached re-run and of a cached ``show``, and peak RSS. Before those,
with no model: the seconds of plain ``git log --numstat HEAD > /dev/null`` beside those of recording
every commit's facts (``scan.record_history``, storing included), and the seconds from the start
of a narration until its first look (Overview, digest and every headline readable), and the
seconds and peak RSS of a narration with no new commit (``narrate --model fake``, run twice) and of
``show`` (``narrate_unchanged_seconds``, ``show_seconds_long``), each a command as a user runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from narrator.backends import make_backend
from narrator.errors import run_command
from narrator.narrate import FIRST_LOOK, Budget, narrate_repository
from narrator.repo import open_repository
from narrator.report import markdown
from narrator.scan import record_history
from narrator.service import NarratorService
from narrator.settings import load_settings


def _cli(args: list[str]) -> tuple[float, float | None]:
    """Seconds and peak RSS (MB) of one ``python -m narrator ARGS`` run, start-up included, as a user runs it.

    The peak is the child's own high-water mark (``VmHWM``, Linux), read while it runs: the rusage
    of a child counts the memory of the bench it was forked from. None where it cannot be read.
    """
    # The package this bench belongs to, wherever the bench is started from.
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    peak_kb = None
    with tempfile.TemporaryFile() as errors:
        begin = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "narrator", *args], stdout=subprocess.DEVNULL,
                                 stderr=errors, env=env)
        status = Path(f"/proc/{child.pid}/status")
        while child.poll() is None:
            try:
                marks = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")]
            except OSError:
                marks = []
            if marks:
                peak_kb = max(peak_kb or 0, int(marks[0].split()[1]))
            time.sleep(0.01)
        seconds = time.perf_counter() - begin
        if child.returncode:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"python -m narrator {args[0]} exited with {child.returncode}: {' '.join(said)}")
    return seconds, (peak_kb / 1024 if peak_kb else None)


def command_figures(source: str) -> dict:
    """Seconds and peak memory of the commands a user runs again and again, fresh cache: a
    narration with no new commit (``narrate REPO --model fake`` run twice, the second timed) and
    ``show REPO`` (default period, 30 changes). Neither may read the whole history."""
    scratch = Path(tempfile.mkdtemp(prefix="narrator-bench-"))
    db = ["--db", f"sqlite:///{scratch / 'commands.db'}"]
    _cli(["narrate", source, "--model", "fake", *db])
    narrate_seconds, narrate_mb = _cli(["narrate", source, "--model", "fake", *db])
    show_seconds, show_mb = _cli(["show", source, *db])
    return {
        "narrate_unchanged_seconds": round(narrate_seconds, 2),
        "narrate_unchanged_peak_rss_mb": round(narrate_mb, 1) if narrate_mb else None,
        "show_seconds_long": round(show_seconds, 2),
        "show_peak_rss_mb": round(show_mb, 1) if show_mb else None,
    }


class _FirstLook(Exception):
    """Raised from the progress callback to stop a narration at its first look."""


def history_figures(source: str, model: str | None) -> dict:
    """Seconds of plain ``git log --numstat HEAD`` and of recording every commit's facts, fresh cache."""
    scratch = Path(tempfile.mkdtemp(prefix="narrator-bench-"))
    settings = load_settings(db_url=f"sqlite:///{scratch / 'history.db'}", model=model)
    service = NarratorService(settings)
    repo_id = service.add_repository(source).id
    repo = open_repository(source, settings.clone_dir)
    head = repo.head.commit.hexsha
    begin = time.perf_counter()
    # The same hardened environment as every other git command here; output thrown away by the OS.
    subprocess.run(["git", "log", "--numstat", "HEAD"], cwd=repo.working_tree_dir or repo.git_dir, check=True,
                   env={**os.environ, **repo.git.environment()}, stdout=subprocess.DEVNULL)
    git_seconds = time.perf_counter() - begin
    begin = time.perf_counter()
    recorded = record_history(service.store, repo_id, repo, head, None)
    facts_seconds = time.perf_counter() - begin
    return {
        "history_commits": recorded,
        "git_log_numstat_seconds": round(git_seconds, 2),
        "history_facts_seconds": round(facts_seconds, 2),
        "history_facts_ratio": round(facts_seconds / git_seconds, 2),
    }


def first_look_figures(source: str, commits: int, units: int, model: str | None, batch_size: int) -> dict:
    """Seconds from the start of a narration (fresh cache) until the Overview, the digest and every
    headline can be read; the narration stops there (the figures of ``measure`` cover the rest)."""
    scratch = Path(tempfile.mkdtemp(prefix="narrator-bench-"))
    settings = load_settings(db_url=f"sqlite:///{scratch / 'first-look.db'}", model=model)
    service = NarratorService(settings)
    repo_id = service.add_repository(source).id
    seen: dict = {}

    def progress(done: int, total: int, message: str) -> None:
        if message == FIRST_LOOK:
            overview, digest, changes = service.overview(repo_id), service.digest(repo_id), service.changes(repo_id)
            seen.update(seconds=time.perf_counter() - begin, descriptions=len(overview.descriptions),
                        parts=len(overview.parts), digest=digest is not None, headlines=len(changes),
                        narrated_at=service.repository(repo_id).narrated_at is not None)
            raise _FirstLook

    begin = time.perf_counter()
    try:
        # No backend: the model is loaded at its first call, which comes after the first look.
        narrate_repository(settings, service.store, repo_id, Budget(commits=commits, units=units, batch_size=batch_size),
                           None, progress)
    except _FirstLook:
        pass
    return {
        "first_look_seconds": round(seen["seconds"], 2) if seen else None,
        "first_look_headlines": seen.get("headlines"),
        "first_look_descriptions": seen.get("descriptions"),
        "first_look_parts": seen.get("parts"),
        "first_look_digest": seen.get("digest"),
        "first_look_marks_narrated": seen.get("narrated_at"),
    }


def measure(source: str, commits: int, units: int, model: str | None, db: str | None, batch_size: int) -> dict:
    # A fresh cache, but the usual home: the converted model copy is reused, as in normal use.
    scratch = Path(tempfile.mkdtemp(prefix="narrator-bench-"))
    settings = load_settings(db_url=db or f"sqlite:///{scratch / 'bench.db'}", model=model)
    service = NarratorService(settings)
    repo = service.add_repository(source)

    started = time.perf_counter()
    backend = make_backend(settings)
    load_seconds = time.perf_counter() - started

    def timed(budget: Budget) -> tuple[float, int, int]:
        calls, tokens = backend.calls, getattr(backend, "generated_tokens", 0)
        begin = time.perf_counter()
        narrate_repository(settings, service.store, repo.id, budget, backend)
        return time.perf_counter() - begin, backend.calls - calls, getattr(backend, "generated_tokens", 0) - tokens

    commit_seconds, commit_calls, commit_tokens = timed(Budget(commits=commits, units=0, files=0, batch_size=batch_size))
    unit_seconds, unit_calls, unit_tokens = timed(Budget(commits=commits, units=units, files=10_000, batch_size=batch_size))

    begin = time.perf_counter()
    report = narrate_repository(settings, service.store, repo.id, Budget(commits=commits, units=units, files=10_000, batch_size=batch_size), backend)
    cached_seconds = time.perf_counter() - begin

    begin = time.perf_counter()
    shown = markdown(NarratorService(settings), repo.id, commits=commits)
    show_seconds = time.perf_counter() - begin

    return {
        "model": backend.name,
        "repository": source,
        "commits_in_cache": len(service.changes(repo.id)),
        "model_load_seconds": round(load_seconds, 2),
        "model_convert_seconds": round(getattr(backend, "convert_seconds", 0.0), 2),
        "adapter": backend.adapter,
        # Most commits are told by people's words alone; only the rest cost a model call.
        "commits_told": min(commits, len(service.changes(repo.id))),
        "commits_told_per_minute": round(60 * min(commits, len(service.changes(repo.id))) / commit_seconds, 1),
        "commit_model_calls": commit_calls,
        "commit_model_calls_per_minute": round(60 * commit_calls / commit_seconds, 1) if commit_calls else None,
        "unit_and_summary_narratives": unit_calls,
        "units_per_minute": round(60 * unit_calls / unit_seconds, 1) if unit_calls else None,
        "generated_tokens_per_second": round((commit_tokens + unit_tokens) / (commit_seconds + unit_seconds), 1),
        "cached_rerun_seconds": round(cached_seconds, 2),
        "cached_rerun_model_calls": report.model_calls,
        "cached_show_seconds": round(show_seconds, 3),
        "show_characters": len(shown),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "batch_size": batch_size,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m narrator.bench", description=__doc__.splitlines()[0])
    p.add_argument("repo")
    p.add_argument("--commits", type=int, default=30, help="commits to narrate (default 30)")
    p.add_argument("--units", type=int, default=40, help="code units to narrate (default 40)")
    p.add_argument("--model", help="backend (default: embedded)")
    p.add_argument("--db", help="cache URL (default: a fresh temporary SQLite file)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--no-model", action="store_true",
                   help="only the figures that need no model: history facts and first look")
    args = p.parse_args(argv)

    def run() -> int:
        figures = {**history_figures(args.repo, args.model),
                   **first_look_figures(args.repo, args.commits, args.units, args.model, args.batch_size),
                   **command_figures(args.repo)}
        if not args.no_model:
            figures.update(measure(args.repo, args.commits, args.units, args.model, args.db, args.batch_size))
        print(json.dumps(figures, indent=2, default=str))
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
