"""The fake model: deterministic answers without a model, for tests and demos (``fake``, ``fake:DELAY``, ``fake:wait:PATH``)."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from db.errors import ModelError

if TYPE_CHECKING:
    from narrator.model.backends import Messages  # the interface imports this module to register it


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
