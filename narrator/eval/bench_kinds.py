"""The change-kind head's cost, for ``python -m narrator.eval.bench``: what judging a commit's kind of change
(``kind_model.commit_kinds``, one forward pass of the narrating model per newly narrated commit) adds to
a narration, timed on the real calls while the bench narrates, beside the seconds the model spends
generating text in the same narration.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from narrator.model import kind_model


@dataclass
class ModelClock:
    """Seconds of model work seen while a :func:`model_clock` was open."""

    kind_seconds: float = 0.0
    """In ``kind_model.commit_kinds`` (the change-kind head)."""
    kind_cpu_seconds: float = 0.0
    """The same in CPU seconds of this process, every thread: on a busy machine the seconds depend on what
    else runs, the CPU seconds do not."""
    kind_commits: int = 0
    """Commits the head judged."""
    generate_seconds: float = 0.0
    """In the backend's ``generate`` (every narrative the model wrote)."""

    def figures(self) -> dict:
        """``kind_head_*`` figures: commits judged, seconds, ms per commit (also in CPU time) and the head's
        share of the model's seconds (head and generation together); None where no commit was judged (no head beside
        the model, a server, the fake model, the model-kind setting off)."""
        judged = self.kind_commits > 0
        model_seconds = self.kind_seconds + self.generate_seconds
        return {
            "kind_head_commits": self.kind_commits,
            "kind_head_seconds": round(self.kind_seconds, 3) if judged else None,
            "kind_head_ms_per_commit": round(1000 * self.kind_seconds / self.kind_commits, 1) if judged else None,
            "kind_head_cpu_ms_per_commit": round(1000 * self.kind_cpu_seconds / self.kind_commits, 1) if judged else None,
            "model_generate_seconds": round(self.generate_seconds, 2),
            "kind_head_share_of_model_seconds": round(self.kind_seconds / model_seconds, 3) if judged else None,
        }


@contextmanager
def model_clock(backend) -> Iterator[ModelClock]:
    """While open, every ``kind_model.commit_kinds`` call (narration looks it up at each call) and every
    ``backend.generate`` call is timed into the yielded clock; both are put back on leaving."""
    clock = ModelClock()
    commit_kinds, generate, own = kind_model.commit_kinds, backend.generate, "generate" in vars(backend)

    def timed_kinds(model, tokenizer, head, items, *args, **kwargs):
        begin, cpu = time.perf_counter(), time.process_time()
        try:
            return commit_kinds(model, tokenizer, head, items, *args, **kwargs)
        finally:
            clock.kind_seconds += time.perf_counter() - begin
            clock.kind_cpu_seconds += time.process_time() - cpu
            clock.kind_commits += len(items)

    def timed_generate(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return generate(*args, **kwargs)
        finally:
            clock.generate_seconds += time.perf_counter() - begin

    kind_model.commit_kinds, backend.generate = timed_kinds, timed_generate
    try:
        yield clock
    finally:
        kind_model.commit_kinds = commit_kinds
        if own:
            backend.generate = generate
        else:
            del backend.generate  # the class's method shows through again
