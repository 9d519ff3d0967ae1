"""The cocktail study: a fixed grid of training runs, each measured on the same test examples.

``run_study(StudyConfig(data=DATA, out=OUT))`` trains every run of ``GRID`` in turn with
``training.trainer.train`` (same data, steps and seed; only ratio, optimizer and learning rate
change), evaluates it and the base model on one fixed, language-stratified sample of each task's
test split, and writes ``OUT/results.json`` and ``OUT/README.md`` (``training.study_report``).

``StudyConfig(grid="four")`` studies the four tasks of the cocktail instead (``FOUR_GRID``: each task
alone, equal quarters, the two-task 50/50 and mixes weighted towards the briefing's tasks, all at the
default optimizer and learning rate), on data prepared by both ``prepare`` and ``prepare-briefing`` in
one folder. Every run is measured on every task's held-out repositories (the briefing tasks' sample is
taken evenly over repositories), change kind also by accuracy (``training.study_measure.change_kind_accuracy``).

Each run lives in ``OUT/runs/<name>``: the trainer's checkpoints and adapter, then ``study.json``,
its measured result. A rerun skips every run with a ``study.json``, resumes one with checkpoints
(``--resume``) and only evaluates one whose training finished. The base model is ``OUT/base``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

from db.errors import TrainingError
from db.files import write_atomic
from training.config import TrainConfig, shareable_path
from training.examples import Example
from training.study_grid import StudyConfig, StudyRun, _require_adapter, select, train_config
from training.study_measure import bleu, evaluate_model, evaluation_examples


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
