"""The narrative cache: migrations, cache keys, idempotent writes, filters, jobs, concurrency."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

import db.store
from db import Store, cache_key, pid_alive
from db.models import Base, Commit, Narrative
from db.store import alembic_config
from db.training import TrainingBusy
from db.errors import StoreError
from tests.helpers.postgres import running_postgres

TABLES = {"repositories", "narratives", "commits", "units", "jobs", "alembic_version"}
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def store(tmp_path):
    s = Store(sqlite_url(tmp_path / "cache.db"))
    yield s
    s.close()


@pytest.fixture
def repo_id(store) -> int:
    return store.upsert_repository("https://example.com/shop.git", "shop", "/clones/shop", "a" * 40)


def narrative(store: Store, repo_id: int, target: str, text: str, kind: str = "unit", **key_parts) -> str:
    key = cache_key(kind=kind, target=target, text=text, **key_parts)
    store.put_narrative(key, repo_id, kind, target, "in-" + target, "fake", None, "p1", text, {"removed": []})
    return key


def commit_row(sha: str, date: datetime, **fields) -> dict:
    row = dict(sha=sha, subject=f"subject {sha}", message=f"subject {sha}\n\nbody", author="Ada",
               email="ada@example.com", date=date, area="shop", category="fix",
               files=[{"path": "shop/a.py", "change": "modified", "added": 1, "removed": 0}],
               added=1, removed=0, is_merge=False, input_hash="h-" + sha)
    row.update(fields)
    return row


def count(store: Store, model) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- opening and migrating ---------------------------------------------------------------------


def test_open_creates_folder_all_tables_wal_and_head(tmp_path):
    path = tmp_path / "not" / "yet" / "there" / "cache.db"
    store = Store(sqlite_url(path))
    try:
        assert path.exists()
        assert TABLES <= set(inspect(store.engine).get_table_names())
        head = ScriptDirectory.from_config(alembic_config(store.url.render_as_string())).get_current_head()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    finally:
        store.close()


def test_models_describe_exactly_what_the_migrations_create(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path, monkeypatch):
    url = sqlite_url(tmp_path / "cache.db")
    first = Store(url)
    repo_id = first.upsert_repository("/src/shop", "shop", "/src/shop", "abc")
    first.close()

    def no_upgrade(*args, **kwargs):
        raise AssertionError("a database at head must not be migrated again")

    monkeypatch.setattr(db.store.command, "upgrade", no_upgrade)
    second = Store(url)
    try:
        assert second.get_repository(repo_id).name == "shop"
        with second.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        second.close()


def test_percent_sign_in_the_path_survives_alembic_config(tmp_path):
    store = Store(sqlite_url(tmp_path / "100% sure" / "cache.db"))
    try:
        assert TABLES <= set(inspect(store.engine).get_table_names())
    finally:
        store.close()


def test_in_memory_database_is_shared_by_threads():
    store = Store("sqlite://")
    found = []
    worker = threading.Thread(target=lambda: found.append(store.upsert_repository("/x", "x", "/x", None)))
    worker.start()
    worker.join()
    assert store.get_repository(found[0]).source == "/x"


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://host/db"])
def test_bad_url_is_a_one_line_error(url):
    with pytest.raises(StoreError) as error:
        Store(url)
    assert "\n" not in str(error.value)


# --- cache keys --------------------------------------------------------------------------------


def test_cache_key_is_stable_and_sensitive_to_every_part():
    parts = dict(kind="unit", text="def f(): pass", model="fake", adapter=None, prompt="p1", extra={"b": 1, "a": [1, 2]})
    key = cache_key(**parts)
    assert key == cache_key(**dict(reversed(list(parts.items()))))
    assert key == cache_key(**{**parts, "extra": {"a": [1, 2], "b": 1}})
    assert key.startswith("narr:v1:") and len(key) == len("narr:v1:") + 64
    changed = [
        {**parts, "text": "def f(): return 1"},
        {**parts, "model": "other"},
        {**parts, "adapter": "lora@123"},
        {**parts, "prompt": "p2"},
        {**parts, "extra": {"b": 1, "a": [2, 1]}},
        {k: v for k, v in parts.items() if k != "adapter"},
    ]
    keys = {cache_key(**p) for p in changed}
    assert key not in keys and len(keys) == len(changed)
    assert cache_key(text="café") != cache_key(text="cafe")


# --- repositories ------------------------------------------------------------------------------


def test_upsert_repository_updates_in_place(store):
    first = store.upsert_repository("/src/shop", "shop", "/src/shop", "aaa")
    again = store.upsert_repository("/src/shop", "web shop", "/src/shop2", "bbb")
    other = store.upsert_repository("/src/blog", "blog", "/src/blog", None)
    assert first == again != other
    repo = store.find_repository("/src/shop")
    assert (repo.name, repo.local_path, repo.head_sha) == ("web shop", "/src/shop2", "bbb")
    assert [r.name for r in store.list_repositories()] == ["blog", "web shop"]
    assert store.find_repository("/nope") is None and store.get_repository(999) is None
    assert repo.narrated_at is None
    store.mark_narrated(first)
    assert store.get_repository(first).narrated_at.tzinfo is not None


# --- narratives --------------------------------------------------------------------------------


def test_put_narrative_twice_keeps_one_row_and_the_first_text(store, repo_id):
    key = cache_key(kind="unit", text="x")
    store.put_narrative(key, repo_id, "unit", "a.py::f", "h", "fake", None, "p1", "first", {"n": 1})
    store.put_narrative(key, repo_id, "unit", "a.py::f", "h", "fake", None, "p1", "second", {"n": 2})
    assert count(store, Narrative) == 1
    stored = store.get_narrative(key)
    assert (stored.text, stored.flags, stored.created_at.tzinfo) == ("first", {"n": 1}, timezone.utc)
    assert store.get_narrative(cache_key(kind="unit", text="y")) is None


def test_put_narrative_rejects_unknown_kind_and_missing_repository(store, repo_id):
    with pytest.raises(ValueError, match="kind"):
        store.put_narrative("k", repo_id, "poem", "t", "h", "fake", None, "p1", "text")
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        store.put_narrative("k", repo_id + 1, "unit", "t", "h", "fake", None, "p1", "text")
    assert count(store, Narrative) == 0


def test_latest_narratives_returns_the_newest_per_target(store, repo_id):
    other_repo = store.upsert_repository("/src/blog", "blog", "/src/blog", None)
    narrative(store, repo_id, "a.py::f", "old f")
    narrative(store, repo_id, "a.py::g", "only g")
    narrative(store, repo_id, "a.py::f", "new f")
    narrative(store, repo_id, "a.py", "file a", kind="file")
    narrative(store, other_repo, "a.py::f", "blog f")

    latest = store.latest_narratives(repo_id, "unit")
    assert {t: n.text for t, n in latest.items()} == {"a.py::f": "new f", "a.py::g": "only g"}
    assert {t: n.text for t, n in store.latest_narratives(repo_id, "unit", ["a.py::g", "nope"]).items()} == {"a.py::g": "only g"}
    assert store.latest_narratives(repo_id, "unit", []) == {}
    assert list(store.latest_narratives(repo_id, "file")) == ["a.py"]


def test_latest_narratives_with_more_targets_than_one_query_takes(store, repo_id):
    targets = [f"m.py::f{i}" for i in range(1200)]
    with store.session(write=True) as s:
        s.add_all(
            Narrative(key=f"k{i}", repo_id=repo_id, kind="unit", target=t, input_hash="h", model="fake",
                      adapter=None, prompt_version="p1", text=t, flags={})
            for i, t in enumerate(targets)
        )
    latest = store.latest_narratives(repo_id, "unit", targets)
    assert len(latest) == 1200 and latest["m.py::f999"].text == "m.py::f999"


# --- commits -----------------------------------------------------------------------------------


def test_upsert_commits_never_duplicates_and_updates_in_place(store, repo_id):
    rows = [commit_row("c1", T0), commit_row("c2", T0 + timedelta(hours=1))]
    assert store.upsert_commits(repo_id, rows) == 2
    assert store.upsert_commits(repo_id, [commit_row("c1", T0, subject="better words"), commit_row("c3", T0 + timedelta(hours=2))]) == 1
    # Only the keys given change: a later pass that classifies commits keeps everything else.
    assert store.upsert_commits(repo_id, [{"sha": "c2", "category": "feature"}]) == 0
    assert count(store, Commit) == 3
    by_sha = {c.sha: c for c in store.list_commits(repo_id)}
    assert by_sha["c1"].subject == "better words"
    assert (by_sha["c2"].category, by_sha["c2"].subject, by_sha["c2"].files[0]["path"]) == ("feature", "subject c2", "shop/a.py")


def test_upsert_commits_rejects_bad_rows(store, repo_id):
    with pytest.raises(ValueError, match="colour"):
        store.upsert_commits(repo_id, [commit_row("c1", T0, colour="red")])
    with pytest.raises(ValueError, match="date"):
        store.upsert_commits(repo_id, [{"sha": "c9", "subject": "no date"}])
    assert count(store, Commit) == 0


def test_commit_dates_come_back_tz_aware_and_the_same_instant(store, repo_id):
    plus_five = timezone(timedelta(hours=5, minutes=30))
    authored = datetime(2026, 11, 21, 23, 45, 12, 345678, tzinfo=plus_five)
    store.upsert_commits(repo_id, [commit_row("c1", authored)])
    (commit,) = store.list_commits(repo_id)
    assert commit.date == authored and commit.date.tzinfo == timezone.utc
    assert commit.date.hour == 18  # 23:45 at +05:30 is 18:15 UTC


def test_list_commits_filters_and_orders_newest_first(store, repo_id):
    store.upsert_commits(repo_id, [
        commit_row("mon", T0, author="Ada", area="shop", category="fix"),
        commit_row("tue", T0 + timedelta(days=1), author="Grace", area="docs", category="docs"),
        commit_row("wed", T0 + timedelta(days=2), author="Ada", area="docs", category="feature"),
        commit_row("next-mon", T0 + timedelta(days=7), author="Grace", area="shop", category="fix"),
    ])

    def shas(**filters):
        return [c.sha for c in store.list_commits(repo_id, **filters)]

    assert shas() == ["next-mon", "wed", "tue", "mon"]
    assert shas(since=T0 + timedelta(days=1)) == ["next-mon", "wed", "tue"]
    # until is exclusive, so consecutive weeks never count a commit twice
    assert shas(since=T0, until=T0 + timedelta(days=7)) == ["wed", "tue", "mon"]
    assert shas(since=T0 + timedelta(days=7), until=T0 + timedelta(days=14)) == ["next-mon"]
    # another time zone names the same instant
    assert shas(until=(T0 + timedelta(days=1)).astimezone(timezone(timedelta(hours=-8)))) == ["mon"]
    assert shas(author="Ada") == ["wed", "mon"]
    assert shas(author="ada") == []
    assert shas(folder="docs") == ["wed", "tue"]
    assert shas(category="fix") == ["next-mon", "mon"]
    assert shas(author="Grace", folder="shop", since=T0 + timedelta(days=3)) == ["next-mon"]
    assert shas(limit=2) == ["next-mon", "wed"]
    assert store.list_commits(repo_id + 1) == []


# --- units -------------------------------------------------------------------------------------


def test_replace_units_updates_adds_and_removes(store, repo_id):
    def unit(path, name, start, **extra):
        return dict(path=path, name=name, kind="function", start_line=start, end_line=start + 3, module="shop", **extra)

    store.replace_units(repo_id, [unit("shop/a.py", "f", 1), unit("shop/a.py", "g", 10), unit("shop/b.py", "h", 1)])
    ids = {u.unit_id: u.id for u in store.list_units(repo_id)}
    store.replace_units(repo_id, [
        unit("shop/a.py", "f", 5, input_hash="new"),
        unit("shop/a.py", "f", 50),  # an overload: the first occurrence wins
        unit("shop/c.py", "k", 1),
    ])
    units = store.list_units(repo_id)
    assert [u.unit_id for u in units] == ["shop/a.py::f", "shop/c.py::k"]
    assert units[0].id == ids["shop/a.py::f"] and (units[0].start_line, units[0].input_hash) == (5, "new")
    with pytest.raises(ValueError, match="colour"):
        store.replace_units(repo_id, [unit("x.py", "f", 1, colour="red")])


# --- jobs --------------------------------------------------------------------------------------


def test_job_lifecycle(store, repo_id):
    job_id = store.create_job(repo_id, "narrate", {"limit": 10})
    job = store.get_job(job_id)
    assert (job.status, job.params, job.started_at, job.progress, job.is_active) == ("queued", {"limit": 10}, None, None, True)
    assert store.active_job(repo_id).id == job_id

    job = store.update_job(job_id, status="running", pid=os.getpid(), total=4, message="reading files")
    assert job.started_at is not None and job.finished_at is None
    job = store.update_job(job_id, done=3)
    assert job.progress == 0.75 and job.message == "reading files" and job.updated_at >= job.started_at

    job = store.update_job(job_id, status="done", done=4)
    assert job.finished_at is not None and not job.is_active
    assert store.active_job(repo_id) is None

    second = store.create_job(repo_id, "narrate", {})
    assert [j.id for j in store.list_jobs(repo_id)] == [second, job_id]
    assert store.list_jobs(repo_id + 1) == [] and len(store.list_jobs()) == 2
    with pytest.raises(ValueError, match="status"):
        store.update_job(second, status="paused")
    with pytest.raises(ValueError, match="colour"):
        store.update_job(second, colour="red")
    with pytest.raises(LookupError):
        store.update_job(12345, done=1)


def test_many_jobs_are_read_in_one_call_and_unknown_ids_are_left_out(store, repo_id):
    first, second = store.create_job(repo_id, "narrate"), store.create_job(repo_id, "narrate")
    store.update_job(second, status="running", done=2, total=5)
    rows = store.get_jobs([first, second, 999])
    assert set(rows) == {first, second}
    assert rows[second] == store.get_job(second) and rows[first].status == "queued"


def test_running_jobs_of_dead_processes_become_interrupted(store, repo_id):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # exits but is never reaped
    deadline = time.monotonic() + 20
    while not _is_zombie(zombie.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    crashed = store.create_job(repo_id, "narrate", {})
    unreaped = store.create_job(repo_id, "narrate", {})
    alive = store.create_job(repo_id, "narrate", {})
    queued = store.create_job(repo_id, "narrate", {})
    store.update_job(crashed, status="running", pid=gone.pid, message="3 of 9")
    store.update_job(unreaped, status="running", pid=zombie.pid)
    store.update_job(alive, status="running", pid=os.getpid())

    assert sorted(store.mark_stale_jobs()) == [crashed, unreaped]
    assert [store.get_job(j).status for j in (crashed, unreaped, alive, queued)] == ["interrupted", "interrupted", "running", "queued"]
    assert store.get_job(crashed).message.startswith("3 of 9") and store.get_job(crashed).finished_at is not None
    assert store.mark_stale_jobs(is_alive=lambda pid: True) == []
    assert store.mark_stale_jobs(is_alive=lambda pid: False) == [alive]
    zombie.wait()


def test_a_job_run_on_another_machine_is_never_judged_by_this_one(store, repo_id):
    from db.jobs import this_host

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    elsewhere = store.create_job(repo_id, "narrate", {})
    here = store.create_job(repo_id, "narrate", {})
    store.update_job(elsewhere, status="running", pid=gone.pid, host="worker-7.internal")  # a queue worker elsewhere
    store.update_job(here, status="running", pid=gone.pid, host=this_host())
    assert store.mark_stale_jobs() == [here]
    assert store.get_job(elsewhere).status == "running" and store.get_job(elsewhere).host == "worker-7.internal"


def _is_zombie(pid: int) -> bool:
    # The child has exited but nobody waited for it; pid_alive must not count it as running.
    return not pid_alive(pid)


# --- two writers on one file ---------------------------------------------------------------------


def _writer_process(url: str, worker: int, start, errors) -> None:
    try:
        start.wait(timeout=30)
        store = Store(url)  # every process migrates the fresh file at the same moment
        repo_id = store.upsert_repository("/src/shared", "shared", "/src/shared", None)
        job_id = store.create_job(repo_id, "narrate", {"worker": worker})
        for i in range(40):
            narrative(store, repo_id, f"w{worker}.py::f{i}", f"text {i}")
            narrative(store, repo_id, f"shared.py::f{i}", "same text")  # same key from every process
            store.update_job(job_id, done=i + 1)
        store.upsert_commits(repo_id, [commit_row(f"c{i}", T0 + timedelta(minutes=i)) for i in range(20)])
        store.close()
    except BaseException as exc:  # report, so the parent can show it
        errors.put(f"worker {worker}: {type(exc).__name__}: {exc}")
        raise


def test_processes_migrate_and_write_one_sqlite_file_at_once(tmp_path):
    url = sqlite_url(tmp_path / "shared.db")
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    start, errors = ctx.Barrier(3), ctx.Queue()
    workers = [ctx.Process(target=_writer_process, args=(url, w, start, errors)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    problems = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert problems == [] and [w.exitcode for w in workers] == [0, 0, 0]

    store = Store(url)
    try:
        (repo,) = store.list_repositories()
        assert count(store, Narrative) == 3 * 40 + 40
        assert count(store, Commit) == 20
        assert sorted(j.done for j in store.list_jobs(repo.id)) == [40, 40, 40]
    finally:
        store.close()


def _write_in_forked_child(store: Store, repo_id: int, errors) -> None:
    try:
        # The parent's pooled SQLite connection must not be shared; the child opens its own.
        assert store.engine.pool.checkedin() == 0, "the child inherited the parent's pooled connections"
        narrative(store, repo_id, "child.py::f", "from the child")
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_worker_can_use_the_store_it_inherited(store, repo_id):
    narrative(store, repo_id, "parent.py::f", "before")  # the pool now holds an open connection
    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()
    child = ctx.Process(target=_write_in_forked_child, args=(store, repo_id, errors))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, errors.get(timeout=1) if not errors.empty() else "child failed"
    narrative(store, repo_id, "parent.py::g", "after")
    assert set(store.latest_narratives(repo_id, "unit")) == {"parent.py::f", "child.py::f", "parent.py::g"}


def test_threads_write_through_one_store(store, repo_id):
    failures = []

    def write(worker: int) -> None:
        try:
            for i in range(25):
                narrative(store, repo_id, f"t{worker}.py::f{i}", "text")
                narrative(store, repo_id, f"shared.py::f{i}", "text")
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and count(store, Narrative) == 4 * 25 + 25


# --- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_server():
    """A throw-away PostgreSQL cluster on a Unix socket (tests/helpers/postgres.py); yields ``url(dbname)``."""
    with running_postgres() as url:
        yield url


def test_postgresql_migrates_and_behaves_like_sqlite(postgres_server):
    url = postgres_server("narrator")
    store = Store(url)
    try:
        assert TABLES <= set(inspect(store.engine).get_table_names())
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
        repo_id = store.upsert_repository("/src/shop", "shop", "/src/shop", None)
        narrative(store, repo_id, "a.py::f", "old")
        key = narrative(store, repo_id, "a.py::f", "new")
        store.put_narrative(key, repo_id, "unit", "a.py::f", "h", "fake", None, "p1", "again")
        assert count(store, Narrative) == 2
        assert store.latest_narratives(repo_id, "unit")["a.py::f"].text == "new"
        authored = datetime(2026, 11, 21, 23, 45, tzinfo=timezone(timedelta(hours=-7)))
        store.upsert_commits(repo_id, [commit_row("c1", authored)])
        store.upsert_commits(repo_id, [{"sha": "c1", "category": "feature"}])
        (commit,) = store.list_commits(repo_id, since=authored, category="feature")
        assert commit.date == authored and commit.date.tzinfo == timezone.utc
        job_id = store.create_job(repo_id, "narrate", {"a": 1})
        store.update_job(job_id, status="running", pid=os.getpid())
        assert store.active_job(repo_id).id == job_id
    finally:
        store.close()
    Store(url).close()  # a second open finds the schema at head


def test_a_plain_postgresql_url_uses_the_installed_driver(postgres_server):
    url = postgres_server("narrator_plain")
    for plain in (url.replace("postgresql+psycopg2://", "postgresql://"), url.replace("postgresql+psycopg2://", "postgres://")):
        store = Store(plain)
        try:
            assert store.engine.dialect.driver == "psycopg2"
            assert store.upsert_repository("/src", "src", "/src", None) == 1
        finally:
            store.close()


def test_postgresql_concurrent_first_opens_migrate_once(postgres_server):
    url = postgres_server("narrator_race")
    start, stores, failures = threading.Barrier(3), [], []

    def open_store() -> None:
        start.wait()
        try:
            stores.append(Store(url))
        except Exception as exc:
            failures.append(exc)

    # daemon + timeout: a migration deadlock fails the test instead of hanging the run
    threads = [threading.Thread(target=open_store, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == [] and len(stores) == 3
    with stores[0].engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    for s in stores:
        s.close()


def test_latest_narratives_prefers_the_current_model(tmp_path):
    from db.store import Store

    store = Store(f"sqlite:///{tmp_path}/prefer.db")
    repo_id = store.upsert_repository("/src", "src", "/src", "abc")
    common = dict(repo_id=repo_id, kind="commit", target="sha1", input_hash="h", prompt_version="v", flags={})
    store.put_narrative(key="k1", model="m", adapter="a1", text="by a1", **common)
    store.put_narrative(key="k2", model="m", adapter="a2", text="by a2", **common)
    assert store.latest_narratives(repo_id, "commit")["sha1"].text == "by a2"
    preferred = store.latest_narratives(repo_id, "commit", prefer={"model": "m", "adapter": "a1"})
    assert preferred["sha1"].text == "by a1"
    nothing_matches = store.latest_narratives(repo_id, "commit", prefer={"model": "other"})
    assert nothing_matches["sha1"].text == "by a2"


# --- one training run at a time ------------------------------------------------------------------


def _start_training(url: str, ready, done, results) -> None:
    """A process that starts a training run the moment all its siblings are ready, then waits for them."""
    store = Store(url)
    try:
        ready.wait(timeout=60)
        try:
            results.put(("started", store.create_training_run("race", {}, pid=os.getpid())))
        except TrainingBusy as busy:
            results.put(("refused", str(busy)))
        except BaseException as error:  # said, so that the test fails at once with the reason
            results.put(("failed", repr(error)))
        done.wait(timeout=60)  # alive until every sibling has tried: a live run is never stale
    finally:
        store.close()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_five_training_starts_at_the_same_moment_start_one_run(database, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'race.db'}" if database == "sqlite" else request.getfixturevalue("postgres_server")("race")
    Store(url).close()  # migrated before the race: the race is for the run, not the schema
    ctx = multiprocessing.get_context("spawn")
    ready, done, results = ctx.Barrier(5), ctx.Event(), ctx.Queue()
    starters = [ctx.Process(target=_start_training, args=(url, ready, done, results)) for _ in range(5)]
    for starter in starters:
        starter.start()
    outcomes = [results.get(timeout=120) for _ in starters]
    done.set()
    for starter in starters:
        starter.join(timeout=60)
    [run_id] = [value for what, value in outcomes if what == "started"]
    assert [value for what, value in outcomes if what == "refused"] == [
        f"A training run is already running (run {run_id}); wait for it or cancel it on the Admin page."] * 4
    store = Store(url)
    try:
        assert [r.id for r in store.list_training_runs()] == [run_id]
    finally:
        store.close()


def test_a_finished_failed_or_dead_run_frees_training_for_the_next(store):
    first = active = store.create_training_run("first", {}, pid=os.getpid())
    with pytest.raises(TrainingBusy, match=rf"already running \(run {first}\)"):
        store.create_training_run("second", {})
    for status in ("done", "failed", "interrupted", "cancelled"):
        store.finish_job(store.get_training_run(active).job_id, status)
        active = store.create_training_run(f"after {status}", {})  # queued: active too
    with pytest.raises(TrainingBusy, match=rf"already running \(run {active}\)"):
        store.resume_training_run(first, 0, os.getpid())  # resuming is starting
    store.finish_job(store.get_training_run(active).job_id, "done")
    gone = subprocess.Popen(["true"])
    gone.wait()
    crashed = store.create_training_run("crashed", {}, pid=gone.pid)  # killed without a word
    after = store.create_training_run("after the crash", {})
    assert store.get_training_run(crashed).job.status == "interrupted"
    assert store.active_training_run() == after


def _briefing_reads(store: Store) -> None:
    """What the briefing asks the database (``NarratorService._window``): every release candidate
    and the date of the n-th newest change, in ``list_commits``' order, merges and left-behind
    commits left out."""
    repo_id = store.upsert_repository("/src/briefing", "briefing", "/src/briefing", None)
    store.upsert_commits(repo_id, [
        commit_row("r1", T0, details={"version": "1.0.0", "tags": ["v1.0.0"]}),
        commit_row("c1", T0 + timedelta(hours=1), details={"version": None, "tags": []}),
        commit_row("t2", T0 + timedelta(hours=2), details={"version": None, "tags": ["v1.1.0"]}),
        commit_row("m1", T0 + timedelta(hours=3), is_merge=True, details={"version": None, "tags": []}),
        commit_row("c2", T0 + timedelta(hours=4)),
        commit_row("v3", T0 + timedelta(hours=5), details={"version": "1.2.0", "tags": []}, reachable=False),
    ])
    assert [c.sha for c in store.release_candidates(repo_id)] == ["t2", "r1"]  # v3: left behind by a rewrite
    until = T0 + timedelta(hours=4, minutes=30)
    assert store.nth_change_date(repo_id, 1, until) == T0 + timedelta(hours=4)
    assert store.nth_change_date(repo_id, 2, until) == T0 + timedelta(hours=2)  # the merge is not a change
    assert store.nth_change_date(repo_id, 5, until) is None


def test_the_briefings_reads_on_sqlite(store):
    _briefing_reads(store)


def test_the_briefings_reads_on_postgresql(postgres_server):
    store = Store(postgres_server("narrator_briefing"))
    try:
        _briefing_reads(store)
    finally:
        store.close()
