"""Stored campaign schedules -> calling rules, checked through ``next_window``.

Every document is built through the API's ``Schedule`` model and dumped as it is stored
(``model_dump(mode="json")``), so these tests follow the real stored shape. Combinations the
model refuses but the documented precedence still defines (``call_hours`` next to business
hours or timed runs) are injected into the dumped document.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.api.schemas.campaigns import WEEKDAYS, Schedule
from ringwise.core.hours import TimeSlot
from ringwise.core.schedule_rules import NO_CALLS, default_zone, never_calls, rules_for
from ringwise.core.windows import CallingRules, Window, is_open, next_window

NY = "America/New_York"  # EDT (UTC-4) from 2026-03-08
MADRID = "Europe/Madrid"  # CET (UTC+1) until 2026-03-29
BEFORE = datetime(2026, 3, 1, tzinfo=UTC)


def utc(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def stored(**fields: Any) -> dict[str, Any]:
    """A schedule document exactly as the campaign's ``schedule`` column holds it."""
    return Schedule.model_validate(fields).model_dump(mode="json")


def slots(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [TimeSlot(start_time=a, end_time=b).model_dump(mode="json") for a, b in pairs]


def run(start: str, end: str, times: tuple[str, str] | None = None,
        **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"start_date": start, "end_date": end, **extra}
    if times is not None:
        body["start_time"], body["end_time"] = times
    return body


def windows(rules: CallingRules, zones: list[str], at: datetime = BEFORE,
            count: int = 10) -> list[tuple[datetime, datetime]]:
    """Successive windows from ``at`` (at most ``count``)."""
    out: list[tuple[datetime, datetime]] = []
    while len(out) < count:
        found = next_window(rules, zones, at, horizon_days=60)
        if found is None:
            break
        out.append((found.start, found.end))
        at = found.end
    return out


# -- daily window precedence ------------------------------------------------------------------


def test_runs_apply_their_daily_windows_on_their_dates() -> None:
    doc = stored(runs=[run("2026-03-09", "2026-03-10", ("09:00", "12:00")),
                       run("2026-03-12", "2026-03-12", ("14:00", "16:00"))])
    assert windows(rules_for(doc, None), [NY]) == [
        (utc(9, 13), utc(9, 16)), (utc(10, 13), utc(10, 16)), (utc(12, 18), utc(12, 20))]


def test_selected_days_narrow_a_run() -> None:
    doc = stored(runs=[run("2026-03-09", "2026-03-13", ("10:00", "11:00"),
                           selected_days=["2026-03-13", "2026-03-11"])])
    assert windows(rules_for(doc, None), [NY]) == [
        (utc(11, 14), utc(11, 15)), (utc(13, 14), utc(13, 15))]


def test_run_without_times_takes_call_hours() -> None:
    doc = stored(runs=[run("2026-03-09", "2026-03-09")],
                 call_hours={"start_time": "15:00", "end_time": "16:30"})
    assert windows(rules_for(doc, None), [NY]) == [(utc(9, 19), utc(9, 20, 30))]


def test_run_times_take_precedence_over_call_hours() -> None:
    # The model refuses call_hours next to timed runs; the precedence still defines it:
    # the run's own times apply, not their intersection with call_hours (empty here).
    doc = stored(runs=[run("2026-03-09", "2026-03-09", ("09:00", "10:00")),
                       run("2026-03-10", "2026-03-10")],
                 business_hours=slots(("09:00", "10:00")))
    doc["business_hours"] = None
    doc["call_hours"] = {"start_time": "15:00", "end_time": "16:00"}
    assert windows(rules_for(doc, None), [NY]) == [
        (utc(9, 13), utc(9, 14)), (utc(10, 19), utc(10, 20))]


def test_call_hours_without_runs() -> None:
    doc = stored(call_hours={"start_time": "09:00", "end_time": "17:00"})
    assert windows(rules_for(doc, None), [NY], at=utc(9), count=2) == [
        (utc(9, 13), utc(9, 21)), (utc(10, 13), utc(10, 21))]


def test_no_daily_rule_means_the_whole_day() -> None:
    rules = rules_for(stored(end_at="2026-03-20T00:00:00Z"), None)
    assert windows(rules, [NY], at=utc(9, 5)) == [(utc(9, 5), utc(20))]


def test_business_hours_replace_run_times_and_call_hours() -> None:
    doc = stored(runs=[run("2026-03-09", "2026-03-09", ("09:00", "12:00"))],
                 business_hours=slots(("15:00", "16:00"), ("13:00", "14:00")))
    expected = [(utc(9, 17), utc(9, 18)), (utc(9, 19), utc(9, 20))]
    assert windows(rules_for(doc, None), [NY]) == expected
    doc["call_hours"] = {"start_time": "09:00", "end_time": "10:00"}  # refused by the model
    assert windows(rules_for(doc, None), [NY]) == expected
    without_runs = stored(business_hours=slots(("13:00", "14:00")))
    without_runs["call_hours"] = {"start_time": "09:00", "end_time": "10:00"}
    assert windows(rules_for(without_runs, None), [NY], at=utc(9), count=1) == [
        (utc(9, 17), utc(9, 18))]


def test_workspace_business_hours() -> None:
    doc = stored(runs=[run("2026-03-09", "2026-03-10")], use_workspace_business_hours=True)
    workspace = slots(("10:00", "11:00"))
    assert windows(rules_for(doc, workspace), [NY]) == [
        (utc(9, 14), utc(9, 15)), (utc(10, 14), utc(10, 15))]
    # The campaign's own slots win over the workspace's.
    doc["business_hours"] = slots(("12:00", "13:00"))
    assert windows(rules_for(doc, workspace), [NY], count=1) == [(utc(9, 16), utc(9, 17))]
    # Ignored without the flag.
    plain = stored(call_hours={"start_time": "09:00", "end_time": "10:00"})
    assert rules_for(plain, workspace) == rules_for(plain, None)


def test_workspace_flag_without_workspace_hours_fails_closed() -> None:
    doc = stored(use_workspace_business_hours=True)
    empty: list[dict[str, str]] = []
    for workspace in (None, empty):
        with pytest.raises(ValueError, match=r"schedule\.use_workspace_business_hours"):
            rules_for(doc, workspace)


# -- intersected rules ------------------------------------------------------------------------


def test_days_filter() -> None:
    doc = stored(days=["wed"], call_hours={"start_time": "09:00", "end_time": "17:00"})
    assert windows(rules_for(doc, None), [NY], at=utc(9), count=2) == [
        (utc(11, 13), utc(11, 21)), (utc(18, 13), utc(18, 21))]
    with_runs = stored(days=["Tuesday", "thu"],
                       runs=[run("2026-03-09", "2026-03-13", ("09:00", "10:00"))])
    assert windows(rules_for(with_runs, None), [NY]) == [
        (utc(10, 13), utc(10, 14)), (utc(12, 13), utc(12, 14))]


def test_all_days_is_no_filter() -> None:
    every = stored(days=list(WEEKDAYS), call_hours={"start_time": "09:00", "end_time": "17:00"})
    unset = stored(call_hours={"start_time": "09:00", "end_time": "17:00"})
    assert rules_for(every, None) == rules_for(unset, None)


def test_start_at_and_end_at() -> None:
    doc = stored(start_at="2026-03-10T11:30:00-04:00", end_at="2026-03-11T14:00:00Z",
                 call_hours={"start_time": "09:00", "end_time": "17:00"})
    assert windows(rules_for(doc, None), [NY]) == [
        (utc(10, 15, 30), utc(10, 21)), (utc(11, 13), utc(11, 14))]


def test_local_start_in_each_contact_zone() -> None:
    doc = stored(local_start_at="2026-03-10T09:00",
                 call_hours={"start_time": "08:00", "end_time": "18:00"})
    rules = rules_for(doc, None)
    assert rules.local_start == datetime(2026, 3, 10, 9)
    assert windows(rules, [NY], count=1) == [(utc(10, 13), utc(10, 22))]
    assert windows(rules, [MADRID], count=1) == [(utc(10, 8), utc(10, 17))]
    # A contact that may be in either zone: open in both at once.
    assert windows(rules, [NY, MADRID], count=1) == [(utc(10, 13), utc(10, 17))]


# -- messaging-only runs ----------------------------------------------------------------------


def test_all_messaging_only_runs_never_call() -> None:
    doc = stored(
        days=["mon"], call_hours={"start_time": "09:00", "end_time": "17:00"},
        runs=[run("2026-03-09", "2026-03-13", messaging_only=True,
                  messages=[{"send_date": "2026-03-10", "send_time": "10:00",
                             "body": "Hi {{first_name}}"}]),
              run("2026-03-16", "2026-03-16", messaging_only=True)])
    rules = rules_for(doc, None)
    assert rules == NO_CALLS
    assert never_calls(rules)
    assert next_window(rules, [NY], BEFORE) is None
    assert not is_open(rules, [NY], utc(9, 15))


def test_messaging_only_runs_contribute_no_calling_dates() -> None:
    doc = stored(runs=[run("2026-03-09", "2026-03-10", messaging_only=True),
                       run("2026-03-12", "2026-03-12", ("09:00", "10:00"))])
    rules = rules_for(doc, None)
    assert not never_calls(rules)
    assert windows(rules, [NY]) == [(utc(12, 13), utc(12, 14))]


def test_no_runs_is_not_messaging_only() -> None:
    rules = rules_for(stored(), None)
    assert rules == CallingRules()
    assert not never_calls(rules)


# -- cache friendliness -----------------------------------------------------------------------


def test_equal_documents_give_equal_hashable_rules() -> None:
    def build(order: int) -> dict[str, Any]:
        runs = [run("2026-03-09", "2026-03-10", selected_days=["2026-03-10", "2026-03-09"]),
                run("2026-03-12", "2026-03-13")]
        hours = [("13:00", "14:00"), ("09:00", "12:00")]
        return stored(timezone=NY, start_at="2026-03-09T12:00:00Z",
                      end_at="2026-03-31T12:00:00Z", days=["fri", "mon", "tue", "thu"],
                      runs=runs[::order], business_hours=slots(*hours[::order]))

    first, second = rules_for(build(1), None), rules_for(build(1), None)
    assert first == second and hash(first) == hash(second)
    reread = rules_for(json.loads(json.dumps(build(1))), None)  # as read back from the column
    assert reread == first and hash(reread) == hash(first)
    reordered = rules_for(build(-1), None)
    assert reordered == first and hash(reordered) == hash(first)
    assert {first: 1}[reordered] == 1
    assert isinstance(first.runs, tuple) and isinstance(first.business_hours, tuple)
    assert all(isinstance(r.dates, frozenset | None) for r in first.runs)
    assert rules_for(stored(days=["mon"]), None) != rules_for(stored(days=["tue"]), None)


# -- default zone, malformed documents --------------------------------------------------------


def test_default_zone() -> None:
    assert default_zone(stored(timezone=MADRID), NY) == MADRID
    assert default_zone(stored(), NY) == NY
    with pytest.raises(ValueError, match=r"schedule\.timezone"):
        default_zone({"timezone": "Mars/Olympus"}, NY)


def _doc_with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc = stored(runs=[run("2026-03-09", "2026-03-10", ("09:00", "10:00"))],
                 call_hours=None, business_hours=slots(("09:00", "12:00")))
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(("path", "value", "named"), [
    (("start_at",), "2026-03-09T09:00:00", "schedule.start_at"),
    (("end_at",), "soon", "schedule.end_at"),
    (("local_start_at",), "2026-03-09T09:00:00+01:00", "schedule.local_start_at"),
    (("days",), ["mon", "funday"], "schedule.days[1]"),
    (("days",), [], "schedule.days"),
    (("days",), "mon", "schedule.days"),
    (("call_hours",), {"start_time": "9am", "end_time": "17:00"},
     "schedule.call_hours.start_time"),
    (("business_hours",), [], "schedule.business_hours"),
    (("business_hours", 0, "end_time"), "08:00", "schedule.business_hours[0].end_time"),
    (("use_workspace_business_hours",), "yes", "schedule.use_workspace_business_hours"),
    (("runs",), {"start_date": "2026-03-09"}, "schedule.runs"),
    (("runs", 0), "run-1", "schedule.runs[0]"),
    (("runs", 0, "start_date"), None, "schedule.runs[0].start_date"),
    (("runs", 0, "end_date"), "2026-03-08", "schedule.runs[0].end_date"),
    (("runs", 0, "end_time"), None, "schedule.runs[0].end_time"),
    (("runs", 0, "start_time"), "25:00", "schedule.runs[0].start_time"),
    (("runs", 0, "selected_days"), ["2026-03-20"], "schedule.runs[0].selected_days"),
    (("runs", 0, "selected_days"), [20260309], "schedule.runs[0].selected_days[0]"),
    (("runs", 0, "messaging_only"), None, "schedule.runs[0].messaging_only"),
])
def test_malformed_documents_name_the_key(path: tuple[str | int, ...], value: Any,
                                          named: str) -> None:
    with pytest.raises(ValueError, match=rf"^{re.escape(named)}:"):
        rules_for(_doc_with(path, value), None)


def test_not_a_mapping() -> None:
    with pytest.raises(ValueError, match=r"^schedule:"):
        rules_for(["runs"], None)  # type: ignore[arg-type]


def test_missing_optional_keys_take_their_defaults() -> None:
    assert rules_for({}, None) == rules_for(stored(), None)


# -- property: windows satisfy an independent reading of the document -------------------------

ZONE = ZoneInfo(NY)
BASE = datetime(2026, 3, 2, tzinfo=UTC)  # spans the 2026-03-08 spring-forward, no fall-back
HORIZON = 21  # days
HALF_HOUR = timedelta(minutes=30)


def _hhmm(half_hours: int) -> str:
    return f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


@st.composite
def schedules(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, str]] | None]:
    fields: dict[str, Any] = {}
    days = draw(st.none() | st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True))
    if days is not None:
        fields["days"] = days
    hours = draw(st.sampled_from(["none", "call", "business", "workspace"]))
    workspace: list[dict[str, str]] | None = None
    if hours == "call":
        a, b = sorted(draw(st.lists(st.integers(0, 48), min_size=2, max_size=2, unique=True)))
        fields["call_hours"] = {"start_time": _hhmm(a), "end_time": _hhmm(b)}
    elif hours != "none":
        points = sorted(draw(st.sets(st.integers(16, 42), min_size=2, max_size=6)))
        points = points[:len(points) // 2 * 2]
        business = slots(*((_hhmm(a), _hhmm(b))
                           for a, b in zip(points[::2], points[1::2], strict=True)))
        if hours == "business":
            fields["business_hours"] = business
        else:
            fields["use_workspace_business_hours"] = True
            workspace = business
    start = draw(st.none() | st.integers(-2 * 1440, 10 * 1440))
    if start is not None:
        fields["start_at"] = (BASE + timedelta(minutes=start)).isoformat()
    if draw(st.booleans()):
        low = start + 1 if start is not None else -1440
        end = draw(st.integers(low, low + 15 * 1440))
        fields["end_at"] = (BASE + timedelta(minutes=end)).isoformat()
    return stored(**fields), workspace


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def allowed(doc: dict[str, Any], workspace: list[dict[str, str]] | None,
            instant: datetime) -> bool:
    """The document read directly: bounds, local weekday, local time in the effective slots."""
    if doc["start_at"] is not None and instant < datetime.fromisoformat(doc["start_at"]):
        return False
    if doc["end_at"] is not None and instant >= datetime.fromisoformat(doc["end_at"]):
        return False
    local = instant.astimezone(ZONE)
    if doc["days"] is not None and WEEKDAYS[local.weekday()] not in doc["days"]:
        return False
    if doc["business_hours"] is not None:
        daily = doc["business_hours"]
    elif doc["use_workspace_business_hours"]:
        daily = workspace
    elif doc["call_hours"] is not None:
        daily = [doc["call_hours"]]
    else:
        return True
    assert daily
    second = local.hour * 3600 + local.minute * 60 + local.second
    return any(_minutes(s["start_time"]) * 60 <= second < _minutes(s["end_time"]) * 60
               for s in daily)


def _grid(lo: datetime, hi: datetime) -> list[datetime]:
    """``lo`` and every half hour in ``(lo, hi)``: each allowed span meeting ``[lo, hi)``
    contains one of them (slots and the zone's offsets are whole half hours)."""
    if lo >= hi:
        return []
    point = BASE + (lo - BASE) // HALF_HOUR * HALF_HOUR + HALF_HOUR
    out = [lo]
    while point < hi:
        out.append(point)
        point += HALF_HOUR
    return out


@given(schedules(), st.integers(0, 10 * 1440))
def test_windows_satisfy_the_document(case: tuple[dict[str, Any], list[dict[str, str]] | None],
                                      offset: int) -> None:
    doc, workspace = case
    at = BASE + timedelta(minutes=offset)
    window: Window | None = next_window(rules_for(doc, workspace), [NY], at,
                                        horizon_days=HORIZON)
    lo = max(at, datetime.fromisoformat(doc["start_at"])) if doc["start_at"] else at
    hi = at + timedelta(days=HORIZON)
    if doc["end_at"] is not None:
        hi = min(hi, datetime.fromisoformat(doc["end_at"]))
    if window is None:
        assert not any(allowed(doc, workspace, u) for u in _grid(lo, hi))
        return
    assert lo <= window.start < window.end <= hi
    length = window.end - window.start
    inside = [window.start + length * k / 16 for k in range(16)]
    inside.append(window.end - timedelta(microseconds=1))
    assert all(allowed(doc, workspace, u) for u in inside)
    # Sound and tight: nothing allowed earlier, and the window does not stop early.
    assert not any(allowed(doc, workspace, u) for u in _grid(lo, window.start))
    if window.end < hi:
        assert not allowed(doc, workspace, window.end)
