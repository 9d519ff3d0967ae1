"""The briefing and what it is built from: the commits a period needs (read by SQL), the digest, the
status as of today, the shared period, and the portfolio's rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone

from narrator.defaults import DIGEST_PERIOD, REPORT_PERIOD
from narrator.facts.description import first_line
from narrator.facts.reading import Reading
from narrator.insights import history, status
from narrator.insights.activity import USUAL_CHANGES
from narrator.insights.briefing import Briefing
from narrator.insights.briefing import build as build_briefing
from narrator.insights.delivery import WAITING_LISTED
from narrator.insights.digest import Digest, DigestCommit, build_digest
from narrator.insights.periods import WITH_COMMITS, Period, choose_period, today
from narrator.insights.portfolio import figures
from narrator.pipeline import jobs
from narrator.service.views import SPARK_WEEKS, CommitView, PortfolioRow, RepoView


def _digest_commit(view: CommitView) -> DigestCommit:
    """A change as ``narrator.insights.digest`` reads it."""
    return DigestCommit(view.sha, view.date, view.author, view.area, view.category, view.headline.text,
                       view.headline.source, view.version, list(view.advisories), list(view.release_notes),
                       [f["path"] for f in view.files], view.is_merge, view.ci, view.impact)


def resolve_period(commits, period: str | tuple[date, date] | Period) -> Period:
    """The one period resolver: a Period as it is, else ``choose_period`` over the commits' dates."""
    return period if isinstance(period, Period) else choose_period([c.date for c in commits], period)


