"""Frequency caps and Regulation F, against a brute-force counter written independently.

The counter below only counts attempts in ``(t - window, t]``; it knows nothing about how
``next_allowed`` jumps. Whether a call is allowed can only change at an attempt instant ``h``
or at ``h + window`` (when ``h`` leaves the window), so checking every such boundary in
``[at, result)`` proves that nothing earlier than the result was allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.compliance.caps import FrequencyCap, RegulationF, blocking_cap, next_allowed

BASE = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # spans the US DST change of 2026-03-08
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
NEW_YORK = ZoneInfo("America/New_York")


def cap(limit: int, window: timedelta, key: str = "test") -> FrequencyCap:
    return FrequencyCap(key=key, title=key, source="test", limit=limit, window=window)


def brute_allowed(caps: Sequence[FrequencyCap], history: Sequence[datetime], t: datetime) -> bool:
    for c in caps:
        in_window = 0
        for h in history:
            if t - c.window < h and h <= t:
                in_window += 1
        if in_window >= c.limit:
            return False
    return True


def boundaries(history: Sequence[datetime], windows: Sequence[timedelta],
               at: datetime) -> set[datetime]:
    points = {at}
    for h in history:
        points.update({h, h - SECOND, h + SECOND})
        for window in windows:
            points.update({h + window, h + window - SECOND, h + window + SECOND})
    return points


# -- examples -------------------------------------------------------------------------------


def test_no_caps_or_no_history_allows_now() -> None:
    assert next_allowed([], [BASE - HOUR], BASE) == BASE
    assert next_allowed([cap(3, DAY)], [], BASE) == BASE
    assert blocking_cap([cap(3, DAY)], [], BASE) is None


def test_three_calls_in_24_hours_wait_for_the_oldest_to_leave() -> None:
    florida = cap(3, DAY, "us-fl-3-per-24h")
    history = [BASE, BASE + HOUR, BASE + 2 * HOUR]
    at = BASE + 3 * HOUR
    assert blocking_cap([florida], history, at) == florida
    assert next_allowed([florida], history, at) == BASE + DAY
    # Exactly 24 h after the first call it has left the window (counted in (t - 24 h, t]).
    assert blocking_cap([florida], history, BASE + DAY) is None
    assert blocking_cap([florida], history, BASE + DAY - SECOND) == florida


def test_an_attempt_at_the_same_instant_counts() -> None:
    one = cap(1, HOUR)
    assert next_allowed([one], [BASE], BASE) == BASE + HOUR


def test_jumps_chain_when_later_attempts_come_into_view() -> None:
    two_per_hour = cap(2, HOUR)
    minute = timedelta(minutes=1)
    history = [BASE, BASE + 10 * minute, BASE + 50 * minute]
    # At +20m the attempts at 0 and +10m fill the window -> not before +60m; by then the
    # attempt at +50m has come into view, and with +10m it fills it again -> +70m.
    assert next_allowed([two_per_hour], history, BASE + 20 * minute) == BASE + 70 * minute


def test_the_strictest_of_several_caps_wins_and_is_reported_first() -> None:
    daily, monthly = cap(3, DAY, "daily"), cap(4, 30 * DAY, "monthly")
    history = [BASE - 10 * DAY, BASE - 5 * DAY, BASE - 2 * DAY, BASE - HOUR]
    assert blocking_cap([daily, monthly], history, BASE) == monthly
    assert next_allowed([daily, monthly], history, BASE) == BASE + 20 * DAY


def test_history_in_any_order_and_zone() -> None:
    history = [(BASE + HOUR).astimezone(NEW_YORK), BASE]
    assert next_allowed([cap(2, DAY)], history, BASE + 2 * HOUR) == BASE + DAY
    assert next_allowed([cap(2, DAY)], history, BASE + 2 * HOUR).tzinfo == UTC


def test_naive_instants_and_bad_caps_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed([cap(1, HOUR)], [], datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        blocking_cap([cap(1, HOUR)], [datetime(2026, 1, 1)], BASE)
    with pytest.raises(ValueError, match="limit"):
        cap(0, HOUR)
    with pytest.raises(ValueError, match="window"):
        cap(1, timedelta(0))


def test_regulation_f_seven_in_seven_days() -> None:
    rule = RegulationF()
    attempts = [BASE + n * HOUR for n in range(7)]
    assert rule.next_allowed(attempts, [], BASE + 7 * HOUR) == BASE + 7 * DAY
    assert rule.next_allowed(attempts[:6], [], BASE + 7 * HOUR) == BASE + 7 * HOUR


def test_regulation_f_quiet_week_after_a_conversation() -> None:
    rule = RegulationF()
    talk = BASE + 3 * HOUR
    assert rule.next_allowed([talk], [talk], talk) == talk + 7 * DAY
    assert rule.next_allowed([], [talk], talk + 2 * DAY) == talk + 7 * DAY
    assert rule.next_allowed([], [talk], talk + 7 * DAY) == talk + 7 * DAY
    # A conversation after ``at`` does not reach back.
    assert rule.next_allowed([], [talk], talk - HOUR) == talk - HOUR


def test_regulation_f_validates() -> None:
    with pytest.raises(ValueError):
        RegulationF(max_calls=0)
    with pytest.raises(ValueError):
        RegulationF(window=timedelta(0))


# -- properties -----------------------------------------------------------------------------

offsets = st.integers(min_value=0, max_value=10 * 86_400)  # seconds after BASE
instants = offsets.map(lambda s: BASE + timedelta(seconds=s))
windows = st.integers(min_value=1, max_value=3 * 86_400).map(lambda s: timedelta(seconds=s))
caps_lists = st.lists(
    st.builds(cap, st.integers(min_value=1, max_value=4), windows), max_size=3)
histories = st.lists(instants, max_size=12)


@given(caps_lists, histories, instants)
def test_next_allowed_is_the_first_allowed_instant(
        caps: list[FrequencyCap], history: list[datetime], at: datetime) -> None:
    result = next_allowed(caps, history, at)
    assert result >= at
    assert brute_allowed(caps, history, result)
    for point in boundaries(history, [c.window for c in caps], at):
        if at <= point < result:
            assert not brute_allowed(caps, history, point), point
    blocker = blocking_cap(caps, history, at)
    assert (blocker is None) == (result == at)
    if blocker is not None:
        assert not brute_allowed([blocker], history, at)


@given(st.integers(min_value=1, max_value=7), windows, windows, histories,
       st.lists(instants, max_size=3), instants)
def test_regulation_f_next_allowed_is_the_first_allowed_instant(
        max_calls: int, window: timedelta, quiet: timedelta, attempts: list[datetime],
        conversations: list[datetime], at: datetime) -> None:
    rule = RegulationF(max_calls=max_calls, window=window, quiet_after_conversation=quiet)

    def allowed(t: datetime) -> bool:
        if any(c <= t < c + quiet for c in conversations):
            return False
        return brute_allowed([cap(max_calls, window)], attempts, t)

    result = rule.next_allowed(attempts, conversations, at)
    assert result >= at
    assert allowed(result)
    points = boundaries([*attempts, *conversations], [window, quiet], at)
    for point in points:
        if at <= point < result:
            assert not allowed(point), point
