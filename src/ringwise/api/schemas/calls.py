"""Calls: one attempt to reach one contact (placed by the dialer, or directly)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, ConfigDict, Field

from ringwise.api.schemas.common import Out
from ringwise.core.call_states import CallOutcome, CallStatus

# Statuses and outcomes are the call state machine's (core.call_states), so filters accept
# exactly what the dialer writes.
__all__ = ["CallOut", "CallOutcome", "CallStatus"]

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
    "started_at": "2026-03-02T15:00:01Z", "answered_at": "2026-03-02T15:00:09Z",
    "ended_at": "2026-03-02T15:03:10Z", "duration_seconds": 181.0, "cost": 0.042,
    "transcript": [{"role": "assistant", "text": "Hi Ann, this is Ava from Acme."},
                   {"role": "user", "text": "Hi Ava."}],
    "recording_url": None,
    "analysis": {"score": 82, "structured_data": {"budget": "10-20k"}, "tags": ["Interested"]},
    "metadata": None,
}


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
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    cost: float | None = None
    transcript: list[dict[str, Any]] | None = None
    recording_url: str | None = None
    analysis: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("metadata_", "metadata"))
