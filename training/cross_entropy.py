"""Mean token cross-entropy over target tokens, and perplexity = exp(CE), per task.

``mean_ce`` is the one definition of the metric; the training loss is ``summed_ce`` of a batch
divided by its token count, i.e. the same quantity on one batch. ``score_examples`` keeps each
example's sum and token count apart (for bootstrap intervals over examples); pooled, they give
``mean_ce`` again.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from db.errors import DataError, TrainingError
from training.batches import IGNORE_INDEX, batched, collate, encode, pad_id_of
from training.config import Quant, resolve_quant
from training.examples import BRIEFING_TASKS, Example, even_sample, read_examples


def default_adapter() -> Path | None:
    """The adapter narration uses by default (see ``narrator.settings.load_settings``), or None."""
    from narrator.settings import load_settings

    adapter = load_settings(model="embedded").adapter
    return Path(adapter) if adapter else None


@dataclass(frozen=True)
class EvalResult:
    """Cross-entropy of one task on one set of examples."""

    ce: float
    """Mean next-token cross-entropy (nats) over all target tokens."""
    ppl: float
    """``exp(ce)``."""
    examples: int
    """Examples measured."""
    tokens: int
    """Target tokens the mean is over."""

    def as_dict(self) -> dict:
        return asdict(self)


def _scored(model, batch: dict):
    """``(predictions (B, K, V) float logits, targets (B, K))`` of the positions that can predict a target.

    Position t's logits predict token t+1; a prediction is scored only where the label of token
    t+1 is not ``IGNORE_INDEX`` (see ``mean_ce`` for what that masks). Batches are left-padded
    (``batches.collate``), so only the last positions, from the earliest target on, go through the
    vocabulary projection.
    """
    labels = batch["labels"]  # (B, T), left-padded: targets sit at the end of every row
    width = labels.size(1)
    scored = labels != IGNORE_INDEX
    first = int(scored.float().argmax(dim=1)[scored.any(dim=1)].min()) if scored.any() else width - 1
    # Logits of position t predict token t+1: the earliest target token needs the logits just before it.
    keep = min(width, width - first + 1)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   position_ids=batch.get("position_ids"), logits_to_keep=keep).logits  # (B, keep, V)
    return logits[:, :-1, :].float(), labels[:, width - keep + 1 :]  # the token each kept position predicts


def summed_ce(model, batch: dict):
    """``(sum of next-token CE over target positions, number of target positions)`` for one batch.

    Returns a scalar tensor (with gradient in training) and an int; what is scored is ``_scored``'s.
    """
    import torch.nn.functional as F

    predictions, targets = _scored(model, batch)
    total = F.cross_entropy(predictions.reshape(-1, predictions.size(-1)), targets.reshape(-1),
                            ignore_index=IGNORE_INDEX, reduction="sum")
    return total, int((targets != IGNORE_INDEX).sum())


def row_ce(model, batch: dict) -> list[tuple[float, int]]:
    """``(summed CE, target tokens)`` of each row of one batch, scored exactly as ``summed_ce``; no gradient."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        predictions, targets = _scored(model, batch)
        losses = F.cross_entropy(predictions.transpose(1, 2), targets, ignore_index=IGNORE_INDEX,
                                 reduction="none")  # (B, K), 0 where ignored
    counts = (targets != IGNORE_INDEX).sum(dim=1)
    return [(float(total), int(count)) for total, count in zip(losses.sum(dim=1), counts)]


def mean_ce(model, batches: Iterable[dict]) -> tuple[float, int]:
    """Mean token cross-entropy over target tokens, and the number of tokens it is over.

    What is masked (not scored): every prompt token, i.e. the system and user messages and the chat
    template's markup up to and including the assistant header, and all padding. What is scored:
    each target token and the end-of-turn (eos) token that closes the target, each predicted from
    everything before it. The mean pools tokens across all examples (``sum CE / number of target
    tokens``), so a long target weighs more than a short one, as in training. No gradient is kept.
    """
    import torch

    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                device = next(model.parameters()).device
                batch_total, batch_count = summed_ce(model, {k: v.to(device) for k, v in batch.items()})
                total += float(batch_total)
                count += batch_count
    finally:
        model.train(was_training)
    return (total / count if count else float("nan")), count


