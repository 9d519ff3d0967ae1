"""A throw-away Redis server for tests (Debian's ``redis-server``): ``running_redis()`` starts one on a
free port in a temporary folder, with nothing saved to disk, and yields its ``redis://`` URL."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.postgres import as_server_user, free_port


@contextmanager
def running_redis() -> Iterator[str]:
    """Start ``redis-server`` (skipped where it is not installed) and yield ``redis://127.0.0.1:PORT/0``."""
    import redis

    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh --redis)")
    folder = Path(tempfile.mkdtemp(prefix="narrator-redis-"))
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                               "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_server_user(None, None))
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 30
        client = redis.Redis.from_url(url)
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the temporary redis-server did not start")
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)
