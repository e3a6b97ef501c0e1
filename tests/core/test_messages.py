"""When a scheduled message falls due for a contact (core.messages): pure, on fixed instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from ringwise.core.compliance.floors import floor_for
from ringwise.core.compliance.jurisdiction import jurisdiction_of
from ringwise.core.messages import MessageSlot, message_slots, send_instant
from ringwise.core.phones import describe

NY, CHI, LA = "America/New_York", "America/Chicago", "America/Los_Angeles"
FLOOR = floor_for(jurisdiction_of(describe("+12125550101")))  # New York: 08:00-21:00


def slot(send: str = "2026-03-03", at: str = "10:00", last: str = "2026-03-04",
         channel: str = "sms") -> MessageSlot:
    return message_slots({"runs": [{"end_date": last, "messages": [
        {"send_date": send, "send_time": at, "channel": channel, "body": "Hi"}]}]})[0]


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_the_stored_schedule_gives_each_message_with_its_runs_last_date() -> None:
    slots = message_slots({"runs": [
        {"end_date": "2026-03-04", "messages": [
            {"send_date": "2026-03-03", "send_time": "10:00", "body": "A"},
            {"send_date": "2026-03-04", "send_time": "09:30", "channel": "email",
             "subject": "S", "body": "B"}]},
        {"end_date": "2026-03-09"},
        {"end_date": "2026-03-12", "messages": [
            {"send_date": "2026-03-10", "send_time": "24:00", "body": "C"}]}]})
    assert [(s.key, s.channel, s.last_date) for s in slots] == [
        ((0, 0), "sms", date(2026, 3, 4)), ((0, 1), "email", date(2026, 3, 4)),
        ((2, 0), "sms", date(2026, 3, 12))]
    assert slots[1].subject == "S" and slots[2].send_time == time.max
    assert message_slots({}) == ()


def test_the_local_time_in_each_zone_and_the_latest_of_several() -> None:
    assert send_instant(slot(), [NY], utc(2, 15), FLOOR) == utc(3, 15)
    assert send_instant(slot(), [LA], utc(2, 15), FLOOR) == utc(3, 18)
    # A number spanning two zones: not before 10:00 in either.
    assert send_instant(slot(), [NY, CHI], utc(2, 15), FLOOR) == utc(3, 16)


def test_across_the_spring_forward() -> None:
    # 2026-03-08: New York moves from UTC-5 to UTC-4.
    monday = slot("2026-03-09", "10:00", "2026-03-09")
    assert send_instant(monday, [NY], utc(2, 15), FLOOR) == utc(9, 14)


def test_texts_keep_to_the_legal_floor_emails_do_not() -> None:
    early = slot(at="07:00")
    assert send_instant(early, [NY], utc(2, 15), FLOOR) == utc(3, 13)  # 08:00 EST
    assert send_instant(slot(at="07:00", channel="email"), [NY], utc(2, 15), None) == utc(3, 12)


def test_late_starts_send_at_once_and_the_run_end_expires() -> None:
    assert send_instant(slot(), [NY], utc(3, 19, 7), FLOOR) == utc(3, 19, 7)
    # After 21:00 on the run's last day: nothing left.
    assert send_instant(slot(last="2026-03-03"), [NY], utc(4, 2), FLOOR) is None
    # 21:30 on the last day: never inside the floor.
    assert send_instant(slot("2026-03-04", "21:30"), [NY], utc(2, 15), FLOOR) is None
    # ... but an e-mail at 21:30 goes.
    assert send_instant(slot("2026-03-04", "21:30", channel="email"), [NY], utc(2, 15),
                        None) == datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
    assert send_instant(slot(), [], utc(2, 15), FLOOR) is None  # no zone: never on a guess


def first_reach(zone: str, wall: datetime) -> datetime:
    """The first instant whose wall clock in ``zone`` is at or past ``wall`` (in a
    spring-forward gap: the end of the gap), by minutes between the two readings of it."""
    tz = ZoneInfo(zone)
    early = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    late = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    instant = min(early, late)
    while instant.astimezone(tz).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    return instant


def test_a_time_in_the_spring_forward_gap_is_the_end_of_the_gap() -> None:
    gap = slot("2026-03-08", "02:30", "2026-03-08", channel="email")
    assert send_instant(gap, [NY], utc(7, 0), None) == utc(8, 7)  # 03:00 EDT
    assert first_reach(NY, datetime(2026, 3, 8, 2, 30)) == utc(8, 7)


ZONES = st.lists(st.sampled_from([NY, CHI, LA, "America/Denver", "America/Phoenix",
                                  "Pacific/Honolulu", "America/Anchorage"]),
                 min_size=1, max_size=3, unique=True)


@example(zones=[NY], day=8, minutes=150, length=0, start_offset_h=-24, text=False)
@example(zones=[NY, LA], day=8, minutes=150, length=1, start_offset_h=-24, text=True)
@given(zones=ZONES, day=st.integers(1, 20), minutes=st.integers(0, 24 * 60 - 1),
       length=st.integers(0, 3), start_offset_h=st.integers(-48, 96),
       text=st.booleans())
def test_a_due_instant_is_never_early_never_outside_the_floor_or_the_run(
        zones: list[str], day: int, minutes: int, length: int, start_offset_h: int,
        text: bool) -> None:
    send_day = date(2026, 3, day)
    at_time = time(minutes // 60, minutes % 60)
    message = MessageSlot(0, 0, send_day, at_time, send_day + timedelta(days=length),
                          "sms" if text else "email", None, "Hi")
    now = datetime.combine(send_day, time(12), tzinfo=UTC) + timedelta(hours=start_offset_h)
    due = send_instant(message, zones, now, FLOOR if text else None)
    if not text:  # no floor: exactly the later of now and the send time, if the run allows
        start = max([now, *(first_reach(z, datetime.combine(send_day, at_time))
                            for z in zones)])
        end = min(datetime.combine(message.last_date + timedelta(days=1), time(0),
                                   tzinfo=ZoneInfo(z)) for z in zones)
        assert due == (start if start < end else None)
    if due is None:
        return
    assert due >= now
    for name in zones:
        local = due.astimezone(ZoneInfo(name))
        assert local.replace(tzinfo=None) >= datetime.combine(send_day, at_time)
        assert local.date() <= message.last_date
        if text:
            assert time(8) <= local.time() < time(21)
