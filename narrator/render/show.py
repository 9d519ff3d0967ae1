"""Renderings of the cache for the terminal: ``narrator show`` and the run summary after ``narrate``.

``show`` prints the briefing, what the software does, the digest and the latest changes as plain
terminal text (:func:`text`: headings underlined, bullets, wrapped to the terminal's width without
breaking words), or as Markdown with ``--format markdown`` (:func:`markdown`). Both are laid out by
the same functions, so they print the same words and numbers; only the style differs (:class:`Style`).
In the text, a sentence's source is a short label in brackets after it (``[developer's message]``,
``[written by the model (checked)]``); git facts, most of every block, go unlabelled, as its legend says.
In Markdown every sentence is labelled.

Jargon in headlines and plain readings is explained inline, right after its first use in the output
(``narrator.facts.glossary.Explained``): "CI (continuous integration: ...)". People's words stay as they are.

Everything taken from the repository or the model (messages, names, README text, answers) is
untrusted: the text drops control characters and escape sequences (``narrator.text.plain``, so a
subject holding ``ESC[31m`` cannot colour the terminal), Markdown escapes it as well.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from narrator.defaults import COMMITS, DIGEST_PERIOD
from narrator.facts import glossary
from narrator.facts.categories import size_phrase
from narrator.facts import provenance
from narrator.facts.provenance import Provenance, Said, Source
from narrator.facts.reading import LABEL as READING_LABEL
from narrator.insights.briefing import GIT_FACTS, NOTE_LABEL, NOTE_SOURCE, Briefing, Sentence
from narrator.insights.digest import counted
from narrator.service.core import NarratorService
from narrator.service.views import SHALLOW_NOTE, CommitView
from narrator.text import markdown_text as md
from narrator.text import plain

FALLBACK_WIDTH = 100
"""The width ``show`` wraps to when the terminal's is unknown (output to a file or a pipe)."""

_UNDERLINES = {1: "=", 2: "-"}
"""The text style's heading underlines by level; deeper headings use "~"."""


@dataclass(frozen=True)
class Style:
    """How ``show`` writes untrusted text, emphasis, asides, headings and source labels."""

    text: Callable[[str], str]
    """Untrusted text, shown exactly as written."""
    strong: Callable[[str], str]
    note: Callable[[str], str]
    """An aside (a partial history, a folder that is gone, an empty section)."""
    heading: Callable[[str, int], list[str]]
    label: Callable[[Provenance, bool], str]
    """A sentence's provenance in words (and whether it is out of date), written after it."""
    legend: str = ""
    """A line under the title saying how sources are shown."""


def marker(label: str, stale: bool = False) -> str:
    """The provenance marker written after a sentence (Markdown; the label is escaped)."""
    return f" [{md(label)}{', out of date' if stale else ''}]"


def _markdown_label(said: Provenance, stale: bool = False) -> str:
    """Markdown's marker: the label in brackets after every sentence."""
    return marker(provenance.label(said), stale)


def _text_label(said: Provenance, stale: bool = False) -> str:
    """The text's marker: none for git facts (the legend says so), else the label in brackets."""
    if said.source is Source.GIT and not stale:
        return ""
    return f" [{plain(provenance.label(said))}{', out of date' if stale else ''}]"


RELEASE_NOTES = Provenance(Source.RELEASE_NOTES)


def _underlined(text: str, level: int) -> list[str]:
    return [text, _UNDERLINES.get(level, "~") * len(text)]


MARKDOWN = Style(md, lambda t: f"**{t}**", lambda t: f"_{t}_", lambda t, level: [f"{'#' * level} {t}"], _markdown_label)
TEXT = Style(plain, str, str, _underlined, _text_label,
             legend=f"A source in brackets follows a sentence taken from people's words or a model; "
                    f"every other line is {provenance.label(GIT_FACTS)}.")


def said(item: Said, style: Style = MARKDOWN, explained: glossary.Explained | None = None) -> str:
    """People's or the model's words with their source; jargon explained where ``explained`` asks."""
    text = explained.explain(item.text) if explained is not None else item.text
    return style.text(text) + style.label(item.provenance, item.stale)


def _narrative(view, style: Style) -> str:
    return style.text(view.text) + style.label(view.provenance, view.stale)


def _plain_narrative(view) -> str:
    """A narrative and its source as one line of plain text, for the terminal summary."""
    return f"{plain(view.text)} [{plain(provenance.label(view.provenance))}{', out of date' if view.stale else ''}]"


def gone_note(folder: str, style: Style = MARKDOWN) -> str:
    """What ``show`` says about a repository whose folder was moved or deleted."""
    return f"The repository folder {style.text(folder)} is gone; showing what was narrated before."


