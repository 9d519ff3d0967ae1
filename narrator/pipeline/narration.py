"""Run narration tasks: skip what the cache holds, ask the model in batches, check each answer, store it.

Every narrative is stored under a key hashed from its prompt, the model, the adapter and the prompt
version, so a re-run narrates only what changed and a crashed run resumes where it stopped: finished
answers are already stored and are skipped. The model is loaded only when something is not cached.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from db.narratives import cache_key
from db.rows import NarrativeRow
from db.store import Store
from narrator.checks import headlines
from narrator.checks.faithful import CHECK_VERSION, check
from narrator.facts import impact, subjects
from narrator.facts.commit_facts import CommitFacts, ModelKind
from narrator.facts.commit_style import is_commit_style
from narrator.facts.provenance import Source
from narrator.git.commits import CommitInfo, cut_patch
from narrator.model import kind_model, prompts
from narrator.model.backends import Backend, describe, make_backend
from narrator.model.transformers_backend import TransformersBackend
from narrator.pipeline.tasks import Budget, RunReport, Task
from narrator.settings import Settings

Progress = Callable[[int, int, str], None]
"""Called as progress(done, total, message) after every batch."""


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

    def _judge(self, task: Task, answer: str) -> tuple[str, Source, dict]:
        """``(text, source, flags)`` to store for a model answer, after the checks of its kind."""
        shown = "\n".join(m["content"] for m in task.messages)
        omitted = {"omitted": task.suffix.strip()} if task.suffix else {}
        if task.kind in ("commit", "headline", "note"):  # a note for users gets the headline checks
            verdict = (headlines.check_explanation(answer, shown, task.subject, task.files) if task.kind == "commit"
                       else headlines.check_headline(answer, shown, task.files))
            flags = {**verdict.checked.flags, **omitted}
            if verdict.dropped:
                flags.update(dropped=verdict.dropped, raw=answer[:500])
                return task.fallback, task.fallback_source if task.fallback else Source.MODEL, flags
            # A headline stays one line: what the cut diff left out is in its flags, not in its text.
            return verdict.text + (task.suffix if task.kind == "commit" else ""), Source.MODEL, flags
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
            return task.fallback, task.fallback_source if task.fallback else Source.MODEL, flags
        return text + task.suffix, Source.MODEL, flags

    def judge_kinds(self, commits: list[CommitInfo], rows: dict[str, dict], earlier: dict[str, ModelKind | None],
                    head: kind_model.Head) -> int:
        """Record the change-kind head's answer (``kind_model.commit_kinds``) in each commit's facts, and,
        where the model-kind setting shows it, the impact group it gives (``impact.with_model_kind``; the
        rules' own stays as ``rules_impact``). ``earlier``: what the facts held before this run's scan
        rewrote them, reused when judged by the same head of the same input. Returns how many the
        model judged now."""
        entries = {c.sha: found for c in commits
                   if (found := earlier.get(c.sha)) and found.head == head.id
                   and found.input == rows[c.sha].get("input_hash")}
        todo = [c for c in commits if c.sha not in entries and not c.parent_missing]
        if todo and isinstance(self.backend, TransformersBackend):
            self.progress(self.done, self.total, f"Judging the kind of {len(todo)} change{'s' if len(todo) != 1 else ''}")
            items = [(subjects.read_subject(c.subject).headline, [f.path for f in c.files],
                      cut_patch(c.patch, self.budget.patch_tokens)[0]) for c in todo]
            backend = self.backend
            with backend._lock:  # the model is shared with generation
                said = kind_model.commit_kinds(backend.model, backend.tokenizer, head, items, self.budget.batch_size)
            for commit, entry in zip(todo, said):
                entries[commit.sha] = ModelKind(entry["kind"], bool(entry["breaking"]), entry["probability"],
                                                entry["decided"], entry["method"], head.id,
                                                rows[commit.sha].get("input_hash"))
        else:
            todo = []
        shown = self.settings.shows("change_kind")
        changed = []
        for commit in commits:
            entry = entries.get(commit.sha)
            if entry is None:
                continue
            facts = replace(CommitFacts.from_json(rows[commit.sha].get("details")), model_kind=entry)
            rules = facts.impact
            if shown and rules is not None and entry.decided == "model":
                facts = replace(facts, rules_impact=rules, impact=impact.with_model_kind(
                    rules, entry.kind, entry.breaking, float(entry.probability),
                    headline=rows[commit.sha].get("headline") or commit.subject, paths=[f.path for f in commit.files]))
            rows[commit.sha]["details"] = facts.to_json()
            changed.append({"sha": commit.sha, "details": rows[commit.sha]["details"]})
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
