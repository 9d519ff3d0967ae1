"""The service layer: everything the dashboard (and ``narrator show``) may ask for.

Pages call only this module. It reads the cache and starts background jobs; it never loads a model
and never runs git beyond validating and opening a new repository.
Views are frozen dataclasses, so a page cannot change what it was given.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

from db.store import Store
from narrator.defaults import COMMITS, DIGEST_PERIOD, REPORT_PERIOD
from narrator.errors import NarratorError, RepoError
from narrator.facts import categories as facts
from narrator.facts import changes, glossary, impact, provenance, reading
from narrator.facts.area_roles import area_role
from narrator.facts.areas import MAIN_CODE_TARGET
from narrator.facts.paths import TOP_LEVEL, area_of, is_ci_path, is_doc_path, is_test_path, module_of
from narrator.facts.provenance import Said
from narrator.git import dates as gitdates
from narrator.git.repo import is_shallow, open_repository
from narrator.git.sources import (
    looks_like_url,
    names_git_folder,
    remember_credentials,
    repository_name,
    validate_source,
    without_credentials,
)
from narrator.insights import forecast, history, status
from narrator.insights.activity import USUAL_CHANGES
from narrator.insights.briefing import Briefing, first_line
from narrator.insights.briefing import build as build_briefing
from narrator.insights.delivery import WAITING_LISTED
from narrator.insights.digest import CommitFacts, Digest, build_digest
from narrator.insights.portfolio import Figures, figures
from narrator.insights.periods import WITH_COMMITS, Period, choose_period, today
from narrator.limits import MESSAGE_CHARS, NAME_CHARS, SUBJECT_CHARS, cut
from narrator.model import prompts
from narrator.model.backends import describe
from narrator.pipeline import jobs
from narrator.pipeline.scan import file_hash, module_hash
from narrator.settings import Settings
from narrator.text import unmarked

NO_REPOSITORY_AT_PATH = "No git repository at that path."
"""The dashboard's one answer for a local path it cannot add (missing, a file, not a repository...)."""

SHALLOW_NOTE = "Partial history: this is a shallow clone; older commits are not in it."
"""What ``show`` and the Changes page say about a ``RepoView.shallow`` repository."""

PER_PAGE = 50
"""Changes on one page of the Changes page, unless asked otherwise."""
MAX_PER_PAGE = 100
"""The most changes one request may list: a long history is read a page at a time."""
MAX_LINKED = 200
"""The most commits one link to the Changes page (``?commits=a,b,…``) may name; the rest are ignored."""
USER_GROUPS = frozenset({"affects", "security", "new", "fixed"})
"""Impact groups users notice: a plain reading names the part of the shipped code they changed."""


@dataclass(frozen=True)
class RepoView:
    id: int
    name: str
    source: str
    head_sha: str | None
    added_at: datetime
    narrated_at: datetime | None
    shallow: bool = False
    """A shallow clone (``git clone --depth N``) when last read: its history is partial."""

    @property
    def folder_gone(self) -> bool:
        """A local repository whose folder was moved or deleted since it was added (checked now)."""
        return Path(self.source).is_absolute() and not Path(self.source).is_dir()


@dataclass(frozen=True)
class NarrativeView:
    text: str
    stale: bool
    """The code, the model, the adapter or the prompts changed since it was written."""
    created_at: datetime
    model: str
    flags: dict
    source: str = "model"
    """Whose words the text is (``db.models.SOURCES``)."""

    @property
    def label(self) -> str:
        return provenance.label(self.source, self.flags.get("origin", ""))

    @property
    def said(self) -> Said:
        return Said(self.text, self.source, self.label, self.stale, self.flags)


@dataclass(frozen=True)
class PartView:
    area: str
    files: int
    role: str
    """What kind of part it is, from conventions: source code, tests, documentation, ..."""
    narrative: NarrativeView | None
    """Its description: its own README or package docstring, else the model's checked summary."""


@dataclass(frozen=True)
class BusyArea:
    """An area among the most changed in a period, with what it is."""

    area: str
    changes: int
    lines: int
    shas: tuple[str, ...]
    part: PartView | None
    """Its role and description, when the area still exists at HEAD."""


