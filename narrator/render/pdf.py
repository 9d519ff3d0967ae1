"""The PDF rendering of a report (``narrator.render.document.Report``), with ReportLab, pure Python.

Text is set in a Unicode TrueType font: DejaVu Sans where the system has it (Debian's
fonts-dejavu-core), else Bitstream Vera, which ReportLab ships, so a fresh machine needs nothing
installed. A character the font lacks (CJK in Vera, say) prints as an empty box; it never fails.
ReportLab's paragraphs read a small XML markup, so every string goes through
``narrator.text.html_text`` first: a ``<b>`` in a commit message stays text.
"""

from __future__ import annotations

import io
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import reportlab
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as Grid

from narrator.limits import PARAGRAPH_CHARS, cut
from narrator.render.document import Bullet, Bullets, Chart, Heading, Link, Report, Sentence, Table, tagged_html
from narrator.render.document import Paragraph as TextBlock
from narrator.text import html_text, plain

FAMILY = "NarratorSans"
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).parent / "fonts"
_MARGIN = 48


@lru_cache(maxsize=1)
def font_family() -> str:
    """Register the report font (regular, bold, italic) once; returns its family name."""
    faces = {"": "DejaVuSans.ttf", "-Bold": "DejaVuSans-Bold.ttf", "-Italic": "DejaVuSans-Oblique.ttf"}
    folder = _DEJAVU if all((_DEJAVU / f).is_file() for f in faces.values()) else None
    if folder is None:
        faces, folder = {"": "Vera.ttf", "-Bold": "VeraBd.ttf", "-Italic": "VeraIt.ttf"}, _VERA
    for suffix, file in faces.items():
        pdfmetrics.registerFont(TTFont(FAMILY + suffix, str(folder / file)))
    pdfmetrics.registerFontFamily(FAMILY, normal=FAMILY, bold=FAMILY + "-Bold", italic=FAMILY + "-Italic",
                                  boldItalic=FAMILY + "-Bold")
    return FAMILY


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=font + "-Bold", fontSize=20, leading=24, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=body, textColor=HexColor("#555555"), spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=body, fontName=font + "-Bold", fontSize=14, leading=18, spaceBefore=10,
                             keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=body, fontName=font + "-Bold", fontSize=11.5, leading=15, spaceBefore=6,
                             keepWithNext=1),
        "h4": ParagraphStyle("h4", parent=body, fontName=font + "-Bold", fontSize=10, leading=14, spaceBefore=4,
                             keepWithNext=1),
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontName=font + "-Italic", textColor=HexColor("#555555")),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8, textColor=HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7, leading=8.5, spaceAfter=0),
        "head": ParagraphStyle("head", parent=body, fontName=font + "-Bold", fontSize=7, leading=8.5, spaceAfter=0),
    }


def _table(block: Table, styles: dict[str, ParagraphStyle], width: float) -> list:
    """A table as a grid of wrapped paragraphs across the page width (every cell escaped, and cut
    like any paragraph), a column's share of it growing with its longest text; the label under it."""
    cells = [[Paragraph(html_text(cut(cell, PARAGRAPH_CHARS)), styles[style]) for cell in row]
             for style, row in (("head", block.header), *(("cell", row) for row in block.rows))]
    longest = [max(min(len(row[i]), 60) for row in (block.header, *block.rows)) + 4 for i in range(len(block.header))]
    grid = Grid(cells, colWidths=[width * n / sum(longest) for n in longest], repeatRows=1)
    grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, HexColor("#cccccc")),
                              ("BACKGROUND", (0, 0), (-1, 0), HexColor("#f3f4f6")),
                              ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    label = [Paragraph(f"[{html_text(block.label)}]", styles["caption"])] if block.label else []
    return [grid, *label, Spacer(1, 6)]


def _sentences(sentences: tuple[Sentence, ...]) -> str:
    # A paragraph costs ReportLab time growing with the square of its length (it is laid out again
    # for every page it spills onto): each text is cut, so a report takes time linear in its size.
    sentences = tuple(replace(s, text=cut(s.text, PARAGRAPH_CHARS)) for s in sentences)
    return tagged_html(sentences, lambda label: f' <font color="#6a737d" size="7.5">{label}</font>')


def _bullets(items: tuple[Bullet, ...], style: ParagraphStyle, depth: int = 0) -> list:
    flowables = []
    # The bullet in the text's own font: Helvetica's is a byte a PDF reader extracts as DEL (\x7f).
    indented = ParagraphStyle(f"bullet{depth}", parent=style, leftIndent=14 + 14 * depth, bulletIndent=4 + 14 * depth,
                              spaceAfter=2, bulletFontName=style.fontName)
    for item in items:
        lead = f"<b>{html_text(cut(item.lead, PARAGRAPH_CHARS))}</b> " if item.lead else ""
        flowables.append(Paragraph(lead + _sentences(item.sentences), indented, bulletText="\u2022"))
        flowables += _bullets(item.sub, style, depth + 1)
    return flowables


def pdf_document(report: Report) -> bytes:
    """The report as the bytes of a PDF file: the same sections as the HTML, charts as drawings."""
    font = font_family()
    styles = _styles(font)
    story: list = [Paragraph(html_text(report.title), styles["title"]),
                   Paragraph(html_text(report.subtitle), styles["subtitle"])]
    width = A4[0] - 2 * _MARGIN
    for block in report.blocks:
        if isinstance(block, Heading):
            story.append(Paragraph(html_text(block.text), styles[f"h{min(max(block.level, 2), 4)}"]))
        elif isinstance(block, TextBlock):
            story.append(Paragraph(_sentences(block.sentences), styles["note" if block.note else "body"]))
        elif isinstance(block, Bullets):
            story += _bullets(block.items, styles["body"]) or [Paragraph("(none)", styles["note"])]
        elif isinstance(block, Chart):
            drawing = block.draw(font)
            if drawing.width > width:  # fit the page: scale the whole drawing down
                factor = width / drawing.width
                drawing.scale(factor, factor)
                drawing.width, drawing.height = width, drawing.height * factor
            # keepWithNext does not reach into a KeepTogether: take the chart's heading in with it
            heading = [story.pop()] if story and getattr(story[-1].style, "keepWithNext", 0) else []
            story.append(KeepTogether([*heading, drawing, Paragraph(html_text(block.caption), styles["caption"]),
                                       Spacer(1, 6)]))
        elif isinstance(block, Table):
            story += _table(block, styles, width)
        elif isinstance(block, Link):
            story.append(Paragraph(f'<a href="{html_text(block.url)}" color="#1a5fb4">{html_text(block.text)}</a>', styles["body"]))

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(HexColor("#777777"))
        canvas.drawString(_MARGIN, _MARGIN / 2, f"{plain(report.title)[:80]} \u00b7 Code Narrator \u00b7 page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
                            bottomMargin=_MARGIN, title=plain(report.title), author="Code Narrator",
                            subject=plain(report.subtitle))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
