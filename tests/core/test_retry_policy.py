from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.call_states import CALL_OUTCOMES, PERMANENT_REASONS, CallOutcome
from ringwise.core.retry import RETRYABLE_OUTCOMES, RetryPolicy, policy_from_dict
from ringwise.core.retry_policy import NEVER_RETRIED, Done, DoneReason, Retry, decide

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
RETRYABLE: list[CallOutcome] = ["no-answer", "busy", "voicemail", "failed"]


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def test_delays_count_from_the_end_of_each_attempt_and_the_last_repeats() -> None:
    policy = RetryPolicy(delays_minutes=(30, 120), max_attempts=5)
    assert decide(policy, "no-answer", attempts_made=1, ended_at=T0) == Retry(T0 + minutes(30))
    assert decide(policy, "busy", attempts_made=2, ended_at=T0) == Retry(T0 + minutes(120))
    assert decide(policy, "voicemail", attempts_made=3, ended_at=T0) == Retry(T0 + minutes(120))
    assert decide(policy, "failed", attempts_made=4, ended_at=T0) == Retry(T0 + minutes(120))
    assert decide(policy, "failed", attempts_made=5, ended_at=T0) == Done(
        "failed", "max-attempts-reached")


def test_default_cap_is_one_more_than_the_delays() -> None:
    policy = policy_from_dict({"delays_minutes": [10, 20]})
    assert isinstance(decide(policy, "busy", attempts_made=2, ended_at=T0), Retry)
    assert decide(policy, "busy", attempts_made=3, ended_at=T0) == Done(
        "busy", "max-attempts-reached")


def test_default_retry_on_is_the_four_transient_outcomes() -> None:
    assert RetryPolicy().retry_on == frozenset(RETRYABLE)
    for outcome in RETRYABLE:
        assert isinstance(decide(RetryPolicy(), outcome, attempts_made=1, ended_at=T0), Retry)


@pytest.mark.parametrize(("outcome", "reason"), [
    ("answered", "answered"), ("canceled", "not-retryable"), ("expired", "not-retryable"),
    ("blocked", "not-retryable"),
])
def test_never_retried_outcomes_even_if_listed(outcome: CallOutcome,
                                               reason: DoneReason) -> None:
    # a stored retry_on is not trusted to leave them out
    policy = RetryPolicy(retry_on=frozenset(CALL_OUTCOMES), max_attempts=5)
    assert decide(policy, outcome, attempts_made=1, ended_at=T0) == Done(outcome, reason)


def test_outcome_not_in_retry_on_is_final() -> None:
    policy = RetryPolicy(delays_minutes=(30,), retry_on=frozenset({"busy"}), max_attempts=3)
    assert decide(policy, "no-answer", attempts_made=1, ended_at=T0) == Done(
        "no-answer", "outcome-not-retried")
    assert decide(policy, "busy", attempts_made=1, ended_at=T0) == Retry(T0 + minutes(30))


def test_permanent_failures_stop() -> None:
    policy = RetryPolicy(max_attempts=5)
    assert decide(policy, "failed", attempts_made=1, ended_at=T0,
                  ended_reason="invalid-number") == Done("failed", "permanent-failure")
    assert decide(policy, "failed", attempts_made=1, ended_at=T0, permanent=True) == Done(
        "failed", "permanent-failure")
    # a transient failure retries
    assert decide(policy, "failed", attempts_made=1, ended_at=T0,
                  ended_reason="carrier-rejected-cps") == Retry(T0 + minutes(60))


def test_auto_retry_off_is_one_attempt() -> None:
    policy = RetryPolicy(auto_retry=False, delays_minutes=(5,), max_attempts=4)
    assert decide(policy, "busy", attempts_made=1, ended_at=T0) == Done("busy", "auto-retry-off")


def test_policy_without_delays_does_not_retry() -> None:
    policy = RetryPolicy(delays_minutes=(), max_attempts=3)
    assert decide(policy, "busy", attempts_made=1, ended_at=T0) == Done("busy", "no-retry-delay")


