"""Calls: one attempt to reach one contact (placed by the dialer, or directly)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from ringwise.api.schemas.common import Out
from ringwise.core.call_states import CallOutcome, CallStatus

# Statuses and outcomes are the call state machine's (core.call_states), so filters accept
# exactly what the dialer writes.
__all__ = ["CallOut", "CallOutcome", "CallSettingsOut", "CallStatus"]

_EXAMPLE: dict[str, Any] = {
    "id": "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
    "campaign_id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8",
    "campaign_contact_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
    "contact_id": "0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11",
    "assistant_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
    "phone_number_id": "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f",
    "attempt": 1, "status": "ended", "outcome": "answered",
    "ended_reason": "customer-ended-call", "answered_by": "human",
    "from_number": "+14155550123", "to_number": "+14155550100", "provider": "twilio",
    "provider_call_id": "CA0123456789abcdef0123456789abcdef",
    "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:03:10Z",
    "started_at": "2026-03-02T15:00:01Z", "ringing_at": "2026-03-02T15:00:02Z",
    "answered_at": "2026-03-02T15:00:09Z",
    "ended_at": "2026-03-02T15:03:10Z", "duration_seconds": 181.0, "cost": 0.2,
    "timeline": [{"status": "dialing", "at": "2026-03-02T15:00:01Z"},
                 {"status": "ringing", "at": "2026-03-02T15:00:02Z"},
                 {"status": "in-progress", "at": "2026-03-02T15:00:09Z"},
                 {"status": "ended", "at": "2026-03-02T15:03:10Z"}],
    "transcript": [{"role": "assistant", "text": "Hi Ann, this is Ava from Acme."},
                   {"role": "user", "text": "Hi Ava."}],
    "recording_url": None,
    "analysis": {"summary": "Ann wants a quote before Friday.", "sentiment": 0.6,
                 "score": 82, "tags": ["Interested"], "structured_data": {"budget": "10-20k"},
                 "success": True, "opted_out": False, "callback_requested": None,
                 "analyzer": "offline-v1", "analyzed_at": "2026-03-02T15:03:12Z"},
    "analysis_status": "done", "analyzed_at": "2026-03-02T15:03:12Z",
    "settings_id": "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
    "metadata": None,
}


class TimelineEntry(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "ringing", "at": "2026-03-02T15:00:02Z"}]})

    status: str
    at: datetime


class CallSettingsOut(BaseModel):
    """The campaign's settings and its assistant as the call was placed with them."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
        "campaign_id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8",
        "captured_at": "2026-03-02T15:00:01Z",
        "campaign": {"name": "Renewals", "retry": {"delays_minutes": [60]}},
        "assistant": {"id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f", "name": "Ava"}}]})

    id: str
    campaign_id: str | None
    captured_at: datetime
    campaign: dict[str, Any]
    assistant: dict[str, Any] | None


class CallOut(Out):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True,
                              json_schema_extra={"examples": [_EXAMPLE]})

    id: str = Field(examples=[_EXAMPLE["id"]])
    campaign_id: str | None = Field(default=None, description="null for a call placed directly")
    campaign_contact_id: str | None = None
    contact_id: str | None = None
    assistant_id: str | None = None
    phone_number_id: str | None = Field(default=None, description="The number called from")
    attempt: int = Field(examples=[1], description="1 for the first call to this contact in "
                                                   "this campaign, 2 for the first retry, ...")
    status: str = Field(examples=["ended"],
                        description="queued | dialing | ringing | in-progress | ended")
    outcome: str | None = Field(default=None, examples=["answered"],
                                description="When ended: answered | voicemail | no-answer | "
                                            "busy | failed | canceled | expired | blocked")
    ended_reason: str | None = Field(default=None, examples=["customer-ended-call"])
    answered_by: str | None = Field(default=None, examples=["human"],
                                    description="AMD verdict: human | machine_start | "
                                                "machine_end_beep | ... | fax | unknown")
    from_number: str | None = Field(default=None, examples=["+14155550123"])
    to_number: str = Field(examples=["+14155550100"])
    provider: str | None = Field(default=None, examples=["twilio"])
    provider_call_id: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = Field(default=None, description="When it was dialed")
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    timeline: list[TimelineEntry] = Field(
        default_factory=list, description="Each state the call reached, with its instant")
    duration_seconds: float | None = Field(default=None, description="Answered time")
    cost: float | None = Field(default=None, description="Estimate: the workspace's price per "
                                                         "started minute of answered time")
    transcript: list[dict[str, Any]] | None = Field(
        default=None, description="Turns: role (assistant | user), text, start_s, end_s "
                                  "(seconds from the answer)")
    recording_url: str | None = None
    analysis: dict[str, Any] | None = Field(default=None,
                                            description="See docs/results.md")
    analysis_status: str | None = Field(
        default=None, description="pending | done | failed | skipped; null: not analyzed "
                                  "(not answered by a person)")
    analyzed_at: datetime | None = None
    settings_id: str | None = Field(default=None,
                                    description="GET /v1/calls/{id}/settings: the settings "
                                                "it was placed with")
    metadata: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("metadata_", "metadata"))

    @model_validator(mode="after")
    def _timeline(self) -> CallOut:
        if not self.timeline:
            steps = (("queued", self.created_at), ("dialing", self.started_at),
                     ("ringing", self.ringing_at), ("in-progress", self.answered_at),
                     ("ended", self.ended_at))
            self.timeline = [TimelineEntry(status=status, at=at) for status, at in steps
                             if at is not None and status != "queued"]
        return self
