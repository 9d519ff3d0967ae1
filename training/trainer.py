"""The LoRA fit: draw the cocktail, train the adapter, evaluate, checkpoint, record everything.

``train(config)`` is the one entry point, for ``python -m training train`` and for sweeps. The
loss is the mean cross-entropy over target tokens of each batch (``evaluate.summed_ce``), so the
prompt never contributes. Only adapter weights are trained; the base model is frozen (and 4-bit
NF4 with ``quant=nf4``, i.e. QLoRA).

Multiple GPUs: the loop runs under ``accelerate.Accelerator``, so

    accelerate launch --num_processes 4 -m training train --data DIR --out OUT ...

starts one process per GPU on the same entry point. Each process loads the model on its own GPU,
takes its share of every global batch (``batch_size`` examples per process), and gradients are
averaged by DDP; only the main process evaluates, writes checkpoints and records the run. Run
plainly (``python -m training train``), the accelerator is a single process and nothing changes.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from db.errors import TrainingError
from db.files import write_atomic
from narrator.pipeline.jobs import failure
from training.batches import collate, encode, pad_id_of
from training.checkpoints import (
    TrainerState,
    checkpoints,
    latest_checkpoint,
    read_state,
    restore_checkpoint,
    save_checkpoint,
)
from training.config import RESUME_KEYS, TrainConfig, make_optimizer, make_scheduler, resolve_quant, shareable_record
from training.dataset import check_prompt_version, load_split
from training.cross_entropy import EvalResult, evaluate_tasks, summed_ce
from training.examples import BRIEFING_TASKS, PREPARED_TASKS, Example, even_sample
from training.mixture import Mixture
from training.model import attach_lora, load_base, resolve_base
from training.runs import RunLog

StepHook = Callable[[int, float], None]
"""Called after every optimizer step with (step, loss); raising from it stops the run (tests use it)."""

KEEP_CHECKPOINTS = 2


@dataclass(frozen=True)
class TrainResult:
    run_id: int | None
    steps: int
    """Optimizer steps done in all (including those before a resume)."""
    adapter: Path
    """Folder of the saved adapter."""
    evaluation: dict[str, EvalResult]
    """Final validation CE/PPL per task."""
    mix: dict


def default_db_url() -> str:
    from narrator.settings import load_settings

    return load_settings().db_url


def _check_resume(config: TrainConfig, saved: dict) -> None:
    current = config.record()
    for key in RESUME_KEYS:
        if key in saved and saved[key] != current[key]:
            raise TrainingError(f"Cannot resume: --{key.replace('_', '-')} differs from the checkpoint's "
                                f"({current[key]!r} vs {saved[key]!r})")


def _steps_per_epoch(examples: int, batch_size: int, processes: int) -> int:
    if processes == 1:
        return math.ceil(examples / batch_size)
    return examples // (batch_size * processes)  # every process needs a full share of each step


def _order(n: int, seed: int, epoch: int) -> list[int]:
    order = list(range(n))
    random.Random(f"{seed}:epoch:{epoch}").shuffle(order)
    return order


def training_step(model, batch: dict, optimizer, scheduler, accelerator, max_grad_norm: float = 1.0):
    """One optimizer step on ``batch``; returns the loss tensor (mean CE over target tokens) and
    the number of target tokens it was computed over."""
    loss_sum, tokens = summed_ce(model, batch)
    loss = loss_sum / max(tokens, 1)
    accelerator.backward(loss)
    if max_grad_norm:
        accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return loss, tokens


@dataclass(frozen=True)
class _Data:
    stream: list[Example]
    """The drawn cocktail, in draw order (each epoch visits it in its own seeded order)."""
    mix: dict
    validation: dict[str, list[Example]]


@dataclass
class _Fit:
    """Everything a run holds while it trains; ``step``/``epoch``/``position`` say where it is."""

    config: TrainConfig
    data: _Data
    accelerator: Any
    model: Any
    """The model as the accelerator prepared it (DDP-wrapped under ``accelerate launch``)."""
    peft_model: Any
    """The unwrapped peft model: what is evaluated and saved."""
    tokenizer: Any
    pad_id: int
    optimizer: Any
    scheduler: Any
    per_epoch: int
    total_steps: int
    log: RunLog | None
    """Run records; only the main process has one."""
    run_id: int | None = None
    step: int = 0
    epoch: int = 0
    position: int = 0
    evaluation: dict[str, EvalResult] = field(default_factory=dict)

    @property
    def main(self) -> bool:
        return self.accelerator.is_main_process


def _load_data(config: TrainConfig) -> _Data:
    """Draw the cocktail from the prepared train split and read every task's validation examples.

    The mixture is ``config.mix`` (any of the four tasks), else the two tasks of ``prepare`` at
    ``config.ratio``. Validation covers every task with a val file, in the mixture or not, so a run
    also shows what it does to the tasks it was not trained on; a briefing task's are taken evenly over its
    repositories (``even_sample``).
    """
    mixture = (Mixture.parse(config.mix, seed=config.seed, size=config.mix_size) if config.mix
               else Mixture.from_ratio(config.ratio, seed=config.seed, size=config.mix_size))
    prompt_version = check_prompt_version(config.data) if config.data.is_dir() else None
    pools = {task: load_split(config.data, task, "train", required=False) for task, _ in mixture.parts}
    available = {task: len(pool) for task, pool in pools.items()}
    if not any(available.values()):
        expected = ", ".join(f"{task}/train.jsonl" for task in pools)
        raise TrainingError(f"No training examples in {config.data} (expected {expected})")
    stream = mixture.draw(pools)
    mix = {**mixture.describe(available), "prompt_version": prompt_version}
    validation = {task: load_split(config.data, task, "val", limit=config.eval_examples, required=False)
                  for task in PREPARED_TASKS}
    validation.update({task: even_sample(load_split(config.data, task, "val", required=False), config.eval_examples,
                                         config.seed) for task in BRIEFING_TASKS})
    return _Data(stream, mix, validation)


def _start_point(config: TrainConfig) -> Path | None:
    """The checkpoint to resume from (None for a fresh run), checked against ``config``."""
    checkpoint = latest_checkpoint(config.out) if config.resume else None
    if config.resume and checkpoint is None:
        raise TrainingError(f"Nothing to resume: no checkpoint-N folder in {config.out}")
    if not config.resume and checkpoints(config.out):
        raise TrainingError(f"{config.out} already has checkpoints: add --resume to continue, or pick another --out")
    saved_state = read_state(checkpoint)[0] if checkpoint else None
    if saved_state:
        _check_resume(config, saved_state.config)
    return checkpoint


def _setup(config: TrainConfig, data: _Data, checkpoint: Path | None, runs: RunLog | None) -> _Fit:
    """Load the model with a fresh adapter, build the optimizer and schedule, restore the checkpoint
    and open (or resume) the run record."""
    import torch  # only now: bad input is reported without waiting for torch to import
    from accelerate import Accelerator

    if config.threads:
        torch.set_num_threads(config.threads)
    wants_cuda = torch.cuda.is_available() and (config.device is None or config.device.startswith("cuda"))
    accelerator = Accelerator(cpu=not wants_cuda)
    device = str(accelerator.device)  # under accelerate launch: this process's GPU
    quant = resolve_quant(config.quant, device)
    torch.manual_seed(config.seed)
    model, tokenizer = load_base(resolve_base(config.base), quant, device)
    model = attach_lora(model, config.lora, config.seed)
    model.train()
    pad_id = pad_id_of(tokenizer)

    per_epoch = _steps_per_epoch(len(data.stream), config.batch_size, accelerator.num_processes)
    if per_epoch == 0:
        raise TrainingError(f"Too few examples ({len(data.stream)}) for one batch of {config.batch_size} per process")
    total_steps = per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    optimizer = make_optimizer(config, model.parameters())
    scheduler = make_scheduler(config, optimizer, total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)  # DDP-wrapped under accelerate launch
    log = (runs or RunLog(config.db_url or default_db_url())) if accelerator.is_main_process else None
    fit = _Fit(config, data, accelerator, model, accelerator.unwrap_model(model), tokenizer, pad_id, optimizer,
               scheduler, per_epoch, total_steps, log)
    if checkpoint:
        state = restore_checkpoint(checkpoint, fit.peft_model, optimizer, scheduler)
        fit.step, fit.epoch, fit.position, fit.run_id = state.step, state.epoch, state.position, state.run_id
        if log and fit.run_id is not None:
            log.resume_run(fit.run_id, fit.step)
    if log and fit.run_id is None:
        fit.run_id = log.create_run(config.record(), data.mix, name=config.out.name)
    return fit


def _evaluate(fit: _Fit) -> None:
    """Validation CE/PPL per task at the current step, recorded with the run (main process only)."""
    fit.evaluation = evaluate_tasks(fit.peft_model, fit.tokenizer, fit.data.validation, fit.config.batch_size,
                                    fit.config.max_length)
    for task, result in fit.evaluation.items():
        fit.log.log_eval(fit.run_id, fit.step, task, result.ce, result.ppl, result.examples)
    fit.model.train()


def _checkpoint(fit: _Fit) -> None:
    """A resumable checkpoint of the adapter, optimizer, schedule and position."""
    save_checkpoint(fit.config.out, fit.peft_model, fit.optimizer, fit.scheduler,
                    TrainerState(fit.step, fit.epoch, fit.position, fit.run_id, fit.config.record()), KEEP_CHECKPOINTS)


def _loop_step(fit: _Fit, order: list[int]) -> float:
    """Take the next batch of this epoch's ``order``, train on it, log it; returns the mean loss."""
    import torch

    config, accelerator = fit.config, fit.accelerator
    first = (fit.position * accelerator.num_processes + accelerator.process_index) * config.batch_size
    examples = [fit.data.stream[i] for i in order[first : first + config.batch_size]]
    started = time.perf_counter()
    batch = collate([encode(e, fit.tokenizer, config.max_length) for e in examples], fit.pad_id)
    batch = {key: value.to(accelerator.device) for key, value in batch.items()}
    loss, tokens = training_step(fit.model, batch, fit.optimizer, fit.scheduler, accelerator, config.max_grad_norm)
    fit.step += 1
    fit.position += 1
    mean_loss = float(accelerator.reduce(loss.detach(), reduction="mean"))
    all_tokens = int(accelerator.reduce(torch.tensor(tokens, device=loss.device), reduction="sum"))
    if fit.main:
        fit.log.log_step(fit.run_id, fit.step, mean_loss, all_tokens, time.perf_counter() - started)
    return mean_loss


