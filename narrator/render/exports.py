"""Reports to share: one repository (or several) over a period, built as one document.

A report is first built as a small document (:class:`Report`: headings, sentences with their source
labels, lists, charts), from the service only, so the three formats say the same thing; then it is
rendered by ``narrator.render.renderers`` (Markdown, HTML or PDF). Sections: the status line (``narrator.insights.status``), what the software does, the release
status (waiting to ship, risks, delivery figures), its main parts, the digest of the period, activity
and releases charts, releases, security fixes, and every change of the period with its sources. Jargon
in headlines and plain readings is explained inline at its first use in the report (``narrator.facts.glossary``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timezone
from functools import partial

from narrator.defaults import REPORT_PERIOD
from narrator.facts import glossary, provenance
from narrator.facts.categories import size_phrase
from narrator.facts.provenance import Source
from narrator.facts.reading import LABEL as READING_LABEL
from narrator.git.sources import looks_like_url, without_credentials
from narrator.insights.briefing import NOTE_LABEL, NOTE_SOURCE, Briefing
from narrator.insights.delivery import HOTFIX_DAYS
from narrator.insights.periods import Period, today
from narrator.insights.portfolio import figures
from narrator.render import charts
from narrator.render.document import (
    Block,
    Bullet,
    Bullets,
    Chart,
    Heading,
    Paragraph,
    Report,
    Sentence,
    Table,
)
from narrator.render.renderers import ReportError, check_format, render
from narrator.render.show import refs
from narrator.service.core import NarratorService
from narrator.service.views import SHALLOW_NOTE, CommitView, RepoView

CHANGES_LIMIT = 200
"""At most this many changes of the period are listed one by one; a line counts the rest."""


Links = Callable[[RepoView | None, Period], Sequence[Block]]
"""The links (``Link`` blocks) a report shows for one repository, or for the whole portfolio (None)."""

GIT_FACTS, RELEASE_NOTES = provenance.label(Source.GIT), provenance.label(Source.RELEASE_NOTES)
"""The labels of the report's template sentences and of release notes quoted."""


def _no_links(repo: RepoView | None, period: Period) -> Sequence[Block]:
    return ()


def document(service: NarratorService, repo_ids: Sequence[int], period: str | tuple[date, date] = REPORT_PERIOD,
             links: Links = _no_links, briefs: Mapping[int, Briefing] | None = None, emailed: bool = False) -> Report:
    """The report of ``repo_ids`` over ``period``: one repository, or a portfolio of several; ``links``
    adds links into the dashboard (an e-mailed briefing's), at the top and under each repository's name.
    ``briefs``: their briefings over that period when already built (an e-mail's subject is read off them).
    ``emailed``: for readers away from the server, so no folder of the server is named (``shown_source``)."""
    if not repo_ids:
        raise ReportError("No repository to report on: add and narrate one first.")
    single = len(repo_ids) == 1
    blocks: list[Block] = []
    explained = glossary.Explained()  # jargon is explained inline at its first use in the whole report
    repos = [service.repository(i) for i in repo_ids]
    for repo in repos:
        if repo.narrated_at is None and not service.store.count_commits(repo.id):
            raise ReportError(f"{repo.source} has not been narrated yet: run 'python -m narrator narrate {repo.source}' first.")
    chosen = service.period(period, repo_ids)  # one period: every repository over the same dates
    briefs = dict(briefs) if briefs is not None else {repo.id: service.briefing(repo.id, chosen) for repo in repos}
    blocks += links(repos[0] if single else None, chosen)
    if not single:
        blocks += [Heading(f"Comparison: {chosen.label}", 2), _comparison(repos, briefs),
                   Paragraph((Sentence(COMPARISON_NOTE),), note=True)]
    for repo in repos:
        if not single:
            blocks += [Heading(repo.name, 2), *links(repo, chosen)]
        blocks += _repository(service, repo.id, briefs[repo.id], 2 if single else 3, explained, emailed)
    made = datetime.now(timezone.utc)
    if single:
        repo = repos[0]
        narrated = f", narrated {repo.narrated_at:%Y-%m-%d}" if repo.narrated_at else ""
        source = shown_source(repo) if emailed else repo.source
        return Report(repo.name, f"Report made {made:%Y-%m-%d} from {source}{narrated}.", tuple(blocks), made)
    return Report(f"Portfolio of {len(repos)} repositories",
                  f"Report made {made:%Y-%m-%d}: {', '.join(r.name for r in repos)}.", tuple(blocks), made)


