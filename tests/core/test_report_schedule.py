"""Report send times and covered ranges: hand-written cases and properties.

The properties check against a reference that is deliberately independent of
ringwise.core.report_schedule: it decides which local dates are due with its own date
arithmetic and finds "the first instant at which the wall clock reads T or later" by scanning
UTC minutes, not by zoneinfo folds or bisection.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.api.schemas.campaigns import ReportSchedule
from ringwise.core.report_schedule import (
    Frequency,
    ReportTiming,
    next_send_at,
    report_period_label,
    report_range,
)

NY = "America/New_York"
PARIS = "Europe/Paris"
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
FREQUENCIES: list[Frequency] = ["daily", "weekly", "monthly"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def daily(at: str, zone: str = "UTC") -> ReportTiming:
    return ReportTiming("daily", _hm(at), None, None, zone)


def weekly(weekday: int, at: str, zone: str = "UTC") -> ReportTiming:
    return ReportTiming("weekly", _hm(at), weekday, None, zone)


def monthly(day: int, at: str, zone: str = "UTC") -> ReportTiming:
    return ReportTiming("monthly", _hm(at), None, day, zone)


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


# -- independent reference ---------------------------------------------------------------------


def ref_due(timing: ReportTiming, day: date) -> bool:
    if timing.frequency == "daily":
        return True
    if timing.frequency == "weekly":
        sunday_based = (day.weekday() + 1) % 7  # date.weekday(): Monday 0 ... Sunday 6
        return sunday_based == timing.weekday
    assert timing.day_of_month is not None
    next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    last_day = (next_month - DAY).day
    return day.day == min(timing.day_of_month, last_day)


def ref_first_reach(zone: str, wall: datetime) -> datetime:
    """First UTC minute at which the wall clock in ``zone`` reads ``wall`` or later (scan)."""
    tz = ZoneInfo(zone)
    instant = wall.replace(tzinfo=UTC) - timedelta(hours=15)  # before any offset could place it
    while instant.astimezone(tz).replace(tzinfo=None) < wall:
        instant += MINUTE
    return instant


def ref_next(timing: ReportTiming, after: datetime, until: datetime) -> datetime | None:
    """The first due send instant in ``(after, until]``, by scanning local dates."""
    best: datetime | None = None
    day = local(after, timing.timezone).date() - DAY
    while day <= local(until, timing.timezone).date() + DAY:
        if ref_due(timing, day):
            instant = ref_first_reach(timing.timezone, datetime.combine(day, timing.time))
            if after < instant <= until and (best is None or instant < best):
                best = instant
        day += DAY
    return best


# -- validation and construction ---------------------------------------------------------------


def test_from_schedule_accepts_the_stored_schema_dump() -> None:
    stored = ReportSchedule.model_validate({
        "name": "Weekly", "frequency": "weekly", "weekday": 2, "time": "9:30",
        "recipients": ["reports@firm.com"], "date_range": "previous_week",
    }).model_dump(mode="json")
    timing = ReportTiming.from_schedule(stored, NY)
    assert timing == ReportTiming("weekly", time(9, 30), 2, None, NY)


def test_from_schedule_monthly_and_daily() -> None:
    assert ReportTiming.from_schedule(
        {"frequency": "monthly", "day_of_month": 31, "time": "00:00", "weekday": None}, PARIS,
    ) == ReportTiming("monthly", time(0, 0), None, 31, PARIS)
    assert ReportTiming.from_schedule({"frequency": "daily", "time": "23:59"}, "UTC") \
        == ReportTiming("daily", time(23, 59), None, None, "UTC")


@pytest.mark.parametrize("schedule", [
    {"frequency": "daily", "time": "24:00"},
    {"frequency": "daily", "time": "25:00"},
    {"frequency": "daily"},
    {"time": "09:00"},
    {"frequency": "hourly", "time": "09:00"},
    {"frequency": "weekly", "time": "09:00"},
    {"frequency": "weekly", "time": "09:00", "weekday": "mon"},
    {"frequency": "monthly", "time": "09:00", "day_of_month": 32},
])
def test_from_schedule_refuses_bad_schedules(schedule: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ReportTiming.from_schedule(schedule, "UTC")


@pytest.mark.parametrize(("args", "message"), [
    (("weekly", time(9), None, None, "UTC"), "needs weekday"),
    (("daily", time(9), 1, None, "UTC"), "only used by weekly"),
    (("weekly", time(9), 7, None, "UTC"), "weekday must be"),
    (("weekly", time(9), -1, None, "UTC"), "weekday must be"),
    (("weekly", time(9), True, None, "UTC"), "weekday must be"),
    (("monthly", time(9), None, None, "UTC"), "needs day_of_month"),
    (("monthly", time(9), None, 0, "UTC"), "day_of_month must be"),
    (("monthly", time(9), None, 32, "UTC"), "day_of_month must be"),
    (("weekly", time(9), 1, 1, "UTC"), "only used by monthly"),
    (("daily", time(9, 0, 30), None, None, "UTC"), "whole minute"),
    (("daily", time.max, None, None, "UTC"), "whole minute"),
    (("daily", time(9, tzinfo=UTC), None, None, "UTC"), "without a time zone"),
    (("daily", time(9), None, None, "Mars/Olympus"), "IANA"),
    (("yearly", time(9), None, None, "UTC"), "frequency"),
])
def test_timing_validation(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportTiming(*args)


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_send_at(daily("09:00"), datetime(2026, 3, 2, 9))


# -- next_send_at: examples --------------------------------------------------------------------


def test_daily_later_today_or_tomorrow() -> None:
    after = utc(2026, 3, 2, 15)  # 10:00 in New York
    assert next_send_at(daily("11:00", NY), after) == utc(2026, 3, 2, 16)
    assert next_send_at(daily("09:30", NY), after) == utc(2026, 3, 3, 14, 30)


def test_strictly_after_a_send_instant() -> None:
    send = utc(2026, 3, 2, 14, 30)  # 09:30 EST
    assert next_send_at(daily("09:30", NY), send) == utc(2026, 3, 3, 14, 30)
    assert next_send_at(daily("09:30", NY), send - timedelta(microseconds=1)) == send


def test_result_is_utc_whatever_the_input_zone() -> None:
    after = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo(NY))
    result = next_send_at(daily("11:00", NY), after)
    assert result == utc(2026, 3, 2, 16)
    assert result.tzinfo is UTC


@pytest.mark.parametrize("weekday", range(7))
def test_weekday_zero_is_sunday(weekday: int) -> None:
    # 2026-03-01 is a Sunday; from the Saturday before, each weekday's first send is that week.
    result = next_send_at(weekly(weekday, "09:00"), utc(2026, 2, 28, 12))
    assert result == utc(2026, 3, 1 + weekday, 9)
    assert result.strftime("%A") == ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
                                     "Friday", "Saturday"][weekday]


def test_weekly_same_day_before_and_after_the_time() -> None:
    monday = 1
    assert next_send_at(weekly(monday, "09:00", PARIS), utc(2026, 3, 2, 7)) \
        == utc(2026, 3, 2, 8)
    assert next_send_at(weekly(monday, "09:00", PARIS), utc(2026, 3, 2, 8)) \
        == utc(2026, 3, 9, 8)


@pytest.mark.parametrize(("day_of_month", "after", "expected"), [
    (31, utc(2026, 4, 1), utc(2026, 4, 30, 9)),  # April has 30 days
    (31, utc(2026, 4, 30, 9), utc(2026, 5, 31, 9)),  # and May is back to the 31st
    (29, utc(2026, 2, 1), utc(2026, 2, 28, 9)),
    (30, utc(2026, 2, 1), utc(2026, 2, 28, 9)),
    (31, utc(2026, 2, 1), utc(2026, 2, 28, 9)),
    (29, utc(2028, 2, 1), utc(2028, 2, 29, 9)),  # leap year
    (31, utc(2028, 2, 1), utc(2028, 2, 29, 9)),
    (29, utc(2100, 2, 1), utc(2100, 2, 28, 9)),  # divisible by 100: not a leap year
    (29, utc(2000, 2, 1), utc(2000, 2, 29, 9)),  # divisible by 400: a leap year
    (1, utc(2026, 12, 15), utc(2027, 1, 1, 9)),  # across the year end
    (15, utc(2026, 3, 15, 9), utc(2026, 4, 15, 9)),  # strictly after
])
def test_monthly_clamps_to_the_month_end(day_of_month: int, after: datetime,
                                         expected: datetime) -> None:
    assert next_send_at(monthly(day_of_month, "09:00"), after) == expected


def test_new_york_spring_forward_gap_sends_at_the_end_of_the_gap() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist; send at 03:00 EDT (07:00 UTC).
    timing = daily("02:30", NY)
    first = next_send_at(timing, utc(2026, 3, 7, 12))
    assert first == utc(2026, 3, 8, 7)
    assert local(first, NY) == datetime(2026, 3, 8, 3, 0)
    assert next_send_at(timing, first) == utc(2026, 3, 9, 6, 30)  # 02:30 EDT


def test_new_york_fall_back_sends_once_at_the_first_pass() -> None:
    # 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens at 05:30 and 06:30 UTC.
    timing = daily("01:30", NY)
    first = next_send_at(timing, utc(2026, 10, 31, 12))
    assert first == utc(2026, 11, 1, 5, 30)
    assert next_send_at(timing, first) == utc(2026, 11, 2, 6, 30)  # not 06:30 on the 1st


def test_paris_gap_and_overlap() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST, and 2026-10-25 03:00 CEST -> 02:00 CET.
    assert next_send_at(daily("02:15", PARIS), utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)
    timing = weekly(0, "02:30", PARIS)  # Sundays, as both changes are
    first = next_send_at(timing, utc(2026, 10, 24, 12))
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    assert next_send_at(timing, first) == utc(2026, 11, 1, 1, 30)  # 02:30 CET, a week later


def test_times_next_to_the_gap_are_unaffected() -> None:
    assert next_send_at(daily("01:59", NY), utc(2026, 3, 7, 12)) == utc(2026, 3, 8, 6, 59)
    assert next_send_at(daily("03:00", NY), utc(2026, 3, 7, 12)) == utc(2026, 3, 8, 7)


def test_a_skipped_date_sends_at_the_start_of_the_next() -> None:
    # Samoa skipped 2011-12-30 entirely (-10 -> +14 at the end of the 29th).
    result = next_send_at(monthly(30, "09:00", "Pacific/Apia"), utc(2011, 12, 1))
    assert local(result, "Pacific/Apia") == datetime(2011, 12, 31, 0, 0)


# -- next_send_at: properties ------------------------------------------------------------------

ZONES = ["UTC", NY, PARIS, "Europe/London", "Australia/Lord_Howe", "America/Santiago",
         "America/Havana", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Kathmandu",
         "Pacific/Chatham", "Pacific/Kiritimati", "America/St_Johns", "Africa/Casablanca",
         "Asia/Tehran"]


@cache
def offset_changes(zone: str, year: int) -> tuple[datetime, ...]:
    """The instants in ``year`` at which the zone's UTC offset changes (daily, then minute scan).
    """
    tz = ZoneInfo(zone)
    found = []
    for n in range(366):
        day = utc(year, 1, 1) + n * DAY
        if day.astimezone(tz).utcoffset() != (day + DAY).astimezone(tz).utcoffset():
            instant = day
            while instant.astimezone(tz).utcoffset() == day.astimezone(tz).utcoffset():
                instant += MINUTE
            found.append(instant)
    return tuple(found)


def sunday_based(day: date) -> int:
    return (day.weekday() + 1) % 7


@st.composite
def cases(draw: st.DrawFn) -> tuple[ReportTiming, datetime]:
    """A timing and an ``after``: anywhere in 2000-2040, or aimed at an offset change (a send
    time in or next to the gap or repeated hour, due that day), or at a short month's end."""
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2000, 2040))
    frequency: Frequency = draw(st.sampled_from(FREQUENCIES))
    mode = draw(st.sampled_from(["any", "offset_change", "month_end"]))
    changes = offset_changes(zone, year)
    if mode == "offset_change" and changes:
        change = draw(st.sampled_from(changes))
        # The wall clock just before and at the change bound the gap or the repeated hour.
        edges = sorted([local(change - MINUTE, zone) + MINUTE, local(change, zone)])
        width = int((edges[1] - edges[0]) / MINUTE)
        wall = edges[0] + timedelta(minutes=draw(st.integers(-5, width + 5)))
        day = local(change, zone).date()
        weekday = draw(st.one_of(st.just(sunday_based(day)), st.integers(0, 6)))
        day_of_month = draw(st.one_of(st.just(day.day), st.integers(1, 31)))
        after = change - timedelta(minutes=draw(st.integers(0, 1440)))
    elif mode == "month_end":
        frequency = "monthly"
        wall = datetime(2000, 1, 1, draw(st.integers(0, 23)), draw(st.integers(0, 59)))
        weekday, day_of_month = 0, draw(st.integers(28, 31))
        month = draw(st.sampled_from([2, 4, 6, 9, 11]))
        after = utc(year, month, 1) + timedelta(minutes=draw(st.integers(0, 30 * 1440)))
    else:
        # Early-morning times are where the gaps and overlaps are; keep them frequent.
        hour = draw(st.one_of(st.integers(0, 3), st.integers(0, 23)))
        minute = draw(st.one_of(st.sampled_from([0, 30, 59]), st.integers(0, 59)))
        wall = datetime(2000, 1, 1, hour, minute)
        weekday, day_of_month = draw(st.integers(0, 6)), draw(st.integers(1, 31))
        after = utc(year, 1, 1) + timedelta(minutes=draw(st.integers(0, 365 * 1440)))
    timing = ReportTiming(frequency, wall.time(),
                          weekday if frequency == "weekly" else None,
                          day_of_month if frequency == "monthly" else None, zone)
    return timing, after


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """Any instant in 2000-2040, often within days of an offset change."""
    year = draw(st.integers(2000, 2040))
    changes = offset_changes(zone, year)
    near_change = draw(st.booleans())
    if changes and near_change:
        return draw(st.sampled_from(changes)) + timedelta(
            minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    return utc(year, 1, 1) + timedelta(minutes=draw(st.integers(0, 365 * 1440)))


@given(data=st.data())
def test_next_send_at_matches_the_reference(data: st.DataObject) -> None:
    timing, after = data.draw(cases())
    result = next_send_at(timing, after)

    assert result.tzinfo is UTC
    assert result > after
    # Within one period (a month has at most 31 days, plus a day for offsets).
    assert result - after <= timedelta(days=32)

    # At the configured wall time on a due date, or the first instant after a gap.
    wall, before = local(result, timing.timezone), local(result - MINUTE, timing.timezone)
    configured = [day for day in (wall.date() - DAY, wall.date())
                  if ref_due(timing, day)
                  and before < datetime.combine(day, timing.time) <= wall]
    assert configured, f"{wall} (from {before}) is not a send of {timing}"
    if wall.time() != timing.time:  # moved: the wall clock jumped over the configured time
        assert wall - before > MINUTE

    # Nothing due in between, and the reference finds exactly this instant.
    assert ref_next(timing, after, result) == result


@given(data=st.data())
def test_next_send_at_is_idempotent_per_send(data: st.DataObject) -> None:
    """Asking again just before a send returns that send; at it, the next one."""
    timing, after = data.draw(cases())
    send = next_send_at(timing, after)
    assert next_send_at(timing, send - timedelta(seconds=1)) == send
    following = next_send_at(timing, send)
    assert following > send
    assert next_send_at(timing, send + (following - send) / 2) == following


# -- report_range ------------------------------------------------------------------------------


def test_cumulative() -> None:
    at = utc(2026, 3, 10, 14)
    assert report_range("cumulative", NY, at) == (None, at)
    start = datetime(2026, 3, 1, 9, tzinfo=ZoneInfo(NY))
    assert report_range("cumulative", NY, at, start) == (utc(2026, 3, 1, 14), at)


def test_today_so_far() -> None:
    at = utc(2026, 3, 10, 3)  # 23:00 on the 9th in New York
    assert report_range("today_so_far", NY, at) == (utc(2026, 3, 9, 4), at)
    assert report_range("today_so_far", PARIS, at) == (utc(2026, 3, 9, 23), at)


def test_previous_day_on_dst_days_is_23_or_25_hours() -> None:
    start, end = report_range("previous_day", NY, utc(2026, 3, 9, 14))
    assert start is not None
    assert (start, end) == (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    assert end - start == timedelta(hours=23)
    start, end = report_range("previous_day", NY, utc(2026, 11, 2, 14))
    assert start is not None
    assert (start, end) == (utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))
    assert end - start == timedelta(hours=25)


@pytest.mark.parametrize("at", [
    utc(2026, 3, 9, 12),  # Monday
    utc(2026, 3, 12, 12),  # Thursday
    utc(2026, 3, 15, 22),  # Sunday 23:00 in Paris: still that ISO week
])
def test_previous_week_is_the_previous_iso_week(at: datetime) -> None:
    assert report_range("previous_week", PARIS, at) == (utc(2026, 3, 1, 23), utc(2026, 3, 8, 23))


def test_previous_week_across_a_dst_change() -> None:
    # Paris springs forward on Sunday 2026-03-29: that week is 167 hours long.
    start, end = report_range("previous_week", PARIS, utc(2026, 3, 31, 12))
    assert start is not None
    assert (start, end) == (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert end - start == timedelta(hours=167)


@pytest.mark.parametrize(("at", "expected"), [
    (utc(2026, 4, 1, 9), (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))),  # DST inside March
    (utc(2026, 1, 15), (utc(2025, 11, 30, 23), utc(2025, 12, 31, 23))),  # across the year
    (utc(2026, 3, 31, 22, 30), (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))),  # April 1st, local
])
def test_previous_month(at: datetime, expected: tuple[datetime, datetime]) -> None:
    assert report_range("previous_month", PARIS, at) == expected


