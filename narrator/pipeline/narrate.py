"""Narrate a repository: read it, plan what to narrate, call the model, cache every answer.

The flow is one way: repository -> units and commits -> prompts -> model -> faithfulness check ->
narratives in the database. Narration is bottom-up (unit -> file -> folder -> project) because each
level is summarised from the level below. Every narrative is stored under a key hashed from its
prompt, the model, the adapter and the prompt version, so a re-run narrates only what changed and a
crashed run resumes where it stopped: finished answers are already stored and are skipped.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from db.locks import file_lock
from db.narratives import cache_key
from db.rows import NarrativeRow
from db.store import Store
from narrator.checks.faithful import CHECK_VERSION, check
from narrator.defaults import COMMITS
from narrator.errors import NarratorError
from narrator.facts import categories as facts
from narrator.facts import changes, impact, subjects
from narrator.facts.area_roles import area_role
from narrator.facts.areas import MAIN_CODE_TARGET, describe_area, main_code_area
from narrator.facts.commit_style import is_commit_style
from narrator.facts.description import Description, project_descriptions
from narrator.facts.paths import TOP_LEVEL, is_doc_path, is_release_notes_path, is_test_path, module_of
from narrator.git.commits import CommitInfo, cut_patch, read_commits, without_files
from narrator.git.files import SourceFile, skipped_summary
from narrator.git.units import Unit
from narrator.model import kind_model, prompts
from narrator.model.backends import Backend, describe, make_backend
from narrator.model.transformers_backend import TransformersBackend
from narrator.pipeline.scan import (
    UNIT_CHARS,
    commit_hash,
    commit_row,
    digest,
    file_hash,
    module_hash,
    scan,
    unit_hash,
    unit_target,
)
from narrator.settings import Settings

README_CHILD = "its README says"
"""How the README's opening appears among the parts of the project overview prompt."""

Progress = Callable[[int, int, str], None]
"""Called as progress(done, total, message) after every batch."""

FIRST_LOOK = "First look ready; the model is filling in…"
"""The job message once every fact and people's words are stored, before the first model call."""

@dataclass(frozen=True)
class Budget:
    """How much the first run narrates; the rest is narrated on demand from the dashboard."""

    commits: int = COMMITS
    """The latest commits to explain."""
    units: int = 60
    """Functions/classes of the most important files to summarise."""
    files: int = 20
    """Files (the most important first) whose units are summarised."""
    patch_tokens: int = 300
    """Approximate tokens of diff a commit prompt may carry; the rest is left out and said so."""
    unit_chars: int = UNIT_CHARS
    """Characters of code a unit prompt may carry."""
    batch_size: int = 8
    """Prompts per model call."""
    full: bool = False
    """Narrate every unit and file, ignoring ``units`` and ``files``."""
    history: int = 200
    """The latest commits whose changed files rank the files to narrate (every commit's facts are
    recorded, whatever this says)."""

    def __post_init__(self) -> None:
        for name in ("commits", "units", "files", "patch_tokens", "unit_chars", "batch_size", "history"):
            if getattr(self, name) < 0 or (name == "batch_size" and self.batch_size == 0):
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")


@dataclass
class Task:
    """One narrative to produce (or find in the cache)."""

    kind: str
    """'unit', 'file', 'module', 'overview', 'commit', 'headline' or 'note' (a note for users)."""
    target: str
    """What it narrates: 'path::name', a file path, a folder, '' for the project, or a commit sha."""
    messages: prompts.Messages
    input_hash: str
    """Hash of the underlying code or change: a narrative whose target's hash moved on is stale."""
    max_new_tokens: int = 64
    max_sentences: int = 2
    fallback: str = ""
    """Shown when no sentence of the model's answer passes the faithfulness check."""
    suffix: str = ""
    """Computed text appended to the answer (e.g. what a cut diff left out)."""
    key: str = ""
    fallback_source: str = "git"
    """Whose words ``fallback`` is (a ``db.models.SOURCES`` value)."""
    direct: str = ""
    """Text that needs no model (a docstring, a README paragraph): stored as it is, as ``direct_source``."""
    direct_source: str = "docstring"
    origin: str = ""
    """For ``direct`` text: the file it was read from, shown with its label."""
    subject: str = ""
    """For a commit explanation: the developer's subject the model's sentence must agree with."""
    files: list[dict] | None = None
    """For a commit headline or explanation: the commit's changed files, which the sentence must not deny."""


