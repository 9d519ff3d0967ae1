"""A throw-away PostgreSQL server for tests: ``running_postgres()`` starts a cluster on a Unix socket
and yields a factory ``url(dbname)`` that creates a database and returns its SQLAlchemy URL.

Skipped where the server binaries are missing, except under scripts/test.sh
(``CODE_NARRATOR_REQUIRE_POSTGRES=1``), which installs them: there a missing server fails.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import pytest
from sqlalchemy import create_engine


def _postgres_bin() -> Path | None:
    candidates = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name), reverse=True)
    for folder in [*candidates, str(Path(shutil.which("initdb") or "/nonexistent").resolve().parent)]:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    return None


def as_server_user(uid: int | None, gid: int | None):
    """preexec_fn for server processes: drop root (initdb and postgres refuse it), and have the
    kernel stop the server if pytest dies, so a killed test run leaves no server behind."""

    def preexec() -> None:
        if uid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        # After setuid: changing credentials clears the parent-death signal. 1 = PR_SET_PDEATHSIG.
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGQUIT)

    return preexec


def _unavailable(reason: str):
    """Skip, except under scripts/test.sh, which installs the server: there a missing one fails."""
    if os.environ.get("CODE_NARRATOR_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (scripts/test.sh installs PostgreSQL; see scripts/setup.sh --postgres)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_postgres() -> Iterator[Callable[[str], str]]:
    """A throw-away PostgreSQL cluster on a Unix socket; yields a URL factory ``url(dbname)``."""
    import psycopg2
    bin_dir = _postgres_bin()
    if bin_dir is None or not sys.platform.startswith("linux"):
        _unavailable("PostgreSQL server binaries (initdb, postgres) are not installed")
    uid = gid = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server")
        uid, gid = account.pw_uid, account.pw_gid
    folder = Path(tempfile.mkdtemp(prefix="narrator-pg-"))
    if uid is not None:
        os.chown(folder, uid, gid)
    data = folder / "data"
    port = free_port()
    server = None
    try:
        subprocess.run([bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, preexec_fn=as_server_user(uid, gid))
        server = subprocess.Popen(
            [bin_dir / "postgres", "-D", data, "-k", folder, "-p", str(port), "-c", "listen_addresses=", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_server_user(uid, gid),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(host=str(folder), port=port, user="postgres", dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    _unavailable("the temporary PostgreSQL server did not start")
                time.sleep(0.1)
        admin = create_engine(f"postgresql+psycopg2://postgres@/postgres?host={folder}&port={port}",
                              isolation_level="AUTOCOMMIT")

        def url(name: str) -> str:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            return f"postgresql+psycopg2://postgres@/{name}?host={folder}&port={port}"

        yield url
        admin.dispose()
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # "fast" shutdown: disconnect clients, stop
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
