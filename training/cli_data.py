"""Commands that write or read prepared data: ``prepare``, ``prepare-briefing`` and ``kinds-baseline``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from db.errors import DataError
from training.cli_common import _share, _shared_folder
from training.config import require_writable_folder


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


def add_prepare(commands: argparse._SubParsersAction) -> None:
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


def add_prepare_briefing(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("prepare-briefing", help="the briefing's tasks (change kind, note for users) from the "
                                                     "shared data, split by repository")
    p.add_argument("--data", type=Path, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--out", type=Path, required=True, help="data folder (the same as prepare's, to train all tasks)")
    p.add_argument("--seed", type=int, default=0, help="seed of the repository hash that splits them")
    p.add_argument("--with-bots", action="store_true", help="keep commits written by bots")
    p.add_argument("--json", action="store_true", help="print the manifest")
    p.set_defaults(func=cmd_prepare_briefing)


def add_kinds_baseline(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("kinds-baseline", help="how well the rule-based categories agree with developers' "
                                                   "conventional-commit types, on held-out repositories")
    p.add_argument("--data", type=Path, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--split", choices=("train", "val", "test"), default="test")
    p.add_argument("--seed", type=int, default=0, help="seed of the repository hash that splits them")
    p.add_argument("--with-bots", action="store_true", help="count commits written by bots too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kinds_baseline)
