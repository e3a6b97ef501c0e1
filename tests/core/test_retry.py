from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.retry import (
    MAX_DELAY_MINUTES,
    MAX_DELAYS,
    RetryDelayError,
    RetryPolicy,
    check_increasing,
    parse_delays,
    policy_from_dict,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("[30,120]", (30, 120)),
    (" [ 30 , 120 ] ", (30, 120)),
    ("30,120", (30, 120)),
    ("60", (60,)),
    ("[]", ()),
    ("", ()),
    ([30, 60, 120], (30, 60, 120)),
    ([30.0, "45"], (30, 45)),
])
def test_parse_accepts_list_and_string_forms(text: str | list[object],
                                             expected: tuple[int, ...]) -> None:
    assert parse_delays(text) == expected


@pytest.mark.parametrize(("text", "index", "fragment"), [
    ("[30,abc]", None, "not a list of minutes"),
    ('{"a": 1}', None, "not a list of minutes"),
    ("[30, 0]", 1, "between 1 and 43200"),
    ([30, MAX_DELAY_MINUTES + 1], 1, "between 1 and 43200"),
    ([30, 1.5], 1, "whole number"),
    ([True], 0, "not a number"),
    ([-5], 0, "between"),
    ([[1]], 0, "whole number"),
])
def test_parse_errors_name_the_entry(text: str | list[object], index: int | None,
                                     fragment: str) -> None:
    with pytest.raises(RetryDelayError) as info:
        parse_delays(text)
    assert fragment in info.value.message
    assert info.value.index == index


def test_too_many_delays() -> None:
    with pytest.raises(RetryDelayError, match="at most 19"):
        parse_delays([1] * (MAX_DELAYS + 1))


@given(st.lists(st.integers(1, MAX_DELAY_MINUTES), max_size=MAX_DELAYS))
def test_string_and_list_forms_agree(delays: list[int]) -> None:
    text = "[" + ",".join(map(str, delays)) + "]"
    assert parse_delays(text) == parse_delays(delays) == tuple(delays)


def test_check_increasing() -> None:
    check_increasing([30, 120])
    with pytest.raises(RetryDelayError) as info:
        check_increasing([30, 30])
    assert info.value.index == 1


def test_next_attempt_previous_attempt_basis() -> None:
    policy = RetryPolicy(delays_minutes=(30, 120), max_attempts=4)
    assert policy.next_attempt_at("no-answer", 1, last_ended_at=T0) == T0 + timedelta(minutes=30)
    assert policy.next_attempt_at("busy", 2, last_ended_at=T0) == T0 + timedelta(minutes=120)
    # past the list the last delay repeats
    assert policy.next_attempt_at("busy", 3, last_ended_at=T0) == T0 + timedelta(minutes=120)
    assert policy.next_attempt_at("busy", 4, last_ended_at=T0) is None


def test_next_attempt_first_attempt_basis() -> None:
    policy = RetryPolicy(delays_minutes=(30, 120), max_attempts=4, relative_to="first_attempt")
    later = T0 + timedelta(minutes=32)
    assert policy.next_attempt_at("no-answer", 1, last_ended_at=T0 + timedelta(minutes=1),
                                  first_attempt_at=T0) == T0 + timedelta(minutes=30)
    assert policy.next_attempt_at("no-answer", 2, last_ended_at=later,
                                  first_attempt_at=T0) == T0 + timedelta(minutes=120)
    assert policy.next_attempt_at("no-answer", 3, last_ended_at=later,
                                  first_attempt_at=T0) == T0 + timedelta(minutes=210)


def test_not_retried() -> None:
    policy = RetryPolicy(delays_minutes=(30,), retry_on=frozenset({"busy"}), max_attempts=3)
    assert policy.next_attempt_at("answered", 1, last_ended_at=T0) is None
    assert policy.next_attempt_at("no-answer", 1, last_ended_at=T0) is None
    assert RetryPolicy(auto_retry=False).next_attempt_at("busy", 1, last_ended_at=T0) is None


@given(delays=st.lists(st.integers(1, 1000), min_size=1, max_size=5),
       max_attempts=st.integers(1, 20), outcome=st.sampled_from(["no-answer", "busy"]))
def test_attempt_cap_is_never_exceeded(delays: list[int], max_attempts: int,
                                       outcome: str) -> None:
    policy = RetryPolicy(delays_minutes=tuple(delays), max_attempts=max_attempts)
    attempts, at = 1, T0
    while (nxt := policy.next_attempt_at(outcome, attempts, last_ended_at=at)) is not None:
        assert nxt > at
        attempts, at = attempts + 1, nxt
    assert attempts == max_attempts


def test_policy_from_stored_dict() -> None:
    assert policy_from_dict(None) == RetryPolicy()
    policy = policy_from_dict({"auto_retry": True, "delays_minutes": [60, 240],
                               "retry_on": ["busy"], "max_attempts": 3})
    assert policy.delays_minutes == (60, 240)
    assert policy.retry_on == frozenset({"busy"})
    assert policy_from_dict({"auto_retry": False, "delays_minutes": []}).max_attempts == 1
