"""Workspace defaults, and the workspace's compliance settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ringwise.api.schemas.campaigns import WEEKDAYS, Weekday
from ringwise.api.schemas.common import Out, Strict
from ringwise.api.schemas.compat_settings import CompatDefaults, CompatDefaultsUpdate
from ringwise.api.schemas.results_settings import (
    EmailSettingsOut,
    EmailSettingsUpdate,
    ResultsSettingsOut,
    ResultsSettingsUpdate,
)
from ringwise.core.hours import TimeSlot, check_slots
from ringwise.core.timezones import check_timezone
from ringwise.dialer.store import HISTORY_SPAN
from ringwise.errors import FieldError

MAX_FLOOR_SLOTS = 24
MAX_CAPS = 10
# The dialer reads this much of a number's call history at each claim (dialer.store).
MAX_CAP_HOURS = int(HISTORY_SPAN.total_seconds()) // 3600
_DAY_NAMES = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
              "friday": "fri", "saturday": "sat", "sunday": "sun"}


class CallingFloor(Strict):
    """Callee-local calling slots on the listed weekdays: the hours outside which no call is
    placed, whatever a campaign's schedule says."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
        "slots": [{"start_time": "09:00", "end_time": "20:00"}],
    }]})

    days: list[Weekday] = Field(
        min_length=1, max_length=7, examples=[["mon", "tue", "wed", "thu", "fri", "sat"]],
        description="Weekdays calls may be placed on (mon..sun), callee-local")
    slots: list[TimeSlot] = Field(
        min_length=1, max_length=MAX_FLOOR_SLOTS,
        examples=[[{"start_time": "09:00", "end_time": "20:00"}]],
        description="Daily slots, callee-local, not overlapping")

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        days: list[str] = []
        for index, item in enumerate(value):
            key = item.strip().lower() if isinstance(item, str) else item
            key = _DAY_NAMES.get(key, key) if isinstance(key, str) else key
            if key not in WEEKDAYS:
                raise FieldError(f"[{index}]", f"{item!r} is not a day of the week (mon, tue, "
                                               "wed, thu, fri, sat, sun)")
            if key in days:
                raise FieldError(f"[{index}]", f"'{key}' is listed twice")
            days.append(key)
        return [d for d in WEEKDAYS if d in days]  # canonical order

    @model_validator(mode="after")
    def _slots(self) -> CallingFloor:
        check_slots(self.slots, "slots", tcpa=False)
        return self


class FrequencyCapSetting(Strict):
    """At most ``max_calls`` call attempts to one number in any rolling ``per_hours``, across
    every campaign of the workspace."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"max_calls": 3,
                                                               "per_hours": 24}]})

    max_calls: int = Field(ge=1, le=1_000, examples=[3])
    per_hours: int = Field(ge=1, le=MAX_CAP_HOURS, examples=[24],
                           description=f"Window length in hours, 1-{MAX_CAP_HOURS}")


def _unique_windows(caps: list[FrequencyCapSetting]) -> list[FrequencyCapSetting]:
    seen: dict[int, int] = {}
    for index, cap in enumerate(caps):
        if cap.per_hours in seen:
            raise FieldError(f"[{index}].per_hours",
                             f"frequency_caps[{seen[cap.per_hours]}] already caps "
                             f"{cap.per_hours} hours; keep the stricter one")
        seen[cap.per_hours] = index
    return caps


_COMPLIANCE_EXAMPLE: dict[str, Any] = {
    "default_floor": {"days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                      "slots": [{"start_time": "09:00", "end_time": "20:00"}]},
    "stricter_floor": {"days": ["mon", "tue", "wed", "thu", "fri"],
                       "slots": [{"start_time": "10:00", "end_time": "19:00"}]},
    "frequency_caps": [{"max_calls": 3, "per_hours": 24}],
    "require_registry_scrub": True,
}
_DEFAULT_FLOOR_DOC = ("Calling hours in countries without built-in rules (the built-in legal "
                      "floors, like the US federal and state ones, always apply where they "
                      "exist)")
_STRICTER_DOC = "A narrower floor applied to every call, on top of the legal ones"
_CAPS_DOC = "Extra frequency caps, on top of the legal ones"
_SCRUB_DOC = ("Block calls to contacts whose registry_scrubbed_at is missing or more than 31 "
              "days old")


class ComplianceSettings(BaseModel):
    """The workspace's compliance settings, with defaults filled in."""

    model_config = ConfigDict(json_schema_extra={"examples": [_COMPLIANCE_EXAMPLE]})

    default_floor: CallingFloor = Field(description=_DEFAULT_FLOOR_DOC + "; default Mon-Sat "
                                                    "09:00-20:00")
    stricter_floor: CallingFloor | None = Field(default=None, description=_STRICTER_DOC)
    frequency_caps: list[FrequencyCapSetting] = Field(default_factory=list,
                                                      examples=[[{"max_calls": 3,
                                                                  "per_hours": 24}]],
                                                      description=_CAPS_DOC)
    require_registry_scrub: bool = Field(default=False, examples=[True],
                                         description=_SCRUB_DOC)


class ComplianceSettingsUpdate(Strict):
    """Only the keys sent change. ``default_floor: null`` goes back to the default (Mon-Sat
    09:00-20:00), ``stricter_floor: null`` removes it, ``frequency_caps`` is replaced whole."""

    model_config = ConfigDict(json_schema_extra={"examples": [_COMPLIANCE_EXAMPLE]})

    default_floor: CallingFloor | None = Field(default=None, description=_DEFAULT_FLOOR_DOC)
    stricter_floor: CallingFloor | None = Field(default=None, description=_STRICTER_DOC)
    frequency_caps: list[FrequencyCapSetting] | None = Field(
        default=None, max_length=MAX_CAPS, examples=[[{"max_calls": 3, "per_hours": 24}]],
        description=_CAPS_DOC + f"; at most {MAX_CAPS}, one per window length")
    require_registry_scrub: bool | None = Field(default=None, examples=[True],
                                                description=_SCRUB_DOC)

    @field_validator("frequency_caps")
    @classmethod
    def _caps(cls, value: list[FrequencyCapSetting] | None) -> list[FrequencyCapSetting] | None:
        return None if value is None else _unique_windows(value)


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
    compliance: ComplianceSettings = Field(description="Compliance settings, defaults filled "
                                                       "in")
    results: ResultsSettingsOut = Field(description="Analyzer and call pricing")
    email: EmailSettingsOut | None = Field(default=None,
                                           description="SMTP server of scheduled reports")
    compat: CompatDefaults = Field(default_factory=CompatDefaults,
                                   description="Defaults of the /compat endpoints")


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
    compliance: ComplianceSettingsUpdate | None = Field(
        default=None, description="Keys sent change, the others keep their value; null "
                                  "resets every compliance setting to its default")
    results: ResultsSettingsUpdate | None = Field(
        default=None, description="Replaces the results settings; null restores the "
                                  "defaults (offline analyzer)")
    email: EmailSettingsUpdate | None = Field(
        default=None, description="Replaces the SMTP settings; null removes them")
    compat: CompatDefaultsUpdate | None = Field(
        default=None, description="Replaces the /compat defaults; null removes them")

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
