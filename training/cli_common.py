"""What the ``python -m training`` commands share: model and data-folder checks, flags read from a
dataclass's fields, and how a share is printed."""

from __future__ import annotations

import argparse
from dataclasses import MISSING, fields
from pathlib import Path
from types import NoneType, UnionType
from typing import Literal, get_args, get_origin, get_type_hints

from db.errors import TrainingError
from training.config import check_device, check_threads, looks_like_path, require_path


def _check_model(args: argparse.Namespace) -> None:
    """``--device``, ``--threads`` and a ``--base`` folder, checked before any model is loaded."""
    try:
        check_device(args.device)
        check_threads(args.threads)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    if args.base and looks_like_path(args.base):
        require_path(args.base, "base model folder", folder=True)


def _shared_folder(args: argparse.Namespace) -> Path:
    from training.study_data import shared_data

    shared = args.data or shared_data()
    require_path(shared, "shared data folder", folder=True)
    return shared


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


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
