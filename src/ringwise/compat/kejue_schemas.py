"""Request and response shapes of Kejue's ``POST /api/v1/campaigns`` (docs/compat.md).

The page is generated from a FastAPI / pydantic application (``CallSettingsInput``,
"Successful Response"), so these are plain pydantic models with that framework's defaults:
lax types, unknown fields ignored. Every rule the page states (and every native limit a value
must also meet) is checked here, so a bad request is a 422 whose ``loc`` names the Kejue field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ringwise.api.schemas.contacts import MAX_BULK
from ringwise.api.schemas.shared import (
    IDENTIFIER_PATTERN,
    MAX_STRUCTURED_FIELDS,
    MAX_TAGS,
    check_metadata,
)
from ringwise.core import retry as retry_core

# Kejue numbers weekdays like Python's date.weekday(): 0 = Monday (docs/field-mapping.md).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Weekday = Annotated[int, Field(ge=0, le=6)]
RetryMinutes = Annotated[int, Field(ge=retry_core.MIN_DELAY_MINUTES,
                                    le=retry_core.MAX_DELAY_MINUTES)]

_CALL_SETTINGS_EXAMPLE: dict[str, Any] = {
    "allowed_days": [0, 1, 2, 3, 4],
    "auto_retry": True,
    "call_end_hour": 17,
    "call_start_hour": 9,
    "phone_assignment_mode": "local",
    "retry_schedule": [60, 240],
    "scoring_criteria": "Score 0-100 based on buying intent",
    "structured_data_schema": [
        {"description": "Stated budget range", "key": "budget"},
        {"description": "Decision timeline", "key": "timeline"},
    ],
    "tags": [
        {"description": "Contact expressed buying interest", "name": "Interested"},
        {"description": "Contact requested a follow-up call", "name": "Follow-up"},
    ],
}


class KejueStructuredField(BaseModel):
    """One value the post-call analysis extracts (native type: string)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"description": "Stated budget range", "key": "budget"}]})

    key: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN,
                     examples=["budget"])
    description: str | None = Field(default=None, max_length=1_000,
                                    examples=["Stated budget range"])


class KejueTag(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"description": "Contact expressed buying interest", "name": "Interested"}]})

    name: str = Field(min_length=1, max_length=64, examples=["Interested"])
    description: str | None = Field(default=None, max_length=1_000,
                                    examples=["Contact expressed buying interest"])


