"""Webhook endpoints: where a workspace's events are delivered, signed with its secrets.

Events and their deliveries are written by ``results.outbox`` in the transaction of their
cause and sent by ``results.webhook_dispatch``; this module manages the endpoints, shows the
delivery log and replays deliveries. Like every service it flushes but never commits.

Secrets are stored as ``[{"secret", "expires_at"}]``, newest first: the current one never
expires, previous ones sign until their ``expires_at`` (rotation), so a receiver that switches
to the new secret at any moment in between verifies every delivery.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import exists, select, update
from sqlalchemy.orm import aliased

from ringwise.api.schemas.webhooks import (
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookSecretRotate,
)
from ringwise.core.webhooks import signing
from ringwise.core.webhooks.destinations import (
    MAX_URL_LENGTH,
    DestinationError,
    Resolver,
    check_url,
    system_resolver,
)
from ringwise.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ringwise.errors import Conflict, InvalidInput, NotFound
from ringwise.ids import is_uuid, new_id
from ringwise.results.records import iso
from ringwise.services.context import Ctx
from ringwise.services.pagination import Page, paginate

SECRET_BYTES: Final = 32
MAX_SECRETS: Final = 5  # the current one and up to four previous ones still signing
MAX_REPLAY: Final = 10_000  # new deliveries per bulk replay request
# The URL is checked inside the request's write transaction (on SQLite: the database's write
# lock), so a stuck DNS server must not hold it for long.
RESOLVE_TIMEOUT_S: Final = 3.0


@dataclass(frozen=True, slots=True)
class Secret:
    secret: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryView:
    delivery: WebhookDelivery
    event_type: str


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    delivery: WebhookDelivery
    event: WebhookEvent
    attempts: Sequence[WebhookAttempt]


# --- URL check ---------------------------------------------------------------------------------

def bounded_resolver(host: str, port: int) -> list[str]:
    """``system_resolver`` giving up after :data:`RESOLVE_TIMEOUT_S` (an ``OSError``, which the
    guard reports as "could not be resolved"). The lookup runs in a daemon thread: a resolver
    that never answers costs a sleeping thread, never the request or the process's exit."""
    answer: list[list[str] | BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            answer.append(system_resolver(host, port))
        except BaseException as exc:  # handed to the caller's thread
            answer.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name="ringwise-webhook-dns", daemon=True).start()
    if not done.wait(RESOLVE_TIMEOUT_S):
        raise OSError(f"resolving {host} took more than {RESOLVE_TIMEOUT_S:g} s")
    result = answer[0]
    if isinstance(result, BaseException):
        raise result
    return result


