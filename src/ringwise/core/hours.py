"""Clock-time slots within a day ("09:00"-"17:00"), as used by business hours and call hours."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ringwise.errors import FieldError

# TCPA (47 CFR 64.1200(c)(1)): no telephone solicitation before 08:00 or after 21:00, callee-local.
# Business-hour slots are validated against this at input time; the compliance layer enforces it
# again (with stricter state rules) at dial time.
TCPA_EARLIEST = time(8, 0)
TCPA_LATEST = time(21, 0)


def parse_hhmm(value: str) -> time:
    """'09:30' -> time(9, 30); also accepts '24:00' as the end of the day."""
    text = value.strip()
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 \
            or len(hours) not in (1, 2):
        raise ValueError(f"'{value}' is not a time of day in HH:MM form")
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time.max
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"'{value}' is not a time of day in HH:MM form")
    return time(h, m)


def format_hhmm(value: time) -> str:
    return "24:00" if value == time.max else value.strftime("%H:%M")


class TimeSlot(BaseModel):
    """A daily slot in the callee's local time; end is exclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_time: str = Field(examples=["09:00"], description="HH:MM, inclusive")
    end_time: str = Field(examples=["17:00"], description="HH:MM, exclusive, after start_time")

    @field_validator("start_time", "end_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        return format_hhmm(parse_hhmm(value))

    @model_validator(mode="after")
    def _ordered(self) -> TimeSlot:
        if parse_hhmm(self.end_time) <= parse_hhmm(self.start_time):
            raise FieldError("end_time", "end_time must be after start_time")
        return self

    @property
    def start(self) -> time:
        return parse_hhmm(self.start_time)

    @property
    def end(self) -> time:
        return parse_hhmm(self.end_time)


def check_slots(slots: Sequence[TimeSlot], field: str, *, tcpa: bool = True) -> None:
    """Slots must not overlap and, for business hours, must lie inside 08:00-21:00."""
    for index, slot in enumerate(slots):
        if tcpa and (slot.start < TCPA_EARLIEST or slot.end > TCPA_LATEST):
            raise FieldError(
                f"{field}[{index}]",
                f"slot {slot.start_time}-{slot.end_time} is outside the TCPA-compliant hours "
                "08:00-21:00",
            )
    ordered = sorted(enumerate(slots), key=lambda pair: pair[1].start)
    for (_, first), (index, second) in itertools.pairwise(ordered):
        if second.start < first.end:
            raise FieldError(
                f"{field}[{index}]",
                f"slot {second.start_time}-{second.end_time} overlaps "
                f"{first.start_time}-{first.end_time}",
            )
