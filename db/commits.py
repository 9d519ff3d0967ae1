"""The ``commits`` table: the ``Store`` methods that write a repository's history and query it.

Every query counts only the commits the repository's branch still reaches (``_commit_filter``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, false, func, insert, or_, select, true, update

from db.models import Commit, Repository
from db.records import Records, _check_fields, _chunks
from db.rows import CommitRow, to_row

# A sha prefix: only these characters, so none is a LIKE wildcard.
_HEX = re.compile(r"[0-9a-f]{1,40}")

COMMIT_FIELDS = frozenset(c.name for c in Commit.__table__.columns) - {"id", "repo_id"}


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


class ChartChange(NamedTuple):
    """A change as ``Store.chart_changes`` reads it: what the charts count it by (``narrator.insights.history``)."""

    sha: str
    date: datetime
    area: str
    category: str | None
    added: int
    removed: int


class CommitRecords(Records):
    """Store methods for commits."""

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
