"""Calling windows: hand-written DST/zone cases and properties against a brute-force checker.

The checker below is deliberately independent of ringwise.core.windows: it converts one
instant to each zone's wall clock and checks every rule directly, and finds "the first
instant at which the wall clock reads T or later" by scanning minutes, not by zoneinfo folds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.hours import TimeSlot, parse_hhmm
from ringwise.core.phones import describe
from ringwise.core.windows import (
    CallingRules,
    Run,
    Window,
    contact_zones,
    is_open,
    next_window,
    slot_pairs,
    windows_between,
)

NY = "America/New_York"
MADRID = "Europe/Madrid"
PHOENIX = "America/Phoenix"
LORD_HOWE = "Australia/Lord_Howe"
MINUTE = timedelta(minutes=1)
HORIZON = 40  # days, for the properties (bounded work per example)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hm(text: str) -> time:
    return parse_hhmm(text)


def spans(rules: CallingRules, zones: Sequence[str], start: datetime,
          end: datetime) -> list[tuple[datetime, datetime]]:
    return [(w.start, w.end) for w in windows_between(rules, zones, start, end)]


# -- brute-force checker ----------------------------------------------------------------------


def wall(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@cache
def first_reach(zone: str, target: datetime) -> datetime:
    """First instant (aware UTC) whose wall clock in ``zone`` reads ``target`` or later.

    Any such instant u satisfies u = target - offset(u), so the first one lies between
    target - max(offset) and target - min(offset) over the nearby offsets; scan that span
    minute by minute (targets, offsets and tzdb transitions are whole minutes here).
    """
    guess = target.replace(tzinfo=UTC)
    offsets = [
        offset for k in range(-8, 9)
        if (offset := (guess + k * timedelta(hours=6)).astimezone(ZoneInfo(zone)).utcoffset())
        is not None
    ]
    instant, last = guess - max(offsets), guess - min(offsets)
    while instant <= last:
        if wall(instant, zone) >= target:
            return instant
        instant += MINUTE
    raise AssertionError("unreachable: the wall clock reads target at guess - min(offset)")


def union(slots: Sequence[tuple[time, time]]) -> list[tuple[time, time]]:
    """Union of daily slots: overlapping or touching slots are one slot."""
    out: list[tuple[time, time]] = []
    for start, end in sorted(slots):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def in_slot(zone: str, instant: datetime, local: datetime, slot: tuple[time, time]) -> bool:
    day = local.date()
    start = datetime.combine(day, slot[0])
    end = (datetime.combine(day + timedelta(days=1), time.min) if slot[1] == time.max
           else datetime.combine(day, slot[1]))
    return (start <= local < end
            and first_reach(zone, start) <= instant < first_reach(zone, end))


def allowed(rules: CallingRules, zones: Sequence[str], instant: datetime) -> bool:
    if rules.start_at is not None and instant < rules.start_at:
        return False
    if rules.end_at is not None and instant >= rules.end_at:
        return False
    for zone in zones:
        if rules.local_start is not None and instant < first_reach(zone, rules.local_start):
            return False
        local = wall(instant, zone)
        day = local.date()
        if rules.weekdays is not None and day.weekday() not in rules.weekdays:
            return False
        sources: list[list[tuple[time, time]]] = []
        if rules.runs:
            covering = [(run.start_time, run.end_time) for run in rules.runs
                        if run.start_date <= day <= run.end_date
                        and (run.dates is None or day in run.dates)]
            if not covering:
                return False
            sources.append(covering)
        if rules.call_hours is not None:
            sources.append([rules.call_hours])
        if rules.business_hours:
            sources.append(list(rules.business_hours))
        if rules.floor is not None:
            sources.append(list(rules.floor(day, ZoneInfo(zone))))
        for slots in sources:
            if not any(in_slot(zone, instant, local, slot) for slot in union(slots)):
                return False
    return True


# -- hand-written cases -----------------------------------------------------------------------

WEEKDAYS_9_17 = CallingRules(weekdays=frozenset(range(5)), call_hours=(hm("09:00"), hm("17:00")))


def test_weekday_and_hours() -> None:
    # Saturday 2026-03-07 noon in New York -> Monday 09:00 EDT (DST began on Sunday).
    window = next_window(WEEKDAYS_9_17, [NY], utc(2026, 3, 7, 17))
    assert window == Window(utc(2026, 3, 9, 13), utc(2026, 3, 9, 21))
    # Inside the window: it starts at the instant asked about.
    assert next_window(WEEKDAYS_9_17, [NY], utc(2026, 3, 9, 15, 7)) == Window(
        utc(2026, 3, 9, 15, 7), utc(2026, 3, 9, 21))
    assert is_open(WEEKDAYS_9_17, [NY], utc(2026, 3, 9, 13))
    assert not is_open(WEEKDAYS_9_17, [NY], utc(2026, 3, 9, 21))  # end is exclusive
    assert not is_open(WEEKDAYS_9_17, [NY], utc(2026, 3, 7, 15))


def test_several_business_slots_intersect_call_hours() -> None:
    rules = CallingRules(
        call_hours=(hm("10:00"), hm("20:00")),
        business_hours=((hm("09:00"), hm("12:00")), (hm("13:00"), hm("15:00")),
                        (hm("18:00"), hm("24:00"))),
    )
    # Phoenix is MST (-7) all year; 10-12, 13-15 and 18-20 local remain.
    assert spans(rules, [PHOENIX], utc(2026, 6, 1, 7), utc(2026, 6, 2, 7)) == [
        (utc(2026, 6, 1, 17), utc(2026, 6, 1, 19)),
        (utc(2026, 6, 1, 20), utc(2026, 6, 1, 22)),
        (utc(2026, 6, 2, 1), utc(2026, 6, 2, 3)),
    ]


def test_touching_business_slots_are_one_window() -> None:
    rules = CallingRules(business_hours=((hm("09:00"), hm("12:00")), (hm("12:00"), hm("17:00"))))
    assert next_window(rules, [PHOENIX], utc(2026, 6, 1)) == Window(
        utc(2026, 6, 1, 16), utc(2026, 6, 2, 0))


def test_slot_pairs_accepts_timeslot_models() -> None:
    slots = [TimeSlot(start_time="09:00", end_time="12:00"),
             TimeSlot(start_time="13:00", end_time="24:00")]
    assert slot_pairs(slots) == ((time(9), time(12)), (time(13), time.max))


def test_runs_with_selected_dates() -> None:
    rules = CallingRules(runs=(
        Run(date(2026, 6, 1), date(2026, 6, 10), hm("09:00"), hm("12:00"),
            dates=frozenset({date(2026, 6, 3), date(2026, 6, 8)})),
        Run(date(2026, 6, 8), date(2026, 6, 8), hm("11:00"), hm("14:00")),
    ))
    found = spans(rules, [PHOENIX], utc(2026, 5, 1), utc(2026, 8, 1))
    assert found == [
        (utc(2026, 6, 3, 16), utc(2026, 6, 3, 19)),
        (utc(2026, 6, 8, 16), utc(2026, 6, 8, 21)),  # two runs cover 06-08: their union
    ]
    assert next_window(rules, [PHOENIX], utc(2026, 6, 9)) is None  # after the last run


def test_naive_local_start_waits_for_every_zone() -> None:
    rules = CallingRules(local_start=datetime(2026, 6, 1, 9, 0),
                         call_hours=(hm("08:00"), hm("20:00")))
    # 09:00 in New York is 13:00Z, in Madrid 07:00Z; each zone alone:
    assert next_window(rules, [MADRID], utc(2026, 6, 1)) == Window(
        utc(2026, 6, 1, 7), utc(2026, 6, 1, 18))
    assert next_window(rules, [NY], utc(2026, 6, 1)) == Window(
        utc(2026, 6, 1, 13), utc(2026, 6, 2, 0))
    # Both (not a real number, but the rule is generic): after 13:00Z and inside both days.
    assert next_window(rules, [NY, MADRID], utc(2026, 6, 1)) == Window(
        utc(2026, 6, 1, 13), utc(2026, 6, 1, 18))


def test_local_start_in_a_gap_opens_after_the_gap() -> None:
    rules = CallingRules(local_start=datetime(2026, 3, 8, 2, 30))
    window = next_window(rules, [NY], utc(2026, 3, 1))
    assert window is not None and window.start == utc(2026, 3, 8, 7)  # 03:00 EDT


def test_fold_attribute_does_not_change_the_rule() -> None:
    # 01:30 happens twice in New York on 2026-11-01; the rule takes the first pass (EDT)
    # whatever fold the caller's datetime/time carries.
    rules = CallingRules(local_start=datetime(2026, 11, 1, 1, 30, fold=1),
                         call_hours=(time(1, 30, fold=1), hm("01:45")))
    assert next_window(rules, [NY], utc(2026, 10, 31)) == Window(
        utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 5, 45))


def test_end_at_cuts_the_window_and_then_nothing() -> None:
    rules = CallingRules(call_hours=(hm("09:00"), hm("17:00")),
                         start_at=utc(2026, 6, 1, 17, 30), end_at=utc(2026, 6, 2, 18))
    assert next_window(rules, [PHOENIX], utc(2026, 6, 1)) == Window(
        utc(2026, 6, 1, 17, 30), utc(2026, 6, 2, 0))
    assert next_window(rules, [PHOENIX], utc(2026, 6, 2, 1)) == Window(
        utc(2026, 6, 2, 16), utc(2026, 6, 2, 18))
    assert next_window(rules, [PHOENIX], utc(2026, 6, 2, 18)) is None
    assert not is_open(rules, [PHOENIX], utc(2026, 6, 2, 18))


def test_horizon_bounds_the_search() -> None:
    rules = CallingRules(runs=(Run(date(2027, 6, 1), date(2027, 6, 1)),))
    assert next_window(rules, [PHOENIX], utc(2026, 6, 1), horizon_days=30) is None
    assert next_window(rules, [PHOENIX], utc(2026, 6, 1)) == Window(
        utc(2027, 6, 1, 7), utc(2027, 6, 2, 7))
    everything = next_window(CallingRules(), [NY], utc(2026, 6, 1), horizon_days=3)
    assert everything == Window(utc(2026, 6, 1), utc(2026, 6, 4))


def test_idaho_208_is_the_intersection_of_boise_and_los_angeles() -> None:
    zones = describe("+12085550123").timezones
    assert set(zones) == {"America/Boise", "America/Los_Angeles"}
    rules = CallingRules(call_hours=(hm("09:00"), hm("17:00")))
    # Boise (MDT) 09-17 = 15-23Z, Los Angeles (PDT) 09-17 = 16-24Z.
    assert next_window(rules, zones, utc(2026, 6, 1)) == Window(
        utc(2026, 6, 1, 16), utc(2026, 6, 1, 23))
    assert not is_open(rules, zones, utc(2026, 6, 1, 15, 30))  # Boise open, LA not yet


def test_alaska_907_is_the_intersection_of_adak_and_anchorage() -> None:
    zones = describe("+19075550123").timezones
    assert set(zones) == {"America/Adak", "America/Anchorage"}
    rules = CallingRules(call_hours=(hm("08:00"), hm("21:00")), weekdays=frozenset(range(5)))
    # Thursday 22:00 AKST -> Friday 2026-01-09: Anchorage (AKST, -9) 08-21 = 17-06Z;
    # Adak (HST, -10) 08-21 = 18-07Z.
    assert next_window(rules, zones, utc(2026, 1, 9, 7)) == Window(
        utc(2026, 1, 9, 18), utc(2026, 1, 10, 6))
    # Saturday in both zones afterwards -> Monday.
    assert next_window(rules, zones, utc(2026, 1, 10, 6)) == Window(
        utc(2026, 1, 12, 18), utc(2026, 1, 13, 6))


# Spring-forward / fall-back days of 2026 and 2027: (zone, slot, day, expected UTC spans).
DST_CASES: list[tuple[str, str, str, date, list[tuple[datetime, datetime]]]] = [
    # New York 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z. 02:30 does not exist.
    (NY, "01:00", "04:00", date(2026, 3, 8), [(utc(2026, 3, 8, 6), utc(2026, 3, 8, 8))]),
    (NY, "02:30", "04:00", date(2026, 3, 8), [(utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))]),
    (NY, "02:00", "02:59", date(2026, 3, 8), []),  # entirely inside the gap
    # New York 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z; 01:xx happens twice.
    (NY, "01:00", "02:00", date(2026, 11, 1), [(utc(2026, 11, 1, 5), utc(2026, 11, 1, 7))]),
    (NY, "00:00", "01:30", date(2026, 11, 1), [(utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30))]),
    (NY, "01:30", "03:00", date(2026, 11, 1),
     [(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6)), (utc(2026, 11, 1, 6, 30),
                                                        utc(2026, 11, 1, 8))]),
    # New York 2027: 03-14 spring forward, 11-07 fall back.
    (NY, "02:30", "03:30", date(2027, 3, 14), [(utc(2027, 3, 14, 7), utc(2027, 3, 14, 7, 30))]),
    (NY, "01:30", "02:00", date(2027, 11, 7),
     [(utc(2027, 11, 7, 5, 30), utc(2027, 11, 7, 6)), (utc(2027, 11, 7, 6, 30),
                                                        utc(2027, 11, 7, 7))]),
    (NY, "09:00", "17:00", date(2027, 11, 7), [(utc(2027, 11, 7, 14), utc(2027, 11, 7, 22))]),
    # Madrid 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z; 2026-10-25 03:00 -> 02:00 at 01:00Z.
    (MADRID, "01:30", "03:30", date(2026, 3, 29),
     [(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30))]),
    (MADRID, "02:30", "04:00", date(2026, 10, 25),
     [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1)), (utc(2026, 10, 25, 1, 30),
                                                          utc(2026, 10, 25, 3))]),
    (MADRID, "00:00", "24:00", date(2026, 10, 25),
     [(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))]),  # a 25-hour day
    (MADRID, "02:00", "02:30", date(2027, 3, 28), []),
    (MADRID, "09:00", "21:00", date(2027, 10, 31),
     [(utc(2027, 10, 31, 8), utc(2027, 10, 31, 20))]),
    # Phoenix keeps MST (-7) on the days New York changes.
    (PHOENIX, "02:00", "03:00", date(2026, 3, 8), [(utc(2026, 3, 8, 9), utc(2026, 3, 8, 10))]),
    (PHOENIX, "01:00", "02:00", date(2027, 11, 7), [(utc(2027, 11, 7, 8), utc(2027, 11, 7, 9))]),
    # Lord Howe: +10:30 standard, +11 summer, 30-minute changes at 02:00 local.
    # 2026-04-05: 02:00 +11 -> 01:30 +10:30 at 15:00Z (04-04).
    (LORD_HOWE, "01:00", "02:00", date(2026, 4, 5),
     [(utc(2026, 4, 4, 14), utc(2026, 4, 4, 15, 30))]),
    (LORD_HOWE, "01:45", "03:00", date(2026, 4, 5),
     [(utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15)), (utc(2026, 4, 4, 15, 15),
                                                        utc(2026, 4, 4, 16, 30))]),
    # 2026-10-04: 02:00 +10:30 -> 02:30 +11 at 15:30Z (10-03).
    (LORD_HOWE, "02:10", "03:00", date(2026, 10, 4),
     [(utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 16))]),
    (LORD_HOWE, "02:00", "02:30", date(2027, 10, 3), []),
    (LORD_HOWE, "01:00", "01:40", date(2027, 4, 4),
     [(utc(2027, 4, 3, 14), utc(2027, 4, 3, 14, 40))]),
]


@pytest.mark.parametrize(("zone", "start", "end", "day", "expected"), DST_CASES)
def test_dst_days(zone: str, start: str, end: str, day: date,
                  expected: list[tuple[datetime, datetime]]) -> None:
    rules = CallingRules(call_hours=(hm(start), hm(end)), runs=(Run(day, day),))
    assert spans(rules, [zone], utc(2025, 1, 1), utc(2028, 12, 31)) == expected
    # And the brute-force checker agrees minute by minute over the local day.
    first = utc(day.year, day.month, day.day) - timedelta(hours=15)
    for minute in range(40 * 60):
        instant = first + minute * MINUTE
        inside = any(a <= instant < b for a, b in expected)
        assert allowed(rules, [zone], instant) == inside, instant
        assert is_open(rules, [zone], instant) == inside, instant


def test_no_window_contains_a_wall_time_outside_the_hours_on_fall_back() -> None:
    rules = CallingRules(call_hours=(hm("01:30"), hm("09:00")))
    for window in windows_between(rules, [NY], utc(2026, 10, 31), utc(2026, 11, 3)):
        instant = window.start
        while instant < window.end:
            assert time(1, 30) <= wall(instant, NY).time() < time(9), instant
            instant += MINUTE


@dataclass(frozen=True)
class Floor:
    """A floor as the compliance layer would pass it: allowed local slots per date."""

    weekday_slots: tuple[tuple[time, time], ...]
    weekend_slots: tuple[tuple[time, time], ...] = ()

    def __call__(self, day: date, zone: ZoneInfo) -> Sequence[tuple[time, time]]:
        return self.weekday_slots if day.weekday() < 5 else self.weekend_slots


FRANCE = Floor(((hm("10:00"), hm("13:00")), (hm("14:00"), hm("20:00"))))
TCPA = Floor(((hm("08:00"), hm("21:00")),), ((hm("08:00"), hm("21:00")),))
NIGHT = Floor(((hm("01:00"), hm("02:45")), (hm("20:00"), hm("24:00"))),
              ((hm("00:30"), hm("03:00")),))  # not a real floor: DST-hour edges


def test_floor_is_intersected() -> None:
    rules = CallingRules(call_hours=(hm("09:00"), hm("18:00")), floor=FRANCE)
    # Saturday 2026-06-06 is closed by the floor; Monday 10-13 and 14-18 CEST.
    assert spans(rules, ["Europe/Paris"], utc(2026, 6, 6), utc(2026, 6, 9)) == [
        (utc(2026, 6, 8, 8), utc(2026, 6, 8, 11)), (utc(2026, 6, 8, 12), utc(2026, 6, 8, 16))]


def test_contact_zones_precedence() -> None:
    assert contact_zones("Europe/Madrid", ["America/New_York"], "UTC") == ("Europe/Madrid",)
    assert contact_zones(None, ["America/Boise", "America/Los_Angeles", "America/Boise"],
                         "UTC") == ("America/Boise", "America/Los_Angeles")
    assert contact_zones("", [], "America/Chicago") == ("America/Chicago",)
    assert contact_zones("Not/AZone", [], None) == ()
    assert contact_zones(None, [], None) == ()


def test_unknown_zone_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="zone"):
        next_window(WEEKDAYS_9_17, [], utc(2026, 6, 1))


@pytest.mark.parametrize("build", [
    lambda: CallingRules(start_at=datetime(2026, 1, 1)),
    lambda: CallingRules(local_start=utc(2026, 1, 1)),
    lambda: CallingRules(call_hours=(hm("17:00"), hm("09:00"))),
    lambda: CallingRules(business_hours=((hm("09:00"), hm("09:00")),)),
    lambda: CallingRules(weekdays=frozenset({7})),
    lambda: Run(date(2026, 2, 1), date(2026, 1, 1)),
])
def test_invalid_rules_are_rejected(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_window(WEEKDAYS_9_17, [NY], datetime(2026, 6, 1))


def test_rules_are_hashable_and_lists_are_normalised() -> None:
    rules = CallingRules(business_hours=[(hm("09:00"), hm("12:00"))],  # type: ignore[arg-type]
                         weekdays={0, 1})  # type: ignore[arg-type]
    assert hash(rules) == hash(CallingRules(business_hours=((hm("09:00"), hm("12:00")),),
                                            weekdays=frozenset({0, 1})))


# -- properties -------------------------------------------------------------------------------

ZONES = [NY, "America/Chicago", "America/Denver", PHOENIX, "America/Los_Angeles",
         "America/Boise", "America/Anchorage", "America/Adak", "Pacific/Honolulu", MADRID,
         "Europe/London", LORD_HOWE, "America/Santiago", "America/Havana", "Pacific/Chatham",
         "America/St_Johns", "Asia/Kolkata", "America/North_Dakota/Center"]
ZONE_SETS = [("America/Boise", "America/Los_Angeles"), ("America/Adak", "America/Anchorage"),
             ("America/Denver", "America/North_Dakota/Center"), (NY, "America/Chicago")]


def _transitions() -> list[tuple[str, datetime]]:
    """Every UTC offset change in 2026-2027 in ZONES (zone, instant), found hour by hour."""
    found: list[tuple[str, datetime]] = []
    for name in ZONES:
        zone = ZoneInfo(name)
        instant = utc(2026, 1, 1)
        previous = instant.astimezone(zone).utcoffset()
        while instant < utc(2028, 1, 1):
            instant += timedelta(hours=1)
            offset = instant.astimezone(zone).utcoffset()
            if offset != previous:
                exact = instant - timedelta(hours=1)  # refine: some changes are at :30
                while exact.astimezone(zone).utcoffset() == previous:
                    exact += MINUTE
                found.append((name, exact))
                previous = offset
    return found


TRANSITIONS = _transitions()
INTERESTING = [hm(text) for text in ("00:00", "00:30", "01:00", "01:30", "01:45", "02:00",
                                     "02:15", "02:30", "03:00", "08:00", "09:00", "12:00",
                                     "13:00", "17:00", "20:00", "21:00", "23:30")]
quarter_hours = st.integers(0, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))
zone_sets = st.one_of(st.sampled_from(ZONES).map(lambda z: (z,)), st.sampled_from(ZONE_SETS),
                      st.lists(st.sampled_from(ZONES), min_size=2, max_size=3,
                               unique=True).map(tuple))


def near_change(zone: str, change: datetime) -> list[time]:
    """Wall times around an offset change: edges and inside of its gap or repeated span.
    Some come with fold=1, which the rules must ignore (the DST rule decides, not fold)."""
    before, after = wall(change - MINUTE, zone) + MINUTE, wall(change, zone)
    low, high = min(before, after), max(before, after)
    span = high - low
    return sorted({moment.time() for moment in (low - 15 * MINUTE, low, low + span / 3,
                                                 low + span * 2 / 3, high, high + 15 * MINUTE)
                   if moment.date() == low.date()})


@st.composite
def slots(draw: st.DrawFn, times: st.SearchStrategy[time]) -> tuple[time, time]:
    start, end = sorted(draw(st.lists(times, min_size=2, max_size=2, unique=True)))
    if draw(st.integers(0, 5)) == 0:
        end = time.max
    return start, end


def chance(draw: st.DrawFn, one_in: int) -> bool:
    """True with probability about 1/one_in (``integers(...) == 0`` is far likelier)."""
    return draw(st.sampled_from([True] + [False] * (one_in - 1)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[CallingRules, tuple[str, ...], datetime]:
    focused = not chance(draw, 3)
    if focused:
        # Before an offset change in one of the zones, with hours at the edges and inside of
        # its gap or repeated span, and fewer other sources that could hide it.
        zone, change = draw(st.sampled_from(TRANSITIONS))
        at = change - draw(st.integers(0, 30 * 60)) * MINUTE
        zones: tuple[str, ...] = (zone,)
        if chance(draw, 3):
            zones = tuple(dict.fromkeys((zone, draw(st.sampled_from(ZONES)))))
        near = st.sampled_from(near_change(zone, change))
        times = st.one_of(near, near, near, st.sampled_from(INTERESTING), quarter_hours)
        hours_times = near if chance(draw, 2) else times
    else:
        at = utc(2026, 1, 1) + draw(st.integers(0, 2 * 365 * 24 * 60 - 1)) * MINUTE
        zones = draw(zone_sets)
        times = hours_times = st.one_of(st.sampled_from(INTERESTING), quarter_hours)
    rare = 5 if focused else 2  # other sources each appear with probability 1 / rare
    today = at.date()
    runs: list[Run] = []
    for _ in range(draw(st.integers(1, 2)) if chance(draw, rare) else 0):
        first = today + timedelta(days=draw(st.integers(-6, 4)))
        last = first + timedelta(days=draw(st.integers(0, 10)))
        selected = None
        if draw(st.booleans()):
            selected = frozenset(first + timedelta(days=draw(st.integers(0, 10)))
                                 for _ in range(draw(st.integers(1, 4))))
        start, end = draw(slots(times)) if draw(st.booleans()) else (time.min, time.max)
        runs.append(Run(first, last, start, end, selected))
    start_at = end_at = local_start = weekdays = floor = None
    if chance(draw, 4):
        start_at = at + draw(st.integers(-2 * 24 * 60, 3 * 24 * 60)) * MINUTE
    if chance(draw, 4):
        end_at = (start_at or at) + draw(st.integers(60, 10 * 24 * 60)) * MINUTE
    if chance(draw, 4):
        local_start = datetime.combine(
            (at + draw(st.integers(-1, 1)) * timedelta(days=1)).date(), draw(times))
    if chance(draw, rare):
        weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if chance(draw, rare):
        floor = draw(st.sampled_from([FRANCE, TCPA, NIGHT]))
    call_hours = None if chance(draw, 4) else draw(slots(hours_times))
    business_hours: tuple[tuple[time, time], ...] = ()
    if chance(draw, rare):
        business_hours = tuple(draw(st.lists(slots(times), min_size=1, max_size=3)))
    rules = CallingRules(
        start_at=start_at, end_at=end_at, local_start=local_start, runs=tuple(runs),
        weekdays=weekdays, call_hours=call_hours, business_hours=business_hours, floor=floor,
    )
    return rules, zones, at


@pytest.mark.parametrize("zone", sorted({zone for zone, _ in TRANSITIONS}))
def test_every_change_of_2026_2027_against_brute_force(zone: str) -> None:
    """Deterministic sweep: hours starting/ending at the edges and inside of every gap and
    repeated span of the zone, compared minute by minute around the change."""
    for name, change in TRANSITIONS:
        if name != zone:
            continue
        edges = near_change(zone, change)
        for start, end in itertools.combinations([*edges, time.max], 2):
            rules = CallingRules(call_hours=(start, end))
            lo, hi = change - timedelta(hours=3), change + timedelta(hours=3)
            open_minutes = {m for w in windows_between(rules, [zone], lo, hi)
                            for m in _minutes(w.start, w.end)}
            for minute in _minutes(lo, hi):
                assert (minute in open_minutes) == allowed(rules, [zone], minute), (
                    start, end, minute)


def _minutes(start: datetime, end: datetime) -> list[datetime]:
    """Whole minutes in [start, end); every window boundary here is a whole minute."""
    first = start.replace(second=0, microsecond=0)
    if first < start:
        first += MINUTE
    out: list[datetime] = []
    while first < end:
        out.append(first)
        first += MINUTE
    return out


@given(scenarios(), st.integers(0, 59))
def test_next_window_agrees_with_brute_force(
        scenario: tuple[CallingRules, tuple[str, ...], datetime], seconds: int) -> None:
    rules, zones, at = scenario
    at += timedelta(seconds=seconds)  # instants need not be whole minutes
    window = next_window(rules, zones, at, horizon_days=HORIZON)
    cap = at + timedelta(days=HORIZON)
    if rules.end_at is not None:
        cap = min(cap, rules.end_at)
    scan_to = min(cap, at + timedelta(hours=36))
    if window is None:
        # (3) nothing allowed in the scanned span.
        assert not allowed(rules, zones, at)
        assert not any(allowed(rules, zones, m) for m in _minutes(at, scan_to))
        return
    # (1) starts at or after the instant asked about.
    assert at <= window.start < window.end <= cap
    # (2) every sampled instant inside is allowed in every zone.
    inside = [window.start, window.end - timedelta(microseconds=1)]
    inside += _minutes(window.start, min(window.end, window.start + timedelta(hours=30)))
    inside += _minutes(max(window.start, window.end - timedelta(hours=6)), window.end)
    for instant in inside:
        assert allowed(rules, zones, instant), instant
    # (3) nothing allowed between at and start.
    before = [at] if at < window.start else []
    before += _minutes(at, min(window.start, scan_to))
    for instant in before:
        assert not allowed(rules, zones, instant), instant
    # (4) maximal: the end instant itself is closed, unless cut by end_at or the horizon.
    assert window.end == cap or not allowed(rules, zones, window.end)


@given(scenarios())
def test_windows_between_cover_exactly_the_allowed_minutes(
        scenario: tuple[CallingRules, tuple[str, ...], datetime]) -> None:
    rules, zones, at = scenario
    end = at + timedelta(days=2)
    found = list(windows_between(rules, zones, at, end))
    for earlier, later in itertools.pairwise(found):
        assert earlier.end < later.start  # sorted, disjoint, not touching
    open_minutes = {m for w in found for m in _minutes(w.start, w.end)}
    for minute in _minutes(at, end):
        assert (minute in open_minutes) == allowed(rules, zones, minute), minute


@given(scenarios(), st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=30))
def test_is_open_agrees_with_brute_force(
        scenario: tuple[CallingRules, tuple[str, ...], datetime], offsets: list[int]) -> None:
    rules, zones, at = scenario
    for offset in offsets:
        instant = at + offset * MINUTE
        assert is_open(rules, zones, instant) == allowed(rules, zones, instant), instant


@given(st.sampled_from(["America/New_York", "Europe/Paris", "Asia/Kolkata"]),
       st.integers(0, 400 * 24), st.sampled_from([None, (time(9), time(17)), (time(0), time(2))]),
       st.integers(1, 72))
def test_span_limit_keeps_the_start_and_narrows_the_end(zone: str, hour: int,
                                                         hours: tuple[time, time] | None,
                                                         step_hours: int) -> None:
    rules = CallingRules(call_hours=hours)
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hour, minutes=7)
    exact = next_window(rules, [zone], at)
    quick = next_window(rules, [zone], at, span_limit=timedelta(hours=step_hours))
    assert exact is not None and quick is not None
    assert quick.start == exact.start
    assert quick.start < quick.end <= exact.end
