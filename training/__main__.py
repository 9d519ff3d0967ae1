"""Command line: ``python -m training prepare|train|evaluate|runs|sweep|bench``.

Parses arguments and calls the library. Bad input ends with one plain line on stderr and exit
status 1, never a traceback. ``accelerate launch -m training train ...`` runs the same ``train``
on several GPUs (see ``training.trainer``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from narrator.errors import run_command
from training.errors import DataError, TrainingError


def _floats(text: str, count: int, flag: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise DataError(f"{flag} takes {count} comma-separated numbers, not {text!r}") from None
    if len(values) != count:
        raise DataError(f"{flag} takes {count} comma-separated numbers, not {text!r}")
    return values


def cmd_prepare(args: argparse.Namespace) -> int:
    from training.cleaning import Filters
    from training.dataset import PrepareConfig, prepare
    from training.sources import SourceSpec
    from training.splits import SplitPlan

    caps = tuple(None if c <= 0 else int(c) for c in _floats(args.caps, 3, "--caps"))
    try:
        plan = SplitPlan(fractions=_floats(args.fractions, 3, "--fractions"), caps=caps, seed=args.seed,
                         keep_partitions=not args.resplit)
        config = PrepareConfig(sources=tuple(SourceSpec.parse(s) for s in args.source), out=args.out,
                               filters=Filters(), plan=plan, hub_rows=args.hub_rows, max_commits=args.max_commits)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    manifest = prepare(config)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    for task, languages in manifest["counts"].items():
        for language, counts in languages.items():
            print(f"{task:14} {language:11} train {counts['train']:6}  val {counts['val']:5}  test {counts['test']:5}")
    print(f"Wrote {args.out} (manifest.json has the drop reasons per source)")
    return 0


def _train_config(args: argparse.Namespace, **overrides):
    from training.config import LoraSettings, TrainConfig

    try:
        lora = LoraSettings(r=args.lora_r, alpha=args.lora_alpha, dropout=args.lora_dropout,
                            target_modules=tuple(m.strip() for m in args.target_modules.split(",") if m.strip()))
        values = dict(
            data=args.data, out=args.out, base=args.base, ratio=args.ratio, mix_size=args.mix_size, seed=args.seed,
            quant=args.quant, lora=lora, optimizer=args.optimizer, scheduler=args.scheduler,
            warmup_steps=args.warmup_steps, epochs=args.epochs, batch_size=args.batch_size,
            learning_rate=args.lr, max_steps=args.max_steps, eval_every=args.eval_every,
            eval_examples=args.eval_examples, save_every=args.save_every, max_length=args.max_length,
            device=args.device, threads=args.threads, db_url=args.db, resume=args.resume,
        )
        values.update(overrides)
        return TrainConfig(**values)
    except ValueError as exc:
        raise TrainingError(f"Bad training setting: {exc}") from None


def cmd_train(args: argparse.Namespace) -> int:
    from training.trainer import train

    result = train(_train_config(args), progress=not args.quiet)
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
    results = run_sweep(points, lambda config: train(config, progress=not args.quiet))
    print(json.dumps(results, indent=2))
    return 0 if all(r["status"] == "done" for r in results) else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.dataset import split_file
    from training.evaluate import default_adapter, evaluate_files

    files: dict[str, Path] = {}
    if args.data:
        for task in ("codesearchnet", "commitpackft"):
            if split_file(args.data, task, args.split).is_file():
                files[task] = split_file(args.data, task, args.split)
    if args.csn:
        files["codesearchnet"] = args.csn
    if args.commitpackft:
        files["commitpackft"] = args.commitpackft
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
    from training.bench import bench
    from training.model import resolve_base

    quants = tuple(q.strip() for q in args.quant.split(",") if q.strip())
    if not quants or any(q not in ("none", "nf4") for q in quants):
        raise TrainingError(f"--quant takes none, nf4 or both (none,nf4), not {args.quant!r}")
    if args.steps < 1 or args.batch_size < 1 or args.max_length < 16:
        raise TrainingError("--steps and --batch-size must be at least 1, --max-length at least 16")
    if args.threads is not None and args.threads < 1:
        raise TrainingError("--threads must be at least 1")
    print(json.dumps(bench(resolve_base(args.base), quants, args.steps, args.batch_size, args.max_length,
                           args.device or "cpu", args.threads), indent=2))
    return 0


def _train_flags(parser: argparse.ArgumentParser) -> None:
    from training.config import DEFAULT_TARGET_MODULES

    parser.add_argument("--data", type=Path, required=True, help="prepared data folder")
    parser.add_argument("--out", type=Path, required=True, help="adapter output folder")
    parser.add_argument("--ratio", type=float, default=0.5, help="share of code->summary examples (0.5 = 50/50)")
    parser.add_argument("--mix-size", type=int, help="training examples drawn in all (default: all the ratio allows)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base", help="base model id or folder (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument("--quant", choices=("auto", "nf4", "none"), default="auto",
                        help="nf4 = QLoRA 4-bit base; auto = nf4 on CUDA, none on CPU")
    parser.add_argument("--optimizer", choices=("adamw", "adagrad", "sgd"), default="adagrad")
    parser.add_argument("--scheduler", choices=("linear", "cosine", "constant_with_warmup", "polynomial"),
                        default="constant_with_warmup")
    parser.add_argument("--warmup-steps", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=2e-4)
    parser.add_argument("--max-steps", type=int, help="stop after this many steps in all")
    parser.add_argument("--eval-every", type=int, default=200, help="validation every N steps (0: start and end only)")
    parser.add_argument("--eval-examples", type=int, default=200, help="validation examples per task")
    parser.add_argument("--save-every", type=int, default=200, help="checkpoint every N steps (0: none)")
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--lora-alpha", type=int, default=32)
    parser.add_argument("--lora-dropout", type=float, default=0.05)
    parser.add_argument("--target-modules", default=",".join(DEFAULT_TARGET_MODULES))
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: one per core; fewer on a busy machine)")
    parser.add_argument("--db", help="database URL for run records (default: the project database)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest OUT/checkpoint-N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description="Fine-tune the narration model.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("prepare", help="filter, split and write training data")
    p.add_argument("--source", action="append", required=True,
                   help="csn:PATH|hub[:DATASET], commitpackft:PATH|hub[:DATASET] or mine:REPO (repeatable)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--fractions", default="0.7,0.1,0.2", help="train,val,test shares for rows without a split")
    p.add_argument("--caps", default="2100,300,600", help="most train,val,test rows per language (0 = no cap)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resplit", action="store_true", help="ignore the splits data sets give their rows")
    p.add_argument("--hub-rows", type=int, default=20_000, help="rows streamed per language from the Hub")
    p.add_argument("--max-commits", type=int, default=5000, help="newest commits read per mined repository")
    p.add_argument("--json", action="store_true", help="print the manifest")
    p.set_defaults(func=cmd_prepare)

    p = commands.add_parser("train", help="train a LoRA adapter on a prepared data folder")
    _train_flags(p)
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("sweep", help="one training run per point of a grid")
    _train_flags(p)
    p.add_argument("--grid", action="append", required=True, help="AXIS=V1,V2 (e.g. optimizer=adamw,adagrad)")
    p.set_defaults(func=cmd_sweep)

    p = commands.add_parser("evaluate", help="cross-entropy and perplexity per task")
    p.add_argument("--adapter", help="adapter folder, or 'none' for the base model (default: the narration adapter)")
    p.add_argument("--csn", type=Path, help="prepared code->summary file")
    p.add_argument("--commitpackft", type=Path, help="prepared diff->message file")
    p.add_argument("--data", type=Path, help="prepared data folder (with --split)")
    p.add_argument("--split", choices=("train", "val", "test"), default="val")
    p.add_argument("--limit", type=int, help="first N examples per task")
    p.add_argument("--per-language", type=int, help="first N examples of each language per task (a stratified sample)")
    p.add_argument("--base", help="base model id or folder (default: the embedded model)")
    p.add_argument("--quant", choices=("auto", "nf4", "none"), default="auto")
    p.add_argument("--device")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=384)
    p.add_argument("--compare", action="store_true", help="also measure the base model (adapter off)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = commands.add_parser("runs", help="recorded training runs")
    p.add_argument("--db", help="database URL (default: the project database)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = commands.add_parser("bench", help="training throughput, fp32 LoRA vs NF4")
    p.add_argument("--base", help="base model id or folder (default: the embedded model)")
    p.add_argument("--quant", default="none,nf4")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-length", type=int, default=384)
    p.add_argument("--device")
    p.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: args.func(args), "error: interrupted (resume with --resume)")


if __name__ == "__main__":
    sys.exit(main())
