"""Commands that measure the briefing's model tasks on held-out repositories: ``kinds``, ``notes``,
``headlines``, ``summaries``, ``explanations``, and ``kind-head`` (which also fits and saves the head)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from db.errors import DataError, TrainingError
from training.cli_common import _check_model, _share, _shared_folder
from training.config import require_path


def _eval_adapter(text: str | None) -> Path | None:
    """``--adapter DIR|none`` of ``kinds``/``notes`` (default: the adapter narration uses), checked before any work."""
    from training.cross_entropy import default_adapter

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
    from training.note_eval import note_cases, notes_evaluation

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
    from training.note_eval import headline_cases, headlines_evaluation

    adapter, report = _generated(args, headline_cases, headlines_evaluation)
    _print_agreement(args, report, f"Headlines from a diff vs the developer's own subject: {report['headlines']} "
                                   f"changes of the {args.split} split's repositories", report["headlines"])
    _record(args, adapter, "headline", report)
    return 0


def _sentences(args: argparse.Namespace, cases_of, evaluation) -> tuple[Path | None, dict]:
    """``_generated`` for ``summaries``/``explanations``, whose cases are read again from the shared data."""
    shared = _shared_folder(argparse.Namespace(data=args.shared_data))
    return _generated(args, lambda data, split, limit, seed: cases_of(data, shared, split, limit, seed), evaluation)


def _print_agreement(args: argparse.Namespace, report: dict, title: str, count: int,
                     labels: tuple[str, ...] = ("base", "adapter")) -> None:
    """``report`` as JSON (``--json``), else ``title`` and one line per measured label: how often it agrees
    with people's words, BLEU-4, ROUGE-L and how many of ``count`` pass the checks."""
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(title)
    for label in labels:
        m = report.get(label)
        if isinstance(m, dict):  # "adapter" is the folder when none was measured
            print(f"  {label.replace('_', ' '):9} agrees {_share(m['agrees'])} ({_share(m['agrees_ci95'][0])}-"
                  f"{_share(m['agrees_ci95'][1])})  BLEU-4 {m['bleu4']:5.2f}  ROUGE-L {m['rouge_l']:5.2f}  "
                  f"pass the checks {m['passes_checks']}/{count}")


def cmd_summaries(args: argparse.Namespace) -> int:
    from training.sentence_eval import summaries_evaluation, summary_cases

    adapter, report = _sentences(args, summary_cases, summaries_evaluation)
    _print_agreement(args, report, f"Summaries of code vs the developer's own docstring: {report['summaries']} "
                                   f"functions of {report['repositories']} {args.split} repositories",
                     report["summaries"], ("name_rule", "base", "adapter"))
    _record(args, adapter, "code_summary", report)
    return 0


def cmd_explanations(args: argparse.Namespace) -> int:
    from training.sentence_eval import explanation_cases, explanations_evaluation

    adapter, report = _sentences(args, explanation_cases, explanations_evaluation)
    _print_agreement(args, report, f"Sentences under an informative subject vs the developer's own first sentence: "
                                   f"{report['explanations']} commits of {report['repositories']} {args.split} "
                                   f"repositories", report["explanations"])
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


def add_measures(commands: argparse._SubParsersAction) -> None:
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


def add_kind_head(commands: argparse._SubParsersAction) -> None:
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
