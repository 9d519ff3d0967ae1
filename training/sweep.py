"""Hyper-parameter sweeps: one training run per point of a grid, each recorded like any run.

``grid(base, {"optimizer": ["adamw", "adagrad"], "learning_rate": [1e-4, 2e-4]})`` gives the four
configs, each writing to its own folder under the base ``out`` (``optimizer=adamw,learning_rate=0.0001``).
A failed point is recorded as failed and the sweep goes on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable

from db.errors import NarratorError, TrainingError, first_line
from training.config import LoraSettings, TrainConfig

# Axes a sweep may vary: TrainConfig fields plus the LoRA shape.
_LORA_AXES = {"lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout"}
AXES = tuple(f.name for f in fields(TrainConfig) if f.name not in ("data", "out", "lora", "resume", "db_url", "device")) + tuple(_LORA_AXES)


@dataclass(frozen=True)
class SweepPoint:
    name: str
    """Folder name of the point: ``axis=value`` pairs."""
    config: TrainConfig


def point_name(values: dict) -> str:
    return ",".join(f"{axis}={value}" for axis, value in values.items())


def grid(base: TrainConfig, axes: dict[str, list]) -> list[SweepPoint]:
    """Every combination of ``axes`` values applied to ``base`` (in the order the axes are given)."""
    unknown = [axis for axis in axes if axis not in AXES]
    if unknown:
        raise TrainingError(f"Cannot sweep over {', '.join(unknown)}; choose from {', '.join(AXES)}")
    if not axes or any(not values for values in axes.values()):
        raise TrainingError("A sweep needs at least one axis with at least one value")
    points = []
    for combination in itertools.product(*axes.values()):
        values = dict(zip(axes, combination))
        name = point_name(values)
        lora_changes = {_LORA_AXES[a]: v for a, v in values.items() if a in _LORA_AXES}
        changes = {a: v for a, v in values.items() if a not in _LORA_AXES}
        try:
            config = replace(base, out=Path(base.out) / name, lora=replace(base.lora, **lora_changes) if lora_changes else base.lora,
                             **changes)
        except ValueError as exc:
            raise TrainingError(f"Bad sweep point {name}: {exc}") from None
        points.append(SweepPoint(name, config))
    return points


def run_sweep(points: list[SweepPoint], train: Callable[[TrainConfig], object]) -> list[dict]:
    """Train every point in turn; return one ``{"point", "status", "run_id"|"error"}`` per point."""
    results = []
    for point in points:
        try:
            outcome = train(point.config)
            results.append({"point": point.name, "status": "done", "run_id": getattr(outcome, "run_id", None),
                            "evaluation": {t: r.as_dict() for t, r in getattr(outcome, "evaluation", {}).items()}})
        except NarratorError as exc:  # bad input for this point (the run, if created, is marked failed)
            results.append({"point": point.name, "status": "failed", "error": first_line(exc)})
        except Exception as exc:  # a crash in one point must not lose the others; its run says why
            results.append({"point": point.name, "status": "failed", "error": first_line(exc, with_type=True)})
    return results


def parse_axis(axis: str, text: str) -> list:
    """``"1e-4,2e-4"`` -> [0.0001, 0.0002], typed like the ``TrainConfig``/``LoraSettings`` field."""
    target = LoraSettings if axis in _LORA_AXES else TrainConfig
    name = _LORA_AXES.get(axis, axis)
    kind = {f.name: f.type for f in fields(target)}.get(name, "str")
    values = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        try:
            if "int" in str(kind) and "." not in item and "e" not in item.lower():
                values.append(int(item))
            elif "float" in str(kind) or "int" in str(kind):
                values.append(float(item))
            else:
                values.append(item)
        except ValueError:
            raise TrainingError(f"Bad value {item!r} for --{axis.replace('_', '-')}") from None
    return values
