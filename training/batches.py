"""Examples -> token ids with the prompt masked, and padded batches.

An example is rendered exactly as narration renders it (the tokenizer's chat template with the
assistant header appended), followed by the target and the end-of-turn token. Labels are -100
(ignored) on every prompt token and on padding, so only the target is learned and measured.
A prompt that does not fit ``max_length`` loses the end of its user message, which is the
code or diff part of both prompts; the target is never cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from db.errors import TrainingError
from narrator.model.prompts import fit_prompt, prompt_token_ids
from training.examples import Example

IGNORE_INDEX = -100
"""Label of tokens that are not scored (prompt and padding): PyTorch's cross-entropy default."""


@dataclass(frozen=True)
class Encoded:
    """One tokenized example."""

    input_ids: list[int]
    """Prompt ids then target ids (target ends with the eos/end-of-turn token)."""
    labels: list[int]
    """``input_ids`` with every prompt position set to ``IGNORE_INDEX``."""
    task: str

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def _check_chat_template(tokenizer) -> None:
    if not getattr(tokenizer, "chat_template", None):
        raise TrainingError("The base model's tokenizer has no chat template; train an instruct/chat model")


def fit_messages(tokenizer, messages: list[dict], budget: int) -> list[int]:
    """Prompt ids of at most ``budget`` tokens, cutting the end of the last user message if needed
    (``prompts.fit_prompt``, as narration cuts them)."""
    _check_chat_template(tokenizer)
    return fit_prompt(tokenizer, messages, budget)


def encode(example: Example, tokenizer, max_length: int) -> Encoded:
    """Token ids and labels of ``example``, at most ``max_length`` long unless the target alone is longer."""
    if tokenizer.eos_token_id is None:
        raise TrainingError("The base model's tokenizer has no end-of-sequence token")
    target = prompt_token_ids(tokenizer, example.target) + [tokenizer.eos_token_id]
    prompt = fit_messages(tokenizer, example.messages, max(0, max_length - len(target)))
    return Encoded(prompt + target, [IGNORE_INDEX] * len(prompt) + target, example.task)


def collate(batch: Sequence[Encoded], pad_id: int) -> dict:
    """Left-padded tensors, each (batch, longest): ``input_ids``, ``attention_mask``,
    ``position_ids`` (counting from each row's first real token) and ``labels``.

    Left padding puts every target at the end of its row, so the loss needs the logits of the
    last few positions only (see ``evaluate.summed_ce``): with a 49k-token vocabulary, the full
    (batch, length, vocab) logits would be most of a step's memory.
    """
    import torch

    width = max(len(item.input_ids) for item in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        n = len(item.input_ids)
        input_ids[row, width - n :] = torch.tensor(item.input_ids)
        labels[row, width - n :] = torch.tensor(item.labels)
        attention[row, width - n :] = 1
    positions = (attention.cumsum(dim=1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "attention_mask": attention, "position_ids": positions, "labels": labels}


def batched(items: Sequence[Encoded], batch_size: int, pad_id: int) -> Iterator[dict]:
    """``collate``d batches of ``batch_size`` items, in order (the last may be smaller)."""
    for start in range(0, len(items), batch_size):
        yield collate(items[start : start + batch_size], pad_id)


def pad_id_of(tokenizer) -> int:
    """The id used for padding (pad, else eos): padded positions are masked, so any id works."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad is None:
        raise TrainingError("The base model's tokenizer has no pad or end-of-sequence token")
    return pad
