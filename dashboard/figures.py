"""The Overview's charts as pure functions: service data in, a Plotly figure and what it stands on out.

Each builder returns a :class:`Chart`: the figure, a one-line plain caption of what it shows, and
the commits behind every point (per trace, per point), so a page can link a selection through to
the Changes page without putting shas into the browser. Tested without Streamlit or a browser.

Plotly renders a small HTML subset inside text (``<b>``, ``<br>``, ``<a href>``) in legends, tick
labels, hover text and annotations, so every name that comes from a repository (an area, a
version) goes through ``narrator.text.html_text`` first; Plotly decodes the entities back into
the literal characters. Hover templates name the trace by ``%{fullData.name}`` rather than pasting
a name into the template, where a ``%{...}`` in a folder name would be read as a field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, timezone

import plotly.graph_objects as go

from dashboard.wording import CATEGORIES, category_label, chart_colour
from narrator.insights.periods import day_range
from narrator.insights.forecast import Forecast
from narrator.insights.history import By, Grain, Point, ReleasePoint
from narrator.text import html_text

LABEL_ROWS = 4
"""Version labels are spread over this many rows of the release timeline."""
PLOT_PX = 600
"""The narrowest plot width, in pixels, a label is placed for (the Overview's chart is wider at
1280 px): a label that would touch another one in every row at this width is shown on hover only."""
CHAR_PX, LABEL_GAP_PX = 7.5, 8
"""Plotly's 12 px labels are at most about 7.5 px a character; labels keep this gap between them."""
_MARGIN = dict(l=10, r=10, t=10, b=10)


@dataclass(frozen=True)
class Chart:
    figure: go.Figure
    caption: str
    """One plain sentence saying what the chart shows (our words and dates only: no repository text)."""
    shas: tuple[tuple[tuple[str, ...], ...], ...]
    """Per trace, per point: the commits behind it, newest first."""

    @property
    def every(self) -> list[str]:
        """Every commit the chart stands on, once each."""
        return list(dict.fromkeys(s for trace in self.shas for point in trace for s in point))

    def selected(self, selection: Mapping | None) -> list[str]:
        """The commits behind the points of a Plotly selection (``st.plotly_chart(on_select=...)``)."""
        found: list[str] = []
        for point in (selection or {}).get("points", []) or []:
            curve = point.get("curve_number", 0)
            index = point.get("point_index", point.get("point_number"))
            if index is None or not 0 <= curve < len(self.shas) or not 0 <= index < len(self.shas[curve]):
                continue
            found.extend(self.shas[curve][index])
        return list(dict.fromkeys(found))


def activity_chart(points: Sequence[Point], by: By, grain: Grain, start: date, end: date) -> Chart:
    """Stacked bars of changes per week or month, one colour per area or kind of change."""
    series: dict[str, list[Point]] = {}
    for point in points:
        series.setdefault(point.key, []).append(point)
    if by == "category":  # the readers' order of kinds, as the badges use it
        order = [k for k in CATEGORIES if k in series] + [k for k in series if k not in CATEGORIES]
    else:
        order = list(series)  # history.activity: busiest first, "other areas" last
    figure = go.Figure()
    for key in order:
        figure.add_trace(go.Bar(
            name=category_label(key) if by == "category" else html_text(key),
            x=[p.period for p in series[key]], y=[p.changes for p in series[key]],
            marker_color=chart_colour(key) if by == "category" else None,
            hovertemplate=f"%{{fullData.name}}<br>{'Week of ' if grain == 'week' else ''}"
                          f"%{{x|{'%-d %b %Y' if grain == 'week' else '%b %Y'}}}: %{{y}} changes<extra></extra>",
        ))
    totals: dict[date, int] = {}
    for point in points:
        totals[point.period] = totals.get(point.period, 0) + point.changes
    figure.update_layout(
        barmode="stack",
        # Whole changes only: without this a week with 3 commits gets ticks at 0.5, 1.5, ...
        yaxis=dict(dtick=1 if max(totals.values(), default=0) <= 10 else None, rangemode="tozero", title="Changes"),
        xaxis=dict(tickformat="%-d %b %Y" if grain == "week" else "%b %Y",
                   title="Week starting" if grain == "week" else "Month"),
        legend_title_text="Kind of change" if by == "category" else "Area",
        margin=_MARGIN, height=340, dragmode="select",
    )
    what = "kind of change" if by == "category" else "area"
    caption = f"Changes per {grain} by {what}, {day_range(start, end)}."
    return Chart(figure, caption, tuple(tuple(p.shas for p in series[key]) for key in order))


