"""Static charts for reports: activity per week by kind of change, and the releases timeline.

Each chart is one ``reportlab.graphics`` Drawing, built from ``narrator.insights.history`` points, so the
HTML report (as SVG, :func:`svg`) and the PDF report (the Drawing itself) show the same picture.
Nothing here needs a browser, a display, a GPU or the network. Labels that come from the
repository (release versions) are made plain first, and the SVG renderer escapes every string.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib.colors import HexColor

from narrator.insights.history import Point, ReleasePoint
from narrator.text import plain

LABELS = {
    "feature": "New feature", "fix": "Fix", "security": "Security fix", "release": "Release",
    "dependencies": "Dependency update", "maintenance": "Maintenance", "docs": "Documentation", "tests": "Tests",
}
"""A reader's name for each commit category; the order is the charts' stacking order."""

COLOURS = {
    "feature": "#2e9e5b", "fix": "#e08a2c", "security": "#d6453d", "release": "#ff4b4b", "dependencies": "#c9b22e",
    "maintenance": "#8a8f98", "docs": "#3b7dd8", "tests": "#8e5cc9",
}
"""The colour of each category in every chart (the dashboard's too)."""

WIDTH, HEIGHT = 520, 230
_LEFT, _RIGHT, _BOTTOM, _TOP = 34, 10, 52, 12
_GREY, _SHADE = HexColor("#8a8f98"), HexColor("#eef2f8")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def label(category: str) -> str:
    """A reader's name for a commit category ('fix' -> 'Fix'); unknown ones are shown as given."""
    return LABELS.get(category, category.capitalize())


def _month(day: date, year: bool = True) -> str:
    return f"{_MONTHS[day.month - 1]} {day.year}" if year else _MONTHS[day.month - 1]


def activity(points: Sequence[Point], highlight: tuple[date, date] | None = None,
             font: str = "Helvetica") -> Drawing:
    """Stacked bars of changes per period (week or month), one colour per category.

    ``points`` are ``history.activity(..., by="category")``: every period appears once per series.
    ``highlight`` (first day, last day) shades the bars of the report's own period.
    """
    drawing = Drawing(WIDTH, HEIGHT)
    by_period: dict[date, dict[str, int]] = defaultdict(dict)
    for point in points:
        by_period[point.period][point.key] = point.changes
    axis = sorted(by_period)
    if not axis:
        drawing.add(String(WIDTH / 2, HEIGHT / 2, "No changes in this range.", fontName=font, fontSize=10,
                           textAnchor="middle", fillColor=_GREY))
        return drawing
    keys = [k for k in LABELS if any(k in row for row in by_period.values())]
    keys += sorted({k for row in by_period.values() for k in row} - set(keys))
    tallest = max(1, max(sum(row.values()) for row in by_period.values()))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _BOTTOM - _TOP
    slot = plot_w / len(axis)
    step = (axis[1] - axis[0]) if len(axis) > 1 else timedelta(days=7)
    if highlight is not None:
        shaded = [i for i, start in enumerate(axis) if start <= highlight[1] and start + step > highlight[0]]
        if shaded:
            drawing.add(Rect(_LEFT + shaded[0] * slot, _BOTTOM, len(shaded) * slot, plot_h,
                             fillColor=_SHADE, strokeColor=None))
    for tick in _ticks(tallest):
        y = _BOTTOM + plot_h * tick / tallest
        drawing.add(Line(_LEFT, y, WIDTH - _RIGHT, y, strokeColor=HexColor("#dddddd"), strokeWidth=0.5))
        drawing.add(String(_LEFT - 4, y - 3, str(tick), fontName=font, fontSize=7, textAnchor="end", fillColor=_GREY))
    for i, start in enumerate(axis):
        y = _BOTTOM
        for key in keys:
            changes = by_period[start].get(key, 0)
            if changes:
                height = plot_h * changes / tallest
                drawing.add(Rect(_LEFT + i * slot + slot * 0.1, y, slot * 0.8, height, strokeColor=None,
                                 fillColor=HexColor(COLOURS.get(key, "#8a8f98"))))
                y += height
    every = max(1, round(len(axis) / 8))
    for i in range(0, len(axis), every):
        text = f"{axis[i].day} {_month(axis[i])}" if step.days <= 7 else _month(axis[i])
        drawing.add(String(_LEFT + i * slot, _BOTTOM - 11, text, fontName=font, fontSize=7, fillColor=_GREY))
    drawing.add(Line(_LEFT, _BOTTOM, WIDTH - _RIGHT, _BOTTOM, strokeColor=_GREY, strokeWidth=0.7))
    x = _LEFT
    for key in keys:  # the legend, one row under the axis
        drawing.add(Rect(x, 14, 8, 8, fillColor=HexColor(COLOURS.get(key, "#8a8f98")), strokeColor=None))
        drawing.add(String(x + 11, 15, label(key), fontName=font, fontSize=7))
        x += 20 + 4.2 * len(label(key))
    return drawing


def releases(points: Sequence[ReleasePoint], start: date, end: date, font: str = "Helvetica",
             labelled: int = 12) -> Drawing:
    """The releases between ``start`` and ``end`` on a time line; the newest ``labelled`` are named."""
    drawing = Drawing(WIDTH, 110)
    chosen = [p for p in points if start <= p.date.date() <= end]
    span = max(1, (end - start).days)
    y = 50
    drawing.add(Line(_LEFT, y, WIDTH - _RIGHT, y, strokeColor=_GREY, strokeWidth=1))
    for day in (start, end):
        x = _LEFT + (WIDTH - _LEFT - _RIGHT) * (day - start).days / span
        drawing.add(String(x, y - 16, f"{day.day} {_month(day)}", fontName=font, fontSize=7,
                           textAnchor="start" if day == start else "end", fillColor=_GREY))
    if not chosen:
        drawing.add(String(WIDTH / 2, y + 14, "No release in this range.", fontName=font, fontSize=9,
                           textAnchor="middle", fillColor=_GREY))
    named = {p.sha for p in chosen[-labelled:]}
    for n, point in enumerate(chosen):
        x = _LEFT + (WIDTH - _LEFT - _RIGHT) * (point.date.date() - start).days / span
        drawing.add(Circle(x, y, 3.5, fillColor=HexColor(COLOURS["release"]), strokeColor=None))
        if point.sha in named:
            up = n % 2 == 0  # alternate above and below so neighbours do not overlap
            drawing.add(Line(x, y, x, y + (12 if up else -26), strokeColor=_GREY, strokeWidth=0.5))
            right = x > WIDTH - 80  # near the right edge the name runs leftwards, so it stays on the page
            drawing.add(String(x + (-2 if right else 2), y + (14 if up else -34), plain(point.version)[:24], fontName=font,
                               fontSize=7, textAnchor="end" if right else "start"))
    return drawing


def svg(drawing: Drawing) -> str:
    """The drawing as a standalone SVG document, without the XML prolog and DTD reference."""
    from reportlab.graphics import renderSVG  # a fifth of a second to import: only when drawing

    text = renderSVG.drawToString(drawing)
    return text[text.index("<svg"):]


def _ticks(tallest: int) -> list[int]:
    """Whole-number gridlines from 0 to ``tallest``, at most about five."""
    step = max(1, -(-tallest // 5))
    return list(range(0, tallest + 1, step))