def test_first_attempt_basis_is_the_colleagues_arithmetic() -> None:
    policy = RetryPolicy(delays_minutes=(30, 120), max_attempts=3, relative_to="first_attempt")
    assert decide(policy, "busy", attempts_made=2, ended_at=T0 + minutes(35),
                  first_attempt_at=T0) == Retry(T0 + minutes(120))


@pytest.mark.parametrize("kwargs", [
    {"attempts_made": 0, "ended_at": T0},
    {"attempts_made": 1, "ended_at": datetime(2026, 3, 2, 15, 0)},
])
def test_bad_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        decide(RetryPolicy(), "busy", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown call outcome"):
        decide(RetryPolicy(), "ringing", attempts_made=1, ended_at=T0)  # type: ignore[arg-type]


policies = st.builds(
    RetryPolicy,
    auto_retry=st.booleans(),
    delays_minutes=st.lists(st.integers(1, 10_000), min_size=1, max_size=6).map(tuple),
    retry_on=st.frozensets(st.sampled_from(RETRYABLE_OUTCOMES), min_size=1),
    max_attempts=st.integers(1, 20),
)
ended_ats = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                         timezones=st.just(UTC))


@given(policy=policies, outcomes=st.lists(st.sampled_from(RETRYABLE), min_size=25, max_size=25),
       gaps=st.lists(st.integers(0, 600), min_size=25, max_size=25), start=ended_ats)
def test_a_contact_never_exceeds_max_attempts(policy: RetryPolicy, outcomes: list[CallOutcome],
                                              gaps: list[int], start: datetime) -> None:
    attempts, ended_at = 1, start
    for outcome, gap in zip(outcomes, gaps, strict=True):
        decision = decide(policy, outcome, attempts_made=attempts, ended_at=ended_at)
        if isinstance(decision, Done):
            assert decision.final_outcome == outcome
            break
        attempts += 1
        ended_at = decision.at + minutes(gap)  # the next attempt ends some time after it starts
    assert attempts <= policy.max_attempts
    if not policy.auto_retry:
        assert attempts == 1


@given(policy=policies, outcome=st.sampled_from(RETRYABLE), attempts=st.integers(1, 25),
       ended_at=ended_ats)
def test_retry_instant_is_end_plus_the_delay_of_that_attempt(
        policy: RetryPolicy, outcome: CallOutcome, attempts: int, ended_at: datetime) -> None:
    decision = decide(policy, outcome, attempts_made=attempts, ended_at=ended_at)
    retries = policy.auto_retry and outcome in policy.retry_on and attempts < policy.max_attempts
    assert isinstance(decision, Retry) == retries
    if isinstance(decision, Retry):
        delays = policy.delays_minutes
        assert decision.at == ended_at + minutes(delays[min(attempts - 1, len(delays) - 1)])


@given(policy=policies, outcome=st.sampled_from(sorted(NEVER_RETRIED)),
       attempts=st.integers(1, 25), ended_at=ended_ats)
def test_non_retryable_outcomes_are_terminal(policy: RetryPolicy, outcome: CallOutcome,
                                             attempts: int, ended_at: datetime) -> None:
    assert decide(policy, outcome, attempts_made=attempts, ended_at=ended_at) == Done(
        outcome, "answered" if outcome == "answered" else "not-retryable")


@given(policy=policies, outcome=st.sampled_from(RETRYABLE), ended_at=ended_ats,
       reason=st.sampled_from(sorted(PERMANENT_REASONS)))
def test_permanent_reasons_are_terminal(policy: RetryPolicy, outcome: CallOutcome,
                                        ended_at: datetime, reason: str) -> None:
    decision = decide(policy, outcome, attempts_made=1, ended_at=ended_at, ended_reason=reason)
    assert decision == Done(outcome, "permanent-failure")


@given(policy=policies, outcome=st.sampled_from(RETRYABLE), attempts=st.integers(1, 25),
       ended_at=ended_ats)
def test_auto_retry_off_is_terminal(policy: RetryPolicy, outcome: CallOutcome, attempts: int,
                                    ended_at: datetime) -> None:
    off = RetryPolicy(auto_retry=False, delays_minutes=policy.delays_minutes,
                      retry_on=policy.retry_on, max_attempts=policy.max_attempts)
    assert isinstance(decide(off, outcome, attempts_made=attempts, ended_at=ended_at), Done)
