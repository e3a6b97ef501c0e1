"""Purging the webhook log once it has served its purpose.

Every event, delivery and attempt is kept while any delivery of the event is still pending
(at least once comes first), and for ``RINGWISE_WEBHOOK_RETENTION_DAYS`` (default 30) after
the event was emitted: long enough to read the delivery log and replay failures, bounded so
the tables do not grow for ever. :class:`WebhookLogPurger` is a results-worker runner: it
deletes in batches of :data:`BATCH` events (their attempts and deliveries first), each its
own short transaction, and when nothing is left looks again after :data:`CHECK_EVERY`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, exists, select

from ringwise.clock import Clock
from ringwise.db.engine import Database
from ringwise.db.models import WebhookAttempt, WebhookDelivery, WebhookEvent

BATCH: Final = 1_000
CHECK_EVERY: Final = timedelta(hours=1)


class WebhookLogPurger:
    def __init__(self, db: Database, clock: Clock, *, retention: timedelta | None) -> None:
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive (None keeps the log forever)")
        self.db = db
        self.clock = clock
        self.retention = retention
        self._next: datetime | None = None

    def run_due(self, limit: int = BATCH) -> int:
        """One batch of events purged, if a look is due; how many."""
        if self.retention is None:
            return 0
        now = self.clock.now()
        if self._next is not None and now < self._next:
            return 0
        purged = self.purge(now - self.retention, BATCH)
        if purged < BATCH:  # nothing more for now
            self._next = now + CHECK_EVERY
        return purged

    def next_due(self) -> datetime | None:
        return None if self.retention is None else self._next

    def purge(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` events emitted before ``before`` with no pending delivery,
        with their deliveries and attempts; how many events."""
        with self.db.transaction() as session:
            ids = list(session.scalars(
                select(WebhookEvent.id)
                .where(WebhookEvent.created_at < before,
                       ~exists().where(WebhookDelivery.event_id == WebhookEvent.id,
                                       WebhookDelivery.status == "pending"))
                .order_by(WebhookEvent.created_at, WebhookEvent.id).limit(limit)))
            if not ids:
                return 0
            deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
            session.execute(delete(WebhookAttempt)
                            .where(WebhookAttempt.delivery_id.in_(deliveries))
                            .execution_options(synchronize_session=False))
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids))
                            .execution_options(synchronize_session=False))
            session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids))
                            .execution_options(synchronize_session=False))
        return len(ids)
