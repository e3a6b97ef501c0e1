"""Scheduled e-mail reports of a campaign's calls, and their delivery log.

A report is created with a ``ReportSchedule`` body (the same shape as a campaign's
``report_schedule``); ``ReportUpdate`` changes some of its fields; ``ReportOut`` flattens the
schedule next to the report's own fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from ringwise.api.schemas.campaigns import (
    MAX_RECIPIENTS,
    ReportFrequency,
    ReportRange,
)
from ringwise.api.schemas.common import Out, Strict

_REPORT_ID = "5d9a1c3e-7b2f-4e6a-9c8d-1e2f3a4b5c6d"
_CAMPAIGN_ID = "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"
_DELIVERY_ID = "8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2910"
_FILTERS_DOC = ("Which calls: status, outcome, analysis_status, contact_id (as in "
                "GET /v1/calls); the period comes from date_range")

ReportSource = Literal["campaign", "api"]
DeliveryStatus = Literal["sent", "failed"]
DeliveryTrigger = Literal["schedule", "send_now"]


class ReportUpdate(Strict):
    """Only the fields sent change; the result is checked as a whole schedule. ``weekday``
    and ``day_of_month`` may be null (cleared); changing ``frequency`` drops the one of them
    the new frequency does not use, unless it is sent too. ``next_send_at`` is computed again
    when the timing or ``enabled`` changes. A report created from the campaign's
    ``report_schedule`` (source ``campaign``) follows the campaign: only ``enabled`` may be
    changed here."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"time": "08:00", "recipients": ["reports@firm.com", "ops@firm.com"]},
        {"frequency": "monthly", "day_of_month": 1, "date_range": "previous_month"},
        {"enabled": False},
    ]})

    name: str | None = Field(default=None, min_length=1, max_length=255,
                             examples=["Weekly Campaign Report"])
    run_client_ids: list[str] | None = Field(default=None, examples=[["run-1"]])
    frequency: ReportFrequency | None = Field(default=None, examples=["weekly"])
    weekday: int | None = Field(default=None, ge=0, le=6, examples=[2],
                                description="Weekly only: 0 Sunday, 1 Monday ... 6 Saturday")
    day_of_month: int | None = Field(default=None, ge=1, le=31, examples=[1])
    time: str | None = Field(default=None, examples=["09:30"],
                             description="HH:MM in the report's timezone")
    recipients: list[str] | None = Field(default=None, min_length=1,
                                         max_length=MAX_RECIPIENTS,
                                         examples=[["reports@firm.com"]])
    format: Literal["csv"] | None = Field(default=None, examples=["csv"])
    date_range: ReportRange | None = Field(default=None, examples=["previous_week"])
    filters: dict[str, Any] | None = Field(default=None, examples=[{"outcome": "answered"}],
                                           description=_FILTERS_DOC)
    enabled: bool | None = Field(default=None, examples=[True],
                                 description="false: not sent until enabled again")


_REPORT_EXAMPLE: dict[str, Any] = {
    "id": _REPORT_ID, "campaign_id": _CAMPAIGN_ID, "name": "Weekly Campaign Report",
    "run_client_ids": ["run-1"], "frequency": "weekly", "weekday": 2, "day_of_month": None,
    "time": "09:30", "recipients": ["reports@firm.com"], "format": "csv",
    "date_range": "cumulative", "filters": {}, "enabled": True, "source": "api",
    "next_send_at": "2026-03-03T14:30:00Z", "timezone": "America/New_York",
    "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
}


class ReportOut(Out):
    model_config = ConfigDict(from_attributes=True,
                              json_schema_extra={"examples": [_REPORT_EXAMPLE]})

    id: str
    campaign_id: str
    name: str
    run_client_ids: list[str]
    frequency: ReportFrequency
    weekday: int | None = None
    day_of_month: int | None = None
    time: str = Field(description="HH:MM in `timezone`")
    recipients: list[str]
    format: Literal["csv"]
    date_range: ReportRange
    filters: dict[str, Any] = Field(description=_FILTERS_DOC)
    enabled: bool
    source: ReportSource = Field(description="campaign: from the campaign's report_schedule "
                                             "(follows it); api: created here")
    next_send_at: datetime | None = Field(
        description="When it is next sent (null: disabled); while a send is under way, "
                    "the end of its lease")
    timezone: str = Field(description="The zone of `time` and of the periods: the campaign "
                                      "schedule's, else the workspace's")
    created_at: datetime
    updated_at: datetime


class ReportDeliveryOut(Out):
    """One sending (or one try of it)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": _DELIVERY_ID, "report_id": _REPORT_ID, "trigger": "schedule",
        "scheduled_for": "2026-03-03T14:30:00Z", "range_start": "2026-03-02T15:00:00Z",
        "range_end": "2026-03-03T14:30:00Z", "status": "sent", "rows": 57,
        "recipients": ["reports@firm.com"], "error": None,
        "created_at": "2026-03-03T14:30:01Z",
    }]})

    id: str
    report_id: str
    trigger: DeliveryTrigger = Field(description="schedule | send_now")
    scheduled_for: datetime | None = Field(
        default=None, description="The send instant of the period (null for send_now)")
    range_start: datetime | None = Field(
        default=None, description="First instant of the calls covered (inclusive; null: "
                                  "from the first call)")
    range_end: datetime = Field(description="End of the calls covered (exclusive)")
    status: DeliveryStatus = Field(description="sent | failed")
    rows: int = Field(description="Calls in the attached CSV")
    recipients: list[str] = Field(description="Who accepted it (sent), or who it was for "
                                              "(failed)")
    error: str | None = Field(
        default=None, description="Why it failed, and whether it is tried again; or the "
                                  "recipients the server refused")
    created_at: datetime

