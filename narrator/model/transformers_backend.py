"""A Hugging Face causal LM (an id or a local folder) via transformers, optionally 4-bit and with a LoRA adapter.

Also the pieces other code shares with it: the NF4 config (``quantization_config``), a peft adapter's
weights and id (``adapter_weights``, ``adapter_id``: the id is part of every cache key) and the device
(``pick_device``). torch and transformers are imported only when a model is loaded.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from db.errors import ModelError, first_line

if TYPE_CHECKING:  # importing torch/transformers costs seconds; only backends that run a model pay it
    import torch
    from transformers import BitsAndBytesConfig

    from narrator.model.backends import Messages  # the interface imports this module to register it

DEFAULT_BATCH_SIZE = 8
DEFAULT_REPETITION_PENALTY = 1.15

# Chat models end a turn with a token that is not always the tokenizer's eos; stop on any of them.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|EOT|>", "<|end|>", "<end_of_turn>", "<|endoftext|>")


def quantization_config(quant: str) -> BitsAndBytesConfig | None:
    """The bitsandbytes config for ``quant`` (``"nf4"`` or ``"none"``)."""
    if quant == "none":
        return None
    if quant != "nf4":
        raise ValueError(f"quant must be 'nf4' or 'none', not {quant!r}")
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def adapter_weights(folder: Path) -> Path:
    """The weights file of a saved peft adapter folder."""
    for name in ("adapter_model.safetensors", "adapter_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise ModelError(f"Could not load adapter {folder}: no adapter_model.safetensors in it")


def adapter_id(folder: str | Path) -> str:
    """``<folder name>@<sha256 prefix of the weights>``, so a retrained adapter changes cache keys."""
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise ModelError(f"Could not load adapter {folder}: no such folder")
    digest = hashlib.sha256()
    with adapter_weights(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{path.name}@{digest.hexdigest()[:12]}"


def pick_device(device: str | None) -> str:
    """``device`` when given, else CUDA when present, else CPU."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or Path(spec).expanduser().exists()


def _hf_name(spec: str) -> str:
    """``hf:`` and the id, or the folder's absolute path."""
    return f"hf:{Path(spec).expanduser().resolve()}" if _looks_like_path(spec) else f"hf:{spec}"


class _GeneratedRepetitionPenalty:
    """Repetition penalty over the generated tokens only.

    The stock processor also penalizes every prompt token, including the left padding of a batch,
    so a padded row would be decoded differently from the same prompt run alone; and a narrator
    should be free to repeat the names it was shown.
    """

    def __init__(self, prompt_length: int, penalty: float):
        self.prompt_length = prompt_length
        self.penalty = penalty

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_length :]  # (batch, new tokens so far)
        if generated.shape[1] == 0 or self.penalty == 1.0:
            return scores
        import torch

        picked = scores.gather(1, generated)
        picked = torch.where(picked < 0, picked * self.penalty, picked / self.penalty)
        return scores.scatter(1, generated, picked)


