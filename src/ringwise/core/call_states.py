"""The call state machine: statuses, outcomes, ended reasons, and provider events applied to them.

Pure: no I/O, no clock; every instant comes from the caller or the event.

Statuses move forward only: ``queued -> dialing -> ringing -> in-progress -> ended``, and
``queued``, ``dialing`` and ``ringing`` may also end directly. ``queued``: waiting in the
dialer; ``dialing``: the request was sent to the carrier; ``ringing``; ``in-progress``: answered
by a person or a machine; ``ended``: over, with an ``outcome`` and a detailed ``ended_reason``
(in the spirit of Vapi's ``endedReason``). Every status change here goes through
:func:`transition`, which takes exactly one legal step, so an illegal jump (``ringing ->
queued``, ``queued -> in-progress``) raises :class:`IllegalTransition`; ending also checks
that the outcome fits the status (answered only after an answer, blocked / expired only
before dialing) and that the reason explains the outcome.

Provider events (Twilio's ``CallStatus`` vocabulary) arrive late, twice or out of order.
:func:`apply_event` is monotone:

* a status whose rank is not above the current one changes no status (duplicates and stale
  events are no-ops apart from filling in facts still missing, below);
* an event that skips statuses (``ringing`` before ``initiated`` was seen) walks the chain
  one legal step at a time; instants of skipped statuses stay ``None`` until their event comes;
* **the first terminal event decides how the call ended.** A later terminal event never
  changes the outcome: ``no-answer`` then ``completed`` stays ``no-answer``;
* **an answer is a fact:** once ``in-progress`` was seen, the call ends answered (or as
  voicemail / fax, by its answerer) whatever terminal status follows; ``no-answer`` or
  ``busy`` after ``in-progress`` are contradictions and read as the answered call ending.
  ``completed`` means answered too, even when no ``in-progress`` event came (Twilio only sends
  the callbacks one subscribed to), so it walks through ``in-progress`` with
  ``answered_at = None``;
* late events only fill in what is still unknown: an instant that is ``None`` (instants
  merge by the earliest value), or the answerer of an answered call (``None`` < ``unknown`` <
  a definite value; a definite answerer never changes). The outcome of an answered call is a
  function of its answerer (human / unknown -> answered, machine_* -> voicemail, fax ->
  failed), so an answering-machine verdict arriving after ``completed`` (Twilio's async AMD
  callback, which the adapter passes as an ``in-progress`` event with ``at=None``) refines
  ``answered`` into ``voicemail``. That is the one way an ended call's outcome can change, and
  only between the answered outcomes; a pre-answer outcome (no-answer, busy, failed, canceled)
  is never touched.

Together these make the final state independent of the order and duplication of the events of
one call, as long as they share one terminal status (tests/core/test_call_states.py checks
this with hypothesis).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal, get_args

CallStatus = Literal["queued", "dialing", "ringing", "in-progress", "ended"]
CallOutcome = Literal["answered", "voicemail", "no-answer", "busy", "failed", "canceled",
                      "expired", "blocked"]
AnsweredBy = Literal["human", "machine_start", "machine_end_beep", "machine_end_silence",
                     "machine_end_other", "fax", "unknown"]
ProviderStatus = Literal["queued", "initiated", "ringing", "in-progress", "completed", "busy",
                         "failed", "no-answer", "canceled"]
EndedReason = Literal[
    # answered (or reached a machine) and then hung up
    "customer-ended-call", "assistant-ended-call", "assistant-forwarded-call",
    "exceeded-max-duration", "silence-timed-out",
    # the callee asked not to be called again (their number joins the do-not-call list)
    "customer-opted-out",
    # a machine answered
    "voicemail", "machine-detected-hangup",
    # not answered
    "customer-did-not-answer", "customer-busy",
    # failures: permanent ones are in PERMANENT_REASONS
    "invalid-number", "fax-detected", "carrier-rejected", "carrier-rejected-cps",
    "provider-error", "worker-crash-reconciled",
    # ended by us before or while dialing
    "canceled-by-user", "campaign-ended", "expired-before-dialing",
    "blocked-dnc", "blocked-calling-hours", "blocked-frequency-cap", "blocked-no-consent",
    "blocked-registry-scrub", "blocked-unknown-timezone",
]

CALL_STATUSES: Final[tuple[CallStatus, ...]] = get_args(CallStatus)
CALL_OUTCOMES: Final[tuple[CallOutcome, ...]] = get_args(CallOutcome)
ANSWERED_BY_VALUES: Final[tuple[AnsweredBy, ...]] = get_args(AnsweredBy)
PROVIDER_STATUSES: Final[tuple[ProviderStatus, ...]] = get_args(ProviderStatus)
ENDED_REASONS: Final[tuple[EndedReason, ...]] = get_args(EndedReason)

STATUS_RANK: Final[Mapping[CallStatus, int]] = {s: i for i, s in enumerate(CALL_STATUSES)}

# The only legal single steps. Anything else (backwards, skipping, leaving ended) is illegal.
TRANSITIONS: Final[Mapping[CallStatus, frozenset[CallStatus]]] = {
    "queued": frozenset({"dialing", "ended"}),
    "dialing": frozenset({"ringing", "ended"}),
    "ringing": frozenset({"in-progress", "ended"}),
    "in-progress": frozenset({"ended"}),
    "ended": frozenset(),
}

# From which status a call may end with each outcome: answered outcomes need an answer,
# blocked / expired calls were never dialed, no-answer / busy calls were.
OUTCOME_FROM: Final[Mapping[CallOutcome, frozenset[CallStatus]]] = {
    "answered": frozenset({"in-progress"}),
    "voicemail": frozenset({"in-progress"}),
    "no-answer": frozenset({"dialing", "ringing"}),
    "busy": frozenset({"dialing", "ringing"}),
    "failed": frozenset({"dialing", "ringing", "in-progress"}),
    "canceled": frozenset({"queued", "dialing", "ringing"}),
    "expired": frozenset({"queued"}),
    "blocked": frozenset({"queued"}),
}

_REACHED: Final[frozenset[CallOutcome]] = frozenset({"answered", "voicemail"})
# Which outcomes each reason can explain.
REASON_OUTCOMES: Final[Mapping[EndedReason, frozenset[CallOutcome]]] = {
    "customer-ended-call": _REACHED,
    "assistant-ended-call": _REACHED,
    "assistant-forwarded-call": frozenset({"answered"}),
    "exceeded-max-duration": _REACHED,
    "silence-timed-out": _REACHED,
    "voicemail": frozenset({"voicemail"}),
    "machine-detected-hangup": frozenset({"voicemail"}),
    "customer-did-not-answer": frozenset({"no-answer"}),
    "customer-busy": frozenset({"busy"}),
    "invalid-number": frozenset({"failed"}),
    "fax-detected": frozenset({"failed"}),
    "carrier-rejected": frozenset({"failed"}),
    "carrier-rejected-cps": frozenset({"failed"}),
    "provider-error": frozenset({"failed", "answered", "voicemail"}),  # dropped mid-call too
    "worker-crash-reconciled": frozenset({"failed"}),
    "canceled-by-user": frozenset({"canceled"}),
    "campaign-ended": frozenset({"canceled"}),
    "expired-before-dialing": frozenset({"expired"}),
    "blocked-dnc": frozenset({"blocked"}),
    "blocked-calling-hours": frozenset({"blocked"}),
    "blocked-frequency-cap": frozenset({"blocked"}),
    "blocked-no-consent": frozenset({"blocked"}),
    "blocked-registry-scrub": frozenset({"blocked"}),
    "blocked-unknown-timezone": frozenset({"blocked"}),
    "customer-opted-out": frozenset({"answered"}),
}

# Reasons after which calling the same number again cannot succeed: the retry policy stops.
PERMANENT_REASONS: Final[frozenset[EndedReason]] = frozenset(
    {"invalid-number", "fax-detected", "blocked-dnc", "customer-opted-out"})

DEFAULT_REASON: Final[Mapping[CallOutcome, EndedReason]] = {
    "answered": "customer-ended-call",
    "voicemail": "voicemail",
    "no-answer": "customer-did-not-answer",
    "busy": "customer-busy",
    "failed": "provider-error",
    "canceled": "canceled-by-user",
    "expired": "expired-before-dialing",
    "blocked": "blocked-dnc",
}

TERMINAL_PROVIDER_STATUSES: Final[frozenset[ProviderStatus]] = frozenset(
    {"completed", "busy", "failed", "no-answer", "canceled"})

# Where each provider status puts the call. Twilio's "queued" means it accepted our request:
# to us that is dialing, like "initiated".
_PROVIDER_TARGET: Final[Mapping[ProviderStatus, CallStatus]] = {
    "queued": "dialing", "initiated": "dialing", "ringing": "ringing",
    "in-progress": "in-progress", "completed": "ended", "busy": "ended", "failed": "ended",
    "no-answer": "ended", "canceled": "ended",
}
# The outcome of a terminal status when the call was not answered.
_UNANSWERED_OUTCOME: Final[Mapping[ProviderStatus, CallOutcome]] = {
    "busy": "busy", "failed": "failed", "no-answer": "no-answer", "canceled": "canceled",
}
# How well an answerer is known: a better-known value replaces a lesser one, never the reverse.
_ANSWERER_KNOWLEDGE: Final[Mapping[AnsweredBy | None, int]] = {
    None: 0, "unknown": 1, **{value: 2 for value in ANSWERED_BY_VALUES if value != "unknown"}}


class IllegalTransition(ValueError):
    """A status change that the state machine does not allow; names both statuses."""

    def __init__(self, from_status: CallStatus, to_status: CallStatus, detail: str = "") -> None:
        message = f"illegal call transition {from_status} -> {to_status}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.from_status = from_status
        self.to_status = to_status


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True)
class CallState:
    """One call attempt as the dialer knows it. ``outcome`` and ``ended_reason`` are set
    exactly when ``status == "ended"``; instants are aware datetimes or None (not known)."""

    status: CallStatus = "queued"
    outcome: CallOutcome | None = None
    ended_reason: EndedReason | None = None
    answered_by: AnsweredBy | None = None
    dialing_at: datetime | None = None
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUS_RANK:
            raise ValueError(f"unknown call status {self.status!r}")
        ended = self.status == "ended"
        if ended != (self.outcome is not None) or ended != (self.ended_reason is not None):
            raise ValueError("outcome and ended_reason are set exactly when the call has ended")
        if self.outcome is not None and self.outcome not in OUTCOME_FROM:
            raise ValueError(f"unknown call outcome {self.outcome!r}")
        if self.ended_reason is not None and self.ended_reason not in REASON_OUTCOMES:
            raise ValueError(f"unknown ended reason {self.ended_reason!r}")
        if self.answered_by is not None and self.answered_by not in _ANSWERER_KNOWLEDGE:
            raise ValueError(f"unknown answered_by {self.answered_by!r}")
        for name, value in (("dialing_at", self.dialing_at), ("ringing_at", self.ringing_at),
                            ("answered_at", self.answered_at), ("ended_at", self.ended_at)):
            if value is not None and value.utcoffset() is None:
                _require_aware(value, name)

    @property
    def rank(self) -> int:
        return STATUS_RANK[self.status]

    @property
    def is_ended(self) -> bool:
        return self.status == "ended"


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A status callback in Twilio's vocabulary. ``ended_reason`` lets the adapter say more
    than the status can (a SIP 404 -> ``invalid-number``, the assistant hung up ->
    ``assistant-ended-call``); it is used only if this event is the one that ends the call."""

    status: ProviderStatus
    at: datetime | None = None
    answered_by: AnsweredBy | None = None
    ended_reason: EndedReason | None = None

    def __post_init__(self) -> None:
        if self.status not in _PROVIDER_TARGET:
            raise ValueError(f"unknown provider call status {self.status!r}")
        if self.answered_by is not None and self.answered_by not in _ANSWERER_KNOWLEDGE:
            raise ValueError(f"unknown answered_by {self.answered_by!r}")
        if self.ended_reason is not None and self.ended_reason not in REASON_OUTCOMES:
            raise ValueError(f"unknown ended reason {self.ended_reason!r}")
        _require_aware(self.at, "at")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_PROVIDER_STATUSES


