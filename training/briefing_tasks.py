"""The briefing's two model tasks, made from people's own labels in the shared data, split by repository.

- ``change_kind``: a commit of ``conventional_commits/`` -> its kind and a breaking flag. The prompt
  (``narrator.model.prompts.change_kind_prompt``) shows the subject as narration heads it (``headline``: its
  ``type(scope)!:`` prefix and trailing refs removed),
  the changed paths and the diff cut to narration's budget; the target is ``change_kind_answer``'s short
  form ("fix", "feature, breaking"). The developer's conventional type becomes one of seven kinds
  (``kind_of_type``):

  ==================================================  ===========================================
  conventional type                                   kind
  ==================================================  ===========================================
  feat                                                feature
  fix                                                 fix
  docs                                                docs
  test, tests                                         tests
  ci                                                  ci
  build; chore, ci, fix or build with scope deps,     build (build and dependencies)
  deps-dev or dependencies (a dependency update)
  chore, refactor, perf, style                        maintenance (refactoring and maintenance)
  revert                                              dropped: the label says nothing of the kind
                                                      of change undone
  ==================================================  ===========================================

  Also dropped: commits by bots (Renovate, Dependabot, release-please ...: dependency updates and
  release commits in a fixed wording, which the rules already name from their author and subject;
  keeping them would fill a sixth of the rows with boilerplate that flatters any classifier), release
  commits by people ("release 1.2.3": the rules name them exactly, and "release" is none of the seven
  kinds), and commits whose diff is missing. ``include_bots`` keeps the bots' rows (to measure them).

- ``user_note``: a commit of ``release_notes/`` -> the changelog entry its author added for users.
  The prompt (``user_note_prompt``) shows the subject and the diff, both without changelog files; the
  target is the note's first entry, with a ``fix:``-style prefix removed. Dropped: notes for
  contributors or packagers, not users (``note_kind`` vendor, contrib, process, misc), notes that
  only repeat the subject (as narration heads it), notes that open with a code block and entries under 20
  characters.

Splits are by repository, never by commit (``training.splits.assign_splits``, the same function as
``prepare``'s): repositories are ordered by a seeded hash of their name and the first 20% (at least one)
go to test, the next 10% (at least one) to validation, the rest to training. A repository the study already trains on or holds out through
another set (``PINNED_SOURCES``) keeps that split here too, so no task of the cocktail tests on a
repository another task trained on.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from db.errors import DataError
from db.files import write_atomic
from narrator.eval.metrics import read_jsonl
from narrator.facts import prefixes
from narrator.facts.releases import release_version
from narrator.facts.subjects import read_subject
from narrator.git.commits import cut_patch
from narrator.model import prompts
from narrator.model.kind_model import RULE_KIND, rules_kind  # noqa: F401  (the rules the model is measured against)
from training.examples import BRIEFING_TASKS, SPLITS, Example, write_examples
from training.sources import PATCH_TOKENS
from training.splits import DEFAULT_FRACTIONS, assign_splits, repository_of

CONVENTIONAL = "conventional_commits"
"""The shared folder of conventional-commit rows (``change_kind``)."""
RELEASE_NOTES = "release_notes"
"""The shared folder of commits with their own changelog entry (``user_note``)."""
FOLDER_OF_TASK = {"change_kind": CONVENTIONAL, "user_note": RELEASE_NOTES}

KIND_NAMES = {"feature": "feature", "fix": "fix", "docs": "docs", "tests": "tests", "ci": "ci",
              "build": "build/dependencies", "maintenance": "refactor/maintenance"}
"""Each kind of ``prompts.CHANGE_KINDS`` as a report names it."""

_TYPE_KIND = {"feat": "feature", "fix": "fix", "docs": "docs", "test": "tests", "tests": "tests", "ci": "ci",
              "build": "build", "chore": "maintenance", "refactor": "maintenance", "perf": "maintenance",
              "style": "maintenance"}
DEPENDENCY_SCOPES = frozenset({"deps", "deps-dev", "dependencies"})
"""Scopes that say a commit updates dependencies (``chore(deps):``, Dependabot's ``build(deps-dev):``)."""
_DEPENDENCY_TYPES = frozenset({"chore", "build", "ci", "fix"})

NOT_FOR_USERS = frozenset({"vendor", "contrib", "process", "misc"})
"""``note_kind`` values of entries written for contributors or packagers, not for users."""

PINNED_SOURCES = {"csn_style_extracted_more": "train", "commitpack_style_mined_more": "train",
                  "csn_style_extracted": "test", "commitpack_style_mined": "test"}
"""Shared folders the study (``training.study_data.STUDY_SOURCES``) trains on or tests on whole: their
repositories keep that split in the briefing tasks."""

_DATASET_MARKS = re.compile(r"^\[\.\.\. diff (?:truncated|cut) at [\d,]+ characters \.\.\.\]$|^\[large file not available", re.M)
_NOTE_TYPES = frozenset({"feat", "fix", "docs", "chore", "refactor", "perf", "test", "tests", "build", "ci", "style"})
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_EXTENSIONS = {".py": "python", ".go": "go", ".java": "java", ".kt": "java", ".php": "php", ".rb": "ruby",
               ".rs": "rust", ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".js": "javascript",
               ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".svelte": "javascript", ".vue": "javascript"}


# --- labels -------------------------------------------------------------------------------------------


def kind_of_type(conventional_type: str, scope: str | None = None) -> str | None:
    """The kind a conventional type (and scope) states (see the module's table), or None (revert, unknown)."""
    kind = (conventional_type or "").strip().lower()
    if kind in _DEPENDENCY_TYPES and (scope or "").strip().lower() in DEPENDENCY_SCOPES:
        return "build"
    return _TYPE_KIND.get(kind)


# --- splits -------------------------------------------------------------------------------------------


def pinned_repositories(shared: Path) -> dict[str, str]:
    """``{repository: split}`` for the repositories of ``PINNED_SOURCES`` found under ``shared``."""
    pins: dict[str, str] = {}
    for folder, split in PINNED_SOURCES.items():
        for path in sorted((shared / folder).glob("*.jsonl")):
            for row in read_jsonl(path):
                repo = repository_of(row) if isinstance(row, dict) else None
                if repo:
                    pins.setdefault(repo, split)
    return pins


# --- rows -> examples ---------------------------------------------------------------------------------


def clean_diff(diff: str) -> str:
    """A data set's diff without its own cut marks, cut to narration's budget like a run-time patch."""
    patch = _DATASET_MARKS.sub("", diff or "").strip("\n")
    return cut_patch(patch, PATCH_TOKENS)[0] if patch.strip() else ""


def headline(subject: object) -> str:
    """A subject as narration heads its change (``subjects.read_subject``: a ``fix:``-style prefix and
    trailing refs removed, the first letter capitalised), so the prompts are the ones sent at run time."""
    return read_subject(str(subject or "")).headline


def language_of(paths: list[str]) -> str:
    """The most common programming language among ``paths`` (by extension), else 'other'."""
    seen = Counter(_EXTENSIONS[ext] for path in paths if (ext := Path(path).suffix.lower()) in _EXTENSIONS)
    return seen.most_common(1)[0][0] if seen else "other"


@dataclass(frozen=True)
class KindRow:
    """A usable conventional-commit row: what the model and the rules see, and the people's label."""

    repo: str
    subject: str
    paths: list[str]
    patch: str
    kind: str
    breaking: bool


def kind_row(row: dict, include_bots: bool = False) -> KindRow | str:
    """A ``conventional_commits`` row as a ``KindRow``, or why it is dropped."""
    if row.get("author_is_bot") and not include_bots:
        return "written by a bot"
    if (row.get("type") or "").lower() == "revert":
        return "revert"
    kind = kind_of_type(row.get("type") or "", row.get("scope"))
    if kind is None:
        return "unknown type"
    subject = headline(row.get("subject"))
    if not subject:
        return "no subject"
    if release_version(subject):
        return "release commit"
    patch = clean_diff(row.get("diff") or "")
    if not patch:
        return "no diff"
    return KindRow(repository_of(row) or "", subject, list(row.get("paths") or []), patch, kind, bool(row.get("breaking")))


def change_kind_example(row: KindRow) -> Example:
    return Example("change_kind", language_of(row.paths), prompts.change_kind_prompt(row.subject, row.paths, row.patch),
                   prompts.change_kind_answer(row.kind, row.breaking), f"{CONVENTIONAL}:{row.repo}")


def note_target(note: str) -> str:
    """The first entry of a changelog note, without a bullet or a ``fix:``-style prefix."""
    first = next((line for line in note.strip().splitlines() if line.strip()), "")
    entry = _BULLET.sub("", first)
    found = prefixes.prefix(entry)
    return " ".join((found.rest if found and found.type.lower() in _NOTE_TYPES else entry).split())


def user_note_example(row: dict) -> Example | str:
    """A ``release_notes`` row as a ``user_note`` example, or why it is dropped."""
    if (row.get("note_kind") or "") in NOT_FOR_USERS:
        return "note not for users"
    subject = headline(row.get("subject"))
    target = note_target(str(row.get("note") or ""))
    if "```" in (row.get("note") or "").split("\n\n")[0]:
        return "code in the note"
    if len(target) < 20:
        return "note too short"
    if target.rstrip(".").lower() == subject.rstrip(".").lower():
        return "note repeats the subject"
    patch = clean_diff(row.get("diff") or "")
    if not subject or not patch:
        return "no subject or diff"
    paths = list(row.get("paths") or [])
    return Example("user_note", language_of(paths), prompts.user_note_prompt(subject, paths, patch), target,
                   f"{RELEASE_NOTES}:{repository_of(row) or ''}")


# --- reading and preparing ----------------------------------------------------------------------------


def read_folder(folder: Path) -> Iterator[dict]:
    """The rows of every ``*.jsonl`` file of a shared folder, file by file."""
    if not folder.is_dir():
        raise DataError(f"No such folder: {folder}")
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DataError(f"No .jsonl files in {folder}")
    for path in files:
        try:
            yield from (row for row in read_jsonl(path) if isinstance(row, dict))
        except ValueError as exc:
            raise DataError(str(exc)) from None


def task_splits(shared: Path, task: str, seed: int = 0) -> dict[str, str]:
    """``{repository: split}`` of one briefing task's shared folder (pins from ``PINNED_SOURCES``)."""
    repos = {repo for row in read_folder(shared / FOLDER_OF_TASK[task]) if (repo := repository_of(row))}
    return assign_splits(repos, seed, pinned=pinned_repositories(shared))


def kind_rows(shared: Path, split: str, seed: int = 0, include_bots: bool = False) -> tuple[list[KindRow], Counter]:
    """The usable ``conventional_commits`` rows of the repositories in ``split``, and the drop reasons."""
    splits = task_splits(shared, "change_kind", seed)
    kept, dropped = [], Counter()
    for row in read_folder(shared / CONVENTIONAL):
        if splits.get(repository_of(row) or "") != split:
            continue
        item = kind_row(row, include_bots)
        if isinstance(item, str):
            dropped[item] += 1
        else:
            kept.append(item)
    return kept, dropped


def prepare_briefing(shared: Path, out: Path, seed: int = 0, include_bots: bool = False) -> dict:
    """Write ``OUT/change_kind/{train,val,test}.jsonl`` and ``OUT/user_note/...`` (``training.examples``
    files, read by ``training.dataset.load_split``) and ``OUT/briefing.json``; return that manifest."""
    manifest: dict = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      "prompt_version": prompts.PROMPT_VERSION, "seed": seed, "include_bots": include_bots,
                      "fractions": list(DEFAULT_FRACTIONS), "tasks": {}}
    for task in BRIEFING_TASKS:
        splits = task_splits(shared, task, seed)
        examples: dict[str, list[Example]] = {name: [] for name in SPLITS}
        dropped: Counter = Counter()
        rows_of: Counter = Counter()
        for row in read_folder(shared / FOLDER_OF_TASK[task]):
            repo = repository_of(row) or ""
            if task == "change_kind":
                item = kind_row(row, include_bots)
                item = item if isinstance(item, str) else change_kind_example(item)
            else:
                item = user_note_example(row)
            if isinstance(item, str):
                dropped[item] += 1
                continue
            examples[splits[repo]].append(item)
            rows_of[repo] += 1
        for name in SPLITS:
            write_examples(out / task / f"{name}.jsonl", examples[name])
        repos = defaultdict(list)
        for repo, split in sorted(splits.items()):
            repos[split].append(repo)
        manifest["tasks"][task] = {
            "source": FOLDER_OF_TASK[task],
            "examples": {name: len(examples[name]) for name in SPLITS},
            "repositories": {name: {repo: rows_of[repo] for repo in repos[name]} for name in SPLITS},
            "targets": {name: dict(Counter(e.target for e in examples[name]).most_common()) for name in SPLITS}
            if task == "change_kind" else None,
            "dropped": dict(dropped.most_common()),
        }
    text = json.dumps(manifest, indent=2)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "briefing.json", text + "\n")
    return json.loads(text)


