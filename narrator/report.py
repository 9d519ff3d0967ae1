"""Plain-text renderings of the cache for the terminal: the run summary and ``narrator show``."""

from __future__ import annotations

from narrator.facts import size_phrase
from narrator.service import NarratorService


def _stale(view) -> str:
    return " _(out of date)_" if view is not None and view.stale else ""


def markdown(service: NarratorService, repo_id: int, commits: int = 30) -> str:
    """The overview, the main parts and the latest commit narratives as Markdown."""
    view = service.overview(repo_id)
    lines = [f"# {view.repo.name}", "", "## What this software does", ""]
    lines.append(view.summary.text + _stale(view.summary) if view.summary else "_Not narrated yet._")
    lines += ["", "## Its main parts", ""]
    for part in view.parts:
        text = part.narrative.text + _stale(part.narrative) if part.narrative else "_not narrated yet_"
        lines.append(f"- **{part.area}** ({part.files} files): {text}")
    if view.digest:
        lines += ["", f"## Latest digest ({view.digest.period})", "", view.digest.text]
        for area, items in view.digest.areas:
            lines.append(f"- **{area}**")
            lines += [f"  - {item}" for item in items]
    lines += ["", "## Recent changes", ""]
    for change in service.changes(repo_id)[:commits]:
        text = change.narrative.text + _stale(change.narrative) if change.narrative else "_not narrated yet_"
        size = size_phrase(len(change.files), change.added, change.removed)
        lines.append(f"- {change.date:%Y-%m-%d} {change.short_sha} [{change.category}, {change.area}] "
                     f"{change.author} ({size}): {text}")
    return "\n".join(lines)


def summary_text(service: NarratorService, repo_id: int, report) -> str:
    """A one-screen summary after ``narrator narrate``."""
    view = service.overview(repo_id)
    lines = [
        f"{view.repo.name}: {report.narrated} new narratives, {report.cached} from the cache, "
        f"{report.model_calls} model calls; {report.flagged} answers edited by the faithfulness check.",
        f"Read {view.counts['files']} files ({view.counts['units']} parts) and {report.commits} commits.",
    ]
    if report.skipped_note:
        lines.append(report.skipped_note)
    lines += ["", "What this software does:", "  " + (view.summary.text if view.summary else "(not narrated yet)")]
    if view.digest:
        lines += ["", f"Latest changes: {view.digest.text}"]
    lines += ["", "Run 'python -m narrator show REPO' for the full narrative, or open the dashboard."]
    return "\n".join(lines)
