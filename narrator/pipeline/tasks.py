"""What narration asks the model, and within what budget: the ``Budget``, one ``Task`` per prompt, and their builders.

A task is built from facts alone (a commit, a unit of code, a folder's children, a project description),
so planning what to narrate needs no model; ``narrator.pipeline.narration`` runs the tasks and
``narrator.pipeline.narrate`` decides which to build. ``RunReport`` says what a run did.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Iterable

from narrator.defaults import COMMITS
from narrator.facts import categories as facts
from narrator.facts import changes
from narrator.facts.areas import MAIN_CODE_TARGET, describe_area, main_code_area
from narrator.facts.commit_facts import CommitFacts
from narrator.facts.description import Description, project_descriptions
from narrator.facts.paths import TOP_LEVEL, area_of, is_doc_path, is_release_notes_path, is_test_path
from narrator.facts.provenance import Source
from narrator.git.commits import CommitInfo, cut_patch, without_files
from narrator.git.files import SourceFile
from narrator.git.units import Unit
from narrator.model import prompts
from narrator.pipeline.scan import UNIT_CHARS, commit_hash, content_hash, unit_hash, unit_target


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
    fallback_source: Source = Source.GIT
    """Whose words ``fallback`` is."""
    direct: str = ""
    """Text that needs no model (a docstring, a README paragraph): stored as it is, as ``direct_source``."""
    direct_source: Source = Source.DOCSTRING
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


def spread_over_areas(ranked: list[SourceFile]) -> list[SourceFile]:
    """Interleave areas, each in its own order: the best file of every area, then the second...

    So a first run with a small budget gives every main part of the project a summary.
    """
    queues: dict[str, list[SourceFile]] = {}
    for f in ranked:
        queues.setdefault(area_of(f.path), []).append(f)
    spread: list[SourceFile] = []
    while queues:
        for area in list(queues):
            spread.append(queues[area].pop(0))
            if not queues[area]:
                del queues[area]
    return spread


def commit_task(commit: CommitInfo, row: dict, budget: Budget, model_headline: bool = True,
                explanation: bool = True) -> Task | None:
    """The model task a commit needs (see ``changes.needs_model``), or None when people's words suffice.

    An uninformative subject gets a headline from the diff alone (the diff-only prompt the adapter
    was trained on) when ``model_headline`` (``Settings.shows("headline")``; else its page shows a line
    of git facts); an informative one without an explanation may get one sentence under it, when
    ``explanation`` (``Settings.shows("explanation")``).
    """
    headline, need = row["headline"], changes.needs_model(row["category"], CommitFacts.from_json(row["details"]))
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
            fallback_source=Source.GIT, suffix=f" ({omitted})" if omitted else "", files=row["files"],
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

    stored = CommitFacts.from_json(row.get("details"))
    if stored.impact is None or stored.impact.group not in NOTE_GROUPS or stored.release_notes or commit.parent_missing:
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
        direct_source=Source.DOCSTRING,
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


def part_task(kind: str, target: str, children: list[tuple[str, str]], input_hash: str, summaries: bool) -> Task:
    """A file's or folder's narrative: the model's summary of its parts where code summaries are shown
    (``Settings.shows("code_summary")``), else its list of parts (``summary_fallback``), no model."""
    if summaries:
        return summary_task(kind, target, target, children, input_hash)
    text = summary_fallback(children)
    return Task(kind=kind, target=target, messages=[{"role": "user", "content": f"parts of {target}\n{text}"}],
                input_hash=input_hash, direct=text, direct_source=Source.GIT)


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
    found: list[tuple[str, Description]] = []
    for described in project_descriptions(texts):
        found.append(("project:" + ("readme" if described.source is Source.README else "package"), described))
    for area in sorted({area_of(p) for p in texts} - {TOP_LEVEL}):
        own = describe_area(area, texts)
        if own is not None:
            found.append((f"area:{area}", own))
    main = main_code_area(texts)
    if main is not None:  # a plain reading calls it "the main code", whatever describes it
        found.append((MAIN_CODE_TARGET, Description(main, Source.GIT)))
    # The target is part of the cache key: the main code folder may say just what the project says.
    return [Task(kind="description", target=target, messages=[{"role": "user", "content": f"{target}\n{d.text}"}],
                 input_hash=content_hash(d.text), direct=d.text, direct_source=d.source, origin=d.origin)
            for target, d in found]
