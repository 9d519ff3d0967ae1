"""A model server speaking the OpenAI chat/completions API (vLLM, llama.cpp, Ollama, ...): ``openai:BASE_URL[#MODEL]``."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from db.errors import ModelError, first_line

if TYPE_CHECKING:
    from narrator.model.backends import Messages  # the interface imports this module to register it


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


def _openai_name(spec: str) -> str:
    """``openai:BASE#MODEL``, the model as the spec names it (``default`` when it names none)."""
    base, served = parse_openai_spec(spec)
    return f"openai:{base}#{served or 'default'}"


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
