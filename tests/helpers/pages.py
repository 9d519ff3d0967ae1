"""Readers of rendered reports: the tags and text of an HTML page, the text of a PDF, and the counted
sentences of a briefing."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from pypdf import PdfReader

from narrator.insights.briefing import Briefing


class Tags(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def counted_sentences(b: Briefing):
    """The sentences whose numbers are counts of changes or releases: the opening, waiting to ship,
    what reached users and by impact (a risk's own numbers, '7 of the 8 changes', are its evidence)."""
    return [s for s in (*b.opening, *b.waiting.lines, *b.reached.lines, *b.by_impact.lines) if s.counts]
