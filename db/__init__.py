"""The narrative cache: SQLAlchemy tables, Alembic migrations and the ``Store`` that wraps them.

Everything outside ``db/`` goes through ``Store`` methods and gets frozen rows back; sessions
never leave this package.
"""

from db.jobs import pid_alive
from db.models import JOB_STATUSES, NARRATIVE_KINDS
from db.narratives import cache_key
from db.rows import CommitRow, JobRow, NarrativeRow, RepositoryRow, UnitRow
from db.store import Store, open_store

__all__ = [
    "JOB_STATUSES",
    "NARRATIVE_KINDS",
    "CommitRow",
    "JobRow",
    "NarrativeRow",
    "RepositoryRow",
    "Store",
    "UnitRow",
    "cache_key",
    "open_store",
    "pid_alive",
]
