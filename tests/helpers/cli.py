"""The command line run as a process (``python -m narrator``), the environment it gets, and the one
line it must print for an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MODEL_SENTENCES_ON

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: where commands run, and what ``PYTHONPATH`` names for a worker."""


def run_cli(*args: str, home: Path, timeout: int = 300, **env: str) -> subprocess.CompletedProcess:
    """``python -m narrator *args`` with the fake model and every path under ``home``; ``env`` is added to
    the environment. The machine's database, adapter and quantization are left out unless ``env`` sets them."""
    environment = {**os.environ, "CODE_NARRATOR_HOME": str(home), "CODE_NARRATOR_MODEL": "fake", "HF_HUB_OFFLINE": "1",
                   **env}
    for name in ("CODE_NARRATOR_DB", "CODE_NARRATOR_ADAPTER", "CODE_NARRATOR_QUANT"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([sys.executable, "-m", "narrator", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    # Progress-bar lines may come first; the message is one line, and the last.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    messages = [line for line in lines if line.startswith("error:")]
    assert len(messages) == 1 and lines[-1] == messages[0], result.stderr
    for word in words:
        assert word.lower() in messages[0].lower(), messages[0]


def cli_env(home: Path, model: str = "fake") -> dict[str, str]:
    """The environment of a command or worker started as a process with ``model``: none of the machine's
    ``CODE_NARRATOR_`` settings, no adapter, and the model's code summaries and sentences asked for (model
    work to stop and resume)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CODE_NARRATOR_")}
    env.update(CODE_NARRATOR_HOME=str(home), CODE_NARRATOR_MODEL=model, CODE_NARRATOR_ADAPTER="none",
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), **MODEL_SENTENCES_ON)
    return env
