"""The per-repository lock across machines (db/locks.py): a PostgreSQL advisory lock held on a
connection of its own, waited for by others, and dropped by the server when its holder is killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from db.locks import database_lock, repository_lock
from db.store import Store
from tests.helpers.cli import ROOT
from tests.helpers.postgres import running_postgres

pytestmark = pytest.mark.slow  # starts PostgreSQL and a process


@pytest.fixture(scope="module")
def postgres_server():
    with running_postgres() as url:
        yield url


HOLDER = """
import sys
from db.locks import database_lock
from db.store import Store
store = Store(sys.argv[1])
with database_lock(store.engine, "narrate\\n/src/shop"):
    print("held", flush=True)
    sys.stdin.read()  # until killed
"""


def test_the_lock_is_waited_for_and_dropped_with_a_killed_holder(postgres_server, tmp_path):
    url = postgres_server("locks")
    store = Store(url)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        waited, acquired = threading.Event(), threading.Event()

        def take() -> None:
            with repository_lock(store.engine, "narrate\n/src/shop", tmp_path / "unused.lock", on_wait=waited.set):
                acquired.set()

        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        assert waited.wait(timeout=60), "told that another narration holds the lock"
        assert not acquired.is_set()
        holder.send_signal(signal.SIGKILL)  # no unlock: the server drops the lock with the connection
        holder.wait(timeout=30)
        assert acquired.wait(timeout=60)
        taker.join(timeout=30)
        with database_lock(store.engine, "narrate\n/src/shop") as had_to_wait:
            assert not had_to_wait, "released on leaving, and not left on a pooled connection"
        assert not (tmp_path / "unused.lock").exists(), "PostgreSQL's lock, not a file on one machine"
    finally:
        holder.kill()
        holder.wait()
        store.close()
