"""The ``subscriptions`` and ``deliveries`` tables: the ``Store`` methods that add, list, change and
remove subscriptions, and claim and record one period's delivery to one of them.

A delivery is claimed before it is sent (``claim_delivery``): one row per subscription and period
(a unique constraint), so two runs of ``send`` at once, or a run after a successful one, never send
the same period twice; a failed delivery, or one left 'sending' by a run that died, is claimed again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import DELIVERY_STATUSES, Delivery, Subscription, utc_now
from db.records import Records
from db.rows import DeliveryRow, SubscriptionRow, to_row

STALE_SENDING = timedelta(minutes=15)
"""A delivery still 'sending' after this long belongs to a run that died: it is claimed again."""


class SubscriptionRecords(Records):
    """Store methods for subscriptions and their deliveries."""

    def add_subscription(self, channel: str, address: str, repo_ids: list[int] | None = None,
                         active: bool = True) -> SubscriptionRow:
        """A new subscription (checked by the caller); ``repo_ids`` None: every repository."""
        with self.session(write=True) as s:
            row = Subscription(channel=channel, address=address, active=active,
                               repo_ids=None if repo_ids is None else sorted(set(repo_ids)))
            s.add(row)
            s.flush()
            return to_row(SubscriptionRow, row)

    def list_subscriptions(self, active_only: bool = False) -> list[SubscriptionRow]:
        """Every subscription, oldest first (``active_only``: only the active ones)."""
        query = select(Subscription).order_by(Subscription.id)
        if active_only:
            query = query.where(Subscription.active.is_(True))
        with self.session() as s:
            return [to_row(SubscriptionRow, row) for row in s.scalars(query)]

    def set_subscription_active(self, subscription_id: int, active: bool) -> bool:
        """Pause or resume a subscription; False when there is none with that id."""
        with self.session(write=True) as s:
            row = s.get(Subscription, subscription_id)
            if row is None:
                return False
            row.active = active
            return True

    def remove_subscription(self, subscription_id: int) -> bool:
        """Delete a subscription and its deliveries; False when there is none with that id."""
        with self.session(write=True) as s:
            row = s.get(Subscription, subscription_id)
            if row is None:
                return False
            for delivery in s.scalars(select(Delivery).where(Delivery.subscription_id == subscription_id)):
                s.delete(delivery)
            s.delete(row)
            return True

    def claim_delivery(self, subscription_id: int, period_key: str) -> DeliveryRow | None:
        """Mark the delivery of ``period_key`` to the subscription 'sending' and return it, unless it
        was sent already or another run is sending it now (None then)."""
        now = utc_now()
        try:
            with self.session(write=True) as s:
                row = s.scalar(select(Delivery).where(Delivery.subscription_id == subscription_id,
                                                      Delivery.period_key == period_key))
                if row is None:
                    row = Delivery(subscription_id=subscription_id, period_key=period_key, status="sending",
                                   attempts=0, updated_at=now)
                    s.add(row)
                elif row.status == "sent" or (row.status == "sending" and now - row.updated_at < STALE_SENDING):
                    return None
                else:
                    row.status, row.updated_at = "sending", now
                s.flush()
                return to_row(DeliveryRow, row)
        except IntegrityError:  # another run inserted it a moment ago: it is theirs
            return None

    def record_delivery(self, delivery_id: int, status: str, attempts: int, error: str | None = None) -> DeliveryRow:
        """Record how a claimed delivery ended: 'sent' (with its time) or 'failed' (with one line of error);
        ``attempts`` more attempts were made."""
        if status not in DELIVERY_STATUSES:
            raise ValueError(f"Unknown delivery status {status!r}; expected one of {', '.join(DELIVERY_STATUSES)}")
        with self.session(write=True) as s:
            row = s.get(Delivery, delivery_id)
            if row is None:
                raise LookupError(f"No delivery with id {delivery_id}")
            now = utc_now()
            row.status, row.error, row.updated_at = status, error, now
            row.attempts += attempts
            if status == "sent":
                row.sent_at = now
            return to_row(DeliveryRow, row)

    def list_deliveries(self, subscription_id: int | None = None, limit: int | None = None) -> list[DeliveryRow]:
        """Deliveries newest first, of one subscription or of all."""
        query = select(Delivery)
        if subscription_id is not None:
            query = query.where(Delivery.subscription_id == subscription_id)
        with self.session() as s:
            return [to_row(DeliveryRow, row) for row in s.scalars(query.order_by(Delivery.id.desc()).limit(limit))]
