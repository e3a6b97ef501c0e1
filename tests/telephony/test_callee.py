from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.templates import render
from ringwise.telephony import (
    CalleeModel,
    CarrierModel,
    DialRequest,
    ModelError,
    SimulatedCarrier,
    Transcript,
    Turn,
)
from ringwise.telephony.callee import (
    CALLBACK_TIMES,
    DEFAULT_OPENING,
    DISPOSITIONS,
    OPT_OUT_PHRASES,
    Disposition,
    conversation,
    voicemail,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
OPENING = "Hi {{first_name}}, this is Ava from {{custom_fields.brand}}. This call is recorded."
VOICEMAIL = "Hi {{first_name}}, this is Ava from {{custom_fields.brand}}, please call us back."
CONTEXT = {"first_name": "Dana", "custom_fields": {"brand": "Acme"}}
ANSWER_ALL = CarrierModel(answer_rate=1.0, busy_rate=0, voicemail_rate=0, failure_rate=0,
                          invalid_rate=0, answer_hour_multiplier=(1.0,) * 24, cps_limit=None)


def spoken(template: str, context: dict[str, Any]) -> str:
    return " ".join(render(template, context).split())


def has_opt_out(text: str) -> bool:
    return any(phrase in text.lower() for phrase in OPT_OUT_PHRASES)


def check_timing(turns: tuple[Turn, ...], duration_s: float) -> None:
    previous_end = 0.0
    for turn in turns:
        assert 0 <= turn.start_s <= turn.end_s <= duration_s, turns
        assert turn.start_s >= previous_end, turns  # one speaker at a time
        assert turn.text.strip() and "{" not in turn.text
        previous_end = turn.end_s


def answered_calls(count: int, seed: int = 1,
                   context: dict[str, Any] | None = None) -> list[tuple[Disposition, Transcript]]:
    carrier = SimulatedCarrier(ANSWER_ALL, seed=seed)
    out: list[tuple[Disposition, Transcript]] = []
    for i in range(count):
        req = DialRequest(call_id=f"c{i}", from_number="+12125550100",
                          to_number="+13125550123", callee_zones=("America/Chicago",),
                          placed_at=T0 + timedelta(seconds=i), opening_message=OPENING,
                          context=CONTEXT if context is None else context)
        carrier.place_call(req)
        plan = carrier.plan(req.call_id)
        assert plan is not None and plan.disposition is not None
        transcript = carrier.conversation(plan.provider_call_id)
        assert transcript is not None
        out.append((plan.disposition, transcript))
    return out


def test_transcripts_of_answered_calls_fit_their_disposition() -> None:
    calls = answered_calls(400)
    assert {d for d, _ in calls} == set(DISPOSITIONS)
    for disposition, transcript in calls:
        assert transcript.turns[0] == Turn("assistant", spoken(OPENING, CONTEXT),
                                           transcript.turns[0].start_s,
                                           transcript.turns[0].end_s)
        check_timing(transcript.turns, transcript.duration_s)
        said = [t.text for t in transcript.turns if t.speaker == "callee"]
        assert said, transcript
        assert any(map(has_opt_out, said)) == (disposition == "opt-out"), transcript.text
        if disposition == "call-back":
            assert any(when in text for text in said for when in CALLBACK_TIMES)
        assert transcript.text.startswith(f"assistant: {spoken(OPENING, CONTEXT)}\ncallee: ")


def test_transcripts_are_deterministic_and_varied() -> None:
    first = answered_calls(200, seed=1)
    assert answered_calls(200, seed=1) == first
    assert answered_calls(200, seed=2) != first
    texts = Counter(t.text for _, t in first)
    assert len(texts) > 150  # a few variants per line multiply into many conversations


def test_a_contact_without_a_name_still_reads_naturally() -> None:
    for _, transcript in answered_calls(150, context={}):
        assert transcript.turns[0].text == " ".join(render(OPENING, {}).split())
        for turn in transcript.turns[1:]:
            assert " ," not in turn.text and ", !" not in turn.text and ",." not in turn.text


def test_an_empty_opening_message_still_opens_with_the_assistant() -> None:
    turns = conversation(1, "c1", "interested", opening="  ", context={}, talk_s=60)
    assert turns[0] == Turn("assistant", DEFAULT_OPENING, turns[0].start_s, turns[0].end_s)


def test_long_calls_have_more_to_say_than_short_ones() -> None:
    short = conversation(1, "c1", "interested", opening=OPENING, context=CONTEXT, talk_s=25)
    long = conversation(1, "c1", "interested", opening=OPENING, context=CONTEXT, talk_s=150)
    assert len(long) > len(short)
    assert long[-1].end_s > 90  # filled, not one short exchange and two minutes of silence


@given(seed=st.integers(0, 10**6), disposition=st.sampled_from(DISPOSITIONS),
       talk_s=st.floats(0.5, 1500), named=st.booleans())
def test_offsets_always_fit_the_talk_time(seed: int, disposition: Disposition, talk_s: float,
                                          named: bool) -> None:
    context = CONTEXT if named else {}
    turns = conversation(seed, "call", disposition, opening=OPENING, context=context,
                         talk_s=talk_s)
    check_timing(turns, talk_s)
    assert turns[0].speaker == "assistant"
    assert turns[0].text == spoken(OPENING, context)
    # However short the call, an opt-out is said out loud.
    assert any(has_opt_out(t.text) for t in turns if t.speaker == "callee") == (
        disposition == "opt-out")


def test_voicemail_leaves_the_rendered_message_after_the_greeting() -> None:
    turns = voicemail(1, "c1", message=VOICEMAIL, context=CONTEXT, greeting_s=9.0, talk_s=30.0)
    assert [t.speaker for t in turns] == ["callee", "assistant"]
    assert turns[0].end_s == 9.0
    assert turns[1].text == spoken(VOICEMAIL, CONTEXT) and turns[1].start_s > 9.0
    check_timing(turns, 30.0)
    only_greeting = voicemail(1, "c1", message=None, context=CONTEXT, greeting_s=9.0,
                              talk_s=3.5)
    assert [(t.speaker, t.end_s) for t in only_greeting] == [("callee", 3.5)]


def test_greetings_without_a_name_read_naturally() -> None:
    greetings = {voicemail(seed, "c1", message=None, context={"phone": "+13125550123"},
                           greeting_s=9.0, talk_s=9.0)[0].text for seed in range(60)}
    assert len(greetings) >= 2
    for text in greetings:
        assert "it's ." not in text and "reached ." not in text and " ." not in text


def test_machine_answered_calls_get_the_voicemail_or_the_opening() -> None:
    machines = replace(ANSWER_ALL, answer_rate=0.0, voicemail_rate=1.0, amd_unknown_rate=0.0)
    carrier = SimulatedCarrier(machines, seed=1)
    for i, (detect, message) in enumerate([(True, VOICEMAIL), (False, VOICEMAIL),
                                           (True, None)]):
        req = DialRequest(call_id=f"m{i}", from_number="+12125550100",
                          to_number="+13125550123", placed_at=T0, opening_message=OPENING,
                          voicemail_message=message, machine_detection=detect,
                          context=CONTEXT)
        carrier.place_call(req)
        plan = carrier.plan(req.call_id)
        assert plan is not None and plan.fate == "machine"
        transcript = carrier.conversation(plan.provider_call_id)
        assert transcript is not None
        check_timing(transcript.turns, transcript.duration_s)
        said = [t.text for t in transcript.turns if t.speaker == "assistant"]
        if plan.answered_by == "machine_start":
            assert said == []
        elif plan.answered_by is not None and plan.answered_by.startswith("machine_end"):
            assert said == [spoken(VOICEMAIL, CONTEXT)]
        else:  # not detected: the assistant speaks to the machine as to a person
            assert said == [spoken(OPENING, CONTEXT)]


def test_dispositions_follow_the_weights() -> None:
    model = CalleeModel(weights={"interested": 1, "not-interested": 2, "call-back": 1,
                                 "opt-out": 0})
    counts = Counter(model.choose((i + 0.5) / 4000) for i in range(4000))
    assert counts == {"interested": 1000, "not-interested": 2000, "call-back": 1000}


def test_callee_model_errors_name_the_field() -> None:
    with pytest.raises(ModelError) as info:
        CalleeModel.from_dict({"talk_factor": {"opt-out": 0}})
    assert info.value.field == "talk_factor"
    with pytest.raises(ModelError) as info:
        CalleeModel.from_dict({"weights": {"bored": 1}})
    assert info.value.field == "weights"
    with pytest.raises(ModelError) as info:
        CalleeModel(words_per_second=20)
    assert info.value.field == "words_per_second"
    assert CalleeModel.from_dict(CalleeModel().to_dict()).to_dict() == CalleeModel().to_dict()
