"""The webhook log's retention: finished events go after the retention period with their
deliveries and attempts; an event with a delivery still pending stays, whatever its age."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ringwise.ids import new_id
from ringwise.results.retention import BATCH, CHECK_EVERY, WebhookLogPurger
from ringwise.results.runtime import make_results_worker
from ringwise.settings import Settings

DAY = timedelta(days=1)


def add_event(db: Database, workspace_id: str, endpoint_id: str, at: datetime,
              statuses: tuple[str, ...]) -> str:
    """An event emitted at ``at`` with one delivery per status, each with one attempt."""
    event_id = f"msg_{new_id().replace('-', '')}"
    with db.transaction() as session:
        session.add(WebhookEvent(id=event_id, workspace_id=workspace_id, type="call.ended",
                                 payload={"type": "call.ended"}, created_at=at))
        session.flush()
        for status in statuses:
            delivery_id = new_id()
            session.add(WebhookDelivery(
                id=delivery_id, workspace_id=workspace_id, event_id=event_id,
                endpoint_id=endpoint_id, status=status, attempts=1,
                next_attempt_at=at + timedelta(minutes=5) if status == "pending" else None,
                created_at=at, updated_at=at))
            session.flush()
            session.add(WebhookAttempt(id=new_id(), delivery_id=delivery_id, at=at,
                                       status_code=503, outcome="retry", error=None,
                                       duration_ms=12.0, response_snippet=None))
    return event_id


def endpoint(db: Database, workspace_id: str, clock: ManualClock) -> str:
    endpoint_id = new_id()
    with db.transaction() as session:
        session.add(WebhookEndpoint(
            id=endpoint_id, workspace_id=workspace_id, url="https://hooks.example.com/rw",
            description=None, events=[], secrets=[{"secret": "whsec_dGVzdA==",
                                                   "expires_at": None}],
            enabled=True, created_at=clock.now(), updated_at=clock.now()))
    return endpoint_id


def counts(db: Database) -> tuple[int, int, int]:
    with db.reading() as session:
        events, deliveries, attempts = (
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (WebhookEvent, WebhookDelivery, WebhookAttempt))
    return events, deliveries, attempts


def event_ids(db: Database) -> set[str]:
    with db.reading() as session:
        return set(session.scalars(select(WebhookEvent.id)))


def test_finished_events_past_the_retention_go_pending_and_recent_ones_stay(
        db: Database, clock: ManualClock, workspace: tuple[str, str]) -> None:
    hook = endpoint(db, workspace[0], clock)
    now = clock.now()
    old_done = add_event(db, workspace[0], hook, now - 31 * DAY, ("delivered", "failed"))
    old_cancelled = add_event(db, workspace[0], hook, now - 40 * DAY, ("cancelled",))
    old_pending = add_event(db, workspace[0], hook, now - 45 * DAY, ("delivered", "pending"))
    recent = add_event(db, workspace[0], hook, now - 29 * DAY, ("delivered",))
    purger = WebhookLogPurger(db, clock, retention=30 * DAY)
    assert purger.run_due() == 2
    assert event_ids(db) == {old_pending, recent}
    assert counts(db) == (2, 3, 3)  # their deliveries and attempts, nothing else
    assert old_done not in event_ids(db) and old_cancelled not in event_ids(db)
    # Looked at again after an hour, not before.
    assert purger.next_due() == now + CHECK_EVERY
    clock.advance(2 * DAY)
    with db.transaction() as session:
        session.execute(update(WebhookDelivery)
                        .where(WebhookDelivery.event_id == old_pending)
                        .values(status="delivered"))
    assert purger.run_due() == 2  # the pending one is finished now; the recent one aged out
    assert counts(db) == (0, 0, 0)


def test_purging_goes_in_batches(db: Database, clock: ManualClock,
                                 workspace: tuple[str, str]) -> None:
    hook = endpoint(db, workspace[0], clock)
    old = clock.now() - 60 * DAY
    with db.transaction() as session:
        session.add_all(WebhookEvent(id=f"msg_{n:032d}", workspace_id=workspace[0],
                                     type="call.started", payload={}, created_at=old)
                        for n in range(BATCH + 5))
    add_event(db, workspace[0], hook, old, ("delivered",))
    purger = WebhookLogPurger(db, clock, retention=30 * DAY)
    assert purger.run_due() == BATCH
    assert purger.next_due() is None  # more to do: the worker calls again at once
    assert purger.run_due() == 6
    assert counts(db) == (0, 0, 0)


def test_zero_keeps_the_log_forever(db: Database, clock: ManualClock,
                                    workspace: tuple[str, str]) -> None:
    hook = endpoint(db, workspace[0], clock)
    add_event(db, workspace[0], hook, clock.now() - 400 * DAY, ("delivered",))
    worker = make_results_worker(db, clock, Settings(webhook_retention_days=0),
                                 worker_id="w1")
    purgers = [r for r in worker.runners if isinstance(r, WebhookLogPurger)]
    assert [p.retention for p in purgers] == [None]
    worker.step()
    assert counts(db) == (1, 1, 1)
    worker = make_results_worker(db, clock, Settings(webhook_retention_days=30),
                                 worker_id="w2")
    worker.step()
    assert counts(db) == (0, 0, 0)


def test_the_retention_setting_from_the_environment(db: Database, clock: ManualClock) -> None:
    assert Settings.from_env({}).webhook_retention_days == 30
    assert Settings.from_env({"RINGWISE_WEBHOOK_RETENTION_DAYS": "7"}).webhook_retention_days == 7
    assert Settings.from_env({"RINGWISE_WEBHOOK_RETENTION_DAYS": "0"}).webhook_retention_days == 0
    with pytest.raises(ValueError, match="RINGWISE_WEBHOOK_RETENTION_DAYS must be a whole "
                                         "number of days"):
        Settings.from_env({"RINGWISE_WEBHOOK_RETENTION_DAYS": "30d"})
    with pytest.raises(ValueError, match="retention must be positive"):
        WebhookLogPurger(db, clock, retention=timedelta(0))
