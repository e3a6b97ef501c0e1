from __future__ import annotations

from collections import Counter
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwise.analysis.offline import OfflineAnalyzer
from ringwise.analysis.port import (
    AnalysisError,
    AnalysisRequest,
    AnalysisResult,
    Analyzer,
    FieldDef,
    TagDef,
    validate,
)
from ringwise.telephony.callee import (
    CALLBACK_TIMES,
    CalleeModel,
    Disposition,
    conversation,
    voicemail,
)
from ringwise.telephony.port import Turn

OPENING = "Hi {{first_name}}, this is Ava from {{custom_fields.brand}}. This call is recorded."
VOICEMAIL = "Hi {{first_name}}, this is Ava from {{custom_fields.brand}}, please call us back."
CONTEXT = {"first_name": "Dana", "custom_fields": {"brand": "Acme"}}
TAGS = (TagDef("Interested", "Contact expressed buying interest"),
        TagDef("Not interested"), TagDef("Follow-up", "Contact requested a follow-up call"),
        TagDef("Opt-out"), TagDef("Voicemail"),
        TagDef("Pricing", "Asked about cost or price"))
SEEDS = range(200)
ANALYZER = OfflineAnalyzer()


def request(turns: tuple[Turn, ...], **kwargs: Any) -> AnalysisRequest:
    duration = turns[-1].end_s if turns else 0.0
    return AnalysisRequest(**{"turns": turns, "answered_by": "human", "duration_s": duration,
                              "tags": TAGS, **kwargs})


def callee_call(seed: int, disposition: Disposition) -> tuple[Turn, ...]:
    """A conversation of ``disposition``; talk time and naming vary with the seed, so short
    calls (optional lines left out) and long ones (questions) are both covered."""
    talk_s = 4.0 + (seed * 7.3) % 160
    return conversation(seed, f"call-{seed}", disposition, opening=OPENING,
                        context=CONTEXT if seed % 3 else {}, talk_s=talk_s,
                        model=CalleeModel())


def callee_text(turns: tuple[Turn, ...]) -> str:
    return " ".join(t.text for t in turns if t.speaker == "callee")


def accuracy(disposition: Disposition) -> float:
    def correct(seed: int) -> bool:
        turns = callee_call(seed, disposition)
        result = ANALYZER.analyze(request(turns))
        if disposition == "opt-out":
            return result.opted_out and not result.success and result.sentiment < 0
        if disposition == "call-back":
            said = next(t for t in CALLBACK_TIMES if t in callee_text(turns))
            return (result.callback_requested == said and not result.opted_out
                    and not result.success)
        if result.opted_out or result.callback_requested is not None:
            return False
        if disposition == "interested":
            return result.success and result.sentiment > 0
        return not result.success and result.sentiment < 0

    return sum(map(correct, SEEDS)) / len(SEEDS)


def test_every_opt_out_is_caught() -> None:
    assert accuracy("opt-out") == 1.0


@pytest.mark.parametrize("disposition", ["interested", "not-interested", "call-back"])
def test_interest_and_call_backs_are_told_apart(disposition: Disposition) -> None:
    assert accuracy(disposition) >= 0.95


def test_the_facts_show_in_summary_tags_and_score() -> None:
    scores: dict[str, list[int]] = {}
    cases: tuple[tuple[Disposition, str], ...] = (
        ("interested", "Interested"), ("not-interested", "Not interested"),
        ("call-back", "Follow-up"), ("opt-out", "Opt-out"))
    for disposition, tag in cases:
        for seed in range(30):
            result = ANALYZER.analyze(request(callee_call(seed, disposition)))
            assert tag in result.tags, (disposition, result)
            assert "Voicemail" not in result.tags
            scores.setdefault(disposition, []).append(result.score)
        assert result.summary.startswith("A person answered")
    assert "opt-out" in ANALYZER.analyze(request(callee_call(1, "opt-out"))).summary
    call_back = ANALYZER.analyze(request(callee_call(1, "call-back")))
    assert call_back.callback_requested is not None
    assert call_back.callback_requested in call_back.summary
    assert min(scores["interested"]) > max(scores["not-interested"])
    assert min(scores["not-interested"]) > max(scores["opt-out"])
    assert max(scores["opt-out"]) <= 5


