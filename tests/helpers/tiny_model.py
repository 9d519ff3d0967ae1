"""A tiny causal LM built in-process for tests: a 2-layer Llama and a BPE tokenizer trained here.

Nothing is downloaded; saving both to a folder gives something ``AutoModelForCausalLM`` and
``AutoTokenizer`` load exactly like a real Hugging Face checkpoint (with a ChatML chat template).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

TRAINING_LINES = [
    "def add(a, b): return a + b",
    "class Parser: reads the config file and returns settings",
    "This function adds two numbers and returns the sum.",
    "The module loads users from the database and sends emails.",
    "Fix crash when the input list is empty.",
    "import os, sys; print(sys.argv)",
]


def build_tiny_model(folder: Path, seed: int = 0, layers: int = 2) -> Path:
    """Save a random Llama of ``layers`` layers (hidden 32) and its tokenizer to ``folder``; return the
    folder. The change-kind head reads layer 20 (``narrator.model.kind_model.LAYERS``): give it 20 or more."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    # Byte-level BPE encodes any text without unknown tokens, so prompts need not match the lines.
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    raw.train_from_iterator(TRAINING_LINES, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<|endoftext|>", bos_token="<|im_start|>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.5,  # peaked logits: greedy picks are not near-ties between runs
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_wide_tiny_model(folder: Path) -> str:
    """The shared tiny Llama widened to hidden size 64: bitsandbytes' CPU NF4 kernels work on
    64-value blocks and 32-row tiles."""
    import torch
    from transformers import AutoConfig, LlamaForCausalLM

    build_tiny_model(folder)
    config = AutoConfig.from_pretrained(folder)
    config.hidden_size, config.intermediate_size, config.head_dim = 64, 128, 16  # k/v rows: 2 heads x 16
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny model's folder, saved once per test module."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def wide_tiny_base(tmp_path_factory) -> str:
    """The wide tiny model saved once per test module."""
    return build_wide_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def blank_adapter(tiny_base, tmp_path_factory) -> Path:
    """A freshly initialised LoRA adapter on the tiny model (B is zero): the model with it is the base model."""
    from training.config import LoraSettings
    from training.model import attach_lora, load_base

    model, _ = load_base(tiny_base, "none", "cpu")
    folder = tmp_path_factory.mktemp("adapter")
    attach_lora(model, LoraSettings(r=4, alpha=8), seed=0).save_pretrained(folder)
    return folder
