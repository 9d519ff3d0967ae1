"""Ready training examples: chat prompt + target, and their JSON-lines files.

One line of ``DIR/<task>/<split>.jsonl`` is one ``Example``. The prompt is already built with the
run-time builders of ``narrator.model.prompts``, so training, evaluation and narration see the same text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Literal

from db.errors import DataError
from db.files import atomic_writer

Task = Literal["codesearchnet", "commitpackft", "change_kind", "user_note"]
PREPARED_TASKS: tuple[Task, ...] = ("codesearchnet", "commitpackft")
"""The tasks ``python -m training prepare`` makes (``training.dataset``) and the study compares."""
BRIEFING_TASKS: tuple[Task, ...] = ("change_kind", "user_note")
"""The briefing's tasks (``training.briefing_tasks``, ``prepare-briefing``): subject + diff -> kind of change,
and -> a note for users."""
TASKS: tuple[Task, ...] = PREPARED_TASKS + BRIEFING_TASKS
"""The trainable tasks of the cocktail (``training.mixture``), each validated on its own."""
ALL_TASKS: tuple[Task, ...] = TASKS
SPLITS = ("train", "val", "test")
LANGUAGES = ("python", "java", "javascript", "php", "ruby", "go")

# Spellings met in the data sets: CommitPackFT says "Python"/"JavaScript", some dumps say "js".
_LANGUAGE_ALIASES = {"js": "javascript", "golang": "go", "py": "python", "rb": "ruby"}


def normalize_language(name: str | None) -> str | None:
    """One of ``LANGUAGES`` for a language name in any usual spelling, else None."""
    if not name:
        return None
    key = str(name).strip().lower()
    key = _LANGUAGE_ALIASES.get(key, key)
    return key if key in LANGUAGES else None


@dataclass(frozen=True)
class Example:
    """One supervised example: what the model is shown and what it should answer."""

    task: Task
    """``codesearchnet`` (code -> summary), ``commitpackft`` (diff -> message), ``change_kind`` or ``user_note``."""
    language: str
    """Programming language, one of ``LANGUAGES``."""
    messages: list[dict]
    """Chat prompt from ``narrator.model.prompts`` (system + user)."""
    target: str
    """The answer the model is trained to give (loss is computed on it only)."""
    source: str = ""
    """Where the row came from (``csn:PATH``, ``commitpackft:hub``, ``mine:REPO``)."""

    def __post_init__(self) -> None:
        if self.task not in ALL_TASKS:
            raise ValueError(f"task must be one of {ALL_TASKS}, not {self.task!r}")
        if not self.target.strip():
            raise ValueError("target must not be empty")
        if not self.messages:
            raise ValueError("messages must not be empty")


def write_examples(path: Path, examples: Iterable[Example]) -> int:
    """Write ``examples`` as JSON lines to ``path``; return how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_writer(path) as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_examples(path: Path, limit: int | None = None) -> list[Example]:
    """The examples of a prepared JSON-lines file (the first ``limit`` when given)."""
    if not path.is_file():
        raise DataError(f"No such file: {path}")
    examples: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if limit is not None and len(examples) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(
                    Example(task=row["task"], language=row["language"], messages=row["messages"],
                            target=row["target"], source=row.get("source", ""))
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{number} is not a prepared example ({exc})") from None
    return examples


def even_sample(examples: list[Example], limit: int | None, seed: int = 0) -> list[Example]:
    """``limit`` examples taken round-robin over their sources (a briefing task's source is its repository),
    each source shuffled by ``seed``; all of them, in file order, without a limit.

    A briefing task's file is ordered by repository, so its first N examples would measure one repository.
    """
    if limit is None or limit >= len(examples):
        return list(examples)
    from narrator.eval.metrics import stratified_sample

    return stratified_sample(examples, limit, seed, key=lambda example: example.source)