def evaluate_examples(model, tokenizer, examples: list[Example], batch_size: int = 8, max_length: int = 384) -> EvalResult:
    """CE and perplexity of ``model`` on ``examples`` (encoded as in training)."""
    encoded = [encode(example, tokenizer, max_length) for example in examples]
    # Similar lengths together: less padding, same result (the mean is over tokens, not batches).
    encoded.sort(key=lambda item: len(item.input_ids))
    ce, tokens = mean_ce(model, batched(encoded, batch_size, pad_id_of(tokenizer)))
    return EvalResult(ce=ce, ppl=math.exp(ce) if tokens else float("nan"), examples=len(examples), tokens=tokens)


def score_examples(model, tokenizer, examples: list[Example], batch_size: int = 8,
                   max_length: int = 384) -> list[tuple[float, int]]:
    """``(summed target-token CE, target tokens)`` of each example, in the order given (encoded as in
    training). Pooled (``sum CE / sum tokens``) they give ``evaluate_examples``'s CE; kept apart they
    let a confidence interval resample examples (``training.bootstrap``)."""
    encoded = [encode(example, tokenizer, max_length) for example in examples]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))  # less padding
    scores: list[tuple[float, int]] = [(0.0, 0)] * len(encoded)
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = collate([encoded[i] for i in chosen], pad_id_of(tokenizer))
            for i, score in zip(chosen, row_ce(model, {k: v.to(device) for k, v in batch.items()})):
                scores[i] = score
    finally:
        model.train(was_training)
    return scores


def evaluate_tasks(model, tokenizer, sets: dict[str, list[Example]], batch_size: int = 8,
                   max_length: int = 384) -> dict[str, EvalResult]:
    """``evaluate_examples`` for each task's examples (tasks without examples are left out)."""
    return {task: evaluate_examples(model, tokenizer, examples, batch_size, max_length)
            for task, examples in sets.items() if examples}


def evaluate_files(files: dict[str, Path], adapter: Path | None, base: str | None = None, limit: int | None = None,
                   quant: Quant = "auto", device: str | None = None, batch_size: int = 8, max_length: int = 384,
                   compare: bool = False, per_language: int | None = None) -> dict:
    """CE/PPL per task of prepared files, with ``adapter`` on the base model (or the base alone).

    ``limit`` takes the first N examples of a prepared task's file, and N taken evenly over the repositories
    of a briefing task's (``even_sample``). Returns ``{task: EvalResult-dict}``; with ``compare``, ``{"base": {...}, "adapter": {...}}``
    measured on the same examples (the adapter switched off for the base numbers).
    """
    from narrator.model.transformers_backend import pick_device
    from training.model import load_adapter, load_base, resolve_base

    if compare and adapter is None:
        raise TrainingError("--compare needs an adapter, and none was given or found")
    sets = {task: read_examples(path, None if per_language or task in BRIEFING_TASKS else limit)
            for task, path in files.items()}
    if per_language:
        # A test file is ordered by language; take the first N of each so all six are measured.
        sets = {task: examples if task in BRIEFING_TASKS else
                [e for lang in sorted({x.language for x in examples})
                 for e in [x for x in examples if x.language == lang][:per_language]][:limit]
                for task, examples in sets.items()}
    # A briefing task's file is ordered by repository: its sample is taken evenly over them.
    sets = {task: even_sample(examples, limit) if task in BRIEFING_TASKS else examples for task, examples in sets.items()}
    for task, examples in sets.items():
        if not examples:
            raise DataError(f"No examples in {files[task]}")
        wrong = {e.task for e in examples} - {task}
        if wrong:
            raise DataError(f"{files[task]} holds {', '.join(sorted(wrong))} examples, not {task}")
    device = pick_device(device)
    model, tokenizer = load_base(resolve_base(base), resolve_quant(quant, device), device)
    if adapter is not None:
        model = load_adapter(model, adapter)

    def measure() -> dict:
        return {task: result.as_dict()
                for task, result in evaluate_tasks(model, tokenizer, sets, batch_size, max_length).items()}

    if not compare:
        return measure()
    with model.disable_adapter():
        baseline = measure()
    return {"base": baseline, "adapter": measure()}