def checked_url(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> str:
    """The normalised URL, or a 422 naming ``url`` that says why it may not be used."""
    try:
        normalised = check_url(url, resolve=resolve or bounded_resolver,
                               allow_private=allow_private)
    except DestinationError as exc:
        raise InvalidInput(f"url: {exc}", field="url") from None
    if len(normalised) > MAX_URL_LENGTH:  # an IDNA host grows when encoded ("ü" -> "xn--tda")
        raise InvalidInput(f"url: URL must be at most {MAX_URL_LENGTH} characters long once "
                           "its host name is encoded.", field="url")
    return normalised


# --- secrets -----------------------------------------------------------------------------------

def secrets_of(endpoint: WebhookEndpoint, now: datetime) -> list[Secret]:
    """The endpoint's secrets signing at ``now``, newest first."""
    found: list[Secret] = []
    for entry in endpoint.secrets or ():
        raw = entry.get("expires_at")
        expires = datetime.fromisoformat(str(raw)) if raw is not None else None
        if expires is None or expires > now:
            found.append(Secret(str(entry["secret"]), expires))
    return found


def _stored(entries: Sequence[Secret]) -> list[dict[str, Any]]:
    return [{"secret": s.secret, "expires_at": iso(s.expires_at)} for s in entries]


def _new_secret() -> str:
    return signing.new_secret(secrets.token_bytes(SECRET_BYTES))


def rotate_secret(ctx: Ctx, endpoint_id: str, body: WebhookSecretRotate) -> WebhookEndpoint:
    """A new current secret; the previous ones keep signing for ``previous_valid_hours`` at
    most (0: they stop now). 422 naming ``secret`` when the given one is already in use."""
    endpoint = get_endpoint(ctx, endpoint_id)
    current = secrets_of(endpoint, ctx.now)
    new = body.secret or _new_secret()
    if any(s.secret == new for s in current):
        raise InvalidInput("secret: this secret is already one of the endpoint's secrets; "
                           "rotate to a new one", field="secret")
    until = ctx.now + timedelta(hours=body.previous_valid_hours)
    previous = [Secret(s.secret, min(s.expires_at or until, until)) for s in current]
    kept = [s for s in previous if s.expires_at is not None and s.expires_at > ctx.now]
    endpoint.secrets = _stored([Secret(new, None), *kept][:MAX_SECRETS])
    endpoint.updated_at = ctx.now
    ctx.session.flush()
    return endpoint


# --- endpoints ---------------------------------------------------------------------------------

def get_endpoint(ctx: Ctx, endpoint_id: str) -> WebhookEndpoint:
    """The workspace's endpoint, or NotFound naming ``webhook_id`` (another workspace's too)."""
    # Ids are UUIDs: anything else cannot exist and must not reach the database.
    endpoint = ctx.session.get(WebhookEndpoint, endpoint_id) if is_uuid(endpoint_id) else None
    if endpoint is None or endpoint.workspace_id != ctx.workspace_id:
        raise NotFound(f"webhook endpoint '{endpoint_id}' not found", field="webhook_id")
    return endpoint


def create_endpoint(ctx: Ctx, body: WebhookEndpointCreate, *, allow_private: bool,
                    resolve: Resolver | None = None) -> WebhookEndpoint:
    url = checked_url(body.url, allow_private=allow_private, resolve=resolve)
    endpoint = WebhookEndpoint(
        id=new_id(), workspace_id=ctx.workspace_id, url=url, description=body.description,
        events=list(body.events or ()), secrets=_stored([Secret(body.secret or _new_secret(),
                                                                None)]),
        enabled=True, disabled_reason=None, created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(endpoint)
    ctx.session.flush()
    return endpoint


def list_endpoints(ctx: Ctx, *, limit: int = 50,
                   cursor: str | None = None) -> Page[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == ctx.workspace_id)
    return paginate(ctx.session, query, WebhookEndpoint.created_at, WebhookEndpoint.id, limit,
                    cursor)


def update_endpoint(ctx: Ctx, endpoint_id: str, body: WebhookEndpointUpdate, *,
                    allow_private: bool, resolve: Resolver | None = None) -> WebhookEndpoint:
    endpoint = get_endpoint(ctx, endpoint_id)
    given = body.model_fields_set
    if "url" in given and body.url is not None:
        endpoint.url = checked_url(body.url, allow_private=allow_private, resolve=resolve)
    if "events" in given:
        endpoint.events = list(body.events or ())
    if "description" in given:
        endpoint.description = body.description
    disabling = False
    if "enabled" in given and body.enabled is not None and body.enabled != endpoint.enabled:
        endpoint.enabled = body.enabled
        endpoint.disabled_reason = None if body.enabled else f"disabled through the API on " \
                                                            f"{iso(ctx.now)}"
        disabling = not body.enabled
    endpoint.updated_at = ctx.now
    ctx.session.flush()  # the endpoint's row first, then its deliveries: the dispatcher's order
    if disabling:
        _cancel_pending(ctx, endpoint)
    return endpoint


def delete_endpoint(ctx: Ctx, endpoint_id: str) -> None:
    """Its deliveries and their log go with it (the database cascades); events stay."""
    endpoint = get_endpoint(ctx, endpoint_id)
    ctx.session.delete(endpoint)
    ctx.session.flush()


def _cancel_pending(ctx: Ctx, endpoint: WebhookEndpoint) -> int:
    result = ctx.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="cancelled", next_attempt_at=None, lease_owner=None,
                last_error=f"endpoint disabled: {endpoint.disabled_reason}",
                updated_at=ctx.now)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# --- deliveries --------------------------------------------------------------------------------

def list_deliveries(ctx: Ctx, endpoint_id: str, *, status: str | None = None,
                    event_type: str | None = None, limit: int = 50,
                    cursor: str | None = None) -> Page[DeliveryView]:
    """The endpoint's deliveries, newest first."""
    endpoint = get_endpoint(ctx, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if event_type is not None:
        query = query.join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id).where(
            WebhookEvent.type == event_type)
    page = paginate(ctx.session, query, WebhookDelivery.created_at, WebhookDelivery.id, limit,
                    cursor)
    types = _event_types(ctx, [d.event_id for d in page.items])
    return Page(items=[DeliveryView(d, types.get(d.event_id, "")) for d in page.items],
                next_cursor=page.next_cursor)


def _event_types(ctx: Ctx, event_ids: Sequence[str]) -> dict[str, str]:
    if not event_ids:
        return {}
    return {row.id: row.type for row in ctx.session.execute(
        select(WebhookEvent.id, WebhookEvent.type).where(WebhookEvent.id.in_(set(event_ids))))}


def _delivery(ctx: Ctx, endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery:
    delivery = ctx.session.get(WebhookDelivery, delivery_id) if is_uuid(delivery_id) else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"delivery '{delivery_id}' not found", field="delivery_id")
    return delivery


def get_delivery(ctx: Ctx, endpoint_id: str, delivery_id: str) -> DeliveryDetail:
    """A delivery with its event and every request made for it, oldest first."""
    delivery = _delivery(ctx, get_endpoint(ctx, endpoint_id), delivery_id)
    event = ctx.session.get(WebhookEvent, delivery.event_id)
    assert event is not None  # a delivery's event is deleted with it (cascade)
    attempts = ctx.session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.at, WebhookAttempt.id)).all()
    return DeliveryDetail(delivery, event, attempts)


