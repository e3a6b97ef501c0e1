"""When scheduled e-mail reports are sent, and which calls each one covers.

Pure: no I/O, no wall clock; callers pass aware instants and get aware UTC instants back.

A report's send time is a wall-clock time ("09:30") on a local date in the workspace's IANA
zone. A wall time maps to the first instant at which the local clock reads it or later, the
same rule :mod:`ringwise.core.windows` uses for calling windows:

* a time that exists once maps to that instant;
* an ambiguous time (fall-back, the clock repeats an hour) maps to its first occurrence
  (``fold=0``), so the report is sent once;
* a time that does not exist (spring-forward gap, 02:30 on 2026-03-08 in New York) maps to the
  first instant after the gap (03:00 EDT). In the rare zone that skipped a whole date
  (Pacific/Apia, 2011-12-30) that is the start of the next date.

Weekdays follow the API: 0 Sunday, 1 Monday ... 6 Saturday. A monthly ``day_of_month`` past
the month's end means the month's last day (31 -> 30 April, 29/30/31 -> 28 or 29 February).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

from ringwise.core.hours import parse_hhmm
from ringwise.core.timezones import check_timezone, zone

Frequency = Literal["daily", "weekly", "monthly"]
DateRange = Literal["cumulative", "today_so_far", "previous_day", "previous_week",
                    "previous_month"]
FREQUENCIES: Final[tuple[str, ...]] = get_args(Frequency)
DATE_RANGES: Final[tuple[str, ...]] = get_args(DateRange)

_ONE_DAY: Final = timedelta(days=1)


@dataclass(frozen=True)
class ReportTiming:
    """When a campaign's report is sent: the schedule part of ``ReportSchedule``."""

    frequency: Frequency
    time: time
    weekday: int | None
    day_of_month: int | None
    timezone: str

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"'{self.frequency}' is not a report frequency "
                             "(daily, weekly, monthly)")
        if not isinstance(self.time, time) or self.time.tzinfo is not None:
            raise ValueError("time must be a local time of day without a time zone")
        # Also refuses time.max, which parse_hhmm returns for "24:00" (an end of day).
        if self.time.second or self.time.microsecond:
            raise ValueError("time must be a whole minute (HH:MM)")
        _check_int("weekday", self.weekday, 0, 6)
        _check_int("day_of_month", self.day_of_month, 1, 31)
        if self.frequency == "weekly" and self.weekday is None:
            raise ValueError("a weekly report needs weekday (0 Sunday ... 6 Saturday)")
        if self.frequency != "weekly" and self.weekday is not None:
            raise ValueError("weekday is only used by weekly reports")
        if self.frequency == "monthly" and self.day_of_month is None:
            raise ValueError("a monthly report needs day_of_month (1-31)")
        if self.frequency != "monthly" and self.day_of_month is not None:
            raise ValueError("day_of_month is only used by monthly reports")
        check_timezone(self.timezone)

    @classmethod
    def from_schedule(cls, schedule: Mapping[str, Any], timezone: str) -> ReportTiming:
        """From the stored JSON of a ``ReportSchedule`` (its ``model_dump``) and the zone."""
        frequency = schedule.get("frequency")
        raw_time = schedule.get("time")
        if not isinstance(frequency, str):
            raise ValueError("the report schedule has no frequency")
        if not isinstance(raw_time, str):
            raise ValueError("the report schedule has no time (HH:MM)")
        at = parse_hhmm(raw_time)
        if at == time.max:
            raise ValueError("24:00 is not a send time; use 00:00 of the next day")
        return cls(
            frequency=frequency,  # type: ignore[arg-type]  # checked in __post_init__
            time=at,
            weekday=schedule.get("weekday"),
            day_of_month=schedule.get("day_of_month"),
            timezone=timezone,
        )

    def sends_on(self, day: date) -> bool:
        """Whether a report is due on local date ``day`` (month-end clamping included)."""
        if self.frequency == "daily":
            return True
        if self.frequency == "weekly":
            return day.isoweekday() % 7 == self.weekday  # isoweekday: Sunday 7 -> 0
        assert self.day_of_month is not None
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(self.day_of_month, last)


def _check_int(name: str, value: int | None, low: int, high: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def local_instant(tz: ZoneInfo, wall: datetime) -> datetime:
    """The first UTC instant at which the clock in ``tz`` reads naive ``wall`` or later."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first  # exists; fold=0 is the earlier of two occurrences
    # In a gap. fold=0 read it with the offset before the change (landing after the gap),
    # fold=1 with the offset after it (landing before); the change lies in between.
    # Offsets and transitions are whole seconds, so bisecting over seconds is exact.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # local clock < wall here
    high = first  # local clock > wall here
    while high - low > timedelta(seconds=1):
        mid = low + timedelta(seconds=(high - low).total_seconds() // 2)
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return high


def next_send_at(timing: ReportTiming, after: datetime) -> datetime:
    """The first send instant strictly after ``after`` (aware), as aware UTC."""
    after = _utc(after, "after")
    tz = zone(timing.timezone)
    # No earlier date can qualify: `after` already reads a later wall time than any of them,
    # and each maps to the *first* instant reading its time or later, so to `after` or before.
    day = after.astimezone(tz).date()
    while True:
        if timing.sends_on(day):
            instant = local_instant(tz, datetime.combine(day, timing.time))
            if instant > after:
                return instant
        day += _ONE_DAY


def _midnight(tz: ZoneInfo, day: date) -> datetime:
    return local_instant(tz, datetime.combine(day, time()))


def report_range(date_range: str, timezone: str, at: datetime,
                 campaign_start: datetime | None = None) -> tuple[datetime | None, datetime]:
    """The UTC half-open interval ``[start, end)`` of calls a report sent at ``at`` covers.

    ``start`` is None only for a cumulative report without ``campaign_start`` (all calls).
    Local midnights are zone-aware, so a DST day is 23 or 25 hours long.
    """
    at = _utc(at, "at")
    tz = zone(check_timezone(timezone))
    today = at.astimezone(tz).date()
    if date_range == "cumulative":
        return (None if campaign_start is None else _utc(campaign_start, "campaign_start"), at)
    if date_range == "today_so_far":
        return _midnight(tz, today), at
    if date_range == "previous_day":
        return _midnight(tz, today - _ONE_DAY), _midnight(tz, today)
    if date_range == "previous_week":
        monday = today - timedelta(days=today.weekday())  # ISO weeks start on Monday
        return _midnight(tz, monday - timedelta(days=7)), _midnight(tz, monday)
    if date_range == "previous_month":
        first = today.replace(day=1)
        previous = (first - _ONE_DAY).replace(day=1)
        return _midnight(tz, previous), _midnight(tz, first)
    raise ValueError(f"'{date_range}' is not a report date range ({', '.join(DATE_RANGES)})")


def report_period_label(start: datetime | None, end: datetime, timezone: str) -> str:
    """A human label for ``[start, end)`` in local dates: "2026-03-01 to 2026-03-07".

    An ``end`` at a local midnight is exclusive, so the label ends the day before; a single
    day is one date; an open start reads "through 2026-03-07".
    """
    tz = zone(check_timezone(timezone))
    end = _utc(end, "end")
    last = end.astimezone(tz).date()
    if end == _midnight(tz, last) and (start is None or _utc(start, "start") < end):
        last -= _ONE_DAY
    if start is None:
        return f"through {last.isoformat()}"
    first = _utc(start, "start").astimezone(tz).date()
    if first >= last:
        return first.isoformat()
    return f"{first.isoformat()} to {last.isoformat()}"
