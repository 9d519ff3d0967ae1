"""``send``: each active subscriber gets the briefing of their repositories for one period, once.

The period ends today (``7d``: the 7 days up to today) and is the same for every subscriber; its key
(first and last day) makes one ``deliveries`` row per subscriber, claimed before sending
(``Store.claim_delivery``), so a second run for the same period sends nothing again, and only a failed
delivery (or one left half-way by a run that died) is tried again. Within a run a delivery is tried
``SendConfig.attempts`` times, waiting ``backoff_s``, then twice as long, between tries, as long as
the failure is one that may pass (a refused connection, a 4xx SMTP answer, HTTP 5xx or 429). One
subscriber's failure is recorded and the run goes on to the next; once the mail server refuses the
login, the run's other e-mails fail with that line without logging in again (a locked account helps
no one), and the next run tries them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from db.errors import UserError, first_line
from db.rows import SubscriptionRow
from narrator.insights.briefing import Briefing
from narrator.insights.periods import WITH_COMMITS, Period
from narrator.send.config import SendConfig, SendError
from narrator.send.messages import CHAT_FORMATS, Mail, briefing_mail, chat_briefing, email_message
from narrator.send.transport import DeliveryFailed, post_json, send_mail
from narrator.service.core import NarratorService
from narrator.service.subscriptions import shown_address
from narrator.text import plain

log = logging.getLogger(__name__)


def period_key(period: Period) -> str:
    """The delivery key of a period: its first and last day."""
    return f"{period.first_day.isoformat()}..{period.last_day.isoformat()}"


@dataclass(frozen=True)
class Outcome:
    """What became of one subscription in one run."""

    subscription: int
    channel: str
    shown: str
    status: str
    """'sent', 'failed', 'already sent' (an earlier run sent it, or another is sending it now) or 'skipped'."""
    repositories: int = 0
    attempts: int = 0
    error: str | None = None

    def line(self) -> str:
        """The progress line a run prints for it."""
        head = f"{self.status}: #{self.subscription} {self.channel} {self.shown}"
        if self.status == "sent":
            tries = f", {self.attempts} attempts" if self.attempts > 1 else ""
            return f"{head} ({self.repositories} repositor{'y' if self.repositories == 1 else 'ies'}{tries})"
        if self.status == "failed":
            return f"{head} after {self.attempts} attempt{'s' if self.attempts != 1 else ''}: {self.error}"
        return head + (f": {self.error}" if self.error else "")


def _readable(service: NarratorService) -> list[int]:
    """The repositories a briefing can be made of: narrated, or with commits read."""
    return [repo.id for repo in service.repositories()
            if repo.narrated_at is not None or service.store.count_commits(repo.id)]


def send_period(service: NarratorService, choice: str | tuple) -> Period:
    """The one period every subscriber's briefing covers: ``7d``, ``30d``, ``90d`` (ending today) or dates."""
    if isinstance(choice, str) and choice.endswith(WITH_COMMITS):
        raise SendError(f"send covers the days up to today: use {choice.removesuffix(WITH_COMMITS)}, not {choice}.")
    return service.period(choice)


def send_briefings(service: NarratorService, config: SendConfig, chosen: Period,
                   sleep: Callable[[float], None] = time.sleep) -> Iterator[Outcome]:
    """Send ``chosen``'s briefing to every active subscriber, yielding each one's outcome as it ends."""
    subscriptions = service.store.list_subscriptions(active_only=True)
    readable = _readable(service) if subscriptions else []
    key = period_key(chosen)
    mails: dict[tuple[int, ...], Mail] = {}  # one rendering per set of repositories
    chats: dict[tuple[int, ...], object] = {}
    briefs: dict[int, Briefing] = {}  # one briefing per repository, whatever sets and channels it is sent in
    refused: list[str] = []  # the mail server refused the login: no further e-mail tries it again this run
    for subscription in subscriptions:
        yield _deliver(service, config, subscription, readable, chosen, key, mails, chats, briefs, sleep, refused)


def _deliver(service: NarratorService, config: SendConfig, subscription: SubscriptionRow, readable: list[int],
             chosen: Period, key: str, mails: dict, chats: dict, briefs: dict, sleep: Callable[[float], None],
             refused: list[str]) -> Outcome:
    shown = shown_address(subscription.channel, subscription.address)
    base = dict(subscription=subscription.id, channel=subscription.channel, shown=shown)
    wanted = readable if subscription.repo_ids is None else [i for i in subscription.repo_ids if i in readable]
    if not wanted:
        return Outcome(**base, status="skipped", error="none of its repositories has been narrated yet")
    claimed = service.store.claim_delivery(subscription.id, key)
    if claimed is None:
        return Outcome(**base, status="already sent", repositories=len(wanted))
    ids = tuple(wanted)
    attempts = 0
    try:
        if subscription.channel == "email":
            server = config.server()
            if refused:  # logging in again and again could lock the account: fail as the first did
                raise DeliveryFailed(f"not tried: {refused[0]}", retry=False)
            if ids not in mails:
                mails[ids] = briefing_mail(service, ids, chosen, config.dashboard_url, briefs)
            message = email_message(mails[ids], config.sender, subscription.address)
            deliver = lambda: send_mail(server, message, config.timeout_s)  # noqa: E731
        else:
            if ids not in chats:
                chats[ids] = chat_briefing(service, ids, chosen, config.dashboard_url, briefs)
            payload = CHAT_FORMATS[subscription.channel](chats[ids])
            deliver = lambda: post_json(subscription.address, payload, config.timeout_s)  # noqa: E731
        while True:
            attempts += 1
            try:
                deliver()
                break
            except DeliveryFailed as failed:
                if not failed.retry or attempts >= config.attempts:
                    raise
                sleep(config.backoff_s * 2 ** (attempts - 1))
    except (DeliveryFailed, UserError) as failed:
        error = plain(first_line(failed))
        if getattr(failed, "server_wide", False):
            refused.append(error)
    except Exception as bug:  # a bug: this subscriber fails, the others still get theirs; the log keeps the trace
        log.exception("sending to subscription %s failed", subscription.id)
        error = plain(first_line(bug, with_type=True))
    else:
        service.store.record_delivery(claimed.id, "sent", attempts)
        return Outcome(**base, status="sent", repositories=len(ids), attempts=attempts)
    service.store.record_delivery(claimed.id, "failed", attempts, error)
    return Outcome(**base, status="failed", repositories=len(ids), attempts=attempts, error=error)


def summary(outcomes: list[Outcome], period: Period | None = None) -> str:
    """The run's last line: how many were sent, failed, already sent or skipped."""
    counts = {status: sum(o.status == status for o in outcomes) for status in ("sent", "failed", "already sent", "skipped")}
    if not outcomes:
        return "No active subscription: add one with 'code-narrator subscriptions add' or on the Admin page."
    said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return f"Briefings{f' for {period.label}' if period else ''}: {said}."
