"""Webhook endpoints, their signing secrets and their delivery log.

Deliveries are signed as Standard Webhooks 1.0 (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); a secret is ``whsec_`` followed by the base64 of the key.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from ringwise.api.schemas.common import Out, Strict
from ringwise.core.webhooks.destinations import MAX_URL_LENGTH
from ringwise.core.webhooks.signing import NEW_KEY_MAX_BYTES, NEW_KEY_MIN_BYTES, SECRET_PREFIX
from ringwise.errors import FieldError
from ringwise.results.outbox import EVENT_TYPES, EventType

DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]
AttemptOutcome = Literal["delivered", "retry", "gone", "rejected"]
ReplayScope = Literal["failed", "all"]
MAX_DESCRIPTION = 255
MAX_PREVIOUS_VALID_HOURS = 168

_ENDPOINT_ID = "5f0c2d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
_DELIVERY_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
_EVENT_ID = "msg_2b7e9c1d4f5a4e3b8c6d0e1f2a3b4c5d"
_URL = "https://hooks.example.com/ringwise"
_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
_EVENTS_DOC = ("Event types to receive: " + ", ".join(EVENT_TYPES) + ". Omitted or empty: "
               "all of them, including types added later")
_URL_DOC = ("Where deliveries are POSTed: https (http only where the server allows private "
            "destinations). Hosts that are or resolve to private, loopback, link-local or "
            "cloud-metadata addresses are refused")
_SECRET_DOC = (f"'{SECRET_PREFIX}' + the base64 of {NEW_KEY_MIN_BYTES}-{NEW_KEY_MAX_BYTES} "
               "random bytes; generated when omitted")


def check_secret(value: str | None) -> str | None:
    """A ``whsec_`` secret of a key of the allowed size, or ValueError saying what is wrong."""
    if value is None:
        return None
    if not value.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with '{SECRET_PREFIX}'")
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX):].encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError(f"must be '{SECRET_PREFIX}' followed by standard base64") from None
    if not NEW_KEY_MIN_BYTES <= len(key) <= NEW_KEY_MAX_BYTES:
        raise ValueError(f"the key must be {NEW_KEY_MIN_BYTES} to {NEW_KEY_MAX_BYTES} bytes "
                         f"(this one is {len(key)})")
    return value


def _unique_events(value: list[EventType] | None) -> list[EventType]:
    seen: set[str] = set()
    for index, event_type in enumerate(value or ()):
        if event_type in seen:
            raise FieldError(f"[{index}]", f"'{event_type}' is listed twice")
        seen.add(event_type)
    return list(value or ())


class WebhookEndpointCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": _URL, "events": ["call.ended", "call.analyzed"],
         "description": "CRM sync"},
        {"url": _URL},
    ]})

    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, examples=[_URL],
                     description=_URL_DOC)
    events: list[EventType] | None = Field(default=None, max_length=len(EVENT_TYPES),
                                           examples=[["call.ended", "call.analyzed"]],
                                           description=_EVENTS_DOC)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION,
                                    examples=["CRM sync"])
    secret: str | None = Field(default=None, examples=[_SECRET], description=_SECRET_DOC)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[EventType] | None) -> list[EventType]:
        return _unique_events(value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return check_secret(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return value or None


class WebhookEndpointUpdate(Strict):
    """Only the fields given change. ``enabled: true`` re-enables an endpoint disabled by a
    410 Gone (its cancelled deliveries stay cancelled: replay them)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"enabled": True},
        {"events": ["call.ended"], "description": "ended calls only"},
    ]})

    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_LENGTH,
                            examples=[_URL], description=_URL_DOC)
    events: list[EventType] | None = Field(default=None, max_length=len(EVENT_TYPES),
                                           examples=[["call.ended"]],
                                           description=_EVENTS_DOC + "; null: all")
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION,
                                    examples=["ended calls only"], description="null clears it")
    enabled: bool | None = Field(default=None, examples=[True],
                                 description="false stops deliveries (pending ones are "
                                             "cancelled); true resumes them")

    @field_validator("url", "enabled")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[EventType] | None) -> list[EventType]:
        return _unique_events(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return value or None


class WebhookEndpointOut(Out):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": _ENDPOINT_ID, "url": _URL, "description": "CRM sync",
        "events": ["call.ended", "call.analyzed"], "enabled": True, "disabled_reason": None,
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
    }]})

    id: str = Field(examples=[_ENDPOINT_ID])
    url: str = Field(examples=[_URL], description="As normalised when it was checked")
    description: str | None = Field(default=None, examples=["CRM sync"])
    events: list[str] = Field(examples=[["call.ended", "call.analyzed"]],
                              description="Event types delivered; empty: all")
    enabled: bool = Field(examples=[True])
    disabled_reason: str | None = Field(
        default=None, examples=["the receiver answered 410 Gone on 2026-03-02T15:00:00Z"],
        description="Why deliveries stopped, while enabled is false")
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])


class WebhookEndpointCreated(WebhookEndpointOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": _ENDPOINT_ID, "url": _URL, "description": "CRM sync",
        "events": ["call.ended", "call.analyzed"], "enabled": True, "disabled_reason": None,
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
        "secret": _SECRET,
    }]})

    secret: str = Field(examples=[_SECRET],
                        description="Verifies the webhook-signature header of every delivery; "
                                    "GET /v1/webhooks/{id}/secret shows it again")