class TransformersBackend:
    """A Hugging Face causal LM (id or local folder), optionally 4-bit and with a LoRA adapter."""

    def __init__(
        self,
        model: str,
        *,
        adapter: str | Path | None = None,
        device: str | None = None,
        quant: str = "none",
        batch_size: int = DEFAULT_BATCH_SIZE,
        repetition_penalty: float = DEFAULT_REPETITION_PENALTY,
        name: str | None = None,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        source = str(Path(model).expanduser().resolve()) if _looks_like_path(model) else model
        self.name = name or _hf_name(model)
        self.adapter = adapter_id(adapter) if adapter else None
        self.device = pick_device(device)
        self.quant = quant
        self.batch_size = batch_size
        self.repetition_penalty = repetition_penalty
        self.calls = 0
        self.generated_tokens = 0
        self._lock = threading.Lock()  # one generate at a time: the counters and the model are shared
        started = time.perf_counter()
        self.tokenizer, self.model = self._load(model, source, adapter)
        self.load_seconds = time.perf_counter() - started

    def _load(self, model: str, source: str, adapter: str | Path | None):
        if _looks_like_path(model) and not Path(source).is_dir():
            raise ModelError(f"Could not load model {model}: no such folder")
        quant_config = quantization_config(self.quant)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(source)
            if self.device.startswith("cuda"):
                dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            else:
                dtype = torch.float32  # bf16 matmuls are slower than fp32 on ordinary CPUs
            kwargs = {"dtype": dtype}
            if quant_config is not None:
                kwargs.update(quantization_config=quant_config, device_map={"": self.device})
            loaded = AutoModelForCausalLM.from_pretrained(source, **kwargs)
            if quant_config is None:
                loaded = loaded.to(self.device)
        except ModelError:
            raise
        except Exception as exc:  # transformers raises many types for missing or corrupt files
            raise ModelError(f"Could not load model {model}: {first_line(exc)}") from exc
        if adapter:
            try:
                from peft import PeftModel  # imports bitsandbytes: seconds, so only when needed

                loaded = PeftModel.from_pretrained(loaded, str(adapter))
                if quant_config is None:
                    loaded = loaded.merge_and_unload()  # same outputs, no per-layer adapter overhead
            except Exception as exc:
                raise ModelError(f"Could not load adapter {adapter}: {first_line(exc)}") from exc
        loaded.eval()
        tokenizer.padding_side = "left"  # generation appends on the right, so pad on the left
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        if tokenizer.pad_token is None:
            raise ModelError(f"Could not load model {model}: its tokenizer has no pad, eos or unk token")
        return tokenizer, loaded

    def _stop_ids(self) -> list[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(configured if isinstance(configured, list) else [configured])
        vocab = self.tokenizer.get_vocab()
        ids.update(vocab[token] for token in END_OF_TURN_TOKENS if token in vocab)
        return sorted(i for i in ids if i is not None)

    def format_prompt(self, messages: Messages) -> str:
        """The text the model sees: its chat template, or a plain layout for base models."""
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return "\n\n".join(m["content"] for m in messages) + "\n\nAnswer:"

    def generate(self, prompts: list[Messages], max_new_tokens: int = 64) -> list[str]:
        """Greedy answers, batched by prompt length so little compute goes to padding."""
        texts = [self.format_prompt(messages) for messages in prompts]
        # A chat template writes its own special tokens; a plain prompt wants the tokenizer's bos.
        special = not getattr(self.tokenizer, "chat_template", None)
        lengths = [len(self.tokenizer(text, add_special_tokens=special)["input_ids"]) for text in texts]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        answers: list[str] = [""] * len(texts)
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                batch_answers = self._generate_batch([texts[i] for i in chunk], special, max_new_tokens)
                for index, answer in zip(chunk, batch_answers):
                    answers[index] = answer
            self.calls += len(texts)
        return answers

    def _generate_batch(self, texts: list[str], special: bool, max_new_tokens: int) -> list[str]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        batch = self.tokenizer(texts, add_special_tokens=special, padding=True, return_tensors="pt")
        batch = batch.to(self.device)  # input_ids, attention_mask: (batch, longest prompt)
        prompt_length = batch["input_ids"].shape[1]
        stop_ids = self._stop_ids()
        config = GenerationConfig(
            do_sample=False,
            max_new_tokens=max_new_tokens,
            eos_token_id=stop_ids,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        penalty = LogitsProcessorList([_GeneratedRepetitionPenalty(prompt_length, self.repetition_penalty)])
        with torch.inference_mode():
            output = self.model.generate(**batch, generation_config=config, logits_processor=penalty)
        answers = []
        for row in output[:, prompt_length:].tolist():  # (batch, new tokens); finished rows are padded
            end = next((i for i, token in enumerate(row) if token in stop_ids), len(row))
            self.generated_tokens += min(end + 1, len(row))
            answers.append(self.tokenizer.decode(row[:end], skip_special_tokens=True).strip())
        return answers
