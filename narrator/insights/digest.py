"""What changed lately: a digest of one period's commits, built only from facts and people's words.

Every sentence here is a template filled from commit facts (dates, authors, areas, categories,
advisory ids) or quotes what a person wrote (a commit subject, a pull request title, changelog
lines). The model appears only where the commit facts say it does: a headline whose
``headline_source`` is "model" stands in for a developer who wrote nothing useful, and its Line says
so. Nothing here calls git, the database or a model, so the page works with none of them. The
periods it covers are ``narrator.insights.periods``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

from narrator.facts.categories import CATEGORIES
from narrator.facts.impact import GROUPS, MERGE, Impact, classify
from narrator.facts.impact import LABELS as IMPACT_LABELS
from narrator.facts.paths import TOP_LEVEL
from narrator.facts.provenance import Provenance, Source
from narrator.facts.releases import is_development_version
from narrator.insights.periods import Period, _utc

GIT_FACTS = Provenance(Source.GIT)
HEADLINE_SOURCES = {**{source: Provenance(source) for source in (Source.DEVELOPER, Source.PULL_REQUEST, Source.RELEASE_NOTES)},
                    Source.MODEL: Provenance(Source.MODEL, headline=True), Source.GIT: GIT_FACTS}
"""A commit's ``headline_source`` -> the provenance its Line carries. Earlier entries win a tie."""

TOP_AREAS = 5
TOP_NOTES = 5

_INTERNAL = (
    ("docs", "documentation update", "documentation updates"),
    ("tests", "test change", "test changes"),
    ("ci", "CI and automation change", "CI and automation changes"),
    ("dependencies", "dependency update", "dependency updates"),
    ("release", "release commit", "release commits"),
    ("maintenance", "maintenance change", "maintenance changes"),
)
"""Behind-the-scenes work by ``narrator.facts.impact`` kind, in the order listed, with its words."""
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class DigestCommit:
    """What the digest reads from a commit (any object with these attributes will do)."""

    sha: str
    date: datetime
    author: str
    area: str
    category: str
    headline: str
    headline_source: str
    version: str | None
    advisories: list[str]
    release_notes: list[str]
    paths: list[str]
    is_merge: bool
    ci: bool
    impact: Impact | None = None
    """What it means to users (``narrator.facts.impact``); None: worked out here from the facts above."""


def changes_in(commits: Iterable, period: Period) -> list:
    """The changes of ``period``, newest first: its non-merge commits (a merge only brings in commits
    counted on their own). The one count of a period's changes: the digest, the status's risks and
    delivery figures, and so the briefing (``narrator.insights.briefing``) all count with it."""
    return sorted((c for c in commits if not c.is_merge and period.contains(c.date)), key=lambda c: _utc(c.date),
                  reverse=True)


@dataclass(frozen=True)
class Line:
    """One plain sentence or phrase for a manager, with the commits it stands on."""

    text: str
    shas: tuple[str, ...]
    """The commits it stands on, newest first; empty only for the 'no changes' line of an empty period."""
    provenance: Provenance
    """Where it comes from: git facts, the developer's message, a pull request title, release notes or the
    model (a headline standing in for a subject); ``narrator.facts.provenance.label`` words it."""


@dataclass(frozen=True)
class Release:
    """A release commit and the top of what its changelog entry says."""

    version: str
    """The version, or the commit's headline when it names none."""
    sha: str
    date: datetime
    notes: tuple[str, ...]
    """The first TOP_NOTES lines the release commit added to the changelog."""
    notes_missing: bool
    """True when it added none: the page points to the release notes or changelog instead."""


@dataclass(frozen=True)
class Digest:
    """What changed in one period, section by section."""

    period: Period
    summary: list[Line]
    """One to three template sentences; each carries the commits it counts."""
    counts: dict[str, int]
    """{'changes', 'people', 'areas'}: non-merge commits, their distinct authors (ignoring case), their areas."""
    releases: list[Release]
    """Newest first."""
    security: list[Line]
    features: list[Line]
    fixes: list[Line]
    internal: list[Line]
    """One Line per kind of internal work that happened: '2 dependency updates'."""
    areas: list[Line]
    """The TOP_AREAS busiest areas: 'src: 12 changes'."""
    comparison: Line
    """Changes against the previous period of the same length."""
    empty: bool
    """True when no commit at all falls in the period."""
    affects: list[Line] = field(default_factory=list)
    """Changes that may affect existing users (breaking marks, removals, changed defaults ...)."""
    by_impact: list[Line] = field(default_factory=list)
    """One Line per impact group that happened, in ``narrator.facts.impact.GROUPS`` order: 'New for users:
    2 changes'; each stands on exactly the changes it counts, and together they count every change."""
    impact_counts: dict[str, int] = field(default_factory=dict)
    """{group: changes} for every group of ``narrator.facts.impact.GROUPS``; they add up to counts['changes']."""


