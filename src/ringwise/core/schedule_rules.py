"""A campaign's stored ``schedule`` document -> :class:`ringwise.core.windows.CallingRules`.

Pure: no I/O, no wall clock. The input is the JSON document exactly as stored in the
campaign's ``schedule`` column (``Schedule.model_dump(mode="json")``: instants as ISO strings,
dates ``YYYY-MM-DD``, times ``HH:MM`` with ``24:00`` = end of day, weekdays ``mon``..``sun``).
This module does not import the API schema (``core`` stays below ``api``); it reads the
stored shape directly and raises ``ValueError`` naming the key (``schedule.runs[2].end_time``)
when a document is malformed. Keys that do not shape calling windows (``timezone``,
``stagger_seconds``, ``retry_window_minutes``, runs' ``client_run_id`` and ``messages``) are
ignored here; a missing optional key means its default.

Native semantics (docs/field-mapping.md, "daily window"), which differ from the windows
module's plain intersection of every field, are resolved here:

* Daily window, by precedence: business hours -- ``business_hours``, else the workspace's when
  ``use_workspace_business_hours`` -- replace the runs' times and ``call_hours``; else each
  calling run's ``start_time``-``end_time`` on its dates (a run without times takes
  ``call_hours``, else the whole day); else ``call_hours``; else the whole day.
* Always intersected: ``start_at``/``end_at``, the calling runs' dates and ``selected_days``,
  and ``days``. ``local_start_at`` becomes ``CallingRules.local_start`` (per contact zone).
* Messaging-only runs contribute no calling dates. When the schedule has runs and every one
  is messaging-only, nothing is ever dialed: :func:`rules_for` returns :data:`NO_CALLS`, a rule
  set that never opens (``next_window`` -> None, ``is_open`` -> False); test with
  ``rules == NO_CALLS`` or :func:`never_calls`.
* The legal floor is not applied here (``floor`` is None); the compliance layer adds it, e.g.
  ``dataclasses.replace(rules, floor=...)``.

Rules are built from tuples/frozensets in a canonical order (runs and slots sorted and
de-duplicated, all seven days -> no weekday filter), so equal documents -- and documents
differing only in the order of runs or slots -- give equal, hashable rules, which the windows
module caches per rule set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, Final

from ringwise.core.hours import parse_hhmm
from ringwise.core.timezones import is_timezone
from ringwise.core.windows import CallingRules, Run, TimeRange

_DAY_INDEX: Final[dict[str, int]] = {
    name: index for index, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
_PREFIX: Final = "schedule"

NO_CALLS: Final = CallingRules(weekdays=frozenset())
"""The rules of a schedule whose runs are all messaging-only: no instant is ever open."""


def never_calls(rules: CallingRules) -> bool:
    """Whether ``rules`` can never open because no weekday is allowed (e.g. :data:`NO_CALLS`)."""
    return rules.weekdays is not None and not rules.weekdays


def rules_for(schedule: Mapping[str, Any],
              workspace_business_hours: Sequence[Mapping[str, str]] | None) -> CallingRules:
    """The calling rules of a stored ``schedule`` document (see the module docstring).

    ``workspace_business_hours`` is the workspace's ``business_hours`` column (a list of
    ``{"start_time", "end_time"}``, or None); it is used only with
    ``use_workspace_business_hours`` and no ``business_hours`` of the campaign's own. When the
    flag is set but the workspace has no business hours, ``ValueError`` is raised (naming
    ``schedule.use_workspace_business_hours``) rather than silently calling all day: the same
    condition the API refuses when the schedule is saved.
    """
    doc = _mapping(schedule, _PREFIX)
    start_at = _instant(doc.get("start_at"), f"{_PREFIX}.start_at")
    end_at = _instant(doc.get("end_at"), f"{_PREFIX}.end_at")
    local_start = _naive(doc.get("local_start_at"), f"{_PREFIX}.local_start_at")
    weekdays = _weekdays(doc.get("days"), f"{_PREFIX}.days")
    call_hours = _slot(doc["call_hours"], f"{_PREFIX}.call_hours") \
        if doc.get("call_hours") is not None else None
    runs = _list(doc.get("runs"), f"{_PREFIX}.runs")
    use_workspace = _bool(doc.get("use_workspace_business_hours", False),
                          f"{_PREFIX}.use_workspace_business_hours")

    business: tuple[TimeRange, ...] = ()
    if doc.get("business_hours") is not None:
        business = _slots(doc["business_hours"], f"{_PREFIX}.business_hours")
    elif use_workspace:
        if not workspace_business_hours:
            raise ValueError(f"{_PREFIX}.use_workspace_business_hours: the workspace has no "
                             "business hours")
        business = _slots(workspace_business_hours, "workspace.business_hours")

    calling: list[Run] = []
    for index, raw in enumerate(runs):
        where = f"{_PREFIX}.runs[{index}]"
        run = _mapping(raw, where)
        if _bool(run.get("messaging_only", False), f"{where}.messaging_only"):
            continue  # sends messages only: no calling dates
        first = _date(run.get("start_date"), f"{where}.start_date")
        last = _date(run.get("end_date"), f"{where}.end_date")
        if last < first:
            raise ValueError(f"{where}.end_date: {last} is before start_date {first}")
        selected = _list(run.get("selected_days"), f"{where}.selected_days")
        dates = frozenset(_date(day, f"{where}.selected_days[{i}]")
                          for i, day in enumerate(selected))
        for day in sorted(dates):
            if not first <= day <= last:
                raise ValueError(f"{where}.selected_days: {day} is outside the run "
                                 f"({first} to {last})")
        own = _run_times(run, where)
        if business:
            daily: TimeRange = (time.min, time.max)  # business hours replace run times
        elif own is not None:
            daily = own
        else:
            daily = call_hours or (time.min, time.max)
        calling.append(Run(first, last, daily[0], daily[1], dates or None))

    if runs and not calling:
        return NO_CALLS
    return CallingRules(
        start_at=start_at,
        end_at=end_at,
        local_start=local_start,
        runs=tuple(sorted(set(calling), key=_run_key)),
        weekdays=weekdays,
        # With runs, call_hours already filled in each run's window (or was replaced).
        call_hours=None if business or calling else call_hours,
        business_hours=business,
    )


def default_zone(schedule: Mapping[str, Any], workspace_timezone: str) -> str:
    """The zone for contacts whose own zone is unknown: the schedule's ``timezone``, else the
    workspace's."""
    value = _mapping(schedule, _PREFIX).get("timezone")
    if value is None:
        return workspace_timezone
    if not isinstance(value, str) or not is_timezone(value):
        raise ValueError(f"{_PREFIX}.timezone: {value!r} is not an IANA time zone")
    return value