def is_permanent(reason: str | None) -> bool:
    """True when a call that ended so cannot succeed on a retry (e.g. invalid number)."""
    return reason in PERMANENT_REASONS


def answered_outcome(answered_by: AnsweredBy | None) -> CallOutcome:
    """The outcome of a call that was picked up, by who picked it up."""
    if answered_by == "fax":
        return "failed"
    if answered_by is not None and answered_by.startswith("machine"):
        return "voicemail"
    return "answered"


def _answered_default_reason(outcome: CallOutcome) -> EndedReason:
    return "fax-detected" if outcome == "failed" else DEFAULT_REASON[outcome]


def check_transition(from_status: CallStatus, to_status: CallStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``from_status -> to_status`` is one legal step."""
    if to_status not in TRANSITIONS[from_status]:
        raise IllegalTransition(from_status, to_status)


def transition(state: CallState, to: CallStatus, *, at: datetime | None = None,
               outcome: CallOutcome | None = None,
               ended_reason: EndedReason | None = None) -> CallState:
    """One legal step to ``to``, recording ``at`` as that status's instant.

    Ending needs an ``outcome`` that the current status allows (answered only after an answer,
    blocked / expired only before dialing, ...); ``ended_reason`` defaults per outcome and must
    be able to explain it.
    """
    check_transition(state.status, to)
    _require_aware(at, "at")
    if to != "ended":
        if outcome is not None or ended_reason is not None:
            raise ValueError("outcome and ended_reason only go with a transition to ended")
        return _stepped(state, to, at, None, None)
    if outcome is None:
        raise ValueError("ending a call needs an outcome")
    if state.status not in OUTCOME_FROM[outcome]:
        raise IllegalTransition(state.status, to, f"outcome {outcome!r} cannot follow "
                                                  f"status {state.status!r}")
    reason = ended_reason or DEFAULT_REASON[outcome]
    if outcome not in REASON_OUTCOMES[reason]:
        raise IllegalTransition(state.status, to,
                                f"ended reason {reason!r} does not explain outcome {outcome!r}")
    return _stepped(state, to, at, outcome, reason)


def _stepped(state: CallState, to: CallStatus, at: datetime | None,
             outcome: CallOutcome | None, reason: EndedReason | None,
             instant_of: CallStatus | None = None) -> CallState:
    """``state`` moved to ``to`` with ``at`` as the instant of ``instant_of`` (default:
    ``to``): one construction, where ``dataclasses.replace`` twice costs ~4x more (the
    dialer makes ~3 steps per call)."""
    dialing, ringing, answered, ended = (state.dialing_at, state.ringing_at, state.answered_at,
                                         state.ended_at)
    if at is not None:
        of = instant_of or to
        if of == "dialing":
            dialing = at
        elif of == "ringing":
            ringing = at
        elif of == "in-progress":
            answered = at
        elif of == "ended":
            ended = at
    return CallState(to, outcome, reason, state.answered_by, dialing, ringing, answered, ended)


def start_dialing(state: CallState, at: datetime) -> CallState:
    """queued -> dialing, committed by the dialer before it sends the provider request."""
    return transition(state, "dialing", at=at)


def end_call(state: CallState, outcome: CallOutcome, ended_reason: EndedReason | None = None,
             at: datetime | None = None) -> CallState:
    """End a call from the dialer's side (blocked by DNC, expired, canceled, reconciled...)."""
    return transition(state, "ended", at=at, outcome=outcome, ended_reason=ended_reason)


def apply_event(state: CallState, event: ProviderEvent) -> CallState:
    """The state after ``event``; monotone and order-insensitive as the module doc explains."""
    target = _PROVIDER_TARGET[event.status]
    if state.is_ended:
        return _fill_in_ended(state, event)
    if event.status == "completed" or (event.is_terminal and state.status == "in-progress"):
        # Answered, whether or not in-progress was seen: walk through it, then end by answerer.
        state = _walk(state, "in-progress")
        answered_by = _better_answerer(state.answered_by, event.answered_by)
        outcome = answered_outcome(answered_by)
        reason = _reason_for(event, outcome, answered=True)
        return transition(_with_answerer(state, answered_by), "ended", at=event.at,
                          outcome=outcome, ended_reason=reason)
    if event.is_terminal:
        outcome = _UNANSWERED_OUTCOME[event.status]
        # The provider knows the call, so it was dialed even if our dialing step is missing.
        state = _walk(state, "dialing") if state.status == "queued" else state
        reason = _reason_for(event, outcome, answered=False)
        return transition(state, "ended", at=event.at, outcome=outcome, ended_reason=reason)
    if STATUS_RANK[target] > state.rank:
        state = _walk(state, CALL_STATUSES[STATUS_RANK[target] - 1])
        state = transition(state, target, at=event.at)
    else:
        state = _merge_instant(state, target, event.at)  # a stale event may tell an instant
    if target == "in-progress":
        state = _with_answerer(state, _better_answerer(state.answered_by,
                                                            event.answered_by))
    return state


def _with_answerer(state: CallState, answered_by: AnsweredBy | None) -> CallState:
    if answered_by == state.answered_by:
        return state
    return CallState(state.status, state.outcome, state.ended_reason, answered_by,
                     state.dialing_at, state.ringing_at, state.answered_at, state.ended_at)


def _walk(state: CallState, to: CallStatus) -> CallState:
    """Step forward to ``to`` through every status in between (instants of skipped ones unknown)."""
    while state.rank < STATUS_RANK[to]:
        state = transition(state, CALL_STATUSES[state.rank + 1])
    return state


def _instant(state: CallState, status: CallStatus) -> datetime | None:
    return {"dialing": state.dialing_at, "ringing": state.ringing_at,
            "in-progress": state.answered_at, "ended": state.ended_at}.get(status)


def _with_instant(state: CallState, status: CallStatus, at: datetime | None) -> CallState:
    if at is None or status == "queued":  # queued has no instant of its own
        return state
    return _stepped(state, state.status, at, state.outcome, state.ended_reason, status)


def _merge_instant(state: CallState, status: CallStatus, at: datetime | None) -> CallState:
    """Keep the earliest known instant, so duplicates and reordering agree."""
    current = _instant(state, status)
    if at is None or (current is not None and current <= at):
        return state
    return _with_instant(state, status, at)


def _better_answerer(current: AnsweredBy | None, new: AnsweredBy | None) -> AnsweredBy | None:
    return new if _ANSWERER_KNOWLEDGE[new] > _ANSWERER_KNOWLEDGE[current] else current


def _reason_for(event: ProviderEvent, outcome: CallOutcome, *, answered: bool) -> EndedReason:
    if event.ended_reason is not None and outcome in REASON_OUTCOMES[event.ended_reason]:
        return event.ended_reason
    if not answered:
        if event.ended_reason is not None:
            raise ValueError(f"ended reason {event.ended_reason!r} does not explain a "
                             f"{event.status!r} call ({outcome})")
        return DEFAULT_REASON[outcome]
    # An answered call's reason follows its answerer; an override that fits another answerer
    # only (e.g. "voicemail" before AMD said machine) is dropped rather than trusted.
    if event.status == "failed" and outcome in REASON_OUTCOMES["provider-error"]:
        return "provider-error"  # dropped after the answer
    return _answered_default_reason(outcome)


def _was_answered(state: CallState) -> bool:
    return state.outcome in _REACHED or (state.outcome == "failed" and state.answered_by == "fax")


def _fill_in_ended(state: CallState, event: ProviderEvent) -> CallState:
    """An ended call only learns missing facts; how it ended before an answer is final."""
    target = _PROVIDER_TARGET[event.status]
    answered = _was_answered(state)
    if target == "ended":
        if state.ended_at is None:
            state = _with_instant(state, "ended", event.at)
        if event.status == "completed" and answered:
            state = _refine_answerer(state, event.answered_by)
        return state
    if target == "in-progress":
        if not answered:
            return state  # an answer after no-answer / busy / failed / canceled: contradiction
        return _refine_answerer(_merge_instant(state, target, event.at), event.answered_by)
    return _merge_instant(state, target, event.at)


def _refine_answerer(state: CallState, answered_by: AnsweredBy | None) -> CallState:
    """A better-known answerer of an ended, answered call; its outcome follows the answerer,
    and so does its reason unless the reason was explicit and still fits."""
    better = _better_answerer(state.answered_by, answered_by)
    if better == state.answered_by or state.outcome is None or state.ended_reason is None:
        return state
    outcome = answered_outcome(better)
    reason = state.ended_reason
    if reason == _answered_default_reason(state.outcome) or outcome not in REASON_OUTCOMES[reason]:
        reason = _answered_default_reason(outcome)
    return replace(state, answered_by=better, outcome=outcome, ended_reason=reason)
