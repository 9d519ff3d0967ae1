"""What the charts read over the whole recorded history: their default range, activity per week or
month, releases, the busiest areas, and the next release's forecast."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace

from narrator.insights import forecast, history
from narrator.insights.periods import today
from narrator.service.views import BusyArea


class TimelineReads:
    """``NarratorService``'s charts (uses ``self.store``, ``self.repository`` and ``self.parts``)."""

    def chart_range(self, repo_id: int) -> tuple[date, date] | None:
        """The default range of the charts: the last 12 months up to the newest commit not after today
        (its first and last day found by the database)."""
        tomorrow = datetime.combine(today(), time.min, timezone.utc) + timedelta(days=1)
        ends = [SimpleNamespace(date=d) for d in self.store.date_span(repo_id, until=tomorrow) if d is not None]
        return history.default_range(ends, today=today())

    def activity(self, repo_id: int, by: history.By = "category", grain: history.Grain = "week",
                 start: date | None = None, end: date | None = None) -> list[history.Point]:
        """Changes per week or month by area or category, over every recorded change in the range
        (merges left out, as the digest counts them: they bring in changes already counted)."""
        return history.activity(self._changes_only(repo_id, start, end), by, grain, start, end)

    def releases(self, repo_id: int) -> list[history.ReleasePoint]:
        """Every release in the recorded history, oldest first (read from the commits that may name one)."""
        return history.releases(self.store.release_candidates(repo_id))

    def busiest_areas(self, repo_id: int, start: date | None = None, end: date | None = None,
                      n: int = 5) -> list[BusyArea]:
        """The areas changed most in the range, each with its part (role and description) when known."""
        parts = {p.area: p for p in self.parts(repo_id)}
        return [BusyArea(a.area, a.changes, a.lines, a.shas, parts.get(a.area))
                for a in history.busiest_areas(self._changes_only(repo_id, start, end), start, end, n)]

    def _changes_only(self, repo_id: int, start: date | None, end: date | None) -> list:
        """The recorded commits that are changes, from ``start`` to ``end`` (UTC days, inclusive; None:
        open), read by SQL as a chart counts them: merges left out (a merge has no files of its own,
        so counting it would add a change to the top-level files and to its category)."""
        since = datetime.combine(start, time.min, timezone.utc) if start is not None else None
        until = datetime.combine(end, time.min, timezone.utc) + timedelta(days=1) if end is not None and end < date.max else None
        return self.store.chart_changes(repo_id, since, until)

    def forecast(self, repo_id: int, releases: list | None = None) -> forecast.Forecast:
        """When the next release is likely, from the gaps between recorded releases (``releases``:
        every release, already read), back-tested."""
        repo = self.repository(repo_id)
        # As of the day the history was read (no release after it can be known), never after today.
        as_of = today() if repo.narrated_at is None else min(today(), repo.narrated_at.astimezone(timezone.utc).date())
        if releases is None:
            releases = history.releases(self.store.release_candidates(repo_id))
        return forecast.forecast(releases, as_of)
