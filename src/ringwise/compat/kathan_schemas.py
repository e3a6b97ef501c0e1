"""Request and response shapes of Kathan's ``POST /campaign`` (docs/compat.md).

The page is generated from a FastAPI / pydantic application ("Successful Response",
``Retry Policy · object``, ``RecipientPayload``), so these are plain pydantic models with that
framework's defaults: lax types, unknown fields ignored, 422 ``{"detail": [...]}``. The rules the
page states are checked here; the native limits on top (lengths, templates, retry keys, ...)
are checked by the native models, and their errors are re-located onto Kathan's fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ringwise.api.schemas.campaigns import MAX_CONCURRENCY, CampaignCounts
from ringwise.api.schemas.contacts import MAX_BULK
from ringwise.api.schemas.shared import Emotions, Interruptions, Responsiveness, SpeechStyle

KathanChannel = Literal["twilio", "vobiz"]
# What a Kathan client reads as status: Ringwise's 'scheduled' waits to run, 'canceled' ended.
KathanStatus = Literal["draft", "running", "paused", "completed"]

_SPEECH_EXAMPLE: dict[str, Any] = {"style": "neutral", "responsiveness": "balanced",
                                   "interruptions": "on", "emotions": "natural"}


class KathanSpeechSettings(BaseModel):
    """How the agent speaks (Ringwise's speech settings: same keys, same values)."""

    model_config = ConfigDict(title="KathanSpeechSettings",
                              json_schema_extra={"examples": [_SPEECH_EXAMPLE]})

    style: SpeechStyle = "neutral"
    responsiveness: Responsiveness = "balanced"
    interruptions: Interruptions = "on"
    emotions: Emotions = "natural"


class KathanRecipient(BaseModel):
    """``RecipientPayload``: one number to call, with data for this campaign only."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone_number": "+14155550100", "metadata": {"ticket": "T-1"},
        "assistant_overrides": {"first_message": "Hi, about ticket T-1."}}]})

    phone_number: str = Field(description="E.164 (or a national number of the workspace's "
                                          "country)")
    metadata: dict[str, Any] | None = Field(
        default=None, description="Stored on this campaign's contact (native "
                                  "`campaign_metadata`), usable in templates")
    assistant_overrides: dict[str, Any] | None = Field(
        default=None, description="Native assistant overrides: system_prompt, persona, "
                                  "first_message, returning_greeting, voicemail_message, "
                                  "campaign_context, language, voice, speech_settings, "
                                  "variables")


_CREATE_EXAMPLE: dict[str, Any] = {
    "name": "Renewals March",
    "assistant_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
    "phone_number_id": "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f",
    "channel": "twilio",
    "scheduleStartTime": "2026-03-03T14:00:00Z",
    "scheduleEndTime": "2026-03-06T22:00:00Z",
    "max_concurrency": 5,
    "retry_policy": {"delays_minutes": [60, 240]},
    "speech_settings": _SPEECH_EXAMPLE,
    "campaign_context": "Renewals due this month",
    "opening_message_template": "Hi {{first_name}}, it's Ava from Acme.",
    "use_returning_greeting": False,
    "use_short_term_summaries": False,
    "short_term_summaries_limit": 3,
    "machine_detection_timeout_seconds": 31,
    "recipient_list_id": "2f0e1d3c-4b5a-4678-9a0b-1c2d3e4f5a6b",
    "recipients": [{"phone_number": "+14155550100", "metadata": {"ticket": "T-1"},
                    "assistant_overrides": {}}],
}


class KathanCampaignCreate(BaseModel):
    """The body of ``POST /campaign``."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    name: str
    assistant_id: str = Field(description="A Ringwise assistant id of this workspace")
    phone_number_id: str = Field(description="A Ringwise phone number id of this workspace; "
                                             "its provider must be `channel`")
    channel: KathanChannel = "twilio"
    scheduleStartTime: str | None = Field(  # Kathan's spelling
        default=None, description="ISO 8601; without an offset, the workspace's time zone")
    scheduleEndTime: str | None = Field(default=None)
    max_concurrency: int = Field(default=5, ge=1, le=MAX_CONCURRENCY)
    retry_policy: dict[str, Any] | None = Field(
        default=None, description="Native retry keys (auto_retry, delays_minutes, "
                                  "relative_to, retry_on, max_attempts); {}: the defaults")
    speech_settings: KathanSpeechSettings | None = None
    campaign_context: str | None = None
    opening_message_template: str | None = None
    use_returning_greeting: bool = False
    use_short_term_summaries: bool = False
    short_term_summaries_limit: int | None = None
    machine_detection_timeout_seconds: int | None = Field(default=None, ge=3, le=60)
    recipient_list_id: str | None = None
    recipients: list[KathanRecipient] | None = Field(default=None, max_length=MAX_BULK)

    @field_validator("scheduleStartTime", "scheduleEndTime")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        if value is not None:
            parse_instant(value)  # the zone of a naive value is applied by the route
        return value


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date-time (or date), naive or with an offset."""
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 8601 date and time like "
                         "'2026-03-03T09:00:00-05:00'") from None


class KathanCampaign(BaseModel):
    """The campaign as Kathan answers it (200)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8", "name": "Renewals March",
        "assistant_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f", "channel": "twilio",
        "phone_number_id": "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f", "status": "draft",
        "max_concurrency": 5,
        "retry_policy": {"auto_retry": True, "delays_minutes": [60, 240],
                         "relative_to": "previous_attempt",
                         "retry_on": ["no-answer", "busy", "voicemail", "failed"],
                         "max_attempts": 3},
        "speech_settings": _SPEECH_EXAMPLE, "assistant_name": "Ava",
        "caller_id_number": "+14155550123", "schedule_start_time": "2026-03-03T14:00:00Z",
        "schedule_end_time": "2026-03-06T22:00:00Z",
        "campaign_context": "Renewals due this month",
        "opening_message_template": "Hi {{first_name}}, it's Ava from Acme.",
        "use_returning_greeting": False, "use_short_term_summaries": False,
        "short_term_summaries_limit": 3, "machine_detection_timeout_seconds": 31,
        "recipient_list_id": "2f0e1d3c-4b5a-4678-9a0b-1c2d3e4f5a6b",
        "recipient_list_name": "March renewals", "recipient_list_row_count": 120,
        "counts": {"contacts_total": 121, "contacts_pending": 121},
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
    }]})

    id: str
    name: str
    assistant_id: str
    channel: str
    phone_number_id: str
    status: KathanStatus = Field(description="draft | running (also while waiting for "
                                             "scheduleStartTime) | paused | completed")
    max_concurrency: int
    retry_policy: dict[str, Any] = Field(description="The retry settings in force (native "
                                                     "keys, defaults filled in)")
    speech_settings: KathanSpeechSettings
    assistant_name: str | None = None
    caller_id_number: str | None = None
    schedule_start_time: str | None = None
    schedule_end_time: str | None = None
    campaign_context: str | None = None
    opening_message_template: str | None = None
    use_returning_greeting: bool = False
    use_short_term_summaries: bool = False
    short_term_summaries_limit: int | None = None
    machine_detection_timeout_seconds: int | None = None
    recipient_list_id: str | None = None
    recipient_list_name: str | None = None
    recipient_list_row_count: int | None = None
    counts: CampaignCounts
    created_at: str | None = None
    updated_at: str | None = None


class KathanHTTPError(BaseModel):
    """FastAPI's error body: ``{"detail": "..."}``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"detail": "assistant_id: assistant '6a1f0c9e-...' not found"}]})

    detail: str