def change_lines(change: CommitView, style: Style = MARKDOWN, explained: glossary.Explained | None = None) -> list[str]:
    """A change as list lines: headline, then its explanation, release notes and evidence."""
    esc, label = style.text, style.label
    size = size_phrase(len(change.files), change.added, change.removed)
    kind = esc(change.category + (f" {change.version}" if change.version else ""))
    where = esc(change.area + (f" \u00b7 {change.scope}" if change.scope and change.scope != change.area else ""))
    lines = [f"- {change.date:%Y-%m-%d} {change.short_sha} [{kind}, {where}] {esc(change.author)}: "
             f"{said(change.headline, style, explained)}"]
    if change.future_note:
        lines.append(f"  - Warning: {esc(change.future_note)}{label(GIT_FACTS, False)}")
    if change.explanation is not None:
        lines.append(f"  - {said(change.explanation, style)}")
    for note in change.release_notes[:5]:
        lines.append(f"  - {esc(note)}{label(RELEASE_NOTES, False)}")
    if change.category == "release" and not change.release_notes:
        lines.append("  - This release added no notes of its own: see the project's changelog or release page.")
    evidence = [size]
    if change.advisories:
        evidence.append("advisories " + ", ".join(map(esc, change.advisories)))
    if change.refs:
        evidence.append("references " + ", ".join(map(esc, change.refs)))
    if change.tags:
        evidence.append("tags " + ", ".join(map(esc, change.tags)))
    if change.headline.by_model or change.headline.text != change.subject:
        evidence.append(f"developer's subject \u201c{esc(change.subject)}\u201d")
    if change.date_note:
        evidence.append(esc(change.date_note))
    if change.reading:  # what it means and where, from facts, just before the facts it stands on
        lines.append(f"  - {READING_LABEL}: {style.text(change.reading)}{label(GIT_FACTS, False)}")
    lines.append(f"  - Evidence: {'; '.join(evidence)}{label(GIT_FACTS, False)}")
    return lines


def _explained(text: str, style: Style, explained: glossary.Explained | None) -> str:
    return style.text(explained.explain(text) if explained is not None else text)


def refs(shas) -> str:
    """' (1a2b3c4d, 5e6f7a8b)': the first commits a sentence stands on; '' when it stands on none."""
    if not shas:
        return ""
    more = f", and {len(shas) - 5} more" if len(shas) > 5 else ""
    return f" ({', '.join(s[:8] for s in shas[:5])}{more})"


def _sentence(s: Sentence, style: Style = MARKDOWN, explained: glossary.Explained | None = None) -> str:
    """A briefing sentence; a listed change's headline (one with a plain reading) has its jargon explained."""
    lead = f"{style.text(s.lead)} " if s.lead else ""
    text = _explained(s.text, style, explained if s.reading else None)
    return f"{lead}{text}{style.label(s.provenance, s.stale)}{refs(s.shas)}"


def briefing_lines(b: Briefing, style: Style = MARKDOWN, explained: glossary.Explained | None = None) -> list[str]:
    """The briefing's lines: the status line, when Code Narrator last looked, what the software does,
    the opening, then risks, waiting to ship, what reached users and delivery figures, every sentence
    with its source and the commits it stands on. Lays out ``b`` only: no number is worked out here."""
    esc, label = style.text, style.label
    lines = [f"{style.strong(esc(b.status.text))}{label(b.status.provenance, False)}", "", esc(b.looked), ""]
    if b.description is not None:
        lines += [f"What it does: {esc(b.description.text)}{label(b.description.provenance, b.description.stale)}", ""]
    lines += [*style.heading(f"In brief: {esc(b.period.label)}", 2), "",
              " ".join(f"{esc(s.text)}{refs(s.shas)}" for s in b.opening) + label(GIT_FACTS, False)]
    for section in (b.risks, b.waiting, b.reached, *([b.delivery] if b.delivery else [])):
        if not section.lines and section is not b.risks:
            continue
        lines += ["", *style.heading(esc(section.heading), 3), ""]
        for s in section.lines:
            lines.append(f"- {_sentence(s, style, explained)}")
            if s.reading:
                lines.append(f"  - {READING_LABEL}: {style.text(s.reading)}{label(GIT_FACTS, False)}")
            if s.note:  # the model's, under people's words and the facts, never in their place
                lines.append(f"  - {NOTE_LABEL}: {style.text(s.note)}{label(NOTE_SOURCE, False)}")
        lines += [f"- {_sentence(s, style)}" for s in section.detail]
        if section is b.risks and not section.lines:
            lines.append(style.note("No risk that git alone can show.") + label(GIT_FACTS, False))
    return lines


