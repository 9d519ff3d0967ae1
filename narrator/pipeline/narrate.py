"""Narrate a repository: read it, plan what to narrate, call the model, cache every answer.

The flow is one way: repository -> units and commits -> prompts -> model -> faithfulness check ->
narratives in the database. Narration is bottom-up (unit -> file -> folder -> project) because each
level is summarised from the level below. Every narrative is stored under a key hashed from its
prompt, the model, the adapter and the prompt version, so a re-run narrates only what changed and a
crashed run resumes where it stopped: finished answers are already stored and are skipped.

This module plans a run (``narrate_repository``: one at a time per repository and cache) and runs a
queued job (``run_job``); the tasks are built in ``narrator.pipeline.tasks`` and run by
``narrator.pipeline.narration``.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from pathlib import Path, PurePosixPath

from db.errors import NarratorError
from db.jobs import this_host
from db.locks import repository_lock
from db.store import Store
from narrator.defaults import COMMITS
from narrator.facts.area_roles import area_role
from narrator.facts.commit_facts import CommitFacts
from narrator.facts.paths import area_of
from narrator.git.commits import read_commits
from narrator.git.files import skipped_summary
from narrator.git.units import Unit
from narrator.model import kind_model
from narrator.model.backends import Backend, describe
from narrator.pipeline.narration import Narration, Progress
from narrator.pipeline.scan import area_hash, commit_row, content_hash, file_hash, scan, unit_hash, unit_target
from narrator.pipeline.tasks import (
    Budget,
    RunReport,
    commit_task,
    description_tasks,
    note_task,
    part_task,
    rank_files,
    spread_over_areas,
    summary_task,
    unit_task,
)
from narrator.settings import Settings

README_CHILD = "its README says"
"""How the README's opening appears among the parts of the project overview prompt."""


FIRST_LOOK = "First look ready; the model is filling in…"
"""The job message once every fact and people's words are stored, before the first model call."""


def narrate_repository(settings: Settings, store: Store, repo_id: int, budget: Budget,
                       backend: Backend | None = None, progress: Progress | None = None,
                       only: list[tuple[str, str]] | None = None) -> RunReport:
    """Narrate one repository within ``budget``; ``only`` limits it to (kind, target) pairs.

    One narration of a repository at a time per cache: a second run (another terminal, the
    dashboard, a queue worker on another machine) waits for the first, then finds its narratives in
    the cache instead of asking the model for each of them again. The lock is the database's where
    it is shared (PostgreSQL), else a lock file (``db.locks.repository_lock``).
    """
    repo_row = store.get_repository(repo_id)
    progress = progress or (lambda done, total, message: None)
    with repository_lock(store.engine, f"narrate\n{repo_row.source}", _lock_path(settings, repo_row.source),
                         on_wait=lambda: progress(0, 0, "Waiting for another narration of this repository to finish")):
        return _narrate(settings, store, repo_row, budget, backend, progress, only)


def _lock_path(settings: Settings, source: str) -> Path:
    name = hashlib.sha256(f"{settings.db_url}\n{source}".encode()).hexdigest()[:24]
    return settings.home / "locks" / f"narrate-{name}.lock"


