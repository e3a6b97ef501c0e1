from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.call_states import (
    CallOutcome,
    CallState,
    EndedReason,
    ProviderEvent,
    apply_event,
    start_dialing,
)
from ringwise.telephony import (
    Accepted,
    CallEvent,
    CallPlan,
    CarrierModel,
    DialRequest,
    Duration,
    IdempotencyConflict,
    ModelError,
    Rejected,
    SimulatedCarrier,
    SupportsHangup,
    TelephonyProvider,
)
from ringwise.telephony.simulated import Fate

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
NY = ("America/New_York",)
FLAT = CarrierModel(answer_hour_multiplier=(1.0,) * 24, cps_limit=None)
SEQUENCES = {  # the statuses a call may go through, in Twilio's order
    ("failed",), ("initiated", "failed"), ("initiated", "ringing", "busy"),
    ("initiated", "ringing", "no-answer"), ("initiated", "ringing", "in-progress", "completed"),
}


def request(i: int, at: datetime = T0, **changes: object) -> DialRequest:
    base = DialRequest(
        call_id=f"call-{i}", from_number="+12125550100", to_number=f"+1312555{i % 10_000:04d}",
        callee_zones=NY, placed_at=at, machine_detection=True, machine_detection_timeout_s=30,
        opening_message="Hi {{first_name}}, this is Ava from Acme.",
        voicemail_message="Hi {{first_name}}, please call Acme back.",
        context={"first_name": "Dana"})
    return replace(base, **changes)  # type: ignore[arg-type]


def place_all(carrier: SimulatedCarrier, requests: list[DialRequest]) -> None:
    for req in requests:
        assert isinstance(carrier.place_call(req), Accepted)


def spread(count: int, every_s: float = 3.0, **changes: object) -> list[DialRequest]:
    return [request(i, T0 + timedelta(seconds=every_s * i), **changes) for i in range(count)]


def by_call(events: list[CallEvent]) -> dict[str, list[ProviderEvent]]:
    calls: dict[str, list[ProviderEvent]] = {}
    for item in events:
        calls.setdefault(item.call_id, []).append(item.event)
    return calls


UNANSWERED_MACHINE_OR_NOT: dict[Fate, tuple[CallOutcome, EndedReason]] = {
    "human": ("answered", "customer-ended-call"),
    "machine": ("answered", "customer-ended-call"),  # undetected: sounds like a person
    "busy": ("busy", "customer-busy"),
    "no-answer": ("no-answer", "customer-did-not-answer"),
    "failed": ("failed", "provider-error"),
    "invalid-number": ("failed", "invalid-number"),
}


def expected(plan: CallPlan) -> tuple[CallOutcome, EndedReason]:
    """The outcome the dialer must reach, from the simulated truth."""
    if plan.fate == "machine" and plan.answered_by is not None \
            and plan.answered_by.startswith("machine"):
        terminal = plan.events[-1].ended_reason
        assert terminal in ("voicemail", "machine-detected-hangup")
        return "voicemail", terminal
    if plan.fate == "human" and plan.disposition == "opt-out":
        return "answered", "customer-opted-out"  # the assistant confirms and hangs up
    return UNANSWERED_MACHINE_OR_NOT[plan.fate]


def final_state(placed_at: datetime, events: list[ProviderEvent]) -> CallState:
    state = start_dialing(CallState(), placed_at)
    for event in events:
        state = apply_event(state, event)
    return state


# --- the port ----------------------------------------------------------------------------------

def test_simulated_carrier_is_a_telephony_provider_that_can_hang_up() -> None:
    carrier: TelephonyProvider = SimulatedCarrier()
    assert isinstance(carrier, SupportsHangup)


def test_place_call_is_idempotent() -> None:
    carrier = SimulatedCarrier(FLAT, seed=1)
    first = carrier.place_call(request(1))
    again = carrier.place_call(request(1, T0 + timedelta(seconds=5)))  # a retry after a crash
    assert isinstance(first, Accepted)
    assert again == first
    events = carrier.events_due(T0 + timedelta(hours=1))
    assert len({e.event.status for e in events if e.event.is_terminal}) == 1
    assert sum(e.event.is_terminal for e in events) == 1  # one call, not two
    assert carrier.place_call(request(1)) == first  # still the same after it ended
    assert carrier.events_due(T0 + timedelta(hours=2)) == []


