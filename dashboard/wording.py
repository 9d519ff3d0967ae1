"""Plain wording for the dashboard, without Streamlit: safe text, category labels and colours,
dates, a job's progress, notes and source captions under a narrative, the Evidence and Portfolio tables,
tooltips and link labels. Tested without a browser; everything it words comes from ``narrator.service``.

Narratives and commit messages are untrusted text (a commit subject can say anything, and a
model repeats what it reads), so every such string goes through :func:`plain` before it reaches
``st.markdown`` or any label that Streamlit renders as Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from narrator.facts import glossary, provenance
from narrator.facts.provenance import Provenance
from narrator.facts.reading import GIT_FACTS
from narrator.facts.reading import LABEL as READING_LABEL
from narrator.insights.portfolio import RISK_NAMES, trend_words
from narrator.insights.status import Status
from narrator.render.charts import COLOURS as _CHART_COLOURS
from narrator.render.charts import LABELS as CATEGORY_LABELS
from narrator.service.views import JobView, NarrativeView, PortfolioRow, RepoView
from narrator.text import markdown_text


STALE_NOTE = "(out of date — will be redone)"
_BADGES = {"feature": "green", "fix": "orange", "security": "red", "release": "primary", "dependencies": "yellow",
           "maintenance": "gray", "docs": "blue", "tests": "violet"}


CATEGORIES: dict[str, tuple[str, str]] = {c: (CATEGORY_LABELS[c], _BADGES[c]) for c in CATEGORY_LABELS}
"""category -> (label for readers, badge colour); the order is the chart's stacking order."""


def plain(text: str | None) -> str:
    """Markdown that shows ``text`` exactly as written, with no markup, links, HTML or control
    characters (``narrator.text.markdown_text``); line breaks are kept as hard breaks."""
    return markdown_text(text, keep_newlines=True)


def category_label(category: str) -> str:
    """A reader's name for a commit category ('fix' -> 'Fix'); unknown ones are shown as given."""
    return CATEGORIES.get(category, (category.capitalize(), "gray"))[0]


def category_colour(category: str) -> str:
    """The badge colour of a commit category."""
    return CATEGORIES.get(category, ("", "gray"))[1]


def chart_colour(category: str) -> str | None:
    """The chart colour of a commit category (None: Plotly's own)."""
    return _CHART_COLOURS.get(category)


def when(moment: datetime | date | None) -> str:
    """A short human date ('27 Nov 2026'); an empty string for None."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y}"


def refreshed(repo: RepoView) -> str:
    """When Code Narrator last read the repository, never a sign of the project's own activity:
    'Code Narrator last looked on 2 Dec 2026, 14:05 UTC'."""
    if repo.narrated_at is None:
        return "Code Narrator has not read it yet"
    return f"Code Narrator last looked on {when(repo.narrated_at)}, {repo.narrated_at:%H:%M} UTC"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def portfolio_line(row: PortfolioRow) -> str:
    """A repository's period in one plain line: '12 changes, mostly in src; released 2.7.1; 1 security fix.'"""
    parts = [_plural(row.changes, "change") + (f", most in {row.busiest_area}" if row.busiest_area else "")]
    if row.releases:
        parts.append("released " + ", ".join(row.releases))
    if row.security:
        parts.append(_plural(row.security, "security fix", "security fixes"))
    return "; ".join(parts) + "."


def delivery_trend(now: Status | None) -> str:
    """The delivery figures against the period before, in a few words (``narrator.insights.portfolio.trend_words``):
    'releases up from 1 to 3; changes wait longer for a release (12 days, was 5)'; empty without both
    periods' figures."""
    return trend_words(now.delivery, now.before) if now is not None else ""


def portfolio_table(rows: Iterable[PortfolioRow]) -> list[dict]:
    """The Portfolio table: one row per repository, in reader's column names (plain values, no markup).

    Every figure is read off the repository's briefing over the row's period
    (``narrator.insights.portfolio.figures``): the numbers its Overview shows for the same days."""
    table = []
    for row in rows:
        f = row.figures
        delivery = f.delivery
        table.append({
            "Repository": row.repo.name,
            "What it does": row.description or "",
            "Status": f.status,
            "Last change": f.last_change,
            "How long ago": f.since,
            "Changes": row.changes,
            "Activity": list(row.sparkline),
            "Waiting to ship": f.waiting.n if f.waiting is not None else None,
            "Waiting: may affect users": f.waiting_affects.n if f.waiting is not None else None,
            "Waiting: security fixes": f.waiting_security.n if f.waiting is not None else None,
            "Number of risks": len(f.risks),
            "Risks": "; ".join(RISK_NAMES.get(kind, kind) for kind in f.risks),
            "Releases": ", ".join(row.releases),
            "Releases per 30 days": round(delivery.per_30_days, 1) if delivery else None,
            "Lead time (days)": round(delivery.lead_days, 1) if delivery and delivery.lead_days is not None else None,
            "Hotfix rate": delivery.hotfix_rate if delivery else None,
            "Delivery trend": f.trend,
            "Security fixes": row.security,
            "Most active area": row.busiest_area or "",
            "Last refresh": "failed: " + row.last_error if row.last_error else "",
            "Code Narrator looked": row.repo.narrated_at,
        })
    return table


