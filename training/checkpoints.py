"""Resumable checkpoints: ``OUT/checkpoint-N`` holds everything needed to continue at step N.

A checkpoint folder has the adapter (``adapter_model.safetensors`` + ``adapter_config.json``, the
same files as a finished adapter) and ``trainer_state.pt`` with the optimizer and scheduler state,
the step, the data position (epoch and batches consumed in it), the RNG states and the run id.
It is written to a temporary folder and renamed, so a crash mid-save never leaves a half
checkpoint that ``--resume`` would pick up.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "trainer_state.pt"
_NAME = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class TrainerState:
    """Where a run stands, besides its weights."""

    step: int
    """Optimizer steps done."""
    epoch: int
    """Current epoch (0-based)."""
    position: int
    """Batches of ``epoch`` already consumed."""
    run_id: int | None
    """The run's record in the database."""
    config: dict
    """``TrainConfig.record()`` of the run that wrote it."""


def checkpoints(out: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``out`` as ``(step, folder)``, oldest first."""
    found = []
    if out.is_dir():
        for child in out.iterdir():
            match = _NAME.match(child.name)
            if match and (child / STATE_FILE).is_file():
                found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(out: Path) -> Path | None:
    found = checkpoints(out)
    return found[-1][1] if found else None


def save_checkpoint(out: Path, model, optimizer, scheduler, state: TrainerState, keep: int = 2) -> Path:
    """Write ``OUT/checkpoint-<step>`` and delete all but the newest ``keep`` checkpoints."""
    import torch

    target = out / f"checkpoint-{state.step}"
    scratch = out / f".checkpoint-{state.step}.tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    model.save_pretrained(scratch)
    torch.save(
        {
            "step": state.step,
            "epoch": state.epoch,
            "position": state.position,
            "run_id": state.run_id,
            "config": state.config,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": {"python": random.getstate(), "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        },
        scratch / STATE_FILE,
    )
    (scratch / "trainer_state.json").write_text(json.dumps(
        {"step": state.step, "epoch": state.epoch, "position": state.position, "run_id": state.run_id}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    for _, old in checkpoints(out)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return target


def read_state(folder: Path) -> tuple[TrainerState, dict]:
    """The ``TrainerState`` of a checkpoint and its raw payload (optimizer, scheduler, rng)."""
    import torch

    payload = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=False)
    state = TrainerState(step=payload["step"], epoch=payload["epoch"], position=payload["position"],
                         run_id=payload.get("run_id"), config=payload.get("config", {}))
    return state, payload


def restore_checkpoint(folder: Path, model, optimizer, scheduler) -> TrainerState:
    """Load a checkpoint's adapter weights, optimizer, scheduler and RNG states; return its state."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from narrator.model.transformers_backend import adapter_weights

    state, payload = read_state(folder)
    weights = adapter_weights(folder)
    adapter = load_file(weights) if weights.suffix == ".safetensors" else torch.load(weights, map_location="cpu")
    set_peft_model_state_dict(model, adapter)
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    rng = payload["rng"]
    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    if rng.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return state
