"""Calling windows: the next UTC instant at which a contact may be called, and until when.

Pure: no I/O, no wall clock; the caller passes the instant ``at``. Every source of rules is
intersected: campaign start/end instants, a naive per-contact local start, runs (date ranges
with a daily window and optional selected dates), allowed weekdays, call hours, business-hour
slots (a union within the day), an optional legal floor supplied by the compliance layer, and
every candidate time zone of the contact (a window must be open in all of them).

DST rule. All daily rules are wall-clock times on a local date ``d``. A local slot ``[a, b)``
becomes the instants ``u`` with ``first(d a) <= u < first(d b)`` whose local wall clock
reads a time in ``[a, b)`` on ``d``, where ``first(x)`` is the first instant at which the
wall clock reads ``x`` or later:

* a time that exists once maps to that instant;
* an ambiguous time (fall-back, the clock repeats) maps to its earlier instant (``fold=0``),
  for starts and ends alike: a window ending inside the repeated hour closes at the first
  pass and does not reopen in the repeat; a window starting inside it opens at the first
  pass, pauses while the clock replays times before its start, and reopens when the clock
  reaches the start again;
* a time that does not exist (spring-forward gap, e.g. 02:30 on 2026-03-08 in New York)
  maps to the first instant after the gap (03:00 EDT).

So no window ever contains an instant whose wall clock, in any candidate zone, is outside the
configured hours. The naive ``local_start`` uses the same ``first(...)`` rule. End times are
exclusive; ``time.max`` (what ``parse_hhmm("24:00")`` returns) means the end of the day.

The interval arithmetic assumes a zone changes its UTC offset at most once within one local
day, which holds for every tzdb zone from 1990 to 2040.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from ringwise.core.timezones import is_timezone, zone

TimeRange = tuple[time, time]
FloorFn = Callable[[date, ZoneInfo], Sequence[TimeRange]]
"""Legal floor: the allowed local slots (a union) on a date in a zone; pure and hashable."""

_US: Final = 1_000_000  # microseconds per second
_DAY: Final = 86_400 * _US  # 24:00 as microseconds of the day
_ONE_DAY: Final = timedelta(days=1)
_MAX_OFFSET: Final = timedelta(hours=15)  # beyond any real UTC offset (-12 .. +14)
_DAY_CACHE_LIMIT: Final = 32_768  # per rule set: 40-zone toll-free numbers x a 400-day horizon

_Slots = tuple[tuple[int, int], ...]  # local microseconds of the day, sorted, disjoint
_Span = tuple[datetime, datetime]  # naive UTC [start, end)


class TimeSlotLike(Protocol):
    """Anything with ``start``/``end`` times, such as :class:`ringwise.core.hours.TimeSlot`."""

    @property
    def start(self) -> time: ...

    @property
    def end(self) -> time: ...


@dataclass(frozen=True, slots=True)
class Run:
    """Dates ``start_date``..``end_date`` (inclusive) with a daily window, callee-local.

    ``dates``, when given, narrows the range to those selected dates.
    """

    start_date: date
    end_date: date
    start_time: time = time.min
    end_time: time = time.max
    dates: frozenset[date] | None = None

    def __post_init__(self) -> None:
        if self.end_date < self.start_date:
            raise ValueError("run end_date is before start_date")
        _micros_pair((self.start_time, self.end_time))
        if self.dates is not None:
            object.__setattr__(self, "dates", frozenset(self.dates))

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date and (
            self.dates is None or day in self.dates)


@dataclass(frozen=True, slots=True)
class CallingRules:
    """A campaign's calling rules; every field narrows the allowed instants (intersection).

    ``start_at``/``end_at`` are aware instants (``end_at`` exclusive). ``local_start`` is a
    naive wall-clock time meaning "not before this time in each of the contact's own zones".
    ``weekdays`` uses 0=Monday..6=Sunday, callee-local; None allows all. ``call_hours`` is one
    daily slot; ``business_hours`` a union of daily slots; empty/None means no restriction.
    ``floor`` must be pure and hashable (results are cached per rule set, zone and date).
    """

    start_at: datetime | None = None
    end_at: datetime | None = None
    local_start: datetime | None = None
    runs: tuple[Run, ...] = ()
    weekdays: frozenset[int] | None = None
    call_hours: TimeRange | None = None
    business_hours: tuple[TimeRange, ...] = ()
    floor: FloorFn | None = None
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __hash__(self) -> int:
        # Computed once: the window cache is keyed by the rules at every call.
        return self._hash

    def __post_init__(self) -> None:
        for name in ("start_at", "end_at"):
            value: datetime | None = getattr(self, name)
            if value is not None:
                if value.utcoffset() is None:
                    raise ValueError(f"{name} must be timezone-aware")
                object.__setattr__(self, name, value.astimezone(UTC))
        if self.local_start is not None and self.local_start.tzinfo is not None:
            raise ValueError("local_start must be naive (a wall-clock time in each contact's zone)")
        if self.weekdays is not None:
            if any(not 0 <= day <= 6 for day in self.weekdays):
                raise ValueError("weekdays must be 0 (Monday) .. 6 (Sunday)")
            object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if self.call_hours is not None:
            _micros_pair(self.call_hours)
        for pair in self.business_hours:
            _micros_pair(pair)
        # Tuples, so that the rules stay hashable even when built from lists.
        object.__setattr__(self, "runs", tuple(self.runs))
        object.__setattr__(self, "business_hours", tuple(self.business_hours))
        object.__setattr__(self, "_hash", hash((
            self.start_at, self.end_at, self.local_start, self.runs, self.weekdays,
            self.call_hours, self.business_hours, self.floor)))


@dataclass(frozen=True, slots=True)
class Window:
    """``[start, end)`` in aware UTC; the contact may be called at any instant inside it."""

    start: datetime
    end: datetime


def slot_pairs(slots: Iterable[TimeSlotLike]) -> tuple[TimeRange, ...]:
    """``TimeSlot`` models -> ``(start, end)`` pairs for :class:`CallingRules`."""
    return tuple((slot.start, slot.end) for slot in slots)


def contact_zones(contact_timezone: str | None, phone_zones: Sequence[str],
                  default_zone: str | None) -> tuple[str, ...]:
    """Candidate zones of a contact: its own ``timezone`` field if set, else the zones its
    number maps to, else the campaign default. Invalid names are ignored; an empty result
    means "unknown" and the caller must not call."""
    if contact_timezone and is_timezone(contact_timezone):
        return (contact_timezone,)
    from_phone = tuple(dict.fromkeys(name for name in phone_zones if is_timezone(name)))
    if from_phone:
        return from_phone
    if default_zone and is_timezone(default_zone):
        return (default_zone,)
    return ()


def next_window(rules: CallingRules, zones: Sequence[ZoneInfo | str], at: datetime, *,
                horizon_days: int = 400, span_limit: timedelta | None = None) -> Window | None:
    """The first window with ``start >= at``, or None when there is none before ``end_at``
    and within ``horizon_days`` of ``at``. ``end`` is capped at ``end_at`` and the horizon.

    ``span_limit`` trades the exact end for speed: the search runs in steps of that length
    and the window found ends no later than the end of its step (its start stays exact). A
    schedule without daily hours is one window for all 400 days; without a limit, finding
    its end walks every one of them."""
    lo = _utc(at, "at")
    hi = lo + timedelta(days=horizon_days)
    if span_limit is None:
        for span in _windows(rules, _zones(zones), lo, hi):
            return _window(span)
        return None
    if span_limit <= timedelta(0):
        raise ValueError("span_limit must be positive")
    resolved = _zones(zones)
    step_lo = lo
    while step_lo < hi:
        step_hi = min(step_lo + span_limit, hi)
        for span in _windows(rules, resolved, step_lo, step_hi):
            return _window(span)
        step_lo = step_hi
    return None


def windows_between(rules: CallingRules, zones: Sequence[ZoneInfo | str], start: datetime,
                    end: datetime) -> Iterator[Window]:
    """All windows within ``[start, end)``, in order, clipped to it."""
    lo, hi = _utc(start, "start"), _utc(end, "end")
    for span in _windows(rules, _zones(zones), lo, hi):
        yield _window(span)


def is_open(rules: CallingRules, zones: Sequence[ZoneInfo | str], at: datetime) -> bool:
    """Whether ``at`` lies inside a window."""
    now = _utc(at, "at")
    plan = _plan(rules)
    resolved = _zones(zones)
    if now < plan.lower_bound(resolved) or (plan.end is not None and now >= plan.end):
        return False
    for tz in resolved:
        # Only the current local date: an earlier date's spans end by the first instant the
        # clock reads this date's 00:00, which is <= now.
        if not any(a <= now < b for a, b in plan.day(tz, _local(now, tz).date())):
            return False
    return True


# -- internals ------------------------------------------------------------------------------


def _micros(value: time) -> int:
    if value == time.max:
        return _DAY
    return ((value.hour * 60 + value.minute) * 60 + value.second) * _US + value.microsecond


def _micros_pair(pair: TimeRange) -> tuple[int, int]:
    start, end = _micros(pair[0]), _micros(pair[1])
    if pair[0].tzinfo is not None or pair[1].tzinfo is not None:
        raise ValueError("daily times must be naive (callee-local)")
    if not start < end:
        raise ValueError(f"slot {pair[0]}-{pair[1]}: the end must be after the start")
    return start, end


def _merge(pairs: Iterable[tuple[int, int]]) -> _Slots:
    """Union of local slots; overlapping and touching slots become one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pairs):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _intersect_slots(left: _Slots, right: _Slots) -> _Slots:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _utc(value: datetime, name: str) -> datetime:
    """Aware -> naive UTC (internal representation: cheap comparisons)."""
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC).replace(tzinfo=None)