def progress_fraction(job: JobView) -> float:
    """How far a job is, between 0 and 1 (0 while its total is still unknown)."""
    if job.total <= 0:
        return 0.0
    return min(1.0, max(0.0, job.done / job.total))


def job_summary(job: JobView) -> str:
    """One line about a narration job, as a reader would say it."""
    steps = f"{job.done} of {job.total} steps" if job.total else "getting ready"
    if job.status in ("queued", "running"):
        verb = "Waiting to start" if job.status == "queued" else "Narrating"
        return f"{verb}: {steps}" + (f" — {job.message}" if job.message else "")
    if job.status == "done":
        return f"Narration finished {when(job.updated_at)}: {steps}."
    if job.status == "interrupted":
        return f"Narration was interrupted at {steps}; press Narrate to go on where it stopped."
    return "Narration failed" + (f" after {job.done} of {job.total} steps." if job.total else ".")


def source_caption(label: str, by_model: bool) -> str:
    """The small provenance label under a sentence; model text is marked as such."""
    return f"\u2139\ufe0f {label}" if by_model else f"\u2714 {label}"


def reading_caption(text: str) -> str:
    """A change's plain reading (``narrator.facts.reading``) as the labelled second line under its headline."""
    return f"{READING_LABEL}: {text} (source: {provenance.label(GIT_FACTS)})"


def glossary_help(terms: Iterable[tuple[str, str]]) -> str | None:
    """Tooltip text explaining the jargon in a headline, or None when there is none."""
    lines = [f"{term}: {explanation}" for term, explanation in terms]
    return "\n\n".join(lines) or None


DROPPED = {
    "faithfulness": "named things its input does not show",
    "contradicts the subject": "contradicted what the developer wrote",
    "adds nothing to the subject": "added nothing the developer had not written",
    "contradicts git": "claimed something the change's files do not show",
    "reads like a commit subject": "read like a commit subject, not an explanation",
}


def narrative_notes(narrative: NarrativeView) -> list[str]:
    """Small notes under a narrative: out of date, or edited or dropped by the checks."""
    notes = []
    flags = narrative.flags or {}
    reason = flags.get("dropped")
    dropped = int(flags.get("dropped_sentences") or 0)
    if reason:
        notes.append(f"The model's text was left out: it {DROPPED.get(reason, reason)}.")
    elif dropped and not narrative.text.strip():
        notes.append("The model's explanation named things not found in the code, so it was left out.")
    elif dropped:
        notes.append(f"({dropped} sentence{'s' if dropped != 1 else ''} left out: "
                     f"{'they' if dropped != 1 else 'it'} named things not found in the code)")
    if narrative.stale:
        notes.append(STALE_NOTE)
    return notes


def evidence_rows(files: Iterable[dict]) -> list[dict]:
    """The Evidence table of a commit: one row per changed file, in reader's column names."""
    return [
        {
            "File": f.get("path", ""),
            "Change": f.get("change", ""),
            "Lines added": f.get("added", 0),
            "Lines removed": f.get("removed", 0),
        }
        for f in files
    ]


def line_help(text: str, source: str) -> str:
    """A sentence's tooltip: where it comes from, then the jargon in it explained (``narrator.facts.glossary``)."""
    terms = glossary_help(glossary.terms_in(text))
    return f"Source: {source}." + (f"\n\n{terms}" if terms else "")


def reading_help(text: str, source: Provenance) -> str:
    """A plain reading's tooltip: git facts, and the model's kind of change when it decided the reading's group."""
    return line_help(text, provenance.label(source))


def block_label(sources: Iterable[str]) -> str | None:
    """The one source label under a block of sentences: 'git facts', "git facts and developer's
    message", model text marked as such; None for an empty block."""
    named = list(dict.fromkeys(s for s in sources if s))
    if not named:
        return None
    words = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return source_caption(words, any("by the model" in s for s in named))


def link_label(count: int, linked: int) -> str:
    """'See the change', 'See the 12 changes', 'See 200 of the 350 changes' (a capped link)."""
    if linked < count:
        return f"See {linked} of the {count} changes"
    return "See the change" if count == 1 else f"See the {count} changes"


def linked_range(params: Mapping[str, str]) -> tuple[date, date] | None:
    """The ``?since=…&until=…`` days a chart linked to the Changes page with; None when absent or bad."""
    try:
        start, end = date.fromisoformat(params.get("since", "")), date.fromisoformat(params.get("until", ""))
    except ValueError:
        return None
    return (start, end) if start <= end else None