def build_digest(commits: Sequence[DigestCommit], period: Period) -> Digest:
    """The digest of ``period`` from ``commits``, which may span more: it keeps what falls in the
    period, and counts what falls in ``period.previous()`` for the comparison.

    A "change" is a non-merge commit: a merge only brings in commits that are already listed. Each
    change counts in exactly one impact group (``narrator.facts.impact``), so the groups add up to the
    changes. A merge counts in none: its pull request title joins the line of a change with the
    same headline (ignoring case and spacing), so a merged branch is not listed twice, or else is
    listed on its own where its words put it (``_listed``). Identical headlines within a group
    collapse into one Line carrying all their commits. Raises ValueError for a commit in the period
    with an unknown category or headline source.
    """
    inside = sorted((c for c in commits if period.contains(c.date)), key=lambda c: _utc(c.date), reverse=True)
    for c in inside:
        _check(c)
    changes = changes_in(inside, period)
    before = period.previous()
    earlier = changes_in(commits, before)
    comparison = _comparison(changes, earlier, before)

    if not inside:
        summary = [Line(f"No changes were recorded in {period.name}.", (), GIT_FACTS)]
        return Digest(period, summary, {"changes": 0, "people": 0, "areas": 0}, [], [], [], [], [], [],
                      comparison, empty=True, impact_counts=dict.fromkeys(GROUPS, 0))

    grouped: dict[str, list] = {}
    for c in changes:
        grouped.setdefault(_impact(c).group, []).append(c)
    listed = _listed(grouped, [c for c in inside if c.is_merge])
    # A bump to a development version recorded as a release by an earlier version released nothing.
    releases = _releases([c for c in inside if c.category == "release"
                          and not (c.version and is_development_version(c.version))])
    security = [_security_line(group) for group in listed["security"]]
    affects = [_headline_line(group) for group in listed["affects"]]
    features = [_headline_line(group) for group in listed["new"]]
    fixes = [_headline_line(group) for group in listed["fixed"]]
    internal = []
    for kind, one, many in _INTERNAL:
        done = [c for c in grouped.get("internal", []) if _impact(c).kind == kind]
        if done:
            internal.append(Line(counted(len(done), one, many), _shas(done), GIT_FACTS))
    impact_counts = {group: len(grouped.get(group, [])) for group in GROUPS}
    by_impact = [_impact_line(group, grouped[group], internal) for group in GROUPS if grouped.get(group)]

    area_commits: dict[str, list] = {}
    for c in changes:
        area_commits.setdefault(c.area, []).append(c)
    ranked = sorted(area_commits.items(), key=lambda item: (-len(item[1]), item[0]))
    areas = [Line(f"{area}: {counted(len(cs), 'change')}", _shas(cs), GIT_FACTS) for area, cs in ranked[:TOP_AREAS]]
    people = {" ".join(c.author.casefold().split()) for c in changes}
    counts = {"changes": len(changes), "people": len(people), "areas": len(area_commits)}

    summary = [_overview(period, changes, counts, len(inside) - len(changes))]
    if releases or security:
        summary.append(_shipped(releases, grouped.get("security", []),
                                [c for c in inside if c.category == "release"]))
    work = _work(grouped, features + fixes + affects, ranked, len(changes))
    if work:
        summary.append(work)
    return Digest(period, summary, counts, releases, security, features, fixes, internal, areas, comparison,
                  empty=False, affects=affects, by_impact=by_impact, impact_counts=impact_counts)


def _check(c: DigestCommit) -> None:
    if c.category not in CATEGORIES:
        raise ValueError(f"commit {c.sha[:12]} has unknown category {c.category!r}; "
                         f"expected one of {', '.join(CATEGORIES)}")
    if c.headline_source not in HEADLINE_SOURCES:
        raise ValueError(f"commit {c.sha[:12]} has unknown headline source {c.headline_source!r}; "
                         f"expected one of {', '.join(HEADLINE_SOURCES)}")


