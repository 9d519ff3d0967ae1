"""The renderers of a report document (``narrator.render.document.Report``), registered in one table
(``FORMATS``): Markdown, HTML and PDF, each with its MIME type and file suffix; and writing the file.

Text from the repository or the model is untrusted. Markdown escapes it like ``narrator show``
(``narrator.render.show``), HTML with ``narrator.text.html_text``, and the PDF with the same escaping
for ReportLab's paragraph markup (``narrator.render.pdf``). The HTML is one file that loads nothing: inline
CSS, charts as ``data:`` SVG images, and a Content-Security-Policy that forbids scripts anyway.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from db.errors import NarratorError
from db.files import write_atomic
from narrator.facts import glossary
from narrator.render import charts
from narrator.render.document import Bullet, Bullets, Chart, Heading, Link, Paragraph, Report, Sentence, Table, tagged_html
from narrator.render.show import marker
from narrator.text import html_text, plain
from narrator.text import markdown_text as md

Format = Literal["md", "html", "pdf"]


class ReportError(NarratorError):
    """A report cannot be made (bad format, nothing narrated, the file cannot be written)."""


# --- Markdown -------------------------------------------------------------------------------


def _md_sentences(sentences: Sequence[Sentence]) -> str:
    return " ".join(md(glossary.with_glosses(s.text, s.glosses)) + (marker(s.label, s.stale) if s.label else "")
                    for s in sentences)


def _md_bullet(bullet: Bullet, depth: int = 0) -> list[str]:
    lead = f"**{md(bullet.lead)}** " if bullet.lead else ""
    lines = [f"{'  ' * depth}- {lead}{_md_sentences(bullet.sentences)}".rstrip()]
    for sub in bullet.sub:
        lines += _md_bullet(sub, depth + 1)
    return lines


def markdown(report: Report) -> str:
    """The report as Markdown, every untrusted string escaped and every sentence with its source."""
    lines = [f"# {md(report.title)}", "", f"_{md(report.subtitle)}_"]
    for block in report.blocks:
        lines.append("")
        if isinstance(block, Heading):
            lines.append(f"{'#' * block.level} {md(block.text)}")
        elif isinstance(block, Paragraph):
            text = _md_sentences(block.sentences)
            lines.append(f"_{text}_" if block.note else text)
        elif isinstance(block, Bullets):
            lines += [line for item in block.items for line in _md_bullet(item)] or ["- (none)"]
        elif isinstance(block, Chart):
            lines.append(f"_{md(block.caption)}_")
            header, *rows = block.table
            if rows:
                lines += ["", "| " + " | ".join(map(md, header)) + " |", "|" + "---|" * len(header)]
                lines += ["| " + " | ".join(map(md, row)) + " |" for row in rows]
            else:
                lines += ["", "_Nothing to chart in this range._"]
        elif isinstance(block, Table):
            lines += _md_table(block.header, block.rows)
            if block.label:
                lines += ["", marker(block.label, False).strip()]
        elif isinstance(block, Link):
            lines.append(f"[{md(block.text)}](<{block.url}>)")
    return "\n".join(lines) + "\n"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table, every cell escaped (a '|' in a cell stays text)."""
    return ["| " + " | ".join(map(md, header)) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(map(md, row)) + " |" for row in rows)]