def _window(span: _Span) -> Window:
    return Window(span[0].replace(tzinfo=UTC), span[1].replace(tzinfo=UTC))


def _zones(zones: Sequence[ZoneInfo | str]) -> tuple[ZoneInfo, ...]:
    if not zones:
        raise ValueError("no candidate time zone: the contact must not be called")
    return tuple(zone(z) if isinstance(z, str) else z for z in zones)


def _local(utc_naive: datetime, tz: ZoneInfo) -> datetime:
    return utc_naive.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def _offset(utc_naive: datetime, tz: ZoneInfo) -> timedelta:
    offset = utc_naive.replace(tzinfo=UTC).astimezone(tz).utcoffset()
    assert offset is not None  # ZoneInfo always has one
    return offset


def _first_second(after: datetime, until: datetime,
                  reached: Callable[[datetime], bool]) -> datetime:
    """First whole-second instant in ``(after, until]`` where monotone ``reached`` holds;
    tzdb transitions fall on whole seconds, so this finds them exactly."""
    base = after.replace(microsecond=0)
    lo, hi = 1, max(1, int((until - base).total_seconds()) + 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if reached(base + timedelta(seconds=mid)):
            hi = mid
        else:
            lo = mid + 1
    return min(base + timedelta(seconds=lo), until)


def _first_reach(tz: ZoneInfo, wall: datetime) -> datetime:
    """First instant (naive UTC) at which the wall clock in ``tz`` reads ``wall`` or later."""
    wall = wall.replace(fold=0)  # the rule, not the caller's fold, picks the instant
    instant = wall.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)  # fold=0: earlier
    if _local(instant, tz) == wall:
        return instant
    # In a gap, fold=0 used the offset before the change, landing after it; fold=1 used the
    # offset after, landing before it. The change (the first instant after the gap) lies
    # in between.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(tzinfo=None)
    return _first_second(before, instant, lambda u: _local(u, tz) >= wall)