class WebhookSecretOut(Out):
    secret: str = Field(examples=[_SECRET])
    expires_at: datetime | None = Field(
        default=None, examples=[None],
        description="null: the current secret; else a previous one, still signing until then")


class WebhookSecrets(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "endpoint_id": _ENDPOINT_ID, "secret": _SECRET,
        "secrets": [{"secret": _SECRET, "expires_at": None},
                    {"secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                     "expires_at": "2026-03-03T15:00:00Z"}],
    }]})

    endpoint_id: str = Field(examples=[_ENDPOINT_ID])
    secret: str = Field(examples=[_SECRET], description="The current secret")
    secrets: list[WebhookSecretOut] = Field(
        examples=[[{"secret": _SECRET, "expires_at": None}]],
        description="Every secret signing deliveries now, newest first: each delivery's "
                    "webhook-signature carries one signature per secret")


class WebhookSecretRotate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"previous_valid_hours": 24},
        {"secret": _SECRET, "previous_valid_hours": 0},
    ]})

    secret: str | None = Field(default=None, examples=[_SECRET], description=_SECRET_DOC)
    previous_valid_hours: int = Field(
        default=24, ge=0, le=MAX_PREVIOUS_VALID_HOURS, examples=[24],
        description="How long the previous secrets keep signing (both signatures are sent), "
                    "so receivers can switch without missing a delivery; 0: stop at once")

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return check_secret(value)


class WebhookDeliveryOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": _DELIVERY_ID, "endpoint_id": _ENDPOINT_ID, "event_id": _EVENT_ID,
        "event_type": "call.ended", "status": "pending", "attempts": 2,
        "next_attempt_at": "2026-03-02T15:05:05Z", "last_status_code": 503,
        "last_error": "HTTP 503", "delivered_at": None, "created_at": "2026-03-02T15:00:00Z",
    }]})

    id: str = Field(examples=[_DELIVERY_ID])
    endpoint_id: str = Field(examples=[_ENDPOINT_ID])
    event_id: str = Field(examples=[_EVENT_ID], description="The webhook-id header")
    event_type: str = Field(examples=["call.ended"])
    status: DeliveryStatus = Field(
        examples=["pending"],
        description="pending (retried on a schedule of about 3 days) | delivered | failed "
                    "(gave up, or the receiver answered 410) | cancelled (the endpoint was "
                    "disabled)")
    attempts: int = Field(examples=[2])
    next_attempt_at: datetime | None = Field(default=None, examples=["2026-03-02T15:05:05Z"])
    last_status_code: int | None = Field(default=None, examples=[503])
    last_error: str | None = Field(default=None, examples=["HTTP 503"])
    delivered_at: datetime | None = Field(default=None, examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])


class WebhookAttemptOut(Out):
    at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    status_code: int | None = Field(default=None, examples=[503],
                                    description="null: no answer (see error)")
    outcome: AttemptOutcome = Field(examples=["retry"],
                                    description="delivered | retry | gone (410) | rejected "
                                                "(the destination was refused)")
    error: str | None = Field(default=None, examples=["ConnectError: connection refused"])
    duration_ms: float | None = Field(default=None, examples=[42.0])
    response_snippet: str | None = Field(default=None, examples=["Service Unavailable"],
                                         description="The first 4 KiB of the answer's body")


class WebhookDeliveryDetail(WebhookDeliveryOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": _DELIVERY_ID, "endpoint_id": _ENDPOINT_ID, "event_id": _EVENT_ID,
        "event_type": "call.ended", "status": "delivered", "attempts": 2,
        "next_attempt_at": None, "last_status_code": 200, "last_error": None,
        "delivered_at": "2026-03-02T15:00:05Z", "created_at": "2026-03-02T15:00:00Z",
        "payload": {"type": "call.ended", "timestamp": "2026-03-02T15:00:00Z",
                    "data": {"call_id": "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"}},
        "attempt_log": [
            {"at": "2026-03-02T15:00:00Z", "status_code": 503, "outcome": "retry",
             "error": None, "duration_ms": 12.0, "response_snippet": "busy"},
            {"at": "2026-03-02T15:00:05Z", "status_code": 200, "outcome": "delivered",
             "error": None, "duration_ms": 9.0, "response_snippet": "ok"}],
    }]})

    payload: dict[str, Any] = Field(
        examples=[{"type": "call.ended", "timestamp": "2026-03-02T15:00:00Z", "data": {}}],
        description="The body sent (as compact JSON with sorted keys)")
    attempt_log: list[WebhookAttemptOut] = Field(examples=[[]],
                                                 description="Every request made, oldest first")


class WebhookReplay(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"since": "2026-03-01T00:00:00Z", "status": "failed"},
    ]})

    since: AwareDatetime = Field(examples=["2026-03-01T00:00:00Z"],
                                 description="Events created at or after this instant")
    status: ReplayScope = Field(
        default="failed", examples=["failed"],
        description="failed: events whose delivery to this endpoint failed or was cancelled "
                    "and never succeeded; all: every event delivered (or not) to it. Events "
                    "with a delivery still pending are skipped")


    @field_validator("since")
    @classmethod
    def _since(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValueError("is out of range: give an instant between the years 1 and "
                             "9999 in UTC") from None


class WebhookReplayResult(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{"replayed": 12}]})

    replayed: int = Field(examples=[12], description="New deliveries, one per event, due now")
