"""Exclusive locks between processes: on one machine a lock file with ``flock``, across machines a
PostgreSQL advisory lock.

The operating system drops a ``flock`` when its holder exits, however it exits (Ctrl+C, kill -9),
so a crash never leaves a stale lock behind. Used where two processes must not do the same work
at once: creating and migrating a fresh SQLite database, and narrating one repository.

Workers of a task queue on several machines share one PostgreSQL database, not a folder:
``database_lock`` holds a session advisory lock on a connection of its own for as long as the work
lasts. The server drops it when that connection ends, so a worker that is killed (or whose machine
goes away, once its TCP connection is seen dead) never leaves it behind either.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text


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


def lock_key(name: str) -> int:
    """A stable signed 64-bit number for ``name``: the key PostgreSQL's advisory locks take."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def database_lock(engine: Engine, name: str, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold PostgreSQL's session advisory lock ``name`` on a connection of its own; yields whether it had to wait.

    When another session holds it, ``on_wait`` is called once, then this waits. The connection is
    closed, not given back to the pool, if the lock cannot be released on it: a pooled connection
    must never carry a lock into someone else's work.
    """
    key = lock_key(name)
    connection = engine.connect()
    try:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        waited = not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        if waited:
            if on_wait is not None:
                on_wait()
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        yield waited
    finally:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        except Exception:  # the connection is broken, and the server dropped the lock with it
            connection.invalidate()
        connection.close()


def repository_lock(engine: Engine, name: str, lock_file: Path, on_wait: Callable[[], None] | None = None):
    """The lock for ``name`` that holds wherever the database is shared: PostgreSQL's advisory lock
    (workers on several machines), else ``lock_file`` (a SQLite file lives on one machine)."""
    if engine.dialect.name == "postgresql":
        return database_lock(engine, name, on_wait)
    return file_lock(lock_file, on_wait)
