"""Third-party warnings go to a log file, not to the console of someone running a narration.

The libraries behind a local model print notes meant for their own developers: bitsandbytes logs
"Failed to load CPU gemm_4bit_forward ... pip install kernels", transformers and torch raise
``FutureWarning``s and ``UserWarning``s about their own deprecations. A manager running ``narrate``
can do nothing about them, so every entry point (``python -m narrator``, ``python -m training``, and
the workers the dashboard starts through them) calls :func:`route_library_warnings` first. Python
warnings and every library's log records then go to ``<home>/logs/libraries.log``; log records of
this project's own packages still reach stderr, as before. The user sees our progress and our
messages only.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

OUR_PACKAGES = frozenset({"narrator", "training", "db", "dashboard"})
"""Loggers whose messages are ours: they stay on stderr."""
LOG_FILE = "libraries.log"
"""The file in ``<home>/logs`` that third-party warnings go to."""


class _Ours(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.partition(".")[0] in OUR_PACKAGES


def route_library_warnings(home: Path) -> Path:
    """Send Python warnings and third-party log records to ``<home>/logs/libraries.log`` (returned).

    Called again (a second command run in one process, as tests do), it moves them to the new home.
    """
    # transformers logs through its own stderr handler, set up when it is imported: tell it first.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
    log_file = Path(home) / "logs" / LOG_FILE
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "code_narrator", False)]:
        root.removeHandler(handler)
        handler.close()
    to_file = logging.FileHandler(log_file, encoding="utf-8", delay=True)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    to_console = logging.StreamHandler()  # stderr, as messages were shown before: ours only
    to_console.addFilter(_Ours())
    for handler in (to_file, to_console):
        handler.setLevel(logging.WARNING)
        handler.code_narrator = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.captureWarnings(True)  # warnings.warn -> the "py.warnings" logger -> the file
    return log_file
