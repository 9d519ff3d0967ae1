"""What the ``Store``'s parts share: their base, which names the session they use, and two helpers.

Each table's methods live in a module of their own (``db/repositories.py``, ``db/narratives.py``,
``db/commits.py``, ``db/units.py``, ``db/jobs.py``, ``db/training.py``), as a class that ``Store``
(``db/store.py``) is made of; ``Store`` opens the sessions they run in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

# Bound parameters per IN (...) list; SQLite's limit is far higher, this keeps statements small.
_CHUNK = 500


class Records:
    """The base of the ``Store``'s per-table parts."""

    def session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError  # Store's own session() comes first in its method order


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_fields(row: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(f"Unknown {what} field(s): {', '.join(sorted(unknown))}")