def _narrate(settings: Settings, store: Store, repo_row, budget: Budget, backend: Backend | None,
             progress: Progress, only: list[tuple[str, str]] | None) -> RunReport:
    repo_id = repo_row.id
    progress(0, 0, "Reading the repository")
    # The change-kind head's earlier answers, before the scan rewrites the facts they are kept in.
    head = None
    if settings.shown("change_kind") != "off":
        head = kind_model.head_for(settings, lambda: (backend.name, backend.adapter) if backend else describe(settings))
    earlier = {} if head is None else {
        c.sha: CommitFacts.from_json(c.details).model_kind
        for c in [*store.list_commits(repo_id, limit=budget.commits),
                  *store.commits_by_prefix(repo_id, [t for k, t in only or [] if k == "commit"])]}
    repo, files, scanned, commits, rows, units_by_file = scan(settings, store, repo_id, budget.commits, budget.unit_chars,
                                                              progress)
    narration = Narration(settings, store, repo_id, budget, backend, progress)
    narration.report.skipped_files = skipped_summary(scanned)
    narration.report.skipped_note = scanned.note() if narration.report.skipped_files else ""
    narration.report.commits = len(commits)
    language = {f.path: f.language for f in files}

    wanted_commits = [c for c in commits if only is None or ("commit", c.sha) in only]
    missing = sorted({t for k, t in only or [] if k == "commit"} - {c.sha for c in wanted_commits})
    if missing:
        # An older commit asked for on demand: its facts are stored, its patch is read now.
        known = store.commit_shas(repo_id)
        if unknown := [sha for sha in missing if sha not in known]:
            raise NarratorError(f"Commit {unknown[0][:12]} is not among the {len(known):,} commits of this repository.")
        older = read_commits(repo, missing)
        rows.update((c.sha, commit_row(c)) for c in older)
        store.upsert_commits(repo_id, [rows[c.sha] for c in older])
        wanted_commits += older
    if only is None:
        recent = store.list_commits(repo_id, limit=budget.history)
        ranked = spread_over_areas(rank_files(files, (f["path"] for c in recent for f in c.files or [])))
        chosen_files = [f.path for f in ranked] if budget.full else [f.path for f in ranked[: budget.files]]
    else:
        wanted = {t for k, t in only if k == "file"} | {t for k, t in only if k == "module"}
        chosen_files = [f.path for f in files if f.path in wanted or area_of(f.path) in wanted]
    chosen_units: list[Unit] = []
    # Within the budget, a few units of many files say more about the product than every
    # method of one big file.
    per_file = None if only is not None or budget.full else max(3, budget.units // max(1, budget.files))
    for path in chosen_files:
        chosen_units += units_by_file[path][:per_file]
    if only is None and not budget.full:
        chosen_units = chosen_units[: budget.units]
    narration.report.units = len(chosen_units)
    covered = sorted({u.path for u in chosen_units}, key=chosen_files.index)
    areas = sorted({area_of(p) for p in covered})

    headlines, explanations, summaries = (settings.shows(task) for task in ("headline", "explanation", "code_summary"))
    commit_tasks = [task for c in wanted_commits
                    if (task := commit_task(c, rows[c.sha], budget, headlines, explanations)) is not None]
    # Code without its own words gets the model's summary only where summaries are shown.
    unit_tasks = [task for u in chosen_units if (task := unit_task(u, language[u.path], budget)).direct or summaries]
    stage1 = commit_tasks + unit_tasks
    if only is None:
        stage1 += description_tasks(files)
    # Upper bound for the progress bar; later stages shrink it as cached answers are found.
    todo = narration.pending(stage1)
    narration.total = len(todo) + len(covered) + len(areas) + (1 if only is None and summaries else 0)
    todo = narration.store_direct(todo)
    if only is None:
        # Every fact (commits, units) and people's words (descriptions, docstrings) are stored: the
        # Overview, the digest and every headline can be shown. The model fills in behind.
        store.mark_narrated(repo_id)
        progress(narration.done, narration.total, FIRST_LOOK)
        narration.progress = lambda done, total, message: progress(done, total, f"{FIRST_LOOK} {message}")
    if head is not None:
        narration.judge_kinds(wanted_commits, rows, earlier, head)
    if settings.shows("user_note"):
        # Chosen by impact group after the head has judged: a fix the rules called maintenance gets its note.
        notes = [task for c in wanted_commits if (task := note_task(c, rows[c.sha], budget)) is not None]
        stage1 += notes
        notes = narration.pending(notes)
        narration.total += len(notes)
        todo += notes
    stored = narration.run(stage1, "Explaining commits and code", todo)
    own_words = {t.removeprefix("area:"): row for t, row in stored.items() if t.startswith("area:")}

    file_texts: dict[str, str] = {}
    file_tasks = []
    for path in covered:
        units = units_by_file[path]
        rows = [(u.name, stored[unit_target(u)]) for u in units if unit_target(u) in stored and stored[unit_target(u)].text]
        if not rows:
            continue
        parts = [(name, row.text) for name, row in rows]
        hashed = file_hash(unit_hash(u, budget.unit_chars) for u in units)
        task = part_task("file", path, parts, hashed, summaries)
        if len(units) == 1:
            # A file with one unit says what that unit says: no second model call.
            only_row = rows[0][1]
            file_texts[path] = only_row.text
            if narration.pending([task]):
                narration._store(task, only_row.text, only_row.source, {"copied_from_unit": True})
            narration.done += 1
        else:
            file_tasks.append(task)
    file_texts.update((t, row.text) for t, row in narration.run(file_tasks, "Summarising files").items())

    area_tasks = []
    file_hashes = {p: file_hash(unit_hash(u, budget.unit_chars) for u in units) for p, units in units_by_file.items()}
    paths_by_area: dict[str, list[str]] = defaultdict(list)
    for f in files:
        paths_by_area[area_of(f.path)].append(f.path)
    for area in areas:
        # Only source code needs a model's summary: a tests or docs folder is told by its role, and
        # an area that describes itself (its README, its package docstring) keeps its own words.
        if area in own_words or area_role(area, paths_by_area.get(area, [])) != "source code":
            continue
        children = [(PurePosixPath(p).name, file_texts[p]) for p in covered if area_of(p) == area and p in file_texts]
        if children:
            hashed = area_hash(h for p, h in file_hashes.items() if area_of(p) == area)
            # No class's docstring speaks for a part ("base class for all tqdm warnings"): a part
            # without its own words gets a checked model summary or, failing that, its list of files.
            area_tasks.append(part_task("module", area, children, hashed, summaries))
    area_texts = {t: row.text for t, row in narration.run(area_tasks, "Summarising folders").items() if row.text}
    area_texts.update((area, row.text) for area, row in own_words.items())

    if only is None and area_texts and summaries:
        children = sorted(area_texts.items())
        readme = stored.get("project:readme") or stored.get("project:package")
        if readme is not None:
            children.insert(0, (README_CHILD, readme.text))
        overview = summary_task("overview", "", repo_row.name, children, content_hash(sorted(file_hashes.values())))
        narration.run([overview], "Writing the project overview")
    store.mark_narrated(repo_id)
    progress(narration.total, narration.total, "Done")
    return narration.report


def run_job(settings: Settings, job_id: int, backend: Backend | None = None, progress: Progress | None = None) -> RunReport:
    """Run a queued narration job in this process, recording progress and the outcome on the job row.

    Any failure, bad params included, ends the job as 'failed' with a one-line error; Ctrl+C ends it
    as 'interrupted', to be resumed like a job whose worker was killed (the cache keeps its work).
    """
    from narrator.pipeline.jobs import (
        failure,  # narrator.pipeline.jobs is the job system; this is one kind of job
    )

    store = Store(settings.db_url)
    store.update_job(job_id, status="running", pid=os.getpid(), host=this_host(), error=None)

    def record(done: int, total: int, message: str) -> None:
        store.update_job(job_id, done=done, total=total, message=message)
        if progress:
            progress(done, total, message)

    try:
        job = store.get_job(job_id)
        params = job.params or {}
        budget = Budget(commits=int(params.get("commits", COMMITS)), full=bool(params.get("full", False)),
                        batch_size=int(params.get("batch_size", 8)))
        only = [tuple(x) for x in params["only"]] if params.get("only") else None
        report = narrate_repository(settings, store, job.repo_id, budget, backend, record, only)
    except KeyboardInterrupt:
        store.finish_job(job_id, "interrupted", "Interrupted before it finished; run it again to go on.")
        raise
    except BaseException as error:
        store.finish_job(job_id, "failed", failure(error))
        raise
    store.update_job(job_id, result={"narrated": report.narrated, "cached": report.cached, "model_calls": report.model_calls})
    store.finish_job(job_id, "done", message=f"Done: {report.narrated} new narratives, {report.cached} from the cache")
    return report
