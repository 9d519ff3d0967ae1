"""Throw-away PostgreSQL and Redis servers for benchmarks and tests, from Debian's binaries
(``bash scripts/setup.sh --redis --postgres`` installs them).

``running_postgres()`` starts a cluster on a Unix socket in a temporary folder and yields a factory
``url(dbname)`` that creates a database and returns its SQLAlchemy URL; ``running_redis()`` starts
``redis-server`` on a free local port, saving nothing to disk, and yields its ``redis://`` URL. Both
stop the server and remove its folder when the ``with`` block ends, however it ends, and the kernel
stops the server if the process that started it dies. Where the binaries are missing or the server
does not start they raise ``ServerUnavailable``, one line saying why.
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

from db.errors import UserError

START_TIMEOUT = 30.0
"""Seconds a server may take to answer before it is said not to start."""


class ServerUnavailable(UserError):
    """A throw-away server cannot be started: its binaries are missing or it did not answer."""


def free_port() -> int:
    """A local TCP port nothing listens on at the moment of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user(uid: int | None, gid: int | None) -> Callable[[], None]:
    """preexec_fn for server processes: drop root (initdb and postgres refuse it), and have the
    kernel stop the server if its parent dies, so a killed run leaves no server behind."""

    def preexec() -> None:
        if uid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        # After setuid: changing credentials clears the parent-death signal. 1 = PR_SET_PDEATHSIG.
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGQUIT)

    return preexec


def postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``postgres`` (Debian's newest version first), or None."""
    candidates = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name), reverse=True)
    for folder in [*candidates, str(Path(shutil.which("initdb") or "/nonexistent").resolve().parent)]:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    return None


def redis_bin() -> Path | None:
    """The ``redis-server`` binary, or None."""
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    return Path(found) if found else None


def _stop(server: subprocess.Popen, stop_signal: int) -> None:
    server.send_signal(stop_signal)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wait_until(answers: Callable[[], bool], server: subprocess.Popen, what: str) -> None:
    """Until ``answers()`` is true; ``ServerUnavailable`` if the server exits or the deadline passes."""
    deadline = time.monotonic() + START_TIMEOUT
    while not answers():
        if server.poll() is not None:
            raise ServerUnavailable(f"the temporary {what} exited at start (status {server.returncode})")
        if time.monotonic() > deadline:
            raise ServerUnavailable(f"the temporary {what} did not answer within {START_TIMEOUT:.0f} s")
        time.sleep(0.05)


@contextmanager
def running_postgres() -> Iterator[Callable[[str], str]]:
    """A throw-away PostgreSQL cluster on a Unix socket; yields a URL factory ``url(dbname)``."""
    import psycopg2
    from sqlalchemy import create_engine

    bin_dir = postgres_bin()
    if bin_dir is None or not sys.platform.startswith("linux"):
        raise ServerUnavailable("PostgreSQL server binaries (initdb, postgres) are not installed "
                                "(bash scripts/setup.sh --postgres installs them)")
    uid = gid = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailable("running as root and there is no 'postgres' user to run PostgreSQL "
                                    "(bash scripts/setup.sh --postgres creates it)") from None
        uid, gid = account.pw_uid, account.pw_gid
    folder = Path(tempfile.mkdtemp(prefix="narrator-pg-"))
    if uid is not None:
        os.chown(folder, uid, gid)
    data = folder / "data"
    port = free_port()
    server = admin = None

    def answers() -> bool:
        try:
            psycopg2.connect(host=str(folder), port=port, user="postgres", dbname="postgres").close()
            return True
        except psycopg2.OperationalError:
            return False

    try:
        made = subprocess.run([bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                              capture_output=True, text=True, preexec_fn=as_server_user(uid, gid))
        if made.returncode != 0:
            last = (made.stderr.strip().splitlines() or ["no message"])[-1]
            raise ServerUnavailable(f"initdb failed for the temporary PostgreSQL server: {last}")
        server = subprocess.Popen(
            [bin_dir / "postgres", "-D", data, "-k", folder, "-p", str(port), "-c", "listen_addresses=", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_server_user(uid, gid),
        )
        _wait_until(answers, server, "PostgreSQL server")
        admin = create_engine(f"postgresql+psycopg2://postgres@/postgres?host={folder}&port={port}",
                              isolation_level="AUTOCOMMIT")

        def url(name: str) -> str:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            return f"postgresql+psycopg2://postgres@/{name}?host={folder}&port={port}"

        yield url
    finally:
        if admin is not None:
            admin.dispose()
        if server is not None:
            _stop(server, signal.SIGINT)  # "fast" shutdown: disconnect clients, stop
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_redis() -> Iterator[str]:
    """A throw-away ``redis-server`` on a free local port; yields ``redis://127.0.0.1:PORT/0``."""
    import redis

    binary = redis_bin()
    if binary is None:
        raise ServerUnavailable("redis-server is not installed (bash scripts/setup.sh --redis installs it)")
    folder = Path(tempfile.mkdtemp(prefix="narrator-redis-"))
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = None
    client = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                   "--save", "", "--appendonly", "no"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=as_server_user(None, None))
        _wait_until(answers, server, "redis-server")
        client.close()
        yield url
    finally:
        client.close()
        if server is not None:
            _stop(server, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
