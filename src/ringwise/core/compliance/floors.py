"""Legal calling-hour floors: the callee-local hours no campaign setting can widen.

A :class:`FloorRule` is one law (or one workspace choice) as data: allowed slots per weekday,
public holidays on which it forbids calls, frequency caps, and where it comes from. A
:class:`LegalFloor` is every rule that applies to one contact; its slots are the intersection
of theirs, and it plugs into :attr:`ringwise.core.windows.CallingRules.floor`. Pure: public
holidays come from the ``holidays`` package's tables, never from the network or the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import cache, lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from ringwise.core.compliance.caps import FrequencyCap
from ringwise.core.compliance.jurisdiction import Jurisdiction
from ringwise.core.windows import TimeRange

Week = tuple[tuple[TimeRange, ...], ...]
"""Seven entries, Monday=0 .. Sunday=6: that day's allowed local slots (a union)."""

_WHOLE_DAY: Final[tuple[TimeRange, ...]] = ((time.min, time.max),)


# -- slot arithmetic and public holidays (rules use them when built) ------------------


def is_public_holiday(day: date, country: str, subdivision: str | None = None) -> bool:
    """Whether ``day`` is a public holiday (or its observed day) in the country/subdivision."""
    if day in _holiday_dates(country, subdivision, day.year):
        return True
    # A holiday on January 1 may be observed on December 31, listed under either year.
    return day.month == 12 and day in _holiday_dates(country, subdivision, day.year + 1)


def intersect(left: Sequence[TimeRange], right: Sequence[TimeRange]) -> tuple[TimeRange, ...]:
    """Intersection of two unions of slots, merged and sorted."""
    a, b = _merge(left), _merge(right)
    out: list[TimeRange] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _merge(slots: Iterable[TimeRange]) -> tuple[TimeRange, ...]:
    merged: list[TimeRange] = []
    for start, end in sorted(slots):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _normalise(slots: Iterable[TimeRange], key: str) -> tuple[TimeRange, ...]:
    pairs = tuple((start, end) for start, end in slots)
    for start, end in pairs:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"rule {key}: times must be naive (callee-local)")
        if not start < end:
            raise ValueError(f"rule {key}: slot {start}-{end} must end after it starts")
    return _merge(pairs)


def _rule_order(rule: FloorRule) -> tuple[str, str]:
    return rule.key, repr(rule)


@cache
def _calendars() -> dict[str, list[str]]:
    return dict(holidays_lib.list_supported_countries())


def _check_calendar(country: str, subdivision: str | None) -> None:
    """Fail when the rule is built, not when the dialer asks about a date."""
    subdivisions = _calendars().get(country)
    if subdivisions is None:
        raise ValueError(f"no public-holiday calendar for country {country!r}")
    if subdivision is not None and subdivision not in subdivisions:
        raise ValueError(f"no public-holiday calendar for {country}-{subdivision}")


@lru_cache(maxsize=1024)  # (country, subdivision, year) in use
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(table) | _missing(country, subdivision, year)