def test_same_call_id_with_other_numbers_is_a_conflict_not_a_second_call() -> None:
    carrier = SimulatedCarrier(FLAT)
    carrier.place_call(request(1))
    with pytest.raises(IdempotencyConflict, match="call-1"):
        carrier.place_call(request(1, to_number="+13125559999"))


def test_malformed_numbers_are_rejected_for_good_and_leave_no_call() -> None:
    carrier = SimulatedCarrier(FLAT)
    assert carrier.place_call(request(1, to_number="3125550123")) == Rejected(
        "invalid-number", retryable=False)
    assert carrier.place_call(request(2, from_number="+0")) == Rejected(
        "carrier-rejected", retryable=False)
    assert carrier.lookup("call-1") is None
    assert carrier.events_due(T0 + timedelta(hours=1)) == []


def test_request_checks() -> None:
    with pytest.raises(ValueError, match="aware"):
        request(1, at=datetime(2026, 3, 2, 15, 0))
    with pytest.raises(ValueError, match="unknown callee time zone"):
        SimulatedCarrier(FLAT).place_call(request(1, callee_zones=("Mars/Olympus",)))


# --- determinism -------------------------------------------------------------------------------

def test_same_seed_same_events_whatever_the_order_of_placing_and_pulling() -> None:
    requests = spread(400, every_s=0.7)
    forward = SimulatedCarrier(seed=42)  # default model: CPS 10, never reached at 0.7 s apart
    place_all(forward, requests)
    log = forward.events_due(T0 + timedelta(days=1))

    shuffled = requests[:]
    random.Random(3).shuffle(shuffled)
    backward = SimulatedCarrier(seed=42)
    pulled: list[CallEvent] = []
    for chunk in range(0, len(shuffled), 50):  # placing and pulling interleaved
        place_all(backward, shuffled[chunk:chunk + 50])
        pulled += backward.events_due(T0 + timedelta(seconds=chunk))
    pulled += backward.events_due(T0 + timedelta(days=1))
    assert sorted(pulled, key=lambda e: (e.at, e.call_id)) == log
    assert [forward.plan(r.call_id) for r in requests] == [
        backward.plan(r.call_id) for r in requests]


def test_a_different_seed_is_a_different_world() -> None:
    requests = spread(200)
    logs = []
    for seed in (1, 2):
        carrier = SimulatedCarrier(seed=seed)
        place_all(carrier, requests)
        logs.append([(e.call_id, e.event) for e in carrier.events_due(T0 + timedelta(days=1))])
    assert logs[0] != logs[1]


# --- events ------------------------------------------------------------------------------------

def test_events_due_hands_out_each_event_once_in_time_order() -> None:
    carrier = SimulatedCarrier(FLAT, seed=5)
    place_all(carrier, spread(300))
    pulls: list[CallEvent] = []
    until = T0
    while until < T0 + timedelta(hours=1):
        until += timedelta(seconds=7)
        due = carrier.events_due(until)
        assert all(e.at is not None and e.at <= until for e in due)
        assert due == sorted(due, key=lambda e: (e.at, e.call_id))
        pulls += due
    assert len(pulls) == len(set(pulls))
    assert len(by_call(pulls)) == 300
    assert carrier.events_due(T0 + timedelta(days=1)) == []


def test_a_call_placed_in_the_past_is_reported_on_the_next_pull() -> None:
    carrier = SimulatedCarrier(FLAT, seed=5)
    carrier.events_due(T0 + timedelta(hours=1))
    carrier.place_call(request(1, T0))
    due = carrier.events_due(T0 + timedelta(hours=1))
    assert due and due[-1].event.is_terminal


def test_every_call_follows_twilios_order_and_ends_once_as_the_state_machine_expects() -> None:
    carrier = SimulatedCarrier(FLAT, seed=11)
    requests = [request(i, T0 + timedelta(seconds=2 * i), machine_detection=i % 3 != 0,
                        voicemail_message=None if i % 4 == 0 else "Call us back.")
                for i in range(3000)]
    place_all(carrier, requests)
    calls = by_call(carrier.events_due(T0 + timedelta(days=1)))
    assert len(calls) == len(requests)
    fates: Counter[str] = Counter()
    for req in requests:
        events = calls[req.call_id]
        assert tuple(e.status for e in events) in SEQUENCES
        instants = [e.at for e in events]
        assert all(at is not None for at in instants)
        assert instants == sorted(instants)  # type: ignore[type-var]
        assert instants[0] == req.placed_at
        assert [e.is_terminal for e in events] == [False] * (len(events) - 1) + [True]
        plan = carrier.plan(req.call_id)
        assert plan is not None and plan.events == tuple(events)
        fates[plan.fate] += 1
        if not req.machine_detection:
            assert all(e.answered_by is None for e in events)
        state = final_state(req.placed_at, events)
        assert (state.outcome, state.ended_reason) == expected(plan), (req, events)
        assert state.ended_at == events[-1].at
    assert set(fates) == {"human", "machine", "busy", "no-answer", "failed", "invalid-number"}


