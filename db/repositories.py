"""The ``repositories`` table: the ``Store`` methods that add, find and list repositories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import Repository, utc_now
from db.records import Records
from db.rows import RepositoryRow, to_row


class RepositoryRecords(Records):
    """Store methods for repositories."""

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
