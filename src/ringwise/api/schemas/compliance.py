"""The compliance log: one record per dial-time decision (dialed, blocked, deferred)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Decision = Literal["dialed", "blocked", "deferred"]

_CALL_ID = "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"
_RULE_EXAMPLE: dict[str, Any] = {
    "key": "us-fl",
    "title": "Florida Telephone Solicitation Act: 08:00-20:00, at most 3 calls per 24 h",
    "source": "Fla. Stat. 501.616(6)(a)-(b)",
}
_RECORD_EXAMPLE: dict[str, Any] = {
    "id": "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a",
    "campaign_id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8",
    "campaign_contact_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
    "call_id": _CALL_ID,
    "phone": "+13055550100",
    "at": "2026-03-02T15:00:00Z",
    "decision": "dialed",
    "reason": None,
    "rules": ["us-federal", "us-fl"],
    "rule_details": [
        {"key": "us-federal", "title": "TCPA: 08:00-21:00 every day",
         "source": "47 CFR 64.1200(c)(1)"},
        _RULE_EXAMPLE,
    ],
    "cap": None,
    "local_times": {"America/New_York": "2026-03-02T10:00:00-05:00"},
}
_REASONS = ("Why the call was not placed: dnc-listed (on the do-not-call list or the "
            "campaign's suppression list), no-consent (telemarketing campaign, no recorded "
            "consent), registry-scrub-stale, unknown-timezone, no-caller-number; for a "
            "deferral, cap:KEY (the frequency cap that was full, see `cap`). null when dialed")


class AppliedRule(BaseModel):
    """A rule key with its title and legal source, as this version of Ringwise knows them."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RULE_EXAMPLE]})

    key: str = Field(examples=["us-fl"])
    title: str | None = Field(
        default=None, examples=[_RULE_EXAMPLE["title"]],
        description="null when the key is not one this version knows (renamed or removed)")
    source: str | None = Field(
        default=None, examples=[_RULE_EXAMPLE["source"]],
        description="The legal citation, or 'workspace setting' for the workspace's own "
                    "floors and caps; null when unknown")


class ComplianceRecordOut(BaseModel):
    """One dial-time decision of the dialer and what it was based on."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RECORD_EXAMPLE]})

    id: str = Field(examples=[_RECORD_EXAMPLE["id"]])
    campaign_id: str = Field(examples=[_RECORD_EXAMPLE["campaign_id"]])
    campaign_contact_id: str | None = Field(
        default=None, examples=[_RECORD_EXAMPLE["campaign_contact_id"]],
        description="The contact's membership in the campaign")
    call_id: str | None = Field(default=None, examples=[_CALL_ID],
                                description="The call placed; null when blocked or deferred")
    phone: str = Field(examples=["+13055550100"], description="The number called (E.164)")
    at: datetime = Field(examples=["2026-03-02T15:00:00Z"],
                         description="When the dialer decided (UTC)")
    decision: Decision = Field(
        examples=["dialed"],
        description="dialed (a call was placed) | blocked (the contact is closed, never "
                    "called by this campaign again) | deferred (a frequency cap moved the "
                    "call later; it is not dropped)")
    reason: str | None = Field(default=None, examples=["dnc-listed"], description=_REASONS)
    rules: list[str] = Field(
        examples=[["us-federal", "us-fl"]],
        description="Keys of the calling-hour rules that applied to this contact (its "
                    "number's and its address's jurisdictions, and the workspace's floors); "
                    "empty when the contact was blocked before they were worked out")
    rule_details: list[AppliedRule] = Field(
        examples=[_RECORD_EXAMPLE["rule_details"]],
        description="The same rules, in the same order, with their titles and sources")
    cap: AppliedRule | None = Field(
        default=None, examples=[{"key": "us-fl-3-per-24h",
                                 "title": "FL: at most 3 calls per 24 h",
                                 "source": "Fla. Stat. 501.616(6)(b)"}],
        description="For a cap:KEY reason: that frequency cap with its title and source")
    local_times: dict[str, str] = Field(
        examples=[{"America/New_York": "2026-03-02T10:00:00-05:00"}],
        description="The callee's local time at `at` in each of its candidate time zones "
                    "(all of them had to be inside the allowed hours to dial)")


class CallAudit(BaseModel):
    """The compliance records of one call: normally the one `dialed` decision that placed
    it; empty for calls placed before the compliance log existed."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"call_id": _CALL_ID, "data": [_RECORD_EXAMPLE]}]})

    call_id: str = Field(examples=[_CALL_ID])
    data: list[ComplianceRecordOut] = Field(examples=[[_RECORD_EXAMPLE]])