def test_machine_detection_verdicts() -> None:
    def answerers(model: CarrierModel, **changes: object) -> Counter[str | None]:
        carrier = SimulatedCarrier(model, seed=3)
        place_all(carrier, [request(i, T0 + timedelta(seconds=3 * i), **changes)
                            for i in range(2000)])
        return Counter(p.answered_by for r in spread(2000)
                       if (p := carrier.plan(r.call_id)) is not None and p.fate == "machine")

    beeps = answerers(FLAT)
    assert beeps["machine_end_beep"] > beeps["machine_end_silence"] > 0
    assert 0 < beeps["unknown"] < 0.15 * sum(beeps.values())
    assert set(answerers(FLAT, voicemail_message=None)) <= {"machine_start", "unknown"}
    # The greeting (4 s at least) outlasts a 2 s detection window: the verdict is unknown.
    assert set(answerers(FLAT, machine_detection_timeout_s=2)) == {"unknown"}
    assert set(answerers(FLAT, machine_detection=False)) == {None}
    certain = replace(FLAT, amd_unknown_rate=0.0,
                      machine_answered_by={"machine_end_silence": 1.0})
    assert set(answerers(certain)) == {"machine_end_silence"}


def test_a_short_ring_timeout_turns_late_answers_into_no_answer() -> None:
    model = replace(FLAT, ring_timeout_s=10.0)
    carrier = SimulatedCarrier(model, seed=9)
    requests = spread(1000)
    place_all(carrier, requests)
    calls = by_call(carrier.events_due(T0 + timedelta(days=1)))
    fates = Counter(p.fate for r in requests if (p := carrier.plan(r.call_id)))
    assert fates["machine"] == 0  # voicemail picks up after 12 s at the earliest
    for events in calls.values():
        if events[-1].status == "no-answer":
            assert events[-1].at == events[1].at + timedelta(seconds=10)  # type: ignore[operator]
        if events[-1].status == "completed":
            assert events[2].at - events[1].at < timedelta(seconds=10)  # type: ignore[operator]


# --- rates -------------------------------------------------------------------------------------

def test_observed_rates_converge_to_the_model() -> None:
    carrier = SimulatedCarrier(FLAT, seed=2024)
    requests = spread(20_000, every_s=0.5)
    place_all(carrier, requests)
    fates: Counter[str] = Counter(p.fate for r in requests if (p := carrier.plan(r.call_id)))
    n = len(requests)
    rest = 1 - FLAT.answer_rate - FLAT.busy_rate - FLAT.voicemail_rate - FLAT.failure_rate \
        - FLAT.invalid_rate
    for fate, rate in (("human", FLAT.answer_rate), ("busy", FLAT.busy_rate),
                       ("machine", FLAT.voicemail_rate), ("failed", FLAT.failure_rate),
                       ("invalid-number", FLAT.invalid_rate), ("no-answer", rest)):
        tolerance = 4 * (rate * (1 - rate) / n) ** 0.5  # four standard errors
        assert abs(fates[fate] / n - rate) < tolerance, (fate, fates[fate] / n, rate)


def test_answer_rate_follows_the_callees_local_hour() -> None:
    night_and_day = tuple(0.2 if hour < 12 else 1.6 for hour in range(24))
    model = replace(FLAT, answer_hour_multiplier=night_and_day)
    carrier = SimulatedCarrier(model, seed=8)
    n = 4000
    # 15:00 UTC is 07:00 in Los Angeles (the first zone) and 10:00 in New York.
    morning = spread(n, every_s=0.1, callee_zones=("America/Los_Angeles", "America/New_York"))
    evening = [replace(r, call_id=f"e{i}", placed_at=r.placed_at + timedelta(hours=8))
               for i, r in enumerate(morning)]
    place_all(carrier, morning + evening)

    def answered(requests: list[DialRequest]) -> float:
        return sum(carrier.plan(r.call_id).fate == "human"  # type: ignore[union-attr]
                   for r in requests) / n

    assert abs(answered(morning) - 0.25 * 0.2) < 0.015
    assert abs(answered(evening) - 0.25 * 1.6) < 0.03
    assert model.answer_rate_at(23) == pytest.approx(0.4)
    capped = replace(FLAT, answer_hour_multiplier=(10.0,) * 24)
    assert capped.answer_rate_at(9) == pytest.approx(1 - 0.04 - 0.20 - 0.01 - 0.02)


