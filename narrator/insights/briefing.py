"""A repository's briefing as one document, built once from stored facts, rendered by every page.

The manager's questions, in the order they ask them: is the team working (the status line), what
reached users (releases), what is waiting to ship, what could hurt (risks), and what changed by what
it means to users. ``build`` answers them from the status (``narrator.insights.status``) and the digest
(``narrator.insights.digest``) of ONE period, so ``show``, the Markdown, HTML and PDF reports and the
dashboard print the same numbers: each renderer only lays out a :class:`Briefing`.

Every number shown is a :class:`Count`: how many, and exactly the commits counted, so a page can link
a number to the list of its changes (``NarratorService.changes_of``) and a test can check that the
list has that many. Every sentence carries the commits it stands on and its provenance.
A portfolio's line of figures read off a briefing is ``narrator.insights.portfolio``.

Pure: nothing here reads git, the database or a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Protocol

from narrator.facts.impact import LABELS as IMPACT_LABELS
from narrator.facts.provenance import Provenance, Said, Source
from narrator.facts.reading import Reading
from narrator.insights.activity import ago, day, every
from narrator.insights.delivery import WAITING_LISTED
from narrator.insights.digest import Digest, Release, counted
from narrator.insights.periods import Period
from narrator.insights.status import Status

GIT_FACTS = Provenance(Source.GIT)
NOTE_LABEL = "Suggested note (model)"
"""How a listed change's note for users by the model is introduced: never people's words, never in their place."""
NOTE_SOURCE = Provenance(Source.MODEL)
"""Where a note for users comes from: written by the model (checked)."""
_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


@dataclass(frozen=True)
class Count:
    """A number shown to a reader and exactly the commits it counts (``n == len(shas)``)."""

    n: int
    shas: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.n != len(self.shas) or len(set(self.shas)) != len(self.shas):
            raise ValueError(f"a count of {self.n} must stand on {self.n} distinct commits, not {len(self.shas)}")


def count(shas: Iterable[str]) -> Count:
    """The Count of ``shas`` (duplicates counted once, order kept): the one way a number is made."""
    unique = tuple(dict.fromkeys(shas))
    return Count(len(unique), unique)


@dataclass(frozen=True)
class Sentence:
    """One sentence (or list item) of a briefing, with its provenance and the commits it stands on."""

    text: str
    provenance: Provenance = GIT_FACTS
    """Where it comes from (git facts, the developer's message, ...); renderers word it
    (``narrator.facts.provenance.label``)."""
    shas: tuple[str, ...] = ()
    """The commits it stands on, newest first (empty for a sentence of absence: 'No release is recorded')."""
    counts: tuple[Count, ...] = ()
    """The numbers it prints, in the order it prints them."""
    lead: str = ""
    """Facts shown before it without a source of their own: '2026-11-28 1a2b3c4d Ada Lovelace:'."""
    stale: bool = False
    """Model text written for code that changed since (``Said.stale``)."""
    reading: str = ""
    """A listed change's plain reading from git facts (``narrator.facts.reading``), shown as a second,
    labelled line under its people's words; empty for other sentences."""
    reading_provenance: Provenance = GIT_FACTS
    """Where ``reading`` comes from (``narrator.facts.reading.provenance_for``)."""
    note: str = ""
    """A listed change's note for users written by the model (checked), shown under it as
    ``NOTE_LABEL``; empty unless the note setting shows it (``Briefing.notes``)."""


@dataclass(frozen=True)
class Section:
    """A block of the briefing: a title, the one provenance of the block, its sentences."""

    title: str
    provenance: Provenance
    lines: tuple[Sentence, ...]
    count: Count | None = None
    """The number the title shows ('Waiting to ship (5)'); None when the title shows none."""
    detail: tuple[Sentence, ...] = ()
    """What a reader opens on demand: the forecast's 'how sure is this'."""
    counted: str = ""
    """What the title's number counts, when the title alone does not say: 'releases in the period'."""

    @property
    def heading(self) -> str:
        """The title with its number: 'Waiting to ship (5)', 'What reached users (2 releases in the period)'."""
        if self.count is None:
            return self.title
        return f"{self.title} ({self.count.n}{' ' + self.counted if self.counted else ''})"


@dataclass(frozen=True)
class Briefing:
    """A repository's briefing over one period: what every page and export shows first."""

    name: str
    description: Sentence | None
    """What the software does, in one line (the project's own words first); None when undescribed."""
    period: Period
    status: Sentence
    """'Active: last change 4 Dec 2026, 2 days ago; changes usually come about every 2 days.'"""
    looked: str
    """'Code Narrator last looked on 6 Dec 2026.' (never a sign of activity)."""
    opening: tuple[Sentence, ...]
    """One to four template sentences: status, what reached users, what is waiting, risks."""
    risks: Section
    waiting: Section
    """Title count: every change since the last release; lines: the sentence, then up to
    ``WAITING_LISTED`` changes, newest first."""
    reached: Section
    """What reached users: the last release against the usual gap, the forecast, the period's releases."""
    by_impact: Section
    """The period's changes by impact group; the title count is every change of the period."""
    delivery: Section | None
    """Release frequency, lead time and hotfixes of the period with their trend; None without a period."""
    changes: Count
    """Every change (non-merge commit) of the period."""
    releases: Count
    """The releases of the period (their commits), newest first."""
    waiting_affects: Count = field(default_factory=lambda: Count(0, ()))
    """The changes waiting to ship that may affect existing users."""
    waiting_security: Count = field(default_factory=lambda: Count(0, ()))
    """The security fixes waiting to ship."""
    digest: Digest | None = None
    """The period's digest the briefing was built from (its other sections: headlines by impact,
    busiest areas, the comparison), so a page shows them without building it again."""
    readings: Mapping[str, Reading] = field(default_factory=dict)
    """The plain reading (``narrator.facts.reading``) of each change the digest lists by headline, by sha."""
    now: Status | None = None
    """The status the briefing was built from (``narrator.insights.status``): the numbers behind its status
    line, release status, risks and delivery figures, for a page that shows them as figures."""
    notes: Mapping[str, str] = field(default_factory=dict)
    """The model's checked note for users of each listed change that users notice and whose people
    wrote no changelog line, by sha; empty unless ``CODE_NARRATOR_MODEL_NOTES`` shows them."""

    def reading_of(self, shas: Sequence[str]) -> str:
        """The plain reading of a listed headline: its newest change's ('' when none is known)."""
        return self._reading(shas).text

    def reading_provenance_of(self, shas: Sequence[str]) -> Provenance:
        """Where the plain reading of a listed headline comes from (``reading_of``'s)."""
        return self._reading(shas).provenance

    def _reading(self, shas: Sequence[str]) -> Reading:
        return next((self.readings[s] for s in shas if s in self.readings and self.readings[s].text), Reading(""))

    def note_of(self, shas: Sequence[str]) -> str:
        """The model's note for users of a listed headline: its newest change's ('' when none is shown)."""
        return next((self.notes[s] for s in shas if self.notes.get(s)), "")

    def counts(self) -> list[Count]:
        """Every number this briefing shows."""
        found = [self.changes, self.releases, self.waiting_affects, self.waiting_security]
        sections = (self.risks, self.waiting, self.reached, self.by_impact, *([self.delivery] if self.delivery else []))
        for section in sections:
            found += [section.count] if section.count is not None else []
            found += [c for line in (*section.lines, *section.detail) for c in line.counts]
        found += [c for line in self.opening for c in line.counts]
        return found


class Listed(Protocol):
    """What a listed waiting change shows (``narrator.service.views.CommitView``)."""

    sha: str
    short_sha: str
    date: datetime
    author: str
    headline: Said
    reading: str
    reading_provenance: Provenance


def day_of(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()


# --- the opening ----------------------------------------------------------------------------------


def _opens(n: int, one: str, many: str) -> str:
    """'One security fix is', 'Two security fixes are', '12 security fixes are' (a sentence's start)."""
    number = _WORDS[n] if n < len(_WORDS) else str(n)
    return f"{number} {one} is" if n == 1 else f"{number} {many} are"


def status_sentence(now: Status, period: Period, changes: Count) -> Sentence:
    """Is the team working: 'Work has stopped: the last change was 27 Jul 2026, 4 months ago.' or
    'The team is active: 14 changes in the last 30 days.'"""
    act = now.activity
    if act.last_change is None:
        return Sentence("No change is recorded yet.")
    last = f"the last change was {day(act.last_change)}, {ago(act.days_since)}"
    if act.state == "quiet":
        return Sentence(f"Work has stopped: {last}.", shas=act.shas)
    if act.state == "slowing":
        usual = f", while changes usually came {every(act.usual_gap)}" if act.usual_gap is not None else ""
        return Sentence(f"Work is slowing: {last}{usual}.", shas=act.shas)
    if changes.n:
        return Sentence(f"The team is active: {counted(changes.n, 'change')} in {period.name}.",
                        shas=changes.shas, counts=(changes,))
    return Sentence(f"The team is active: {last}.", shas=act.shas)


def reached_sentence(now: Status, period: Period, releases: Sequence[Release], on: date) -> Sentence:
    """What reached users: the period's releases, else the last release and when."""
    last = now.release.last
    if last is None:
        return Sentence("No release is recorded, so the project's history cannot tell what reached users.")
    when = f"{day(last.date)}, {ago((on - day_of(last.date)).days)}"
    if len(releases) > 1:
        shipped = count(r.sha for r in releases)
        newest = releases[0]
        return Sentence(f"{counted(shipped.n, 'release')} reached users in {period.name}, the latest "
                        f"{newest.version} on {day(newest.date)}, {ago((on - day_of(newest.date)).days)}.",
                        shas=shipped.shas, counts=(shipped,))
    return Sentence(f"The last release, {last.version}, reached users on {when}.", shas=(last.sha,))


def waiting_sentence(now: Status, waiting: Count, affects: Count) -> Sentence | None:
    """'Waiting for the next release are 5 changes, 2 of which may affect existing users.'; None
    with no release (then nothing can be said to wait for one)."""
    last = now.release.last
    if last is None:
        return None
    if not waiting.n:
        return Sentence(f"Nothing is waiting to ship: no change since {last.version}.")
    text = f"Waiting for the next release {'is' if waiting.n == 1 else 'are'} {counted(waiting.n, 'change')}"
    if affects.n:
        if waiting.n == 1:
            text += ", which may affect existing users"
        else:
            text += f", {affects.n} of which may affect existing users"
        return Sentence(text + ".", shas=waiting.shas, counts=(waiting, affects))
    return Sentence(text + ".", shas=waiting.shas, counts=(waiting,))


def risk_sentence(now: Status, security: Count) -> Sentence | None:
    """The risk a manager hears first: security fixes waiting to ship, else the first risk the other
    sentences have not said (breaking changes are in the waiting sentence, quiet in the status)."""
    if security.n:
        return Sentence(f"{_opens(security.n, 'security fix', 'security fixes')} waiting to ship.",
                        shas=security.shas, counts=(security,))
    other = next((r for r in now.risks if r.kind not in ("breaking", "quiet", "security")), None)
    if other is None:
        return None
    return Sentence(other.text, shas=other.shas)


def opening(now: Status, period: Period, changes: Count, releases: Sequence[Release], waiting: Count,
            affects: Count, security: Count, on: date) -> tuple[Sentence, ...]:
    """One to four sentences, in the order a manager asks: status, what reached users, what is waiting, risks."""
    said = [status_sentence(now, period, changes)]
    if now.activity.last_change is not None:
        said.append(reached_sentence(now, period, releases, on))
        said.append(waiting_sentence(now, waiting, affects))
        said.append(risk_sentence(now, security))
    return tuple(s for s in said if s is not None)


# --- the whole briefing ---------------------------------------------------------------------------


def _risk_shas(now: Status, kind: str) -> Count:
    return count(s for r in now.risks if r.kind == kind for s in r.shas)


def _impact_counts(line, digest: Digest) -> tuple[Count, ...]:
    """The numbers of an impact line: its changes, and behind the scenes also each kind's
    ('Behind the scenes: 3 changes (1 test change, 2 dependency updates)')."""
    if not line.text.startswith(f"{IMPACT_LABELS['internal']}:"):
        return (count(line.shas),)
    return (count(line.shas), *(count(kind.shas) for kind in digest.internal))


def build(name: str, description: Said | None, period: Period, now: Status, digest: Digest | None, on: date,
          waiting_listed: Sequence[Listed] = (), readings: Mapping[str, Reading] | None = None,
          notes: Mapping[str, str] | None = None) -> Briefing:
    """The briefing of one repository over ``period``, from its status and digest of that same
    period, as of the day ``on`` (``narrator.insights.periods.today``).

    ``waiting_listed``: the first ``WAITING_LISTED`` changes of ``now.release.waiting`` as the
    Changes page shows them (their headline from people's words first). ``readings``: the plain
    reading of each change the digest lists by headline, by sha (``Briefing.readings``). ``notes``: the
    model's note for users of listed changes, by sha (``Briefing.notes``).
    """
    if digest is not None and digest.period != period:
        raise ValueError(f"the digest covers {digest.period.label}, not {period.label}: one period for all")
    changes = count(s for line in (digest.by_impact if digest else ()) for s in line.shas)
    if digest is not None and changes.n != digest.counts["changes"]:
        raise ValueError(f"the impact groups count {changes.n} changes, the digest {digest.counts['changes']}")
    period_releases = list(digest.releases) if digest is not None else []
    releases = count(r.sha for r in period_releases)
    release = now.release
    waiting = count(release.waiting)
    affects = _risk_shas(now, "breaking")
    security = _risk_shas(now, "security")

    risks = Section("Risks, from git alone", GIT_FACTS,
                    tuple(Sentence(r.text, shas=r.shas, counts=(count(r.shas),)) for r in now.risks))
    listed = sorted(waiting_listed, key=lambda c: c.date, reverse=True)[:WAITING_LISTED]
    waiting_lines = []
    if release.last is not None:
        waiting_lines.append(Sentence(release.waiting_text, shas=waiting.shas, counts=(waiting,) if waiting.n else ()))
    waiting_lines += [Sentence(c.headline.text, c.headline.provenance, (c.sha,), stale=c.headline.stale,
                               lead=f"{c.date:%Y-%m-%d} {c.short_sha} {c.author}:", reading=c.reading,
                               reading_provenance=c.reading_provenance,
                               note=(notes or {}).get(c.sha, "")) for c in listed]
    if waiting.n > len(listed) and listed:
        rest = count(release.waiting[len(listed):])
        waiting_lines.append(Sentence(f"And {counted(rest.n, 'older change')} waiting to ship.",
                                      shas=rest.shas, counts=(rest,)))
    waiting_section = Section("Waiting to ship", GIT_FACTS, tuple(waiting_lines), waiting if release.last else None)

    reached_lines = [Sentence(release.text, shas=(release.last.sha,) if release.last else ())]
    if release.next:
        reached_lines.append(Sentence(" ".join(release.next)))  # "The next release is …"
    reached_lines += [Sentence(f"{r.version} ({r.date:%Y-%m-%d}, {r.sha[:8]})", shas=(r.sha,))
                      for r in period_releases]
    sure = (Sentence("How sure is this: " + " ".join(release.how_sure)),) if release.how_sure else ()
    reached = Section("What reached users", GIT_FACTS, tuple(reached_lines), releases, detail=sure,
                      counted="release in the period" if releases.n == 1 else "releases in the period")

    impact_lines = tuple(Sentence(line.text, line.provenance, line.shas, _impact_counts(line, digest))
                         for line in (digest.by_impact if digest else ()))
    by_impact = Section("By impact", GIT_FACTS, impact_lines, changes,
                        counted="change" if changes.n == 1 else "changes")
    delivery = None
    if now.delivery is not None:
        delivery = Section(f"Delivery: {now.delivery.period.label}", GIT_FACTS,
                           tuple(Sentence(line, shas=now.delivery.shas) for line in now.trend))
    about = None if description is None else Sentence(description.text, description.provenance, stale=description.stale)
    return Briefing(name, about, period, Sentence(now.activity.text, shas=now.activity.shas), now.looked,
                    opening(now, period, changes, period_releases, waiting, affects, security, on),
                    risks, waiting_section, reached, by_impact, delivery, changes, releases, affects, security, digest,
                    dict(readings or {}), now, dict(notes or {}))
