"""Command line: ``python -m training prepare|prepare-briefing|train|evaluate|kinds|notes|headlines|summaries|
explanations|kind-head|runs|sweep|study|bench|kinds-baseline``.

Parses arguments and calls the library. Bad input ends with one plain line on stderr and exit
status 1, never a traceback. ``accelerate launch -m training train ...`` runs the same ``train``
on several GPUs (see ``training.trainer``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from types import NoneType, UnionType
from typing import Literal, get_args, get_origin, get_type_hints

from narrator.errors import run_command
from narrator.model.quiet import route_library_warnings
from narrator.settings import home_dir
from training.config import (
    LoraSettings,
    Quant,
    TrainConfig,
    check_device,
    check_threads,
    looks_like_path,
    require_path,
    require_writable_folder,
)
from training.errors import DataError, TrainingError

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
    for spec in config.sources:
        spec.check_exists()
    require_writable_folder(config.out, "--out")
    manifest = prepare(config)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    for task, languages in manifest["counts"].items():
        for language, counts in languages.items():
            print(f"{task:14} {language:11} train {counts['train']:6}  val {counts['val']:5}  test {counts['test']:5}")
    print(f"Wrote {args.out} (manifest.json has the drop reasons per source)")
    return 0


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


_STUDY_FLAGS = (
    # (flag, StudyConfig field, help); type and default come from the field.
    ("--out", "out", "study folder (rerun with the same --out to skip finished runs and resume the rest)"),
    ("--steps", "steps", "optimizer steps of every run"),
    ("--model", "model", "base model id or folder (default: the embedded SmolLM2-135M-Instruct)"),
    ("--eval-examples", "eval_examples", "evaluation examples per task, the same for every run"),
    ("--split", "split", "split the evaluation examples come from"),
    ("--seed", "seed", None),
    ("--csn", "csn", "CodeSearchNet-format JSON lines: also score unit-summary BLEU"),
    ("--bleu-examples", "bleu_examples", "rows of --csn scored for BLEU"),
    ("--save-every", "save_every", "checkpoint every N steps"),
    ("--threads", "threads", "CPU threads (default: one per core)"),
    ("--device", "device", "cpu or cuda (default: cuda when present)"),
    ("--db", "db_url", "database URL for run records (default: the project database)"),
    ("--compare", "compare", "adapter measured alongside the runs as 'shipped' "
                             "(default: the shipped adapter, with the embedded model; 'none': no comparison)"),
    ("--grid", "grid", "two: the ratio grid over CodeSearchNet and CommitPackFT; four: the four tasks of the cocktail "
                       "(each alone, equal quarters, weighted mixes), with --data prepared by prepare and prepare-briefing"),
)


def cmd_study(args: argparse.Namespace) -> int:
    from narrator.settings import shipped_adapter
    from training.study import BLEU_SOURCE, StudyConfig, prepare_study_data, run_study, shared_data, study_data_folder

    # Every argument is checked before the data is prepared or a model loaded (that takes minutes).
    shared = None
    if args.data is None:  # the whole study from scratch: its data, too
        shared = args.shared_data or shared_data()
        if args.csn is None and (shared / BLEU_SOURCE).is_dir():
            args.csn = shared / BLEU_SOURCE
    if args.compare is None and args.model is None:
        args.compare = shipped_adapter()
    elif str(args.compare).lower() == "none":
        args.compare = None
    try:
        config = StudyConfig(data=args.data or study_data_folder(args.out),
                             **{name: getattr(args, name) for _, name, _ in _STUDY_FLAGS}, only=tuple(args.only))
    except ValueError as exc:
        raise TrainingError(f"Bad study setting: {exc}") from None
    config.check_inputs()
    if shared is None:
        require_path(config.data, "data folder", folder=True)
    else:
        prepare_study_data(shared, config.out, briefing=config.grid == "four")  # checks that its sources exist first
    results = run_study(config, on_run=None if args.quiet else lambda name: print(f"study: {name}", file=sys.stderr),
                        progress=not args.quiet)
    print(f"Wrote {config.out / 'results.json'} and {config.out / 'README.md'} ({len(results)} results)")
    return 0


def _check_model(args: argparse.Namespace) -> None:
    """``--device``, ``--threads`` and a ``--base`` folder, checked before any model is loaded."""
    try:
        check_device(args.device)
        check_threads(args.threads)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    if args.base and looks_like_path(args.base):
        require_path(args.base, "base model folder", folder=True)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.dataset import split_file
    from training.evaluate import default_adapter, evaluate_files
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


def _shared_folder(args: argparse.Namespace) -> Path:
    from training.study import shared_data

    shared = args.data or shared_data()
    require_path(shared, "shared data folder", folder=True)
    return shared


def cmd_prepare_briefing(args: argparse.Namespace) -> int:
    from training.briefing_tasks import prepare_briefing

    shared = _shared_folder(args)
    require_writable_folder(args.out, "--out")
    manifest = prepare_briefing(shared, args.out, seed=args.seed, include_bots=args.with_bots)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    for task, part in manifest["tasks"].items():
        repos = {name: len(part["repositories"][name]) for name in part["repositories"]}
        print(f"{task:12} " + "  ".join(f"{name} {part['examples'][name]:6} ({repos[name]} repositories)"
                                        for name in part["examples"]))
    print(f"Wrote {args.out} (briefing.json has the repositories of each split and the drop reasons)")
    return 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def cmd_kinds_baseline(args: argparse.Namespace) -> int:
    from training.briefing_tasks import kinds_baseline

    report = kinds_baseline(_shared_folder(args), args.split, seed=args.seed, include_bots=args.with_bots)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    low, high = report["accuracy_ci95"]
    print(f"Rules vs developers' conventional types, {report['commits']} commits of the {args.split} repositories: "
          f"accuracy {report['accuracy']:.1%} (95% CI {low:.1%}-{high:.1%}; always the commonest kind: "
          f"{report['majority_accuracy']:.1%})")
    rows = [(kind, m) for kind, m in report["per_kind"].items()] + [("breaking", report["breaking"])]
    for kind, m in rows:
        print(f"  {kind:22} precision {_share(m['precision']):>6}  recall {_share(m['recall']):>6}  ({m['support']} commits)")
    return 0


def _eval_adapter(text: str | None) -> Path | None:
    """``--adapter DIR|none`` of ``kinds``/``notes`` (default: the adapter narration uses), checked before any work."""
    from training.evaluate import default_adapter

    if text is None:
        adapter = default_adapter()
        if adapter is None:
            print("Narration uses no adapter (none shipped, active or set); measuring the base model", file=sys.stderr)
        return adapter
    if text.lower() == "none":
        return None
    if not (Path(text) / "adapter_config.json").is_file():
        raise DataError(f"No adapter in {text} (adapter_config.json is missing)")
    return Path(text)


def _briefing_eval_args(args: argparse.Namespace) -> Path | None:
    from training.briefing_eval import check_limit

    check_limit(args.limit)
    _check_model(args)
    require_path(args.data, "data folder", folder=True)
    adapter = None if args.rules_only else _eval_adapter(args.adapter)
    if args.compare and adapter is None:
        raise TrainingError("--compare needs an adapter, and none was given or found")
    return adapter


def _kind_line(name: str, report: dict) -> str:
    low, high = report["accuracy_ci95"]
    extra = f"; {report['unreadable']} unreadable answers" if report.get("unreadable") else ""
    if "vs_rules" in report:
        below, above = report["vs_rules"]["ci95"]
        extra = f"  vs rules {report['vs_rules']['difference']:+.1%} ({below:+.1%} to {above:+.1%})" + extra
    return (f"  {name:26} accuracy {_share(report['accuracy']):>6} (95% CI {_share(low)}-{_share(high)})  "
            f"macro F1 {report['macro_f1']:.3f}  breaking P {_share(report['breaking']['precision'])} "
            f"R {_share(report['breaking']['recall'])}{extra}")


def cmd_kinds(args: argparse.Namespace) -> int:
    from training.briefing_eval import kind_cases, kinds_evaluation, load_model

    adapter = _briefing_eval_args(args)
    shared = _shared_folder(argparse.Namespace(data=args.shared_data))
    cases = kind_cases(args.data, shared, args.split, args.limit, args.seed)
    model = tokenizer = None
    if not args.rules_only:
        model, tokenizer = load_model(adapter, args.base, args.device, args.threads)
    report = {"split": args.split, "adapter": str(adapter) if adapter else None,
              **kinds_evaluation(cases, model, tokenizer, adapter, args.compare, args.max_length, args.batch_size)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Change kind vs developers' conventional types: {report['commits']} commits of {report['repositories']} "
          f"{args.split} repositories (the rules are sure of {report['rules_sure']})")
    for name, m in report["methods"].items():
        print(_kind_line(name, m))
    names = list(report["methods"])
    print("  precision/recall per kind: " + " | ".join(names))
    for kind in next(iter(report["methods"].values()))["per_kind"]:
        cells = [report["methods"][n]["per_kind"][kind] for n in names]
        print(f"  {kind:22} " + " | ".join(f"{_share(c['precision'])}/{_share(c['recall'])}" for c in cells)
              + f"  ({cells[0]['support']} commits)")
    return 0


def _generated(args: argparse.Namespace, cases_of, evaluation) -> tuple[Path | None, dict]:
    """``(adapter, report)`` of a measurement of generated text (``notes``, ``headlines``) on held-out examples."""
    from training.briefing_eval import load_model

    args.rules_only = False
    adapter = _briefing_eval_args(args)
    if getattr(args, "record", False) and adapter is None:
        raise TrainingError("--record needs an adapter to record into")
    examples = cases_of(args.data, args.split, args.limit, args.seed)
    model, tokenizer = load_model(adapter, args.base, args.device, args.threads)
    return adapter, {"split": args.split, "adapter": str(adapter) if adapter else None,
                     **evaluation(examples, model, tokenizer, adapter, args.compare, args.max_length, args.batch_size)}


def cmd_notes(args: argparse.Namespace) -> int:
    from training.briefing_eval import note_cases, notes_evaluation

    adapter, report = _generated(args, note_cases, notes_evaluation)
    _record(args, adapter, "user_note", report)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Notes for users vs the people's notes: {report['notes']} notes of {report['repositories']} {args.split} repositories")
    for label in ("subject", "base", "adapter"):
        if isinstance(report.get(label), dict):  # "adapter" is the folder when none was measured
            m = report[label]
            print(f"  {label:8} BLEU-4 {m['bleu4']:5.2f} ({m['bleu4_ci95'][0]:.2f}-{m['bleu4_ci95'][1]:.2f})  "
                  f"ROUGE-L {m['rouge_l']:5.2f} ({m['rouge_l_ci95'][0]:.2f}-{m['rouge_l_ci95'][1]:.2f})  "
                  f"pass the checks {m['passes_checks']}/{report['notes']}")
    return 0


def _command_line(args: argparse.Namespace) -> str:
    """The command that measured, as a reader reruns it (no machine paths: DATA and ADAPTER)."""
    compare = " --compare" if getattr(args, "compare", False) else ""
    limit = f" --limit {args.limit}" if getattr(args, "limit", None) else ""
    return f"python -m training {args.command} --data DATA --adapter ADAPTER{compare}{limit} --record"


def _record(args: argparse.Namespace, adapter: Path | None, task: str, report: dict) -> None:
    """With ``--record``, write the task's measured entry into the adapter's evaluation.json."""
    if not getattr(args, "record", False):
        return
    from training import model_tasks

    entry_of = {"user_note": model_tasks.note_entry, "headline": model_tasks.headline_entry,
                "code_summary": model_tasks.summary_entry, "explanation": model_tasks.explanation_entry}[task]
    entry = entry_of(report, _command_line(args))
    model_tasks.record(adapter, task, entry)
    print(f"Recorded in {adapter / model_tasks.EVALUATION_FILE}: {entry['title']}: model {entry['model']:.3f}, "
          f"{entry['replaced_by']} {entry['replaced']:.3f}, " + ("shown" if entry["shown_by_default"] else "not shown")
          + " by default", file=sys.stderr)


def cmd_headlines(args: argparse.Namespace) -> int:
    from training.briefing_eval import headline_cases, headlines_evaluation

    adapter, report = _generated(args, headline_cases, headlines_evaluation)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Headlines from a diff vs the developer's own subject: {report['headlines']} changes of the {args.split} "
              f"split's repositories")
        for label in ("base", "adapter"):
            if isinstance(report.get(label), dict):  # "adapter" is the folder when none was measured
                m = report[label]
                print(f"  {label:8} agrees {_share(m['agrees'])} ({_share(m['agrees_ci95'][0])}-{_share(m['agrees_ci95'][1])})  "
                      f"BLEU-4 {m['bleu4']:5.2f}  ROUGE-L {m['rouge_l']:5.2f}  pass the checks {m['passes_checks']}/{report['headlines']}")
    _record(args, adapter, "headline", report)
    return 0


def _sentences(args: argparse.Namespace, cases_of, evaluation) -> tuple[Path | None, dict]:
    """``_generated`` for ``summaries``/``explanations``, whose cases are read again from the shared data."""
    shared = _shared_folder(argparse.Namespace(data=args.shared_data))
    return _generated(args, lambda data, split, limit, seed: cases_of(data, shared, split, limit, seed), evaluation)


def _sentence_line(label: str, m: dict, count: int) -> str:
    return (f"  {label:9} agrees {_share(m['agrees'])} ({_share(m['agrees_ci95'][0])}-{_share(m['agrees_ci95'][1])})  "
            f"BLEU-4 {m['bleu4']:5.2f}  ROUGE-L {m['rouge_l']:5.2f}  pass the checks {m['passes_checks']}/{count}")


def cmd_summaries(args: argparse.Namespace) -> int:
    from training.sentence_eval import summaries_evaluation, summary_cases

    adapter, report = _sentences(args, summary_cases, summaries_evaluation)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Summaries of code vs the developer's own docstring: {report['summaries']} functions of "
              f"{report['repositories']} {args.split} repositories")
        for label in ("name_rule", "base", "adapter"):
            if isinstance(report.get(label), dict):  # "adapter" is the folder when none was measured
                print(_sentence_line(label.replace("_", " "), report[label], report["summaries"]))
    _record(args, adapter, "code_summary", report)
    return 0


def cmd_explanations(args: argparse.Namespace) -> int:
    from training.sentence_eval import explanation_cases, explanations_evaluation

    adapter, report = _sentences(args, explanation_cases, explanations_evaluation)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Sentences under an informative subject vs the developer's own first sentence: {report['explanations']} "
              f"commits of {report['repositories']} {args.split} repositories")
        for label in ("base", "adapter"):
            if isinstance(report.get(label), dict):
                print(_sentence_line(label, report[label], report["explanations"]))
    _record(args, adapter, "explanation", report)
    return 0


def cmd_kind_head(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from narrator.model.kind_model import FEATURES
    from training import model_tasks
    from training.briefing_eval import kind_cases, load_model
    from training.kind_head import case_features, choose_method, fit_head, measure, vocabulary_of

    groups = [group.strip() for group in args.features.split(",") if group.strip()]
    if not groups or any(group not in FEATURES for group in groups):
        raise TrainingError(f"--features takes a comma-separated list of {', '.join(FEATURES)}, not {args.features!r}")
    groups = [group for group in FEATURES if group in groups]
    if args.train is None:
        args.train = 2400 if "model" in groups else None  # the model's features cost a forward pass each
    for name in ("train", "val", "test"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise TrainingError(f"--{name} must be at least 1")
    if "model" in groups:
        _check_model(args)
    require_path(args.data, "data folder", folder=True)
    adapter = _eval_adapter(args.adapter)
    if adapter is None:
        raise TrainingError("kind-head needs an adapter: the head is saved beside it, and fitted on its features")
    shared = _shared_folder(argparse.Namespace(data=args.shared_data))
    cases = {name: kind_cases(args.data, shared, name, getattr(args, name), args.seed) for name in ("train", "val", "test")}
    meta = {"features": groups}
    if "words" in groups:  # from every training commit: reading words is cheap, even when the model reads a sample
        meta["vocabulary"] = vocabulary_of(cases["train"] if args.train is None else kind_cases(args.data, shared, "train"))
    model = tokenizer = None
    if "model" in groups:
        model, tokenizer = load_model(adapter, args.base, args.device, args.threads)
        if hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()  # as narration runs it, and faster
        model.eval()
    data = {}
    for name, chosen in cases.items():
        with tqdm(total=len(chosen), desc=f"Reading {name} commits", unit="commit", file=sys.stderr, dynamic_ncols=True) as bar:
            data[name] = case_features(model, tokenizer, chosen, meta, args.batch_size,
                                       progress=lambda done, _: bar.update(done - bar.n))
            bar.update(len(chosen) - bar.n)
    head = fit_head(data["train"]["x"], data["train"]["kinds"], data["train"]["breaking"], data["val"]["x"],
                    data["val"]["kinds"], meta)
    method, breaking = choose_method(head, data["val"])
    report = measure(head, data["test"], method, breaking)
    head.meta.update({"method": method, "breaking_method": breaking, "train_examples": len(cases["train"]),
                      "val_examples": len(cases["val"]),
                      "test": {name: {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]} for name, m in report["methods"].items()}})
    head.save(adapter)
    sizes = "".join(f" --{name} {getattr(args, name)}" for name in ("train", "val", "test") if getattr(args, name))
    entry = model_tasks.kind_entry(report, f"python -m training kind-head --data DATA --adapter ADAPTER --features "
                                           f"{','.join(groups)}{sizes}")
    model_tasks.record(adapter, "change_kind", entry)
    if args.json:
        print(json.dumps({**report, "head": head.meta}, indent=2))
        return 0
    print(f"Change kind on {report['examples']} commits of {report['repositories']} held-out repositories "
          f"(head fitted on {len(cases['train'])}, tuned on {len(cases['val'])}; method {method}, breaking by {breaking})")
    for name, m in report["methods"].items():
        print(_kind_line(name, m))
    print(f"Saved the head in {adapter}; " + ("shown" if entry["shown_by_default"] else "not shown") + " by default")
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
    _check_model(args)
    print(json.dumps(bench(resolve_base(args.base), quants, args.steps, args.batch_size, args.max_length,
                           args.device or "cpu", args.threads), indent=2))
    return 0


def _modules(text: str) -> tuple[str, ...]:
    """``q_proj,v_proj`` -> ("q_proj", "v_proj")."""
    return tuple(m.strip() for m in text.split(",") if m.strip())


def _field_flag(parser: argparse.ArgumentParser, flag: str | tuple[str, ...], config: type, name: str, dest: str,
                help: str | None = None) -> None:
    """Add ``flag`` (one or several names) for field ``name`` of dataclass ``config``: its type, default and choices
    (a ``Literal``) are the field's own, so each default lives in one place."""
    field = next(f for f in fields(config) if f.name == name)
    default = field.default_factory() if field.default is MISSING and field.default_factory is not MISSING else field.default
    hint = get_type_hints(config)[name]
    if get_origin(hint) is UnionType:  # ``int | None``: the flag takes an int
        hint = next(arg for arg in get_args(hint) if arg is not NoneType)
    options: dict = {"dest": dest}
    if get_origin(hint) is Literal:
        options.update(choices=get_args(hint), type=str)
    elif name == "target_modules":
        options["type"] = _modules
    else:
        options["type"] = hint
    if default is MISSING:
        options["required"] = True
    else:
        options["default"] = default
    parser.add_argument(*(flag if isinstance(flag, tuple) else (flag,)), help=help, **options)


