"""The ``study`` command: the cocktail study's grid of runs, measured alike, and its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from db.errors import TrainingError
from training.cli_common import _field_flag
from training.config import require_path


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
    from training.study import run_study
    from training.study_data import BLEU_SOURCE, prepare_study_data, shared_data, study_data_folder
    from training.study_grid import StudyConfig

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


def add_study(commands: argparse._SubParsersAction) -> None:
    from training.study_grid import GRIDS, StudyConfig

    p = commands.add_parser("study", help="the cocktail study: a fixed grid of runs, measured alike, and its report")
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