class KejueCallSettings(BaseModel):
    """``CallSettingsInput``: when, how often and from which numbers, and what to extract."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CALL_SETTINGS_EXAMPLE]})

    allowed_days: list[Weekday] | None = Field(
        default=None, min_length=1, examples=[[0, 1, 2, 3, 4]],
        description="Weekdays calls may be placed, 0 = Monday ... 6 = Sunday; null: every day")
    auto_retry: bool | None = Field(default=None, examples=[True],
                                    description="false: one attempt per contact")
    call_start_hour: int | None = Field(default=None, ge=0, le=23, examples=[9],
                                        description="First hour of the daily window, "
                                                    "contact-local")
    call_end_hour: int | None = Field(default=None, ge=1, le=24, examples=[17],
                                      description="No call starts at or after this hour")
    phone_assignment_mode: Literal["local"] | None = Field(
        default=None, examples=["local"],
        description="local: the caller number nearest the callee (local presence); null: "
                    "rotate over the numbers")
    retry_schedule: list[RetryMinutes] | None = Field(
        default=None, max_length=retry_core.MAX_DELAYS, examples=[[60, 240]],
        description="Minutes to wait before each retry; one attempt more than entries")
    scoring_criteria: str | None = Field(default=None, max_length=10_000,
                                         examples=["Score 0-100 based on buying intent"])
    structured_data_schema: list[KejueStructuredField] | None = Field(
        default=None, max_length=MAX_STRUCTURED_FIELDS)
    tags: list[KejueTag] | None = Field(default=None, max_length=MAX_TAGS)

    @field_validator("call_end_hour")
    @classmethod
    def _after_start(cls, value: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("call_start_hour")
        if value is not None and start is not None and value <= start:
            raise ValueError("call_end_hour must be after call_start_hour")
        return value

    @field_validator("structured_data_schema")
    @classmethod
    def _unique_keys(cls, value: list[KejueStructuredField] | None
                     ) -> list[KejueStructuredField] | None:
        keys = [item.key for item in value or ()]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"duplicate key '{key}'")
        return value

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: list[KejueTag] | None) -> list[KejueTag] | None:
        # Case-insensitive, like the native tags: an LLM could not tell the two apart.
        names = [tag.name.casefold() for tag in value or ()]
        for tag in value or ():
            if names.count(tag.name.casefold()) > 1:
                raise ValueError(f"duplicate tag name '{tag.name}'")
        return value


_CREATE_EXAMPLE: dict[str, Any] = {
    "name": "Q2 outreach",
    "description": "Pipeline for Q2",
    "persona_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
    "call_settings": _CALL_SETTINGS_EXAMPLE,
    "metadata": {},
    "contact_ids": ["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11"],
    "priority": 50,
    "scheduled_start_at": "2026-03-09T09:00",
    "auto_start": False,
}


class KejueCampaignCreate(BaseModel):
    """Create a campaign (public API)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=255, examples=["Q2 outreach"])
    description: str | None = Field(default=None, max_length=10_000,
                                    examples=["Pipeline for Q2"])
    persona_id: str | None = Field(default=None, max_length=64, description="Persona to use "
                                   "(a Ringwise assistant id)",
                                   examples=["6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"])
    voice_config_id: str | None = Field(
        default=None, max_length=64, examples=["6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"],
        description="Voice agent (infers persona): a Ringwise assistant id; with persona_id, "
                    "the same one")
    call_settings: KejueCallSettings | None = Field(default=None, description="Call settings")
    metadata: dict[str, Any] | None = Field(default=None, examples=[{"owner": "sales"}])
    contact_ids: list[str] | None = Field(
        default=None, max_length=MAX_BULK, description="Contact IDs to add (max 10,000)",
        examples=[["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11"]])
    priority: int = Field(default=50, ge=1, le=100, examples=[50],
                          description="Queue priority")
    scheduled_start_at: str | None = Field(
        default=None, examples=["2026-03-09T09:00"],
        description="Naive datetime 'YYYY-MM-DDTHH:MM' per contact timezone")
    auto_start: bool = Field(default=False, examples=[False],
                             description="Start immediately after adding contacts")

    @field_validator("voice_config_id")
    @classmethod
    def _same_assistant(cls, value: str | None, info: ValidationInfo) -> str | None:
        persona = info.data.get("persona_id")
        if value is not None and persona is not None and value != persona:
            raise ValueError("persona_id and voice_config_id both name a Ringwise assistant; "
                             "send one of them, or the same id in both")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_metadata(value)

    @field_validator("scheduled_start_at")
    @classmethod
    def _naive(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a naive datetime like '2026-03-09T09:00'") \
                from None
        if parsed.tzinfo is not None:
            raise ValueError("scheduled_start_at is naive wall time in each contact's time "
                             "zone; send it without an offset")
        # Zone offsets are under a day: a start this close to datetime's limits cannot be
        # placed on the UTC timeline in every zone.
        if not datetime(1, 1, 2) <= parsed <= datetime(9999, 12, 30):
            raise ValueError("is out of range")
        return value

    @property
    def assistant_ref(self) -> tuple[str, str] | None:
        """(Kejue field, id) of the assistant the request names, if any."""
        if self.persona_id is not None:
            return "persona_id", self.persona_id
        if self.voice_config_id is not None:
            return "voice_config_id", self.voice_config_id
        return None


class KejueCampaignCreated(BaseModel):
    """Response after creating a campaign via public API."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8", "name": "Q2 outreach", "status": "draft",
        "created_at": "2026-03-02T15:00:00Z",
        "persona_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f", "contacts_added": 1,
        "scheduled_start_at": "2026-03-09T09:00",
    }]})

    id: str = Field(examples=["3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"])
    name: str = Field(examples=["Q2 outreach"])
    status: str = Field(examples=["draft"], description="draft; scheduled or running with "
                                                        "auto_start")
    created_at: datetime = Field(examples=["2026-03-02T15:00:00Z"])
    persona_id: str | None = Field(examples=["6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"])
    contacts_added: int | None = Field(examples=[1])
    scheduled_start_at: str | None = Field(examples=["2026-03-09T09:00"])


class KejueHTTPError(BaseModel):
    """FastAPI's error body for everything but validation."""

    detail: str = Field(examples=["Not authenticated"])
