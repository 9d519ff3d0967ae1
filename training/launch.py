"""What the Admin page calls for training: launch a run, watch it, cancel it, compare runs, and
choose the adapter narration uses.

A launch is a job of kind ``train`` in the one job system (``narrator.pipeline.jobs``): its worker process,
``python -m training.launch RUN_ID``, first prepares data into ``<home>/training/<name>/data`` and
then trains into ``<home>/training/<name>/adapter``. The run and its job are written before the
worker starts, so the page sees the run from its first second; the worker hands the trainer a run
log whose ``create_run`` fills in that same row (``_LaunchLog``). ``narrator.pipeline.jobs`` spawns the
worker in its own session, so the page returns at once and ``cancel`` can end the worker and
everything it started as one process group.

A run whose process died without finishing (killed, machine restarted) would stay ``running``
forever; every read first turns such jobs into ``interrupted`` (``narrator.pipeline.jobs.recover``).

The page imports this module, so nothing here imports torch or transformers at module level: the
worker imports the data pipeline and the trainer only when it starts them.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import fields
from pathlib import Path

from db.errors import DataError, TrainingError
from db.rows import TrainingMetricRow
from narrator.entry import run_command
from narrator.model.transformers_backend import adapter_id
from narrator.model.quiet import route_library_warnings
from narrator.model.registry import kind_of
from narrator.pipeline import jobs
from narrator.settings import Settings, active_adapter_file, home_dir, load_settings, set_active_adapter
from training.config import LoraSettings, TrainConfig
from training.run_views import ActiveAdapter, Progress, RunView, _view, total_steps
from training.runs import RunLog

TASK_NAMES = {"codesearchnet": "CodeSearchNet", "commitpackft": "CommitPackFT"}
"""How the write-up's Table 1 names each task's data set."""

OPTIONS = ("ratio", "optimizer", "scheduler", "learning_rate", "batch_size", "epochs", "max_steps",
           "eval_every", "eval_examples", "quant")
"""The settings the Admin page's form offers; ``start`` accepts any other TrainConfig field too."""

_FIXED = ("data", "out", "db_url", "resume")  # chosen by the launch itself, not by the caller
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_RECENT_STEPS = 20  # the ETA follows the speed of the last steps, not of a slow first one


