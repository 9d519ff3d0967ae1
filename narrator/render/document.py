"""A report as a small document, before any format: headings, sentences with their source labels,
lists, charts and tables (``narrator.render.exports`` builds one; its Markdown and HTML renderers and
``narrator.render.pdf`` draw it).

Kept apart from the builder so that a renderer imports the document, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Union

from narrator.facts import glossary
from narrator.text import html_text


@dataclass(frozen=True)
class Sentence:
    """Text (untrusted) with the label of where it came from; None for the report's own words."""

    text: str
    label: str | None = None
    stale: bool = False
    glosses: tuple[glossary.Gloss, ...] = ()
    """Jargon explained inline, right after its first use in the report (``glossary.Explained``): the
    text stays as written, and every format shows the explanation beside it."""


@dataclass(frozen=True)
class Bullet:
    lead: str = ""
    """Facts shown first, without a label of their own (a date, a commit, an author)."""
    sentences: tuple[Sentence, ...] = ()
    sub: tuple["Bullet", ...] = ()


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Paragraph:
    sentences: tuple[Sentence, ...]
    note: bool = False
    """An aside (shown in italics): a partial history, a folder that is gone, an empty section."""


@dataclass(frozen=True)
class Bullets:
    items: tuple[Bullet, ...]


@dataclass(frozen=True)
class Chart:
    caption: str
    draw: Callable[[str], object]
    """Font name -> a ``reportlab.graphics`` Drawing (the PDF uses its Unicode font)."""
    table: tuple[tuple[str, ...], ...]
    """The numbers drawn, header row first: what the Markdown report shows instead of the picture."""


@dataclass(frozen=True)
class Table:
    """Rows of cells under a header row (the portfolio's comparison); every cell is untrusted text,
    escaped by each format, and one source label stands for the whole table."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    label: str | None = None
    """Where every cell comes from ('git facts'), shown once, under the table."""

    def __post_init__(self) -> None:
        if any(len(row) != len(self.header) for row in self.rows):
            raise ValueError(f"every row of a table needs {len(self.header)} cells, one per column")


@dataclass(frozen=True)
class Link:
    """A link into the dashboard, on a line of its own (an e-mailed briefing's): its address comes from
    the settings (``CODE_NARRATOR_DASHBOARD_URL``), never from a repository; its text is escaped."""

    text: str
    url: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")) or any(c in self.url for c in ' <>"\'\n\r'):
            raise ValueError(f"a link must be a plain http(s) URL, not {self.url!r}")


Block = Union[Heading, Paragraph, Bullets, Chart, Table, Link]


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    blocks: tuple[Block, ...]
    made_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def tagged_html(sentences: Sequence[Sentence], wrap: Callable[[str], str]) -> str:
    """Sentences as escaped HTML, each followed by ``wrap("[its label]")`` (the HTML report and the
    PDF, whose paragraphs take the same inline markup, style the label their own way)."""
    return " ".join(
        html_text(glossary.with_glosses(s.text, s.glosses)) + (wrap(f"[{html_text(s.label)}{', out of date' if s.stale else ''}]") if s.label else "")
        for s in sentences)