def test_a_not_interested_callee_is_not_tagged_interested() -> None:
    turns = (Turn("assistant", "Would you like to hear more?", 0, 2),
             Turn("callee", "No thanks, I'm not interested.", 3, 5))
    result = ANALYZER.analyze(request(turns))
    assert result.tags == ("Not interested",)
    assert not result.success and result.sentiment < 0


@pytest.mark.parametrize("machine", [True, False])
@pytest.mark.parametrize("message", [VOICEMAIL, None])
def test_voicemail_is_no_conversation(machine: bool, message: str | None) -> None:
    for seed in range(40):
        turns = voicemail(seed, f"vm-{seed}", message=message, context=CONTEXT if seed % 2 else
                          {"phone": "+13125550123"}, greeting_s=8.0, talk_s=30.0)
        # Without machine detection the greeting itself gives the machine away.
        kwargs: dict[str, Any] = ({"outcome": "voicemail", "answered_by": "machine_end_beep"}
                                  if machine else {"answered_by": "human"})
        result = ANALYZER.analyze(request(turns, **kwargs))
        assert "voicemail" in result.summary
        assert ("left a message" in result.summary) == (message is not None)
        assert (result.sentiment, result.score, result.success) == (0.0, 0, False)
        assert not result.opted_out and result.callback_requested is None
        assert result.tags == ("Voicemail",)


def test_a_silent_callee_is_no_conversation() -> None:
    turns = (Turn("assistant", "Hello, is this Dana? Are you interested?", 0, 3),)
    result = ANALYZER.analyze(request(turns))
    assert "said nothing" in result.summary
    assert (result.sentiment, result.score, result.success, result.tags) == (0.0, 0, False, ())


def test_the_same_call_gives_the_same_result() -> None:
    fields = (FieldDef("email"), FieldDef("budget", "Monthly budget", "number"))
    for disposition in ("interested", "not-interested", "call-back", "opt-out"):
        for seed in range(10):
            first = request(callee_call(seed, disposition), fields=fields,
                            scoring_criteria="Score on interest in the offer")
            again = request(callee_call(seed, disposition), fields=fields,
                            scoring_criteria="Score on interest in the offer")
            assert ANALYZER.analyze(first) == ANALYZER.analyze(again)


@pytest.mark.parametrize(("line", "expected"), [
    ("Please remove me from your list.", True),
    ("Unsubscribe me, now.", True),
    ("Do not call me again!", True),
    ("I said stop calling.", True),
    ("Put me on the do-not-call list.", True),
    ("Don't call me before 5 pm, I'm at work.", False),
    ("Sure, call me back tomorrow.", False),
])
def test_opt_out_variants(line: str, expected: bool) -> None:
    result = ANALYZER.analyze(request((Turn("callee", line, 0, 2),)))
    assert result.opted_out is expected
    if expected:
        assert not result.success and result.callback_requested is None


@pytest.mark.parametrize(("line", "when"), [
    ("Call me tomorrow.", "tomorrow"),
    ("Try again after 5 today.", "after 5 today"),
    ("I'm free on Friday at 3 pm.", "on Friday at 3 pm"),
    ("Maybe next week?", "next week"),
    ("Call in two hours.", "in two hours"),
    ("Ring me around 7 p.m.", "around 7 p.m."),
    ("I'm not interested.", None),
])
def test_call_back_times(line: str, when: str | None) -> None:
    assert ANALYZER.analyze(request((Turn("callee", line, 0, 2),))).callback_requested == when