@dataclass(frozen=True)
class PortfolioRow:
    """One repository on the Portfolio page: its briefing over the portfolio's shared period, and the
    figures read off it (the same numbers as its Overview over the same days)."""

    repo: RepoView
    period: Period
    """The days every row covers."""
    briefing: Briefing
    """The repository's briefing over ``period`` (``NarratorService.briefing``)."""
    figures: Figures
    """Its line of the portfolio, read off ``briefing`` (``narrator.insights.portfolio.figures``)."""
    sparkline: tuple[int, ...]
    """Changes per week for the ``SPARK_WEEKS`` weeks up to the period's last day, oldest first."""
    busiest_area: str | None
    """The area with the most changes in the period; None when nothing changed."""
    last_error: str | None = None
    """The one-line error of its latest narration job, when that job failed."""

    @property
    def changes(self) -> int:
        """Non-merge commits in the period (the briefing's count)."""
        return self.figures.changes.n

    @property
    def releases(self) -> tuple[str, ...]:
        """Versions released in the period, newest first."""
        return tuple(r.version for r in self.briefing.digest.releases) if self.briefing.digest else ()

    @property
    def security(self) -> int:
        """Security fixes in the period (the briefing's impact group 'security')."""
        return self.briefing.digest.impact_counts.get("security", 0) if self.briefing.digest else 0

    @property
    def status(self) -> status.Status | None:
        """As of today: the status line, release status, waiting to ship, risks and delivery figures
        (``narrator.insights.status``) the briefing was built from."""
        return self.briefing.now

    @property
    def description(self) -> str | None:
        """What the software does, in one line: the project's own description (package, then README)."""
        return self.briefing.description.text if self.briefing.description is not None else None


SPARK_WEEKS = 12


@dataclass(frozen=True)
class OverviewView:
    repo: RepoView
    descriptions: list[NarrativeView]
    """The project's own description: package metadata first, then the README's opening."""
    summary: NarrativeView | None
    """At most two checked model sentences built from the code summaries."""
    parts: list[PartView]
    digest: Digest | None
    counts: dict[str, int]


@dataclass(frozen=True)
class CommitView:
    sha: str
    short_sha: str
    subject: str
    """The developer's subject line as written, its markup turned into text (evidence)."""
    author: str
    date: datetime
    area: str
    category: str
    files: list[dict]
    added: int
    removed: int
    narrative: NarrativeView | None
    """The model's narrative of this commit (a headline or an added sentence), if any."""
    headline: Said
    """What heads the change: the developer's words, a pull request's title, or (only for a subject
    that says nothing) the model's summary of the diff, labelled as such."""
    explanation: Said | None = None
    """One more sentence: the developer's own message body, else a checked model sentence."""
    message: str = ""
    scope: str | None = None
    version: str | None = None
    advisories: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    release_notes: tuple[str, ...] = ()
    glossary: tuple[tuple[str, str], ...] = ()
    """Jargon in the headline with a plain explanation: (term, explanation)."""
    is_merge: bool = False
    ci: bool = False
    """It touched only CI and automation files."""
    needs_model: str | None = None
    """What the model could add: 'headline', 'commit' (a sentence) or None (people's words suffice)."""
    date_note: str | None = None
    """Why its date is not to be trusted as shown: a date git could not read, a time zone set aside
    (``narrator.git.dates``), or a date later than today; None for a plain date."""
    future_note: str | None = None
    """The warning shown beside a commit dated later than today (a wrong clock), None otherwise."""
    impact: impact.Impact | None = None
    """What it means to the software's users (``narrator.facts.impact``): one group, its kind and why."""
    reading: str = ""
    """Its plain reading from git facts (``narrator.facts.reading``): 'Fixed for users, in the part that
    sends web responses (lib).'; empty where a page did not ask for it (the digest's whole period)."""


@dataclass(frozen=True)
class ChangePage:
    """One page of the Changes page: its changes, which page of how many, of how many changes."""

    changes: list[CommitView]
    page: int
    """From 1; never past ``pages``."""
    pages: int
    """At least 1, even with no change."""
    total: int


@dataclass(frozen=True)
class UnitView:
    path: str
    name: str
    kind: str
    start_line: int
    end_line: int
    narrative: NarrativeView | None


@dataclass(frozen=True)
class FileView:
    path: str
    narrative: NarrativeView | None
    units: list[UnitView]


@dataclass(frozen=True)
class ModuleView:
    folder: str
    narrative: NarrativeView | None
    files: list[FileView]


@dataclass(frozen=True)
class JobView:
    id: int
    repo_id: int
    status: str
    done: int
    total: int
    message: str
    error: str | None
    started_at: datetime | None
    updated_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


