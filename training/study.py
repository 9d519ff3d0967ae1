"""The cocktail study: a fixed grid of training runs, each measured on the same test examples.

``run_study(StudyConfig(data=DATA, out=OUT))`` trains every run of ``GRID`` in turn with
``training.trainer.train`` (same data, steps and seed; only ratio, optimizer and learning rate
change), evaluates it and the base model on one fixed, language-stratified sample of each task's
test split, and writes ``OUT/results.json`` and ``OUT/README.md`` (``training.study_report``).

``StudyConfig(grid="four")`` studies the four tasks of the cocktail instead (``FOUR_GRID``: each task
alone, equal quarters, the two-task 50/50 and mixes weighted towards the briefing's tasks, all at the
default optimizer and learning rate), on data prepared by both ``prepare`` and ``prepare-briefing`` in
one folder. Every run is measured on every task's held-out repositories (the briefing tasks' sample is
taken evenly over repositories), change kind also by accuracy (``change_kind_accuracy``).

Each run lives in ``OUT/runs/<name>``: the trainer's checkpoints and adapter, then ``study.json``,
its measured result. A rerun skips every run with a ``study.json``, resumes one with checkpoints
(``--resume``) and only evaluates one whose training finished. The base model is ``OUT/base``.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable, Literal

from db.files import write_atomic
from training.bootstrap import bootstrap_ci
from training.config import (
    OptimizerName,
    TrainConfig,
    check_device,
    check_threads,
    looks_like_path,
    require_path,
    require_writable_folder,
    shareable_path,
)
from training.errors import DataError, TrainingError
from training.examples import BRIEFING_TASKS, PREPARED_TASKS, TASKS, Example, even_sample
from training.study_rates import DEFAULT_LR, DEFAULT_OPTIMIZER, OTHER_LR, TRANSFER_LRS

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


STUDY_SOURCES = (
    "csn:{shared}/csn_style_extracted_more", "csn:{shared}/csn_style_extracted",
    "commitpackft:{shared}/commitpack_style_mined_more@train", "commitpackft:{shared}/commitpack_style_mined@test",
)
"""What ``--data`` defaults to, prepared from the project's shared data: training on 38 repositories,
testing on 16 others, for both tasks (``csn_style_extracted`` keeps its own test partition)."""
BLEU_SOURCE = "csn_style_extracted"
"""The shared folder of held-out CodeSearchNet-format rows whose summaries get a BLEU score by default."""


def shared_data() -> Path:
    """The project's shared data folder: ``CODE_NARRATOR_SHARED_DATA``, else ``../shared/data`` beside the checkout."""
    import os

    from narrator.settings import ROOT

    return Path(os.environ.get("CODE_NARRATOR_SHARED_DATA") or ROOT.parent / "shared" / "data")


def prepare_study_data(shared: Path, out: Path, briefing: bool = False) -> Path:
    """``out/data``: ``STUDY_SOURCES`` from ``shared`` prepared with the default filters, and with ``briefing``
    the briefing's tasks too (``prepare-briefing``'s, the four-task study's); once, reused after."""
    from training.dataset import PrepareConfig, prepare
    from training.sources import SourceSpec

    target = study_data_folder(out)
    if not (target / "manifest.json").is_file():
        sources = tuple(SourceSpec.parse(text.format(shared=shared)) for text in STUDY_SOURCES)
        missing = [spec.location for spec in sources if not Path(spec.location).exists()]
        if missing:
            raise DataError(f"No study data at {missing[0]}: give --data DIR (python -m training prepare) "
                            "or --shared-data DIR")
        prepare(PrepareConfig(sources=sources, out=target))
    if briefing and not (target / "briefing.json").is_file():
        from training.briefing_tasks import prepare_briefing

        prepare_briefing(shared, target)
    return target


def study_data_folder(out: Path) -> Path:
    """Where ``prepare_study_data`` puts the study's data in study folder ``out``."""
    return Path(out) / "data"