# --- calls per second --------------------------------------------------------------------------

@given(limit=st.integers(1, 4),
       offsets_ms=st.lists(st.integers(0, 4000), min_size=1, max_size=60))
def test_cps_limit_holds_in_every_rolling_second(limit: int, offsets_ms: list[int]) -> None:
    carrier = SimulatedCarrier(replace(FLAT, cps_limit=limit))
    accepted: list[int] = []
    rejected: list[int] = []
    for i, ms in enumerate(offsets_ms):  # arrival order is not time order
        result = carrier.place_call(request(i, T0 + timedelta(milliseconds=ms)))
        if isinstance(result, Accepted):
            accepted.append(ms)
        else:
            assert result == Rejected("carrier-rejected-cps", retryable=True)
            assert carrier.lookup(f"call-{i}") is None
            rejected.append(ms)
    for start in accepted:
        assert sum(start <= t < start + 1000 for t in accepted) <= limit
    # No needless rejection: each rejected instant sits in a full window.
    for ms in rejected:
        assert any(sum(s <= t < s + 1000 for t in accepted) >= limit
                   for s in range(ms - 999, ms + 1))


def test_a_cps_rejected_call_can_be_placed_again_later() -> None:
    carrier = SimulatedCarrier(replace(FLAT, cps_limit=1))
    assert isinstance(carrier.place_call(request(1)), Accepted)
    assert isinstance(carrier.place_call(request(2)), Rejected)
    assert isinstance(carrier.place_call(request(2, T0 + timedelta(seconds=1))), Accepted)


# --- lookup and hang-up ------------------------------------------------------------------------

def first(carrier: SimulatedCarrier, fate: str, requests: list[DialRequest]) -> DialRequest:
    return next(r for r in requests if carrier.plan(r.call_id).fate == fate)  # type: ignore[union-attr]


def test_lookup_tells_the_status_as_of_the_carriers_now() -> None:
    carrier = SimulatedCarrier(FLAT, seed=4)
    requests = spread(50)
    place_all(carrier, requests)
    assert carrier.lookup("nope") is None
    call = first(carrier, "human", requests)
    plan = carrier.plan(call.call_id)
    assert plan is not None
    ringing, answered, completed = plan.events[1:]
    carrier.events_due(ringing.at)  # type: ignore[arg-type]
    record = carrier.lookup(call.call_id)
    assert record is not None and record.status == "ringing" and not record.is_ended
    assert (record.provider_call_id, record.to_number) == (plan.provider_call_id, call.to_number)
    carrier.events_due(T0 + timedelta(days=1))
    record = carrier.lookup(call.call_id)
    assert record is not None and record.is_ended
    assert (record.status, record.answered_at, record.ended_at) == (
        "completed", answered.at, completed.at)
    # Reconciling from the record alone reaches the same state as the events.
    by_record = final_state(call.placed_at, [record.event()])
    by_events = final_state(call.placed_at, list(plan.events))
    assert (by_record.outcome, by_record.ended_reason, by_record.ended_at) == (
        by_events.outcome, by_events.ended_reason, by_events.ended_at)


def test_hangup_ends_an_answered_call_early() -> None:
    carrier = SimulatedCarrier(FLAT, seed=4)
    requests = spread(50)
    place_all(carrier, requests)
    call = first(carrier, "human", requests)
    plan = carrier.plan(call.call_id)
    assert plan is not None
    answered_at = plan.events[2].at
    assert answered_at is not None
    carrier.events_due(answered_at)
    stop = answered_at + timedelta(seconds=4)
    assert carrier.hangup(call.call_id, stop)
    events = by_call(carrier.events_due(T0 + timedelta(days=1)))[call.call_id]
    assert [e.status for e in events] == ["completed"]
    assert (events[0].at, events[0].ended_reason) == (stop, "assistant-ended-call")
    state = final_state(call.placed_at, list(carrier.plan(call.call_id).events))  # type: ignore[union-attr]
    assert (state.outcome, state.ended_reason) == ("answered", "assistant-ended-call")
    transcript = carrier.conversation(plan.provider_call_id)
    assert transcript is not None and transcript.duration_s == 4.0
    assert all(turn.end_s <= 4.0 for turn in transcript.turns)
    assert not carrier.hangup(call.call_id, stop + timedelta(seconds=1))  # already over