# --- HTML -----------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1f2328;max-width:52rem;
margin:2rem auto;padding:0 1rem;line-height:1.5}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.sub{color:#555;margin-top:0}.note{font-style:italic;color:#555}.src{color:#6a737d;font-size:.85em}
.lead{font-weight:600}figure{margin:1rem 0}figure img{max-width:100%;height:auto}
figcaption{color:#555;font-size:.9em}li{margin:.2rem 0}
table{border-collapse:collapse;font-size:.9em;margin:1rem 0}th,td{border:1px solid #ddd;padding:.25rem .4rem;
text-align:left;vertical-align:top}th{background:#f6f8fa}caption{caption-side:bottom;text-align:left}
"""
_CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"
"""No script, nothing fetched: images are inline (``data:``, or an e-mail's own parts, ``cid:``)."""


def _html_sentences(sentences: Sequence[Sentence]) -> str:
    return tagged_html(sentences, lambda label: f' <span class="src">{label}</span>')


def _html_bullets(items: Sequence[Bullet]) -> str:
    rows = []
    for item in items:
        lead = f'<span class="lead">{html_text(item.lead)}</span> ' if item.lead else ""
        sub = _html_bullets(item.sub) if item.sub else ""
        rows.append(f"<li>{lead}{_html_sentences(item.sentences)}{sub}</li>")
    return "<ul>" + "".join(rows) + "</ul>"


def svg_source(chart: Chart) -> str:
    """A chart as an ``img`` source: its SVG picture inline, as a ``data:`` URL."""
    return "data:image/svg+xml;base64," + base64.b64encode(charts.svg(chart.draw("Helvetica")).encode("utf-8")).decode("ascii")


def html_document(report: Report, image: Callable[[Chart], str] = svg_source) -> str:
    """The report as one self-contained HTML page: no script, no external file, all text escaped.

    ``image`` gives each chart's ``img`` source: inline SVG, or (an e-mail) a ``cid:`` of its PNG part."""
    body = [f"<h1>{html_text(report.title)}</h1>", f'<p class="sub">{html_text(report.subtitle)}</p>']
    for block in report.blocks:
        if isinstance(block, Heading):
            level = min(block.level, 6)
            body.append(f"<h{level}>{html_text(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            body.append(f'<p{" class=note" if block.note else ""}>{_html_sentences(block.sentences)}</p>')
        elif isinstance(block, Bullets):
            body.append(_html_bullets(block.items) if block.items else '<p class="note">(none)</p>')
        elif isinstance(block, Chart):
            body.append(f'<figure><img alt="{html_text(block.caption)}" src="{html_text(image(block))}">'
                        f"<figcaption>{html_text(block.caption)}</figcaption></figure>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html_text(cell)}</th>" for cell in block.header)
            rows = "".join("<tr>" + "".join(f"<td>{html_text(cell)}</td>" for cell in row) + "</tr>" for row in block.rows)
            label = f'<caption class="src">[{html_text(block.label)}]</caption>' if block.label else ""
            body.append(f"<table>{label}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Link):
            body.append(f'<p><a href="{html_text(block.url)}">{html_text(block.text)}</a></p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html_text(report.title)}</title><style>{_CSS}</style></head>\n<body><main>\n"
            + "\n".join(body) + "\n</main></body></html>\n")


# --- the table of renderers --------------------------------------------------------------------


class Renderer(NamedTuple):
    """How one format is made: its MIME type, its file suffix, and the report as a file's bytes."""

    mime: str
    suffix: str
    render: Callable[[Report], bytes]


def _pdf(report: Report) -> bytes:
    from narrator.render.pdf import pdf_document  # ReportLab's page layout is only loaded for a PDF

    return pdf_document(report)


FORMATS: dict[str, Renderer] = {
    "md": Renderer("text/markdown", ".md", lambda report: markdown(report).encode("utf-8")),
    "html": Renderer("text/html", ".html", lambda report: html_document(report).encode("utf-8")),
    "pdf": Renderer("application/pdf", ".pdf", _pdf),
}
"""Each format's renderer: adding a format is one row here (and its name in ``Format``)."""


def check_format(fmt: str) -> Format:
    """``fmt`` if it is one of FORMATS, else a one-line ReportError naming them."""
    if fmt not in FORMATS:
        raise ReportError(f"Unknown report format {fmt!r}: use {', '.join(FORMATS)}.")
    return fmt  # type: ignore[return-value]


def format_of(out: str | Path) -> str:
    """The format a file name asks for by its suffix ('report.pdf' -> 'pdf'); 'md' when it names none."""
    suffix = Path(out).suffix.lower()
    return next((fmt for fmt, renderer in FORMATS.items() if renderer.suffix == suffix), "md")


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt`` ('md', 'html' or 'pdf') as the bytes of a file."""
    return FORMATS[check_format(fmt)].render(report)


def write(data: bytes, out: str | Path) -> Path:
    """Write a report to ``out``, replacing an old one only once the new one is whole.

    A folder that is missing or not writable, or a disk that fills up, is a one-line ReportError
    and leaves any report already at ``out`` as it was.
    """
    target = Path(out).expanduser()
    try:
        write_atomic(target, data)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ReportError(f"Cannot write the report to {plain(str(target))}: {reason}.") from None
    return target


def file_name(name: str, fmt: str) -> str:
    """A safe download name for a report of ``name`` ('shop-report.html')."""
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in plain(name)).strip("-.") or "report"
    return f"{stem}-report{FORMATS[check_format(fmt)].suffix}"
