"""A throw-away Redis server for tests (Debian's ``redis-server``, started by
``narrator.eval.local_servers``): ``running_redis()`` yields its ``redis://`` URL. Skipped where the
server cannot start, failed instead under scripts/test.sh (``CODE_NARRATOR_REQUIRE_SERVERS=1``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from narrator.eval import local_servers
from tests.helpers.postgres import start_or_skip


@contextmanager
def running_redis() -> Iterator[str]:
    """Start ``redis-server`` on a free port and yield ``redis://127.0.0.1:PORT/0``."""
    with ExitStack() as stack:
        yield start_or_skip(local_servers.running_redis(), stack)