def shown_source(repo: RepoView) -> str:
    """How a report read away from the server names a repository: its clone URL without credentials (public),
    else its name, never a folder of the server."""
    return without_credentials(repo.source) if looks_like_url(repo.source) else repo.name


COMPARISON = ("Repository", "Status", "Last change", "Changes", "Waiting to ship", "Risks", "Releases",
              "Lead time", "Hotfix rate", "Trend")
"""The columns of a portfolio report's comparison, one row per repository."""
COMPARISON_NOTE = ("Every figure is the one in that repository's own section below, over the same days. "
                   "Waiting to ship: every change since the last release, and of those, how many may affect "
                   "users or fix a security problem. Releases: in the period, and per 30 days. Lead time: the "
                   "median days a change waited for the release that shipped it. Hotfix rate: how many of the "
                   f"period's releases were followed by a patch release within {HOTFIX_DAYS} days. Trend: "
                   "against the period before, of the same length. A dash: no release to measure.")


def _comparison(repos, briefs: dict[int, Briefing]) -> Table:
    """One row per repository, all over the same period, read off its briefing (``narrator.insights.portfolio.figures``)."""
    rows = []
    for repo in repos:
        f = figures(briefs[repo.id])
        rows.append((repo.name, f.status, f.last_change_words, str(f.changes.n), f.waiting_words, f.risk_words,
                     f.release_rate or str(f.releases.n), f.lead_time or "\u2014", f.hotfix_rate or "\u2014",
                     f.trend or "\u2014"))
    return Table(COMPARISON, tuple(rows), GIT_FACTS)


def _repository(service: NarratorService, repo_id: int, brief: Briefing, level: int,
                explained: glossary.Explained, emailed: bool = False) -> list[Block]:
    """One repository's sections (``emailed``: naming no folder of the server); the jargon of its headlines and plain readings is explained inline
    where ``explained`` (the whole report's) has not explained it yet."""
    view = service.overview(repo_id, None)
    blocks: list[Block] = [Paragraph((Sentence(brief.status.text, provenance.label(brief.status.provenance)),)),
                           Paragraph((Sentence(brief.looked),), note=True)]
    if view.repo.folder_gone:
        folder = "'s folder" if emailed else f" folder {view.repo.source}"
        blocks.append(Paragraph((Sentence(f"The repository{folder} is gone; "
                                          "this is what was narrated before."),), note=True))
    if view.repo.shallow:
        blocks.append(Paragraph((Sentence(SHALLOW_NOTE),), note=True))
    blocks += _briefing(brief, level, explained)
    blocks.append(Heading("What this software does", level))
    described = [*view.descriptions, *([view.summary] if view.summary else [])]
    blocks += [Paragraph((Sentence(d.text, provenance.label(d.provenance), d.stale),)) for d in described]
    if not described:
        blocks.append(Paragraph((Sentence("Not described yet: no package description or README, and nothing narrated."),), note=True))
    blocks.append(Heading("Its main parts", level))
    blocks.append(Bullets(tuple(
        Bullet(f"{part.area} ({part.role}, {part.files} file{'s' if part.files != 1 else ''}):",
               (Sentence(part.narrative.text, provenance.label(part.narrative.provenance), part.narrative.stale),)
               if part.narrative
               else (Sentence("not described: no README or docstring of its own"),))
        for part in view.parts)))
    digest = brief.digest
    if digest is None:
        blocks += [Heading("What changed", level), Paragraph((Sentence("No changes have been read yet."),), note=True)]
        return blocks
    first, last = digest.period.first_day, digest.period.last_day
    blocks.append(Heading(f"What changed: {digest.period.label}", level))
    blocks.append(Paragraph(tuple(Sentence(line.text, provenance.label(line.provenance)) for line in digest.summary)))
    if brief.by_impact.lines:  # an empty period says so above: no empty heading
        blocks += [Heading(brief.by_impact.heading, level + 1), _said(brief.by_impact.lines, explained)]
    for title, lines in (("May affect existing users", digest.affects),
                         ("New for users", digest.features), ("Fixed for users", digest.fixes),
                         ("Behind the scenes", digest.internal),
                         ("Areas that moved most", digest.areas)):
        if lines:
            blocks += [Heading(title, level + 1),
                       _lines(lines, explained, *((brief.reading_of, brief.note_of) if lines is not digest.areas
                                                  else (_no_reading, _no_reading)))]
    blocks.append(Paragraph((Sentence(digest.comparison.text, provenance.label(digest.comparison.provenance)),)))
    blocks += _charts(service, repo_id, first, last, level)
    blocks.append(Heading("Releases", level))
    if digest.releases:
        blocks.append(Bullets(tuple(
            Bullet(f"{release.version} ({release.date:%Y-%m-%d}, {release.sha[:8]})",
                   sub=tuple(Bullet(sentences=(Sentence(note, RELEASE_NOTES),)) for note in release.notes)
                   or (Bullet(sentences=(Sentence("No release notes in this commit: see the project's changelog."),)),))
            for release in digest.releases)))
    else:
        blocks.append(Paragraph((Sentence("No release in this period.", GIT_FACTS),), note=True))
    blocks.append(Heading("Security fixes", level))
    if digest.security:
        blocks.append(_lines(digest.security, explained, brief.reading_of, brief.note_of))
    else:
        blocks.append(Paragraph((Sentence("No security fix in this period.", GIT_FACTS),), note=True))
    # The changes the briefing counts: merges bring in changes listed on their own.
    counted = set(brief.changes.shas)
    changes = [c for c in service.changes(repo_id, since=first, until=last) if c.sha in counted]
    blocks.append(Heading(f"Every change in the period ({brief.changes.n})", level))
    blocks.append(Bullets(tuple(_change(change, explained) for change in changes[:CHANGES_LIMIT])))
    if len(changes) > CHANGES_LIMIT:
        blocks.append(Paragraph((Sentence(f"And {len(changes) - CHANGES_LIMIT} older changes in the period, "
                                          "listed on the dashboard's Changes page."),), note=True))
    return blocks