@dataclass
class RunReport:
    """What a run did, for the CLI summary and the benchmark."""

    commits: int = 0
    units: int = 0
    narrated: int = 0
    cached: int = 0
    flagged: int = 0
    model_calls: int = 0
    skipped_files: dict = field(default_factory=dict)
    skipped_note: str = ""


def rank_files(files: list[SourceFile], changed: Iterable[str]) -> list[SourceFile]:
    """The most important files first: often changed, code over docs, source over tests.

    ``changed`` holds a path once for every recent commit that changed it.
    """
    touched: dict[str, int] = defaultdict(int)
    for path in changed:
        touched[path] += 1

    def score(f: SourceFile) -> float:
        value = 3.0 * touched.get(f.path, 0) + min(f.size, 20_000) / 4_000
        if f.language:
            value += 4
        if PurePosixPath(f.path).stem.upper() == "README":
            value += 6
        if is_test_path(f.path):
            value *= 0.3
        elif is_doc_path(f.path) and PurePosixPath(f.path).stem.upper() != "README":
            value *= 0.2  # changelogs are touched by every release but say little about the product
        return value

    return sorted(files, key=lambda f: (-score(f), f.path))


def spread_over_folders(ranked: list[SourceFile]) -> list[SourceFile]:
    """Interleave folders, each in its own order: the best file of every folder, then the second...

    So a first run with a small budget gives every main part of the project a summary.
    """
    queues: dict[str, list[SourceFile]] = {}
    for f in ranked:
        queues.setdefault(module_of(f.path), []).append(f)
    spread: list[SourceFile] = []
    while queues:
        for folder in list(queues):
            spread.append(queues[folder].pop(0))
            if not queues[folder]:
                del queues[folder]
    return spread


def commit_task(commit: CommitInfo, row: dict, budget: Budget, model_headline: bool = True,
                explanation: bool = True) -> Task | None:
    """The model task a commit needs (see ``changes.needs_model``), or None when people's words suffice.

    An uninformative subject gets a headline from the diff alone (the diff-only prompt the adapter
    was trained on) when ``model_headline`` (``Settings.shows("headline")``; else its page shows a line
    of git facts); an informative one without an explanation may get one sentence under it, when
    ``explanation`` (``Settings.shows("explanation")``).
    """
    headline, need = row["headline"], changes.needs_model(row["category"], row["details"])
    if (need is None or commit.parent_missing or (need == "headline" and not model_headline)
            or (need == "commit" and not explanation)):
        # A shallow clone's oldest commit has no diff to read: the model would only make one up.
        return None
    patch, omitted = cut_patch(commit.patch, budget.patch_tokens)
    paths = [c.path for c in commit.files]
    if need == "headline":
        return Task(
            kind="headline", target=commit.sha, messages=prompts.commit_prompt(paths, patch),
            input_hash=commit_hash(commit), max_new_tokens=32, max_sentences=1,
            fallback=changes.facts_headline(len(commit.files), commit.added, commit.removed, row["area"]),
            fallback_source="git", suffix=f" ({omitted})" if omitted else "", files=row["files"],
        )
    return Task(
        kind="commit", target=commit.sha, messages=prompts.explain_prompt(headline, paths, patch),
        input_hash=commit_hash(commit), max_new_tokens=40, max_sentences=1, subject=headline, files=row["files"],
        suffix=f" ({omitted})" if omitted else "",
    )


NOTE_GROUPS = ("new", "fixed", "affects")
"""The impact groups (``narrator.facts.impact``) users notice: new for users, fixed for users, may affect existing users."""


