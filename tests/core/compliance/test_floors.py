"""Legal floors: every table entry's hours, closed days, holidays and caps; floor_for."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ringwise.core.compliance.caps import FrequencyCap
from ringwise.core.compliance.floors import (
    DEFAULT_FLOOR_SETTINGS,
    FloorRule,
    FloorSettings,
    LegalFloor,
    every_day,
    floor_for,
    intersect,
    is_public_holiday,
    workspace_rule,
)
from ringwise.core.compliance.jurisdiction import Jurisdiction, jurisdiction_of
from ringwise.core.compliance.rules_us import US_FEDERAL, US_STATE_RULES
from ringwise.core.compliance.rules_world import COUNTRY_RULES
from ringwise.core.phones import describe
from ringwise.core.windows import CallingRules, TimeRange, Window, is_open, next_window

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
# An ordinary week of 2026 without holidays in any table: Monday 2026-03-09 .. Sunday 03-15.
MONDAY, SATURDAY, SUNDAY = date(2026, 3, 9), date(2026, 3, 14), date(2026, 3, 15)


def h(start: float, end: float) -> TimeRange:
    def to_time(value: float) -> time:
        return time(int(value), round(value % 1 * 60))
    return to_time(start), to_time(end)


def us(*states: str) -> Jurisdiction:
    return Jurisdiction(frozenset({"US"}), frozenset(states))


# key: (Monday-Friday, Saturday, Sunday, holiday calendar, cap (limit, window))
EXPECTED_US: dict[str, tuple[tuple[TimeRange, ...], tuple[TimeRange, ...],
                             tuple[TimeRange, ...], str | None, tuple[int, timedelta] | None]] = {
    "FL": ((h(8, 20),), (h(8, 20),), (h(8, 20),), None, (3, timedelta(hours=24))),
    "OK": ((h(8, 20),), (h(8, 20),), (h(8, 20),), None, (3, timedelta(hours=24))),
    "MD": ((h(8, 20),), (h(8, 20),), (h(8, 20),), None, (3, timedelta(hours=24))),
    "CT": ((h(9, 20),), (h(9, 20),), (h(9, 20),), None, None),
    "AL": ((h(8, 20),), (h(8, 20),), (), "AL", None),
    "RI": ((h(9, 18),), (h(10, 17),), (), "RI", None),
    "LA": ((h(8, 20),), (h(8, 20),), (), "LA", None),
    "MS": ((h(8, 20),), (h(8, 20),), (), None, None),
    "UT": ((h(8, 21),), (h(8, 21),), (), "UT", None),
    "TX": ((h(9, 21),), (h(9, 21),), (h(12, 21),), None, None),
    "WA": ((h(8, 20),), (h(8, 20),), (h(8, 20),), None, None),
    "MA": ((h(8, 20),), (h(8, 20),), (h(8, 20),), None, None),
    "NM": ((h(9, 21),), (h(9, 21),), (h(9, 21),), None, None),
    "NV": ((h(9, 21),), (h(9, 21),), (h(9, 21),), None, None),
    "PA": ((h(8, 21),), (h(8, 21),), (h(8, 21),), "PA", None),
}


def test_federal_floor_every_day() -> None:
    for offset in range(7):
        assert US_FEDERAL.slots_on(MONDAY + timedelta(days=offset)) == (h(8, 21),)
    assert US_FEDERAL.slots_on(date(2026, 12, 25)) == (h(8, 21),)  # no holiday ban
    assert US_FEDERAL.source == "47 CFR 64.1200(c)(1)"


def test_the_state_table_is_the_expected_one() -> None:
    assert set(US_STATE_RULES) == set(EXPECTED_US)


@pytest.mark.parametrize("state", sorted(EXPECTED_US))
def test_state_rule(state: str) -> None:
    weekdays, saturday, sunday, calendar, cap = EXPECTED_US[state]
    rule = US_STATE_RULES[state]
    assert rule.key == f"us-{state.lower()}"
    assert rule.title and rule.source
    for offset in range(5):
        assert rule.slots_on(MONDAY + timedelta(days=offset)) == weekdays
    assert rule.slots_on(SATURDAY) == saturday
    assert rule.slots_on(SUNDAY) == sunday
    assert rule.holidays == (("US", calendar) if calendar else None)
    assert [(c.limit, c.window) for c in rule.caps] == ([cap] if cap else [])
    for c in rule.caps:
        assert c.source and c.key.startswith(rule.key)


@pytest.mark.parametrize(("state", "day"), [
    ("RI", date(2026, 12, 25)),  # Christmas, a Friday
    ("RI", date(2026, 5, 4)),  # Rhode Island Independence Day (R.I. Gen. Laws 25-1-1)
    ("RI", date(2026, 11, 3)),  # general election day
    ("RI", date(2026, 8, 10)),  # Victory Day
    ("AL", date(2026, 7, 3)),  # Independence Day observed (a Friday)
    ("AL", date(2026, 4, 27)),  # Confederate Memorial Day
    ("LA", date(2026, 2, 17)),  # Mardi Gras
    ("UT", date(2026, 7, 24)),  # Pioneer Day
    ("PA", date(2026, 11, 26)),  # Thanksgiving
])
def test_state_holidays_close_the_whole_day(state: str, day: date) -> None:
    assert day.weekday() != 6  # closed for the holiday, not for Sunday
    assert US_STATE_RULES[state].slots_on(day) == ()


def test_rhode_island_odd_years_have_no_election_holiday() -> None:
    assert US_STATE_RULES["RI"].slots_on(date(2027, 11, 2)) == (h(9, 18),)
    # May 4, 2025 was a Sunday: observed on Monday May 5.
    assert US_STATE_RULES["RI"].slots_on(date(2025, 5, 5)) == ()


def test_mississippi_and_texas_have_no_holiday_ban() -> None:
    assert US_STATE_RULES["MS"].slots_on(date(2026, 12, 25)) == (h(8, 20),)
    assert US_STATE_RULES["TX"].slots_on(date(2026, 12, 25)) == (h(9, 21),)


def test_france() -> None:
    rule = COUNTRY_RULES["FR"]
    assert rule.slots_on(date(2026, 7, 13)) == (h(10, 13), h(14, 20))  # a Monday
    assert rule.slots_on(date(2026, 7, 14)) == ()  # Fête nationale, a Tuesday
    assert rule.slots_on(date(2026, 7, 18)) == ()  # Saturday
    assert rule.slots_on(date(2026, 7, 19)) == ()  # Sunday
    assert rule.holidays == ("FR", None)
    (cap,) = rule.caps
    assert cap.limit == 4 and timedelta(days=30) <= cap.window <= timedelta(days=31)
    assert "D.223-9" in rule.source


def test_spain() -> None:
    rule = COUNTRY_RULES["ES"]
    assert rule.slots_on(MONDAY) == (h(9, 21),)
    assert rule.slots_on(SATURDAY) == ()
    assert rule.slots_on(SUNDAY) == ()
    assert rule.slots_on(date(2026, 10, 12)) == ()  # Fiesta Nacional, a Monday
    assert rule.caps == ()


def test_canada() -> None:
    rule = COUNTRY_RULES["CA"]
    assert rule.slots_on(MONDAY) == (h(9, 21.5),)
    assert rule.slots_on(SATURDAY) == (h(10, 18),)
    assert rule.slots_on(SUNDAY) == (h(10, 18),)
    assert rule.slots_on(date(2026, 7, 1)) == (h(9, 21.5),)  # no holiday ban federally


def test_every_table_entry_cites_its_source() -> None:
    rules = [US_FEDERAL, *US_STATE_RULES.values(), *COUNTRY_RULES.values()]
    assert len({rule.key for rule in rules}) == len(rules)
    for rule in rules:
        assert rule.source.strip() and rule.title.strip()
        hashed = hash(rule)  # hashable: floors are cached
        assert hashed == hash(rule)


# -- floor_for ------------------------------------------------------------------------------


def test_florida_number_with_connecticut_address() -> None:
    floor = floor_for(jurisdiction_of(describe("+13055550123"), "Connecticut"))
    assert floor.keys == ("us-ct", "us-federal", "us-fl")
    assert floor.describe() == "us-ct+us-federal+us-fl"
    assert floor(MONDAY, NY) == (h(9, 20),)
    assert [cap.key for cap in floor.caps] == ["us-fl-3-per-24h"]


def test_us_number_without_state_gets_the_federal_floor() -> None:
    floor = floor_for(jurisdiction_of(describe("+18005550123")))
    assert floor.keys == ("us-federal",)
    assert floor(SUNDAY, NY) == (h(8, 21),)


def test_us_territories_get_the_federal_floor() -> None:
    floor = floor_for(jurisdiction_of(describe("+17875550123")))  # Puerto Rico
    assert floor.keys == ("us-federal",)


@pytest.mark.parametrize("jurisdiction", [
    Jurisdiction(frozenset()),
    Jurisdiction(frozenset({"DE"})),
    Jurisdiction(frozenset({"GB"})),
])
def test_unknown_or_unlisted_country_gets_the_default_floor(jurisdiction: Jurisdiction) -> None:
    floor = floor_for(jurisdiction)
    assert floor.keys == ("workspace-default",)
    assert floor(MONDAY, PARIS) == (h(9, 20),)
    assert floor(SATURDAY, PARIS) == (h(9, 20),)
    assert floor(SUNDAY, PARIS) == ()


def test_country_rules_replace_the_default() -> None:
    assert floor_for(Jurisdiction(frozenset({"FR"}))).keys == ("fr",)
    both = floor_for(Jurisdiction(frozenset({"FR", "DE"})))
    assert both.keys == ("fr", "workspace-default")
    assert both(MONDAY, PARIS) == (h(10, 13), h(14, 20))


def test_canadian_provinces_do_not_get_us_state_rules() -> None:
    assert floor_for(jurisdiction_of(describe("+14165550123"))).keys == ("ca",)
    # Even a code that names a US state is ignored without the US among the countries.
    assert floor_for(Jurisdiction(frozenset({"CA"}), frozenset({"FL"}))).keys == ("ca",)
    cross = floor_for(jurisdiction_of(describe("+14165550123"), "Florida"))
    assert cross.keys == ("ca", "us-federal", "us-fl")
    assert cross(SATURDAY, NY) == (h(10, 18),)


def test_stricter_floor_narrows_and_workspace_caps_join() -> None:
    extra = FrequencyCap(key="ws-1-per-day", title="one a day", source="workspace setting",
                         limit=1, window=timedelta(days=1))
    stricter = workspace_rule("workspace-stricter", "lunch hours only",
                              {day: [h(12, 14)] for day in range(7)})
    settings = FloorSettings(DEFAULT_FLOOR_SETTINGS.default_floor, stricter, (extra,))
    floor = floor_for(us("FL"), settings)
    assert floor.keys == ("us-federal", "us-fl", "workspace-stricter")
    assert floor(SUNDAY, NY) == (h(12, 14),)
    assert [cap.key for cap in floor.caps] == ["us-fl-3-per-24h", "ws-1-per-day"]


def test_default_floor_does_not_apply_to_us_numbers() -> None:
    wide = workspace_rule("workspace-default", "any time", {d: [h(0, 23)] for d in range(7)})
    floor = floor_for(us(), FloorSettings(wide))
    assert floor(SUNDAY, NY) == (h(8, 21),)


def test_floors_are_canonical_and_cached() -> None:
    a = LegalFloor((US_STATE_RULES["FL"], US_FEDERAL, US_FEDERAL))
    b = LegalFloor((US_FEDERAL, US_STATE_RULES["FL"]))
    assert a == b and hash(a) == hash(b)
    assert floor_for(us("FL")) == a
    assert floor_for(us("FL")) is floor_for(us("FL"))
    assert LegalFloor(())(MONDAY, NY) == ((time.min, time.max),)


def test_default_settings() -> None:
    rule = DEFAULT_FLOOR_SETTINGS.default_floor
    assert rule.key == "workspace-default"
    assert [rule.slots_on(MONDAY + timedelta(days=d)) for d in range(7)] == (
        [(h(9, 20),)] * 6 + [()])
    assert DEFAULT_FLOOR_SETTINGS.stricter is None and DEFAULT_FLOOR_SETTINGS.caps == ()


def test_workspace_rule_with_holidays() -> None:
    rule = workspace_rule("workspace-default", "weekdays", {d: [h(9, 17)] for d in range(5)},
                          holidays_country="de")
    assert rule.holidays == ("DE", None)
    assert rule.slots_on(date(2026, 10, 5)) == (h(9, 17),)
    assert rule.slots_on(date(2026, 10, 3)) == ()  # a Saturday anyway
    assert rule.slots_on(date(2026, 12, 25)) == ()  # Christmas, a Friday


# -- validation and helpers -----------------------------------------------------------------


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="7 entries"):
        FloorRule("x", "x", "x", every_day([h(9, 17)])[:6])
    with pytest.raises(ValueError, match="end after"):
        FloorRule("x", "x", "x", every_day([h(17, 9)]))
    with pytest.raises(ValueError, match="naive"):
        FloorRule("x", "x", "x", every_day([(time(9, tzinfo=UTC), time(17))]))
    with pytest.raises(ValueError, match="calendar"):
        FloorRule("x", "x", "x", every_day([h(9, 17)]), holidays=("XX", None))
    with pytest.raises(ValueError, match="calendar"):
        FloorRule("x", "x", "x", every_day([h(9, 17)]), holidays=("US", "ZZ"))
    with pytest.raises(ValueError, match="weekdays"):
        workspace_rule("x", "x", {7: [h(9, 17)]})


def test_rule_slots_are_merged_and_sorted() -> None:
    rule = FloorRule("x", "x", "x", every_day([h(14, 16), h(9, 12), h(11, 13)]))
    assert rule.slots_on(MONDAY) == (h(9, 13), h(14, 16))


def test_intersect() -> None:
    assert intersect([h(9, 13), h(14, 20)], [h(12, 15)]) == (h(12, 13), h(14, 15))
    assert intersect([h(9, 12)], [h(12, 14)]) == ()
    assert intersect([], [h(0, 23)]) == ()


def test_new_year_observed_on_december_31() -> None:
    # 2028-01-01 is a Saturday; US federal law observes it on Friday 2027-12-31.
    assert is_public_holiday(date(2027, 12, 31), "US", "RI")
    assert not is_public_holiday(date(2027, 12, 30), "US", "RI")


# -- with the windows engine ----------------------------------------------------------------


def test_france_saturday_waits_for_monday_after_the_national_holiday() -> None:
    rules = CallingRules(floor=floor_for(jurisdiction_of(describe("+33612345678"))))
    saturday_noon = datetime(2026, 7, 11, 12, tzinfo=UTC)
    found = next_window(rules, [PARIS], saturday_noon)
    assert found == Window(datetime(2026, 7, 13, 8, tzinfo=UTC),
                           datetime(2026, 7, 13, 11, tzinfo=UTC))
    after_lunch = next_window(rules, [PARIS], found.end)
    assert after_lunch is not None
    assert after_lunch.start == datetime(2026, 7, 13, 12, tzinfo=UTC)
    # Tuesday 14 July is skipped: the next window after Monday evening is Wednesday.
    wednesday = next_window(rules, [PARIS], after_lunch.end)
    assert wednesday is not None and wednesday.start.date() == date(2026, 7, 15)


def test_campaign_hours_cannot_widen_the_floor() -> None:
    rules = CallingRules(call_hours=(time(7), time(22)),
                         floor=floor_for(jurisdiction_of(describe("+13055550123"), "CT")))
    found = next_window(rules, [NY], datetime(2026, 3, 9, 5, tzinfo=UTC))
    assert found is not None
    local = found.start.astimezone(NY), found.end.astimezone(NY)
    assert (local[0].time(), local[1].time()) == (time(9), time(20))
    assert not is_open(rules, [NY], datetime(2026, 3, 9, 12, 59, tzinfo=UTC))  # 08:59 EDT
    assert is_open(rules, [NY], datetime(2026, 3, 9, 13, 0, tzinfo=UTC))  # 09:00 EDT
    assert not is_open(rules, [NY], datetime(2026, 3, 10, 0, 0, tzinfo=UTC))  # 20:00 EDT
