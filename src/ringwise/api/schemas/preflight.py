"""A campaign's preflight: before (or while) it dials, who will be skipped and why."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from ringwise.core.campaign_lifecycle import CampaignStatus

_SKIPPED_EXAMPLE: JsonDict = {"invalid": 0, "duplicate": 0, "dnc": 3, "no_consent": 0,
                              "registry_scrub_stale": 0, "unknown_timezone": 0,
                              "no_window_before_end": 12}


class PreflightSkipped(BaseModel):
    """Contacts the dialer will not call, by reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SKIPPED_EXAMPLE]})

    invalid: int = Field(examples=[0], description="Rejected on input (a phone that does not "
                                                   "parse). Always 0 here: stored contacts "
                                                   "were validated when written")
    duplicate: int = Field(examples=[0], description="A phone already in the campaign. Always "
                                                     "0 here: a campaign holds a contact once")
    dnc: int = Field(examples=[3], description="On the workspace's do-not-call list or the "
                                               "campaign's suppression list (checked again "
                                               "at dial time)")
    no_consent: int = Field(examples=[0], description="Telemarketing campaign, and the contact "
                                                      "has no recorded consent_basis")
    registry_scrub_stale: int = Field(
        examples=[0], description="The workspace requires a national-registry scrub at most "
                                  "31 days old; the contact's registry_scrubbed_at is older or "
                                  "missing")
    unknown_timezone: int = Field(examples=[0],
                                  description="No time zone from the contact or its number: "
                                              "never called on a guess (blocked)")
    no_window_before_end: int = Field(
        examples=[12], description="No calling window opens in the contact's zone(s) before "
                                   "the schedule's end_at: expired without a call")


class NotReady(BaseModel):
    """Why the campaign cannot start (or resume) now."""

    field: str | None = Field(default=None, examples=["caller_id.phone_number_ids"])
    message: str = Field(examples=["cannot start: caller_id.phone_number_ids needs the "
                                   "number to call from"])


class CampaignPreflight(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "campaign_id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8", "status": "draft",
        "at": "2026-03-02T15:00:00Z", "contacts_total": 1200, "contacts": 1200,
        "callable": 1188, "skipped": _SKIPPED_EXAMPLE, "skipped_total": 12,
        "first_eligible_at": "2026-03-02T15:00:00Z", "ready": True, "not_ready": None,
    }]})

    campaign_id: str = Field(examples=["3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"])
    status: CampaignStatus = Field(description="The campaign's status now")
    at: datetime = Field(examples=["2026-03-02T15:00:00Z"],
                         description="The instant evaluated (now): windows are searched "
                                     "from here on")
    contacts_total: int = Field(examples=[1200], description="Contacts in the campaign")
    contacts: int = Field(examples=[1200],
                          description="Contacts evaluated: those still pending (not on a "
                                      "call, not finished). contacts = callable + "
                                      "skipped_total")
    callable: int = Field(examples=[1188], description="Pending contacts that have a calling "
                                                       "window ahead")
    skipped: PreflightSkipped
    skipped_total: int = Field(examples=[12])
    first_eligible_at: datetime | None = Field(
        default=None, examples=["2026-03-02T15:00:00Z"],
        description="The earliest instant a pending contact may be called (before any "
                    "launch stagger); null when none can")
    ready: bool = Field(examples=[True], description="Whether start (draft) or resume "
                                                     "(paused) would be accepted now; true "
                                                     "while scheduled or running")
    not_ready: NotReady | None = Field(default=None, description="Why not, when not ready")
