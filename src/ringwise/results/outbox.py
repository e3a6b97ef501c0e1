"""The webhook outbox: events written in the transaction of their cause.

An event is stored, with one pending delivery per enabled endpoint subscribed to its type, by
the same transaction that changes what it reports (a call ending, a campaign starting): if the
change commits, the delivery exists and the dispatcher will send it, even if the process
dies a microsecond later; if it rolls back, no one hears of it. When the workspace has no
endpoint for the type, nothing is written at all, so the dialer pays one indexed read per
transaction for a feature it does not use.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal, cast, get_args

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from ringwise.db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from ringwise.ids import new_id

EventType = Literal["call.started", "call.ended", "call.analyzed", "campaign.status_changed",
                    "contact.opted_out", "report.sent"]
EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)

EVENTS: Final = cast(Table, WebhookEvent.__table__)
DELIVERIES: Final = cast(Table, WebhookDelivery.__table__)


def new_event_id() -> str:
    """``msg_`` + 32 hex digits: the ``webhook-id`` header, the same on every retry."""
    return f"msg_{uuid.uuid4().hex}"


def subscribers(conn: Connection, workspace_id: str) -> list[tuple[str, frozenset[str]]]:
    """The workspace's enabled endpoints and the event types each wants (empty: all)."""
    rows = conn.execute(select(WebhookEndpoint.id, WebhookEndpoint.events).where(
        WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.enabled.is_(True)))
    return [(row.id, frozenset(row.events or ())) for row in rows]


def envelope(event_type: str, data: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The JSON body receivers get (Standard Webhooks' recommended shape)."""
    return {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"),
            "data": dict(data)}


def emit(conn: Connection, workspace_id: str, event_type: EventType,
         data: Mapping[str, Any], at: datetime) -> str | None:
    """Record one event; its id, or None when no endpoint wants it."""
    ids = emit_many(conn, workspace_id, [(event_type, data)], at)
    return ids[0] if ids else None


def emit_many(conn: Connection, workspace_id: str,
              events: Sequence[tuple[EventType, Mapping[str, Any]]], at: datetime,
              endpoints: list[tuple[str, frozenset[str]]] | None = None) -> list[str]:
    """Record several events of one workspace in the caller's transaction; the ids of those
    some endpoint wants. ``endpoints``: the workspace's :func:`subscribers`, if already read."""
    if not events:
        return []
    if endpoints is None:
        endpoints = subscribers(conn, workspace_id)
    if not endpoints:
        return []
    event_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    for event_type, data in events:
        wanted = [endpoint_id for endpoint_id, types in endpoints
                  if not types or event_type in types]
        if not wanted:
            continue
        event_id = new_event_id()
        event_rows.append({"id": event_id, "workspace_id": workspace_id, "type": event_type,
                           "payload": envelope(event_type, data, at), "created_at": at})
        delivery_rows.extend(
            {"id": new_id(), "workspace_id": workspace_id, "event_id": event_id,
             "endpoint_id": endpoint_id, "status": "pending", "attempts": 0,
             "next_attempt_at": at, "created_at": at, "updated_at": at}
            for endpoint_id in wanted)
    if event_rows:
        conn.execute(insert(EVENTS), event_rows)
        conn.execute(insert(DELIVERIES), delivery_rows)
    return [row["id"] for row in event_rows]