def _briefing(brief: Briefing, level: int, explained: glossary.Explained) -> list[Block]:
    """The briefing (``narrator.insights.briefing``) laid out: what it does, the opening, then risks, waiting
    to ship, what reached users and delivery figures, every sentence with its source and commits."""
    blocks: list[Block] = []
    if brief.description is not None:
        about = brief.description
        blocks.append(Paragraph((Sentence("What it does: " + about.text, provenance.label(about.provenance), about.stale),)))
    blocks += [Heading(f"In brief: {brief.period.label}", level), Paragraph(tuple(s for said in brief.opening for s in _with_commits(said)))]
    for section in (brief.risks, brief.waiting, brief.reached, *([brief.delivery] if brief.delivery else [])):
        if not section.lines and section is not brief.risks:
            continue
        blocks.append(Heading(section.heading, level + 1))
        if section.lines:
            blocks.append(_said(section.lines, explained))
        else:
            blocks.append(Paragraph((Sentence("No risk that git alone can show.", GIT_FACTS),), note=True))
        if section.detail:
            blocks.append(Paragraph(tuple(Sentence(s.text, provenance.label(s.provenance)) for s in section.detail), note=True))
    return blocks


def _with_commits(said) -> tuple[Sentence, ...]:
    """A briefing sentence with its source, then the commits it stands on."""
    return (Sentence(said.text, provenance.label(said.provenance), said.stale), *((Sentence(refs(said.shas).strip()),) if said.shas else ()))


def _said(lines, explained: glossary.Explained) -> Bullets:
    """Briefing sentences (``narrator.insights.briefing.Sentence``) as bullets: lead, text with source, commits.
    A listed change (one with a plain reading) has the jargon of its headline and reading explained."""
    items = []
    for s in lines:
        said = _with_commits(s)
        if s.reading:
            said = (_glossed(explained, s.text, provenance.label(s.provenance), s.stale), *said[1:])
        items.append(Bullet(s.lead, said, _reading(s.reading) + _note(s.note)))
    return Bullets(tuple(items))


def _glossed(explained: glossary.Explained, text: str, label: str | None = None, stale: bool = False) -> Sentence:
    """A sentence whose jargon the report has not explained yet is explained beside it."""
    return Sentence(text, label, stale, explained.glosses(text))


def _reading(text: str) -> tuple[Bullet, ...]:
    """A listed change's plain reading (``narrator.facts.reading``) as its first sub-item, labelled git facts.
    Its words are everyday ones already; its folder, in brackets, is a name: nothing is explained."""
    return (Bullet(sentences=(Sentence(f"{READING_LABEL}: {text}", GIT_FACTS),)),) if text else ()


def _note(text: str) -> tuple[Bullet, ...]:
    """A listed change's note for users by the model (``Briefing.notes``) as a sub-item, labelled the model's."""
    return (Bullet(sentences=(Sentence(f"{NOTE_LABEL}: {text}", provenance.label(NOTE_SOURCE)),)),) if text else ()


def _no_reading(shas: Sequence[str]) -> str:
    """No plain reading: an area's line counts changes, it heads none."""
    return ""


