from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.call_states import (
    ANSWERED_BY_VALUES,
    CALL_STATUSES,
    STATUS_RANK,
    TRANSITIONS,
    AnsweredBy,
    CallState,
    CallStatus,
    IllegalTransition,
    ProviderEvent,
    ProviderStatus,
    apply_event,
    end_call,
    start_dialing,
    transition,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(events: list[ProviderEvent], state: CallState | None = None) -> CallState:
    state = state or start_dialing(CallState(), T0)
    for event in events:
        state = apply_event(state, event)
    return state


# --- transitions ---------------------------------------------------------------------------

def test_every_illegal_step_raises_naming_both_statuses() -> None:
    for source in CALL_STATUSES:
        for target in CALL_STATUSES:
            if target in TRANSITIONS[source]:
                continue
            state = _state_in(source)
            with pytest.raises(IllegalTransition) as info:
                transition(state, target)
            assert f"{source} -> {target}" in str(info.value)
            assert (info.value.from_status, info.value.to_status) == (source, target)


def _state_in(status: CallStatus) -> CallState:
    if status == "ended":
        return end_call(CallState(), "blocked", "blocked-dnc", T0)
    return CallState(status=status)


def test_ending_checks_outcome_against_status_and_reason() -> None:
    queued = CallState()
    assert end_call(queued, "blocked", "blocked-calling-hours", T0).ended_reason == (
        "blocked-calling-hours")
    assert end_call(queued, "expired").ended_reason == "expired-before-dialing"
    with pytest.raises(IllegalTransition, match="outcome 'answered' cannot follow"):
        end_call(queued, "answered")
    with pytest.raises(IllegalTransition, match="queued -> ended"):
        end_call(queued, "no-answer")
    with pytest.raises(IllegalTransition, match="does not explain"):
        end_call(start_dialing(queued, T0), "busy", "invalid-number")
    with pytest.raises(ValueError, match="needs an outcome"):
        transition(queued, "ended")
    dialing = start_dialing(queued, T0)
    assert end_call(dialing, "failed", "worker-crash-reconciled", at(5)).outcome == "failed"


def test_state_invariants() -> None:
    with pytest.raises(ValueError, match="exactly when"):
        CallState(status="ended")
    with pytest.raises(ValueError, match="exactly when"):
        CallState(outcome="busy")
    with pytest.raises(ValueError, match="timezone-aware"):
        CallState(dialing_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown provider"):
        ProviderEvent("answered")  # type: ignore[arg-type]


# --- provider events -----------------------------------------------------------------------

def test_answered_call() -> None:
    state = run([ProviderEvent("initiated", at(1)), ProviderEvent("ringing", at(2)),
                 ProviderEvent("in-progress", at(9), answered_by="human"),
                 ProviderEvent("completed", at(60))])
    assert state == CallState("ended", "answered", "customer-ended-call", "human",
                              T0, at(2), at(9), at(60))


@pytest.mark.parametrize(("answered_by", "outcome", "reason"), [
    ("machine_start", "voicemail", "voicemail"),
    ("machine_end_beep", "voicemail", "voicemail"),
    ("fax", "failed", "fax-detected"),
    ("unknown", "answered", "customer-ended-call"),
    (None, "answered", "customer-ended-call"),
])
def test_completed_outcome_follows_the_answerer(answered_by: AnsweredBy | None, outcome: str,
                                                reason: str) -> None:
    state = run([ProviderEvent("in-progress", at(5)),
                 ProviderEvent("completed", at(30), answered_by=answered_by)])
    assert (state.outcome, state.ended_reason, state.answered_by) == (outcome, reason,
                                                                       answered_by)


@pytest.mark.parametrize(("status", "outcome", "reason"), [
    ("no-answer", "no-answer", "customer-did-not-answer"),
    ("busy", "busy", "customer-busy"),
    ("failed", "failed", "provider-error"),
    ("canceled", "canceled", "canceled-by-user"),
])
def test_unanswered_endings(status: ProviderStatus, outcome: str, reason: str) -> None:
    state = run([ProviderEvent("ringing", at(2)), ProviderEvent(status, at(30))])
    assert (state.status, state.outcome, state.ended_reason) == ("ended", outcome, reason)
    assert state.answered_at is None


def test_adapter_reason_overrides() -> None:
    state = run([ProviderEvent("failed", at(1), ended_reason="invalid-number")])
    assert (state.outcome, state.ended_reason) == ("failed", "invalid-number")
    state = run([ProviderEvent("in-progress", at(1)),
                 ProviderEvent("completed", at(9), ended_reason="assistant-ended-call")])
    assert (state.outcome, state.ended_reason) == ("answered", "assistant-ended-call")
    with pytest.raises(ValueError, match="does not explain"):
        run([ProviderEvent("busy", at(1), ended_reason="invalid-number")])


def test_first_terminal_wins() -> None:
    state = run([ProviderEvent("no-answer", at(30)), ProviderEvent("completed", at(40)),
                 ProviderEvent("in-progress", at(20), answered_by="human")])
    assert (state.outcome, state.ended_at, state.answered_at, state.answered_by) == (
        "no-answer", at(30), None, None)


def test_an_answer_is_a_fact() -> None:
    # no-answer after in-progress contradicts the answer: the answered call ended
    state = run([ProviderEvent("in-progress", at(5), answered_by="human"),
                 ProviderEvent("no-answer", at(30))])
    assert (state.outcome, state.ended_reason) == ("answered", "customer-ended-call")
    state = run([ProviderEvent("in-progress", at(5)), ProviderEvent("failed", at(30))])
    assert (state.outcome, state.ended_reason) == ("answered", "provider-error")


def test_completed_without_in_progress_is_answered() -> None:
    state = run([ProviderEvent("completed", at(60))], CallState())
    assert (state.outcome, state.answered_at, state.dialing_at) == ("answered", None, None)


def test_late_amd_refines_answered_into_voicemail_but_a_definite_answerer_is_final() -> None:
    ended = run([ProviderEvent("completed", at(60))])
    refined = apply_event(ended, ProviderEvent("in-progress", answered_by="machine_end_beep"))
    assert (refined.outcome, refined.ended_reason, refined.ended_at) == (
        "voicemail", "voicemail", at(60))
    assert apply_event(refined, ProviderEvent("in-progress", answered_by="human")) == refined
    assert apply_event(refined, ProviderEvent("completed", answered_by="unknown")) == refined


def test_stale_events_fill_missing_instants_only() -> None:
    state = run([ProviderEvent("in-progress", at(10)), ProviderEvent("ringing", at(3)),
                 ProviderEvent("ringing", at(4))], CallState())
    assert (state.status, state.ringing_at, state.answered_at, state.dialing_at) == (
        "in-progress", at(3), at(10), None)


# --- properties ----------------------------------------------------------------------------

@st.composite
def valid_sequences(draw: st.DrawFn) -> list[ProviderEvent]:
    """A provider's events for one call, in order: some of the progress statuses, then one
    terminal status consistent with them, with increasing instants and one AMD verdict."""
    progress: list[ProviderStatus] = [s for s in ("queued", "initiated", "ringing")
                                      if draw(st.booleans())]
    answered = draw(st.booleans())
    if answered:
        if draw(st.booleans()):
            progress.append("in-progress")
        terminal: ProviderStatus = "completed"
    else:
        terminal = draw(st.sampled_from(["busy", "failed", "no-answer", "canceled"]))
    verdict = draw(st.sampled_from(ANSWERED_BY_VALUES))
    events: list[ProviderEvent] = []
    second = 0
    for status in [*progress, terminal]:
        second += draw(st.integers(1, 30))
        stamp = draw(st.sampled_from([at(second), None])) if status != terminal else at(second)
        answered_by = None
        if status in ("in-progress", "completed"):
            answered_by = draw(st.sampled_from([verdict, None, "unknown"]))
        events.append(ProviderEvent(status, stamp, answered_by))
    return events


@st.composite
def shuffled_with_duplicates(draw: st.DrawFn, events: list[ProviderEvent]) -> list[ProviderEvent]:
    extra = draw(st.lists(st.sampled_from(events), max_size=4))
    return draw(st.permutations([*events, *extra]))


starts = st.sampled_from([CallState(), start_dialing(CallState(), T0)])


@given(events=valid_sequences(), start=starts, data=st.data())
def test_order_and_duplication_do_not_matter(events: list[ProviderEvent], start: CallState,
                                             data: st.DataObject) -> None:
    ordered = run(events, start)
    assert ordered.is_ended
    received = data.draw(shuffled_with_duplicates(events))
    assert run(received, start) == ordered


@given(events=valid_sequences(), start=starts, data=st.data())
def test_status_rank_never_decreases(events: list[ProviderEvent], start: CallState,
                                     data: st.DataObject) -> None:
    state = start
    for event in data.draw(shuffled_with_duplicates(events)):
        after = apply_event(state, event)
        assert STATUS_RANK[after.status] >= STATUS_RANK[state.status]
        if state.is_ended:
            # only facts that were unknown are learned; a pre-answer ending is final
            assert after.ended_at == state.ended_at
            assert _kind(after) == _kind(state)
            if _kind(state) != "reached":
                assert after.outcome == state.outcome
        state = after


statuses = st.sampled_from(["queued", "initiated", "ringing", "in-progress", "completed", "busy",
                            "failed", "no-answer", "canceled"])
any_events = st.builds(ProviderEvent, status=statuses,
                       at=st.one_of(st.none(), st.integers(0, 100).map(at)),
                       answered_by=st.one_of(st.none(), st.sampled_from(ANSWERED_BY_VALUES)))


@given(events=st.lists(any_events, max_size=12), start=starts)
def test_any_event_stream_keeps_the_state_valid_and_the_first_terminal(
        events: list[ProviderEvent], start: CallState) -> None:
    state = start
    first_terminal_kind: str | None = None
    for event in events:
        after = apply_event(state, event)  # CallState validates its own invariants
        assert STATUS_RANK[after.status] >= STATUS_RANK[state.status]
        if after.is_ended and first_terminal_kind is None:
            first_terminal_kind = _kind(after)
        state = after
    if first_terminal_kind is not None:
        assert _kind(state) == first_terminal_kind


def _kind(state: CallState) -> str:
    """Answered outcomes may refine among themselves (late AMD); others never change."""
    reached = state.outcome in ("answered", "voicemail") or (
        state.outcome == "failed" and state.answered_by == "fax")
    return "reached" if reached else str(state.outcome)
