"""Webhook deliveries: claim, sign and send outside any transaction, record, retry.

The outbox (``results.outbox``) writes one pending delivery per subscribed endpoint in the
transaction of the event's cause. A dispatcher claims due deliveries by pushing their
``next_attempt_at`` one lease ahead (so a dispatcher that dies mid-send leaves the delivery to
be taken again when the lease runs out), sends each with no transaction open (a receiver may
take seconds), then records the attempt and the delivery's new state in one transaction:

* delivered (2xx): done;
* retry (no answer, 5xx, 429, other 4xx...): the next attempt on the Standard Webhooks
  schedule of ``core.webhooks.retry``, or failed once it gives up (about 3 days);
* gone (410): the receiver asks us to stop: the endpoint is disabled, this delivery failed and
  the endpoint's other pending deliveries cancelled;
* rejected (the SSRF guard refused the destination): failed, never retried.

Delivery is at least once: a dispatcher whose lease ran out mid-send may have delivered
already when another one sends again. Receivers deduplicate on ``webhook-id`` (the event id,
the same on every attempt); the body bytes are the same on every attempt too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Update, func, select, update
from sqlalchemy.orm import Session

from ringwise.clock import Clock
from ringwise.core.webhooks import retry, signing
from ringwise.db.engine import Database
from ringwise.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ringwise.ids import new_id
from ringwise.notify.webhook_sender import SendResult, WebhookSender
from ringwise.results.records import iso

log = logging.getLogger("ringwise.webhooks")

LEASE: Final = timedelta(seconds=60)
PER_ENDPOINT: Final = 10  # deliveries to one endpoint in one batch
SEND_THREADS: Final = 8  # endpoints sent to at the same time
MAX_ERROR_CHARS: Final = 2000


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The request body of an event: compact JSON with sorted keys, so every attempt sends
    (and signs) the same bytes whatever key order the database returns (PostgreSQL's JSONB
    does not keep it)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode("utf-8")


def signing_secrets(secrets: Sequence[Mapping[str, Any]], now: datetime) -> list[str]:
    """The endpoint's secrets still valid at ``now``, newest first (all of them sign)."""
    valid: list[str] = []
    for entry in secrets:
        expires = entry.get("expires_at")
        if expires is not None and datetime.fromisoformat(str(expires)) <= now:
            continue
        valid.append(str(entry["secret"]))
    return valid


def gone_reason(at: datetime) -> str:
    return f"the receiver answered 410 Gone on {iso(at)}"


@dataclass(frozen=True, slots=True)
class _Work:
    delivery_id: str
    event_id: str
    endpoint_id: str
    attempts: int  # including this one: with lease_owner, what proves the lease is still ours
    leased_until: datetime
    url: str
    secrets: tuple[str, ...]
    body: bytes