def _missing(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Legal holidays the ``holidays`` tables lack, per the statute the rule cites."""
    if (country, subdivision) == ("US", "RI"):
        # R.I. Gen. Laws 25-1-1 also names May 4 (Rhode Island Independence Day; the next
        # day when it falls on a Sunday) and general election day in even years.
        may_4 = date(year, 5, 4)
        days = {may_4 + timedelta(days=1) if may_4.weekday() == 6 else may_4}
        if year % 2 == 0:
            november = date(year, 11, 1)
            first_monday = november + timedelta(days=-november.weekday() % 7)
            days.add(first_monday + timedelta(days=1))
        return frozenset(days)
    return frozenset()


@dataclass(frozen=True, slots=True)
class FloorRule:
    """One calling-hours rule. Times are callee-local wall clock; slot ends are exclusive
    (``time.max`` means the end of the day). ``holidays`` names the (country, subdivision)
    whose public holidays forbid calls all day."""

    key: str
    title: str
    source: str
    week: Week
    holidays: tuple[str, str | None] | None = None
    caps: tuple[FrequencyCap, ...] = ()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"rule {self.key}: week needs 7 entries (Monday..Sunday)")
        object.__setattr__(self, "week", tuple(_normalise(day, self.key) for day in self.week))
        object.__setattr__(self, "caps", tuple(self.caps))
        if self.holidays is not None:
            country, subdivision = self.holidays
            _check_calendar(country, subdivision)
            object.__setattr__(self, "holidays", (country, subdivision))

    def slots_on(self, day: date) -> tuple[TimeRange, ...]:
        """The allowed slots on a local date: () on a closed weekday or a public holiday."""
        if self.holidays is not None and is_public_holiday(day, *self.holidays):
            return ()
        return self.week[day.weekday()]


@dataclass(frozen=True, slots=True)
class LegalFloor:
    """Every rule that applies to a contact (all of them at once). A ``windows.FloorFn``:
    hashable and pure. ``extra_caps`` are the workspace's own caps (see ``caps``)."""

    rules: tuple[FloorRule, ...]
    extra_caps: tuple[FrequencyCap, ...] = ()
    # Derived once: the dialer asks for them at every dial.
    all_caps: tuple[FrequencyCap, ...] = field(init=False, repr=False, compare=False)
    keys_text: str = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        # Computed once: calling rules holding this floor are cache keys at every dial.
        return self._hash

    def __post_init__(self) -> None:
        # A canonical order, so equal sets of rules give equal (cache-friendly) floors.
        object.__setattr__(self, "rules", tuple(sorted(set(self.rules), key=_rule_order)))
        object.__setattr__(self, "extra_caps", tuple(dict.fromkeys(self.extra_caps)))
        every = (cap for rule in self.rules for cap in rule.caps)
        object.__setattr__(self, "all_caps", tuple(dict.fromkeys((*every, *self.extra_caps))))
        object.__setattr__(self, "keys_text", "+".join(rule.key for rule in self.rules))
        object.__setattr__(self, "_hash", hash((self.rules, self.extra_caps)))

    def __call__(self, day: date, tz: ZoneInfo) -> tuple[TimeRange, ...]:
        """Allowed local slots on ``day``; ``tz`` is unused (rules are wall-clock)."""
        slots = _WHOLE_DAY
        for rule in self.rules:
            slots = intersect(slots, rule.slots_on(day))
            if not slots:
                break
        return slots

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(rule.key for rule in self.rules)

    @property
    def caps(self) -> tuple[FrequencyCap, ...]:
        """Every rule's caps and the extra caps, without duplicates."""
        return self.all_caps

    def describe(self) -> str:
        """The rule keys joined by '+', e.g. 'us-federal+us-fl', for audit logs."""
        return self.keys_text


@dataclass(frozen=True, slots=True)
class FloorSettings:
    """A workspace's choices: the floor for countries without built-in rules (and unknown
    ones), an optional stricter floor for every call, and extra per-number caps."""

    default_floor: FloorRule
    stricter: FloorRule | None = None
    caps: tuple[FrequencyCap, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "caps", tuple(self.caps))


def weekly(weekdays: Sequence[TimeRange], *, saturday: Sequence[TimeRange],
           sunday: Sequence[TimeRange]) -> Week:
    """A week from Monday-Friday, Saturday and Sunday slots (``()``: no calls that day)."""
    return (*(tuple(weekdays),) * 5, tuple(saturday), tuple(sunday))


def every_day(slots: Sequence[TimeRange]) -> Week:
    """The same slots on all seven days."""
    return (tuple(slots),) * 7


def workspace_rule(key: str, title: str, slots_by_weekday: Mapping[int, Sequence[TimeRange]],
                   holidays_country: str | None = None) -> FloorRule:
    """A rule from workspace settings: weekday (0=Monday..6=Sunday) -> slots; a weekday not
    in the mapping allows no calls; ``holidays_country`` forbids that country's holidays."""
    if any(not 0 <= day <= 6 for day in slots_by_weekday):
        raise ValueError("weekdays must be 0 (Monday) .. 6 (Sunday)")
    days = tuple(tuple(slots_by_weekday.get(day, ())) for day in range(7))
    calendar = (holidays_country.upper(), None) if holidays_country else None
    return FloorRule(key=key, title=title, source="workspace setting", week=days,
                     holidays=calendar)


DEFAULT_FLOOR_SETTINGS: Final = FloorSettings(default_floor=workspace_rule(
    "workspace-default", "Default floor: 09:00-20:00 Monday to Saturday, no Sunday calls",
    {day: [(time(9), time(20))] for day in range(6)}))

# ISO codes of US territories: the TCPA floor reaches them too, though phonenumbers reports
# them as their own regions (+1 787 -> "PR").
US_TERRITORIES: Final = frozenset({"PR", "GU", "VI", "AS", "MP", "UM"})


@lru_cache(maxsize=4096)  # jurisdictions x workspace settings in use
def floor_for(j: Jurisdiction, settings: FloorSettings = DEFAULT_FLOOR_SETTINGS) -> LegalFloor:
    """Every rule for a contact: US numbers and addresses get the federal floor and every
    applicable state rule; countries with built-in rules get theirs; any other or unknown
    country gets the workspace default; the workspace's stricter floor always applies."""
    # Imported here: the tables are built from this module's types.
    from ringwise.core.compliance.rules_us import US_FEDERAL, US_STATE_RULES
    from ringwise.core.compliance.rules_world import COUNTRY_RULES

    rules: list[FloorRule] = []
    needs_default = not j.countries
    for country in j.countries:
        if country == "US" or country in US_TERRITORIES:
            rules.append(US_FEDERAL)
        elif country in COUNTRY_RULES:
            rules.append(COUNTRY_RULES[country])
        else:
            needs_default = True
    if "US" in j.countries:  # Canadian provinces share the codes' namespace, not the laws
        rules.extend(US_STATE_RULES[state] for state in j.states if state in US_STATE_RULES)
    if needs_default:
        rules.append(settings.default_floor)
    if settings.stricter is not None:
        rules.append(settings.stricter)
    return LegalFloor(tuple(rules), extra_caps=settings.caps)


__all__ = [
    "DEFAULT_FLOOR_SETTINGS", "US_TERRITORIES", "FloorRule", "FloorSettings", "LegalFloor",
    "TimeRange", "Week", "every_day", "floor_for", "intersect", "is_public_holiday", "weekly",
    "workspace_rule",
]