def _finish(fit: _Fit) -> None:
    """Final evaluation, the saved adapter and ``training.json``; the run is done (main process only)."""
    config = fit.config
    if config.save_every and fit.step < fit.per_epoch * config.epochs:
        _checkpoint(fit)  # stopped early by max_steps: a longer run can --resume from here
    _evaluate(fit)
    config.out.mkdir(parents=True, exist_ok=True)
    fit.peft_model.save_pretrained(config.out)
    # Committed with a shipped adapter: no path of this machine in it.
    summary = {"run_id": fit.run_id, "steps": fit.step, "config": shareable_record(config.record()), "mix": fit.data.mix,
               "evaluation": {task: result.as_dict() for task, result in fit.evaluation.items()}}
    write_atomic(config.out / "training.json", json.dumps(summary, indent=2) + "\n")
    fit.log.finish(fit.run_id, "done")


def _run_loop(fit: _Fit, on_step: StepHook | None, bar) -> None:
    """Train from where ``fit`` stands to ``total_steps``, evaluating and checkpointing on schedule."""
    config = fit.config
    if fit.main and fit.step == 0:
        _evaluate(fit)  # step 0: LoRA B is zero, so this is the base model
    while fit.step < fit.total_steps and fit.epoch < config.epochs:
        order = _order(len(fit.data.stream), config.seed, fit.epoch)
        while fit.position < fit.per_epoch and fit.step < fit.total_steps:
            loss = _loop_step(fit, order)
            if fit.main:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")
                more = fit.step < fit.total_steps
                if config.eval_every and fit.step % config.eval_every == 0 and more:
                    _evaluate(fit)
                if config.save_every and fit.step % config.save_every == 0 and more:
                    _checkpoint(fit)
            fit.accelerator.wait_for_everyone()
            if on_step:
                on_step(fit.step, loss)
        if fit.position >= fit.per_epoch:
            fit.epoch, fit.position = fit.epoch + 1, 0


def train(config: TrainConfig, *, runs: RunLog | None = None, on_step: StepHook | None = None,
          progress: bool = True) -> TrainResult:
    """Run (or resume) a training run; see the module docstring."""
    data = _load_data(config)
    checkpoint = _start_point(config)
    fit = _setup(config, data, checkpoint, runs)
    own_log = fit.log is not None and runs is None

    from tqdm import tqdm

    bar = tqdm(total=fit.total_steps, initial=fit.step, desc="Training", unit="step", dynamic_ncols=True,
               disable=not (progress and fit.main))
    try:
        _run_loop(fit, on_step, bar)
        if fit.main:
            _finish(fit)
    except KeyboardInterrupt:
        if fit.log and fit.run_id is not None:
            fit.log.finish(fit.run_id, "interrupted", f"Interrupted at step {fit.step}")
        raise
    except BaseException as exc:
        if fit.log and fit.run_id is not None:
            fit.log.finish(fit.run_id, "failed", failure(exc))
        raise
    finally:
        bar.close()
        if own_log:
            fit.log.close()
    return TrainResult(run_id=fit.run_id, steps=fit.step, adapter=config.out, evaluation=fit.evaluation, mix=data.mix)
