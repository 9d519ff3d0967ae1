"""A throw-away PostgreSQL server for tests: ``running_postgres()`` starts a cluster on a Unix socket
(``narrator.eval.local_servers``) and yields a factory ``url(dbname)`` that creates a database and
returns its SQLAlchemy URL.

Where the server cannot start (binaries missing, no 'postgres' user) the test is skipped, except under
scripts/test.sh (``CODE_NARRATOR_REQUIRE_SERVERS=1``), which installs the servers: there it fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TypeVar

import pytest

from narrator.eval import local_servers
from narrator.eval.local_servers import free_port  # noqa: F401  (tests import it from here)

T = TypeVar("T")


def start_or_skip(server: AbstractContextManager[T], stack: ExitStack) -> T:
    """Enter a ``local_servers`` context in ``stack``; a server that cannot start skips the test, or fails
    it under scripts/test.sh (``CODE_NARRATOR_REQUIRE_SERVERS=1``), where a skip would prove nothing."""
    try:
        return stack.enter_context(server)
    except local_servers.ServerUnavailable as error:
        unavailable(str(error))


def unavailable(reason: str) -> None:
    """Skip the test for want of a server, or fail it under scripts/test.sh, which installs them."""
    if os.environ.get("CODE_NARRATOR_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (scripts/test.sh installs PostgreSQL and redis-server, so it must start)")
    pytest.skip(reason)


@contextmanager
def running_postgres() -> Iterator[Callable[[str], str]]:
    """A throw-away PostgreSQL cluster on a Unix socket; yields a URL factory ``url(dbname)``."""
    with ExitStack() as stack:
        yield start_or_skip(local_servers.running_postgres(), stack)