def note_task(commit: CommitInfo, row: dict, budget: Budget) -> Task | None:
    """The model's note for users a commit may get (``prompts.user_note_prompt``), or None.

    Only for a change users notice (``NOTE_GROUPS``) whose people wrote no changelog line for it
    (their words come first), that changes more than tests, documentation and changelogs. The
    changelog files are left out of the prompt, as in training; the answer gets the headline checks.
    """
    from narrator.facts.subjects import read_subject

    details = row.get("details") or {}
    if ((details.get("impact") or {}).get("group") not in NOTE_GROUPS or details.get("release_notes")
            or commit.parent_missing):
        return None
    paths = [f.path for f in commit.files if not is_release_notes_path(f.path)]
    if not paths or all(is_test_path(p) or is_doc_path(p) for p in paths):
        return None
    patch = cut_patch(without_files(commit.patch, is_release_notes_path), budget.patch_tokens)[0]
    return Task(kind="note", target=commit.sha, input_hash=commit_hash(commit), max_new_tokens=48, max_sentences=1,
                messages=prompts.user_note_prompt(read_subject(commit.subject).headline, paths, patch),
                files=[f for f in row["files"] if not is_release_notes_path(f["path"])])


def unit_task(unit: Unit, language: str | None, budget: Budget) -> Task:
    """A unit's summary: the developer's own doc sentence when it has one, else the model's."""
    code = unit.code[: budget.unit_chars]
    return Task(
        kind="unit",
        target=unit_target(unit),
        messages=prompts.unit_prompt(code, unit.name, unit.kind, unit.path, language),
        input_hash=unit_hash(unit, budget.unit_chars),
        max_new_tokens=40,
        max_sentences=2,
        # Only code has docstrings: a "/**" inside a JSON string is not one.
        direct=facts.doc_sentence(unit.code) if language else "",
        direct_source="docstring",
    )


def summary_task(kind: str, target: str, name: str, children: list[tuple[str, str]], input_hash: str) -> Task:
    """A file/folder/project summary built from its children's narratives."""
    scope = {"file": "file", "module": "folder", "overview": "project"}[kind]
    lines = [f"{child}: {text}" for child, text in children[:15] if text]
    return Task(
        kind=kind,
        target=target,
        messages=prompts.summary_prompt(scope, name, lines),
        input_hash=input_hash,
        max_new_tokens=80 if kind == "overview" else 56,
        # The project's own description leads the overview; the model may add two sentences at most.
        max_sentences=2,
        fallback="" if kind == "overview" else summary_fallback(children),
    )


def parts_task(kind: str, target: str, children: list[tuple[str, str]], input_hash: str) -> Task:
    """A file or folder described by its list of parts (``summary_fallback``), no model: what it gets
    when the model's code summaries are not shown (``Settings.shows("code_summary")``)."""
    text = summary_fallback(children)
    return Task(kind=kind, target=target, messages=[{"role": "user", "content": f"parts of {target}\n{text}"}],
                input_hash=input_hash, direct=text, direct_source="git")


def summary_fallback(children: list[tuple[str, str]]) -> str:
    """Computed text for a file or folder summary whose model answer failed the check: its parts."""
    names = [child for child, text in children if text]
    if not names:
        return ""
    listed = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"Made of {len(names)} narrated part{'s' if len(names) != 1 else ''}: {listed}."


def description_tasks(files: list[SourceFile]) -> list[Task]:
    """The project's and each area's own description (package metadata, READMEs, docstrings): no model.

    Targets are ``project:package``, ``project:readme``, ``area:<folder>`` and ``MAIN_CODE_TARGET``
    (the main code's folder, a git fact).
    """
    texts = {f.path: f.text for f in files if f.text}
    readme = next((p for p in sorted(texts) if "/" not in p and p.upper().startswith("README")), "")
    found: list[tuple[str, Description]] = []
    for described in project_descriptions(texts):
        found.append(("project:" + ("readme" if described.source.startswith("README") else "package"), described))
    for area in sorted({module_of(p) for p in texts} - {TOP_LEVEL}):
        own = describe_area(area, texts)
        if own is not None:
            found.append((f"area:{area}", own))
    main = main_code_area(texts)
    if main is not None:  # a plain reading calls it "the main code", whatever describes it
        found.append((MAIN_CODE_TARGET, Description(main, "git facts")))
    # The target is part of the cache key: the main code folder may say just what the project says.
    return [Task(kind="description", target=target, messages=[{"role": "user", "content": f"{target}\n{d.text}"}],
                 input_hash=digest(d.text), direct=d.text, direct_source=_source_of(d.source),
                 origin=readme if d.source == "README" else _origin_of(d.source))
            for target, d in found]


