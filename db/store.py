"""The narrative cache: one ``Store`` per database, and the only place that opens sessions.

``Store(url)`` connects to any SQLAlchemy URL (a SQLite file by default, PostgreSQL works too),
brings the schema to the newest Alembic revision, and offers small methods that take and return
plain values (the frozen rows of ``db.rows``), so callers never hold a session or a lazy object.

Two processes share one SQLite file: the dashboard and a background worker. Three things keep
them from tripping over each other:

* every connection runs in WAL mode (``synchronous = NORMAL``: a crash loses no commit) with a
  30 s ``busy_timeout``, so readers never block the writer and a writer waits for another writer
  instead of failing with "database is locked";
* write sessions start with ``BEGIN IMMEDIATE``. A deferred transaction that reads first and
  then writes cannot wait for the lock (SQLite answers "database is locked" at once when the
  snapshot it read is stale), so writers take the write lock up front;
* migrations run inside one such write transaction (an advisory lock on PostgreSQL), so a second
  process opening a fresh database waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from db.accounts import AccountRecords
from db.commits import CommitRecords
from db.errors import StoreError, first_line
from db.jobs import JobRecords
from db.locks import file_lock
from db.narratives import NarrativeRecords
from db.repositories import RepositoryRecords
from db.subscriptions import SubscriptionRecords
from db.training import TrainingRecords
from db.units import UnitRecords

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30
# Any constant works; it only has to be the same in every process migrating one PostgreSQL db.
_PG_MIGRATION_LOCK = 7_306_120_517
# Execution option read by the SQLite "begin" hook: write sessions take the write lock up front.
_IMMEDIATE = "narrator_begin_immediate"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` without any alembic.ini.

    Config values go through ConfigParser interpolation, so a literal '%' (URL-escaped passwords,
    odd folder names) must be doubled.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; SQLite gets its folder created and WAL, foreign keys and a busy timeout."""
    url = database_url(url)
    if not url.drivername.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)

    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if in_memory:
        # One shared connection, so the migrated schema is what every session (and thread) sees.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Stop the sqlite3 module from managing transactions itself (it never BEGINs before DDL or
        # SELECT); the "begin" hook below emits BEGIN, so migrations really run in one transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL needs a lock that another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode, NORMAL syncs at checkpoints, not at each commit: a process that crashes or is
        # killed loses nothing committed; only a power cut may undo the last commits, never corrupt
        # the file (a narration then redoes them). A whole-history pass commits hundreds of times.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _forget_pool_in_forked_children(engine: Engine) -> None:
    """A forked worker must not reuse the parent's pooled connections (two processes on one
    SQLite handle corrupt each other); the child drops them unclosed and opens its own."""
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(engine)

    def in_child() -> None:
        engine = ref()
        if engine is not None:
            engine.dispose(close=False)

    os.register_at_fork(after_in_child=in_child)


def _reason(exc: BaseException) -> str:
    """What went wrong, in words a user can act on, without SQLAlchemy's SQL and links."""
    reason = first_line(getattr(exc, "orig", None) or exc)
    lowered = reason.lower()
    if "file is not a database" in lowered or "malformed" in lowered:
        return f"the file is damaged or not a database ({reason})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"it is read-only ({reason})"
    if "unable to open database file" in lowered:
        return f"its file cannot be opened or created ({reason}); check the folder exists and is writable"
    return reason


def database_url(url: str | URL) -> URL:
    """``url`` parsed; a plain ``postgresql://`` (or ``postgres://``) URL gets the installed driver.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3, while this project ships psycopg2.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"Not a database URL: {str(url)!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


@contextmanager
def _creation_lock(url: URL) -> Iterator[None]:
    """Serialise opening (and so creating and migrating) one SQLite file across processes.

    The lock file sits beside the database; where it cannot be made (a read-only folder) nobody
    can create the database there either, so opening goes on unlocked and reports what SQLite says.
    """
    database = url.database or ""
    if not url.drivername.startswith("sqlite") or database in ("", ":memory:") or database.startswith("file:"):
        yield
        return
    path = Path(database).expanduser()
    with ExitStack() as stack:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(file_lock(path.with_name(path.name + ".lock")))
        except OSError:
            pass
        yield


class Store(RepositoryRecords, NarrativeRecords, CommitRecords, UnitRecords, JobRecords, TrainingRecords,
            SubscriptionRecords, AccountRecords):
    """The narrative cache behind one database URL; schema migrated to head on open.

    Its methods live by table, one module each (``db/repositories.py``, ``db/narratives.py``,
    ``db/commits.py``, ``db/units.py``, ``db/jobs.py``, ``db/training.py``); this class opens the
    database and the sessions they run in. ``JobRecords`` comes before ``TrainingRecords``, whose
    ``mark_stale_jobs`` is only a stand-in for it.
    """

    def __init__(self, url: str) -> None:
        parsed = database_url(url)
        self.url = parsed
        self.shown = parsed.render_as_string(hide_password=True)
        try:
            # Two processes creating one fresh SQLite file at once: the second waits here until the
            # first has switched it to WAL and migrated it (SQLite alone answers "database is locked").
            with _creation_lock(parsed):
                self.engine = make_engine(parsed)
                # Same pool, but sessions bound here start SQLite transactions with BEGIN IMMEDIATE.
                self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
                _forget_pool_in_forked_children(self.engine)
                self._migrate()
        except StoreError:
            raise
        except (SQLAlchemyError, ImportError, OSError) as exc:
            raise StoreError(f"Could not open the database {self.shown}: {_reason(exc)}") from exc

    def _migrate(self) -> None:
        config = alembic_config(self.url.render_as_string(hide_password=False))
        script = ScriptDirectory.from_config(config)
        heads = set(script.get_heads())
        known = {revision.revision for revision in script.walk_revisions()}
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        if current - known:
            raise StoreError(
                f"The database {self.shown} was written by a newer version of Code Narrator (schema "
                f"{', '.join(sorted(current - known))}); upgrade Code Narrator or use another database.")
        if current == heads:
            return  # already at head: no write lock needed
        with self._writer.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            # env.py migrates on this connection, inside this transaction, then we commit.
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        """Return every pooled connection; the Store must not be used afterwards."""
        self.engine.dispose()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error.

        Pass ``write=True`` when the session writes: on SQLite it takes the write lock at BEGIN
        (see the module docstring). Objects stay readable after the block (no expiry on commit).
        """
        try:
            with Session(self._writer if write else self.engine, expire_on_commit=False) as session:
                with session.begin():
                    yield session
        except IntegrityError:
            raise  # a race between processes that callers resolve themselves
        except DBAPIError as exc:
            # Damaged, read-only or locked: one line, and no SQL or file contents in it.
            raise StoreError(f"The database {self.shown} could not be {'written' if write else 'read'}: "
                             f"{_reason(exc)}") from exc


def open_store(url: str) -> Store:
    """The Store for ``url``, migrated to the newest schema."""
    return Store(url)