class BriefingReads:
    """``NarratorService``'s briefings, digests, status and portfolio (uses ``self.store``,
    ``self.settings``, the change and narrative reads, and ``forecast``)."""

    def _commits(self, repo_id: int) -> tuple:
        """Every recorded commit of a repository, newest first, read again only when it changed.

        A long history is tens of thousands of rows and a page asks for it several times per run
        (charts, digest, busiest areas, forecast): one small query says whether the copy is current.
        """
        stamp = self.store.history_version(repo_id)
        cached = self._commit_cache.get(repo_id)
        if cached is None or cached[0] != stamp:
            cached = (stamp, tuple(self.store.list_commits(repo_id)))
            self._commit_cache[repo_id] = cached
        return cached[1]

    def _window(self, repo_id: int, period: str | tuple[date, date] | Period | None) -> tuple[tuple, list, Period | None]:
        """What a briefing of ``period`` reads, by SQL: the commits from the oldest day it looks at
        (its usual gap between changes, the last release, the period and the one before, their
        releases' lead times) to the newest, and every release; with the period resolved.

        The status, the digest and the period resolver give the same answer over these commits as
        over the whole history (older commits only ever fall outside what they count), so a long
        history costs its last weeks, not its every row. Without such a day, the whole history.
        """
        releases = history.releases(self.store.release_candidates(repo_id))
        tomorrow = datetime.combine(today(), time.min, timezone.utc) + timedelta(days=1)
        oldest = self.store.nth_change_date(repo_id, USUAL_CHANGES, tomorrow)
        shipped = [r for r in releases if r.date < tomorrow]
        if oldest is not None and shipped:
            oldest = min(oldest, shipped[-1].date)
        commits = self._since(repo_id, oldest)
        chosen = resolve_period(commits, period) if period is not None else None
        if chosen is not None and oldest is not None:
            earlier = chosen.previous()
            needed: datetime | None = min(oldest, earlier.start)
            ordered = sorted(releases, key=lambda r: r.date)
            first = next((i for i, r in enumerate(ordered) if r.date > earlier.start), None)
            if first is not None:  # a release's lead time reaches back to the release before it
                needed = min(needed, ordered[first - 1].date) if first else None
            if needed is None or needed < oldest:
                commits = self._since(repo_id, needed)
        return commits, releases, chosen

    def _since(self, repo_id: int, oldest: datetime | None) -> tuple:
        """The commits from a day before ``oldest`` (None: every commit), newest first; the whole
        history comes from the cache of ``_commits``."""
        if oldest is None:
            return self._commits(repo_id)
        return tuple(self.store.list_commits(repo_id, since=oldest - timedelta(days=1)))

    def digest(self, repo_id: int, period: str | tuple[date, date] = DIGEST_PERIOD, commits=None) -> Digest | None:
        """What changed in ``period`` (a name of ``periods.PERIOD_NAMES`` or a date range), from facts and people's words."""
        if commits is None:
            commits, _, period = self._window(repo_id, period)
        if not commits:
            return None
        chosen = resolve_period(commits, period)
        earlier = chosen.previous()
        wanted = [c for c in commits if earlier.contains(c.date) or chosen.contains(c.date)]
        headlines, explanations = self._headlines(repo_id, wanted)
        views = [self._commit_view(c, headlines, explanations) for c in wanted]
        return build_digest([_digest_commit(v) for v in views], chosen)

    def status(self, repo_id: int, period: str | tuple[date, date] | None = REPORT_PERIOD, commits=None) -> status.Status:
        """The repository as of today (``narrator.insights.status``): status line, release status, waiting to
        ship, risks, and over ``period`` (None: none) the period's risks and delivery figures."""
        if commits is None:  # what the status reads, not the whole history
            commits, releases, chosen = self._window(repo_id, period)
        else:
            releases = history.releases(commits)
            chosen = resolve_period(commits, period) if period is not None else None
        return self._status(repo_id, commits, releases, chosen)

    def _status(self, repo_id: int, commits, releases: list, chosen: Period | None) -> status.Status:
        return status.status(commits, releases, today(), chosen, self.forecast(repo_id, releases),
                             self.repository(repo_id).narrated_at)

    def period(self, choice: str | tuple[date, date] | Period, repo_ids: Iterable[int] = ()) -> Period:
        """The one period resolver for one repository or several: a portfolio's repositories share
        its dates ('7d-commits' ends on the latest commit of any of them up to today, found by the
        database: no history is read)."""
        if isinstance(choice, Period):
            return choice
        latest = None
        if isinstance(choice, str) and choice.endswith(WITH_COMMITS):
            tomorrow = datetime.combine(today(), time.min, timezone.utc) + timedelta(days=1)
            latest = self.store.latest_commit_date(repo_ids, tomorrow)
        return choose_period([latest] if latest is not None else [], choice)

    def briefing(self, repo_id: int, period: str | tuple[date, date] | Period = REPORT_PERIOD, commits=None) -> Briefing:
        """The repository's briefing over ``period`` (``narrator.insights.briefing``): built once, from one
        resolved period shared by its digest and its status, so every page prints the same numbers."""
        if commits is None:  # what the briefing reads, not the whole history
            commits, releases, period = self._window(repo_id, period)
        else:
            releases = history.releases(commits)
        chosen = resolve_period(commits, period)
        now = self._status(repo_id, commits, releases, chosen)
        digest = self.digest(repo_id, chosen, commits)
        waiting = self.changes_of(repo_id, now.release.waiting[:WAITING_LISTED]) if now.release.last else []
        described = self._latest(repo_id, "description")
        views = [self._view(described[t], None) for t in ("project:package", "project:readme") if t in described]
        said = next((v.said for v in views if v is not None and v.text), None)
        if said is not None:
            said = dataclasses.replace(said, text=first_line(said.text))
        return build_briefing(self.repository(repo_id).name, said, chosen, now, digest, today(), waiting,
                              self._readings(repo_id, digest, commits), self._notes(repo_id, digest, commits, waiting))

    def _notes(self, repo_id: int, digest: Digest | None, commits, waiting) -> dict[str, str]:
        """The model's checked note for users (``narrator.pipeline.tasks.note_task``) of each listed change that has
        one for its current diff, by sha; none unless the note setting shows them (``Settings.shows``)."""
        if not self.settings.shows("user_note"):
            return {}
        listed = {s for lines in ((digest.affects, digest.features, digest.fixes) if digest else ())
                  for line in lines for s in line.shas} | {c.sha for c in waiting}
        hashes = {c.sha: c.input_hash for c in commits if c.sha in listed}
        notes = {}
        for sha, row in self._latest(repo_id, "note", sorted(listed)).items():
            view = self._view(row, hashes.get(sha))
            if view is not None and view.text and view.by_model and not view.stale:
                notes[sha] = view.text
        return notes

    def _readings(self, repo_id: int, digest: Digest | None, commits) -> dict[str, Reading]:
        """The plain reading (``narrator.facts.reading``) of each change the digest lists by headline
        (may affect users, security, new, fixed), by sha, from the commits already read."""
        if digest is None:
            return {}
        listed = {s for lines in (digest.affects, digest.security, digest.features, digest.fixes)
                  for line in lines for s in line.shas}
        areas = self._areas(repo_id)
        views = (self._commit_view(c, {}, {}, areas) for c in commits if c.sha in listed and not c.is_merge)
        return {view.sha: Reading(view.reading, view.reading_provenance) for view in views}

    def portfolio(self, period: str | tuple[date, date] = DIGEST_PERIOD) -> list[PortfolioRow]:
        """Every repository's briefing over ``period``, as a portfolio row each, busiest first.

        Every row covers the same days (``period``): '7d', '30d' and '90d' end today, the Overview's
        days; their '-commits' forms end on the day of the newest commit of *any* repository up to
        today (not each one's own newest), so a quiet repository shows a quiet period. Each row is
        read off that repository's briefing, which reads only the days it needs, by SQL.
        """
        repos = self.repositories()
        chosen = self.period(period, [repo.id for repo in repos])
        jobs.recover(self.store)  # once, not once per row
        rows = [self._portfolio_row(repo, chosen) for repo in repos]
        rows.sort(key=lambda r: (-r.changes, -sum(r.sparkline), r.repo.name.casefold(), r.repo.id))
        return rows

    def _portfolio_row(self, repo: RepoView, chosen: Period) -> PortfolioRow:
        """One repository's row: its briefing over ``chosen``, its weekly line and busiest area (from
        the changes of those weeks alone) and the error of its latest narration job."""
        brief = self.briefing(repo.id, chosen)
        weeks_from = history.bucket(chosen.last_day - timedelta(weeks=SPARK_WEEKS - 1), "week")
        recent = self._changes_only(repo.id, min(weeks_from, chosen.first_day), chosen.last_day)
        busiest = history.busiest_areas(recent, chosen.first_day, chosen.last_day, n=1)
        latest = self.store.list_jobs(repo.id, limit=1)
        error = latest[0].error if latest and latest[0].status == "failed" else None
        return PortfolioRow(repo, chosen, brief, figures(brief), tuple(history.sparkline(recent, chosen.last_day, SPARK_WEEKS)),
                            busiest[0].area if busiest else None, error)
