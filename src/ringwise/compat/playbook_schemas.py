"""Request and response bodies of /compat/playbook (shared/seeds/003_2f2bb110975fc459.txt).

Requests are checked in the page's order: ``playbook_id``, then ``contacts`` (non-empty), then
every contact's ``phone`` (non-empty), each with the page's own error sentence, before any
other field. Value rules (e-mail shape, IANA zone, lengths) are the native contact's, applied
when the body is translated.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ringwise.api.schemas.common import Strict
from ringwise.api.schemas.contacts import MAX_BULK
from ringwise.core import retry as retry_core

# The page's one documented 400 body, and the texts of its error table (401 / 403).
PHONE_REQUIRED = "Each contact must have a non-empty phone field"
UNAUTHENTICATED = "Not authenticated: missing or invalid token"
PLAYBOOK_NOT_FOUND = "Playbook not found or not owned by your account"
PLAYBOOK_REQUIRED = "playbook_id is required"
CONTACTS_REQUIRED = "contacts must be a non-empty array"
CALL_NOT_FOUND = "Call not found"

PLAYBOOK_ID = "550e8400-e29b-41d4-a716-446655440000"
CAMPAIGN_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
CALL_ID = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"


class PlaybookInputError(ValueError):
    """A request rule of the page: its message is the whole 400 body's ``error``."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _has_phone(item: Any) -> bool:
    phone = item.get("phone") if isinstance(item, dict) else None
    if isinstance(phone, int) and not isinstance(phone, bool):
        return True  # numbers are taken as text, like the native API does
    return isinstance(phone, str) and bool(phone.strip())


def _check_playbook_id(data: Any) -> None:
    if not isinstance(data, dict):
        raise PlaybookInputError("the request body must be a JSON object")
    if _blank(data.get("playbook_id")):
        raise PlaybookInputError(PLAYBOOK_REQUIRED)


def parse_recall(value: Any) -> list[int]:
    """``"[30,120]"`` or ``[30, 60, 120]`` -> minutes after the first call, increasing."""
    if value is None:
        return []
    if not isinstance(value, str | list):
        raise PlaybookInputError('recall must be a list of minutes, like "[30,120]" or '
                                 "[30, 120]")
    try:
        delays = list(retry_core.parse_delays(value))
        retry_core.check_increasing(delays)  # offsets from the first call
    except retry_core.RetryDelayError as exc:
        raise PlaybookInputError(f"recall: {exc.message}") from None
    return delays


