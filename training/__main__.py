"""Command line: ``python -m training prepare|prepare-briefing|train|evaluate|kinds|notes|headlines|summaries|
explanations|kind-head|runs|sweep|study|bench|kinds-baseline``.

Parses arguments and calls the library. Bad input ends with one plain line on stderr and exit
status 1, never a traceback. ``accelerate launch -m training train ...`` runs the same ``train``
on several GPUs (see ``training.trainer``).
"""

from __future__ import annotations

import argparse
import sys

from narrator.entry import run_command
from narrator.model.quiet import route_library_warnings
from narrator.settings import home_dir
from training import cli_data, cli_measure, cli_study, cli_train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description="Fine-tune the narration model.")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_data.add_prepare(commands)
    cli_train.add_train(commands)
    cli_train.add_sweep(commands)
    cli_study.add_study(commands)
    cli_train.add_evaluate(commands)
    cli_data.add_prepare_briefing(commands)
    cli_data.add_kinds_baseline(commands)
    cli_measure.add_measures(commands)
    cli_measure.add_kind_head(commands)
    cli_train.add_runs(commands)
    cli_train.add_bench(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    hint = "run the same command again to resume" if args.command == "study" else "resume with --resume"
    return run_command(lambda: args.func(args), f"error: interrupted ({hint})")


if __name__ == "__main__":
    route_library_warnings(home_dir())  # here, not in main(): tests calling main() keep their own logging
    sys.exit(main())
