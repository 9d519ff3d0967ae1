"""Databases that cannot be used: newer, damaged, read-only, or created by two processes at once.

Each gets one line (a ``StoreError``; the CLI prints it as ``error: ...`` and exits 1), and nothing
already stored is lost."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.errors import StoreError
from db.store import Store
from tests.helpers.cli import ROOT, run_cli

def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _one_error_line(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and all(w in line for w in words), line
    return line


def test_a_database_from_a_newer_version_is_refused_in_one_line_and_left_alone(tmp_path):
    path = tmp_path / "newer.db"
    store = Store(_url(path))
    store.upsert_repository("/src", "src", "/src", None)
    store.close()
    engine = create_engine(_url(path))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    engine.dispose()

    with pytest.raises(StoreError, match="newer version of Code Narrator") as error:
        Store(_url(path))
    assert "\n" not in str(error.value)
    _one_error_line(run_cli("show", "/src", "--db", _url(path), home=tmp_path / "home", timeout=120), "newer version")
    engine = create_engine(_url(path))
    with engine.connect() as conn:  # untouched: the same revision and the same rows
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0999_from_the_future"
        assert conn.execute(text("SELECT count(*) FROM repositories")).scalar() == 1
    engine.dispose()


def test_a_damaged_database_file_is_one_line(tmp_path):
    path = tmp_path / "damaged.db"
    path.write_bytes(b"this is not an sqlite file at all, just text" * 100)
    with pytest.raises(StoreError, match="damaged or not a database"):
        Store(_url(path))
    line = _one_error_line(run_cli("show", "/src", "--db", _url(path), home=tmp_path / "home", timeout=120), "damaged")
    assert "sqlalche.me" not in line and "[SQL" not in line
    assert path.read_bytes().startswith(b"this is not")  # nothing overwritten


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_database_reads_and_refuses_writes_in_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "narrator.db"
    store = Store(_url(path))
    store.upsert_repository("/src", "src", "/src", None)
    store.close()
    for name in os.listdir(folder):
        (folder / name).chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        try:
            store = Store(_url(path))
        except StoreError as error:  # SQLite may refuse even to read a WAL file it cannot lock
            assert "\n" not in str(error) and "read" in str(error).lower()
            return
        with pytest.raises(StoreError, match="could not be written") as error:
            store.upsert_repository("/other", "other", "/other", None)
        assert "\n" not in str(error.value)
    finally:
        folder.chmod(stat.S_IRWXU)
        for name in os.listdir(folder):
            (folder / name).chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_read_only_database_refuses_writes_even_for_root(tmp_path):
    path = tmp_path / "narrator.db"
    store = Store(_url(path))
    store.upsert_repository("/src", "src", "/src", None)
    store.close()
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert [r.source for r in read_only.list_repositories()] == ["/src"]
    with pytest.raises(StoreError, match="could not be written: it is read-only") as error:
        read_only.upsert_repository("/other", "other", "/other", None)
    assert "\n" not in str(error.value)
    read_only.close()


def _open(url: str, start, errors) -> None:
    try:
        start.wait(timeout=30)
        store = Store(url)
        store.upsert_repository(f"/src/{os.getpid()}", "src", "/src", None)
        store.close()
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_processes_creating_one_fresh_database_at_once_never_see_it_locked(tmp_path):
    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()
    for round_ in range(10):
        url = _url(tmp_path / f"fresh-{round_}.db")
        start = ctx.Barrier(4)
        workers = [ctx.Process(target=_open, args=(url, start, errors)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0]
        assert errors.empty(), errors.get()
        store = Store(url)
        assert len(store.list_repositories()) == 4
        store.close()


@pytest.mark.parametrize("fault", ["damaged", "newer"])
def test_the_dashboard_shows_a_database_fault_in_one_error_box(tmp_path, monkeypatch, fault):
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "narrator.db"
    if fault == "damaged":
        path.write_bytes(b"garbage" * 500)
    else:
        Store(_url(path)).close()
        engine = create_engine(_url(path))
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
        engine.dispose()
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    monkeypatch.setenv("CODE_NARRATOR_DB", _url(path))
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not at.exception
    [box] = at.error
    assert "\n" not in box.value and ("damaged" in box.value if fault == "damaged" else "newer version" in box.value)
