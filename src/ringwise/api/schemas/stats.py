"""Campaign statistics: results of ended and analyzed calls, live counters, breakdowns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringwise.db.models import CampaignCounters
from ringwise.results.stats import Totals


class StatsSummary(BaseModel):
    """Results of the campaign's ended calls (all runs), cheap enough for every list row."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "total_calls": 132, "connected_calls": 85, "success_calls": 36,
        "success_calls_percentage": 42.4, "failed_calls": 35, "voicemail_calls": 12,
        "average_sentiment_score": 0.41, "conversion_rate": 30.0,
        "average_duration_seconds": 94.2}]})

    total_calls: int = Field(description="Ended calls")
    connected_calls: int = Field(description="Answered by a person")
    success_calls: int = Field(description="Analyzed as successful (the conversion flag)")
    success_calls_percentage: float | None = Field(
        description="success_calls / connected_calls x 100; null before any connection")
    failed_calls: int = Field(description="Reached no one: no answer, busy, failed, canceled")
    voicemail_calls: int
    average_sentiment_score: float | None = Field(description="-1..1, analyzed calls")
    conversion_rate: float | None = Field(
        description="success_calls / contacts x 100; null for a campaign without contacts")
    average_duration_seconds: float | None = Field(
        description="Answered time per answered or voicemail call")


class OutcomeCounts(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"answered": 85, "voicemail": 12, "no_answer": 25, "busy": 6, "failed": 4,
         "other": 0}]})

    answered: int
    voicemail: int
    no_answer: int
    busy: int
    failed: int
    other: int = Field(description="Canceled or expired")


class CallCounters(BaseModel):
    """Vapi-style live counters."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"scheduled": 3, "queued": 0, "in_progress": 2, "ended": 132,
         "ended_voicemail": 12}]})

    scheduled: int = Field(description="Contacts waiting for their next attempt")
    queued: int
    in_progress: int
    ended: int
    ended_voicemail: int


class TagCount(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"tag": "Interested", "calls": 30, "percentage": 35.3}]})

    tag: str
    calls: int
    percentage: float = Field(description="Of analyzed calls")


class HourStats(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"hour": 10, "calls": 20, "answered": 13, "voicemail": 2,
         "answer_rate": 65.0, "success": 6}]})

    hour: int = Field(ge=0, le=23, description="Hour of the day in the stats time zone")
    calls: int
    answered: int
    voicemail: int
    answer_rate: float | None = Field(description="answered / calls x 100")
    success: int


class CampaignStats(StatsSummary):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "campaign_id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8", "run": None,
        "range_start": None, "range_end": None, "timezone": "America/New_York",
        "total_calls": 132, "connected_calls": 85, "success_calls": 36,
        "success_calls_percentage": 42.4, "failed_calls": 35, "voicemail_calls": 12,
        "average_sentiment_score": 0.41, "conversion_rate": 30.0,
        "average_duration_seconds": 94.2, "average_score": 61.5, "analyzed_calls": 85,
        "opted_out": 2, "talk_seconds": 9138.0, "cost": 8.25, "contacts": 120,
        "attempts_per_contact": 1.1,
        "outcomes": {"answered": 85, "voicemail": 12, "no_answer": 25, "busy": 6,
                     "failed": 4, "other": 0},
        "counters": {"scheduled": 3, "queued": 0, "in_progress": 2, "ended": 132,
                     "ended_voicemail": 12},
        "by_tag": [{"tag": "Interested", "calls": 30, "percentage": 35.3}],
        "by_hour": [{"hour": 10, "calls": 20, "answered": 13, "voicemail": 2,
                     "answer_rate": 65.0, "success": 6}],
    }]})

    campaign_id: str
    run: str | None = Field(description="The run's client_run_id when asked for one run")
    range_start: datetime | None = Field(description="Calls started from (runs only)")
    range_end: datetime | None = Field(description="... until (exclusive)")
    timezone: str = Field(description="Zone of by_hour and of run dates")
    average_score: float | None = Field(description="0-100, analyzed calls")
    analyzed_calls: int
    opted_out: int = Field(description="Calls whose analysis heard an opt-out")
    talk_seconds: float
    cost: float = Field(description="Estimated, in the workspace's currency")
    contacts: int
    attempts_per_contact: float | None = Field(description="Calls placed per contact")
    outcomes: OutcomeCounts
    counters: CallCounters
    by_tag: list[TagCount]
    by_hour: list[HourStats]


def summary_of(totals: Totals, contacts: int) -> dict[str, Any]:
    return {
        "total_calls": totals.calls, "connected_calls": totals.answered,
        "success_calls": totals.success,
        "success_calls_percentage": totals.rate(totals.success, totals.answered),
        "failed_calls": totals.not_connected, "voicemail_calls": totals.voicemail,
        "average_sentiment_score": totals.average_sentiment,
        "conversion_rate": totals.rate(totals.success, contacts),
        "average_duration_seconds": totals.average_duration,
    }


def counters_of(counters: CampaignCounters | None) -> CallCounters:
    if counters is None:
        return CallCounters(scheduled=0, queued=0, in_progress=0, ended=0, ended_voicemail=0)
    return CallCounters(scheduled=counters.contacts_pending, queued=counters.calls_queued,
                        in_progress=counters.calls_in_progress, ended=counters.calls_ended,
                        ended_voicemail=counters.calls_voicemail)