@dataclass(frozen=True)
class StudyRun:
    """One training run of the study; everything else is the study's own (``StudyConfig``)."""

    name: str
    """Folder and table name, e.g. ``mix-50-adagrad-lr2e-04``."""
    ratio: float | None
    """Share of CodeSearchNet examples (1.0: CodeSearchNet alone, 0.0: CommitPackFT alone); None with ``mix``."""
    optimizer: OptimizerName
    lr: float
    """Peak learning rate (constant schedule with warmup, the ``TrainConfig`` default)."""
    mix: str | None = None
    """A four-task run's cocktail, as ``--mix`` takes it with full task names (``Mixture.spec``)."""

    @classmethod
    def of(cls, ratio: float, optimizer: OptimizerName = DEFAULT_OPTIMIZER, lr: float = DEFAULT_LR) -> "StudyRun":
        label = {1.0: "csn-only", 0.0: "cpft-only"}.get(ratio, f"mix-{round(ratio * 100)}")
        return cls(f"{label}-{optimizer}-lr{lr:.0e}", ratio, optimizer, lr)

    @classmethod
    def mixed(cls, label: str, mix: str, optimizer: OptimizerName = DEFAULT_OPTIMIZER,
              lr: float = DEFAULT_LR) -> "StudyRun":
        """A four-task run: ``mix`` in ``--mix`` form (``csn=0.25,commit=0.25,kind=0.25,note=0.25``)."""
        from training.mixture import Mixture

        return cls(f"{label}-{optimizer}-lr{lr:.0e}", None, optimizer, lr, Mixture.parse(mix).spec())

    @property
    def key(self) -> tuple:
        """What makes two runs the same run: ratio (or mix), optimizer and learning rate."""
        return (self.ratio if self.mix is None else self.mix, self.optimizer, self.lr)


def unique(runs: tuple[StudyRun, ...]) -> tuple[StudyRun, ...]:
    """``runs`` without repeats (same ratio, optimizer and lr), first occurrence kept."""
    seen: dict[tuple, StudyRun] = {}
    for run in runs:
        seen.setdefault(run.key, run)
    return tuple(seen.values())


GRID: tuple[StudyRun, ...] = unique((
    # Single-task controls and the cocktails, at the default optimizer and learning rate.
    StudyRun.of(1.0), StudyRun.of(0.0), StudyRun.of(0.4), StudyRun.of(0.5), StudyRun.of(0.7),
    # Adagrad vs AdamW on the 50/50 cocktail, at two learning rates.
    *(StudyRun.of(0.5, optimizer, lr) for lr in (DEFAULT_LR, OTHER_LR) for optimizer in ("adagrad", "adamw")),
    # Learning-rate transfer: the same learning rates on each task alone.
    *(StudyRun.of(ratio, DEFAULT_OPTIMIZER, lr) for ratio in (1.0, 0.0) for lr in TRANSFER_LRS),
))
"""The study's runs, in the order they are trained."""

FOUR_GRID: tuple[StudyRun, ...] = unique((
    # Each task alone: the single-task controls.
    *(StudyRun.mixed(f"{short}-alone", f"{short}=1") for short in ("csn", "commit", "kind", "note")),
    # Equal quarters, and the two-task 50/50 cocktail of GRID (what adding the briefing tasks costs the first two).
    StudyRun.mixed("quarters", "csn=0.25,commit=0.25,kind=0.25,note=0.25"),
    StudyRun.mixed("csn-commit-half", "csn=0.5,commit=0.5"),
    # Weighted towards what the briefing shows.
    StudyRun.mixed("kind-heavy", "csn=0.2,commit=0.2,kind=0.4,note=0.2"),
    StudyRun.mixed("note-heavy", "csn=0.2,commit=0.2,kind=0.2,note=0.4"),
    StudyRun.mixed("briefing-heavy", "csn=0.15,commit=0.15,kind=0.35,note=0.35"),
))
"""The four-task study's runs (``--grid four``), in the order they are trained."""

GRIDS: dict[str, tuple[StudyRun, ...]] = {"two": GRID, "four": FOUR_GRID}
"""Each grid by its ``--grid`` name."""
GRID_TASKS: dict[str, tuple[str, ...]] = {"two": PREPARED_TASKS, "four": TASKS}
"""The tasks each grid trains and measures."""