def _lines(lines, explained: glossary.Explained, reading_of: Callable[[Sequence[str]], str] = _no_reading,
           note_of: Callable[[Sequence[str]], str] = _no_reading) -> Bullets:
    """Digest lines (``narrator.insights.digest.Line``) with their source and the commits they stand on, and
    under a listed headline its plain reading (``Briefing.reading_of``) and the model's note for users
    (``Briefing.note_of``)."""
    items = []
    for line in lines:
        commits = (Sentence(f"({', '.join(sha[:8] for sha in line.shas[:5])})"),) if line.shas else ()
        items.append(Bullet(sentences=(_glossed(explained, line.text, provenance.label(line.provenance)), *commits),
                            sub=_reading(reading_of(line.shas)) + _note(note_of(line.shas))))
    return Bullets(tuple(items))


def _change(change: CommitView, explained: glossary.Explained) -> Bullet:
    """A change as the report lists it: the facts, the headline, then explanation, notes, evidence."""
    kind = change.category + (f" {change.version}" if change.version else "")
    where = change.area + (f" \u00b7 {change.scope}" if change.scope and change.scope != change.area else "")
    sub = []
    if change.explanation is not None:
        explanation = change.explanation
        sub.append(Bullet(sentences=(Sentence(explanation.text, provenance.label(explanation.provenance), explanation.stale),)))
    sub += [Bullet(sentences=(Sentence(note, RELEASE_NOTES),)) for note in change.release_notes[:5]]
    evidence = [size_phrase(len(change.files), change.added, change.removed)]
    for name, values in (("advisories", change.advisories), ("references", change.refs), ("tags", change.tags)):
        if values:
            evidence.append(f"{name} {', '.join(values)}")
    if change.headline.by_model or change.headline.text != change.subject:
        evidence.append(f"developer's subject \u201c{change.subject}\u201d")
    if change.date_note:
        evidence.append(change.date_note)
    headline = _glossed(explained, change.headline.text, provenance.label(change.headline.provenance),
                        change.headline.stale)
    sub += _reading(change.reading)
    sub.append(Bullet(sentences=(Sentence("Evidence: " + "; ".join(evidence), GIT_FACTS),)))
    return Bullet(f"{change.date:%Y-%m-%d} {change.short_sha} [{kind}, {where}] {change.author}:", (headline,), tuple(sub))


def _charts(service: NarratorService, repo_id: int, first: date, last: date, level: int) -> list[Block]:
    """Activity per week by kind over the last 12 months (or the whole period, if longer), and releases.

    The charts never reach past today: a period in the year 9999 would otherwise draw 96,000 empty months.
    """
    start, end = service.chart_range(repo_id) or (first, min(last, today()))
    start, end = min(start, first), max(end, min(last, today()))
    grain = "week" if (end - start).days <= 7 * 80 else "month"
    points = service.activity(repo_id, "category", grain, start, end)
    keys = [k for k in charts.LABELS if any(p.key == k for p in points)]
    keys += sorted({p.key for p in points} - set(keys))
    counts = {(p.period, p.key): p.changes for p in points}
    periods = sorted({p.period for p in points if p.changes})
    table = ((f"{grain.capitalize()} starting", *map(charts.label, keys), "Total"),
             *((f"{day:%Y-%m-%d}", *(str(counts.get((day, k), 0)) for k in keys),
                str(sum(counts.get((day, k), 0) for k in keys))) for day in periods))
    released = [r for r in service.releases(repo_id) if start <= r.date.date() <= end]
    return [
        Heading("Activity", level),
        Chart(f"Changes per {grain} by kind of change, {start:%Y-%m-%d} to {end:%Y-%m-%d}; "
              "the shaded part is this report's period.",
              partial(_activity_drawing, points, (first, last)), table),
        Heading("Releases over time", level + 1),
        Chart(f"Releases from {start:%Y-%m-%d} to {end:%Y-%m-%d} ({len(released)}).",
              partial(_releases_drawing, released, start, end),
              (("Version", "Date", "Commit"), *((r.version, f"{r.date:%Y-%m-%d}", r.sha[:8]) for r in released))),
    ]


def _activity_drawing(points, highlight, font: str):
    return charts.activity(points, highlight, font=font)


def _releases_drawing(released, start, end, font: str):
    return charts.releases(released, start, end, font=font)


def build(service: NarratorService, repo_ids: Sequence[int], period: str | tuple[date, date] = REPORT_PERIOD,
          fmt: str = "md") -> bytes:
    """The report of ``repo_ids`` over ``period`` in ``fmt``, as file bytes."""
    return render(document(service, repo_ids, period), check_format(fmt))