def _impact(c: DigestCommit) -> Impact:
    """The commit's impact as recorded, else worked out from the facts the digest has (no breaking
    mark or changelog headings: those need the message and the diff, which the recorder reads)."""
    recorded = getattr(c, "impact", None)
    if recorded is not None:
        return recorded
    if c.is_merge:
        return Impact(MERGE, None, "a merge brings in changes that are counted on their own")
    return classify(headline=c.headline, category=c.category, paths=list(c.paths), advisories=list(c.advisories),
                    ci=c.ci, version=c.version)


def _impact_line(group: str, commits: list, internal: list[Line]) -> Line:
    """'New for users: 2 changes'; behind the scenes adds its kinds: '(1 test change, 2 dependency updates)'."""
    text = f"{IMPACT_LABELS[group]}: {counted(len(commits), 'change')}"
    if group == "internal":
        text += f" ({', '.join(line.text for line in internal)})"
    return Line(text, _shas(commits), GIT_FACTS)


_LISTED = ("affects", "security", "new", "fixed")
"""The impact groups whose changes are listed by headline (behind-the-scenes work is counted by kind)."""


def _listed(grouped: dict[str, list], merges: list) -> dict[str, list[list]]:
    """Per listed group, its changes grouped by headline (ignoring case and spacing): each group of
    commits newest first, the groups newest first.

    A merge joins the line of a change with the same headline. Otherwise, when its own words (a pull
    request's title) put it in a listed group, it is listed there on a line of its own: its title is
    often the best account of what it brought. Either way it is counted in no group.
    """
    lines: dict[str, dict[str, list]] = {group: {} for group in _LISTED}
    for group in _LISTED:
        for c in grouped.get(group, []):
            lines[group].setdefault(_words(c.headline), []).append(c)
    for merge in merges:
        key = _words(merge.headline)
        home = next((group for group in _LISTED if key in lines[group]), None)
        if home is None and not _GIT_MERGE_MESSAGE.match(merge.headline):
            home = _own_words(merge).group
        if home in lines:
            lines[home].setdefault(key, []).append(merge)

    def newest(c) -> datetime:
        return _utc(c.date)

    return {group: sorted((sorted(line, key=newest, reverse=True) for line in lines[group].values()),
                          key=lambda line: newest(line[0]), reverse=True)
            for group in _LISTED}


def _own_words(merge: DigestCommit) -> Impact:
    """What a merge's own words say, read as if it were a change."""
    return classify(headline=merge.headline, category=merge.category, paths=list(merge.paths),
                    advisories=list(merge.advisories), ci=merge.ci, version=merge.version)


_GIT_MERGE_MESSAGE = re.compile(r"\s*merge\s+(?:(?:remote-tracking\s+)?branch|pull\s+request|tag|commit)\b"
                                r"|\s*merge\s+\S+\s+into\s+\S+", re.IGNORECASE)
"""Git's own words for a merge ('Merge branch 'main' into fix-help', 'Merge stable into main'): they
name branches, not what changed, so a branch called 'fix-…' never lists a merge as a fix."""
_PULL_REQUEST_REFS = re.compile(r"(?:\s*\((?:#\d+[,\s]*)+\))+\s*$")
"""A pull request's number at the end of a headline: 'Add PowerShell completion (#3637)'."""


def _words(headline: str) -> str:
    """A headline's key: case, spacing and a trailing '(#123)' left out, so a pull request's merge
    joins the line of the change it brought in."""
    return " ".join(_PULL_REQUEST_REFS.sub("", headline).casefold().split())


def _best_worded(group: list) -> DigestCommit:
    """The commit whose headline comes from the most trusted source (people before the model)."""
    order = list(HEADLINE_SOURCES)
    return min(group, key=lambda c: order.index(c.headline_source))


def _headline_line(group: list) -> Line:
    best = _best_worded(group)
    return Line(best.headline, _shas(group), HEADLINE_SOURCES[best.headline_source])


def _security_line(group: list) -> Line:
    """The headline with its advisory ids appended, leaving out ids the headline already names."""
    best = _best_worded(group)
    named = best.headline.casefold()
    ids = [i for i in dict.fromkeys(i for c in group for i in c.advisories) if i.casefold() not in named]
    text = f"{best.headline} ({', '.join(ids)})" if ids else best.headline
    return Line(text, _shas(group), HEADLINE_SOURCES[best.headline_source])


def _releases(commits: list) -> list[Release]:
    """One Release per version (a release PR's merge and its commit are one release), newest first."""
    groups: dict[str, list] = {}
    for c in commits:
        groups.setdefault((c.version or c.headline).strip(), []).append(c)
    releases = []
    for version, group in groups.items():
        # The commit that added notes tells most; then the commit itself over its merge; then the newest.
        rep = min(group, key=lambda c: (not c.release_notes, c.is_merge, -_utc(c.date).timestamp()))
        notes = tuple(rep.release_notes[:TOP_NOTES])
        releases.append(Release(version, rep.sha, rep.date, notes, notes_missing=not notes))
    return sorted(releases, key=lambda r: _utc(r.date), reverse=True)


