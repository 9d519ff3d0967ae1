"""What the cocktail study runs: its runs (``StudyRun``), the two grids of them (``GRIDS``), the settings every
run shares (``StudyConfig``) and each run's ``TrainConfig``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from db.errors import TrainingError
from training.config import (
    OptimizerName,
    TrainConfig,
    check_device,
    check_threads,
    looks_like_path,
    require_path,
    require_writable_folder,
)
from training.examples import PREPARED_TASKS, TASKS
from training.study_rates import DEFAULT_LR, DEFAULT_OPTIMIZER, OTHER_LR, TRANSFER_LRS


_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


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


def _require_adapter(folder: Path) -> None:
    if not (folder / "adapter_config.json").is_file():
        raise TrainingError(f"No adapter in {folder} to compare with (adapter_config.json is missing)")


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