# --- the rules' baseline ------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def kinds_report(pairs: list[tuple[str, str]], breaking: list[tuple[bool, bool]]) -> dict:
    """Accuracy, per-kind precision/recall/F1 and the confusion of ``(label, predicted)`` pairs, and the
    breaking flag's precision/recall from ``(label, predicted)`` flags."""
    from training.bootstrap import bootstrap_ci

    hits = [float(want == got) for want, got in pairs]
    per_kind = {}
    for kind in prompts.CHANGE_KINDS:
        tp = sum(1 for want, got in pairs if want == got == kind)
        said = sum(1 for _, got in pairs if got == kind)
        actual = sum(1 for want, _ in pairs if want == kind)
        p, r = _ratio(tp, said), _ratio(tp, actual)
        per_kind[KIND_NAMES[kind]] = {"precision": p, "recall": r, "f1": round(2 * p * r / (p + r), 4) if p and r else 0.0,
                                      "support": actual, "predicted": said}
    user_facing = {"feature", "fix"}
    flag_tp = sum(1 for want, got in breaking if want and got)
    confusion = defaultdict(Counter)
    for want, got in pairs:
        confusion[KIND_NAMES[want]][KIND_NAMES.get(got, got)] += 1  # a model's unreadable answer keeps its name
    return {
        "commits": len(pairs),
        "accuracy": _ratio(int(sum(hits)), len(hits)),
        "accuracy_ci95": [round(v, 4) for v in bootstrap_ci(hits)] if hits else None,
        "macro_f1": round(sum(k["f1"] for k in per_kind.values()) / len(per_kind), 4),
        "majority_accuracy": _ratio(max(Counter(want for want, _ in pairs).values(), default=0), len(pairs)),
        "per_kind": per_kind,
        "user_facing_accuracy": _ratio(sum(1 for want, got in pairs if (want in user_facing) == (got in user_facing)), len(pairs)),
        "breaking": {"support": sum(1 for want, _ in breaking if want), "predicted": sum(1 for _, got in breaking if got),
                     "precision": _ratio(flag_tp, sum(1 for _, got in breaking if got)),
                     "recall": _ratio(flag_tp, sum(1 for want, _ in breaking if want))},
        "confusion": {want: dict(confusion[want].most_common()) for want in sorted(confusion)},
    }


def kinds_baseline(shared: Path, split: str = "test", seed: int = 0, include_bots: bool = False) -> dict:
    """How well the rules (``rules_kind``) agree with developers' conventional types on the repositories of
    ``split``: ``kinds_report`` overall and per repository, with the split's repositories and drops."""
    rows, dropped = kind_rows(shared, split, seed, include_bots)
    if not rows:
        raise DataError(f"No usable {CONVENTIONAL} rows in the {split} repositories of {shared}")
    guesses = [rules_kind(row.subject, row.paths, row.patch) for row in rows]
    by_repo: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_repo[row.repo].append(index)
    report = kinds_report([(row.kind, kind) for row, (kind, _) in zip(rows, guesses)],
                          [(row.breaking, flag) for row, (_, flag) in zip(rows, guesses)])
    report["per_repository"] = {repo: {"commits": len(ix), "accuracy": _ratio(sum(rows[i].kind == guesses[i][0] for i in ix), len(ix))}
                                for repo, ix in sorted(by_repo.items())}
    return {"split": split, "seed": seed, "include_bots": include_bots, "rules": "facts.categorize + impact (subject without prefix, paths, diff)",
            "dropped": dict(dropped.most_common()), **report}
