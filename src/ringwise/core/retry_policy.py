"""After an attempt ends: when to call the contact again, or why the contact is done.

Pure: no I/O, no clock. Builds on :class:`ringwise.core.retry.RetryPolicy` (the campaign's
retry settings: ``auto_retry``, ``delays_minutes``, ``retry_on``, ``max_attempts``,
``relative_to``) and its delay arithmetic: ``delays_minutes[i]`` is the wait after attempt
``i + 1``, counted from the END of that attempt, and the last delay repeats when there are more
attempts than delays.

Rules, in the order :func:`decide` applies them (the first that matches gives the ``Done``
reason):

1. ``answered``, ``canceled``, ``expired`` and ``blocked`` never retry, whatever ``retry_on``
   says (a stored ``retry_on`` is not trusted to exclude them).
2. A permanent ending (``permanent=True``, or an ``ended_reason`` in
   :data:`~ringwise.core.call_states.PERMANENT_REASONS` such as ``invalid-number``) never
   retries, whatever the outcome.
3. ``auto_retry`` off means exactly one attempt.
4. An outcome not in the policy's ``retry_on`` is final.
5. ``max_attempts`` is one shared cap per contact: every attempt of any outcome counts, so
   after ``attempts_made >= max_attempts`` the contact is done.
6. Otherwise retry at ``ended_at + delay`` (or, with ``relative_to="first_attempt"``, at the
   policy's offset from ``first_attempt_at``, never before ``ended_at``).

The instant returned is the policy's, not a dialable one: the caller moves a retry that lands
outside the contact's calling window to the window's next opening with
:func:`ringwise.core.windows.next_window` (and the compliance floor), then stores it as the
campaign contact's ``next_eligible_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

from ringwise.core.call_states import CALL_OUTCOMES, CallOutcome, is_permanent
from ringwise.core.retry import RetryPolicy

DoneReason = Literal[
    "answered",  # the contact was reached
    "not-retryable",  # canceled / expired / blocked: never retried
    "permanent-failure",  # e.g. invalid number
    "auto-retry-off",
    "outcome-not-retried",  # not in the policy's retry_on
    "max-attempts-reached",
    "no-retry-delay",  # a policy with attempts left but no delays (refused by the API)
]
DONE_REASONS: Final[tuple[DoneReason, ...]] = get_args(DoneReason)

# Outcomes that no policy can retry: the contact was reached, or we chose not to call.
NEVER_RETRIED: Final[frozenset[CallOutcome]] = frozenset(
    {"answered", "canceled", "expired", "blocked"})


@dataclass(frozen=True, slots=True)
class Retry:
    """Call again at ``at`` (before moving it into a calling window)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Done:
    """No more attempts: the contact ends with ``final_outcome`` (the last attempt's)."""

    final_outcome: CallOutcome
    reason: DoneReason


RetryDecision = Retry | Done


def decide(policy: RetryPolicy, outcome: CallOutcome, *, attempts_made: int,
           ended_at: datetime, ended_reason: str | None = None, permanent: bool = False,
           first_attempt_at: datetime | None = None) -> RetryDecision:
    """The decision after attempt number ``attempts_made`` (1 = the first call) ended at
    ``ended_at`` with ``outcome``; see the module doc for the rules."""
    if outcome not in CALL_OUTCOMES:
        raise ValueError(f"unknown call outcome {outcome!r}")
    if attempts_made < 1:
        raise ValueError(f"attempts_made counts the attempt that just ended, got {attempts_made}")
    for name, value in (("ended_at", ended_at), ("first_attempt_at", first_attempt_at)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")

    if outcome == "answered":
        return Done(outcome, "answered")
    if outcome in NEVER_RETRIED:
        return Done(outcome, "not-retryable")
    if permanent or is_permanent(ended_reason):
        return Done(outcome, "permanent-failure")
    if not policy.auto_retry:
        return Done(outcome, "auto-retry-off")
    if outcome not in policy.retry_on:
        return Done(outcome, "outcome-not-retried")
    if attempts_made >= policy.max_attempts:
        return Done(outcome, "max-attempts-reached")
    at = policy.next_attempt_at(outcome, attempts_made, last_ended_at=ended_at,
                                first_attempt_at=first_attempt_at)
    if at is None:
        return Done(outcome, "no-retry-delay")
    return Retry(at)