# -- parsing ----------------------------------------------------------------------------------


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


def _instant(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    text = _text(value, where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO 8601 instant") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"{where}: {value!r} has no UTC offset")
    return parsed


def _naive(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    text = _text(value, where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date and time like "
                         "'2026-03-09T09:00'") from None
    if parsed.tzinfo is not None:
        raise ValueError(f"{where}: {value!r} must be a wall-clock time without an offset")
    return parsed


def _date(value: object, where: str) -> date:
    text = _text(value, where)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date like '2026-03-09'") from None


def _time(value: object, where: str) -> time:
    text = _text(value, where)
    try:
        return parse_hhmm(text)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _pair(start: time, end: time, where: str) -> TimeRange:
    if not start < end:
        raise ValueError(f"{where}.end_time: must be after start_time")
    return start, end


def _slot(value: object, where: str) -> TimeRange:
    slot = _mapping(value, where)
    return _pair(_time(slot.get("start_time"), f"{where}.start_time"),
                 _time(slot.get("end_time"), f"{where}.end_time"), where)


def _slots(value: object, where: str) -> tuple[TimeRange, ...]:
    items = _list(value, where)
    if not items:
        raise ValueError(f"{where}: needs at least one slot")
    return tuple(sorted({_slot(item, f"{where}[{i}]") for i, item in enumerate(items)}))


def _run_times(run: Mapping[str, Any], where: str) -> TimeRange | None:
    start, end = run.get("start_time"), run.get("end_time")
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "start_time" if start is None else "end_time"
        raise ValueError(f"{where}.{missing}: give both start_time and end_time, or neither")
    return _pair(_time(start, f"{where}.start_time"), _time(end, f"{where}.end_time"), where)


def _weekdays(value: object, where: str) -> frozenset[int] | None:
    if value is None:
        return None
    names = _list(value, where)
    if not names:
        raise ValueError(f"{where}: at least one day is needed (null allows every day)")
    days: set[int] = set()
    for index, name in enumerate(names):
        key = _text(name, f"{where}[{index}]").strip().lower()
        if key not in _DAY_INDEX:
            raise ValueError(f"{where}[{index}]: {name!r} is not one of mon, tue, wed, thu, "
                             "fri, sat, sun")
        days.add(_DAY_INDEX[key])
    return None if len(days) == len(_DAY_INDEX) else frozenset(days)


def _run_key(run: Run) -> tuple[date, date, time, time, tuple[date, ...]]:
    return (run.start_date, run.end_date, run.start_time, run.end_time,
            tuple(sorted(run.dates)) if run.dates is not None else ())


__all__ = ["NO_CALLS", "default_zone", "never_calls", "rules_for"]