@dataclass(frozen=True)
class StudyConfig:
    """What every run of the study shares."""

    data: Path
    """Prepared data folder (``python -m training prepare``)."""
    out: Path
    """Study folder: ``runs/``, ``base/``, ``results.json``, ``README.md``, ``ce.svg``."""
    steps: int = 260
    """Optimizer steps of every run."""
    model: str | None = None
    """Base model id or folder; None: the embedded SmolLM2-135M-Instruct."""
    eval_examples: int = 180
    """Evaluation examples per task (round-robin over languages, the same for every run)."""
    split: Literal["test", "val"] = "test"
    """Split the evaluation examples come from."""
    seed: int = 0
    """Seed of every run's mixture, order and LoRA start, of the evaluation sample and the bootstrap."""
    only: tuple[str, ...] = ()
    """Names of the runs to do (empty: the whole grid)."""
    csn: Path | None = None
    """CodeSearchNet-format JSON lines for summary BLEU (None: no BLEU)."""
    bleu_examples: int = 60
    """Rows of ``csn`` scored for BLEU (stratified by language)."""
    save_every: int = 20
    """Checkpoint every N steps, so an interrupted run resumes."""
    batch_size: int = _DEFAULTS["batch_size"]
    max_length: int = _DEFAULTS["max_length"]
    threads: int | None = None
    """CPU threads torch may use (None: one per core)."""
    device: str | None = None
    db_url: str | None = None
    """Where run records go; None: the project database."""
    compare: Path | None = None
    """An existing adapter (the shipped one) measured on the same examples, so a run can be judged against it."""
    grid: Literal["two", "four"] = "two"
    """``two``: ``GRID`` over CodeSearchNet and CommitPackFT; ``four``: ``FOUR_GRID`` over the cocktail's four tasks
    (``data`` prepared by ``prepare`` and ``prepare-briefing``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", Path(self.data))
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "only", tuple(self.only))
        if self.compare is not None:
            object.__setattr__(self, "compare", Path(self.compare))
        for name in ("steps", "eval_examples", "bleu_examples", "batch_size", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.save_every < 0:
            raise ValueError("save_every must not be negative")
        check_threads(self.threads)
        check_device(self.device)
        if self.grid not in GRIDS:
            raise ValueError(f"grid must be one of {', '.join(GRIDS)}, not {self.grid!r}")

    @property
    def runs(self) -> tuple[StudyRun, ...]:
        """The grid's runs (``GRIDS[grid]``)."""
        return GRIDS[self.grid]

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks every run is measured on."""
        return GRID_TASKS[self.grid]

    def check_inputs(self) -> None:
        """Raise a one-line error for a missing input, an unknown run name or an unusable output, before any work.
        ``data`` is not checked: the command may still have to prepare it (``prepare_study_data``)."""
        select(self.runs, self.only)
        if self.model is not None and looks_like_path(self.model):
            require_path(self.model, "base model folder", folder=True)
        require_path(self.csn, "--csn file or folder")
        if self.compare is not None:
            _require_adapter(self.compare)
        require_writable_folder(self.out, "--out")

    def shared(self) -> dict:
        """What must not change between invocations writing to the same ``out`` (``grid`` only when it is four,
        so a two-task study folder written before there was a choice still matches)."""
        return {"data": str(self.data.resolve()), "steps": self.steps, "model": self.model,
                "eval_examples": self.eval_examples, "split": self.split, "seed": self.seed,
                "batch_size": self.batch_size, "max_length": self.max_length,
                **({"grid": self.grid} if self.grid != "two" else {})}


def select(grid: tuple[StudyRun, ...], only: tuple[str, ...]) -> tuple[StudyRun, ...]:
    """The runs of ``grid`` named in ``only`` (all when empty); an unknown name is an error."""
    names = {run.name for run in grid}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise TrainingError(f"No study run named {', '.join(unknown)} (python -m training study --help lists them)")
    return tuple(run for run in grid if not only or run.name in only)


TRAINER_EVAL_EXAMPLES = 12
"""Validation examples per task for the trainer's own first and last check (the run's record on the Admin
page); the study's measurement is the fixed test sample, so this is kept small to save time."""


