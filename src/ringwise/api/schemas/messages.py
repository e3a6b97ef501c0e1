"""A campaign's scheduled messages: one row per contact and ``schedule.runs[].messages[]``
entry, written by the results worker and only read through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from ringwise.api.schemas.campaigns import MessageChannel
from ringwise.api.schemas.common import Out, Strict
from ringwise.core.messages import MESSAGE_STATUSES, MessageStatus

__all__ = ["MESSAGE_STATUSES", "InboundMessageIn", "InboundMessageOut", "MessageChannel",
           "MessageOut", "MessageStatus", "MessageSummary"]


_STATUS_DOC = (
    "scheduled: waiting for due_at | sending: the worker is handing it to the provider | "
    "sent: the provider took it | failed: delivery failed (see error) | blocked: compliance "
    "refused it (see reason) | skipped: nothing to send it to (see reason) | expired: no "
    "legal send time was left in the run | canceled: the campaign was canceled, or the "
    "message removed from its schedule")

_EXAMPLE: dict[str, Any] = {
    "id": "2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d",
    "campaign_id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8",
    "contact_id": "0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11",
    "run_index": 0, "message_index": 1, "channel": "sms", "status": "sent",
    "reason": None, "error": None,
    "due_at": "2026-03-10T15:00:00Z", "sent_at": "2026-03-10T15:00:03Z", "attempts": 1,
    "from": "+14155550123", "to": "+14155550100", "subject": None,
    "body": "Hi Ann, a reminder that your renewal is due this week.",
    "provider_message_id": "SM0123456789abcdef0123456789abcdef",
    "created_at": "2026-03-09T14:00:00Z", "updated_at": "2026-03-10T15:00:03Z",
}


class MessageOut(Out):
    """One scheduled message to one contact of the campaign."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True,
                              json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    campaign_id: str
    contact_id: str = Field(description="The contact it is sent to")
    run_index: int = Field(description="Position (from 0) of its run in the campaign's "
                                       "schedule.runs")
    message_index: int = Field(description="Position (from 0) of the message in that run's "
                                           "messages")
    channel: MessageChannel = Field(description="sms | email")
    status: MessageStatus = Field(description=_STATUS_DOC)
    reason: str | None = Field(
        default=None, description="Why it was blocked, skipped, expired or canceled, e.g. "
                                  "dnc-listed, no-consent, no-email-address, "
                                  "no-legal-time-in-run, campaign-canceled; else null")
    error: str | None = Field(default=None,
                              description="The delivery error of a failed message, as the "
                                          "provider or mail server gave it")
    due_at: datetime | None = Field(
        default=None, description="When it may be sent: the message's send_date and "
                                  "send_time in the contact's zone, moved into legal hours")
    sent_at: datetime | None = Field(default=None,
                                     description="When the provider took it; null until sent")
    attempts: int = Field(description="Delivery tries so far")
    from_: str | None = Field(
        default=None, serialization_alias="from",
        validation_alias=AliasChoices("from_address", "from_", "from"),
        description="The number or e-mail address it is sent from; null until chosen")
    to: str | None = Field(default=None, validation_alias=AliasChoices("to_address", "to"),
                           description="The contact's number (sms) or e-mail address (email)")
    subject: str | None = Field(default=None, description="E-mail only: the rendered subject")
    body: str | None = Field(default=None,
                             description="The text as sent, its template rendered for the "
                                         "contact; null until rendered")
    provider_message_id: str | None = Field(
        default=None, description="The SMS provider's or mail server's id of the message")
    created_at: datetime = Field(description="When it was planned")
    updated_at: datetime


class MessageSummary(BaseModel):
    """Counts of a campaign's scheduled messages."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "total": 240,
        "by_status": {"scheduled": 120, "sending": 0, "sent": 98, "failed": 4,
                      "blocked": 9, "skipped": 6, "expired": 3, "canceled": 0},
        "by_channel": {"sms": 200, "email": 40},
        "next_due_at": "2026-03-11T14:00:00Z",
    }]})

    total: int = Field(description="Every message of the campaign, whatever its status")
    by_status: dict[MessageStatus, int] = Field(
        description="Messages per status; every status is present, zeros included")
    by_channel: dict[MessageChannel, int] = Field(
        description="Messages per channel; both channels are present, zeros included")
    next_due_at: datetime | None = Field(
        description="The earliest due_at of the messages still scheduled; null when none is")


class InboundMessageIn(Strict):
    """A text a contact sent to one of the workspace's numbers, as the SMS provider
    received it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "from": "+12125550101", "to": "+12125550199", "body": "STOP",
        "provider_message_id": "SM5f1e2d3c4b5a69788796a5b4c3d2e1f0",
    }]})

    from_: str = Field(alias="from", min_length=1, max_length=32,
                       description="The contact's number (E.164, or national in the "
                                   "workspace's default region)")
    to: str = Field(min_length=1, max_length=32,
                    description="The workspace's number the text was sent to")
    body: str = Field(max_length=5_000, description="The text, as received")
    provider_message_id: str | None = Field(default=None, max_length=255,
                                            description="The provider's id of the text")


class InboundMessageOut(BaseModel):
    """What Ringwise did with a received text."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "opt_out": True, "keyword": "stop", "phone": "+12125550101", "newly_listed": True,
        "dnc_entry_id": "6c1f0c3e-5b7a-4d0e-9a51-2f4b8c7d9e10",
    }]})

    opt_out: bool = Field(description="The text revokes consent: the number is on the "
                                      "workspace's do-not-call list now")
    keyword: str | None = Field(description="The opt-out word found (stop, quit, end, revoke, "
                                            "opt out, cancel, unsubscribe, stopall); null "
                                            "when none")
    phone: str = Field(description="The contact's number, E.164")
    newly_listed: bool = Field(description="False when the number was already listed (or "
                                           "the text is not an opt-out)")
    dnc_entry_id: str | None = Field(description="The do-not-call entry listing the number")