def test_structured_data_is_typed_and_complete() -> None:
    fields = (FieldDef("email", "Contact e-mail address"),
              FieldDef("budget", "Monthly budget in dollars", "number"),
              FieldDef("seats", "How many seats they need", "integer"),
              FieldDef("has_provider", "Whether they already have a provider", "boolean"),
              FieldDef("start_date", "When they want to start", "date"),
              FieldDef("timeline", "Decision timeline"),
              FieldDef("competitor", "Name of the rival vendor", "string"))
    turns = (Turn("assistant", "Do you already have a provider?", 0, 2),
             Turn("callee", "Yes, we use one today.", 2, 4),
             Turn("assistant", "What budget and how many seats?", 4, 6),
             Turn("callee", "Our budget is about $1,200.50 a month. We need 12 seats. "
                            "Email me at dana.smith@example.com. We could start on "
                            "March 3rd, 2026. The timeline is this quarter.", 6, 14))
    result = ANALYZER.analyze(request(turns, fields=fields))
    assert dict(result.structured) == {
        "email": "dana.smith@example.com", "budget": 1200.5, "seats": 12,
        "has_provider": True, "start_date": "2026-03-03",
        "timeline": "The timeline is this quarter.", "competitor": None,
    }
    no_date = (Turn("callee", "Let's start on Monday, no budget yet.", 0, 3),)
    empty = ANALYZER.analyze(request(no_date, fields=fields)).structured
    assert empty["start_date"] is None and empty["budget"] is None
    assert list(empty) == [f.key for f in fields]


def test_a_no_answer_to_a_yes_no_question() -> None:
    fields = (FieldDef("has_provider", "Already has a provider", "boolean"),)
    turns = (Turn("assistant", "Do you have a provider right now?", 0, 2),
             Turn("callee", "No, not at the moment.", 2, 4))
    assert ANALYZER.analyze(request(turns, fields=fields)).structured == {
        "has_provider": False}


def test_success_criteria_words_decide_success() -> None:
    turns = (Turn("callee", "Okay, book the demo for me. No thanks on the newsletter.", 0, 3),)
    assert ANALYZER.analyze(request(turns, success_criteria="Callee books a demo")).success
    assert not ANALYZER.analyze(request(turns)).success  # no criteria: not interested
    opted = (Turn("callee", "Book a demo. Actually, stop calling me.", 0, 3),)
    assert not ANALYZER.analyze(request(opted, success_criteria="books a demo")).success


def test_scoring_criteria_raise_the_score_when_met() -> None:
    turns = callee_call(5, "interested")
    plain = ANALYZER.analyze(request(turns)).score
    met = ANALYZER.analyze(request(turns, scoring_criteria="Save money")).score
    unmet = ANALYZER.analyze(request(turns, scoring_criteria="Renewal of warranty")).score
    assert unmet <= plain < met


def test_the_offline_analyzer_is_an_analyzer() -> None:
    analyzer: Analyzer = OfflineAnalyzer()
    assert analyzer.name == "offline-v1"
    assert analyzer.analyze(request(callee_call(1, "interested"))).analyzer == "offline-v1"


# --- validate ------------------------------------------------------------------------------

VALID_REQUEST = AnalysisRequest(
    turns=(Turn("callee", "Yes", 0, 1),), tags=(TagDef("Hot"), TagDef("Cold")),
    fields=(FieldDef("n", type="number"), FieldDef("i", type="integer"),
            FieldDef("b", type="boolean"), FieldDef("d", type="date"), FieldDef("s")))
VALID = AnalysisResult(summary="ok", sentiment=0.5, score=50, tags=("Hot",),
                       structured={"n": 1.5, "i": 2, "b": True, "d": "2026-02-28", "s": "x"},
                       analyzer="test")


def with_value(key: str, value: object) -> AnalysisResult:
    return replace(VALID, structured={**VALID.structured, key: value})


def test_validate_accepts_a_valid_result_and_nulls() -> None:
    assert validate(VALID, VALID_REQUEST) is VALID
    nulls = replace(VALID, structured=dict.fromkeys(VALID.structured), tags=())
    assert validate(nulls, VALID_REQUEST) is nulls


