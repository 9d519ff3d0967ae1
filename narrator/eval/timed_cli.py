"""One ``python -m narrator`` command timed as a user runs it, start-up included, with its peak memory: what
the bench (``narrator.eval.bench``) and its pages bench (``narrator.eval.bench_pages``) start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path


def _cli(args: list[str], env: Mapping[str, str] | None = None) -> tuple[float, float | None]:
    """Seconds and peak RSS (MB) of one ``python -m narrator ARGS`` run, start-up included, as a user runs it.

    The peak is the child's own high-water mark (``VmHWM``, Linux), read while it runs: the rusage
    of a child counts the memory of the bench it was forked from. None where it cannot be read.
    """
    # The package this bench belongs to, wherever the bench is started from.
    root = str(Path(__file__).resolve().parents[2])
    env = {**(env or os.environ), "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    peak_kb = None
    with tempfile.TemporaryFile() as errors:
        begin = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "narrator", *args], stdout=subprocess.DEVNULL,
                                 stderr=errors, env=env)
        status = Path(f"/proc/{child.pid}/status")
        while child.poll() is None:
            try:
                marks = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")]
            except OSError:
                marks = []
            if marks:
                peak_kb = max(peak_kb or 0, int(marks[0].split()[1]))
            time.sleep(0.01)
        seconds = time.perf_counter() - begin
        if child.returncode:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"python -m narrator {args[0]} exited with {child.returncode}: {' '.join(said)}")
    return seconds, (peak_kb / 1024 if peak_kb else None)