def show_lines(service: NarratorService, repo_id: int, commits: int = COMMITS, period: str = DIGEST_PERIOD,
          style: Style = MARKDOWN) -> list[str]:
    """What ``show`` prints, line by line, in ``style``: the briefing, the overview, its main parts,
    the digest and the latest changes, with sources; jargon explained at its first use."""
    esc, label = style.text, style.label
    view = service.overview(repo_id, None)
    brief = service.briefing(repo_id, period)
    explained = glossary.Explained()
    out = [*style.heading(esc(view.repo.name), 1), *([style.legend] if style.legend else []), "",
           *briefing_lines(brief, style, explained), ""]
    if view.repo.folder_gone:
        out += [style.note(gone_note(view.repo.source, style)), ""]
    if view.repo.shallow:
        out += [style.note(SHALLOW_NOTE), ""]
    out += [*style.heading("What this software does", 2), ""]
    for description in view.descriptions:
        out += [_narrative(description, style), ""]
    if view.summary is not None:
        out += [_narrative(view.summary, style), ""]
    if not view.descriptions and view.summary is None:
        out += [style.note("Not described yet: no package description or README, and nothing narrated."), ""]
    out += [*style.heading("Its main parts", 2), ""]
    for part in view.parts:
        text = _narrative(part.narrative, style) if part.narrative else style.note("not described: no README or docstring of its own")
        out.append(f"- {style.strong(esc(part.area))} ({part.role}, {counted(part.files, 'file')}): {text}")
    if brief.digest is not None:
        digest = brief.digest
        out += ["", *style.heading(f"What changed lately: {esc(digest.period.label)}", 2), ""]
        out += [f"{esc(line.text)}{label(line.provenance, False)}" for line in digest.summary]
        if brief.by_impact.lines:  # an empty period says so above: no empty heading
            out += ["", *style.heading(esc(brief.by_impact.heading), 3), ""]
            out += [f"- {_sentence(s, style)}" for s in brief.by_impact.lines]
        sections = [("May affect existing users", digest.affects),
                    ("Security fixes", digest.security), ("New for users", digest.features),
                    ("Fixed for users", digest.fixes), ("Behind the scenes", digest.internal),
                    ("Areas that moved most", digest.areas)]
        if digest.releases:
            out += ["", *style.heading("Releases", 3), ""]
            for release in digest.releases:
                out.append(f"- {style.strong(esc(release.version))} ({release.date:%Y-%m-%d}, {release.sha[:8]})")
                out += [f"  - {esc(note)}{label(RELEASE_NOTES, False)}" for note in release.notes]
                if release.notes_missing:
                    out.append("  - No release notes in this commit: see the project's changelog.")
        for title, items in sections:
            if items:
                out += ["", *style.heading(title, 3), ""]
                for item in items:
                    out.append(f"- {_explained(item.text, style, explained)}{label(item.provenance, False)}"
                               f" ({', '.join(s[:8] for s in item.shas[:5])})")
                    reading = brief.reading_of(item.shas) if items is not digest.areas else ""
                    if reading:  # a listed headline
                        out.append(f"  - {READING_LABEL}: {style.text(reading)}{label(GIT_FACTS, False)}")
                    note = brief.note_of(item.shas) if items is not digest.areas else ""
                    if note:
                        out.append(f"  - {NOTE_LABEL}: {style.text(note)}{label(NOTE_SOURCE, False)}")
        out += ["", f"{esc(digest.comparison.text)}{label(digest.comparison.provenance, False)}"]
    out += ["", *style.heading("Recent changes", 2), ""]
    for change in service.changes(repo_id, limit=max(0, commits)):
        out += change_lines(change, style, explained)
    return out


def markdown(service: NarratorService, repo_id: int, commits: int = COMMITS, period: str = DIGEST_PERIOD) -> str:
    """What ``show --format markdown`` prints: :func:`show_lines` as Markdown, every sentence with its source."""
    return "\n".join(show_lines(service, repo_id, commits, period, MARKDOWN))


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` first), else :data:`FALLBACK_WIDTH`."""
    return shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns


def wrapped(line: str, width: int) -> list[str]:
    """``line`` wrapped to ``width`` columns between words (a word longer than the width stays
    whole); a list item's next lines start under its text."""
    if len(line) <= width:
        return [line]
    if set(line) <= set(_UNDERLINES.values()) | {"~"}:  # a long heading's underline: as wide as the screen
        return [line[:width]]
    body = line.lstrip(" ")
    indent = " " * (len(line) - len(body) + (2 if body.startswith("- ") else 0))
    return textwrap.wrap(line, width=max(width, len(indent) + 20), subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [line]


def text(service: NarratorService, repo_id: int, commits: int = COMMITS, period: str = DIGEST_PERIOD,
         width: int | None = None) -> str:
    """What ``show`` prints: :func:`show_lines` as plain terminal text, wrapped to ``width`` (default:
    the terminal's, see :func:`terminal_width`). No markup and no escapes: nothing to render."""
    width = width or terminal_width()
    out: list[str] = []
    for line in show_lines(service, repo_id, commits, period, TEXT):
        out += wrapped(line, width)
    return "\n".join(out)


def summary_text(service: NarratorService, repo_id: int, report) -> str:
    """A one-screen summary after ``narrator narrate``."""
    view = service.overview(repo_id, None)
    brief = service.briefing(repo_id, DIGEST_PERIOD)
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
