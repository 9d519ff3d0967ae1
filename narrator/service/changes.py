"""What the Changes page reads: one change as the pages show it (its headline, explanation, facts
and plain reading), filtered, paged, or linked by sha."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable
from datetime import date, datetime, time, timezone

from narrator.facts import categories as facts
from narrator.facts import changes, glossary, impact, reading
from narrator.facts.area_roles import area_role
from narrator.facts.areas import MAIN_CODE_TARGET
from narrator.facts.commit_facts import CommitFacts
from narrator.facts.paths import TOP_LEVEL, area_of, busiest_area, is_ci_path, is_doc_path, is_test_path
from narrator.facts.provenance import Provenance, Said, Source
from narrator.git import dates as gitdates
from narrator.insights.periods import today
from narrator.limits import MESSAGE_CHARS, NAME_CHARS, SUBJECT_CHARS, cut
from narrator.service.views import ChangePage, CommitView
from narrator.text import unmarked


PER_PAGE = 50
"""Changes on one page of the Changes page, unless asked otherwise."""
MAX_PER_PAGE = 100
"""The most changes one request may list: a long history is read a page at a time."""
MAX_LINKED = 200
"""The most commits one link to the Changes page (``?commits=a,b,…``) may name; the rest are ignored."""
USER_GROUPS = frozenset({"affects", "security", "new", "fixed"})
"""Impact groups users notice: a plain reading names the part of the shipped code they changed."""


def _change_filters(since: date | None, until: date | None, author: str | None, folder: str | None,
                    category: str | None) -> dict:
    """The store's commit filters for whole days ``since`` to ``until`` (UTC, both included)."""
    return dict(since=datetime.combine(since, time.min, timezone.utc) if since else None,
                until=datetime.combine(until, time.max, timezone.utc) if until else None,
                author=author or None, folder=folder or None, category=category or None)


