"""What the service hands the pages: frozen views of repositories, narratives, changes, code, jobs and
portfolio rows, so a page cannot change what it was given; and the rows -> views they are made by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from narrator.facts import impact
from narrator.facts.provenance import Provenance, Said, Source
from narrator.facts.reading import provenance_for
from narrator.insights import status
from narrator.insights.briefing import Briefing
from narrator.insights.digest import Digest
from narrator.insights.periods import Period
from narrator.insights.portfolio import Figures


SHALLOW_NOTE = "Partial history: this is a shallow clone; older commits are not in it."
"""What ``show`` and the Changes page say about a ``RepoView.shallow`` repository."""


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
    source: str = Source.MODEL
    """Whose words the text is (``db.models.SOURCES``: a ``Source`` value)."""

    @property
    def by_model(self) -> bool:
        """Model text (that passed the checks), not people's words or git facts."""
        return self.source == Source.MODEL

    @property
    def provenance(self) -> Provenance:
        """Its source and, for a README, package description or docstring, the file it was read from."""
        return Provenance(self.source, self.flags.get("origin", ""))

    @property
    def said(self) -> Said:
        return Said(self.text, self.provenance, self.stale, self.flags)


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

    @property
    def reading_provenance(self) -> Provenance:
        """Where ``reading`` comes from: git facts, with the model's kind of change when it decided the group."""
        return provenance_for(self.impact)


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
class AreaView:
    area: str
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


def _repo_view(row) -> RepoView:
    return RepoView(row.id, row.name, row.source, row.head_sha, row.added_at, row.narrated_at, shallow=row.shallow)


def _job_view(row) -> JobView:
    return JobView(row.id, row.repo_id, row.status, row.done or 0, row.total or 0, row.message or "",
                   row.error, row.started_at, row.updated_at)
