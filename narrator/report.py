"""Plain-text renderings of the cache for the terminal: the run summary and ``narrator show``.

Every sentence carries its source as a marker (``[developer's message]``, ``[written by the model
(checked)]``, ...), and jargon in headlines is explained in footnotes at the end.

Everything taken from the repository or the model (messages, names, README text, answers) is
untrusted: ``show`` escapes it as Markdown and the summary strips it to plain text
(``narrator.text``), so no control code, HTML or link in a commit message reaches the reader.
"""

from __future__ import annotations

from narrator import glossary
from narrator.facts import size_phrase
from narrator.provenance import Said
from narrator.briefing import GIT_FACTS, Briefing, Sentence
from narrator.reading import LABEL as READING_LABEL
from narrator.service import SHALLOW_NOTE, CommitView, NarratorService
from narrator.text import markdown_text as md
from narrator.text import plain


def marker(label: str, stale: bool = False) -> str:
    """The provenance marker written after a sentence (Markdown; the label is escaped)."""
    return f" [{md(label)}{', out of date' if stale else ''}]"


def said(item: Said) -> str:
    return md(item.text) + marker(item.label, item.stale)


def _narrative(view) -> str:
    return md(view.text) + marker(view.label, view.stale)


def _plain_narrative(view) -> str:
    """A narrative and its source as one line of plain text, for the terminal summary."""
    return f"{plain(view.text)} [{plain(view.label)}{', out of date' if view.stale else ''}]"


def gone_note(folder: str) -> str:
    """What ``show`` says about a repository whose folder was moved or deleted (Markdown)."""
    return f"The repository folder {md(folder)} is gone; showing what was narrated before."


def change_lines(change: CommitView) -> list[str]:
    """A change as Markdown list lines: headline, then its explanation, release notes and evidence."""
    size = size_phrase(len(change.files), change.added, change.removed)
    kind = md(change.category + (f" {change.version}" if change.version else ""))
    where = md(change.area + (f" \u00b7 {change.scope}" if change.scope and change.scope != change.area else ""))
    lines = [f"- {change.date:%Y-%m-%d} {change.short_sha} [{kind}, {where}] {md(change.author)}: {said(change.headline)}"]
    if change.future_note:
        lines.append(f"  - Warning: {md(change.future_note)}{marker('git facts')}")
    if change.explanation is not None:
        lines.append(f"  - {said(change.explanation)}")
    for note in change.release_notes[:5]:
        lines.append(f"  - {md(note)}{marker('release notes')}")
    if change.category == "release" and not change.release_notes:
        lines.append("  - This release added no notes of its own: see the project's changelog or release page.")
    evidence = [size]
    if change.advisories:
        evidence.append("advisories " + ", ".join(map(md, change.advisories)))
    if change.refs:
        evidence.append("references " + ", ".join(map(md, change.refs)))
    if change.tags:
        evidence.append("tags " + ", ".join(map(md, change.tags)))
    if change.headline.source == "model" or change.headline.text != change.subject:
        evidence.append(f"developer's subject \u201c{md(change.subject)}\u201d")
    if change.date_note:
        evidence.append(md(change.date_note))
    if change.reading:  # what it means and where, from facts, just before the facts it stands on
        lines.append(f"  - {READING_LABEL}: {md(change.reading)}{marker(GIT_FACTS)}")
    lines.append(f"  - Evidence: {'; '.join(evidence)}{marker('git facts')}")
    return lines


def refs(shas) -> str:
    """' (1a2b3c4d, 5e6f7a8b)': the first commits a sentence stands on; '' when it stands on none."""
    if not shas:
        return ""
    more = f", and {len(shas) - 5} more" if len(shas) > 5 else ""
    return f" ({', '.join(s[:8] for s in shas[:5])}{more})"


def _sentence(s: Sentence) -> str:
    lead = f"{md(s.lead)} " if s.lead else ""
    return f"{lead}{md(s.text)}{marker(s.source, s.stale)}{refs(s.shas)}"


def briefing_lines(b: Briefing) -> list[str]:
    """The briefing as Markdown lines: the status line, when Code Narrator last looked, what the
    software does, the opening, then risks, waiting to ship, what reached users and delivery figures,
    every sentence with its source and the commits it stands on. Lays out ``b`` only: no number is
    worked out here."""
    lines = [f"**{md(b.status.text)}**{marker(b.status.source)}", "", md(b.looked), ""]
    if b.description is not None:
        lines += [f"What it does: {md(b.description.text)}{marker(b.description.source, b.description.stale)}", ""]
    lines += [f"## In brief: {md(b.period.label)}", "", " ".join(f"{md(s.text)}{refs(s.shas)}" for s in b.opening) + marker(GIT_FACTS)]
    for section in (b.risks, b.waiting, b.reached, *([b.delivery] if b.delivery else [])):
        if not section.lines and section is not b.risks:
            continue
        lines += ["", f"### {md(section.heading)}", ""]
        for s in section.lines:
            lines.append(f"- {_sentence(s)}")
            if s.reading:
                lines.append(f"  - {READING_LABEL}: {md(s.reading)}{marker(GIT_FACTS)}")
        lines += [f"- {_sentence(s)}" for s in section.detail]
        if section is b.risks and not section.lines:
            lines.append(f"_No risk that git alone can show._{marker(GIT_FACTS)}")
    return lines


