"""Workspace defaults."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ringwise.api.schemas.common import Out, Strict
from ringwise.core.hours import TimeSlot, check_slots
from ringwise.core.timezones import check_timezone


class WorkspaceSettings(Out):
    workspace_id: str = Field(alias="id", examples=["4f1c2b1e-3c1d-4e7f-9a55-0d2f7c1a9b10"])
    name: str = Field(examples=["Acme Outbound"])
    timezone: str = Field(examples=["America/New_York"],
                          description="IANA zone for schedules and reports")
    default_region: str = Field(examples=["US"],
                                description="Region for phone numbers written without +country")
    business_hours: list[TimeSlot] | None = Field(
        default=None, description="Default calling slots, callee-local, inside 08:00-21:00",
        examples=[[{"start_time": "09:00", "end_time": "12:00"},
                   {"start_time": "13:00", "end_time": "17:00"}]],
    )
    concurrency_limit: int = Field(examples=[10], description="Calls in flight, all campaigns")
    concurrency_rate: int = Field(examples=[70],
                                  description="Percent of concurrency_limit campaigns may use")
    campaigns_enabled: bool = Field(examples=[True])


class WorkspaceSettingsUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=255,
                             examples=["Acme Outbound"])
    timezone: str | None = Field(default=None, examples=["America/Chicago"])
    default_region: str | None = Field(default=None, min_length=2, max_length=2, examples=["US"])
    business_hours: list[TimeSlot] | None = Field(
        default=None, examples=[[{"start_time": "09:00", "end_time": "17:00"}]]
    )
    concurrency_limit: int | None = Field(default=None, ge=1, le=10_000, examples=[20])
    concurrency_rate: int | None = Field(default=None, ge=1, le=100, examples=[70])
    campaigns_enabled: bool | None = Field(default=None, examples=[True])

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else value.upper()

    @model_validator(mode="after")
    def _slots(self) -> WorkspaceSettingsUpdate:
        if self.business_hours is not None:
            check_slots(self.business_hours, "business_hours")
        return self