def train_config(config: StudyConfig, run: StudyRun) -> TrainConfig:
    """The ``TrainConfig`` of one run: the defaults, the study's shared settings and the run's own ratio (or mix),
    optimizer and learning rate."""
    ratio = _DEFAULTS["ratio"] if run.ratio is None else run.ratio
    return TrainConfig(data=config.data, out=config.out / "runs" / run.name, base=config.model, ratio=ratio, mix=run.mix,
                       optimizer=run.optimizer, learning_rate=run.lr, seed=config.seed, max_steps=config.steps,
                       eval_every=0, eval_examples=TRAINER_EVAL_EXAMPLES, save_every=config.save_every,
                       batch_size=config.batch_size, max_length=config.max_length, threads=config.threads,
                       device=config.device, db_url=config.db_url)


# ---- evaluation ----------------------------------------------------------------------------


def evaluation_examples(config: StudyConfig) -> dict[str, list[Example]]:
    """The fixed examples every run is measured on: ``eval_examples`` per task, round-robin over languages
    (a briefing task's: over repositories, ``even_sample``). The four-task grid needs every task's examples."""
    from narrator.eval.metrics import stratified_sample
    from training.dataset import check_prompt_version, load_split

    check_prompt_version(config.data)
    sets = {task: stratified_sample(load_split(config.data, task, config.split, required=False),
                                    config.eval_examples, config.seed) for task in PREPARED_TASKS}
    for task in (t for t in config.tasks if t in BRIEFING_TASKS):
        sets[task] = even_sample(load_split(config.data, task, config.split, required=False), config.eval_examples,
                                 config.seed)
    missing = [task for task in config.tasks if not sets[task]] if config.grid == "four" else []
    if missing:
        command = "prepare-briefing" if set(missing) <= set(BRIEFING_TASKS) else "prepare and prepare-briefing"
        raise DataError(f"No {', '.join(missing)} {config.split} examples in {config.data}: the four-task study needs "
                        f"python -m training {command} --out {config.data}")
    if not any(sets.values()):
        raise DataError(f"No {config.split} examples in {config.data} to evaluate on")
    return sets


def summarize(examples: list[Example], scores: list[tuple[float, int]], seed: int = 0) -> dict:
    """Pooled CE (``sum CE / target tokens``), PPL and a 95% bootstrap CI over examples, overall and per language.

    The per-example ``scores`` (summed CE, target tokens) are kept too, in example order, so two results
    on the same examples can be compared pairwise (``training.study_report.compare``). ``scores`` are ``training.evaluate.score_examples`` of ``examples``, in the same order.
    """
    def measure(pairs: list[tuple[float, int]]) -> dict:
        pairs = [(total, tokens) for total, tokens in pairs if tokens]
        tokens = sum(n for _, n in pairs)
        ce = sum(total for total, _ in pairs) / tokens if tokens else float("nan")
        low, high = bootstrap_ci([total / n for total, n in pairs], weights=[n for _, n in pairs], seed=seed) \
            if pairs else (float("nan"), float("nan"))
        return {"ce": ce, "ppl": math.exp(ce), "ce_ci": [low, high], "examples": len(pairs), "tokens": tokens}

    by_language: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for example, score in zip(examples, scores):
        by_language[example.language].append(score)
    return {**measure(scores), "per_language": {lang: measure(pairs) for lang, pairs in sorted(by_language.items())},
            "scores": [[round(total, 4), tokens] for total, tokens in scores]}


def evaluate_model(config: StudyConfig, adapter: Path | None, sets: dict[str, list[Example]]) -> dict:
    """``{task: summarize(...)}`` of the base model with ``adapter`` (None: the base alone)."""
    import torch

    from narrator.model.backends import pick_device
    from training.config import resolve_quant
    from training.evaluate import score_examples
    from training.model import load_adapter, load_base, resolve_base

    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    model, tokenizer = load_base(resolve_base(config.model), resolve_quant("auto", device), device)
    if adapter is not None:
        model = load_adapter(model, adapter)
    measured = {task: summarize(examples, score_examples(model, tokenizer, examples, config.batch_size,
                                                         config.max_length), config.seed) if examples else None
                for task, examples in sets.items()}
    if measured.get("change_kind"):
        measured["change_kind"].update(change_kind_accuracy(model, tokenizer, sets["change_kind"], config))
    return measured