def _to_utc(tz: ZoneInfo, day: date, slot: tuple[int, int]) -> list[_Span]:
    """One local slot on ``day`` -> its UTC instants, per the module's DST rule."""
    midnight = datetime.combine(day, time.min)
    wall_start = midnight + timedelta(microseconds=slot[0])
    start = _first_reach(tz, wall_start)
    end = _first_reach(tz, midnight + timedelta(microseconds=slot[1]))
    if start >= end:
        return []  # the whole slot fell into a spring-forward gap
    offset_start = _offset(start, tz)
    offset_end = _offset(end - timedelta(microseconds=1), tz)
    if offset_end < offset_start:
        # Fall-back inside the slot: the clock replays times, possibly some before the
        # slot's start; those instants are cut out.
        change = _first_second(start, end, lambda u: _offset(u, tz) != offset_start)
        reopen = wall_start - offset_end
        if reopen > change:
            return [(start, change)] + ([(reopen, end)] if reopen < end else [])
    return [(start, end)]


class _Plan:
    """Rules pre-digested for the hot path, plus a per-(zone, date) cache of UTC spans."""

    __slots__ = ("_days", "_local_starts", "business", "call", "end", "floor", "last_run",
                 "never", "runs", "start", "wall_start", "weekdays")

    def __init__(self, rules: CallingRules) -> None:
        self.start = rules.start_at.replace(tzinfo=None) if rules.start_at else None
        self.end = rules.end_at.replace(tzinfo=None) if rules.end_at else None
        self.wall_start = rules.local_start
        self.runs = rules.runs
        self.last_run = max((run.end_date for run in rules.runs), default=None)
        self.weekdays = rules.weekdays
        self.call: _Slots | None = (
            (_micros_pair(rules.call_hours),) if rules.call_hours is not None else None)
        self.business: _Slots | None = (
            _merge(_micros_pair(pair) for pair in rules.business_hours)
            if rules.business_hours else None)
        self.floor = rules.floor
        self.never = rules.weekdays is not None and not rules.weekdays
        self._days: dict[tuple[ZoneInfo, date], tuple[_Span, ...]] = {}
        self._local_starts: dict[ZoneInfo, datetime] = {}

    def lower_bound(self, zones: Sequence[ZoneInfo]) -> datetime:
        bound = self.start or datetime.min
        if self.wall_start is not None:
            for tz in zones:
                first = self._local_starts.get(tz)
                if first is None:
                    first = self._local_starts[tz] = _first_reach(tz, self.wall_start)
                bound = max(bound, first)
        return bound

    def day(self, tz: ZoneInfo, day: date) -> tuple[_Span, ...]:
        key = (tz, day)
        spans = self._days.get(key)
        if spans is None:
            if len(self._days) >= _DAY_CACHE_LIMIT:
                self._days.clear()
            spans = self._days[key] = tuple(
                span for slot in self._local_slots(tz, day) for span in _to_utc(tz, day, slot))
        return spans

    def _local_slots(self, tz: ZoneInfo, day: date) -> _Slots:
        if self.weekdays is not None and day.weekday() not in self.weekdays:
            return ()
        slots: _Slots = ((0, _DAY),)
        if self.runs:
            slots = _merge(_micros_pair((run.start_time, run.end_time))
                           for run in self.runs if run.covers(day))
        if self.call is not None:
            slots = _intersect_slots(slots, self.call)
        if self.business is not None:
            slots = _intersect_slots(slots, self.business)
        if self.floor is not None and slots:
            slots = _intersect_slots(
                slots, _merge(_micros_pair(pair) for pair in self.floor(day, tz)))
        return slots


