"""Read raw rows of both tasks from local JSON-lines/Parquet files or from the Hugging Face Hub,
and turn each row into an ``Example`` (or a reason to drop it).

Accepted row layouts:

- code -> summary: CodeXGLUE (``code``, ``docstring``, ``language``, ``func_name``, ``path``) and
  CodeSearchNet (``func_code_string``, ``func_documentation_string``, ``language``,
  ``func_name``, ``func_path_in_repository``); a ``summary`` field is a fallback only, the docstring
  is preferred and always goes through the filters;
- diff -> message: CommitPackFT (``old_contents``, ``new_contents``, ``subject``, ``message``,
  ``lang``, ``old_file``/``new_file``); ``message`` and the file names may be missing. A commit gives
  a diff -> title example (the subject), and a subject + diff -> explain example (the first sentences
  of the body) when its message has a body that explains.

A source is named ``csn:PATH``, ``commitpackft:PATH`` (a file, or a folder of ``<lang>.jsonl`` /
``*.parquet``), ``csn:hub`` / ``commitpackft:hub[:DATASET]`` or ``mine:REPO``. Hub rows are streamed,
so only the rows needed are downloaded.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterator, Literal

from db.errors import DataError, first_line
from narrator.eval.metrics import first_text, read_jsonl
from narrator.facts.docstrings import clean_docstring, strip_python_docstring
from narrator.git.commits import cut_patch
from narrator.model import prompts
from narrator.pipeline.tasks import Budget
from training.cleaning import Filters, code_problem, commit_problem, explain_target, summary_problem
from training.config import looks_like_path
from training.examples import LANGUAGES, Example, normalize_language

SourceKind = Literal["csn", "commitpackft", "mine"]
TASK_OF_KIND = {"csn": "codesearchnet", "commitpackft": "commitpackft"}

# Training shows the model no more code or diff than narration does (narrator.pipeline.tasks.Budget).
UNIT_CHARS = Budget().unit_chars
PATCH_TOKENS = Budget().patch_tokens

HUB_CSN = "code-search-net/code_search_net"
"""Default Hub data set for code -> summary (the original CodeSearchNet, per-language configs)."""
HUB_COMMITPACKFT = "bigcode/commitpackft"
"""Default Hub data set for diff -> message (JSON lines under ``data/<lang>/data.jsonl``)."""

_PARTITIONS = {"train": "train", "valid": "val", "validation": "val", "val": "val", "dev": "val", "test": "test"}
_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".parquet")


@dataclass(frozen=True)
class SourceSpec:
    """One ``--source`` argument."""

    kind: SourceKind
    """``csn``, ``commitpackft`` or ``mine``."""
    location: str
    """A file or folder, ``hub`` or ``hub:DATASET``, or (for ``mine``) a repository."""
    split: str | None = None
    """``train``/``val``/``test``: every row of this source goes there (``csn:PATH@test``); None: the
    rows' own partitions, else the split plan's shares."""

    def __post_init__(self) -> None:
        if self.kind not in ("csn", "commitpackft", "mine"):
            raise DataError(f"Unknown source kind {self.kind!r}: use csn:, commitpackft: or mine:")
        if not self.location:
            raise DataError(f"Source {self.kind}: needs a path, 'hub' or a repository after the colon")

    @classmethod
    def parse(cls, text: str) -> "SourceSpec":
        """``csn:PATH``, ``commitpackft:hub``, ``mine:REPO`` ... -> SourceSpec."""
        kind, sep, location = text.partition(":")
        if not sep:
            raise DataError(f"Bad source {text!r}: write csn:PATH|hub, commitpackft:PATH|hub or mine:REPO")
        head, at, tail = location.strip().rpartition("@")
        split = _PARTITIONS.get(tail.lower()) if at else None
        if split:
            location = head  # "@test" names a split; any other "@" belongs to the path
        return cls(kind=kind.strip().lower(), location=location.strip(), split=split)  # type: ignore[arg-type]

    def check_exists(self) -> None:
        """Raise a one-line ``DataError`` when a local file or folder this source names is missing, so a typo
        is caught before the other sources are read (a Hub data set or a repository URL is not checked)."""
        if self.kind == "mine":
            if looks_like_path(self.location) and not Path(self.location).expanduser().exists():
                raise DataError(f"No such folder: {self.location}")
        elif not self.is_hub and not Path(self.location).expanduser().exists():
            raise DataError(f"No such file or folder: {self.location}")

    @property
    def is_hub(self) -> bool:
        return self.kind != "mine" and (self.location == "hub" or self.location.startswith("hub:"))

    def __str__(self) -> str:
        return f"{self.kind}:{self.location}" + (f"@{self.split}" if self.split else "")


@dataclass(frozen=True)
class RawRow:
    """A row as read, with what its file or Hub split says about it."""

    row: dict
    language: str | None
    """Language from the file or Hub config, used when the row has no language field."""
    partition: str | None
    """``train``/``val``/``test`` when the data set already assigns one."""


# --- reading --------------------------------------------------------------------------------------


def data_files(path: Path) -> list[Path]:
    """The JSON-lines/Parquet files of ``path`` (itself, or those under a folder, sorted)."""
    if not path.exists():
        raise DataError(f"No such file or folder: {path}")
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES))
    if not found:
        raise DataError(f"No .jsonl or .parquet files in {path}")
    return found


def _hints(path: Path) -> tuple[str | None, str | None]:
    """Language and partition named by a file path (``ruby/valid.jsonl``, ``python.jsonl``)."""
    stem = path.name.split(".")[0].lower()
    language = normalize_language(stem) or normalize_language(path.parent.name)
    partition = _PARTITIONS.get(stem)
    return language, partition


def read_file(path: Path) -> Iterator[RawRow]:
    """The rows of one local file."""
    language, partition = _hints(path)
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ...
            raise DataError(f"Could not read {path}: {exc}") from None
        for batch in reader.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                yield RawRow(row, language, partition)
        return
    try:
        for row in read_jsonl(path):
            if isinstance(row, dict):
                yield RawRow(row, language, partition)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def hub_files(spec: SourceSpec, language: str) -> list[tuple[str, str, str | None]]:
    """``(builder, data-files pattern, partition)`` to stream for one language of a Hub source.

    ``hub`` names the default data set, ``hub:OWNER/NAME`` another one with the same layout, and
    ``hub:/local/folder`` a downloaded copy of it (the same paths under that folder). CodeSearchNet
    is read from its Parquet conversion (``refs/convert/parquet``: ``<lang>/<split>/*.parquet``),
    which needs no loading script; CommitPackFT from ``data/<lang>/data.jsonl``.
    """
    dataset = spec.location.partition(":")[2] or (HUB_CSN if spec.kind == "csn" else HUB_COMMITPACKFT)
    local = Path(dataset).expanduser()
    if spec.kind == "csn":
        root = str(local) if local.is_dir() else f"hf://datasets/{dataset}@refs%2Fconvert%2Fparquet"
        return [("parquet", f"{root}/{language}/{split}/*.parquet", _PARTITIONS[split])
                for split in ("train", "validation", "test")]
    root = str(local) if local.is_dir() else f"hf://datasets/{dataset}"
    return [("json", f"{root}/data/{language}/data.jsonl", None)]


def read_hub(spec: SourceSpec, languages: tuple[str, ...] = LANGUAGES, per_language: int = 20_000) -> Iterator[RawRow]:
    """Stream up to ``per_language`` rows per language and split from the Hugging Face Hub.

    Needs the ``datasets`` package and, for a Hub id, a network connection; offline it raises
    ``DataError``. Rows are streamed, so only what is read is downloaded.
    """
    import datasets

    for language in languages:
        for builder, pattern, partition in hub_files(spec, language):
            try:
                stream = datasets.load_dataset(builder, data_files=pattern, split="train", streaming=True)
                rows = [dict(row) for row in islice(stream, per_language)]
            except Exception as exc:  # offline, unknown data set, changed layout ...
                raise DataError(f"Could not load {pattern}: {first_line(exc, limit=200)}") from None
            for row in rows:
                yield RawRow(row, language, partition)


def read_rows(spec: SourceSpec, per_language: int = 20_000) -> Iterator[RawRow]:
    """All raw rows of a file/folder/Hub source."""
    if spec.is_hub:
        yield from read_hub(spec, per_language=per_language)
        return
    for path in data_files(Path(spec.location).expanduser()):
        yield from read_file(path)


# --- rows -> examples -----------------------------------------------------------------------------


def partition_of(raw: RawRow) -> str | None:
    """The split a row already belongs to (its ``partition`` field, else its file's name)."""
    value = raw.row.get("partition") or raw.row.get("split")
    return _PARTITIONS.get(str(value).lower()) if value else raw.partition


def mined_repository(location: str) -> str:
    """The repository a ``mine:`` source names, as data sets name theirs: ``owner/name`` for a URL
    (``https://github.com/psf/requests.git`` -> ``psf/requests``), a folder's name for a local path."""
    from narrator.git.sources import repository_name

    text = location.strip().rstrip("/")
    if "://" in text or (":" in text and not Path(text).expanduser().exists()):
        parts = [part for part in re.split(r"[/:]", text.removesuffix(".git")) if part]
        if len(parts) >= 2:
            return "/".join(parts[-2:])
    return repository_name(location)


def code_example(raw: RawRow, filters: Filters, source: str = "") -> Example | str:
    """A code -> summary example from a CodeXGLUE/CodeSearchNet row, or why it was dropped."""
    row = raw.row
    language = normalize_language(row.get("language")) or raw.language
    if language is None:
        return "language not supported"
    code = first_text(row, "code", "func_code_string", "original_string", "whole_func_string")
    docstring = first_text(row, "docstring", "func_documentation_string", "summary")
    if not code:
        return "no code"
    if language == "python":
        code = strip_python_docstring(code)
    problem = code_problem(code, filters)
    if problem:
        return problem
    summary = clean_docstring(docstring)
    problem = summary_problem(summary, filters)
    if problem:
        return problem
    name = first_text(row, "func_name", "name") or "function"
    path = first_text(row, "path", "func_path_in_repository")
    messages = prompts.unit_prompt(code[:UNIT_CHARS], name, "function", path, language)
    return Example("codesearchnet", language, messages, summary, source)


def unified_diff(old: str, new: str, path: str) -> str:
    """A git-style unified diff of one file, like the patches narration reads."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    for lines in (old_lines, new_lines):
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
    body = "".join(difflib.unified_diff(old_lines, new_lines, f"a/{path}" if old else "/dev/null",
                                        f"b/{path}" if new else "/dev/null", n=3))
    return f"diff --git a/{path} b/{path}\n{body}" if body else ""


def commit_examples(language: str, subject: str, message: str, files: list[str], patch: str, filters: Filters,
                    source: str) -> tuple[Example, ...]:
    """The examples of one kept commit, built with the run-time prompts.

    Always diff -> title (the developer's subject); then subject + diff -> explain (the first
    sentences of the message body) when the body qualifies (``explain_target``). Both come from the
    same commit, so ``training.splits`` keeps them in the same split.
    """
    subject = " ".join(subject.split())
    patch, _ = cut_patch(patch, PATCH_TOKENS)
    examples = [Example("commitpackft", language, prompts.commit_prompt(files, patch), subject, source)]
    explanation = explain_target(subject, message, filters)
    if explanation:
        messages = prompts.explain_prompt(subject, files, patch)
        examples.append(Example("commitpackft", language, messages, explanation, source))
    return tuple(examples)


def commit_example(raw: RawRow, filters: Filters, source: str = "") -> tuple[Example, ...] | str:
    """The examples of a CommitPackFT row (see ``commit_examples``), or why it was dropped."""
    row = raw.row
    language = normalize_language(row.get("lang") or row.get("language")) or raw.language
    if language is None:
        return "language not supported"
    old = row.get("old_contents") or ""
    new = row.get("new_contents") or ""
    message = first_text(row, "message")
    subject = first_text(row, "subject") or (message.strip().split("\n", 1)[0] if message else "")
    path = first_text(row, "new_file", "old_file", "path")
    patch = unified_diff(old, new, path or "file")
    changed = sum(1 for line in patch.split("\n") if line[:1] in ("+", "-") and line[:3] not in ("+++", "---"))
    problem = commit_problem(subject, changed, filters)
    if problem:
        return problem
    return commit_examples(language, subject, message, [path] if path else [], patch, filters, source)