def markdown(service: NarratorService, repo_id: int, commits: int = 30, period: str = "7d") -> str:
    """The overview, the main parts, the digest and the latest changes as Markdown, with sources."""
    view = service.overview(repo_id, None)
    brief = service.briefing(repo_id, period)
    lines = [f"# {md(view.repo.name)}", "", *briefing_lines(brief), ""]
    if view.repo.folder_gone:
        lines += [f"_{gone_note(view.repo.source)}_", ""]
    if view.repo.shallow:
        lines += [f"_{SHALLOW_NOTE}_", ""]
    lines += ["## What this software does", ""]
    for description in view.descriptions:
        lines.append(_narrative(description))
        lines.append("")
    if view.summary is not None:
        lines += [_narrative(view.summary), ""]
    if not view.descriptions and view.summary is None:
        lines += ["_Not described yet: no package description or README, and nothing narrated._", ""]
    lines += ["## Its main parts", ""]
    for part in view.parts:
        text = _narrative(part.narrative) if part.narrative else "_not described yet_"
        lines.append(f"- **{md(part.area)}** ({part.role}, {part.files} files): {text}")
    # The words to explain: every headline shown and every plain reading (it may say "CI", "dependency").
    headlines: list[str] = [t for s in brief.waiting.lines for t in (s.text, s.reading) if t]
    if brief.digest is not None:
        digest = brief.digest
        lines += ["", f"## What changed lately: {digest.period.label}", ""]
        lines += [f"{md(line.text)}{marker(line.source)}" for line in digest.summary]
        lines += ["", f"### {md(brief.by_impact.heading)}", ""]
        lines += [f"- {_sentence(s)}" for s in brief.by_impact.lines]
        sections = [("May affect existing users", digest.affects),
                    ("Security fixes", digest.security), ("New for users", digest.features),
                    ("Fixed for users", digest.fixes), ("Behind the scenes", digest.internal),
                    ("Areas that moved most", digest.areas)]
        if digest.releases:
            lines += ["", "### Releases", ""]
            for release in digest.releases:
                lines.append(f"- **{md(release.version)}** ({release.date:%Y-%m-%d}, {release.sha[:8]})")
                lines += [f"  - {md(note)}{marker('release notes')}" for note in release.notes]
                if release.notes_missing:
                    lines.append("  - No release notes in this commit: see the project's changelog.")
        for title, items in sections:
            if items:
                lines += ["", f"### {title}", ""]
                for item in items:
                    lines.append(f"- {md(item.text)}{marker(item.source)} ({', '.join(s[:8] for s in item.shas[:5])})")
                    if items is not digest.areas and brief.reading_of(item.shas):  # a listed headline
                        lines.append(f"  - {READING_LABEL}: {md(brief.reading_of(item.shas))}{marker(GIT_FACTS)}")
                headlines += [item.text for item in items]
                headlines += [brief.reading_of(item.shas) for item in items if items is not digest.areas]
        lines += ["", f"{md(digest.comparison.text)}{marker(digest.comparison.source)}"]
    lines += ["", "## Recent changes", ""]
    for change in service.changes(repo_id, limit=max(0, commits)):
        lines += change_lines(change)
        headlines += [change.headline.text, change.reading]
    notes = glossary.footnotes(headlines)
    if notes:
        lines += ["", "## Words used above", ""]
        lines += [f"- **{term}**: {explanation}" for term, explanation in notes]  # glossary.json: ours
    return "\n".join(lines)


def summary_text(service: NarratorService, repo_id: int, report) -> str:
    """A one-screen summary after ``narrator narrate``."""
    view = service.overview(repo_id, None)
    brief = service.briefing(repo_id, "7d")
    lines = [
        f"{plain(view.repo.name)}: {report.narrated} new narratives, {report.cached} from the cache, "
        f"{report.model_calls} model calls; {report.flagged} model answers edited or dropped by the checks.",
        f"Read {view.counts['files']} files ({view.counts['units']} parts) and {report.commits} commits.",
    ]
    if report.skipped_note:
        lines.append(plain(report.skipped_note))
    lines += ["", "What this software does:"]
    described = [*view.descriptions, *([view.summary] if view.summary else [])]
    lines += [f"  {_plain_narrative(d)}" for d in described] or ["  (not described yet)"]
    lines += ["", f"In brief: {plain(brief.status.text)}"]
    lines += [f"  {plain(said.text)}" for said in brief.opening]
    if brief.digest is not None:
        lines += ["", f"What changed lately ({plain(brief.digest.period.label)}):"]
        lines += [f"  {plain(line.text)}" for line in brief.digest.summary]
    lines += ["", "Run 'python -m narrator show REPO' for the full narrative, or open the dashboard."]
    return "\n".join(lines)
