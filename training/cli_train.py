"""Commands that train and measure cross-entropy: ``train``, ``sweep``, ``evaluate``, ``runs`` and ``bench``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import get_args

from db.errors import DataError, TrainingError
from training.cli_common import _check_model, _field_flag
from training.config import LoraSettings, Quant, TrainConfig, require_path


_TRAIN_FLAGS = (
    # (flag or flags, TrainConfig field, help); each flag's type, default and choices come from the field.
    ("--data", "data", "prepared data folder"),
    ("--out", "out", "adapter output folder"),
    ("--ratio", "ratio", "share of code->summary examples (0.5 = 50/50)"),
    ("--mix", "mix", "the cocktail over four tasks, e.g. csn=0.25,commit=0.25,kind=0.25,note=0.25 "
                     "(kind and note: prepare-briefing's data in the same folder); replaces --ratio"),
    ("--mix-size", "mix_size", "training examples drawn in all (default: all the ratio allows)"),
    ("--seed", "seed", None),
    ("--base", "base", "base model id or folder (default: the embedded SmolLM2-135M-Instruct)"),
    ("--quant", "quant", "nf4 = QLoRA 4-bit base; auto = nf4 on CUDA, none on CPU"),
    ("--optimizer", "optimizer", None),
    ("--scheduler", "scheduler", None),
    ("--warmup-steps", "warmup_steps", None),
    ("--epochs", "epochs", None),
    ("--batch-size", "batch_size", None),
    (("--lr", "--learning-rate"), "learning_rate", None),
    ("--max-steps", "max_steps", "stop after this many steps in all"),
    ("--eval-every", "eval_every", "validation every N steps (0: start and end only)"),
    ("--eval-examples", "eval_examples", "validation examples per task"),
    ("--save-every", "save_every", "checkpoint every N steps (0: none)"),
    ("--max-length", "max_length", None),
    ("--max-grad-norm", "max_grad_norm", "gradient clipping norm (0 disables)"),
    ("--device", "device", "cpu or cuda (default: cuda when present)"),
    ("--threads", "threads", "CPU threads (default: one per core; fewer on a busy machine)"),
    ("--db", "db_url", "database URL for run records (default: the project database)"),
)


_LORA_FLAGS = (("--lora-r", "r"), ("--lora-alpha", "alpha"), ("--lora-dropout", "dropout"),
               ("--target-modules", "target_modules"))


def _train_config(args: argparse.Namespace, **overrides) -> TrainConfig:
    try:
        lora = LoraSettings(**{name: getattr(args, f"lora_{name}") for _, name in _LORA_FLAGS})
        values = {name: getattr(args, name) for _, name, _ in _TRAIN_FLAGS}
        values.update(lora=lora, resume=args.resume, **overrides)
        config = TrainConfig(**values)
    except ValueError as exc:
        raise TrainingError(f"Bad training setting: {exc}") from None
    config.check_inputs()
    return config


def _refuse_while_training(config: TrainConfig) -> None:
    """``TrainingBusy`` at once, before data or model load, when another run is queued or running.

    Only a courtesy: the database refuses a second active run anyway (``db.training``), but after
    the base model has loaded.
    """
    from db.store import Store
    from db.training import TrainingBusy
    from training.trainer import default_db_url

    store = Store(config.db_url or default_db_url())
    try:
        store.mark_stale_jobs()
        busy = store.active_training_run()
    finally:
        store.close()
    if busy is not None:
        raise TrainingBusy(busy)


def cmd_train(args: argparse.Namespace) -> int:
    from training.trainer import train

    config = _train_config(args)
    _refuse_while_training(config)
    result = train(config, progress=not args.quiet)
    print(json.dumps({"run_id": result.run_id, "steps": result.steps, "adapter": str(result.adapter),
                      "evaluation": {t: r.as_dict() for t, r in result.evaluation.items()}, "mix": result.mix}, indent=2))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from training.sweep import grid, parse_axis, run_sweep
    from training.trainer import train

    axes: dict[str, list] = {}
    for item in args.grid:
        axis, sep, values = item.partition("=")
        if not sep:
            raise TrainingError(f"--grid takes AXIS=V1,V2,... (e.g. learning_rate=1e-4,2e-4), not {item!r}")
        axis = axis.strip().replace("-", "_")
        axis = {"lr": "learning_rate"}.get(axis, axis)  # the flag's short name
        axes[axis] = parse_axis(axis, values)
    points = grid(_train_config(args), axes)
    _refuse_while_training(points[0].config)
    results = run_sweep(points, lambda config: train(config, progress=not args.quiet))
    print(json.dumps(results, indent=2))
    return 0 if all(r["status"] == "done" for r in results) else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.dataset import split_file
    from training.cross_entropy import default_adapter, evaluate_files
    from training.examples import TASKS

    for flag in ("limit", "per_language", "batch_size"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise TrainingError(f"--{flag.replace('_', '-')} must be at least 1")
    if args.max_length < 16:
        raise TrainingError("--max-length must be at least 16")
    _check_model(args)
    require_path(args.data, "data folder", folder=True)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    files: dict[str, Path] = {}
    if args.data:
        for task in TASKS:
            if split_file(args.data, task, args.split).is_file():
                files[task] = split_file(args.data, task, args.split)
    if args.csn:
        files["codesearchnet"] = args.csn
    if args.commitpackft:
        files["commitpackft"] = args.commitpackft
    for path in files.values():
        require_path(path, "file")
    if not files:
        raise DataError("Name what to evaluate: --csn FILE and/or --commitpackft FILE (or --data DIR --split val)")
    if args.adapter is None:
        adapter = default_adapter()
        if adapter is None:
            print("Narration uses no adapter (none shipped, active or set); evaluating the base model", file=sys.stderr)
    elif args.adapter.lower() == "none":
        adapter = None
    else:
        adapter = Path(args.adapter)
        if not (adapter / "adapter_config.json").is_file():
            raise DataError(f"No adapter in {adapter} (adapter_config.json is missing)")
    results = evaluate_files(files, adapter, base=args.base, limit=args.limit, quant=args.quant, device=args.device,
                             batch_size=args.batch_size, max_length=args.max_length, compare=args.compare,
                             per_language=args.per_language)
    if args.json:
        print(json.dumps(results))
        return 0
    sections = results.items() if args.compare else [("", results)]
    for label, tasks in sections:
        for task, r in tasks.items():
            print(f"{label + ' ' if label else ''}{task:14} CE {r['ce']:.4f}  PPL {r['ppl']:.3f}  ({r['examples']} examples, {r['tokens']} tokens)")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from training.runs import RunLog
    from training.trainer import default_db_url

    runs = RunLog(args.db or default_db_url()).list_runs()
    if args.json:
        print(json.dumps([run.as_dict() for run in runs], indent=2))
        return 0
    if not runs:
        print("No training runs yet.")
    for run in runs:
        final = "  ".join(f"{task} CE {m['ce']:.3f}" for task, m in run.final.items())
        print(f"#{run.id:<4} {run.status:11} step {run.step:<6} {run.name:30} {final}"
              + (f"  error: {run.error}" if run.error else ""))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from training.throughput import bench
    from training.model import resolve_base

    quants = tuple(q.strip() for q in args.quant.split(",") if q.strip())
    if not quants or any(q not in ("none", "nf4") for q in quants):
        raise TrainingError(f"--quant takes none, nf4 or both (none,nf4), not {args.quant!r}")
    if args.steps < 1 or args.batch_size < 1 or args.max_length < 16:
        raise TrainingError("--steps and --batch-size must be at least 1, --max-length at least 16")
    _check_model(args)
    print(json.dumps(bench(resolve_base(args.base), quants, args.steps, args.batch_size, args.max_length,
                           args.device or "cpu", args.threads), indent=2))
    return 0


def _train_flags(parser: argparse.ArgumentParser) -> None:
    for flag, name, help in _TRAIN_FLAGS:
        _field_flag(parser, flag, TrainConfig, name, name, help)
    for flag, name in _LORA_FLAGS:
        _field_flag(parser, flag, LoraSettings, name, f"lora_{name}")
    parser.add_argument("--resume", action="store_true", help="continue from the newest OUT/checkpoint-N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_train(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train a LoRA adapter on a prepared data folder")
    _train_flags(p)
    p.set_defaults(func=cmd_train)


def add_sweep(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("sweep", help="one training run per point of a grid")
    _train_flags(p)
    p.add_argument("--grid", action="append", required=True, help="AXIS=V1,V2 (e.g. optimizer=adamw,adagrad)")
    p.set_defaults(func=cmd_sweep)


def add_evaluate(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("evaluate", help="cross-entropy and perplexity per task (all four with --data)")
    p.add_argument("--adapter", help="adapter folder, or 'none' for the base model (default: the narration adapter)")
    p.add_argument("--csn", type=Path, help="prepared code->summary file")
    p.add_argument("--commitpackft", type=Path, help="prepared diff->message file")
    p.add_argument("--data", type=Path, help="prepared data folder (with --split)")
    p.add_argument("--split", choices=("train", "val", "test"), default="val")
    p.add_argument("--limit", type=int, help="first N examples per task (change_kind, user_note: N taken evenly over "
                                             "their repositories)")
    p.add_argument("--per-language", type=int, help="first N examples of each language per task (a stratified sample)")
    p.add_argument("--base", help="base model id or folder (default: the embedded model)")
    p.add_argument("--quant", choices=get_args(Quant), default="auto")
    p.add_argument("--device")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=384)
    p.add_argument("--compare", action="store_true", help="also measure the base model (adapter off)")
    p.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)


def add_runs(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("runs", help="recorded training runs")
    p.add_argument("--db", help="database URL (default: the project database)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)


def add_bench(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("bench", help="training throughput, fp32 LoRA vs NF4")
    p.add_argument("--base", help="base model id or folder (default: the embedded model)")
    p.add_argument("--quant", default="none,nf4")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-length", type=int, default=384)
    p.add_argument("--device")
    p.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
    p.set_defaults(func=cmd_bench)
