"""Who gets the portfolio briefing: subscriptions checked, added, listed, paused and removed, for the
``subscriptions`` command and the Admin page (``narrator.send`` sends to them).

A subscription is a channel (``email``, ``slack``, ``teams``, ``mattermost``), its address (an e-mail
address, or an incoming-webhook URL: https, or http to this computer only) and the repositories it
covers (every repository, or a set). A webhook URL carries its own secret token, so it is never shown
whole: ``shown_address`` keeps its scheme and host.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from db.errors import NarratorError
from db.models import CHANNELS
from db.rows import SubscriptionRow
from narrator.text import plain

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                   r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
"""An address SMTP takes as it is: a dot-atom local part, and a domain of labels with a top level."""
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
"""The only hosts a webhook may be reached at over plain http."""


class SubscriptionError(NarratorError):
    """A subscription cannot be added or changed (bad channel, address, repository or id)."""


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    channel: str
    shown: str
    """The address as it may be shown: an e-mail address, or a webhook's scheme and host only."""
    repositories: tuple[str, ...] | None
    """The names of the repositories it covers; None for every repository."""
    active: bool
    created_at: datetime
    last_period: str | None
    """The newest period a delivery was tried for, ``YYYY-MM-DD..YYYY-MM-DD``."""
    last_status: str | None
    last_error: str | None

    def line(self) -> str:
        """'#3 email alice@example.com: shop, api (active; 2026-11-30..2026-12-06 sent)', for the command line."""
        repos = "every repository" if self.repositories is None else ", ".join(self.repositories) or "no repository left"
        state = "active" if self.active else "paused"
        if self.last_status:
            state += f"; {self.last_period} {self.last_status}" + (f": {self.last_error}" if self.last_error else "")
        return f"#{self.id} {self.channel} {self.shown}: {plain(repos)} ({state})"


def check_address(channel: str, address: str) -> str:
    """``address`` stripped, if ``channel`` can send to it; else a one-line ``SubscriptionError``."""
    if channel not in CHANNELS:
        raise SubscriptionError(f"Unknown channel {plain(str(channel))!r}: use {', '.join(CHANNELS)}.")
    text = (address or "").strip()
    if not text:
        raise SubscriptionError(f"No address given for the {channel} subscription.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp") for ch in text):
        raise SubscriptionError("Refused address: it contains spaces or control characters.")
    if channel == "email":
        if len(text) > 254 or not EMAIL.fullmatch(text) or len(text.split("@")[0]) > 64:
            raise SubscriptionError(f"{plain(text)!r} is not an e-mail address (name@example.com).")
        return text
    try:
        url = urllib.parse.urlsplit(text)
        host = (url.hostname or "").lower()
        url.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        raise SubscriptionError(f"Refused {channel} webhook: not a URL.") from None
    if url.scheme not in ("https", "http") or not host:
        raise SubscriptionError(f"Refused {channel} webhook: use an https:// incoming-webhook URL.")
    if url.scheme == "http" and host not in LOCAL_HOSTS:
        raise SubscriptionError(f"Refused {channel} webhook: plain http is only for this computer (localhost); "
                                "use https://.")
    if url.username is not None or url.password is not None:
        raise SubscriptionError(f"Refused {channel} webhook: a user name or password in the URL is not allowed.")
    return text


def shown_address(channel: str, address: str) -> str:
    """What may be shown of an address: an e-mail address whole, a webhook URL without its path (its token)."""
    if channel == "email":
        return plain(address)
    url = urllib.parse.urlsplit(address)
    return plain(f"{url.scheme}://{url.netloc}/\u2026")


class Subscriptions:
    """``NarratorService``'s subscriptions (uses ``self.store`` and the repository reads)."""

    def subscribe(self, channel: str, address: str, repo_ids: Iterable[int] | None = None) -> SubscriptionView:
        """A new active subscription to the briefing of ``repo_ids`` (None: every repository)."""
        address = check_address(channel, address)
        ids = None if repo_ids is None else sorted(set(repo_ids))
        if ids is not None:
            if not ids:
                raise SubscriptionError("Choose at least one repository, or every repository.")
            known = {repo.id for repo in self.repositories()}
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise SubscriptionError(f"No repository with id {unknown[0]}.")
        return self._subscription_view(self.store.add_subscription(channel, address, ids))

    def subscriptions(self) -> list[SubscriptionView]:
        """Every subscription, oldest first, with its latest delivery."""
        return [self._subscription_view(row) for row in self.store.list_subscriptions()]

    def set_subscribed(self, subscription_id: int, active: bool) -> None:
        """Pause (False) or resume (True) a subscription."""
        if not self.store.set_subscription_active(subscription_id, active):
            raise SubscriptionError(f"No subscription with id {subscription_id}.")

    def unsubscribe(self, subscription_id: int) -> None:
        """Remove a subscription and the record of its deliveries."""
        if not self.store.remove_subscription(subscription_id):
            raise SubscriptionError(f"No subscription with id {subscription_id}.")

    def _subscription_view(self, row: SubscriptionRow) -> SubscriptionView:
        names = {repo.id: repo.name for repo in self.repositories()}
        latest = self.store.list_deliveries(row.id, limit=1)
        last = latest[0] if latest else None
        return SubscriptionView(
            row.id, row.channel, shown_address(row.channel, row.address),
            None if row.repo_ids is None else tuple(names[i] for i in row.repo_ids if i in names),
            row.active, row.created_at, last.period_key if last else None, last.status if last else None,
            last.error if last else None)
