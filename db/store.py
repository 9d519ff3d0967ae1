"""The narrative cache: one ``Store`` per database, and the only place that opens sessions.

``Store(url)`` connects to any SQLAlchemy URL (a SQLite file by default, PostgreSQL works too),
brings the schema to the newest Alembic revision, and offers small methods that take and return
plain values (the frozen rows of ``db.models``), so callers never hold a session or a lazy object.

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

import hashlib
import json
import os
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import psutil
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, and_, create_engine, delete, event, false, func, insert, or_, select, text, true, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from db.errors import StoreError, first_line
from db.locks import file_lock
from db.models import (
    ACTIVE_JOB_STATUSES,
    FINISHED_JOB_STATUSES,
    JOB_STATUSES,
    NARRATIVE_KINDS,
    SOURCES,
    Commit,
    CommitRow,
    Job,
    JobRow,
    Narrative,
    NarrativeRow,
    Repository,
    RepositoryRow,
    Unit,
    UnitRow,
    to_row,
    utc_now,
)
from db.training import TrainingRecords

CACHE_KEY_TAG = "narr:v1:"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30
# Any constant works; it only has to be the same in every process migrating one PostgreSQL db.
_PG_MIGRATION_LOCK = 7_306_120_517
# Execution option read by the SQLite "begin" hook: write sessions take the write lock up front.
_IMMEDIATE = "narrator_begin_immediate"
# Bound parameters per IN (...) list; SQLite's limit is far higher, this keeps statements small.
_CHUNK = 500
# A sha prefix: only these characters, so none is a LIKE wildcard.
_HEX = re.compile(r"[0-9a-f]{1,40}")

COMMIT_FIELDS = frozenset(c.name for c in Commit.__table__.columns) - {"id", "repo_id"}
UNIT_FIELDS = frozenset(c.name for c in Unit.__table__.columns) - {"id", "repo_id"}
JOB_UPDATE_FIELDS = frozenset({"status", "params", "done", "total", "message", "error", "pid"})


def cache_key(**parts: Any) -> str:
    """Tagged sha256 of the canonical JSON of ``parts``: same parts, same key; any change, new key.

    Pass everything that changes the output (input text or its hash, model, adapter, prompt
    version, kind, target). Values must be JSON-serialisable.
    """
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return CACHE_KEY_TAG + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs on this machine (a zombie, i.e. an unreaped dead child, does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # exists, owned by someone else
        return True


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


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _commit_filter(query, repo_id: int, since, until, author, folder, category):
    """``query`` narrowed to one repository's commits that its branch still reaches, and the filters given.

    A commit left behind by a reset, an amend, a rebase or a force-push keeps its row (its narratives
    serve the cache) but no longer counts anywhere.
    """
    query = query.where(Commit.repo_id == repo_id, Commit.reachable == true())
    for wanted, condition in ((since, lambda: Commit.date >= since), (until, lambda: Commit.date < until),
                              (author, lambda: Commit.author == author), (folder, lambda: Commit.area == folder),
                              (category, lambda: Commit.category == category)):
        if wanted is not None:
            query = query.where(condition())
    return query


def _check_fields(row: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(f"Unknown {what} field(s): {', '.join(sorted(unknown))}")


class ChartChange(NamedTuple):
    """A change as ``Store.chart_changes`` reads it: what the charts count it by (``narrator.insights.history``)."""

    sha: str
    date: datetime
    area: str
    category: str | None
    added: int
    removed: int


class Store(TrainingRecords):
    """The narrative cache behind one database URL; schema migrated to head on open."""

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

    # --- repositories -------------------------------------------------------------------------

    def upsert_repository(self, source: str, name: str, local_path: str, head_sha: str | None,
                          shallow: bool = False) -> int:
        """Id of the repository with ``source``, added or updated in place."""
        for attempt in range(2):
            try:
                with self.session(write=True) as s:
                    repo = s.scalar(select(Repository).where(Repository.source == source))
                    if repo is None:
                        repo = Repository(source=source, name=name, local_path=local_path, head_sha=head_sha,
                                          shallow=shallow)
                        s.add(repo)
                    else:
                        repo.name, repo.local_path, repo.head_sha, repo.shallow = name, local_path, head_sha, shallow
                    s.flush()
                    return repo.id
            except IntegrityError:
                if attempt:  # another process inserted the same source between our check and insert
                    raise
        raise AssertionError("unreachable")

    def mark_narrated(self, repo_id: int, when: datetime | None = None) -> None:
        """Record that narration stored the repository's facts and people's words (now, unless ``when``
        is given): at its first look, before any model call, and again when it finished."""
        with self.session(write=True) as s:
            repo = s.get(Repository, repo_id)
            if repo is None:
                raise LookupError(f"No repository with id {repo_id}")
            repo.narrated_at = when or utc_now()

    def get_repository(self, repo_id: int) -> RepositoryRow | None:
        with self.session() as s:
            repo = s.get(Repository, repo_id)
            return None if repo is None else to_row(RepositoryRow, repo)

    def find_repository(self, source: str) -> RepositoryRow | None:
        with self.session() as s:
            repo = s.scalar(select(Repository).where(Repository.source == source))
            return None if repo is None else to_row(RepositoryRow, repo)

    def list_repositories(self) -> list[RepositoryRow]:
        """All repositories by name."""
        with self.session() as s:
            repos = s.scalars(select(Repository).order_by(Repository.name, Repository.id))
            return [to_row(RepositoryRow, r) for r in repos]

    # --- narratives (the cache) ----------------------------------------------------------------

    def get_narrative(self, key: str, repo_id: int | None = None) -> NarrativeRow | None:
        """The narrative stored under ``key`` for ``repo_id``; with no repository, the oldest row
        of any repository (a model answer that another repository can reuse)."""
        query = select(Narrative).where(Narrative.key == key)
        if repo_id is not None:
            query = query.where(Narrative.repo_id == repo_id)
        with self.session() as s:
            narrative = s.scalar(query.order_by(Narrative.id).limit(1))
            return None if narrative is None else to_row(NarrativeRow, narrative)

    def put_narrative(
        self,
        key: str,
        repo_id: int,
        kind: str,
        target: str,
        input_hash: str,
        model: str,
        adapter: str | None,
        prompt_version: str,
        text: str,
        flags: Any = None,
        source: str = "model",
    ) -> None:
        """Store a narrative under ``key`` for ``repo_id``; a key the repository already has is left
        as it is (no error). Another repository's row under the same key is a separate row.

        Idempotent so that a job resumed after a crash can simply redo its last batch.
        """
        if kind not in NARRATIVE_KINDS:
            raise ValueError(f"Unknown narrative kind {kind!r}; expected one of {', '.join(NARRATIVE_KINDS)}")
        if source not in SOURCES:
            raise ValueError(f"Unknown narrative source {source!r}; expected one of {', '.join(SOURCES)}")
        try:
            with self.session(write=True) as s:
                if s.scalar(select(Narrative.id).where(Narrative.key == key, Narrative.repo_id == repo_id)) is not None:
                    return
                s.add(
                    Narrative(
                        key=key, repo_id=repo_id, kind=kind, target=target, input_hash=input_hash,
                        model=model, adapter=adapter, prompt_version=prompt_version, text=text,
                        flags={} if flags is None else flags, source=source,
                    )
                )
        except IntegrityError:
            # PostgreSQL: another process stored the same key after our check. Anything else
            # (a missing repository) is a real error.
            if self.get_narrative(key, repo_id) is None:
                raise

    def set_input_hash(self, key: str, repo_id: int, input_hash: str) -> None:
        """Record that the narrative under ``key`` is current for the input hashed ``input_hash``."""
        with self.session(write=True) as s:
            narrative = s.scalar(select(Narrative).where(Narrative.key == key, Narrative.repo_id == repo_id))
            if narrative is not None:
                narrative.input_hash = input_hash

    def count_narratives(self, repo_id: int) -> int:
        """How many narratives are stored for a repository (all kinds, all models)."""
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(Narrative).where(Narrative.repo_id == repo_id)) or 0

    def latest_narratives(
        self, repo_id: int, kind: str, targets: Iterable[str] | None = None,
        prefer: Mapping[str, Any] | None = None,
    ) -> dict[str, NarrativeRow]:
        """The newest narrative of ``kind`` per target (all targets, or only ``targets``).

        With ``prefer`` (column -> value, e.g. the current model and adapter), a target's newest
        narrative matching those values wins over a newer one that does not: after switching back to
        an adapter, its cached narratives count again.
        """
        found = self._newest(repo_id, kind, targets, {})
        if prefer:
            found.update(self._newest(repo_id, kind, targets, prefer))
        return found

    def _newest(self, repo_id: int, kind: str, targets: Iterable[str] | None,
                where: Mapping[str, Any]) -> dict[str, NarrativeRow]:
        wanted = None if targets is None else sorted(set(targets))
        found: dict[str, NarrativeRow] = {}
        with self.session() as s:
            for chunk in [None] if wanted is None else _chunks(wanted):
                # Ids grow with insertion, so the highest id per target is its newest narrative.
                newest = select(func.max(Narrative.id)).where(
                    Narrative.repo_id == repo_id, Narrative.kind == kind,
                    *(getattr(Narrative, column) == value for column, value in where.items()),
                )
                if chunk is not None:
                    newest = newest.where(Narrative.target.in_(chunk))
                newest = newest.group_by(Narrative.target)
                for narrative in s.scalars(select(Narrative).where(Narrative.id.in_(newest))):
                    found[narrative.target] = to_row(NarrativeRow, narrative)
        return found

    # --- commits -------------------------------------------------------------------------------

    def upsert_commits(self, repo_id: int, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add or update commits by sha; returns how many were new.

        Each row is a dict of ``Commit`` columns and needs ``sha`` (and ``date`` when new). For a
        stored commit only the keys given change, so a later pass that adds ``category`` keeps
        everything else.
        """
        by_sha: dict[str, dict[str, Any]] = {}
        for row in rows:
            if not COMMIT_FIELDS.issuperset(row):
                _check_fields(row, COMMIT_FIELDS, "commit")
            if not row.get("sha"):
                raise ValueError("Every commit row needs a 'sha'")
            by_sha.setdefault(row["sha"], {}).update(row)
        if not by_sha:
            return 0
        new = 0
        with self.session(write=True) as s:
            existing: dict[str, Commit] = {}
            for chunk in _chunks(list(by_sha)):
                query = select(Commit).where(Commit.repo_id == repo_id, Commit.sha.in_(chunk))
                existing.update((c.sha, c) for c in s.scalars(query))
            added: dict[frozenset[str], list[dict[str, Any]]] = {}
            for sha, data in by_sha.items():
                commit = existing.get(sha)
                if commit is None:
                    if data.get("date") is None:
                        raise ValueError(f"New commit {sha} needs a 'date'")
                    added.setdefault(frozenset(data), []).append({**data, "repo_id": repo_id})
                    new += 1
                else:
                    for name, value in data.items():
                        setattr(commit, name, value)
            # One executemany INSERT per set of columns, past the ORM: a whole history is thousands of rows.
            for batch in added.values():
                s.execute(insert(Commit.__table__), batch)
            # Readers that keep a copy of the history (the service's charts) compare this number.
            s.execute(update(Repository).where(Repository.id == repo_id)
                      .values(history_version=Repository.history_version + 1))
        return new

    def commit_shas(self, repo_id: int) -> set[str]:
        """The sha of every commit of the repository's history (the rows its branch still reaches)."""
        with self.session() as s:
            return set(s.scalars(select(Commit.sha).where(Commit.repo_id == repo_id, Commit.reachable == true())))

    def commit_order(self, repo_id: int) -> dict[str, tuple[int, bool]]:
        """Every stored commit of the repository, reachable or not, by sha: ``(seq, reachable)``."""
        query = select(Commit.sha, Commit.seq, Commit.reachable).where(Commit.repo_id == repo_id)
        with self.session() as s:
            return {sha: (seq or 0, bool(reachable)) for sha, seq, reachable in s.execute(query)}

    def set_history_order(self, repo_id: int, seq_by_sha: Mapping[str, int], complete: bool) -> int:
        """Mark the stored commits in ``seq_by_sha`` reachable, with that place in git's order;
        with ``complete`` (it holds the whole history) every other one unreachable. Returns how
        many rows changed; only those are written.
        """
        with self.session(write=True) as s:
            changes = []
            query = select(Commit.id, Commit.sha, Commit.seq, Commit.reachable).where(Commit.repo_id == repo_id)
            # The whole history: every row is read; a fast-forward: only the rows of the new commits.
            for chunk in ([None] if complete else _chunks(list(seq_by_sha))):
                for id_, sha, seq, reachable in s.execute(query if chunk is None else query.where(Commit.sha.in_(chunk))):
                    wanted = (seq_by_sha[sha], True) if sha in seq_by_sha else (seq, False)
                    if (seq, bool(reachable)) != wanted:
                        changes.append({"id": id_, "seq": wanted[0], "reachable": wanted[1]})
            for chunk in _chunks(changes):
                s.execute(update(Commit), list(chunk))  # executemany by primary key
            if changes:
                s.execute(update(Repository).where(Repository.id == repo_id)
                          .values(history_version=Repository.history_version + 1))
        return len(changes)

    def stored_tags(self, repo_id: int, shas: Iterable[str], category: str = "release") -> dict[str, list[str]]:
        """The tags stored in ``details`` of the reachable commits among ``shas`` and of every
        reachable commit of ``category``, by sha (where a tag was added, moved or removed)."""
        found: dict[str, list[str]] = {}
        query = select(Commit.sha, Commit.details).where(Commit.repo_id == repo_id, Commit.reachable == true())
        with self.session() as s:
            for chunk in [None, *_chunks(sorted(set(shas)))]:
                condition = Commit.category == category if chunk is None else Commit.sha.in_(chunk)
                for sha, details in s.execute(query.where(condition)):
                    found[sha] = list((details or {}).get("tags") or [])
        return found

    def list_commits(
        self,
        repo_id: int,
        since: datetime | None = None,
        until: datetime | None = None,
        author: str | None = None,
        folder: str | None = None,
        category: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CommitRow]:
        """Commits newest first, with ``since <= date < until`` (half-open, so weekly periods tile).

        Commits of one moment come in git's order (``seq``), so the newest listed is the branch's head.

        ``author`` matches the author name exactly, ``folder`` the commit's area, ``category`` its
        category. Naive datetimes are taken as UTC. ``limit`` and ``offset`` page through them in the
        database, so a page of a long history reads one page of rows.
        """
        query = _commit_filter(select(Commit), repo_id, since, until, author, folder, category)
        query = query.order_by(Commit.date.desc(), Commit.seq.desc(), Commit.id.desc()).limit(limit)
        if offset:
            query = query.offset(offset)
        with self.session() as s:
            return [to_row(CommitRow, c) for c in s.scalars(query)]

    def count_commits(self, repo_id: int, since: datetime | None = None, until: datetime | None = None,
                      author: str | None = None, folder: str | None = None, category: str | None = None) -> int:
        """How many commits ``list_commits`` with the same filters returns, counted by the database."""
        query = _commit_filter(select(func.count(Commit.id)), repo_id, since, until, author, folder, category)
        with self.session() as s:
            return s.scalar(query) or 0

    def nth_change_date(self, repo_id: int, n: int, until: datetime) -> datetime | None:
        """The date of the ``n``-th newest non-merge commit dated before ``until`` (None: fewer
        than ``n``), in ``list_commits``' order: how far back a status must read for its usual gap."""
        query = _commit_filter(select(Commit.date), repo_id, None, until, None, None, None)
        query = query.where(Commit.is_merge == false()).order_by(Commit.date.desc(), Commit.seq.desc(), Commit.id.desc())
        with self.session() as s:
            return s.scalar(query.offset(max(0, n - 1)).limit(1))

    def latest_commit_date(self, repo_ids: Iterable[int], until: datetime) -> datetime | None:
        """The date of the newest commit of any of ``repo_ids`` dated before ``until`` (None: none),
        found by the database: the day a portfolio's '-commits' period ends on."""
        ids = list(repo_ids)
        if not ids:
            return None
        query = select(func.max(Commit.date)).where(Commit.repo_id.in_(ids), Commit.reachable == true(),
                                                    Commit.date < until)
        with self.session() as s:
            return s.scalar(query)

    def release_candidates(self, repo_id: int) -> list[CommitRow]:
        """The commits whose facts may name a version or a tag, in ``list_commits``' order: every
        release of the history is among them (``history.releases`` picks them out), read without
        reading the rest of a long history."""
        version, tags = Commit.details["version"].as_string(), Commit.details["tags"].as_string()
        query = _commit_filter(select(Commit), repo_id, None, None, None, None, None)
        query = query.where(or_(version.is_not(None), and_(tags.is_not(None), tags != "[]")))
        query = query.order_by(Commit.date.desc(), Commit.seq.desc(), Commit.id.desc())
        with self.session() as s:
            return [to_row(CommitRow, c) for c in s.scalars(query)]

    def commits_by_prefix(self, repo_id: int, prefixes: Sequence[str], limit: int | None = None) -> list[CommitRow]:
        """The commits whose sha starts with one of ``prefixes`` (lowercase hex; others match nothing), newest first."""
        wanted = [p for p in prefixes if _HEX.fullmatch(p)]
        if not wanted:
            return []
        query = _commit_filter(select(Commit), repo_id, None, None, None, None, None)
        query = query.where(or_(*(Commit.sha.startswith(p) for p in wanted)))
        query = query.order_by(Commit.date.desc(), Commit.seq.desc(), Commit.id.desc()).limit(limit)
        with self.session() as s:
            return [to_row(CommitRow, c) for c in s.scalars(query)]

    def commit_choices(self, repo_id: int) -> dict:
        """What the commits can be filtered by, counted by the database: ``authors``, ``folders``
        and ``categories`` (sorted, each once), ``first`` and ``last`` (dates; None without commits)."""
        base = _commit_filter(select(), repo_id, None, None, None, None, None)
        with self.session() as s:
            values = {name: sorted(v for v in s.scalars(base.add_columns(column).distinct()) if v is not None)
                      for name, column in (("authors", Commit.author), ("folders", Commit.area),
                                           ("categories", Commit.category))}
            first, last = s.execute(base.add_columns(func.min(Commit.date), func.max(Commit.date))).one()
        return {**values, "first": first, "last": last}

    def date_span(self, repo_id: int, until: datetime | None = None) -> tuple[datetime | None, datetime | None]:
        """The dates of the oldest and the newest commit dated before ``until`` (None: no limit),
        found by the database; (None, None) without such a commit."""
        query = _commit_filter(select(func.min(Commit.date), func.max(Commit.date)), repo_id, None, until, None, None, None)
        with self.session() as s:
            first, last = s.execute(query).one()
        return first, last

    def chart_changes(self, repo_id: int, since: datetime | None, until: datetime | None) -> list[ChartChange]:
        """The non-merge commits with ``since <= date < until`` (None: open), in ``list_commits``'
        order, each only as what a chart counts (sha, date, area, category, lines): a chart of a
        year reads that year's changes, never the rest of the history or of each row."""
        columns = select(Commit.sha, Commit.date, Commit.area, Commit.category, Commit.added, Commit.removed)
        query = _commit_filter(columns, repo_id, since, until, None, None, None).where(Commit.is_merge == false())
        query = query.order_by(Commit.date.desc(), Commit.seq.desc(), Commit.id.desc())
        with self.session() as s:
            return [ChartChange(*row) for row in s.execute(query)]

    def reachable_among(self, repo_id: int, shas: Iterable[str]) -> set[str]:
        """Those of ``shas`` that are commits the repository's branch still reaches (chunked lookups)."""
        found: set[str] = set()
        with self.session() as s:
            for chunk in _chunks(sorted(set(shas))):
                query = _commit_filter(select(Commit.sha), repo_id, None, None, None, None, None)
                found.update(s.scalars(query.where(Commit.sha.in_(chunk))))
        return found

    def history_version(self, repo_id: int) -> int | None:
        """A number that grows with every write to the repository's commits (None: no repository)."""
        with self.session() as s:
            return s.scalar(select(Repository.history_version).where(Repository.id == repo_id))

    # --- units ---------------------------------------------------------------------------------

    def replace_units(self, repo_id: int, rows: Iterable[Mapping[str, Any]]) -> None:
        """Make ``rows`` the repository's units: matching (path, name) rows update in place, new
        ones are added, units no longer present are removed. Narratives are never touched.

        Rows need ``path``, ``name``, ``kind``, ``start_line``, ``end_line``. A repeated
        (path, name), e.g. an overloaded Java method, keeps its first occurrence.
        """
        wanted: dict[tuple[str, str], Mapping[str, Any]] = {}
        for row in rows:
            _check_fields(row, UNIT_FIELDS, "unit")
            wanted.setdefault((row["path"], row["name"]), row)
        with self.session(write=True) as s:
            existing = {(u.path, u.name): u for u in s.scalars(select(Unit).where(Unit.repo_id == repo_id))}
            gone = [u.id for key, u in existing.items() if key not in wanted]
            for chunk in _chunks(gone):
                s.execute(delete(Unit).where(Unit.id.in_(chunk)))
            for key, data in wanted.items():
                unit = existing.get(key)
                if unit is None:
                    s.add(Unit(repo_id=repo_id, **data))
                else:
                    for name, value in data.items():
                        setattr(unit, name, value)

    def list_units(self, repo_id: int) -> list[UnitRow]:
        """Units by path, then position in the file."""
        query = select(Unit).where(Unit.repo_id == repo_id).order_by(Unit.path, Unit.start_line, Unit.id)
        with self.session() as s:
            return [to_row(UnitRow, u) for u in s.scalars(query)]

    # --- jobs ----------------------------------------------------------------------------------

    def create_job(self, repo_id: int | None, kind: str, params: Mapping[str, Any] | None = None) -> int:
        """A new 'queued' job; returns its id."""
        with self.session(write=True) as s:
            job = Job(repo_id=repo_id, kind=kind, status="queued", params=dict(params or {}))
            s.add(job)
            s.flush()
            return job.id

    def update_job(self, job_id: int, **fields: Any) -> JobRow:
        """Change ``status``, ``params``, ``done``, ``total``, ``message``, ``error`` or ``pid``.

        ``started_at`` is set when the job first turns 'running', ``finished_at`` when it turns
        'done', 'failed', 'interrupted' or 'cancelled'; ``updated_at`` on every call. Returns the job as stored.
        """
        _check_fields(fields, JOB_UPDATE_FIELDS, "job")
        status = fields.get("status")
        if status is not None and status not in JOB_STATUSES:
            raise ValueError(f"Unknown job status {status!r}; expected one of {', '.join(JOB_STATUSES)}")
        with self.session(write=True) as s:
            job = s.get(Job, job_id)
            if job is None:
                raise LookupError(f"No job with id {job_id}")
            for name, value in fields.items():
                setattr(job, name, value)
            now = utc_now()
            job.updated_at = now
            if status == "running" and job.started_at is None:
                job.started_at = now
            if status in FINISHED_JOB_STATUSES:
                job.finished_at = now
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> JobRow | None:
        with self.session() as s:
            job = s.get(Job, job_id)
            return None if job is None else to_row(JobRow, job)

    def active_job(self, repo_id: int | None) -> JobRow | None:
        """The newest 'queued' or 'running' job of the repository, if any."""
        query = (
            select(Job)
            .where(Job.repo_id == repo_id, Job.status.in_(ACTIVE_JOB_STATUSES))
            .order_by(Job.id.desc())
            .limit(1)
        )
        with self.session() as s:
            job = s.scalar(query)
            return None if job is None else to_row(JobRow, job)

    def finish_job(self, job_id: int, status: str, error: str | None = None, message: str | None = None,
                   pid: int | None = None) -> bool:
        """End an active job as ``status`` (with ``error``, and ``message`` when given) unless it
        already ended, or, given ``pid``, another process now runs it; returns whether it did.

        Checked and written in one transaction, so a worker that finishes at the same moment as a
        cancel or a recovery keeps its own outcome.
        """
        if status not in FINISHED_JOB_STATUSES:
            raise ValueError(f"A job ends as one of {', '.join(FINISHED_JOB_STATUSES)}, not {status!r}")
        with self.session(write=True) as s:
            job = s.get(Job, job_id)
            if job is None:
                raise LookupError(f"No job with id {job_id}")
            if job.status not in ACTIVE_JOB_STATUSES or (pid is not None and job.pid != pid):
                return False
            now = utc_now()
            job.status, job.error, job.updated_at, job.finished_at = status, error, now, now
            if message is not None:
                job.message = message
            return True

    def list_jobs(self, repo_id: int | None = None, limit: int | None = None, kind: str | None = None) -> list[JobRow]:
        """Jobs newest first, of one repository or (``repo_id=None``) of all; ``kind``: only that kind."""
        query = select(Job)
        if repo_id is not None:
            query = query.where(Job.repo_id == repo_id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        query = query.order_by(Job.id.desc()).limit(limit)
        with self.session() as s:
            return [to_row(JobRow, j) for j in s.scalars(query)]

    def mark_stale_jobs(self, is_alive: Callable[[int], bool] = pid_alive) -> list[int]:
        """Turn active jobs whose process is gone into 'interrupted'; returns their ids.

        Called at start-up and before reads so a crashed worker's job can be resumed (the cache and
        checkpoints keep its work). A running job without a pid has no process to wait for and
        counts as gone; a queued job with a pid is one whose worker died before it started.
        """
        with self.session(write=True) as s:
            active = s.scalars(select(Job).where(Job.status.in_(ACTIVE_JOB_STATUSES))).all()
            stale = [job for job in active if (job.status == "running" and job.pid is None)
                     or (job.pid is not None and not is_alive(job.pid))]
            now = utc_now()
            for job in stale:
                job.status, job.updated_at, job.finished_at = "interrupted", now, now
                job.message = (job.message + " " if job.message else "") + "(interrupted: its process ended)"
                job.error = (f"Its process ended at step {job.done} without finishing "
                             "(stopped or the machine restarted).")
            return [job.id for job in stale]


def open_store(url: str) -> Store:
    """The Store for ``url``, migrated to the newest schema."""
    return Store(url)
