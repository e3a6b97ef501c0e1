from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.campaign_lifecycle import (
    ACTIONS,
    STATUSES,
    TERMINAL,
    allowed_actions,
    earliest_start,
    starts_in_future,
    transition,
)
from ringwise.errors import InvalidTransition

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("status", "action", "future", "expected"), [
    ("draft", "start", False, "running"),
    ("draft", "start", True, "scheduled"),
    ("scheduled", "begin", False, "running"),
    ("scheduled", "pause", False, "paused"),
    ("running", "pause", False, "paused"),
    ("paused", "resume", False, "running"),
    ("paused", "resume", True, "scheduled"),
    ("running", "complete", False, "completed"),
    ("draft", "cancel", False, "canceled"),
    ("running", "cancel", False, "canceled"),
    ("paused", "cancel", False, "canceled"),
])
def test_legal_transitions(status: str, action: str, future: bool, expected: str) -> None:
    assert transition(status, action, starts_in_future=future) == expected


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "pause"), ("draft", "resume"), ("running", "start"), ("paused", "start"),
    ("running", "resume"), ("paused", "pause"), ("completed", "resume"),
    ("canceled", "start"), ("completed", "cancel"), ("draft", "complete"),
])
def test_illegal_transitions_name_the_current_state(status: str, action: str) -> None:
    with pytest.raises(InvalidTransition) as info:
        transition(status, action)
    error = info.value
    assert error.status_code == 409
    assert error.code == "invalid_transition"
    assert f"'{status}'" in error.message
    assert error.details["status"] == status


def test_unknown_action() -> None:
    with pytest.raises(InvalidTransition, match="not a campaign action"):
        transition("draft", "explode")


@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(ACTIONS), st.booleans())
def test_terminal_states_are_final(status: str, action: str, future: bool) -> None:
    assert allowed_actions(status) == ()
    with pytest.raises(InvalidTransition, match="final"):
        transition(status, action, starts_in_future=future)


@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.booleans()), max_size=30))
def test_any_action_sequence_stays_in_the_state_space(steps: list[tuple[str, bool]]) -> None:
    status = "draft"
    seen_terminal = False
    for action, future in steps:
        legal = action in allowed_actions(status)
        try:
            new = transition(status, action, starts_in_future=future)
        except InvalidTransition:
            assert not legal
            continue
        assert legal and not seen_terminal
        assert new in STATUSES
        assert new != "draft"  # nothing returns to draft
        if action == "start":
            assert status == "draft"
        status = new
        seen_terminal = status in TERMINAL


@given(st.sampled_from(STATUSES), st.sampled_from(ACTIONS))
def test_allowed_actions_agree_with_transition(status: str, action: str) -> None:
    if action in allowed_actions(status):
        transition(status, action)
    else:
        with pytest.raises(InvalidTransition):
            transition(status, action)


def test_earliest_start() -> None:
    assert earliest_start() is None
    at = NOW + timedelta(hours=1)
    assert earliest_start(start_at=at) == at
    # 'T10:00' in each contact's zone happens first at UTC+14, i.e. 20:00 UTC the day before
    local = datetime(2026, 3, 3, 10, 0)
    assert earliest_start(local_start_at=local) == datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    runs = earliest_start(run_dates=[date(2026, 3, 10), date(2026, 3, 5)])
    assert runs == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    # all bounds must hold: the latest wins
    assert earliest_start(start_at=at, run_dates=[date(2026, 3, 10)]) == datetime(
        2026, 3, 9, 10, 0, tzinfo=UTC)
    assert starts_in_future(NOW, at)
    assert not starts_in_future(NOW, NOW)
    assert not starts_in_future(NOW, None)