def change_kind_accuracy(model, tokenizer, examples: list[Example], config: StudyConfig) -> dict:
    """How often the model's likeliest kind (``training.briefing_eval.kind_answers``' scoring: no new weights, one
    pass over each prompt) is the developer's, with a 95% bootstrap interval; ``correct`` per example, in order,
    so two runs can be compared pairwise. The rules are compared with in ``python -m training kinds``."""
    from narrator.model.prompts import read_change_kind
    from training.briefing_eval import kind_answers

    answers = kind_answers(model, tokenizer, examples, config.max_length)
    correct = [int(answer.kind == (read_change_kind(example.target) or ("", False))[0])
               for example, answer in zip(examples, answers)]
    low, high = bootstrap_ci([float(c) for c in correct], seed=config.seed)
    return {"accuracy": sum(correct) / len(correct), "accuracy_ci": [low, high], "correct": correct}


def bleu(config: StudyConfig, adapter: Path | None) -> float | None:
    """Smoothed BLEU-4 of unit summaries on ``config.csn`` (``narrator.eval.metrics.summary_bleu``); None without it."""
    if config.csn is None:
        return None
    from narrator.eval.metrics import read_summary_rows, summary_bleu
    from narrator.model.backends import forget_backends, make_backend
    from narrator.settings import load_settings

    rows = read_summary_rows(config.csn, limit=config.bleu_examples, seed=config.seed)
    if not rows:
        raise DataError(f"No usable CodeSearchNet-format rows in {config.csn}")
    settings = load_settings(model=config.model or "embedded", adapter=str(adapter) if adapter else "none",
                             device=config.device)
    try:
        return summary_bleu(make_backend(settings), rows)["bleu"]
    finally:
        forget_backends()  # one model per run: do not keep every run's in memory


# ---- the runs ------------------------------------------------------------------------------

Train = Callable[[TrainConfig], object]


def _write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(value, indent=2) + "\n")  # whole or absent: an interrupted write is never "finished"


def _trained(folder: Path, steps: int) -> int | None:
    """The steps the trainer took if it finished this run for ``steps`` steps (its ``training.json``), else None.

    Fewer than ``steps`` when the drawn mixture ran out first (one epoch).
    """
    summary = folder / "training.json"
    if not summary.is_file():
        return None
    saved = json.loads(summary.read_text())
    return saved["steps"] if saved.get("config", {}).get("max_steps") == steps else None


def _measure(config: StudyConfig, done: Path, header: dict, adapter: Path | None,
             sets: dict[str, list[Example]], started: float) -> dict:
    """Evaluate ``adapter`` (None: the base alone) on ``sets`` and score its BLEU; write ``done``.

    ``header`` is the result's name, ratio (or mix), optimizer, lr and steps; ``seconds`` counts from ``started``.
    """
    result = {**header, "seconds": None, **evaluate_model(config, adapter, sets), "bleu": bleu(config, adapter)}
    result["seconds"] = round(time.perf_counter() - started, 1)
    _write_json(done, result)
    return result


def measure_base(config: StudyConfig, sets: dict[str, list[Example]]) -> dict:
    """The base model's result (computed once; ``OUT/base/study.json`` afterwards)."""
    done = config.out / "base" / "study.json"
    if done.is_file():
        return json.loads(done.read_text())
    header = {"name": "base", "ratio": None, "optimizer": None, "lr": None, "steps": 0}
    return _measure(config, done, header, None, sets, time.perf_counter())


def _require_adapter(folder: Path) -> None:
    if not (folder / "adapter_config.json").is_file():
        raise TrainingError(f"No adapter in {folder} to compare with (adapter_config.json is missing)")