def test_hangup_while_ringing_cancels_and_never_rewrites_reported_events() -> None:
    carrier = SimulatedCarrier(FLAT, seed=4)
    requests = spread(50)
    place_all(carrier, requests)
    call = first(carrier, "no-answer", requests)
    now = call.placed_at + timedelta(seconds=10)
    reported = carrier.events_due(now)
    assert carrier.hangup(call.call_id, call.placed_at)  # too late for that: takes effect now
    events = by_call(reported + carrier.events_due(T0 + timedelta(days=1)))[call.call_id]
    assert [e.status for e in events] == ["initiated", "ringing", "canceled"]
    assert events[-1].at == now
    assert final_state(call.placed_at, events).outcome == "canceled"
    assert carrier.conversation(carrier.plan(call.call_id).provider_call_id) is None  # type: ignore[union-attr]
    assert not carrier.hangup("nope", now)


# --- the model ---------------------------------------------------------------------------------

def test_model_round_trips_through_a_dict_and_json() -> None:
    model = CarrierModel(answer_rate=0.3, cps_limit=None,
                         talk_time=Duration.triangular(10, 30, 90))
    assert CarrierModel.from_dict(model.to_dict()).to_dict() == model.to_dict()
    assert CarrierModel.from_json('{"busy_rate": 0.1, "talk_time": {"kind": "fixed", '
                                  '"min_s": 20}}').talk_time == Duration.fixed(20)


@pytest.mark.parametrize(("data", "field"), [
    ({"answer_rate": 0.9, "voicemail_rate": 0.3}, "answer_rate"),
    ({"busy_rate": -0.1}, "busy_rate"),
    ({"busy_rate": "often"}, "busy_rate"),
    ({"answer_hour_multiplier": [1.0] * 23}, "answer_hour_multiplier"),
    ({"answer_hour_multiplier": [1.0] * 23 + [-1]}, "answer_hour_multiplier[23]"),
    ({"talk_time": {"kind": "lognormal", "median_s": 0, "sigma": 1}}, "talk_time.median_s"),
    ({"ring_time": {"kind": "triangular", "min_s": 5, "mode_s": 2, "max_s": 9}},
     "ring_time.mode_s"),
    ({"ring_time": {"kind": "bell"}}, "ring_time.kind"),
    ({"ring_time": {"kind": "uniform", "min_s": 1, "max_s": 3, "sigma": 1}}, "ring_time.sigma"),
    ({"machine_answered_by": {"human": 1}}, "machine_answered_by.human"),
    ({"cps_limit": 0}, "cps_limit"),
    ({"callee": {"weights": {"opt-out": -1}}}, "callee.weights.opt-out"),
    ({"callee": {"mood": "grumpy"}}, "callee.mood"),
    ({"answer_rates": 0.3}, "answer_rates"),
])
def test_model_errors_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ModelError) as info:
        CarrierModel.from_dict(data)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_durations_stay_in_bounds_and_centre_where_told() -> None:
    rng = random.Random(0)
    pairs = [(rng.random() or 0.5, rng.random()) for _ in range(20_000)]
    tri = Duration.triangular(2, 7, 24)
    draws = sorted(tri.at(u, v) for u, v in pairs)
    assert draws[0] >= 2 and draws[-1] <= 24
    assert abs(sum(draws) / len(draws) - (2 + 7 + 24) / 3) < 0.2
    logn = Duration.lognormal(45, 0.6, min_s=10, max_s=1200)
    draws = sorted(logn.at(u, v) for u, v in pairs)
    assert draws[0] >= 10 and draws[-1] <= 1200
    assert abs(draws[len(draws) // 2] - 45) < 2
    assert Duration.fixed(3).at(0.9, 0.1) == 3
    assert Duration.uniform(1, 3).at(0.5, 0.1) == 2


# --- next_event_at -----------------------------------------------------------------------------

def test_next_event_at_is_the_instant_of_the_next_event_events_due_returns() -> None:
    carrier = SimulatedCarrier(FLAT, seed=6)
    assert carrier.next_event_at() is None
    assert carrier.next_event_at(terminal_only=True) is None
    requests = spread(200, every_s=1.3)
    place_all(carrier, requests)
    pulled: list[CallEvent] = []
    while (at := carrier.next_event_at()) is not None:
        assert at.tzinfo is UTC
        due = carrier.events_due(at)  # jump the clock to it, as a discrete-event simulator
        assert due and due[0].at == at
        assert all(e.at == at for e in due)  # nothing earlier was left behind
        pulled += due
    assert pending(carrier, requests, pulled) == []  # every planned event, each once
    assert len(pulled) == len(set(pulled))
    assert carrier.events_due(T0 + timedelta(days=1)) == []


def test_next_event_at_terminal_only_is_the_next_call_ending_event() -> None:
    carrier = SimulatedCarrier(FLAT, seed=6)
    requests = spread(200, every_s=1.3)
    place_all(carrier, requests[:100])
    until = T0
    seen = 0
    while (at := carrier.next_event_at(terminal_only=True)) is not None:
        assert seen == 0 or at > until  # what was pulled is never reported again
        if seen == 20:  # placing after the terminal heap exists keeps it up to date
            place_all(carrier, requests[100:])
        due = carrier.events_due(at)
        assert [e.at for e in due if e.event.is_terminal][:1] == [at]
        assert not any(e.event.is_terminal for e in due if e.at is not None and e.at < at)
        seen += sum(e.event.is_terminal for e in due)
        until = at
    assert seen == len(requests)
    assert carrier.next_event_at() is None
    assert carrier.events_due(until + timedelta(days=1)) == []


def pending(carrier: SimulatedCarrier, requests: list[DialRequest],
            reported: list[CallEvent]) -> list[ProviderEvent]:
    """Every event of the calls' plans (hang-ups included) not reported yet: the reference."""
    left = Counter((e.call_id, e.event) for e in reported)
    due = []
    for req in requests:
        plan = carrier.plan(req.call_id)
        assert plan is not None
        for event in plan.events:
            if left[(req.call_id, event)]:
                left[(req.call_id, event)] -= 1
            else:
                due.append(event)
    return sorted(due, key=lambda e: e.at)  # type: ignore[arg-type, return-value]


@given(cuts=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 90_000),
                               st.integers(0, 60)), max_size=25),
       warm=st.booleans())
