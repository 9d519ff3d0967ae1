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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from training.batches import collate, encode, pad_id_of
from training.checkpoints import TrainerState, checkpoints, latest_checkpoint, read_state, restore_checkpoint, save_checkpoint
from training.config import RESUME_KEYS, TrainConfig, make_optimizer, make_scheduler, resolve_quant
from training.dataset import check_prompt_version, load_split
from training.errors import TrainingError
from training.evaluate import EvalResult, evaluate_tasks, summed_ce
from training.examples import TASKS, Example
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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]


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


def train(config: TrainConfig, *, runs: RunLog | None = None, on_step: StepHook | None = None,
          progress: bool = True) -> TrainResult:
    """Run (or resume) a training run; see the module docstring."""
    # --- data ------------------------------------------------------------------------------------
    mixture = Mixture.from_ratio(config.ratio, seed=config.seed, size=config.mix_size)
    prompt_version = check_prompt_version(config.data) if config.data.is_dir() else None
    pools = {task: load_split(config.data, task, "train", required=False) for task in TASKS}
    available = {task: len(pool) for task, pool in pools.items()}
    if not any(available.values()):
        raise TrainingError(f"No training examples in {config.data} (expected codesearchnet/train.jsonl, commitpackft/train.jsonl)")
    stream: list[Example] = mixture.draw(pools)
    mix = {**mixture.describe(available), "prompt_version": prompt_version}
    validation = {task: load_split(config.data, task, "val", limit=config.eval_examples, required=False) for task in TASKS}

    # --- where to start --------------------------------------------------------------------------
    checkpoint = latest_checkpoint(config.out) if config.resume else None
    if config.resume and checkpoint is None:
        raise TrainingError(f"Nothing to resume: no checkpoint-N folder in {config.out}")
    if not config.resume and checkpoints(config.out):
        raise TrainingError(f"{config.out} already has checkpoints: add --resume to continue, or pick another --out")
    saved_state = read_state(checkpoint)[0] if checkpoint else None
    if saved_state:
        _check_resume(config, saved_state.config)

    # --- model -----------------------------------------------------------------------------------
    import torch  # only now: bad input above is reported without waiting for torch to import
    from accelerate import Accelerator
    from tqdm import tqdm

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

    processes = accelerator.num_processes
    per_epoch = _steps_per_epoch(len(stream), config.batch_size, processes)
    if per_epoch == 0:
        raise TrainingError(f"Too few examples ({len(stream)}) for one batch of {config.batch_size} per process")
    total_steps = per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    optimizer = make_optimizer(config, model.parameters())
    scheduler = make_scheduler(config, optimizer, total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)  # DDP-wrapped under accelerate launch
    peft_model = accelerator.unwrap_model(model)

    step, epoch, position = 0, 0, 0
    main = accelerator.is_main_process
    own_log = main and runs is None
    log = (runs or RunLog(config.db_url or default_db_url())) if main else None
    run_id: int | None = None
    if checkpoint:
        state = restore_checkpoint(checkpoint, peft_model, optimizer, scheduler)
        step, epoch, position, run_id = state.step, state.epoch, state.position, state.run_id
        if log and run_id is not None:
            log.resume_run(run_id, step)
    if log and run_id is None:
        run_id = log.create_run(config.record(), mix, name=config.out.name)

    def evaluate_now() -> dict[str, EvalResult]:
        results = evaluate_tasks(peft_model, tokenizer, validation, config.batch_size, config.max_length)
        for task, result in results.items():
            log.log_eval(run_id, step, task, result.ce, result.ppl, result.examples)
        model.train()
        return results

    evaluation: dict[str, EvalResult] = {}
    bar = tqdm(total=total_steps, initial=step, desc="Training", unit="step", dynamic_ncols=True,
               disable=not (progress and main))
    try:
        if main and step == 0:
            evaluation = evaluate_now()  # step 0: LoRA B is zero, so this is the base model
        while step < total_steps and epoch < config.epochs:
            order = _order(len(stream), config.seed, epoch)
            while position < per_epoch and step < total_steps:
                first = (position * processes + accelerator.process_index) * config.batch_size
                examples = [stream[i] for i in order[first : first + config.batch_size]]
                started = time.perf_counter()
                batch = collate([encode(e, tokenizer, config.max_length) for e in examples], pad_id)
                batch = {key: value.to(accelerator.device) for key, value in batch.items()}
                loss, tokens = training_step(model, batch, optimizer, scheduler, accelerator, config.max_grad_norm)
                step += 1
                position += 1
                mean_loss = float(accelerator.reduce(loss.detach(), reduction="mean"))
                all_tokens = int(accelerator.reduce(torch.tensor(tokens, device=loss.device), reduction="sum"))
                seconds = time.perf_counter() - started
                if main:
                    log.log_step(run_id, step, mean_loss, all_tokens, seconds)
                    bar.update(1)
                    bar.set_postfix(loss=f"{mean_loss:.3f}")
                    if config.eval_every and step % config.eval_every == 0 and step < total_steps:
                        evaluation = evaluate_now()
                    if config.save_every and step % config.save_every == 0 and step < total_steps:
                        save_checkpoint(config.out, peft_model, optimizer, scheduler,
                                        TrainerState(step, epoch, position, run_id, config.record()), KEEP_CHECKPOINTS)
                accelerator.wait_for_everyone()
                if on_step:
                    on_step(step, mean_loss)
            if position >= per_epoch:
                epoch, position = epoch + 1, 0
        if main:
            if config.save_every and step < per_epoch * config.epochs:
                # Stopped early by max_steps: keep a checkpoint so a longer run can --resume from here.
                save_checkpoint(config.out, peft_model, optimizer, scheduler,
                                TrainerState(step, epoch, position, run_id, config.record()), KEEP_CHECKPOINTS)
            evaluation = evaluate_now()
            config.out.mkdir(parents=True, exist_ok=True)
            peft_model.save_pretrained(config.out)
            summary = {"run_id": run_id, "steps": step, "config": config.record(), "mix": mix,
                       "evaluation": {task: result.as_dict() for task, result in evaluation.items()}}
            (config.out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
            log.finish(run_id, "done")
    except KeyboardInterrupt:
        if log and run_id is not None:
            log.finish(run_id, "interrupted", f"Interrupted at step {step}")
        raise
    except BaseException as exc:
        if log and run_id is not None:
            log.finish(run_id, "failed", _one_line(exc))
        raise
    finally:
        bar.close()
        if own_log:
            log.close()
    return TrainResult(run_id=run_id, steps=step, adapter=config.out, evaluation=evaluation, mix=mix)
