"""Shapes of a call's record: the stored transcript, the settings snapshot, event payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ringwise.core.costs import DEFAULT_COST_PER_MINUTE
from ringwise.db.models import Assistant, Campaign
from ringwise.telephony.port import Transcript, Turn

# Campaign columns that say how calls are placed and judged (not status or counters).
_CAMPAIGN_SETTINGS: Final = (
    "name", "assistant_id", "channel", "priority", "concurrency_limit", "never_ending",
    "telemarketing", "regulation_f", "opening_message", "campaign_context", "caller_id",
    "schedule", "retry", "voicemail", "speech_settings", "memory", "analysis")
_ASSISTANT_SETTINGS: Final = (
    "name", "kind", "system_prompt", "persona", "first_message", "returning_greeting",
    "voicemail_message", "campaign_context", "language", "voice", "speech_settings",
    "analysis")


def transcript_json(transcript: Transcript) -> list[dict[str, Any]]:
    """Turns as stored on the call: ``role`` (assistant | user), text, offsets in seconds
    from the answer."""
    return [{"role": "assistant" if t.speaker == "assistant" else "user", "text": t.text,
             "start_s": round(t.start_s, 3), "end_s": round(t.end_s, 3)}
            for t in transcript.turns]


def turns_of(stored: list[dict[str, Any]] | None) -> tuple[Turn, ...]:
    """The stored transcript back as turns (for the analyzer)."""
    return tuple(Turn("assistant" if t.get("role") == "assistant" else "callee",
                      str(t.get("text") or ""), float(t.get("start_s") or 0.0),
                      float(t.get("end_s") or 0.0))
                 for t in stored or ())


def settings_snapshot(campaign: Campaign) -> dict[str, Any]:
    snapshot = {name: getattr(campaign, name, None) for name in _CAMPAIGN_SETTINGS}
    snapshot["version"] = iso(campaign.updated_at)
    return snapshot


def assistant_snapshot(assistant: Assistant) -> dict[str, Any]:
    snapshot = {name: getattr(assistant, name) for name in _ASSISTANT_SETTINGS}
    snapshot["id"] = assistant.id
    snapshot["version"] = iso(assistant.updated_at)
    return snapshot


def cost_per_minute(results: dict[str, Any] | None) -> float:
    """The workspace's price per started minute of answered time (its results settings)."""
    value = (results or {}).get("cost_per_minute")
    return DEFAULT_COST_PER_MINUTE if value is None else float(value)


def iso(at: datetime | None) -> str | None:
    """An instant as the API writes it (UTC, ``Z``)."""
    return None if at is None else at.isoformat().replace("+00:00", "Z")