def _origin_of(label: str) -> str:
    """The file a ``Description`` label names: 'package metadata (pyproject.toml)' -> 'pyproject.toml'."""
    return label[label.rfind("(") + 1 : -1] if label.endswith(")") else label


def _source_of(label: str) -> str:
    """The ``SOURCES`` value of a ``Description`` label."""
    lowered = label.lower()
    if lowered.startswith("package metadata"):
        return "package"
    if lowered == "git facts":
        return "git"
    if "readme" in lowered:
        return "readme"
    return "docstring"


# --- running ------------------------------------------------------------------------------------


class Narration:
    """One narration run over one repository, writing to one store."""

    def __init__(self, settings: Settings, store: Store, repo_id: int, budget: Budget,
                 backend: Backend | None = None, progress: Progress | None = None) -> None:
        self.settings = settings
        self.store = store
        self.repo_id = repo_id
        self.budget = budget
        self._backend = backend
        self._identity = (backend.name, backend.adapter) if backend is not None else None
        self.progress = progress or (lambda done, total, message: None)
        self.report = RunReport()
        self.done = 0
        self.total = 0

    @property
    def backend(self) -> Backend:
        # Loaded only when something is not cached: a fully cached re-run never loads the model.
        if self._backend is None:
            self._backend = make_backend(self.settings)
        return self._backend

    def identity(self) -> tuple[str, str | None]:
        """(model, adapter) as they go into cache keys; known without loading the model.

        Computed once: the adapter id hashes the adapter's weights, far too slow to redo per task.
        """
        if self._identity is None:
            self._identity = describe(self.settings)
        return self._identity

    def _key(self, task: Task) -> str:
        model, adapter = self.identity()
        return cache_key(kind=task.kind, messages=task.messages, model=model, adapter=adapter,
                         prompt_version=prompts.PROMPT_VERSION, check_version=CHECK_VERSION)

    def pending(self, tasks: list[Task]) -> list[Task]:
        """The tasks whose narrative is not cached yet (keys are filled in on the way).

        A prompt another repository already asked (a copy, a bare clone, the same "init" commit)
        reuses that answer: it is copied into this repository's own rows, without a model call.
        """
        todo = []
        for task in tasks:
            task.key = task.key or self._key(task)
            if (own := self.store.get_narrative(task.key, self.repo_id)) is not None:
                if own.input_hash != task.input_hash:
                    # Same prompt, so the same answer, for an input that changed where the prompt
                    # does not look (past a cut): the stored answer is current for it.
                    self.store.set_input_hash(task.key, self.repo_id, task.input_hash)
                self.report.cached += 1
            elif (elsewhere := self.store.get_narrative(task.key)) is not None:
                self.store.put_narrative(
                    key=task.key, repo_id=self.repo_id, kind=task.kind, target=task.target,
                    input_hash=task.input_hash, model=elsewhere.model, adapter=elsewhere.adapter,
                    prompt_version=elsewhere.prompt_version, text=elsewhere.text,
                    flags=elsewhere.flags, source=elsewhere.source,
                )
                self.report.cached += 1
            else:
                todo.append(task)
        return todo

    def _store(self, task: Task, text: str, source: str, flags: dict) -> None:
        model, adapter = self.identity()
        self.store.put_narrative(
            key=task.key, repo_id=self.repo_id, kind=task.kind, target=task.target,
            input_hash=task.input_hash, model=model, adapter=adapter,
            prompt_version=prompts.PROMPT_VERSION, text=text.strip(), flags=flags, source=source,
        )
        self.report.narrated += 1

    def _judge(self, task: Task, answer: str) -> tuple[str, str, dict]:
        """``(text, source, flags)`` to store for a model answer, after the checks of its kind."""
        shown = "\n".join(m["content"] for m in task.messages)
        omitted = {"omitted": task.suffix.strip()} if task.suffix else {}
        if task.kind in ("commit", "headline", "note"):  # a note for users gets the headline checks
            verdict = (changes.check_explanation(answer, shown, task.subject, task.files) if task.kind == "commit"
                       else changes.check_headline(answer, shown, task.files))
            flags = {**verdict.checked.flags, **omitted}
            if verdict.dropped:
                flags.update(dropped=verdict.dropped, raw=answer[:500])
                return task.fallback, task.fallback_source if task.fallback else "model", flags
            # A headline stays one line: what the cut diff left out is in its flags, not in its text.
            return verdict.text + (task.suffix if task.kind == "commit" else ""), "model", flags
        checked = check(answer, shown, task.max_sentences)
        flags = {**checked.flags, **omitted}
        text = checked.text
        if text and task.kind in ("module", "overview") and is_commit_style(text):
            # "Remove the fake project directory." describes a change, not what a part is.
            flags["dropped"], text = "reads like a commit subject", ""
        if checked.dropped or not text:
            flags["raw"] = answer[:500]
        if not text:
            flags.setdefault("dropped", "faithfulness")
            return task.fallback, task.fallback_source if task.fallback else "model", flags
        return text + task.suffix, "model", flags

    def judge_kinds(self, commits: list[CommitInfo], rows: dict[str, dict], earlier: dict[str, dict],
                    head: kind_model.Head) -> int:
        """Record the change-kind head's answer (``kind_model.commit_kinds``) in each commit's facts, and,
        where the model-kind setting shows it, the impact group it gives (``impact.with_model_kind``; the
        rules' own stays as ``rules_impact``). ``earlier``: what the facts held before this run's scan
        rewrote them, reused when judged by the same head of the same input. Returns how many the
        model judged now."""
        entries = {c.sha: found for c in commits
                   if (found := earlier.get(c.sha)) and found.get("head") == head.id
                   and found.get("input") == rows[c.sha].get("input_hash")}
        todo = [c for c in commits if c.sha not in entries and not c.parent_missing]
        if todo and isinstance(self.backend, TransformersBackend):
            self.progress(self.done, self.total, f"Judging the kind of {len(todo)} change{'s' if len(todo) != 1 else ''}")
            items = [(subjects.read_subject(c.subject).headline, [f.path for f in c.files],
                      cut_patch(c.patch, self.budget.patch_tokens)[0]) for c in todo]
            backend = self.backend
            with backend._lock:  # the model is shared with generation
                said = kind_model.commit_kinds(backend.model, backend.tokenizer, head, items, self.budget.batch_size)
            for commit, entry in zip(todo, said):
                entries[commit.sha] = {**entry, "head": head.id, "input": rows[commit.sha].get("input_hash")}
        else:
            todo = []
        shown = self.settings.shows("change_kind")
        changed = []
        for commit in commits:
            entry, details = entries.get(commit.sha), dict(rows[commit.sha].get("details") or {})
            if entry is None:
                continue
            details[kind_model.DETAILS_KEY] = entry
            rules = impact.Impact.from_json(details["impact"]) if details.get("impact") else None
            if shown and rules is not None and entry.get("decided") == "model":
                details["rules_impact"] = rules.to_json()
                details["impact"] = impact.with_model_kind(
                    rules, entry["kind"], bool(entry["breaking"]), float(entry["probability"]),
                    headline=rows[commit.sha].get("headline") or commit.subject, paths=[f.path for f in commit.files]).to_json()
            rows[commit.sha]["details"] = details
            changed.append({"sha": commit.sha, "details": details})
        if changed:
            self.store.upsert_commits(self.repo_id, changed)
        return len(todo)

    def store_direct(self, todo: list[Task]) -> list[Task]:
        """Store the tasks with ``direct`` text (people's words) as they are; returns the others."""
        for task in [t for t in todo if t.direct]:
            self._store(task, task.direct, task.direct_source, {"origin": task.origin} if task.origin else {})
            self.done += 1
        return [t for t in todo if not t.direct]

    def run(self, tasks: list[Task], message: str, todo: list[Task] | None = None) -> dict[str, NarrativeRow]:
        """Narrate ``tasks`` in batches, storing each batch as soon as it is done.

        Tasks with ``direct`` text (people's words) are stored without a model call. ``todo`` is
        ``pending(tasks)`` when the caller already looked the tasks up in the cache.
        """
        todo = self.store_direct(self.pending(tasks) if todo is None else todo)
        # Similar lengths in one batch waste less time on padding.
        todo = sorted(todo, key=lambda t: sum(len(m["content"]) for m in t.messages))
        size = self.budget.batch_size
        for start in range(0, len(todo), size):
            # Another process narrating the same repository (e.g. on a shared PostgreSQL cache)
            # may have stored some of these meanwhile: ask the cache again, not the model.
            chunk = todo[start : start + size]
            batch = self.pending(chunk)
            self.done += len(chunk) - len(batch)
            if not batch:
                continue
            self.progress(self.done, self.total, f"{message} ({start + 1}-{start + len(batch)} of {len(todo)})")
            answers = self.backend.generate([t.messages for t in batch], max_new_tokens=max(t.max_new_tokens for t in batch))
            self.report.model_calls += len(batch)
            for task, answer in zip(batch, answers):
                text, source, flags = self._judge(task, answer)
                if flags.get("dropped") or flags.get("dropped_sentences"):
                    self.report.flagged += 1
                self._store(task, text, source, flags)
            self.done += len(batch)
            self.progress(self.done, self.total, message)
        stored: dict[str, NarrativeRow] = {}
        for task in tasks:
            row = self.store.get_narrative(task.key, self.repo_id)
            if row is not None:
                stored[task.target] = row
        return stored