def _facts_of(view: CommitView) -> CommitFacts:
    """A change as ``narrator.insights.digest`` reads it."""
    return CommitFacts(view.sha, view.date, view.author, view.area, view.category, view.headline.text,
                       view.headline.source, view.version, list(view.advisories), list(view.release_notes),
                       [f["path"] for f in view.files], view.is_merge, view.ci, view.impact)


def resolve_period(commits, period: str | tuple[date, date] | Period) -> Period:
    """The one period resolver: a Period as it is, else ``choose_period`` over the commits' dates."""
    return period if isinstance(period, Period) else choose_period([c.date for c in commits], period)


def _repo_view(row) -> RepoView:
    return RepoView(row.id, row.name, row.source, row.head_sha, row.added_at, row.narrated_at, shallow=row.shallow)


def _change_filters(since: date | None, until: date | None, author: str | None, folder: str | None,
                    category: str | None) -> dict:
    """The store's commit filters for whole days ``since`` to ``until`` (UTC, both included)."""
    return dict(since=datetime.combine(since, time.min, timezone.utc) if since else None,
                until=datetime.combine(until, time.max, timezone.utc) if until else None,
                author=author or None, folder=folder or None, category=category or None)


def narration_request(commits: int = COMMITS, full: bool = False, only: Iterable[tuple[str, str]] = ()) -> dict:
    """What a narration job is asked to do, as its row stores it (JSON, so equal requests compare
    equal): the latest ``commits`` and the important files (every file when ``full``), or only the
    ``(kind, target)`` pairs named ("commit"/"file"/"module", a sha or a path)."""
    if only:
        return {"only": [[kind, target] for kind, target in only]}
    return {"commits": commits, "full": full}


def _job_view(row) -> JobView:
    return JobView(row.id, row.repo_id, row.status, row.done or 0, row.total or 0, row.message or "",
                   row.error, row.started_at, row.updated_at)


