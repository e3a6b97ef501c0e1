"""Do-not-call patterns: parsing to the canonical form, candidates, the in-memory matcher."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.compliance.dnc import (
    DncMatcher,
    DncPattern,
    candidate_patterns,
    parse_pattern,
    search_prefix,
)
from ringwise.core.phones import describe


@pytest.mark.parametrize(("text", "region", "pattern"), [
    ("212*", "US", "+1212*"),
    ("+1212*", "US", "+1212*"),
    ("1-212-*", "US", "+1212*"),
    ("(212) *", "US", "+1212*"),
    (" +1 (212) * ", "US", "+1212*"),
    ("+44 20*", "US", "+4420*"),
    ("+44 20*", "ES", "+4420*"),
    ("020*", "GB", "+4420*"),
    ("20*", "GB", "+4420*"),
    ("0044 20*", "US", "+4420*"),
    ("011 44 20*", "US", "+4420*"),
    ("91*", "ES", "+3491*"),
    ("416*", "CA", "+1416*"),
])
def test_wildcards(text: str, region: str, pattern: str) -> None:
    assert parse_pattern(text, region) == DncPattern(pattern, "area_code")


@pytest.mark.parametrize(("text", "region", "e164"), [
    ("+1 (212) 555-0100", "US", "+12125550100"),
    ("212.555.0100", "US", "+12125550100"),
    ("600 123 456", "ES", "+34600123456"),
    ("+34600123456", "US", "+34600123456"),
    ("07911 123456", "GB", "+447911123456"),
])
def test_numbers(text: str, region: str, e164: str) -> None:
    parsed = parse_pattern(text, region)
    assert parsed == DncPattern(e164, "number")
    assert not parsed.is_wildcard


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("*", "needs an area code"),
    ("211*", "N11"),
    ("112*", "first 2-9"),
    ("21*", "3 digits"),
    ("2125*", "3 digits"),
    ("+1*", "3 digits"),
    ("+44*", "1 to 6 digits"),
    ("+441234567*", "1 to 6 digits"),
    ("212*5", "must come last"),
    ("2*1*", "must come last"),
    ("abc*", "not an area-code wildcard"),
    ("+999 1*", "unknown country code"),
    ("+0 1*", "unknown country code"),
    ("555-CALL", "not a valid phone number"),
    ("12", "not"),
])
def test_invalid_text_names_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_pattern(text, "US")


def test_unknown_region() -> None:
    with pytest.raises(ValueError, match="region code"):
        parse_pattern("212*", "XX")


def test_candidates_nanp() -> None:
    assert candidate_patterns("+12125550100") == ("+12125550100", "+1212*")


def test_candidates_elsewhere_include_the_area_code() -> None:
    number = "+442079460000"
    candidates = candidate_patterns(number)
    assert candidates[0] == number
    area = describe(number).area_code
    assert area == "20"
    assert f"+44{area}*" in candidates
    assert candidates[1:] == ("+44207946*", "+4420794*", "+442079*", "+44207*", "+4420*",
                              "+442*")


def test_candidates_refuse_non_e164() -> None:
    for text in ("2125550100", "+0123456", "+1", "+1-212-555-0100"):
        with pytest.raises(ValueError, match=r"E\.164"):
            candidate_patterns(text)


def test_search_prefix() -> None:
    assert search_prefix("212") == "+1212"
    assert search_prefix("+44 20") == "+4420"
    assert search_prefix("020", "GB") == "+4420"
    assert search_prefix("+1212*") == "+1212"
    assert search_prefix("+") == "+"
    with pytest.raises(ValueError, match="digits"):
        search_prefix("abc")


def test_matcher() -> None:
    matcher = DncMatcher(["+1 212 555 0100"])
    assert matcher.match("+12125550100") == "+12125550100"
    assert matcher.match("+12125550101") is None
    assert matcher.add("(646) *") == "+1646*"
    assert matcher.match("+16465550100") == "+1646*"
    matcher.add("212*")  # the number is more specific than the wildcard
    assert matcher.match("+12125550100") == "+12125550100"
    assert matcher.match("+12125550199") == "+1212*"
    matcher.discard("+12125550100")
    assert matcher.match("+12125550100") == "+1212*"
    matcher.discard(DncPattern("+1212*", "area_code"))
    assert matcher.match("+12125550100") is None
    assert len(matcher) == 1 and "+1646*" in matcher and list(matcher) == ["+1646*"]
    assert DncMatcher(["600 123 456"], default_region="ES").match("+34600123456")


# --- properties ------------------------------------------------------------------------------

area_codes = st.from_regex(r"[2-9][02-9][0-9]|[2-9]1[02-9]", fullmatch=True)
nanp_numbers = st.builds(lambda a, e, n: f"+1{a}{e}{n}", area_codes,
                         st.from_regex(r"[2-9][0-9]{2}", fullmatch=True),
                         st.from_regex(r"[0-9]{4}", fullmatch=True))
wildcard_texts = st.builds(
    lambda area, style: style.format(area), area_codes,
    st.sampled_from(["{}*", "+1{}*", "1-{}-*", "({}) *", "+1 {} *", "1 {}*"]))


@given(wildcard_texts)
def test_parse_is_idempotent_on_its_output(text: str) -> None:
    parsed = parse_pattern(text)
    assert parse_pattern(parsed.pattern) == parsed
    assert len(parsed.pattern) <= 24


@given(nanp_numbers, area_codes)
def test_wildcard_matches_exactly_its_area_code(number: str, area: str) -> None:
    matcher = DncMatcher([f"{area}*"])
    expected = f"+1{area}*" if number.startswith(f"+1{area}") else None
    assert matcher.match(number) == expected


e164_numbers = st.sampled_from(["+1", "+44", "+34", "+49", "+33", "+39", "+61", "+353"]).flatmap(
    lambda cc: st.from_regex(r"[1-9][0-9]{7,10}", fullmatch=True).map(lambda n: cc + n))


@given(e164_numbers, st.integers(1, 6))
def test_every_prefix_wildcard_that_parses_matches_by_prefix(number: str, digits: int) -> None:
    """A wildcard accepted by ``parse_pattern`` matches a number exactly when the number
    starts with it: no accepted pattern silently matches nothing."""
    cc = next(c for c in ("+353", "+1", "+44", "+34", "+49", "+33", "+39", "+61")
              if number.startswith(c))
    text = number[:len(cc) + digits] + "*"
    try:
        pattern = parse_pattern(text)
    except ValueError:
        return  # e.g. a NANP prefix that is not an area code
    assert pattern.pattern == text
    assert pattern.pattern in candidate_patterns(number)
    assert DncMatcher([pattern]).match(number) is not None


@given(st.lists(nanp_numbers, max_size=20), nanp_numbers)
def test_matcher_agrees_with_candidates(listed: list[str], number: str) -> None:
    matcher = DncMatcher(DncPattern(n, "number") for n in listed)
    found = matcher.match(number)
    assert (found is not None) == (number in listed)
