"""Benchmark: ``python -m narrator.eval.bench REPO`` prints measured narration figures as JSON.

It narrates into a fresh temporary cache (unless ``--db`` is given) so nothing is cached at the
start: model load seconds, commit narratives per minute, units per minute, generated tokens per
second, the seconds of a fully cached re-run and of a cached ``show``, and peak RSS; and what the
change-kind head costs (``bench_kinds``): the commits it judged, its seconds and milliseconds per
commit (also in CPU time), and its share of the model's seconds in that narration (``kind_head_*``;
none judged with no head beside the model, e.g. a server or the fake model). Before those, with no
model: the seconds of plain ``git log --numstat HEAD > /dev/null`` beside those of recording
every commit's facts (``scan.record_history``, storing included), and the seconds from the start
of a narration until its first look (Overview, digest and every headline readable), and the
seconds and peak RSS of a narration with no new commit (``narrate --model fake``, run twice) and of
``show`` (``narrate_unchanged_seconds``, ``show_seconds_long``), each a command as a user runs it.

With ``--pages``, the dashboard as readers get it (``narrator.eval.bench_pages.page_figures``): the real server
(``streamlit run dashboard/app.py``) over a fresh home holding REPO narrated with the fake model,
asked for each page the way a browser asks, over Streamlit's own websocket: each page's seconds
cold (the first session after the server started) and warm (the same page in another session), 10
Overview sessions at once, and the server's memory before and after 100 page requests.
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

from narrator.defaults import COMMITS
from narrator.entry import run_command
from narrator.eval.bench_kinds import model_clock
from narrator.eval.bench_pages import page_figures
from narrator.eval.timed_cli import _cli
from narrator.git.repo import open_repository
from narrator.model.backends import make_backend
from narrator.pipeline.narrate import FIRST_LOOK, narrate_repository
from narrator.pipeline.scan import record_history
from narrator.pipeline.tasks import Budget
from narrator.render.show import markdown
from narrator.service.core import NarratorService
from narrator.settings import load_settings


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
    """Seconds of plain ``git log --numstat HEAD`` and of recording every commit's facts, fresh cache:
    in-process (``history_facts_ratio``) and as the whole command a user runs, start-up, imports,
    units and storing included (``narrate REPO --commits 0 --model fake``: ``history_command_ratio``).

    Each also in CPU seconds, ours and git's together (``*_cpu_ratio``): on a busy machine the
    seconds depend on what else runs, the CPU seconds do not."""
    scratch = Path(tempfile.mkdtemp(prefix="narrator-bench-"))
    settings = load_settings(db_url=f"sqlite:///{scratch / 'history.db'}", model=model)
    service = NarratorService(settings)
    repo_id = service.add_repository(source).id
    repo = open_repository(source, settings.clone_dir)
    head = repo.head.commit.hexsha
    begin, git_cpu = time.perf_counter(), _cpu_seconds(resource.RUSAGE_CHILDREN)
    # The same hardened environment as every other git command here; output thrown away by the OS.
    subprocess.run(["git", "log", "--numstat", "HEAD"], cwd=repo.working_tree_dir or repo.git_dir, check=True,
                   env={**os.environ, **repo.git.environment()}, stdout=subprocess.DEVNULL)
    git_seconds, git_cpu = time.perf_counter() - begin, _cpu_seconds(resource.RUSAGE_CHILDREN) - git_cpu
    begin, facts_cpu = time.perf_counter(), _cpu_seconds(resource.RUSAGE_SELF) + _cpu_seconds(resource.RUSAGE_CHILDREN)
    recorded = record_history(service.store, repo_id, repo, head, None)
    facts_seconds = time.perf_counter() - begin
    facts_cpu = _cpu_seconds(resource.RUSAGE_SELF) + _cpu_seconds(resource.RUSAGE_CHILDREN) - facts_cpu
    command_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN)
    command_seconds, _ = _cli(["narrate", source, "--commits", "0", "--model", "fake",
                               "--db", f"sqlite:///{scratch / 'command.db'}"])
    command_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - command_cpu
    return {
        "history_commits": recorded,
        "git_log_numstat_seconds": round(git_seconds, 2),
        "history_facts_seconds": round(facts_seconds, 2),
        "history_facts_ratio": round(facts_seconds / git_seconds, 2),
        "history_command_seconds": round(command_seconds, 2),
        "history_command_ratio": round(command_seconds / git_seconds, 2),
        "git_log_numstat_cpu_seconds": round(git_cpu, 2),
        "history_facts_cpu_ratio": round(facts_cpu / git_cpu, 2) if git_cpu else None,
        "history_command_cpu_ratio": round(command_cpu / git_cpu, 2) if git_cpu else None,
    }


def _cpu_seconds(who: int) -> float:
    """User and system CPU seconds of this process (``RUSAGE_SELF``, every thread) or of its
    finished children and theirs (``RUSAGE_CHILDREN``)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


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

    with model_clock(backend) as clock:
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
        **clock.figures(),
    }


def main(argv: list[str] | None = None, prog: str = "python -m narrator.eval.bench") -> int:
    p = argparse.ArgumentParser(
        prog=prog, description=__doc__.splitlines()[0],
        epilog="With a model, the narration's figures include the change-kind head's cost, timed on its real calls: "
               "kind_head_commits judged, kind_head_seconds, kind_head_ms_per_commit (kind_head_cpu_ms_per_commit in CPU time) and "
               "kind_head_share_of_model_seconds (beside model_generate_seconds).")
    p.add_argument("repo")
    p.add_argument("--commits", type=int, default=COMMITS, help=f"commits to narrate (default {COMMITS})")
    p.add_argument("--units", type=int, default=40, help="code units to narrate (default 40)")
    p.add_argument("--model", help="backend (default: embedded, with the shipped adapter and its change-kind head)")
    p.add_argument("--db", help="cache URL (default: a fresh temporary SQLite file)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--no-model", action="store_true",
                   help="only the figures that need no model: history facts and first look")
    p.add_argument("--pages", action="store_true",
                   help="also the dashboard's pages: seconds cold and warm, 10 Overview sessions at once, server memory")
    p.add_argument("--requests", type=int, default=100, help="page requests the server memory is measured across (default 100)")
    p.add_argument("--sessions", type=int, default=10, help="Overview sessions asked at once (default 10)")
    args = p.parse_args(argv)

    def run() -> int:
        figures = {**history_figures(args.repo, args.model),
                   **first_look_figures(args.repo, args.commits, args.units, args.model, args.batch_size),
                   **command_figures(args.repo)}
        if not args.no_model:
            figures.update(measure(args.repo, args.commits, args.units, args.model, args.db, args.batch_size))
        if args.pages:
            figures.update(page_figures(args.repo, args.requests, args.sessions))
        print(json.dumps(figures, indent=2, default=str))
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