class NarratorService:
    """Reads narratives and facts from the cache; starts narration in worker processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.db_url)
        self.model, self.adapter = describe(settings)
        self._commit_cache: dict[int, tuple[int | None, tuple]] = {}

    def _commits(self, repo_id: int) -> tuple:
        """Every recorded commit of a repository, newest first, read again only when it changed.

        A long history is tens of thousands of rows and a page asks for it several times per run
        (charts, digest, busiest areas, forecast): one small query says whether the copy is current.
        """
        stamp = self.store.history_version(repo_id)
        cached = self._commit_cache.get(repo_id)
        if cached is None or cached[0] != stamp:
            cached = (stamp, tuple(self.store.list_commits(repo_id)))
            self._commit_cache[repo_id] = cached
        return cached[1]

    def _window(self, repo_id: int, period: str | tuple[date, date] | Period | None) -> tuple[tuple, list, Period | None]:
        """What a briefing of ``period`` reads, by SQL: the commits from the oldest day it looks at
        (its usual gap between changes, the last release, the period and the one before, their
        releases' lead times) to the newest, and every release; with the period resolved.

        The status, the digest and the period resolver give the same answer over these commits as
        over the whole history (older commits only ever fall outside what they count), so a long
        history costs its last weeks, not its every row. Without such a day, the whole history.
        """
        releases = history.releases(self.store.release_candidates(repo_id))
        tomorrow = datetime.combine(today(), time.min, timezone.utc) + timedelta(days=1)
        oldest = self.store.nth_change_date(repo_id, USUAL_CHANGES, tomorrow)
        shipped = [r for r in releases if r.date < tomorrow]
        if oldest is not None and shipped:
            oldest = min(oldest, shipped[-1].date)
        commits = self._since(repo_id, oldest)
        chosen = resolve_period(commits, period) if period is not None else None
        if chosen is not None and oldest is not None:
            earlier = chosen.previous()
            needed: datetime | None = min(oldest, earlier.start)
            ordered = sorted(releases, key=lambda r: r.date)
            first = next((i for i, r in enumerate(ordered) if r.date > earlier.start), None)
            if first is not None:  # a release's lead time reaches back to the release before it
                needed = min(needed, ordered[first - 1].date) if first else None
            if needed is None or needed < oldest:
                commits = self._since(repo_id, needed)
        return commits, releases, chosen

    def _since(self, repo_id: int, oldest: datetime | None) -> tuple:
        """The commits from a day before ``oldest`` (None: every commit), newest first; the whole
        history comes from the cache of ``_commits``."""
        if oldest is None:
            return self._commits(repo_id)
        return tuple(self.store.list_commits(repo_id, since=oldest - timedelta(days=1)))

    # --- repositories ---------------------------------------------------------------------------

    def repositories(self) -> list[RepoView]:
        return [_repo_view(r) for r in self.store.list_repositories()]

    def repository(self, repo_id: int) -> RepoView:
        row = self.store.get_repository(repo_id)
        if row is None:
            raise NarratorError(f"No repository with id {repo_id}.")
        return _repo_view(row)

    @staticmethod
    def canonical_source(source: str) -> str:
        """The form a source is stored under: URLs without credentials, local folders as real paths."""
        source = validate_source(source.strip())
        if "://" not in source and "@" not in source.split("/")[0]:
            source = str(Path(source).expanduser().resolve())
        return without_credentials(source)

    def find(self, source: str) -> RepoView:
        """A repository already in the cache, by the path or URL it was added with.

        A local folder that was moved or deleted since is still found by its old path, so what was
        narrated can be read (``RepoView.folder_gone`` says so).
        """
        try:
            canonical = self.canonical_source(source)
        except NarratorError:  # e.g. "No such folder": it may be one that was narrated, then moved
            row = self._gone_folder(source)
            if row is None:
                raise
            return _repo_view(row)
        row = self.store.find_repository(canonical)
        if row is None:
            raise NarratorError(f"{canonical} has not been narrated yet: run 'python -m narrator narrate {canonical}' first.")
        return _repo_view(row)

    def _gone_folder(self, source: str):
        """The cached repository once added from the local folder ``source``, now missing."""
        try:
            folder = Path(source.strip()).expanduser()
            return None if folder.exists() else self.store.find_repository(str(folder.resolve()))
        except (OSError, ValueError):  # not a path at all (a NUL byte, say): nothing was added from it
            return None

    def add_repository(self, source: str, visitor: bool = False) -> RepoView:
        """Validate, open (or clone) and record a repository; an existing one is returned as is.

        A password in a URL is kept for git alone (``narrator.git.sources.remember_credentials``), also when
        the repository was added before: the URL is recorded without it. ``visitor`` True (the
        dashboard): a local path that cannot be added gets one answer, ``NO_REPOSITORY_AT_PATH``,
        whatever the reason, so that a visitor cannot learn which paths exist on this computer.
        """
        try:
            canonical = self.canonical_source(source)
            if looks_like_url(canonical):
                remember_credentials(source.strip(), self.settings.clone_dir)
            existing = self.store.find_repository(canonical)
            if existing is not None:
                return _repo_view(existing)
            repo = open_repository(canonical, self.settings.clone_dir)
        except RepoError:
            if not visitor or names_git_folder(source) or looks_like_url(source):
                raise
            raise RepoError(NO_REPOSITORY_AT_PATH) from None
        repo_id = self.store.upsert_repository(canonical, repository_name(canonical),
                                               str(repo.working_tree_dir or repo.git_dir), repo.head.commit.hexsha,
                                               shallow=is_shallow(repo))
        return self.repository(repo_id)

    # --- narratives -----------------------------------------------------------------------------

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
        if row.source != "model" and not (row.flags or {}).get("dropped"):
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
        modules: dict[str, list[str]] = defaultdict(list)
        for path, h in files.items():
            modules[module_of(path)].append(h)
        return units, by_file, files, {m: module_hash(hs) for m, hs in modules.items()}

    def overview(self, repo_id: int, period: str | tuple[date, date] | None = DIGEST_PERIOD) -> OverviewView:
        """The Overview; ``period=None`` leaves the digest out (a page that builds its own)."""
        repo = self.repository(repo_id)
        units, by_file, _, _ = self._hashes(repo_id)
        summary = self._view(self._latest(repo_id, "overview").get(""), None)
        if summary is not None and not summary.text:
            summary = None  # the model's sentences failed the checks: nothing to add
        described = self._latest(repo_id, "description")
        descriptions = [self._view(described[t], None) for t in ("project:package", "project:readme") if t in described]
        if summary is not None and any(d is not None and changes.restates(summary.text, d.text or "") for d in descriptions):
            summary = None  # the model only said again what the project says of itself
        parts = self._parts(by_file, described)
        # Counted by the database: without a period the Overview never loads the whole history.
        counts = {"files": len(by_file), "units": len(units), "commits": self.store.count_commits(repo_id),
                  "narratives": self.store.count_narratives(repo_id)}
        digest = self.digest(repo_id, period) if period is not None else None
        return OverviewView(repo, descriptions, summary, parts, digest, counts)

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
        words, details = changes.stored_words(
            commit.details or {}, cut(commit.headline or commit.subject, SUBJECT_CHARS), cut(commit.subject, SUBJECT_CHARS),
            cut(commit.message or "", MESSAGE_CHARS), commit.is_merge, list(commit.release_notes or []),
            commit.category == "release")
        facts_line = None
        if not words.informative and commit.files and not self.settings.shows("headline"):
            # The model's headlines are not measured to beat a line of git facts: that line instead
            # (a shallow clone's oldest commit lists no files: its subject stays).
            facts_line = changes.facts_headline(len(commit.files or []), commit.added, commit.removed,
                                                commit.area or TOP_LEVEL)
            if model_headline is not None and model_headline.source == "model":
                model_headline = None
        if facts_line and (model_headline is None or not model_headline.text):
            headline = Said(facts_line, "git", provenance.label("git"))
        elif words.informative or model_headline is None or not model_headline.text:
            headline = Said(words.headline, words.source, provenance.label(words.source))
        else:
            label = provenance.MODEL_HEADLINE if model_headline.source == "model" else model_headline.label
            headline = Said(model_headline.text, model_headline.source, label, model_headline.stale, model_headline.flags)
        future = gitdates.future_note(commit.date, today())
        explanation = None
        if words.explanation:
            explanation = Said(words.explanation, "developer", provenance.label("developer"))
        elif model_sentence is not None and model_sentence.text:
            explanation = model_sentence.said
        narrative = model_sentence if model_headline is None else model_headline
        view = CommitView(
            commit.sha, commit.sha[:8], unmarked(cut(commit.subject, SUBJECT_CHARS)), cut(commit.author, NAME_CHARS),
            commit.date, commit.area,
            commit.category, list(commit.files or []), commit.added, commit.removed, narrative,
            headline=headline, explanation=explanation, message=cut(commit.message, MESSAGE_CHARS),
            scope=details.get("scope"), version=commit.version, advisories=tuple(commit.advisories),
            refs=tuple(details.get("refs", [])), tags=tuple(details.get("tags", [])),
            release_notes=tuple(commit.release_notes), glossary=tuple(glossary.terms_in(headline.text)),
            is_merge=commit.is_merge, ci=bool(details.get("ci")), needs_model=changes.needs_model(commit.category, details) if details else None,
            date_note=" ".join(filter(None, [details.get("date_note"), future])) or None, future_note=future,
            impact=impact.stored(details, subject=commit.subject, message=commit.message or "", category=commit.category,
                                 paths=[f["path"] for f in commit.files or []], advisories=list(commit.advisories or []),
                                 is_merge=commit.is_merge, ci=bool(details.get("ci")), version=commit.version,
                                 headline=commit.headline or None, notes=tuple(commit.release_notes)),
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
            area = area_of(shipped) if shipped else area
        own, main = areas.get(area, (None, False))
        role = area_role(area, [f["path"] for f in commit.files or [] if module_of(f["path"]) == area])
        return dataclasses.replace(view, reading=reading.plain_reading(view.impact, area, own, role, main))

    def digest(self, repo_id: int, period: str | tuple[date, date] = DIGEST_PERIOD, commits=None) -> Digest | None:
        """What changed in ``period`` (a name of ``periods.PERIOD_NAMES`` or a date range), from facts and people's words."""
        if commits is None:
            commits, _, period = self._window(repo_id, period)
        if not commits:
            return None
        chosen = resolve_period(commits, period)
        earlier = chosen.previous()
        wanted = [c for c in commits if earlier.contains(c.date) or chosen.contains(c.date)]
        headlines, explanations = self._headlines(repo_id, wanted)
        views = [self._commit_view(c, headlines, explanations) for c in wanted]
        return build_digest([_facts_of(v) for v in views], chosen)

    def parts(self, repo_id: int) -> list[PartView]:
        """The main parts (top-level areas): source code first, then those that describe themselves."""
        _, by_file, _, _ = self._hashes(repo_id)
        return self._parts(by_file, self._latest(repo_id, "description"))

    def _parts(self, by_file: dict, described: dict) -> list[PartView]:
        """``parts`` from what the Overview has already read (units by file, descriptions)."""
        paths_by_area: dict[str, list[str]] = defaultdict(list)
        for path in by_file:
            paths_by_area[module_of(path)].append(path)
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

    # --- the whole history (charts) ---------------------------------------------------------------

    def chart_range(self, repo_id: int) -> tuple[date, date] | None:
        """The default range of the charts: the last 12 months up to the newest commit not after today
        (its first and last day found by the database)."""
        tomorrow = datetime.combine(today(), time.min, timezone.utc) + timedelta(days=1)
        ends = [SimpleNamespace(date=d) for d in self.store.date_span(repo_id, until=tomorrow) if d is not None]
        return history.default_range(ends, today=today())

    def activity(self, repo_id: int, by: history.By = "category", grain: history.Grain = "week",
                 start: date | None = None, end: date | None = None) -> list[history.Point]:
        """Changes per week or month by area or category, over every recorded change in the range
        (merges left out, as the digest counts them: they bring in changes already counted)."""
        return history.activity(self._changes_only(repo_id, start, end), by, grain, start, end)

    def releases(self, repo_id: int) -> list[history.ReleasePoint]:
        """Every release in the recorded history, oldest first (read from the commits that may name one)."""
        return history.releases(self.store.release_candidates(repo_id))

    def busiest_areas(self, repo_id: int, start: date | None = None, end: date | None = None,
                      n: int = 5) -> list[BusyArea]:
        """The areas changed most in the range, each with its part (role and description) when known."""
        parts = {p.area: p for p in self.parts(repo_id)}
        return [BusyArea(a.area, a.changes, a.lines, a.shas, parts.get(a.area))
                for a in history.busiest_areas(self._changes_only(repo_id, start, end), start, end, n)]

    def _changes_only(self, repo_id: int, start: date | None, end: date | None) -> list:
        """The recorded commits that are changes, from ``start`` to ``end`` (UTC days, inclusive; None:
        open), read by SQL as a chart counts them: merges left out (a merge has no files of its own,
        so counting it would add a change to the top-level files and to its category)."""
        since = datetime.combine(start, time.min, timezone.utc) if start is not None else None
        until = datetime.combine(end, time.min, timezone.utc) + timedelta(days=1) if end is not None and end < date.max else None
        return self.store.chart_changes(repo_id, since, until)

    def forecast(self, repo_id: int, releases: list | None = None) -> forecast.Forecast:
        """When the next release is likely, from the gaps between recorded releases (``releases``:
        every release, already read), back-tested."""
        repo = self.repository(repo_id)
        # As of the day the history was read (no release after it can be known), never after today.
        as_of = today() if repo.narrated_at is None else min(today(), repo.narrated_at.astimezone(timezone.utc).date())
        if releases is None:
            releases = history.releases(self.store.release_candidates(repo_id))
        return forecast.forecast(releases, as_of)

    def status(self, repo_id: int, period: str | tuple[date, date] | None = REPORT_PERIOD, commits=None) -> status.Status:
        """The repository as of today (``narrator.insights.status``): status line, release status, waiting to
        ship, risks, and over ``period`` (None: none) the period's risks and delivery figures."""
        if commits is None:  # what the status reads, not the whole history
            commits, releases, chosen = self._window(repo_id, period)
        else:
            releases = history.releases(commits)
            chosen = resolve_period(commits, period) if period is not None else None
        return self._status(repo_id, commits, releases, chosen)

    def _status(self, repo_id: int, commits, releases: list, chosen: Period | None) -> status.Status:
        return status.status(commits, releases, today(), chosen, self.forecast(repo_id, releases),
                             self.repository(repo_id).narrated_at)

    def period(self, choice: str | tuple[date, date] | Period, repo_ids: Iterable[int] = ()) -> Period:
        """The one period resolver for one repository or several: a portfolio's repositories share
        its dates ('7d-commits' ends on the latest commit of any of them up to today, found by the
        database: no history is read)."""
        if isinstance(choice, Period):
            return choice
        latest = None
        if isinstance(choice, str) and choice.endswith(WITH_COMMITS):
            tomorrow = datetime.combine(today(), time.min, timezone.utc) + timedelta(days=1)
            latest = self.store.latest_commit_date(repo_ids, tomorrow)
        return choose_period([latest] if latest is not None else [], choice)

    def briefing(self, repo_id: int, period: str | tuple[date, date] | Period = REPORT_PERIOD, commits=None) -> Briefing:
        """The repository's briefing over ``period`` (``narrator.insights.briefing``): built once, from one
        resolved period shared by its digest and its status, so every page prints the same numbers."""
        if commits is None:  # what the briefing reads, not the whole history
            commits, releases, period = self._window(repo_id, period)
        else:
            releases = history.releases(commits)
        chosen = resolve_period(commits, period)
        now = self._status(repo_id, commits, releases, chosen)
        digest = self.digest(repo_id, chosen, commits)
        waiting = self.changes_of(repo_id, now.release.waiting[:WAITING_LISTED]) if now.release.last else []
        described = self._latest(repo_id, "description")
        views = [self._view(described[t], None) for t in ("project:package", "project:readme") if t in described]
        said = next((v.said for v in views if v is not None and v.text), None)
        if said is not None:
            said = Said(first_line(said.text), said.source, said.label, said.stale, said.flags)
        return build_briefing(self.repository(repo_id).name, said, chosen, now, digest, today(), waiting,
                              self._readings(repo_id, digest, commits), self._notes(repo_id, digest, commits, waiting))

    def _notes(self, repo_id: int, digest: Digest | None, commits, waiting) -> dict[str, str]:
        """The model's checked note for users (``narrator.pipeline.narrate.note_task``) of each listed change that has
        one for its current diff, by sha; none unless the note setting shows them (``Settings.shows``)."""
        if not self.settings.shows("user_note"):
            return {}
        listed = {s for lines in ((digest.affects, digest.features, digest.fixes) if digest else ())
                  for line in lines for s in line.shas} | {c.sha for c in waiting}
        hashes = {c.sha: c.input_hash for c in commits if c.sha in listed}
        notes = {}
        for sha, row in self._latest(repo_id, "note", sorted(listed)).items():
            view = self._view(row, hashes.get(sha))
            if view is not None and view.text and view.source == "model" and not view.stale:
                notes[sha] = view.text
        return notes

    def _readings(self, repo_id: int, digest: Digest | None, commits) -> dict[str, str]:
        """The plain reading (``narrator.facts.reading``) of each change the digest lists by headline
        (may affect users, security, new, fixed), by sha, from the commits already read."""
        if digest is None:
            return {}
        listed = {s for lines in (digest.affects, digest.security, digest.features, digest.fixes)
                  for line in lines for s in line.shas}
        areas = self._areas(repo_id)
        return {c.sha: self._commit_view(c, {}, {}, areas).reading for c in commits
                if c.sha in listed and not c.is_merge}

    # --- the portfolio --------------------------------------------------------------------------

    def portfolio(self, period: str | tuple[date, date] = DIGEST_PERIOD) -> list[PortfolioRow]:
        """Every repository's briefing over ``period``, as a portfolio row each, busiest first.

        Every row covers the same days (``period``): '7d', '30d' and '90d' end today, the Overview's
        days; their '-commits' forms end on the day of the newest commit of *any* repository up to
        today (not each one's own newest), so a quiet repository shows a quiet period. Each row is
        read off that repository's briefing, which reads only the days it needs, by SQL.
        """
        repos = self.repositories()
        chosen = self.period(period, [repo.id for repo in repos])
        jobs.recover(self.store)  # once, not once per row
        rows = [self._portfolio_row(repo, chosen) for repo in repos]
        rows.sort(key=lambda r: (-r.changes, -sum(r.sparkline), r.repo.name.casefold(), r.repo.id))
        return rows

    def _portfolio_row(self, repo: RepoView, chosen: Period) -> PortfolioRow:
        """One repository's row: its briefing over ``chosen``, its weekly line and busiest area (from
        the changes of those weeks alone) and the error of its latest narration job."""
        brief = self.briefing(repo.id, chosen)
        weeks_from = history.bucket(chosen.last_day - timedelta(weeks=SPARK_WEEKS - 1), "week")
        recent = self._changes_only(repo.id, min(weeks_from, chosen.first_day), chosen.last_day)
        busiest = history.busiest_areas(recent, chosen.first_day, chosen.last_day, n=1)
        latest = self.store.list_jobs(repo.id, limit=1)
        error = latest[0].error if latest and latest[0].status == "failed" else None
        return PortfolioRow(repo, chosen, brief, figures(brief), tuple(history.sparkline(recent, chosen.last_day, SPARK_WEEKS)),
                            busiest[0].area if busiest else None, error)

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
            asked = [r for r in rows if (r.source == "model" and not (r.flags or {}).get("copied_from_unit"))
                     or (r.flags or {}).get("dropped")]
            dropped = Counter((r.flags or {}).get("dropped") for r in asked if (r.flags or {}).get("dropped"))
            edited = sum(1 for r in asked if r.source == "model" and (r.flags or {}).get("dropped_sentences"))
            outcomes[kind] = {"answers": len(asked), "kept": len(asked) - sum(dropped.values()),
                              "edited": edited, "dropped": dict(dropped),
                              "people_or_facts": len(rows) - len(asked)}
        return outcomes

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

    def code(self, repo_id: int) -> list[ModuleView]:
        units, by_file, file_hashes, module_hashes = self._hashes(repo_id)
        unit_texts = self._latest(repo_id, "unit")
        file_texts = self._latest(repo_id, "file")
        module_texts = self._latest(repo_id, "module")
        modules: dict[str, list[FileView]] = defaultdict(list)
        for path in sorted(by_file):
            unit_views = [UnitView(u.path, u.name, u.kind, u.start_line, u.end_line,
                                   self._view(unit_texts.get(f"{u.path}::{u.name}"), u.input_hash))
                          for u in sorted(by_file[path], key=lambda u: u.start_line)]
            modules[module_of(path)].append(FileView(path, self._view(file_texts.get(path), file_hashes[path]), unit_views))
        order = sorted(modules, key=lambda m: (m not in module_texts, m))
        return [ModuleView(m, self._view(module_texts.get(m), module_hashes[m]), modules[m]) for m in order]

    # --- jobs -----------------------------------------------------------------------------------

    def _start(self, repo_id: int, params: dict) -> JobView:
        """Queue a job; start a worker unless one is already running for this repository.

        A running worker takes queued jobs of its repository one after another, so an on-demand
        request made during a long run is narrated right after it instead of being dropped.
        """
        self.repository(repo_id)
        jobs.recover(self.store)
        rows = self.store.list_jobs(repo_id)
        running = [j for j in rows if j.status == "running"]
        same = [j for j in rows if j.is_active and (j.params or {}) == params]
        if same:
            return _job_view(same[0])  # the very same request is already queued or running
        job_id = self.queue_narration(repo_id, params)
        if not running:
            jobs.spawn_worker(self.settings, self.store, job_id)
        return self.job(job_id)

    def queue_narration(self, repo_id: int, request: dict) -> int:
        """Record a queued narration job and return its id: the one way every entry point makes one.

        ``request`` comes from :func:`narration_request`. The job then runs in a worker
        (:meth:`start_narration`, :meth:`narrate_on_demand`) or in the caller's process with
        ``narrate.run_job`` (``python -m narrator narrate``, ``narrate --all``).
        """
        return self.store.create_job(repo_id, "narrate", request)

    def start_narration(self, repo_id: int, commits: int = COMMITS, full: bool = False) -> JobView:
        return self._start(repo_id, narration_request(commits, full))

    def narrate_on_demand(self, repo_id: int, kind: str, target: str) -> JobView:
        if kind not in ("commit", "file", "module"):
            raise NarratorError(f"Cannot narrate a {kind!r} on demand.")
        return self._start(repo_id, narration_request(only=[(kind, target)]))

    def resume_interrupted(self) -> list[JobView]:
        """Restart the newest interrupted job of each repository whose worker died.

        The cache makes the restarted job skip every narrative the dead worker had finished.
        """
        jobs.recover(self.store)
        resumed, seen = [], set()
        for row in self.store.list_jobs(kind="narrate"):  # newest first; training resumes from its checkpoints
            if row.repo_id in seen:
                continue
            seen.add(row.repo_id)
            if row.status == "interrupted":
                self.store.update_job(row.id, status="queued", error=None)
                jobs.spawn_worker(self.settings, self.store, row.id)
                resumed.append(self.job(row.id))
        return resumed

    def job(self, job_id: int) -> JobView:
        return _job_view(self.store.get_job(job_id))

    def latest_job(self, repo_id: int) -> JobView | None:
        jobs.recover(self.store)
        rows = self.store.list_jobs(repo_id)
        return _job_view(rows[0]) if rows else None