def releases_chart(releases: Sequence[ReleasePoint], forecast: Forecast | None = None) -> Chart:
    """Releases on a timeline, labelled with their versions; the forecast range as a shaded band.

    Labels never sit on each other: each goes to the lowest of ``LABEL_ROWS`` rows where it keeps
    clear of the labels already there, newest first; a label with no room in any row is shown on
    hover only (``label_rows``)."""
    figure = go.Figure()
    versions = [html_text(r.version) for r in releases]
    days = [_day(r.date) for r in releases] + ([forecast.latest] if forecast is not None and forecast.possible else [])
    first, last = (min(days), max(days)) if days else (None, None)
    span = (first - timedelta(days=15), last + timedelta(days=15)) if first else None
    rows = label_rows([_day(r.date) for r in releases], [r.version for r in releases], span) if span else []
    figure.add_trace(go.Scatter(
        name="Release", x=[r.date for r in releases],
        y=[1 + (row if row is not None else 0) for row in rows],
        mode="markers+text", text=[v if row is not None else "" for v, row in zip(versions, rows)],
        hovertext=[f"{v} · {_when(r.date)}" for v, r in zip(versions, releases)], hoverinfo="text",
        textposition="top center", marker=dict(size=10, color=chart_colour("release")), showlegend=False,
    ))
    if forecast is not None and forecast.possible:
        figure.add_vrect(x0=forecast.earliest.isoformat(), x1=(forecast.latest + timedelta(days=1)).isoformat(),
                         fillcolor="#3b7dd8", opacity=0.15, line_width=0,
                         annotation_text="likely next release", annotation_position="top left")
    short = first is not None and (last - first).days < 120  # month ticks would repeat "Nov 2026"
    figure.update_layout(
        yaxis=dict(visible=False, range=[0, LABEL_ROWS + 1.5]),
        xaxis=dict(tickformat="%-d %b %Y" if short else "%b %Y", title="Release date",
                   range=list(span) if span else None),
        margin=_MARGIN, height=80 + 45 * LABEL_ROWS, dragmode="select",
    )
    if releases:
        first, last = _day(releases[0].date), _day(releases[-1].date)
        hidden = sum(1 for row in rows if row is None)
        labelled = "each labelled with its version" if not hidden else (
            f"labelled with their versions where there is room ({hidden} on hover only)")
        caption = (f"{_count(len(releases), 'release')}, {day_range(first, last)}, {labelled}"
                   + ("; the shaded band is when the next one is likely." if forecast and forecast.possible else "."))
    else:
        caption = "No releases are recorded: no version tags or release commits."
    return Chart(figure, caption, (tuple((r.sha,) for r in releases),))


def label_box(day: date, text: str, span: tuple[date, date], width_px: float = PLOT_PX) -> tuple[float, float]:
    """The left and right pixel edges of a version label centred on ``day``, on a plot ``width_px``
    wide showing the days of ``span``, with half the gap on each side."""
    days = max(1, (span[1] - span[0]).days)
    centre = (day - span[0]).days / days * width_px
    half = (len(text) * CHAR_PX + LABEL_GAP_PX) / 2
    return centre - half, centre + half


def label_rows(days: Sequence[date], texts: Sequence[str], span: tuple[date, date],
               width_px: float = PLOT_PX) -> list[int | None]:
    """Per label, the row (0 = lowest) it is drawn in, or None when it fits in no row: newest first,
    each takes the lowest row where its box (``label_box``) overlaps no box already there."""
    taken: list[list[tuple[float, float]]] = [[] for _ in range(LABEL_ROWS)]
    rows: list[int | None] = [None] * len(days)
    for i in sorted(range(len(days)), key=lambda i: days[i], reverse=True):
        left, right = label_box(days[i], texts[i], span, width_px)
        for row, boxes in enumerate(taken):
            if all(right <= a or left >= b for a, b in boxes):
                boxes.append((left, right))
                rows[i] = row
                break
    return rows


def busiest_chart(areas: Iterable, period_name: str) -> Chart:
    """Horizontal bars of the areas changed most in a period (``NarratorService.busiest_areas``)."""
    areas = list(areas)
    shown = list(reversed(areas))  # Plotly draws the first bar at the bottom: busiest on top
    figure = go.Figure(go.Bar(
        x=[a.changes for a in shown], y=[html_text(a.area) for a in shown], orientation="h",
        marker_color="#3b7dd8", hovertemplate="%{y}: %{x} changes<extra></extra>",
    ))
    figure.update_layout(
        xaxis=dict(title="Changes", rangemode="tozero", dtick=1 if max((a.changes for a in areas), default=0) <= 10 else None),
        yaxis=dict(type="category"), margin=_MARGIN, height=60 + 36 * max(1, len(areas)), dragmode="select",
    )
    caption = f"The {'area' if len(areas) == 1 else f'{len(areas)} areas'} with the most changes in {period_name}."
    return Chart(figure, caption, (tuple(a.shas for a in shown),))


def _day(moment) -> date:
    return moment.astimezone(timezone.utc).date()


def _when(moment) -> str:
    day = _day(moment)
    return day_range(day, day)


def _count(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"