def _overview(period: Period, changes: list, counts: dict[str, int], merges: int) -> Line:
    if not changes:
        text = f"In {period.name}, no changes were recorded apart from {counted(merges, 'merge')}."
    else:
        where = "in 1 area" if counts["areas"] == 1 else f"across {counts['areas']} areas"
        text = (f"In {period.name}, {counted(counts['people'], 'person', 'people')} made "
                f"{counted(counts['changes'], 'change')} {where}.")
    return Line(text, _shas(changes), GIT_FACTS)


def _shipped(releases: list[Release], security: list, release_commits: list) -> Line:
    """'The team shipped two releases (2.7.0 and 2.7.1) and fixed three security problems.'

    ``security`` are the security changes (not merges): each counts once."""
    parts = []
    if releases:
        versions = [r.version for r in reversed(releases)]  # oldest first reads as a story
        parts.append(f"shipped {counted(len(releases), 'release', words=True)} ({_and(versions)})")
    if security:
        parts.append(f"fixed {counted(len(security), 'security problem', words=True)}")
    shas = _shas(release_commits) + _shas(security)
    return Line(f"The team {' and '.join(parts)}.", shas, GIT_FACTS)


def _place(area: str) -> str:
    """An area as a sentence names it: the top-level pseudo-area reads 'the top-level files'."""
    return "the top-level files" if area == TOP_LEVEL else area


def _work(grouped: dict[str, list], lines: list[Line], ranked: list, total: int) -> Line | None:
    """'They added 3 features, fixed 5 problems and made 1 change that may affect existing users;
    most of the work was in src.' Each number counts changes of one impact group; the sentence
    stands on their ``lines`` (with the merges that brought them) and the busiest areas' changes."""
    done = []
    if grouped.get("new"):
        done.append(f"added {counted(len(grouped['new']), 'feature')}")
    if grouped.get("fixed"):
        done.append(f"fixed {counted(len(grouped['fixed']), 'problem')}")
    if grouped.get("affects"):
        n = len(grouped["affects"])
        done.append(f"made {counted(n, 'change')} that may affect existing users")
    where, area_shas = "", ()
    if ranked:
        top = len(ranked[0][1])
        busiest = [(area, cs) for area, cs in ranked if len(cs) == top]
        area_shas = tuple(s for _, cs in busiest for s in _shas(cs))
        if len(busiest) > 1:
            where = f"the busiest areas were {_and([_place(area) for area, _ in busiest])}"
        elif 2 * top > total:
            where = f"most of the work was in {_place(busiest[0][0])}"
        else:
            where = f"the busiest area was {_place(busiest[0][0])}"
    if not done and not where:
        return None
    if done:
        text = f"They {_and(done)}" + (f"; {where}." if where else ".")
    else:
        text = where[0].upper() + where[1:] + "."
    shas = tuple(s for line in lines for s in line.shas) + area_shas
    return Line(text, tuple(dict.fromkeys(shas)), GIT_FACTS)


def _comparison(changes: list, earlier: list, before: Period) -> Line:
    """'12 changes, up from 7 in the 7 days before.' (or 'the same as', 'down from', 'No changes in'):
    a sentence of its own, read on its own under the period's lists."""
    now, then = len(changes), len(earlier)
    said = counted(now, "change") if now else "No changes"
    if not then:
        text = f"No changes in this period or {before.name}" if not now else f"{said}; no changes in {before.name}"
    elif now > then:
        text = f"{said}, up from {then} in {before.name}"
    elif now == then:
        text = f"{said}, the same as in {before.name}"
    else:
        text = f"{said}, down from {then} in {before.name}"
    return Line(f"{text}.", _shas(changes) + _shas(earlier), GIT_FACTS)


def _shas(commits: list) -> tuple[str, ...]:
    return tuple(c.sha for c in commits)


def counted(n: int, one: str, many: str | None = None, words: bool = False) -> str:
    """'1 change', '3 changes'; with ``words``, 'three changes' up to ten. The one count phrase of
    the digest, the status, the briefing and the reports."""
    number = _WORDS[n] if words and n < len(_WORDS) else str(n)
    return f"{number} {one if n == 1 else (many or one + 's')}"


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
