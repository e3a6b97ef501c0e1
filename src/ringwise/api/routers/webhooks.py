"""/v1/webhooks: endpoints that receive the workspace's events, their secrets and delivery log.

Events (call.started, call.ended, call.analyzed, campaign.status_changed, contact.opted_out,
report.sent) are recorded in the transaction of their cause and POSTed to every enabled
endpoint subscribed to their type, signed as Standard Webhooks 1.0. A failed delivery is
retried for about 3 days; a 410 Gone answer disables the endpoint.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import Depends, Query, Request, Response

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.webhooks import (
    DeliveryStatus,
    WebhookAttemptOut,
    WebhookDeliveryDetail,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
    WebhookReplay,
    WebhookReplayResult,
    WebhookSecretOut,
    WebhookSecretRotate,
    WebhookSecrets,
)
from ringwise.api.state import AppState
from ringwise.db.models import WebhookEndpoint
from ringwise.results.outbox import EventType
from ringwise.services import webhooks
from ringwise.services.context import Ctx

router = workspace_router("/v1/webhooks", "webhooks")

_ENDPOINT_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse,
    "description": "No such webhook endpoint in this workspace (`field`: webhook_id)"}}
_DELIVERY_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse,
    "description": "No such webhook endpoint in this workspace (`field`: webhook_id), or no "
                   "such delivery of it (`field`: delivery_id)"}}
_DISABLED_409: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorResponse,
    "description": "The endpoint is disabled (`field`: enabled); the message says why"}}
_URL_422 = ("A URL the server may not call (not https, or a private, loopback, link-local or "
            "cloud-metadata host) is a 422 naming `url` with the reason.")

_LIMIT = Query(50, description="Page size, 1-200", examples=[50])
_CURSOR = Query(None, description="next_cursor of the previous page")


def allow_private(request: Request) -> bool:
    """The operator's switch for receivers on private networks (and plain http)."""
    state: AppState = request.app.state.ringwise
    return state.settings.webhooks_allow_private


def endpoint_out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut.model_validate(endpoint)


def delivery_out(view: webhooks.DeliveryView) -> WebhookDeliveryOut:
    d = view.delivery
    return WebhookDeliveryOut(
        id=d.id, endpoint_id=d.endpoint_id, event_id=d.event_id, event_type=view.event_type,
        status=cast(DeliveryStatus, d.status),  # written by the dispatcher and this API only
        attempts=d.attempts, next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code, last_error=d.last_error,
        delivered_at=d.delivered_at, created_at=d.created_at)


def secrets_out(ctx: Ctx, endpoint: WebhookEndpoint) -> WebhookSecrets:
    current = webhooks.secrets_of(endpoint, ctx.now)
    return WebhookSecrets(
        endpoint_id=endpoint.id, secret=current[0].secret,
        secrets=[WebhookSecretOut(secret=s.secret, expires_at=s.expires_at) for s in current])


_CREATE_DOC = """Deliveries are POSTed as JSON (`{"type", "timestamp", "data"}`) with the
Standard Webhooks headers `webhook-id` (the event id, the same on every retry: deduplicate on
it), `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 with `secret`). Answer 2xx to
acknowledge; anything else is retried for about 3 days; 410 Gone disables the endpoint.
""" + _URL_422
_UPDATE_DOC = """Only the fields given change. `enabled: true` resumes an endpoint disabled by
a 410 Gone (deliveries cancelled meanwhile are not resent: replay them); `enabled: false`
cancels its pending deliveries. """ + _URL_422


@router.post("", status_code=201, response_model=WebhookEndpointCreated,
             summary="Add a webhook endpoint", description=_CREATE_DOC)
def create_webhook(body: WebhookEndpointCreate, private: bool = Depends(allow_private),
                   ctx: Ctx = Depends(get_ctx)) -> WebhookEndpointCreated:
    endpoint = webhooks.create_endpoint(ctx, body, allow_private=private)
    return WebhookEndpointCreated(**endpoint_out(endpoint).model_dump(),
                                  secret=webhooks.secrets_of(endpoint, ctx.now)[0].secret)


@router.get("", response_model=ListResponse[WebhookEndpointOut],
            summary="List webhook endpoints")