def measure_compared(config: StudyConfig, sets: dict[str, list[Example]]) -> dict | None:
    """``config.compare``'s result, named ``shipped`` (``OUT/shipped/study.json`` afterwards); None without one."""
    if config.compare is None:
        return None
    _require_adapter(config.compare)
    done = config.out / "shipped" / "study.json"
    if done.is_file():
        return json.loads(done.read_text())
    saved = config.compare / "training.json"
    trained = json.loads(saved.read_text()).get("config", {}) if saved.is_file() else {}
    header = {"name": "shipped", "ratio": None if trained.get("mix") else trained.get("ratio"),
              "optimizer": trained.get("optimizer"), "lr": trained.get("learning_rate"), "steps": trained.get("max_steps"),
              "adapter": shareable_path(config.compare), **({"mix": trained["mix"]} if trained.get("mix") else {})}
    return _measure(config, done, header, config.compare, sets, time.perf_counter())


def measure_run(config: StudyConfig, run: StudyRun, sets: dict[str, list[Example]], train: Train) -> dict:
    """Train (or resume) one run, then measure it; a run with a ``study.json`` is returned as it is."""
    from training.checkpoints import checkpoints

    training = train_config(config, run)
    done = training.out / "study.json"
    if done.is_file():
        return json.loads(done.read_text())
    started = time.perf_counter()  # seconds: this invocation's share of training and measuring, if it resumed
    if _trained(training.out, config.steps) is None:
        train(replace(training, resume=bool(checkpoints(training.out))))
    header = {"name": run.name, "ratio": run.ratio, "optimizer": run.optimizer, "lr": run.lr,
              "steps": _trained(training.out, config.steps), **({"mix": run.mix} if run.mix else {})}
    return _measure(config, done, header, training.out, sets, started)


def _check_out(config: StudyConfig) -> None:
    """Record the shared settings in ``OUT/study.json``; refuse an ``out`` made with other ones."""
    manifest = config.out / "study.json"
    if manifest.is_file():
        saved = json.loads(manifest.read_text())
        differs = [key for key, value in {**config.shared(), "grid": config.grid}.items()
                   if saved.get(key, "two" if key == "grid" else None) != value]
        if differs:
            raise TrainingError(f"{config.out} holds a study with other {', '.join(differs)}: pick another --out")
    else:
        _write_json(manifest, config.shared())


def finished(config: StudyConfig, grid: tuple[StudyRun, ...]) -> list[dict]:
    """The base, the compared adapter and every run of ``grid`` measured so far in ``config.out``, in grid order."""
    paths = [config.out / "base" / "study.json", config.out / "shipped" / "study.json",
             *(config.out / "runs" / run.name / "study.json" for run in grid)]
    return [json.loads(path.read_text()) for path in paths if path.is_file()]


def run_study(config: StudyConfig, grid: tuple[StudyRun, ...] | None = None, train: Train | None = None,
              on_run: Callable[[str], None] | None = None, progress: bool = False) -> list[dict]:
    """Measure the base model, then train and measure each chosen run in turn; write the report.

    ``grid`` defaults to the config's (``config.runs``). ``train`` defaults to ``training.trainer.train``
    (with a progress bar when ``progress``).
    ``on_run`` is told each run's name before it starts. Returns what ``results.json`` holds.
    """
    from training.study_report import write_report

    if train is None:
        from training.trainer import train as trainer_train

        def train(training: TrainConfig) -> object:
            return trainer_train(training, progress=progress)

    grid = config.runs if grid is None else grid
    runs = select(grid, config.only)
    sets = evaluation_examples(config)  # checks the data folder before anything is written
    _check_out(config)
    if on_run:
        on_run("base")
    measure_base(config, sets)
    if config.compare is not None:
        if on_run:
            on_run("shipped")
        measure_compared(config, sets)
    for run in runs:
        if on_run:
            on_run(run.name)
        measure_run(config, run, sets, train)
    results = finished(config, grid)
    write_report(config.out, results, asdict_config(config))
    return results


def asdict_config(config: StudyConfig) -> dict:
    """The study's settings as JSON-ready values (shown in the report)."""
    values = asdict(config)
    return {key: str(value) if isinstance(value, Path) else value for key, value in values.items()
            if key not in ("db_url", "only")}
