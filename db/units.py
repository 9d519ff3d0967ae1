"""The ``units`` table: the ``Store`` methods that keep a repository's functions, classes and files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select

from db.models import Unit
from db.records import Records, _check_fields, _chunks
from db.rows import UnitRow, to_row

UNIT_FIELDS = frozenset(c.name for c in Unit.__table__.columns) - {"id", "repo_id"}


class UnitRecords(Records):
    """Store methods for units."""

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