def list_webhooks(limit: int = _LIMIT, cursor: str | None = _CURSOR,
                  ctx: Ctx = Depends(get_ctx)) -> ListResponse[WebhookEndpointOut]:
    page = webhooks.list_endpoints(ctx, limit=limit, cursor=cursor)
    return ListResponse(data=[endpoint_out(e) for e in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{webhook_id}", response_model=WebhookEndpointOut, responses=_ENDPOINT_404,
            summary="Get a webhook endpoint")
def get_webhook(webhook_id: str, ctx: Ctx = Depends(get_ctx)) -> WebhookEndpointOut:
    return endpoint_out(webhooks.get_endpoint(ctx, webhook_id))


@router.get("/{webhook_id}/secret", response_model=WebhookSecrets, responses=_ENDPOINT_404,
            summary="Show a webhook endpoint's signing secrets")
def get_webhook_secret(webhook_id: str, ctx: Ctx = Depends(get_ctx)) -> WebhookSecrets:
    """The current secret, and previous ones still signing after a rotation (with their
    expiry)."""
    return secrets_out(ctx, webhooks.get_endpoint(ctx, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookEndpointOut, responses=_ENDPOINT_404,
              summary="Change a webhook endpoint, or enable / disable it",
              description=_UPDATE_DOC)
def update_webhook(webhook_id: str, body: WebhookEndpointUpdate,
                   private: bool = Depends(allow_private),
                   ctx: Ctx = Depends(get_ctx)) -> WebhookEndpointOut:
    return endpoint_out(webhooks.update_endpoint(ctx, webhook_id, body, allow_private=private))


@router.delete("/{webhook_id}", status_code=204, response_class=Response,
               responses=_ENDPOINT_404, summary="Delete a webhook endpoint")
def delete_webhook(webhook_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    """Its pending deliveries are dropped with its delivery log."""
    webhooks.delete_endpoint(ctx, webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookSecrets,
             responses=_ENDPOINT_404, summary="Rotate a webhook endpoint's signing secret")
def rotate_webhook_secret(webhook_id: str, body: WebhookSecretRotate,
                          ctx: Ctx = Depends(get_ctx)) -> WebhookSecrets:
    """The new secret signs from now on; the previous one keeps signing for
    `previous_valid_hours` (every delivery carries both signatures meanwhile), so the
    receiver can switch at any moment without rejecting a delivery."""
    return secrets_out(ctx, webhooks.rotate_secret(ctx, webhook_id, body))


@router.get("/{webhook_id}/deliveries", response_model=ListResponse[WebhookDeliveryOut],
            responses=_ENDPOINT_404, summary="List a webhook endpoint's deliveries")
def list_deliveries(
    webhook_id: str,
    status: DeliveryStatus | None = Query(None, examples=["failed"],
                                          description="pending | delivered | failed | "
                                                      "cancelled"),
    event_type: EventType | None = Query(None, examples=["call.ended"]),
    limit: int = _LIMIT, cursor: str | None = _CURSOR, ctx: Ctx = Depends(get_ctx),
) -> ListResponse[WebhookDeliveryOut]:
    """Newest first."""
    page = webhooks.list_deliveries(ctx, webhook_id, status=status, event_type=event_type,
                                    limit=limit, cursor=cursor)
    return ListResponse(data=[delivery_out(v) for v in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=WebhookDeliveryDetail,
            responses=_DELIVERY_404,
            summary="Get a delivery with its payload and every attempt")
def get_delivery(webhook_id: str, delivery_id: str,
                 ctx: Ctx = Depends(get_ctx)) -> WebhookDeliveryDetail:
    detail = webhooks.get_delivery(ctx, webhook_id, delivery_id)
    base = delivery_out(webhooks.DeliveryView(detail.delivery, detail.event.type))
    return WebhookDeliveryDetail(
        **base.model_dump(), payload=detail.event.payload,
        attempt_log=[WebhookAttemptOut.model_validate(a) for a in detail.attempts])


@router.post("/{webhook_id}/deliveries/{delivery_id}/replay", status_code=202,
             response_model=WebhookDeliveryOut, responses={**_DELIVERY_404, **_DISABLED_409},
             summary="Send a delivery's event again")
def replay_delivery(webhook_id: str, delivery_id: str,
                    ctx: Ctx = Depends(get_ctx)) -> WebhookDeliveryOut:
    """A new delivery of the same event (same `webhook-id`), due now; the original and its
    log stay as they are."""
    return delivery_out(webhooks.replay_delivery(ctx, webhook_id, delivery_id))


@router.post("/{webhook_id}/replay", status_code=202, response_model=WebhookReplayResult,
             responses={**_ENDPOINT_404, **_DISABLED_409},
             summary="Send the endpoint's failed (or all) events since an instant again")
def replay_webhook(webhook_id: str, body: WebhookReplay,
                   ctx: Ctx = Depends(get_ctx)) -> WebhookReplayResult:
    """One new delivery, due now, per event created at or after `since` that failed or was
    cancelled (`status: failed`) or that was sent at all (`status: all`) to this endpoint.
    Events with a delivery still pending are skipped. At most 10,000 per request, oldest
    first: call again to continue."""
    return WebhookReplayResult(
        replayed=webhooks.replay_since(ctx, webhook_id, body.since, body.status))
