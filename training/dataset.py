"""``prepare``: read every source, filter, deduplicate, split and write ready prompt/target files.

Output layout (``DIR``)::

    codesearchnet/{train,val,test}.jsonl   code -> summary examples
    commitpackft/{train,val,test}.jsonl    diff -> title and subject + diff -> explain examples
    manifest.json                          counts per source, task, language and split, drop reasons,
                                           the repositories of each split and how each group was split

Each line is an ``Example`` whose prompt comes from ``narrator.model.prompts`` (version recorded in the
manifest), so a change of prompt wording shows up as a stale data folder.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from db.errors import DataError
from db.files import write_atomic
from narrator.model.prompts import PROMPT_VERSION
from training.cleaning import Filters
from training.examples import PREPARED_TASKS, SPLITS, Example, read_examples, write_examples
from training.mining import mine_repository
from training.sources import (
    TASK_OF_KIND,
    SourceSpec,
    code_example,
    commit_example,
    mined_repository,
    partition_of,
    read_rows,
)
from training.splits import Row, SplitPlan, dedupe, dedupe_key, repository_of, split_rows


@dataclass(frozen=True)
class PrepareConfig:
    """What ``prepare`` reads, how it filters and splits, and where it writes."""

    sources: tuple[SourceSpec, ...]
    """Where rows come from (``--source`` arguments)."""
    out: Path
    """Output folder (created; existing task files are replaced)."""
    filters: Filters = field(default_factory=Filters)
    """Keep/drop thresholds."""
    plan: SplitPlan = field(default_factory=SplitPlan)
    """Split shares, per-language caps and seed."""
    hub_rows: int = 20_000
    """Rows streamed per language (and split) from the Hub before filtering."""
    max_commits: int = 5000
    """Newest commits read per mined repository."""
    clone_dir: Path | None = None
    """Where ``mine:URL`` repositories are cloned (default: next to the output, ``OUT/.repos``)."""

    def __post_init__(self) -> None:
        if not self.sources:
            raise DataError("Name at least one --source (csn:PATH|hub, commitpackft:PATH|hub or mine:REPO)")
        if self.hub_rows < 1 or self.max_commits < 1:
            raise ValueError("hub_rows and max_commits must be positive")


def _collect(spec: SourceSpec, config: PrepareConfig, stats: dict) -> list[Row]:
    """The rows of one source (its examples, given partition and repository); drop reasons go to ``stats``.

    A builder gives one example per row (a function) or several (a commit: its diff -> title
    example, then its explain example when the body qualifies); a row's examples stay together.
    """
    label = str(spec)
    dropped: Counter = Counter()
    kept: list[Row] = []
    read = 0
    if spec.kind == "mine":
        clone_dir = config.clone_dir or config.out / ".repos"
        repo = mined_repository(spec.location)
        items = ((item, None, repo) for item in mine_repository(spec.location, config.filters, clone_dir, config.max_commits))
    else:
        build = code_example if TASK_OF_KIND[spec.kind] == "codesearchnet" else commit_example
        raws = read_rows(spec, per_language=config.hub_rows)
        items = ((build(raw, config.filters, label), partition_of(raw), repository_of(raw.row)) for raw in raws)
    for item, partition, repo in items:
        read += 1
        if isinstance(item, str):
            dropped[item] += 1
        else:
            kept.append(Row((item,) if isinstance(item, Example) else tuple(item), spec.split or partition, repo))
    languages = Counter(f"{row.examples[0].task}/{row.examples[0].language}" for row in kept)
    stats[label] = {"read": read, "kept": len(kept), "explain": sum(len(row.examples) - 1 for row in kept),
                    "dropped": dict(dropped.most_common()), "kept_by_language": dict(sorted(languages.items()))}
    return kept


def prepare(config: PrepareConfig) -> dict:
    """Build the data folder; return the manifest (also written to ``OUT/manifest.json``)."""
    stats: dict[str, dict] = {}
    rows: list[Row] = []
    for spec in config.sources:
        rows.extend(_collect(spec, config, stats))
    rows, duplicates = dedupe(rows)
    if not rows:
        read = sum(s["read"] for s in stats.values())
        reasons = Counter()
        for s in stats.values():
            reasons.update(s["dropped"])
        top = ", ".join(f"{reason} ({n})" for reason, n in reasons.most_common(3))
        raise DataError(f"No examples left: {read} rows read" + (f", dropped as {top}" if top else ""))
    divided = split_rows(rows, config.plan)
    splits = divided.examples
    # A commit's examples after its first (diff -> title) are subject + diff -> explain ones.
    explain = {dedupe_key(example) for row in rows for example in row.examples[1:]}

    counts: dict = {task: defaultdict(lambda: {name: 0 for name in SPLITS}) for task in PREPARED_TASKS}
    by_source: dict = defaultdict(lambda: {name: 0 for name in SPLITS})
    explain_totals = {name: 0 for name in SPLITS}
    for name, examples in splits.items():
        for example in examples:
            counts[example.task][example.language][name] += 1
            by_source[example.source][name] += 1
            explain_totals[name] += dedupe_key(example) in explain
    config.out.mkdir(parents=True, exist_ok=True)
    for task in PREPARED_TASKS:
        for name in SPLITS:
            path = config.out / task / f"{name}.jsonl"
            selected = [e for e in splits[name] if e.task == task]
            if selected or path.exists():
                write_examples(path, selected)

    manifest = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "prompt_version": PROMPT_VERSION,
        "sources": stats,
        "duplicates_dropped": duplicates,
        "counts": {task: {lang: counts[task][lang] for lang in sorted(counts[task])} for task in PREPARED_TASKS},
        "totals": {task: {name: sum(c[name] for c in counts[task].values()) for name in SPLITS} for task in PREPARED_TASKS},
        "explain_totals": explain_totals,
        "splits_by_source": {source: by_source[source] for source in sorted(by_source)},
        # Rows per repository in each split, and per language how many rows were placed by their data
        # set (given), by repository or by commit, with notes where a split could not be by repository.
        "repositories": divided.repositories,
        "split_by": divided.split_by,
        "repositories_in_several_splits": divided.shared_repositories,
        "filters": asdict(config.filters),
        "plan": asdict(config.plan),
    }
    text = json.dumps(manifest, indent=2)
    write_atomic(config.out / "manifest.json", text + "\n")
    return json.loads(text)  # the same plain JSON values as the file (lists, not tuples)


def split_file(data: Path, task: str, split: str) -> Path:
    """The prepared file of ``task`` and ``split`` in data folder ``data``."""
    return data / task / f"{split}.jsonl"


def load_split(data: Path, task: str, split: str, limit: int | None = None, required: bool = True) -> list[Example]:
    """The prepared examples of one task and split ([] when the file is missing and not required)."""
    if not data.is_dir():
        raise DataError(f"No such data folder: {data} (run: python -m training prepare --out {data} ...)")
    path = split_file(data, task, split)
    if not path.is_file():
        if required:
            raise DataError(f"No {task} {split} data in {data} (expected {path})")
        return []
    return read_examples(path, limit)


MANIFESTS = {"manifest.json": "prepare", "briefing.json": "prepare-briefing"}
"""The manifests a data folder may hold, and the command that writes each (both record the prompt version)."""


def check_prompt_version(data: Path) -> str | None:
    """The prompt version ``data`` was prepared with; raises if narration's prompts changed since.

    Training on old prompt wording would tune the model on text it never sees at run time. Both
    ``prepare``'s ``manifest.json`` and ``prepare-briefing``'s ``briefing.json`` are checked, each
    naming the command to run again. A folder without either (hand-made examples) is accepted as is
    and gives None.
    """
    version = None
    for name, command in MANIFESTS.items():
        manifest = data / name
        if not manifest.is_file():
            continue
        try:
            version = json.loads(manifest.read_text(encoding="utf-8")).get("prompt_version")
        except ValueError:
            raise DataError(f"{manifest} is not valid JSON") from None
        if version != PROMPT_VERSION:
            raise DataError(f"{data} was prepared with prompt version {version} but narration now uses {PROMPT_VERSION}: "
                            f"run python -m training {command} again")
    return version
