"""Exclusive locks between processes on one machine, held on a lock file with ``flock``.

The operating system drops a ``flock`` when its holder exits, however it exits (Ctrl+C, kill -9),
so a crash never leaves a stale lock behind. Used where two processes must not do the same work
at once: creating and migrating a fresh SQLite database, and narrating one repository.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created with its folder); yields whether it had to wait.

    When another process holds it, ``on_wait`` is called once (to tell the user), then this waits.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    waited = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield waited
    finally:
        os.close(fd)  # closing the descriptor releases the lock