def _replayable(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        reason = endpoint.disabled_reason or "disabled"
        raise Conflict(f"the endpoint is disabled ({reason}); enable it first "
                       "(PATCH with enabled: true), then replay", field="enabled")


def _new_delivery(ctx: Ctx, endpoint: WebhookEndpoint, event_id: str) -> WebhookDelivery:
    return WebhookDelivery(
        id=new_id(), workspace_id=ctx.workspace_id, event_id=event_id, endpoint_id=endpoint.id,
        status="pending", attempts=0, next_attempt_at=ctx.now, created_at=ctx.now,
        updated_at=ctx.now)


def replay_delivery(ctx: Ctx, endpoint_id: str, delivery_id: str) -> DeliveryView:
    """A new pending delivery of the same event to the endpoint, due now (the original and
    its log stay as they are). 409 when the endpoint is disabled."""
    endpoint = get_endpoint(ctx, endpoint_id)
    original = _delivery(ctx, endpoint, delivery_id)
    _replayable(endpoint)
    delivery = _new_delivery(ctx, endpoint, original.event_id)
    ctx.session.add(delivery)
    ctx.session.flush()
    return DeliveryView(delivery, _event_types(ctx, [delivery.event_id]).get(
        delivery.event_id, ""))


def replay_since(ctx: Ctx, endpoint_id: str, since: datetime, scope: str) -> int:
    """One new pending delivery per event created at or after ``since`` that was sent to the
    endpoint (``scope`` "all") or whose delivery failed or was cancelled and never succeeded
    ("failed"); events with a delivery still pending are skipped, so replaying twice does not
    send twice. At most :data:`MAX_REPLAY`, oldest first: call again for the rest."""
    endpoint = get_endpoint(ctx, endpoint_id)
    _replayable(endpoint)
    sent = aliased(WebhookDelivery)
    blocking = aliased(WebhookDelivery)
    tried = exists().where(sent.event_id == WebhookEvent.id, sent.endpoint_id == endpoint.id)
    settled: tuple[str, ...] = ("pending",)  # a pending delivery will be sent anyway
    if scope == "failed":
        tried = tried.where(sent.status.in_(("failed", "cancelled")))
        settled = ("pending", "delivered")
    query = (select(WebhookEvent.id)
             .where(WebhookEvent.workspace_id == ctx.workspace_id,
                    WebhookEvent.created_at >= since, tried,
                    ~exists().where(blocking.event_id == WebhookEvent.id,
                                    blocking.endpoint_id == endpoint.id,
                                    blocking.status.in_(settled)))
             .order_by(WebhookEvent.created_at, WebhookEvent.id).limit(MAX_REPLAY))
    event_ids = list(ctx.session.scalars(query))
    ctx.session.add_all([_new_delivery(ctx, endpoint, event_id) for event_id in event_ids])
    ctx.session.flush()
    return len(event_ids)
