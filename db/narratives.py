"""The ``narratives`` table, the cache: its keys and the ``Store`` methods that read and write it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db.models import NARRATIVE_KINDS, SOURCES, Narrative
from db.records import Records, _chunks
from db.rows import NarrativeRow, to_row

CACHE_KEY_TAG = "narr:v1:"


def cache_key(**parts: Any) -> str:
    """Tagged sha256 of the canonical JSON of ``parts``: same parts, same key; any change, new key.

    Pass everything that changes the output (input text or its hash, model, adapter, prompt
    version, kind, target). Values must be JSON-serialisable.
    """
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return CACHE_KEY_TAG + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class NarrativeRecords(Records):
    """Store methods for the narrative cache."""

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