@lru_cache(maxsize=4096)  # rule sets in use at once (campaigns x the legal floors of contacts)
def _plan(rules: CallingRules) -> _Plan:
    return _Plan(rules)


def _zone_spans(plan: _Plan, tz: ZoneInfo, lo: datetime, hi: datetime) -> Iterator[_Span]:
    """Allowed spans in one zone within ``[lo, hi)``, sorted, touching spans merged."""
    day = _local(lo, tz).date()  # earlier dates' spans all end at or before lo
    pending: _Span | None = None
    while datetime.combine(day, time.min) - _MAX_OFFSET < hi:
        if plan.last_run is not None and day > plan.last_run:
            break
        for start, end in plan.day(tz, day):
            if end <= lo:
                continue
            if start >= hi:
                break
            start, end = max(start, lo), min(end, hi)
            if pending is not None and start <= pending[1]:
                pending = (pending[0], max(pending[1], end))
            else:
                if pending is not None:
                    yield pending
                pending = (start, end)
        day += _ONE_DAY
    if pending is not None:
        yield pending


def _windows(rules: CallingRules, zones: tuple[ZoneInfo, ...], lo: datetime,
             hi: datetime) -> Iterator[_Span]:
    """Intersection of every zone's spans, within ``[lo, hi)`` and the campaign bounds."""
    plan = _plan(rules)
    if plan.never:
        return
    lo = max(lo, plan.lower_bound(zones))
    if plan.end is not None:
        hi = min(hi, plan.end)
    if lo >= hi:
        return
    streams = [_zone_spans(plan, tz, lo, hi) for tz in zones]
    if len(streams) == 1:
        yield from streams[0]
        return
    heads: list[_Span] = []
    for stream in streams:
        head = next(stream, None)
        if head is None:
            return
        heads.append(head)
    while True:
        start = max(head[0] for head in heads)
        end = min(head[1] for head in heads)
        if start < end:
            # Each stream's spans are merged, so a stream that ends at ``end`` has a real gap
            # after it: this window is maximal.
            yield start, end
        for index, head in enumerate(heads):
            if head[1] == end:
                advanced = next(streams[index], None)
                if advanced is None:
                    return
                heads[index] = advanced


__all__ = [
    "CallingRules", "FloorFn", "Run", "TimeRange", "TimeSlotLike", "Window", "contact_zones",
    "is_open", "next_window", "slot_pairs", "windows_between",
]
