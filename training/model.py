"""Load the base model (full precision or NF4) with its tokenizer, and put a LoRA adapter on it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from db.errors import ModelError, first_line

EMBEDDED = "embedded"
"""``--base`` value (and the default) for the embedded SmolLM2-135M-Instruct."""


def resolve_base(base: str | None) -> str:
    """A loadable model id or folder: ``None``/``embedded`` -> the converted fp32 SmolLM2 folder.

    The embedded model ships as a GGUF file; ``narrator.model.embedded.convert_embedded`` converts it
    once into the settings' model folder and narration loads the same copy.
    """
    if base in (None, "", EMBEDDED):
        from narrator.model.embedded import convert_embedded
        from narrator.settings import load_settings

        return str(convert_embedded(load_settings().model_dir))
    if base.startswith(("/", "./", "../", "~")) and not Path(base).expanduser().is_dir():
        raise ModelError(f"Could not load model {base}: no such folder")
    path = Path(base).expanduser()
    return str(path) if path.is_dir() else base


def load_base(base: str, quant: Literal["nf4", "none"], device: str):
    """``(model, tokenizer)`` of ``base`` on ``device``; NF4 base weights when ``quant`` is nf4.

    The NF4 model is prepared for k-bit training (norms in fp32, input gradients enabled) so a LoRA
    adapter on top of it trains stably (QLoRA).
    """
    from training.config import quantization_config

    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(base)
        dtype = torch.float32
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
        q_config = quantization_config(quant, device)
        if q_config is not None:
            model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype, quantization_config=q_config,
                                                         device_map={"": device})
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        else:
            model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype).to(device)
    except ImportError as exc:
        raise ModelError(f"Could not load model {base}: {first_line(exc, limit=200)}") from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"Could not load model {base}: {first_line(exc, limit=200)}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def attach_lora(model, settings, seed: int):
    """``model`` wrapped with a fresh, trainable LoRA adapter (only adapter weights require grad)."""
    import torch
    from peft import get_peft_model

    from training.config import lora_config

    torch.manual_seed(seed)  # LoRA A matrices are random; B starts at zero, so step 0 is the base model
    try:
        return get_peft_model(model, lora_config(settings))
    except ValueError as exc:  # e.g. target modules not found in this architecture
        raise ModelError(f"Could not add the LoRA adapter: {first_line(exc, limit=200)}") from exc


def load_adapter(model, folder: str | Path, trainable: bool = False):
    """``model`` with the saved adapter in ``folder`` applied."""
    from peft import PeftModel

    path = Path(folder).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise ModelError(f"Could not load adapter {folder}: no adapter_config.json in it")
    try:
        return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)
    except Exception as exc:  # peft raises many types for mismatched or corrupt adapters
        raise ModelError(f"Could not load adapter {folder}: {first_line(exc, limit=200)}") from exc
