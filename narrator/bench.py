"""Benchmark: ``python -m narrator.bench REPO`` prints measured narration figures as JSON.

It narrates into a fresh temporary cache (unless ``--db`` is given) so nothing is cached at the
start: model load seconds, commit narratives per minute, units per minute, generated tokens per
second, the seconds of a fully cached re-run and of a cached ``show``, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from narrator.backends import make_backend
from narrator.errors import run_command
from narrator.narrate import Budget, narrate_repository
from narrator.report import markdown
from narrator.service import NarratorService
from narrator.settings import load_settings


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
    args = p.parse_args(argv)
    def run() -> int:
        print(json.dumps(measure(args.repo, args.commits, args.units, args.model, args.db, args.batch_size), indent=2, default=str))
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