def train_defaults() -> dict:
    """The default value of every form option, from ``TrainConfig``."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    return {name: defaults[name] for name in OPTIONS}


def train_config(record: dict, db_url: str | None = None) -> TrainConfig:
    """The TrainConfig a recorded config (``TrainConfig.record()``, extra keys ignored) stands for."""
    names = {f.name for f in fields(TrainConfig)}
    values = {key: value for key, value in record.items() if key in names}
    if isinstance(values.get("lora"), dict):
        values["lora"] = LoraSettings(**values["lora"])
    return TrainConfig(**values, db_url=db_url)


def worker_command(run_id: int) -> list[str]:
    """The worker process of launch ``run_id`` (tests swap it for a harmless command)."""
    return [sys.executable, "-m", "training.launch", str(run_id)]


class _LaunchLog(RunLog):
    """The run log the worker gives the trainer: "creating" the run fills in the row made at launch."""

    def __init__(self, url: str, run_id: int) -> None:
        super().__init__(url)
        self.run_id = run_id

    def create_run(self, config: dict, mix: dict | None = None, name: str = "") -> int:
        launched = self.store.get_training_run(self.run_id)
        # Keep the launch's name and sources; the trainer's record is the truth for the rest.
        self.store.update_training_run(self.run_id, config={**(launched.config or {}), **config}, mix=mix or {})
        return self.run_id


def work(settings: Settings, run_id: int) -> None:
    """What the worker of launch ``run_id`` does: prepare the data, then train on it.

    Any failure ends the run as ``failed`` with a one-line error (the trainer records its own
    failures; this covers the data step and settings refused before training starts).
    """
    log = _LaunchLog(settings.db_url, run_id)
    summary = log.get_run(run_id)
    if summary is None:
        log.close()
        raise TrainingError(f"No training run {run_id}")
    log.store.update_job(summary.job_id, status="running", pid=os.getpid(), error=None)
    stage = "Preparing the data"
    try:
        from training.dataset import PrepareConfig, prepare
        from training.sources import SourceSpec

        config = train_config(summary.config, settings.db_url)
        sources = tuple(SourceSpec.parse(s) for s in summary.config.get("sources") or [])
        print(f"{stage} from {', '.join(map(str, sources))} into {config.data}", flush=True)
        prepare(PrepareConfig(sources=sources, out=config.data))

        from training.trainer import train

        stage = "Training"
        print(f"Training into {config.out}", flush=True)
        train(config, runs=log, progress=False)
        print("Done", flush=True)
    except KeyboardInterrupt:
        log.finish(run_id, "interrupted", f"{stage} was interrupted.")
        raise
    except BaseException as exc:
        log.finish(run_id, "failed", f"{stage} failed: {jobs.failure(exc)}")
        raise
    finally:
        log.close()


class TrainingService:
    """Training runs and the active adapter, for the Admin page (one per settings)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log = RunLog(settings.db_url)
        self.store = self.log.store

    @property
    def runs_dir(self) -> Path:
        """Where launched runs keep their data and adapter: ``<home>/training/<name>/``."""
        return self.settings.home / "training"

    # --- reading --------------------------------------------------------------------------------

    def runs(self) -> list[RunView]:
        """Every recorded run, newest first."""
        jobs.recover(self.store)
        return [_view(s) for s in self.log.list_runs()]

    def run(self, run_id: int) -> RunView:
        jobs.recover(self.store)
        summary = self.log.get_run(run_id)
        if summary is None:
            raise TrainingError(f"No training run {run_id}.")
        return _view(summary)

    def metrics(self, run_id: int, kind: str | None = None) -> list[TrainingMetricRow]:
        """The run's logged steps (``train``) and evaluations (``eval``), in step order."""
        return self.log.metrics(run_id, kind)

    def evaluations(self, run_ids: list[int]) -> list[dict]:
        """Validation points of the runs: rows ``{"run_id", "run", "task", "step", "ce", "ppl"}``."""
        rows = []
        for run_id in run_ids:
            name = self.run(run_id).name
            for m in self.log.metrics(run_id, "eval"):
                rows.append({"run_id": run_id, "run": name, "task": m.task, "step": m.step, "ce": m.value,
                             "ppl": m.ppl})
        return rows

    def progress(self, run_id: int) -> Progress:
        """Step, loss and time left of a run, from its logged step timings."""
        run = self.run(run_id)
        total = total_steps(run.config, run.mix)
        steps = self.log.metrics(run_id, "train")[-_RECENT_STEPS:]
        timed = [m.seconds for m in steps if m.seconds is not None]
        per_step = sum(timed) / len(timed) if timed else None
        eta = per_step * max(0, total - run.step) if per_step is not None and total else None
        if not run.active:
            phase = ""
        elif not run.mix:
            phase = "Preparing the data"
        elif run.step == 0:
            phase = "Loading the model and measuring the baseline"
        elif total and run.step >= total:
            phase = "Final evaluation and saving the adapter"
        else:
            phase = "Training"
        return Progress(run.id, run.status, phase, run.step, total, run.last_loss, per_step,
                        eta if run.active else None, run.error)

    def table1(self, run_id: int) -> list[dict]:
        """Baseline (first evaluation) against tuned (last evaluation) per data set, as in the write-up's Table 1."""
        run = self.run(run_id)
        rows = []
        for task, base in run.baseline.items():
            tuned = run.final[task]
            rows.append({
                "Dataset": TASK_NAMES.get(task, task),
                "Baseline CE": base["ce"], "Tuned CE": tuned["ce"],
                "Baseline PPL": base["ppl"], "Tuned PPL": tuned["ppl"],
                "CE reduction %": 100.0 * (base["ce"] - tuned["ce"]) / base["ce"] if base["ce"] else None,
            })
        return rows

    def compare(self, run_ids: list[int]) -> list[dict]:
        """One row per run: its settings (ratio, optimizer, lr, steps) and final CE per data set."""
        rows = []
        for run_id in run_ids:
            run = self.run(run_id)
            row = {"Run": run.name, "Status": run.status, "Ratio": run.config.get("ratio"),
                   "Optimizer": run.config.get("optimizer"), "LR": run.config.get("learning_rate"),
                   "Batch": run.config.get("batch_size"), "Steps": run.step}
            for task, final in run.final.items():
                base, label = run.baseline[task]["ce"], TASK_NAMES.get(task, task)
                row[f"{label} CE"] = final["ce"]
                row[f"{label} CE reduction %"] = 100.0 * (base - final["ce"]) / base if base else None
            rows.append(row)
        return rows

    def repository_sources(self) -> list[tuple[str, str]]:
        """(name, ``mine:<local folder>``) of every repository added to the dashboard."""
        return [(row.name, f"mine:{row.local_path}") for row in self.store.list_repositories() if row.local_path]

    # --- launching ------------------------------------------------------------------------------

    def start(self, name: str, sources: list[str], options: dict | None = None) -> RunView:
        """Record a run and start its worker (prepare, then train); returns at once.

        ``options`` are TrainConfig fields (``OPTIONS`` and any other but data/out/db_url/resume).
        Bad input raises a NarratorError with one line.
        """
        from training.sources import SourceSpec  # light, but only needed here

        name = (name or "").strip()
        if not _NAME.match(name):
            raise TrainingError("Name the run with letters, digits, '.', '-' or '_' (up to 80), "
                                "starting with a letter or digit.")
        folder = self.runs_dir / name
        if folder.exists():
            raise TrainingError(f"A run named {name} already exists in {self.runs_dir}; pick another name.")
        specs = [SourceSpec.parse(s) for s in sources if s.strip()]
        if not specs:
            raise DataError("Choose at least one data source.")
        for spec in specs:
            spec.check_exists()
        options = dict(options or {})
        allowed = {f.name for f in fields(TrainConfig)} - set(_FIXED)
        refused = sorted(set(options) - allowed)
        if refused:
            raise TrainingError(f"Unknown or fixed training setting: {', '.join(refused)}")
        try:
            config = TrainConfig(data=folder / "data", out=folder / "adapter", **options)
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"Bad training setting: {exc}") from None
        record = {**config.record(), "sources": [str(s) for s in specs]}
        # Queued until its worker starts. One run at a time: the database refuses a second
        # (TrainingBusy), even when two admins press Start at the same moment.
        run_id = self.store.create_training_run(name, record, {})
        folder.mkdir(parents=True, exist_ok=True)
        job_id = self.log.job_id(run_id)
        try:
            jobs.spawn(self.settings, self.store, job_id, worker_command(run_id), f"training-{run_id}")
        except OSError as exc:
            self.log.finish(run_id, "failed", f"Could not start the training process: {exc}")
            raise TrainingError(f"Could not start the training process: {exc}") from None
        return self.run(run_id)

    def cancel(self, run_id: int) -> RunView:
        """Stop a running run's process group and mark the run cancelled, saying at which step."""
        run = self.run(run_id)
        if not run.active:
            raise TrainingError(f"Run {run.name} is not running (it is {run.status}).")
        # The job's ``done`` is the run's step, read once the worker has stopped logging.
        jobs.cancel(self.store, run.job_id, lambda job: f"Cancelled by the admin at step {job.done}.")
        return self.run(run_id)

    # --- the adapter narration uses -------------------------------------------------------------

    def active_adapter(self) -> ActiveAdapter:
        """The adapter the next narration will use (read afresh: the admin may have just changed it)."""
        settings = load_settings(home=self.settings.home, db_url=self.settings.db_url)
        if os.environ.get("CODE_NARRATOR_ADAPTER"):
            origin = "environment"
        elif active_adapter_file(settings.home).is_file():
            origin = "admin"
        else:
            origin = "shipped" if settings.adapter else "none"
        applies = kind_of(settings.model).takes_adapter
        run_id = None
        if settings.adapter:
            here = Path(settings.adapter).resolve()
            run_id = next((r.id for r in self.log.list_runs()
                           if r.config.get("out") and Path(r.config["out"]).resolve() == here), None)
        return ActiveAdapter(settings.adapter, origin, applies, run_id)

    def activate(self, which: int | str | Path | None) -> ActiveAdapter:
        """Make a finished run's adapter (by run id), an adapter folder, or None (the plain model) active."""
        if which is None:
            set_active_adapter(self.settings.home, None)
            return self.active_adapter()
        if isinstance(which, int):
            run = self.run(which)
            if run.adapter is None:
                raise TrainingError(f"Run {run.name} has no trained adapter (it is {run.status}).")
            folder = Path(run.adapter)
        else:
            folder = Path(which).expanduser()
        adapter_id(folder)  # a folder without adapter weights is refused here, not at the next narration
        set_active_adapter(self.settings.home, folder)
        return self.active_adapter()


def main(argv: list[str] | None = None) -> int:
    """``python -m training.launch RUN_ID``: the worker process a launch starts."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m training.launch RUN_ID", file=sys.stderr)
        return 2
    return run_command(lambda: work(load_settings(), int(args[0])) or 0)


if __name__ == "__main__":
    route_library_warnings(home_dir())
    sys.exit(main())