def test_next_event_at_skips_what_hangups_superseded(
        cuts: list[tuple[int, int, int]], warm: bool) -> None:
    carrier = SimulatedCarrier(FLAT, seed=7)
    requests = spread(60, every_s=1.0)
    place_all(carrier, requests)
    if warm:  # the terminal heap built before the hang-ups, or after them
        carrier.next_event_at(terminal_only=True)
    reported: list[CallEvent] = []
    now = T0
    for i, after_ms, pull_s in cuts:  # pulls and hang-ups interleaved, at random instants
        now += timedelta(seconds=pull_s)
        reported += carrier.events_due(now)
        carrier.hangup(f"call-{i}", T0 + timedelta(seconds=i, milliseconds=after_ms))
    while True:  # jump from event to event, checking against the plans each time
        due = pending(carrier, requests, reported)
        terminals = [e.at for e in due if e.is_terminal]
        assert carrier.next_event_at() == (due[0].at if due else None)
        assert carrier.next_event_at(terminal_only=True) == (terminals[0] if terminals else None)
        if not due:
            break
        assert due[0].at is not None
        reported += carrier.events_due(due[0].at)


def test_next_event_at_after_a_hangup_reports_the_cut_not_the_planned_end() -> None:
    carrier = SimulatedCarrier(FLAT, seed=4)
    requests = spread(50)
    place_all(carrier, requests)
    call = first(carrier, "human", requests)
    plan = carrier.plan(call.call_id)
    assert plan is not None
    answered_at, planned_end = plan.events[2].at, plan.events[3].at
    assert answered_at is not None and planned_end is not None
    carrier.next_event_at(terminal_only=True)  # build the terminal heap before the hang-up
    carrier.events_due(answered_at)
    stop = answered_at + timedelta(seconds=4)
    assert carrier.hangup(call.call_id, stop)
    ends: dict[datetime, list[str]] = {}
    while (at := carrier.next_event_at(terminal_only=True)) is not None:
        assert at not in ends
        ends[at] = [e.call_id for e in carrier.events_due(at) if e.event.is_terminal]
    assert ends[stop] == [call.call_id]
    assert call.call_id not in ends.get(planned_end, [])
    assert carrier.next_event_at() is None