def test_report_range_refusals() -> None:
    with pytest.raises(ValueError, match="date range"):
        report_range("last_year", NY, utc(2026, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        report_range("cumulative", NY, datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="IANA"):
        report_range("previous_day", "Nowhere/Else", utc(2026, 3, 1))


RANGES = ["today_so_far", "previous_day", "previous_week", "previous_month"]


@given(data=st.data())
def test_report_range_properties(data: st.DataObject) -> None:
    zone = data.draw(st.sampled_from(ZONES))
    date_range = data.draw(st.sampled_from(RANGES))
    at = data.draw(instants(zone))
    start, end = report_range(date_range, zone, at)
    assert start is not None
    assert start <= end <= at
    today = local(at, zone).date()

    def is_midnight(instant: datetime, day: date) -> bool:
        return instant == ref_first_reach(zone, datetime.combine(day, time()))

    if date_range == "today_so_far":
        assert end == at and is_midnight(start, today)
        return
    first, last = local(start, zone).date(), local(end, zone).date()
    assert is_midnight(start, first) and is_midnight(end, last)
    if date_range == "previous_day":
        assert (first, last) == (today - DAY, today)
    elif date_range == "previous_week":
        assert first.isoweekday() == last.isoweekday() == 1 and last - first == 7 * DAY
        assert last <= today < last + 7 * DAY
    else:
        assert first.day == last.day == 1 and (first + 31 * DAY).replace(day=1) == last
        assert (last.year, last.month) == (today.year, today.month)


# -- labels ------------------------------------------------------------------------------------


def test_period_labels() -> None:
    assert report_period_label(*report_range("previous_week", PARIS, utc(2026, 3, 10)), PARIS) \
        == "2026-03-02 to 2026-03-08"
    assert report_period_label(*report_range("previous_day", NY, utc(2026, 3, 9, 14)), NY) \
        == "2026-03-08"
    assert report_period_label(*report_range("today_so_far", NY, utc(2026, 3, 9, 14)), NY) \
        == "2026-03-09"
    assert report_period_label(*report_range("cumulative", NY, utc(2026, 3, 9, 14)), NY) \
        == "through 2026-03-09"
    assert report_period_label(utc(2026, 3, 1, 12), utc(2026, 3, 9, 14), NY) \
        == "2026-03-01 to 2026-03-09"
    assert report_period_label(None, utc(2026, 3, 9, 4), NY) == "through 2026-03-08"
