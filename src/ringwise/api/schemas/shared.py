"""Settings sections shared by assistants and campaigns: voice, speech behaviour, analysis.

An assistant carries defaults for each; a campaign may override them with the same models, so
both resources accept (and return) identical shapes. The models are request-strict (unknown
fields are an error) and are stored as their ``model_dump()`` in JSON columns.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from ringwise.api.schemas.common import Strict
from ringwise.core import templates
from ringwise.errors import FieldError

# Speech behaviour. The values of the Kathan API ("neutral", "balanced", "on", "natural") are the
# defaults; the other members are the natural neighbours an agent runtime can map to its knobs.
SpeechStyle = Literal["neutral", "friendly", "professional", "empathetic", "energetic"]
Responsiveness = Literal["patient", "balanced", "fast"]
Interruptions = Literal["on", "off"]
Emotions = Literal["natural", "subdued", "expressive"]

DataType = Literal["string", "number", "integer", "boolean", "date"]

# Field keys become JSON keys of a call's structured data and may be referenced from templates
# and reports, so they must be plain identifiers.
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_STRUCTURED_FIELDS = 50
MAX_TAGS = 50

# BCP-47 shape (language[-Script][-REGION]): en-US, es-419, zh-Hans-CN. Stored in canonical case.
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")
MAX_METADATA_BYTES = 16_384


# Every request model rejects NUL now (see Strict); the old name stays for the schemas using it.
CleanStrict = Strict


class SpeechSettings(CleanStrict):
    """How the agent speaks and listens. Every field has a default, so ``{}`` is valid."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"style": "neutral", "responsiveness": "balanced",
                          "interruptions": "on", "emotions": "natural"}],
        },
    )

    style: SpeechStyle = Field(
        default="neutral",
        description="Tone of voice: neutral | friendly | professional | empathetic | energetic",
    )
    responsiveness: Responsiveness = Field(
        default="balanced",
        description="How quickly the agent replies after the callee stops speaking: "
                    "patient (waits longer) | balanced | fast",
    )
    interruptions: Interruptions = Field(
        default="on", description="on: the callee can interrupt (barge in); off: the agent "
                                  "finishes each utterance",
    )
    emotions: Emotions = Field(
        default="natural", description="Emotional range of the voice: natural | subdued | "
                                       "expressive",
    )


class VoiceSettings(CleanStrict):
    """The text-to-speech voice. ``provider`` names a TTS adapter; other knobs are optional."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"provider": "elevenlabs", "voice_id": "21m00Tcm4TlvDq8ikWAM",
                          "speed": 1.0, "stability": 0.5}],
        },
    )

    provider: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="TTS provider, lowercase (e.g. elevenlabs, openai, cartesia, simulated)",
        examples=["elevenlabs"],
    )
    voice_id: str = Field(min_length=1, max_length=255, description="The provider's voice id",
                          examples=["21m00Tcm4TlvDq8ikWAM"])
    speed: float | None = Field(default=None, ge=0.5, le=2.0,
                                description="Speaking-rate multiplier, 1.0 is normal",
                                examples=[1.0])
    stability: float | None = Field(default=None, ge=0.0, le=1.0,
                                    description="Voice stability 0-1 (lower is more varied)",
                                    examples=[0.5])


class StructuredDataField(CleanStrict):
    """One value the post-call analysis extracts from the conversation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"key": "budget", "description": "Stated budget range",
                          "type": "string"}],
        },
    )

    key: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN,
                     description="Identifier: letters, digits, underscore; unique",
                     examples=["budget"])
    description: str | None = Field(default=None, max_length=1000,
                                    examples=["Stated budget range"])
    type: DataType = Field(default="string",
                           description="string | number | integer | boolean | date (ISO 8601)")


class TagDefinition(CleanStrict):
    """A label the post-call analysis may attach to a call."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Interested",
                          "description": "Contact expressed buying interest"}],
        },
    )

    name: str = Field(min_length=1, max_length=64, description="Unique (case-insensitively)",
                      examples=["Interested"])
    description: str | None = Field(default=None, max_length=1000,
                                    examples=["Contact expressed buying interest"])


class AnalysisSettings(CleanStrict):
    """What to extract from each finished call: a score, structured data and tags."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{
                "scoring_criteria": "Score 0-100 based on buying intent",
                "structured_data_schema": [
                    {"key": "budget", "description": "Stated budget range"},
                    {"key": "timeline", "description": "Decision timeline"},
                ],
                "tags": [
                    {"name": "Interested", "description": "Contact expressed buying interest"},
                    {"name": "Follow-up", "description": "Contact requested a follow-up call"},
                ],
            }],
        },
    )

    scoring_criteria: str | None = Field(default=None, max_length=10_000,
                                         examples=["Score 0-100 based on buying intent"])
    structured_data_schema: list[StructuredDataField] = Field(
        default_factory=list, max_length=MAX_STRUCTURED_FIELDS
    )
    tags: list[TagDefinition] = Field(default_factory=list, max_length=MAX_TAGS)
    success_criteria: str | None = Field(
        default=None, max_length=10_000, examples=["The contact agreed to a demo"],
        description="What makes a call a success (the conversion flag); default: the "
                    "contact showed interest and did not opt out")

    @field_validator("structured_data_schema")
    @classmethod
    def _unique_keys(cls, fields: list[StructuredDataField]) -> list[StructuredDataField]:
        seen: set[str] = set()
        for index, item in enumerate(fields):
            if item.key in seen:
                raise FieldError(f"[{index}].key", f"duplicate key '{item.key}'")
            seen.add(item.key)
        return fields

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[TagDefinition]) -> list[TagDefinition]:
        # Case-insensitive: "Interested" and "interested" would be indistinguishable to an LLM.
        seen: set[str] = set()
        for index, tag in enumerate(tags):
            folded = tag.name.casefold()
            if folded in seen:
                raise FieldError(f"[{index}].name", f"duplicate tag name '{tag.name}'")
            seen.add(folded)
        return tags


# Field checks for use in field_validators of any resource (assistants, campaigns).


def check_language(value: str) -> str:
    match = _LANGUAGE.fullmatch(value)
    if match is None:
        raise ValueError(f"'{value}' is not a BCP-47 language tag like 'en-US' or 'es-419'")
    language, script, region = match.groups()
    tag = language.lower()
    if script:
        tag += "-" + script.title()
    if region:
        tag += "-" + region.upper()
    return tag


def check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON")
    return value


def check_template(value: str | None) -> str | None:
    """Well-formed braces and only known variables; TemplateError is a ValueError, so the
    error names the template field and its message names the variable."""
    if value is not None:
        templates.check(value)
    return value
