"""Reading stored narratives: the newest by the current model and prompts, whether it is out of date,
and what the Overview, Code and Admin pages show of them (descriptions, parts, the code tree,
the checks' outcomes)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from narrator.checks import headlines
from narrator.defaults import DIGEST_PERIOD
from narrator.facts.area_roles import area_role
from narrator.facts.paths import area_of
from narrator.facts.provenance import Source
from narrator.model import prompts
from narrator.pipeline.scan import area_hash, file_hash
from narrator.service.views import AreaView, FileView, NarrativeView, OverviewView, PartView, UnitView


class NarrativeReads:
    """``NarratorService``'s reads of the narrative cache (uses ``self.store``, ``self.model``,
    ``self.adapter``)."""

    def _latest(self, repo_id: int, kind: str, targets=None) -> dict:
        """Per target, the newest narrative by the current model, adapter and prompts, else the newest."""
        prefer = {"model": self.model, "adapter": self.adapter, "prompt_version": prompts.PROMPT_VERSION}
        return self.store.latest_narratives(repo_id, kind, targets, prefer=prefer)

    def _view(self, row, current_hash: str | None) -> NarrativeView | None:
        if row is None:
            return None
        stale = (row.model != self.model or row.adapter != self.adapter
                 or row.prompt_version != prompts.PROMPT_VERSION
                 or (current_hash is not None and row.input_hash != current_hash))
        if row.source != Source.MODEL and not (row.flags or {}).get("dropped"):
            # People's words and git facts do not go out of date with the model or the prompts
            # (a fallback for a dropped model answer does: another model may do better).
            stale = current_hash is not None and row.input_hash != current_hash
        return NarrativeView(row.text, stale, row.created_at, row.model, row.flags or {}, row.source)

    def _hashes(self, repo_id: int):
        """Current input hashes of units, files and folders, from the facts recorded at the last scan."""
        units = self.store.list_units(repo_id)
        by_file: dict[str, list] = defaultdict(list)
        for unit in units:
            by_file[unit.path].append(unit)
        files = {path: file_hash(u.input_hash for u in us) for path, us in by_file.items()}
        areas: dict[str, list[str]] = defaultdict(list)
        for path, h in files.items():
            areas[area_of(path)].append(h)
        return units, by_file, files, {m: area_hash(hs) for m, hs in areas.items()}

    def overview(self, repo_id: int, period: str | tuple[date, date] | None = DIGEST_PERIOD) -> OverviewView:
        """The Overview; ``period=None`` leaves the digest out (a page that builds its own)."""
        repo = self.repository(repo_id)
        units, by_file, _, _ = self._hashes(repo_id)
        summary = self._view(self._latest(repo_id, "overview").get(""), None)
        if summary is not None and not summary.text:
            summary = None  # the model's sentences failed the checks: nothing to add
        described = self._latest(repo_id, "description")
        descriptions = [self._view(described[t], None) for t in ("project:package", "project:readme") if t in described]
        if summary is not None and any(d is not None and headlines.restates(summary.text, d.text or "") for d in descriptions):
            summary = None  # the model only said again what the project says of itself
        parts = self._parts(by_file, described)
        # Counted by the database: without a period the Overview never loads the whole history.
        counts = {"files": len(by_file), "units": len(units), "commits": self.store.count_commits(repo_id),
                  "narratives": self.store.count_narratives(repo_id)}
        digest = self.digest(repo_id, period) if period is not None else None
        return OverviewView(repo, descriptions, summary, parts, digest, counts)

    def parts(self, repo_id: int) -> list[PartView]:
        """The main parts (top-level areas): source code first, then those that describe themselves."""
        _, by_file, _, _ = self._hashes(repo_id)
        return self._parts(by_file, self._latest(repo_id, "description"))

    def _parts(self, by_file: dict, described: dict) -> list[PartView]:
        """``parts`` from what the Overview has already read (units by file, descriptions)."""
        paths_by_area: dict[str, list[str]] = defaultdict(list)
        for path in by_file:
            paths_by_area[area_of(path)].append(path)
        parts = []
        for area, paths in paths_by_area.items():
            # Only people's words describe a part (its README, package or main module docstring, the
            # project's description for its main code): never a model's guess, never a class's
            # docstring. Without them it is "not described"; the Code page keeps the model's summary.
            own = described.get(f"area:{area}")
            narrative = self._view(own, None) if own is not None else None
            if narrative is not None and not narrative.text:
                narrative = None
            parts.append(PartView(area, len(paths), area_role(area, paths), narrative))
        parts.sort(key=lambda p: (p.role != "source code", p.narrative is None, -p.files, p.area))
        return parts

    def code(self, repo_id: int) -> list[AreaView]:
        units, by_file, file_hashes, area_hashes = self._hashes(repo_id)
        unit_texts = self._latest(repo_id, "unit")
        file_texts = self._latest(repo_id, "file")
        area_texts = self._latest(repo_id, "module")
        areas: dict[str, list[FileView]] = defaultdict(list)
        for path in sorted(by_file):
            unit_views = [UnitView(u.path, u.name, u.kind, u.start_line, u.end_line,
                                   self._view(unit_texts.get(f"{u.path}::{u.name}"), u.input_hash))
                          for u in sorted(by_file[path], key=lambda u: u.start_line)]
            areas[area_of(path)].append(FileView(path, self._view(file_texts.get(path), file_hashes[path]), unit_views))
        order = sorted(areas, key=lambda m: (m not in area_texts, m))
        return [AreaView(m, self._view(area_texts.get(m), area_hashes[m]), areas[m]) for m in order]

    def check_outcomes(self, repo_id: int) -> dict:
        """Per model-written kind: how many current answers were kept, edited, or dropped and why."""
        outcomes: dict[str, dict] = {}
        # Not the commits a rewrite left behind: only those of the narrated ones the branch reaches.
        narrated = {r.target for kind in ("headline", "commit") for r in self._latest(repo_id, kind).values()}
        shas = self.store.reachable_among(repo_id, narrated)
        for kind in ("headline", "commit", "unit", "file", "module", "overview"):
            rows = [r for r in self._latest(repo_id, kind).values()
                    if (kind not in ("headline", "commit") or r.target in shas)
                    and r.model == self.model and r.adapter == self.adapter and r.prompt_version == prompts.PROMPT_VERSION]
            asked = [r for r in rows if (r.source == Source.MODEL and not (r.flags or {}).get("copied_from_unit"))
                     or (r.flags or {}).get("dropped")]
            dropped = Counter((r.flags or {}).get("dropped") for r in asked if (r.flags or {}).get("dropped"))
            edited = sum(1 for r in asked if r.source == Source.MODEL and (r.flags or {}).get("dropped_sentences"))
            outcomes[kind] = {"answers": len(asked), "kept": len(asked) - sum(dropped.values()),
                              "edited": edited, "dropped": dict(dropped),
                              "people_or_facts": len(rows) - len(asked)}
        return outcomes
