"""Every file the product writes is written whole or not at all.

A report, the active adapter's record, the admin's password hash and failure count, a study's
results: each is written to a temporary file beside its target, flushed to the disk, then renamed
over the target. A full disk, an exception half way or a ``kill -9`` leaves the old file as it was
(and at most a hidden ``.NAME.*.tmp`` file, which the next write does not trip over).
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal


@contextmanager
def atomic_writer(path: str | Path, mode: Literal["w", "wb"] = "w", *, permissions: int = 0o666,
                  replace: bool = True) -> Iterator[IO]:
    """A file handle whose contents become ``path`` only when the ``with`` block ends without error.

    ``mode`` 'w' gives a UTF-8 text handle, 'wb' a binary one. ``permissions`` are those of a new
    file (the umask applies), e.g. 0o600 for a secret. ``replace`` False never overwrites: when
    ``path`` exists (another process got there first) ``FileExistsError`` is raised and nothing is
    written. The parent folder must exist.
    """
    target = Path(path)
    if target.is_dir():  # said now: a rename over a folder would fail only after the whole write
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, permissions)
    try:
        with os.fdopen(descriptor, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # on the disk before the rename makes it the file
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # fails if the target exists, unlike a rename
        _sync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: bytes | str, *, permissions: int = 0o666, replace: bool = True) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all (see ``atomic_writer``); returns the path."""
    with atomic_writer(path, "wb", permissions=permissions, replace=replace) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself survive a power cut (where the system lets a folder be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