def parse_launch_at(value: str) -> datetime:
    """ISO date and time; without an offset it is UTC (the page answers with ``...Z``)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PlaybookInputError(f"launch_at: '{value}' is not an ISO date and time like "
                                 "'2025-03-01T10:00:00'") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise PlaybookInputError(f"launch_at: '{value}' is out of range") from None


class ContactData(Strict):
    """The optional fields of a contact (personalization and CRM), as the page lists them."""

    first_name: str | None = Field(default=None, examples=["Juan"])
    last_name: str | None = Field(default=None, examples=["García"])
    email: str | None = Field(default=None, examples=["juan@example.com"])
    company: str | None = Field(default=None, examples=["Acme SL"])
    job_title: str | None = Field(default=None, examples=["Head of Sales"])
    address: str | None = Field(default=None, examples=["Calle Mayor 1"])
    city: str | None = Field(default=None, examples=["Madrid"])
    state: str | None = Field(default=None, examples=["Madrid"])
    country: str | None = Field(default=None, examples=["ES"])
    postal_code: str | None = Field(default=None, examples=["28013"])
    timezone: str | None = Field(default=None, examples=["Europe/Madrid"],
                                 description="IANA zone; overrides the number's")
    utm_source: str | None = Field(default=None, examples=["google"])
    utm_medium: str | None = Field(default=None, examples=["cpc"])
    utm_campaign: str | None = Field(default=None, examples=["spring_sale"])
    utm_term: str | None = Field(default=None, examples=["voice ai"])
    utm_content: str | None = Field(default=None, examples=["banner_a"])
    custom_fields: dict[str, Any] | None = Field(
        default=None, examples=[{"lead_id": "ext-12345", "origen": "web"}])


class PlaybookContact(ContactData):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"phone": "+34600123456", "first_name": "Juan", "last_name": "García",
         "custom_fields": {"lead_id": "ext-12345"}}]})

    phone: str = Field(max_length=64, examples=["+34600123456"],
                       description="E.164, or national format in the workspace's region")

    @field_validator("phone", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_RECALL_HELP = ('Retry delays in minutes after the first call: "[30,120]" or [30, 120] '
                "(increasing); absent: one attempt")


class PlaybookCampaignCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "playbook_id": PLAYBOOK_ID,
        "contacts": [{"phone": "+34600123456", "first_name": "Juan"},
                     {"phone": "+34600987654", "first_name": "María"}],
        "launch_at": "2025-03-01T10:00:00", "recall": "[30,120]"}]})

    playbook_id: str = Field(max_length=64, examples=[PLAYBOOK_ID],
                             description="A Ringwise assistant's id (GET /v1/assistants)")
    contacts: list[PlaybookContact] = Field(max_length=MAX_BULK)
    launch_at: str | None = Field(default=None, max_length=64,
                                  examples=["2025-03-01T10:00:00"],
                                  description="ISO date and time, UTC unless it has an "
                                              "offset; absent: start now")
    recall: str | list[int] | None = Field(default=None, examples=["[30,120]"],
                                           description=_RECALL_HELP)

    @field_validator("recall", mode="before")
    @classmethod
    def _recall(cls, value: Any) -> list[int] | None:
        return None if value is None else parse_recall(value)

    @field_validator("launch_at")
    @classmethod
    def _launch_at(cls, value: str | None) -> str | None:
        if value is not None:
            parse_launch_at(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _page_rules(cls, data: Any) -> Any:
        _check_playbook_id(data)
        contacts = data.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise PlaybookInputError(CONTACTS_REQUIRED)
        if not all(_has_phone(item) for item in contacts):
            raise PlaybookInputError(PHONE_REQUIRED)
        return data


class PlaybookCallCreate(ContactData):
    """``POST /call`` (not specified by the page beyond its existence): one contact, its
    fields at the top level, called at once."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "playbook_id": PLAYBOOK_ID, "phone": "+34600123456", "first_name": "Juan",
        "custom_fields": {"lead_id": "ext-12345"}, "recall": "[30,120]"}]})

    playbook_id: str = Field(max_length=64, examples=[PLAYBOOK_ID])
    phone: str = Field(max_length=64, examples=["+34600123456"])
    recall: str | list[int] | None = Field(default=None, examples=["[30,120]"],
                                           description=_RECALL_HELP)

    @field_validator("recall", mode="before")
    @classmethod
    def _recall(cls, value: Any) -> list[int] | None:
        return None if value is None else parse_recall(value)

    @model_validator(mode="before")
    @classmethod
    def _page_rules(cls, data: Any) -> Any:
        _check_playbook_id(data)
        if not _has_phone(data):
            raise PlaybookInputError(PHONE_REQUIRED)
        return data

    @field_validator("phone", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def contact(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"playbook_id", "recall"})


# --- responses ------------------------------------------------------------------------------

class PlaybookCampaignStarted(BaseModel):
    """6.1: no ``launch_at``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "success": True, "message": "Campaign started successfully",
        "campaign_id": CAMPAIGN_ID, "scheduled": False, "total_contacts": 2}]})

    success: bool = Field(examples=[True])
    message: str = Field(examples=["Campaign started successfully"])
    campaign_id: str = Field(examples=[CAMPAIGN_ID])
    scheduled: bool = Field(examples=[False])
    total_contacts: int = Field(examples=[2])


class PlaybookCampaignScheduled(PlaybookCampaignStarted):
    """6.2: with ``launch_at``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "success": True, "message": "Scheduled 2 calls for 01/03/2025 10:00",
        "campaign_id": CAMPAIGN_ID, "scheduled": True,
        "launch_at": "2025-03-01T10:00:00.000Z", "total_contacts": 2, "scheduled_calls": 2,
        "error_calls": 0}]})

    launch_at: str = Field(examples=["2025-03-01T10:00:00.000Z"])
    scheduled_calls: int = Field(examples=[2])
    error_calls: int = Field(examples=[0])