def _train_flags(parser: argparse.ArgumentParser) -> None:
    for flag, name, help in _TRAIN_FLAGS:
        _field_flag(parser, flag, TrainConfig, name, name, help)
    for flag, name in _LORA_FLAGS:
        _field_flag(parser, flag, LoraSettings, name, f"lora_{name}")
    parser.add_argument("--resume", action="store_true", help="continue from the newest OUT/checkpoint-N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description="Fine-tune the narration model.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("prepare", help="filter, split and write training data")
    p.add_argument("--source", action="append", required=True,
                   help="csn:PATH|hub[:DATASET], commitpackft:PATH|hub[:DATASET] or mine:REPO (repeatable); "
                        "a trailing @train, @val or @test puts every row of the source in that split")
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

    p = commands.add_parser("study", help="the cocktail study: a fixed grid of runs, measured alike, and its report")
    from training.study import GRIDS, StudyConfig

    p.add_argument("--data", type=Path, help="prepared data folder (default: the study's sources from --shared-data, "
                                             "prepared into OUT/data, with BLEU on their held-out summaries)")
    p.add_argument("--shared-data", type=Path, help="the shared data folder (default: ../shared/data)")
    for flag, name, help in _STUDY_FLAGS:
        _field_flag(p, flag, StudyConfig, name, name, help)
    p.add_argument("--only", nargs="+", default=[], metavar="NAME",
                   help="just these runs of the grid: " + "; ".join(
                       f"{grid}: " + ", ".join(run.name for run in runs) for grid, runs in GRIDS.items()))
    p.add_argument("--quiet", action="store_true", help="no run names or progress bars")
    p.set_defaults(func=cmd_study)

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

    p = commands.add_parser("prepare-briefing", help="the briefing's tasks (change kind, note for users) from the "
                                                     "shared data, split by repository")
    p.add_argument("--data", type=Path, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--out", type=Path, required=True, help="data folder (the same as prepare's, to train all tasks)")
    p.add_argument("--seed", type=int, default=0, help="seed of the repository hash that splits them")
    p.add_argument("--with-bots", action="store_true", help="keep commits written by bots")
    p.add_argument("--json", action="store_true", help="print the manifest")
    p.set_defaults(func=cmd_prepare_briefing)

    p = commands.add_parser("kinds-baseline", help="how well the rule-based categories agree with developers' "
                                                   "conventional-commit types, on held-out repositories")
    p.add_argument("--data", type=Path, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--split", choices=("train", "val", "test"), default="test")
    p.add_argument("--seed", type=int, default=0, help="seed of the repository hash that splits them")
    p.add_argument("--with-bots", action="store_true", help="count commits written by bots too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kinds_baseline)

    for name, help in (("kinds", "change kind on held-out repositories: the rules, the model (free answer and "
                                 "scoring the seven kinds) and rules + model"),
                       ("notes", "notes for users on held-out repositories: BLEU-4 and ROUGE-L against the people's notes"),
                       ("headlines", "headlines from a diff on held-out repositories, against the developer's own subject"),
                       ("summaries", "summaries of code on held-out repositories, against the developer's own docstring "
                                     "and the function's name as words"),
                       ("explanations", "sentences under an informative subject on held-out repositories, against the "
                                        "developer's own first sentence")):
        p = commands.add_parser(name, help=help)
        p.add_argument("--adapter", help="adapter folder, or 'none' for the base model (default: the narration adapter)")
        p.add_argument("--data", type=Path, required=True, help="data folder prepared by prepare-briefing")
        p.add_argument("--split", choices=("train", "val", "test"), default="test")
        p.add_argument("--limit", type=int, help="N examples taken evenly over the split's repositories (default: all)")
        p.add_argument("--seed", type=int, default=0, help="seed of the sample")
        p.add_argument("--compare", action="store_true", help="also measure the base model (adapter off)")
        p.add_argument("--base", help="base model id or folder (default: the embedded model)")
        p.add_argument("--device")
        p.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
        p.add_argument("--batch-size", type=int, default=8)
        p.add_argument("--max-length", type=int, default=384)
        p.add_argument("--json", action="store_true")
        if name == "kinds":
            p.add_argument("--shared-data", type=Path, help="the shared data folder the rows are read from, with "
                                                            "every path for the rules (default: ../shared/data)")
            p.add_argument("--rules-only", action="store_true", help="no model: the rules on the same sample")
        if name in ("summaries", "explanations"):
            p.add_argument("--shared-data", type=Path, help="the shared data folder the cases are read from again "
                                                            "(default: ../shared/data)")
        if name != "kinds":
            p.add_argument("--record", action="store_true", help="write the figures into the adapter's evaluation.json")
        p.set_defaults(func={"kinds": cmd_kinds, "notes": cmd_notes, "headlines": cmd_headlines, "summaries": cmd_summaries,
                             "explanations": cmd_explanations}[name])

    p = commands.add_parser("kind-head", help="fit the change-kind head on the adapter's features (training "
                                              "repositories), tune it (validation ones), measure it against the rules "
                                              "(test ones) and save it beside the adapter")
    p.add_argument("--adapter", help="adapter folder the head is fitted on and saved into (default: the narration adapter)")
    p.add_argument("--data", type=Path, required=True, help="data folder prepared by prepare-briefing")
    p.add_argument("--shared-data", type=Path, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--features", default="words,rules", help="what the head reads, of model (the model's hidden "
                                                              "states), words (the subject's words and the paths) and rules")
    p.add_argument("--train", type=int, help="training commits, taken evenly over the repositories (default: all, "
                                             "or 2400 when the head reads the model)")
    p.add_argument("--val", type=int, help="validation commits (default: all)")
    p.add_argument("--test", type=int, help="test commits (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--base", help="base model id or folder (default: the embedded model)")
    p.add_argument("--device")
    p.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kind_head)

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
    hint = "run the same command again to resume" if args.command == "study" else "resume with --resume"
    return run_command(lambda: args.func(args), f"error: interrupted ({hint})")


if __name__ == "__main__":
    route_library_warnings(home_dir())  # here, not in main(): tests calling main() keep their own logging
    sys.exit(main())