class ChangeReads:
    """``NarratorService``'s changes (uses ``self.store``, ``self.settings`` and the narrative reads)."""

    def _headlines(self, repo_id: int, commits) -> tuple[dict, dict]:
        """The model's headline and explanation narratives of ``commits``, by sha."""
        shas = [c.sha for c in commits]
        return self._latest(repo_id, "headline", shas), self._latest(repo_id, "commit", shas)

    def _areas(self, repo_id: int) -> dict[str, tuple[str, bool]]:
        """Each described area's own words, and whether they are the project's own description
        (the area is its main code), for ``narrator.facts.reading``: one read of the stored descriptions."""
        described = self._latest(repo_id, "description")
        project_words = {row.text for t, row in described.items() if t in ("project:package", "project:readme") and row.text}
        main = described[MAIN_CODE_TARGET].text if MAIN_CODE_TARGET in described else None
        areas = {t.removeprefix("area:"): (row.text, row.text in project_words or t == f"area:{main}")
                 for t, row in described.items() if t.startswith("area:") and row.text}
        if main and main not in areas:
            areas[main] = (None, True)
        return areas

    def _commit_view(self, commit, headlines: dict, explanations: dict, areas: dict | None = None) -> CommitView:
        model_headline = self._view(headlines.get(commit.sha), commit.input_hash)
        model_sentence = self._view(explanations.get(commit.sha), commit.input_hash)
        # People's words first, markup turned into text; cut again when shown: rows recorded before
        # narrator.limits may hold a megabyte.
        stored = CommitFacts.from_json(commit.details)
        words, stored = changes.stored_words(
            stored, cut(commit.headline or commit.subject, SUBJECT_CHARS), cut(commit.subject, SUBJECT_CHARS),
            cut(commit.message or "", MESSAGE_CHARS), commit.is_merge, list(stored.release_notes),
            commit.category == "release")
        facts_line = None
        if not words.informative and commit.files and not self.settings.shows("headline"):
            # The model's headlines are not measured to beat a line of git facts: that line instead
            # (a shallow clone's oldest commit lists no files: its subject stays).
            facts_line = changes.facts_headline(len(commit.files or []), commit.added, commit.removed,
                                                commit.area or TOP_LEVEL)
            if model_headline is not None and model_headline.by_model:
                model_headline = None
        if facts_line and (model_headline is None or not model_headline.text):
            headline = Said(facts_line, Provenance(Source.GIT))
        elif words.informative or model_headline is None or not model_headline.text:
            headline = Said(words.headline, Provenance(words.source))
        else:
            stands_in = dataclasses.replace(model_headline.provenance, headline=model_headline.by_model)
            headline = Said(model_headline.text, stands_in, model_headline.stale, model_headline.flags)
        future = gitdates.future_note(commit.date, today())
        explanation = None
        if words.explanation:
            explanation = Said(words.explanation, Provenance(Source.DEVELOPER))
        elif model_sentence is not None and model_sentence.text:
            explanation = model_sentence.said
        narrative = model_sentence if model_headline is None else model_headline
        view = CommitView(
            commit.sha, commit.sha[:8], unmarked(cut(commit.subject, SUBJECT_CHARS)), cut(commit.author, NAME_CHARS),
            commit.date, commit.area,
            commit.category, list(commit.files or []), commit.added, commit.removed, narrative,
            headline=headline, explanation=explanation, message=cut(commit.message, MESSAGE_CHARS),
            scope=stored.scope, version=stored.version, advisories=stored.advisories, refs=stored.refs, tags=stored.tags,
            release_notes=stored.release_notes, glossary=tuple(glossary.terms_in(headline.text)), is_merge=commit.is_merge,
            ci=stored.ci, needs_model=changes.needs_model(commit.category, stored) if stored.recorded else None,
            date_note=" ".join(filter(None, [stored.date_note, future])) or None, future_note=future,
            impact=impact.stored(stored.impact, subject=commit.subject, message=commit.message or "", category=commit.category,
                                 paths=[f["path"] for f in commit.files or []], advisories=list(stored.advisories),
                                 is_merge=commit.is_merge, ci=stored.ci, version=stored.version,
                                 headline=commit.headline or None, notes=stored.release_notes),
        )
        if areas is None:
            return view
        area = commit.area
        if view.impact is not None and view.impact.group in USER_GROUPS:
            # What users get changed where the shipped code is, even when the tests took more lines.
            sized = [(f["path"], f.get("added", 0) + f.get("removed", 0)) for f in commit.files or []]
            shipped = [s for s in sized if impact.is_shipped_path(s[0])]
            if not shipped:  # a manifest users notice ('Upgrade content-type'): where it is, not its tests
                shipped = [s for s in sized if not (is_test_path(s[0]) or is_doc_path(s[0])
                                                    or is_ci_path(s[0]))]
            area = busiest_area(shipped) if shipped else area
        own, main = areas.get(area, (None, False))
        role = area_role(area, [f["path"] for f in commit.files or [] if area_of(f["path"]) == area])
        return dataclasses.replace(view, reading=reading.plain_reading(view.impact, area, own, role, main))

    def change_filters(self, repo_id: int) -> dict:
        """The Changes page's choices (authors, folders, kinds, first and last day), read by the
        database: the page never loads the whole history."""
        choices = self.store.commit_choices(repo_id)
        return {
            "authors": choices["authors"],
            "folders": choices["folders"],
            "categories": [k for k in facts.CATEGORIES if k in choices["categories"]],
            "first": choices["first"].astimezone(timezone.utc).date() if choices["first"] else None,
            "last": choices["last"].astimezone(timezone.utc).date() if choices["last"] else None,
        }

    def changes(self, repo_id: int, since: date | None = None, until: date | None = None,
                author: str | None = None, folder: str | None = None, category: str | None = None,
                limit: int | None = None, offset: int = 0) -> list[CommitView]:
        """The changes matching the filters, newest first; with ``limit``, that many after the first ``offset``."""
        commits = self.store.list_commits(repo_id, **_change_filters(since, until, author, folder, category),
                                          limit=limit, offset=offset)
        headlines, explanations = self._headlines(repo_id, commits)
        areas = self._areas(repo_id)
        return [self._commit_view(c, headlines, explanations, areas) for c in commits]

    def change_page(self, repo_id: int, since: date | None = None, until: date | None = None,
                    author: str | None = None, folder: str | None = None, category: str | None = None,
                    page: int = 1, per_page: int = PER_PAGE) -> ChangePage:
        """Page ``page`` (from 1) of the changes matching the filters, newest first.

        One request reads at most ``MAX_PER_PAGE`` changes, whatever it asks: a range of every day
        of a 200,000-commit history costs one count and one page in the database. A page past the
        last is the last.
        """
        per_page = min(max(1, per_page), MAX_PER_PAGE)
        total = self.change_count(repo_id, since, until, author, folder, category)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        changes = self.changes(repo_id, since, until, author, folder, category, limit=per_page,
                               offset=(page - 1) * per_page)
        return ChangePage(changes, page, pages, total)

    def changes_of(self, repo_id: int, shas: Iterable[str]) -> list[CommitView]:
        """The changes whose sha starts with one of ``shas`` (a chart or digest line links to them).

        Only the first ``MAX_LINKED`` are looked up; a sha that is not hexadecimal matches nothing.
        """
        prefixes = [s.strip().lower() for s in itertools.islice((s for s in shas if s and s.strip()), MAX_LINKED)]
        commits = self.store.commits_by_prefix(repo_id, prefixes, limit=MAX_LINKED)
        headlines, explanations = self._headlines(repo_id, commits)
        areas = self._areas(repo_id)
        return [self._commit_view(c, headlines, explanations, areas) for c in commits]

    def change_count(self, repo_id: int, since: date | None = None, until: date | None = None,
                     author: str | None = None, folder: str | None = None, category: str | None = None) -> int:
        """How many changes ``changes`` would list with the same filters (a long history counts fast)."""
        return self.store.count_commits(repo_id, **_change_filters(since, until, author, folder, category))