class WebhookDispatcher:
    """A results-worker runner (``results.worker.Runner``) delivering webhooks."""

    def __init__(self, db: Database, clock: Clock, sender: WebhookSender, *, worker_id: str,
                 lease: timedelta = LEASE) -> None:
        if lease <= timedelta(0):
            raise ValueError("lease must be positive")
        self.db = db
        self.clock = clock
        self.sender = sender
        self.worker_id = worker_id
        self.lease = lease
        self._pg = db.dialect == "postgresql"
        self._pool: ThreadPoolExecutor | None = None

    def run_due(self, limit: int = 50) -> int:
        """Work on up to ``limit`` due deliveries; how many were claimed. Each endpoint's
        deliveries go one after another (a 410 must stop the rest), endpoints side by side,
        so a receiver that hangs until the timeout delays only its own deliveries."""
        work, cancelled = self._claim(limit)
        groups: dict[str, list[_Work]] = {}
        for item in work:
            groups.setdefault(item.endpoint_id, []).append(item)
        if len(groups) <= 1:
            self._send_all(work)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="webhooks")
            futures = [self._pool.submit(self._send_all, items) for items in groups.values()]
            wait(futures)
            for future in futures:
                future.result()  # a failure is the worker's to log, after every group ran
        return len(work) + cancelled

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _send_all(self, items: Sequence[_Work]) -> None:
        for index, item in enumerate(items):
            # A send can take many seconds (timeouts): never start one on a lease about to run
            # out, or another dispatcher could take the delivery while we send it.
            if self.clock.now() >= item.leased_until - self.lease / 2:
                self._release(items[index:])
                break
            if self._still_to_send(item):
                self._deliver(item)

    def next_due(self) -> datetime | None:
        with self.db.reading() as session:
            value: datetime | None = session.scalar(
                select(WebhookDelivery.next_attempt_at)
                .where(WebhookDelivery.status == "pending")
                .order_by(WebhookDelivery.next_attempt_at).limit(1))
        return value

    # --- claim -------------------------------------------------------------------------------

    def _claim(self, limit: int) -> tuple[list[_Work], int]:
        at = self.clock.now()
        due = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= at)
        # The oldest due deliveries, at most PER_ENDPOINT of each endpoint: a dead receiver's
        # backlog cannot fill every batch and starve the others.
        ranked = select(
            WebhookDelivery.id, WebhookDelivery.next_attempt_at,
            func.row_number().over(
                partition_by=WebhookDelivery.endpoint_id,
                order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id)).label("rank"),
        ).where(*due).subquery()
        picked = (select(ranked.c.id).where(ranked.c.rank <= PER_ENDPOINT)
                  .order_by(ranked.c.next_attempt_at, ranked.c.id).limit(limit))
        query = (select(WebhookDelivery).where(WebhookDelivery.id.in_(picked), *due)
                 .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id))
        if self._pg:
            # Concurrent dispatchers skip each other's rows instead of queueing behind them.
            query = query.with_for_update(skip_locked=True)
        work: list[_Work] = []
        cancelled = 0
        with self.db.transaction() as session:
            deliveries = session.scalars(query).all()
            if not deliveries:
                return [], 0
            endpoints = {e.id: e for e in session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_({d.endpoint_id for d in deliveries})))}
            payloads: dict[str, dict[str, Any]] = {
                row.id: row.payload for row in session.execute(
                    select(WebhookEvent.id, WebhookEvent.payload)
                    .where(WebhookEvent.id.in_({d.event_id for d in deliveries})))}
            for delivery in deliveries:
                endpoint = endpoints.get(delivery.endpoint_id)
                payload = payloads.get(delivery.event_id)
                if endpoint is None or payload is None:
                    # Cannot happen (foreign keys cascade); cancelled rather than left due
                    # forever, which would keep the results worker spinning.
                    _cancel(delivery, at, "its endpoint or event no longer exists")
                    cancelled += 1
                    continue
                if not endpoint.enabled:
                    # Written before the endpoint was disabled (or a race with the outbox).
                    _cancel(delivery, at, f"endpoint disabled: {endpoint.disabled_reason}"
                            if endpoint.disabled_reason else "endpoint disabled")
                    cancelled += 1
                    log.info("webhook %s to endpoint %s cancelled: the endpoint is disabled",
                             delivery.event_id, endpoint.id)
                    continue
                secrets = signing_secrets(endpoint.secrets, at) or [
                    str(e["secret"]) for e in endpoint.secrets[:1]]  # the newest never expires
                delivery.attempts += 1
                delivery.next_attempt_at = at + self.lease
                delivery.lease_owner = self.worker_id
                delivery.updated_at = at
                work.append(_Work(delivery.id, delivery.event_id, endpoint.id,
                                  delivery.attempts, at + self.lease, endpoint.url,
                                  tuple(secrets), body_of(payload)))
        return work, cancelled

    def _release(self, items: Sequence[_Work]) -> None:
        """Give back claimed deliveries not sent (their lease would run out mid-send): due
        now again, the attempt not counted."""
        at = self.clock.now()
        with self.db.transaction() as session:
            for item in items:
                session.execute(
                    _leased(update(WebhookDelivery), item, self.worker_id)
                    .values(attempts=item.attempts - 1, next_attempt_at=at, lease_owner=None,
                            updated_at=at)
                    .execution_options(synchronize_session=False))

    # --- send and record ---------------------------------------------------------------------

    def _still_to_send(self, item: _Work) -> bool:
        """Whether the delivery is still ours to send: an earlier delivery of this batch may
        have met a 410 (its endpoint is now disabled and this delivery cancelled), or the
        endpoint was disabled or deleted through the API meanwhile."""
        with self.db.reading() as session:
            row = session.execute(
                select(WebhookDelivery.status, WebhookDelivery.lease_owner,
                       WebhookDelivery.attempts, WebhookEndpoint.enabled,
                       WebhookEndpoint.disabled_reason)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id == item.delivery_id)).first()
        if row is None or not (row.status == "pending" and row.lease_owner == self.worker_id
                               and row.attempts == item.attempts):
            return False
        if row.enabled:
            return True
        at = self.clock.now()
        reason = (f"endpoint disabled: {row.disabled_reason}" if row.disabled_reason
                  else "endpoint disabled")
        with self.db.transaction() as session:
            session.execute(_leased(update(WebhookDelivery), item, self.worker_id).values(
                status="cancelled", next_attempt_at=None, lease_owner=None,
                last_error=reason[:MAX_ERROR_CHARS], updated_at=at)
                .execution_options(synchronize_session=False))
        log.info("webhook %s to endpoint %s cancelled: the endpoint is disabled",
                 item.event_id, item.endpoint_id)
        return False

    def _deliver(self, item: _Work) -> None:
        at = self.clock.now()
        try:
            headers = signing.headers(list(item.secrets), item.event_id, int(at.timestamp()),
                                      item.body)
        except ValueError as exc:  # no usable secret: sending unsigned is never right
            self._record(item, SendResult(None, "rejected", f"cannot sign: {exc}", 0), at)
            return
        try:
            result = self.sender.send(item.url, item.body, headers)
        except Exception as exc:  # a sender bug must not stop the other deliveries
            log.exception("sending webhook %s to endpoint %s raised", item.event_id,
                          item.endpoint_id)
            result = SendResult(None, "retry", f"{type(exc).__name__}: {exc}", 0)
        self._record(item, result, at)

    def _record(self, item: _Work, result: SendResult, at: datetime) -> None:
        done = self.clock.now()
        with self.db.transaction() as session:
            endpoint: WebhookEndpoint | None = None
            if result.outcome == "gone":
                # The endpoint first, then its deliveries: the order every writer uses.
                endpoint_query = select(WebhookEndpoint).where(
                    WebhookEndpoint.id == item.endpoint_id)
                if self._pg:  # SQLite needs no row lock: a write transaction holds the file
                    endpoint_query = endpoint_query.with_for_update()
                endpoint = session.scalars(endpoint_query).one_or_none()
            delivery_query = select(WebhookDelivery).where(
                WebhookDelivery.id == item.delivery_id)
            if self._pg:
                delivery_query = delivery_query.with_for_update()
            delivery = session.scalars(delivery_query).one_or_none()
            if delivery is None:
                log.info("webhook %s: delivery %s was deleted (its endpoint with it) while "
                         "being sent", item.event_id, item.delivery_id)
                return
            # The request was made whatever happens next: the log keeps it.
            session.add(WebhookAttempt(
                id=new_id(), delivery_id=delivery.id, at=at, status_code=result.status_code,
                outcome=result.outcome, error=_clip(result.error),
                duration_ms=float(result.duration_ms),
                response_snippet=result.response_snippet or None))
            if not (delivery.status == "pending" and delivery.lease_owner == self.worker_id
                    and delivery.attempts == item.attempts):
                log.warning("webhook %s: attempt %d to endpoint %s ended after its lease ran "
                            "out; the delivery (now %s) is left as another attempt left it",
                            item.event_id, item.attempts, item.endpoint_id, delivery.status)
                return
            delivery.last_status_code = result.status_code
            delivery.last_error = _clip(result.error) or _http_error(result)
            delivery.lease_owner = None
            delivery.updated_at = done
            if result.outcome == "delivered":
                delivery.status = "delivered"
                delivery.delivered_at = done
                delivery.next_attempt_at = None
                delivery.last_error = None
                log.info("webhook %s delivered to endpoint %s (HTTP %s, attempt %d)",
                         item.event_id, item.endpoint_id, result.status_code, item.attempts)
            elif result.outcome == "retry":
                due = retry.next_attempt_at(item.attempts, done,
                                            jitter=retry.jitter_for(delivery.id),
                                            retry_after=result.retry_after)
                if due is None:
                    delivery.status = "failed"
                    delivery.next_attempt_at = None
                    log.warning("webhook %s to endpoint %s failed for good after %d attempts: "
                                "%s", item.event_id, item.endpoint_id, item.attempts,
                                delivery.last_error)
                else:
                    delivery.next_attempt_at = due
                    log.info("webhook %s to endpoint %s: attempt %d failed (%s); next at %s",
                             item.event_id, item.endpoint_id, item.attempts,
                             delivery.last_error, iso(due))
            elif result.outcome == "gone":
                delivery.status = "failed"
                delivery.next_attempt_at = None
                if endpoint is not None:
                    self._disable(session, endpoint, delivery.id, done)
            else:  # rejected: the same URL would be refused again
                delivery.status = "failed"
                delivery.next_attempt_at = None
                log.warning("webhook %s to endpoint %s refused, not retried: %s",
                            item.event_id, item.endpoint_id, delivery.last_error)

    def _disable(self, session: Session, endpoint: WebhookEndpoint, delivery_id: str,
                 at: datetime) -> None:
        reason = gone_reason(at)
        endpoint.enabled = False
        endpoint.disabled_reason = reason
        endpoint.updated_at = at
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id,
                   WebhookDelivery.status == "pending", WebhookDelivery.id != delivery_id)
            .values(status="cancelled", next_attempt_at=None, lease_owner=None,
                    last_error=f"endpoint disabled: {reason}", updated_at=at)
            .execution_options(synchronize_session=False))
        cancelled = int(getattr(result, "rowcount", 0) or 0)
        log.warning("webhook endpoint %s disabled: %s; %d pending deliveries cancelled",
                    endpoint.id, reason, cancelled)


def _cancel(delivery: WebhookDelivery, at: datetime, reason: str) -> None:
    delivery.status = "cancelled"
    delivery.next_attempt_at = None
    delivery.lease_owner = None
    delivery.last_error = reason[:MAX_ERROR_CHARS]
    delivery.updated_at = at


def _leased(statement: Update, item: _Work, worker_id: str) -> Update:
    """Restrict ``statement`` to the delivery while it is still leased to us for this attempt."""
    return statement.where(WebhookDelivery.id == item.delivery_id,
                           WebhookDelivery.status == "pending",
                           WebhookDelivery.lease_owner == worker_id,
                           WebhookDelivery.attempts == item.attempts)


def _clip(text: str | None) -> str | None:
    return text[:MAX_ERROR_CHARS] if text else None


def _http_error(result: SendResult) -> str | None:
    if result.status_code is not None and not 200 <= result.status_code <= 299:
        return f"HTTP {result.status_code}"
    return None
