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

from dashboard.views import CATEGORIES, category_label, chart_colour
from narrator.digest import day_range
from narrator.forecast import Forecast
from narrator.history import By, Grain, Point, ReleasePoint
from narrator.text import html_text

LABELLED_RELEASES = 30
"""Only the newest releases carry a version label on the timeline; older ones show it on hover."""
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
    """Releases on a timeline, labelled with their versions; the forecast range as a shaded band."""
    figure = go.Figure()
    labelled = len(releases) - LABELLED_RELEASES
    versions = [html_text(r.version) for r in releases]
    figure.add_trace(go.Scatter(
        name="Release", x=[r.date for r in releases],
        # Three heights in turn, so neighbouring labels do not sit on each other.
        y=[1 + i % 3 for i in range(len(releases))],
        mode="markers+text", text=[v if i >= labelled else "" for i, v in enumerate(versions)],
        hovertext=[f"{v} · {_when(r.date)}" for v, r in zip(versions, releases)], hoverinfo="text",
        textposition="top center", marker=dict(size=10, color=chart_colour("release")), showlegend=False,
    ))
    if forecast is not None and forecast.possible:
        figure.add_vrect(x0=forecast.earliest.isoformat(), x1=(forecast.latest + timedelta(days=1)).isoformat(),
                         fillcolor="#3b7dd8", opacity=0.15, line_width=0,
                         annotation_text="likely next release", annotation_position="top left")
    days = [_day(r.date) for r in releases] + ([forecast.latest] if forecast is not None and forecast.possible else [])
    first, last = (min(days), max(days)) if days else (None, None)
    short = first is not None and (last - first).days < 120  # month ticks would repeat "Nov 2026"
    figure.update_layout(
        yaxis=dict(visible=False, range=[0, 4.5]),
        xaxis=dict(tickformat="%-d %b %Y" if short else "%b %Y", title="Release date",
                   range=[first - timedelta(days=15), last + timedelta(days=15)] if first else None),
        margin=_MARGIN, height=240, dragmode="select",
    )
    if releases:
        first, last = _day(releases[0].date), _day(releases[-1].date)
        caption = (f"{_count(len(releases), 'release')}, {day_range(first, last)}, each labelled with its "
                   "version" + ("; the shaded band is when the next one is likely." if forecast and forecast.possible else "."))
    else:
        caption = "No releases are recorded: no version tags or release commits."
    return Chart(figure, caption, (tuple((r.sha,) for r in releases),))


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
