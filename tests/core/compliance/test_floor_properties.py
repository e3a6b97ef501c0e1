"""Properties of legal floors: nothing widens the federal floor, a floor is exactly the
intersection of its rules (checked minute by minute), and equal inputs give equal floors."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.compliance.caps import FrequencyCap
from ringwise.core.compliance.floors import (
    FloorRule,
    FloorSettings,
    LegalFloor,
    floor_for,
    workspace_rule,
)
from ringwise.core.compliance.jurisdiction import Jurisdiction
from ringwise.core.compliance.rules_us import US_FEDERAL, US_STATE_RULES
from ringwise.core.compliance.rules_world import COUNTRY_RULES
from ringwise.core.windows import TimeRange

NY = ZoneInfo("America/New_York")
TABLE_RULES = [US_FEDERAL, *US_STATE_RULES.values(), *COUNTRY_RULES.values()]


def minute_time(minute: int) -> time:
    return time.max if minute == 1440 else time(minute // 60, minute % 60)


def minute_of(value: time) -> int:
    return 1440 if value == time.max else value.hour * 60 + value.minute


slots = st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(
    lambda pair: pair[0] < pair[1]).map(lambda pair: (minute_time(pair[0]), minute_time(pair[1])))
days_slots = st.dictionaries(st.integers(0, 6), st.lists(slots, max_size=3), max_size=7)
workspace_rules = st.builds(
    workspace_rule, st.sampled_from(["workspace-default", "workspace-stricter"]),
    st.just("random"), days_slots, st.sampled_from([None, "US", "FR", "GB"]))
floor_settings = st.builds(
    FloorSettings, workspace_rules, st.none() | workspace_rules,
    st.lists(st.builds(FrequencyCap, st.just("ws"), st.just("ws"), st.just("ws"),
                       st.integers(1, 5), st.timedeltas(timedelta(seconds=1), timedelta(days=60))),
             max_size=1).map(tuple))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
us_states = st.frozensets(st.sampled_from([*US_STATE_RULES, "NY", "CA", "ON", "QC", "ZZ"]))
other_countries = st.frozensets(st.sampled_from(["FR", "ES", "CA", "DE", "GB", "PR"]))


def allowed_minutes(slot_list: tuple[TimeRange, ...] | list[TimeRange]) -> set[int]:
    minutes: set[int] = set()
    for start, end in slot_list:
        minutes.update(range(minute_of(start), minute_of(end)))
    return minutes


@given(floor_settings, us_states, other_countries, days)
def test_nothing_widens_the_federal_floor_for_us_contacts(
        chosen: FloorSettings, states: frozenset[str], extra: frozenset[str], day: date) -> None:
    floor = floor_for(Jurisdiction(frozenset({"US"}) | extra, states), chosen)
    assert "us-federal" in floor.keys
    for start, end in floor(day, NY):
        assert time(8) <= start < end <= time(21)


@given(st.lists(st.sampled_from(TABLE_RULES), max_size=4), st.lists(workspace_rules, max_size=2),
       days)
def test_a_floor_is_exactly_the_intersection_of_its_rules(
        table: list[FloorRule], workspace: list[FloorRule], day: date) -> None:
    rules = [*table, *workspace]
    result = LegalFloor(tuple(rules))(day, NY)
    expected = set(range(1440))
    for rule in rules:
        expected &= allowed_minutes(rule.slots_on(day))
    assert allowed_minutes(result) == expected
    # Sorted, disjoint, not touching (merged), non-empty slots.
    for (_, end), (next_start, _) in pairwise(result):
        assert end < next_start
    assert all(start < end for start, end in result)


@given(us_states, other_countries, floor_settings)
def test_equal_jurisdictions_give_equal_floors(
        states: frozenset[str], countries: frozenset[str], chosen: FloorSettings) -> None:
    forward = Jurisdiction(frozenset(sorted(countries)), frozenset(sorted(states)))
    backward = Jurisdiction(frozenset(sorted(countries, reverse=True)),
                            frozenset(sorted(states, reverse=True)))
    a, b = floor_for(forward, chosen), floor_for(backward, chosen)
    assert a == b and hash(a) == hash(b)
    assert list(a.keys) == sorted(a.keys)
    assert LegalFloor(tuple(reversed(a.rules)), a.extra_caps) == a


@given(other_countries.filter(lambda c: not c & {"FR", "ES", "CA", "PR"}), floor_settings,
       days)
def test_countries_without_rules_get_exactly_the_workspace_floors(
        countries: frozenset[str], chosen: FloorSettings, day: date) -> None:
    floor = floor_for(Jurisdiction(countries), chosen)
    expected = allowed_minutes(chosen.default_floor.slots_on(day))
    if chosen.stricter is not None:
        expected &= allowed_minutes(chosen.stricter.slots_on(day))
    assert allowed_minutes(floor(day, NY)) == expected
    assert set(chosen.caps) <= set(floor.caps)