@pytest.mark.parametrize(("broken", "message"), [
    (replace(VALID, summary=" "), "summary"),
    (replace(VALID, sentiment=1.01), "sentiment"),
    (replace(VALID, sentiment=float("nan")), "sentiment"),
    (replace(VALID, score=101), "score"),
    (replace(VALID, score=-1), "score"),
    (replace(VALID, score=True), "score"),
    (replace(VALID, score=50.0), "score"),  # type: ignore[arg-type]
    (replace(VALID, tags=("hot",)), "tag 'hot'"),
    (replace(VALID, tags=("Hot", "Hot")), "repeat"),
    (replace(VALID, structured={"n": 1}), "missing keys"),
    (with_value("extra", 1), "unknown keys ['extra']"),
    (with_value("n", "1"), "structured['n']"),
    (with_value("n", True), "structured['n']"),
    (with_value("n", float("inf")), "structured['n']"),
    (with_value("i", 2.0), "structured['i']"),
    (with_value("b", 1), "structured['b']"),
    (with_value("d", "2026-02-30"), "structured['d']"),
    (with_value("d", "Monday"), "structured['d']"),
    (with_value("s", 3), "structured['s']"),
    (replace(VALID, success=True, opted_out=True), "opted out"),
    (replace(VALID, success=1), "success"),  # type: ignore[arg-type]
    (replace(VALID, callback_requested=""), "callback_requested"),
    (replace(VALID, analyzer=""), "analyzer"),
])
def test_validate_rejects_each_broken_invariant(broken: AnalysisResult, message: str) -> None:
    with pytest.raises(AnalysisError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate(broken, VALID_REQUEST)


def test_results_and_requests_are_frozen_copies() -> None:
    structured = {"n": 1}
    result = AnalysisResult(summary="ok", sentiment=0, score=0, structured=structured,
                            analyzer="t")
    structured["n"] = 2
    assert result.structured == {"n": 1} and isinstance(result.structured, MappingProxyType)
    tags = [TagDef("A")]
    assert AnalysisRequest(turns=[], tags=tags).tags == (TagDef("A"),)


@pytest.mark.parametrize("kwargs", [
    {"tags": (TagDef("Hot"), TagDef("hot"))},
    {"fields": (FieldDef("a"), FieldDef("a", type="number"))},
    {"duration_s": -1.0},
])
def test_requests_reject_ambiguous_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AnalysisRequest(turns=(), **kwargs)


# --- arbitrary input -----------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=200) | \
    st.lists(st.sampled_from(
        ["yes", "no", "not", "interested", "stop calling me", "tomorrow", "at 5 pm", "$3,000",
         "2026-13-40", "2026-01-31", "March 3, 2026", "email", "a@b.co", "budget", "?", ".",
         "don't", "call me back", "voicemail", "leave a message", "999999999999999"]),
        max_size=25).map(" ".join)
_turns = st.lists(st.builds(Turn, st.sampled_from(["assistant", "callee"]), _text,
                            st.just(0.0), st.just(1.0)), max_size=6).map(tuple)
_names = st.lists(st.text(min_size=1, max_size=20).filter(str.strip), max_size=4,
                  unique_by=str.casefold)
_fields = st.lists(st.builds(FieldDef, st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True),
                             st.none() | _text,
                             st.sampled_from(["string", "number", "integer", "boolean",
                                              "date"])),
                   max_size=5, unique_by=lambda f: f.key)


@settings(max_examples=150, deadline=None)
@given(turns=_turns, names=_names, descriptions=st.lists(st.none() | _text, min_size=4),
       fields=_fields, scoring=st.none() | _text, success=st.none() | _text,
       answered_by=st.sampled_from([None, "human", "machine_start", "unknown"]))
def test_arbitrary_text_always_gives_a_valid_result(
        turns: tuple[Turn, ...], names: list[str], descriptions: list[str | None],
        fields: list[FieldDef], scoring: str | None, success: str | None,
        answered_by: Any) -> None:
    tags = [TagDef(name, description) for name, description in zip(names, descriptions,
                                                                     strict=False)]
    req = AnalysisRequest(turns=turns, answered_by=answered_by, tags=tags, fields=fields,
                          scoring_criteria=scoring, success_criteria=success)
    result = ANALYZER.analyze(req)
    assert validate(result, req) is result
    assert ANALYZER.analyze(req) == result


def test_dispositions_cover_every_seed() -> None:
    # The accuracy tests are meaningful only if the seeds give varied calls.
    lengths = Counter(len(callee_call(seed, "interested")) for seed in SEEDS)
    assert len(lengths) >= 4
