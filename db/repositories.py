"""The ``repositories`` table: the ``Store`` methods that add, find, list and remove repositories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from db.errors import StoreError
from db.models import (
    ACTIVE_JOB_STATUSES,
    AccountRepository,
    Commit,
    Delivery,
    Job,
    Narrative,
    Repository,
    Subscription,
    TrainingMetric,
    TrainingRun,
    Unit,
    utc_now,
)
from db.records import Records
from db.rows import RepositoryRow, to_row


class RepositoryBusy(StoreError):
    """A repository cannot be removed while one of its jobs is queued or running."""


@dataclass(frozen=True)
class RemovedRepository:
    """What ``remove_repository`` deleted with a repository: its row, and how many rows of each kind."""

    repo: RepositoryRow
    commits: int
    units: int
    narratives: int
    jobs: int
    accounts: int
    """Limited accounts that read it (they keep their other repositories)."""
    subscriptions_changed: tuple[int, ...]
    """Subscriptions that named it among others: it was taken off their list."""
    subscriptions_removed: tuple[int, ...]
    """Subscriptions that named only it: removed, with their deliveries (else they would get every repository)."""


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

    def remove_repository(self, repo_id: int) -> RemovedRepository | None:
        """Delete a repository and everything of it, in one transaction: its commits, units, narratives and
        jobs, the limited accounts' grants of it, and its id in subscriptions' lists (a subscription that
        named only it is removed). None when there is none with that id; ``RepositoryBusy`` while one of its
        jobs is queued or running. Files (a clone) are the caller's."""
        with self.session(write=True) as s:
            repo = s.get(Repository, repo_id)
            if repo is None:
                return None
            busy = s.scalar(select(Job).where(Job.repo_id == repo_id, Job.status.in_(ACTIVE_JOB_STATUSES)).limit(1))
            if busy is not None:
                raise RepositoryBusy(f"{repo.name} is being narrated (job #{busy.id}, {busy.status}): "
                                     "wait until it ends, then remove the repository.")
            row = to_row(RepositoryRow, repo)
            counts = {}
            for name, table in (("commits", Commit), ("units", Unit), ("narratives", Narrative),
                                ("accounts", AccountRepository)):
                counts[name] = s.execute(delete(table).where(table.repo_id == repo_id)).rowcount
            job_ids = list(s.scalars(select(Job.id).where(Job.repo_id == repo_id)))
            if job_ids:  # a run's details hang off its job (training jobs name no repository; kept general)
                runs = select(TrainingRun.id).where(TrainingRun.job_id.in_(job_ids))
                s.execute(delete(TrainingMetric).where(TrainingMetric.run_id.in_(runs)))
                s.execute(delete(TrainingRun).where(TrainingRun.job_id.in_(job_ids)))
                s.execute(delete(Job).where(Job.id.in_(job_ids)))
            changed, removed = [], []
            for sub in s.scalars(select(Subscription)).all():  # few rows; JSON lists are filtered here
                if sub.repo_ids is None or repo_id not in sub.repo_ids:
                    continue
                left = [i for i in sub.repo_ids if i != repo_id]
                if left:
                    sub.repo_ids = left
                    changed.append(sub.id)
                else:
                    s.execute(delete(Delivery).where(Delivery.subscription_id == sub.id))
                    s.delete(sub)
                    removed.append(sub.id)
            s.delete(repo)
            return RemovedRepository(row, counts["commits"], counts["units"], counts["narratives"], len(job_ids),
                                     counts["accounts"], tuple(changed), tuple(removed))