def narrate_repository(settings: Settings, store: Store, repo_id: int, budget: Budget,
                       backend: Backend | None = None, progress: Progress | None = None,
                       only: list[tuple[str, str]] | None = None) -> RunReport:
    """Narrate one repository within ``budget``; ``only`` limits it to (kind, target) pairs.

    One narration of a repository at a time per cache: a second run (another terminal, the
    dashboard) waits for the first, then finds its narratives in the cache instead of asking the
    model for each of them again.
    """
    repo_row = store.get_repository(repo_id)
    progress = progress or (lambda done, total, message: None)
    with file_lock(_lock_path(settings, repo_row.source),
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
        c.sha: (c.details or {}).get(kind_model.DETAILS_KEY)
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
        ranked = spread_over_folders(rank_files(files, (f["path"] for c in recent for f in c.files or [])))
        chosen_files = [f.path for f in ranked] if budget.full else [f.path for f in ranked[: budget.files]]
    else:
        wanted = {t for k, t in only if k == "file"} | {t for k, t in only if k == "module"}
        chosen_files = [f.path for f in files if f.path in wanted or module_of(f.path) in wanted]
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
    modules = sorted({module_of(p) for p in covered})

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
    narration.total = len(todo) + len(covered) + len(modules) + (1 if only is None and summaries else 0)
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
        task = summary_task("file", path, path, parts, hashed) if summaries else parts_task("file", path, parts, hashed)
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

    module_tasks = []
    file_hashes = {p: file_hash(unit_hash(u, budget.unit_chars) for u in units) for p, units in units_by_file.items()}
    paths_by_area: dict[str, list[str]] = defaultdict(list)
    for f in files:
        paths_by_area[module_of(f.path)].append(f.path)
    for module in modules:
        # Only source code needs a model's summary: a tests or docs folder is told by its role, and
        # an area that describes itself (its README, its package docstring) keeps its own words.
        if module in own_words or area_role(module, paths_by_area.get(module, [])) != "source code":
            continue
        children = [(PurePosixPath(p).name, file_texts[p]) for p in covered if module_of(p) == module and p in file_texts]
        if children:
            mhash = module_hash(h for p, h in file_hashes.items() if module_of(p) == module)
            # No class's docstring speaks for a part ("base class for all tqdm warnings"): a part
            # without its own words gets a checked model summary or, failing that, its list of files.
            module_tasks.append(summary_task("module", module, module, children, mhash) if summaries
                                else parts_task("module", module, children, mhash))
    module_texts = {t: row.text for t, row in narration.run(module_tasks, "Summarising folders").items() if row.text}
    module_texts.update((area, row.text) for area, row in own_words.items())

    if only is None and module_texts and summaries:
        children = sorted(module_texts.items())
        readme = stored.get("project:readme") or stored.get("project:package")
        if readme is not None:
            children.insert(0, (README_CHILD, readme.text))
        overview = summary_task("overview", "", repo_row.name, children, digest(sorted(file_hashes.values())))
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
    store.update_job(job_id, status="running", pid=os.getpid(), error=None)

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
    store.finish_job(job_id, "done", message=f"Done: {report.narrated} new narratives, {report.cached} from the cache")
    return report