class PlaybookCallStarted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "success": True, "message": "Call started successfully", "call_id": CALL_ID,
        "campaign_id": CAMPAIGN_ID}]})

    success: bool = Field(examples=[True])
    message: str = Field(examples=["Call started successfully"])
    call_id: str = Field(examples=[CALL_ID], description="For GET /call/{id}")
    campaign_id: str = Field(examples=[CAMPAIGN_ID],
                             description="The one-contact native campaign placing it")


class PlaybookError(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"error": PHONE_REQUIRED}]})

    error: str = Field(examples=[PHONE_REQUIRED])


_CALL_EXAMPLE: dict[str, Any] = {
    "id": CALL_ID, "campaign_id": CAMPAIGN_ID, "playbook_id": PLAYBOOK_ID,
    "phone": "+34600123456", "first_name": "Juan", "last_name": "García",
    "status": "ended", "outcome": "answered", "ended_reason": "customer-ended-call",
    "attempts": 1, "recall": [30, 120], "next_attempt_at": None,
    "native_call_id": "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
    "started_at": "2026-03-02T15:00:01Z", "answered_at": "2026-03-02T15:00:09Z",
    "ended_at": "2026-03-02T15:03:10Z", "duration_seconds": 181.0, "cost": 0.2,
    "transcript": [{"role": "assistant", "text": "Hola Juan, soy Ava."},
                   {"role": "user", "text": "Hola."}],
    "recording_url": None,
    "analysis": {"summary": "Juan wants a quote.", "sentiment": 0.6, "score": 82,
                 "tags": ["Interested"], "success": True},
    "analysis_status": "done",
    "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:03:10Z",
}


class PlaybookCall(BaseModel):
    """``GET /call/{id}``: a contact's call (all its attempts) or one native attempt."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CALL_EXAMPLE]})

    id: str = Field(examples=[CALL_ID])
    campaign_id: str | None = Field(examples=[CAMPAIGN_ID])
    playbook_id: str | None = Field(examples=[PLAYBOOK_ID])
    phone: str = Field(examples=["+34600123456"])
    first_name: str | None = Field(examples=["Juan"])
    last_name: str | None = Field(examples=["García"])
    status: str = Field(examples=["ended"],
                        description="scheduled (waiting for an attempt) | queued | dialing | "
                                    "ringing | in-progress | ended (no attempt will follow)")
    outcome: str | None = Field(examples=["answered"],
                                description="answered | voicemail | no-answer | busy | failed "
                                            "| canceled | blocked | ...; null before the end")
    ended_reason: str | None = Field(examples=["customer-ended-call"])
    attempts: int = Field(examples=[1], description="Attempts placed so far (for a native "
                                                    "call id: that attempt's number)")
    recall: list[int] = Field(examples=[[30, 120]],
                              description="Retry delays, minutes after the first call")
    next_attempt_at: datetime | None = Field(examples=[None])
    native_call_id: str | None = Field(
        examples=["7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"],
        description="The latest attempt in GET /v1/calls/{id}; null before the first")
    started_at: datetime | None = Field(examples=["2026-03-02T15:00:01Z"])
    answered_at: datetime | None = Field(examples=["2026-03-02T15:00:09Z"])
    ended_at: datetime | None = Field(examples=["2026-03-02T15:03:10Z"])
    duration_seconds: float | None = Field(examples=[181.0])
    cost: float | None = Field(examples=[0.2])
    transcript: list[dict[str, Any]] | None = Field(examples=[_CALL_EXAMPLE["transcript"]])
    recording_url: str | None = Field(examples=[None])
    analysis: dict[str, Any] | None = Field(examples=[_CALL_EXAMPLE["analysis"]])
    analysis_status: str | None = Field(examples=["done"])
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T15:03:10Z"])
