"""Training throughput of the embedded model: fp32 LoRA vs NF4 (QLoRA), a few steps each.

Each mode runs in a fresh process so its peak resident memory is its own. The first step is a
warm-up (allocations, kernel selection) and is left out of the timings.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from dataclasses import asdict, dataclass

from db.errors import first_line
from training.batches import collate, encode, pad_id_of
from training.config import LoraSettings
from training.examples import Example

# A fixed example per task, about as long as the real ones after cutting to 384 tokens.
_CODE = "\n".join(
    [
        "def load_users(path, active_only=True):",
        "    users = []",
        "    with open(path) as handle:",
        "        for line in handle:",
        "            name, email, status = line.strip().split(',')",
        "            if active_only and status != 'active':",
        "                continue",
        "            users.append({'name': name, 'email': email})",
        "    return users",
    ]
    * 6
)
_PATCH = "diff --git a/app/users.py b/app/users.py\n--- a/app/users.py\n+++ b/app/users.py\n@@ -1,9 +1,9 @@\n" + "\n".join(
    f"-    old_value_{i} = compute(x, {i})\n+    new_value_{i} = compute(x, {i}, cache=True)" for i in range(40)
)


def sample_examples() -> list[Example]:
    """One code -> summary and one diff -> title example, built with the run-time prompts."""
    from narrator.model import prompts

    return [
        Example("codesearchnet", "python", prompts.unit_prompt(_CODE, "load_users", "function", "app/users.py", "python"),
                "Reads users from a comma-separated file and returns the active ones with their name and email."),
        Example("commitpackft", "python", prompts.commit_prompt(["app/users.py"], _PATCH),
                "Cache the computed values so that loading users is faster."),
    ]


@dataclass(frozen=True)
class BenchResult:
    quant: str
    steps: int
    """Timed steps (after one warm-up step)."""
    batch_size: int
    max_length: int
    seconds_per_step: float
    target_tokens_per_second: float
    tokens_per_second: float
    """All tokens (prompt + target) processed per second."""
    peak_rss_mb: float
    load_seconds: float
    threads: int
    """CPU threads torch used."""


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def bench_mode(base: str, quant: str, steps: int, batch_size: int, max_length: int, device: str = "cpu",
               threads: int | None = None, lora: LoraSettings = LoraSettings()) -> BenchResult:
    """Time ``steps`` LoRA training steps (Adagrad, as in training) in this process."""
    import torch

    if threads:
        torch.set_num_threads(threads)

    from training.cross_entropy import summed_ce
    from training.model import attach_lora, load_base

    started = time.perf_counter()
    model, tokenizer = load_base(base, quant, device)
    model = attach_lora(model, lora, seed=0)
    model.train()
    load_seconds = time.perf_counter() - started
    optimizer = torch.optim.Adagrad([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    examples = sample_examples()
    encoded = [encode(examples[i % len(examples)], tokenizer, max_length) for i in range(batch_size)]
    batch = {k: v.to(device) for k, v in collate(encoded, pad_id_of(tokenizer)).items()}
    target_tokens = sum(item.target_tokens for item in encoded)
    all_tokens = int(batch["attention_mask"].sum())
    timings = []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        total, count = summed_ce(model, batch)
        (total / count).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        timings.append(time.perf_counter() - t0)
    per_step = sum(timings[1:]) / steps
    return BenchResult(quant=quant, steps=steps, batch_size=batch_size, max_length=max_length,
                       seconds_per_step=round(per_step, 3),
                       target_tokens_per_second=round(target_tokens / per_step, 1),
                       tokens_per_second=round(all_tokens / per_step, 1),
                       peak_rss_mb=round(_peak_rss_mb(), 1), load_seconds=round(load_seconds, 2),
                       threads=torch.get_num_threads())


def _child(queue, *args) -> None:
    try:
        queue.put(("ok", asdict(bench_mode(*args))))
    except Exception as exc:  # reported by the parent as this mode's error
        queue.put(("error", first_line(exc, with_type=True)))


def bench(base: str, quants: tuple[str, ...] = ("none", "nf4"), steps: int = 3, batch_size: int = 4,
          max_length: int = 384, device: str = "cpu", threads: int | None = None) -> dict:
    """``{quant: BenchResult-as-dict or {"error": ...}}`` for each mode, each in its own process."""
    context = multiprocessing.get_context("spawn")
    results: dict = {}
    for quant in quants:
        queue = context.Queue()
        process = context.Process(target=_child, args=(queue, base, quant, steps, batch_size, max_length, device, threads))
        process.start()
        status, value = "error", "the benchmark process died"
        while True:
            try:
                status, value = queue.get(timeout=1.0)
                break
            except Exception:  # queue.Empty: still running, or dead without an answer
                if not process.is_alive():
                    break
        process.join()
        results["fp32_lora" if quant == "none" else "nf4_qlora"] = value if status == "ok" else {"error": value}
    return {"base": base, "device": device, "results": results}
