"""Assistants: the agent a campaign puts on the phone (prompt, voice, greetings, analysis)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, ConfigDict, Field, field_validator

from ringwise.api.schemas.common import Out
from ringwise.api.schemas.shared import (
    AnalysisSettings,
    CleanStrict,
    SpeechSettings,
    VoiceSettings,
    check_language,
    check_metadata,
    check_template,
)

# The check functions live in shared.py (campaigns use them too); re-exported for old imports.
__all__ = [
    "TEMPLATE_FIELDS", "AssistantCreate", "AssistantKind", "AssistantOut", "AssistantUpdate",
    "check_language", "check_metadata", "check_template",
]

AssistantKind = Literal["assistant", "workflow", "squad"]

# Fields whose text is a template over the contact's fields ({{first_name}}).
TEMPLATE_FIELDS = ("first_message", "returning_greeting", "voicemail_message")

_EXAMPLE: dict[str, Any] = {
    "name": "Ava - spring renewals",
    "kind": "assistant",
    "system_prompt": "You are Ava, a friendly renewals specialist at Acme Insurance.",
    "persona": "Warm, concise, never pushy.",
    "first_message": "Hi {{first_name}}, this is Ava from Acme. Do you have a minute?",
    "returning_greeting": "Hi {{first_name}}, Ava from Acme again, following up.",
    "voicemail_message": "Hi {{first_name}}, Ava from Acme. Please call us back.",
    "campaign_context": "Policies renewing in the next 30 days.",
    "voice": {"provider": "elevenlabs", "voice_id": "21m00Tcm4TlvDq8ikWAM", "speed": 1.0},
    "speech_settings": {"style": "neutral", "responsiveness": "balanced",
                        "interruptions": "on", "emotions": "natural"},
    "language": "en-US",
    "analysis": {
        "scoring_criteria": "Score 0-100 based on renewal intent",
        "structured_data_schema": [{"key": "renewal_date", "type": "date",
                                    "description": "Date the contact agreed to renew"}],
        "tags": [{"name": "Interested", "description": "Wants to renew"}],
    },
    "metadata": {"team": "renewals"},
}


class AssistantFieldChecks(CleanStrict):
    """Validators of assistant fields, shared by create, update and a campaign contact's
    assistant overrides (each declares its own fields)."""

    @field_validator(*TEMPLATE_FIELDS, check_fields=False)
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return check_template(value)

    @field_validator("language", check_fields=False)
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else check_language(value)

    @field_validator("metadata", check_fields=False)
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_metadata(value)


_TEMPLATE_HELP = ("Template: {{first_name}}-style variables from the contact's fields, "
                  "custom_fields.<key> or metadata.<key>; a variable the contact has no value "
                  "for renders as empty text")


class AssistantCreate(AssistantFieldChecks):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=255, examples=["Ava - spring renewals"])
    kind: AssistantKind = Field(
        default="assistant",
        description="assistant: one agent; workflow: a scripted flow; squad: several agents "
                    "handing over (Vapi's assistantId / workflowId / squadId)",
    )
    system_prompt: str | None = Field(default=None, max_length=100_000)
    persona: str | None = Field(default=None, max_length=10_000)
    first_message: str | None = Field(default=None, max_length=5_000,
                                      description=f"Opening line. {_TEMPLATE_HELP}")
    returning_greeting: str | None = Field(
        default=None, max_length=5_000,
        description=f"Opening line for a contact reached before. {_TEMPLATE_HELP}")
    voicemail_message: str | None = Field(
        default=None, max_length=5_000,
        description=f"Message left on an answering machine. {_TEMPLATE_HELP}")
    campaign_context: str | None = Field(default=None, max_length=50_000,
                                         description="Background the agent may draw on")
    voice: VoiceSettings | None = None
    speech_settings: SpeechSettings = Field(default_factory=SpeechSettings)
    language: str = Field(default="en-US", max_length=35, description="BCP-47 tag",
                          examples=["en-US"])
    analysis: AnalysisSettings | None = Field(
        default=None, description="Default post-call analysis; a campaign may override it")
    metadata: dict[str, Any] | None = Field(default=None, examples=[{"team": "renewals"}])


class AssistantUpdate(AssistantFieldChecks):
    """Only the fields sent change. Nested sections (voice, speech_settings, analysis) are
    replaced whole; null clears an optional field (name, kind and language cannot be null;
    a null speech_settings resets it to the defaults)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"first_message": "Hello {{first_name}}, it's Ava from Acme.",
         "speech_settings": {"style": "friendly", "interruptions": "off"}},
    ]})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    kind: AssistantKind | None = None
    system_prompt: str | None = Field(default=None, max_length=100_000)
    persona: str | None = Field(default=None, max_length=10_000)
    first_message: str | None = Field(default=None, max_length=5_000)
    returning_greeting: str | None = Field(default=None, max_length=5_000)
    voicemail_message: str | None = Field(default=None, max_length=5_000)
    campaign_context: str | None = Field(default=None, max_length=50_000)
    voice: VoiceSettings | None = None
    speech_settings: SpeechSettings | None = None
    language: str | None = Field(default=None, max_length=35, examples=["en-GB"])
    analysis: AnalysisSettings | None = None
    metadata: dict[str, Any] | None = None


class AssistantOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f", **_EXAMPLE,
         "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z"},
    ]})

    id: str = Field(examples=["6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"])
    name: str
    kind: AssistantKind
    system_prompt: str | None = None
    persona: str | None = None
    first_message: str | None = None
    returning_greeting: str | None = None
    voicemail_message: str | None = None
    campaign_context: str | None = None
    voice: VoiceSettings | None = None
    speech_settings: SpeechSettings = Field(default_factory=SpeechSettings)
    language: str
    analysis: AnalysisSettings | None = None
    # The ORM attribute is ``metadata_`` (``metadata`` is SQLAlchemy's own).
    metadata: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("metadata_", "metadata"))
    created_at: datetime
    updated_at: datetime

    @field_validator("speech_settings", mode="before")
    @classmethod
    def _speech_default(cls, value: Any) -> Any:
        return SpeechSettings() if value is None else value
