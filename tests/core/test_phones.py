"""Phone parsing: the fast path must agree with ``phonenumbers`` on every input."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from ringwise.core import phones
from ringwise.core.phones import InvalidPhone, describe, is_region, parse_e164

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP, PhoneNumberType.SHARED_COST,
         PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL)


def reference(text: str, region: str) -> str | None:
    """What phonenumbers itself says: the E.164 of a valid number, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def ours(text: str, region: str) -> str | None:
    try:
        return parse_e164(text, region)
    except InvalidPhone:
        return None


@pytest.mark.parametrize(("text", "region", "expected"), [
    ("+1 (212) 555-0100", "US", "+12125550100"),
    ("(212) 555-0100", "US", "+12125550100"),
    ("212.555.0100", "US", "+12125550100"),
    ("1-212-555-0100", "US", "+12125550100"),
    ("011 34 600 123 456", "US", "+34600123456"),
    ("600 123 456", "ES", "+34600123456"),
    ("0034600123456", "ES", "+34600123456"),
    ("07911 123456", "GB", "+447911123456"),
    ("+44 (0)7911 123456", "US", "+447911123456"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("(416) 555-0199", "CA", "+14165550199"),
])
def test_parses_common_formats(text: str, region: str, expected: str) -> None:
    assert parse_e164(text, region) == expected
    assert reference(text, region) == expected


@pytest.mark.parametrize("text", ["", "   ", "n/a", "12345", "+1 (000) 000-0000", "555-CALL",
                                  "+999 123 456 789", "2125550100999999"])
def test_rejects_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_e164(text, "US")
    assert str(caught.value)


def test_example_numbers_of_every_region_agree_with_phonenumbers() -> None:
    """Each region's example numbers, written four ways and parsed in their own region, in
    the US and in GB, plus near misses (a digit changed, added or dropped)."""
    checked = fast = 0
    for region in REGIONS:
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            variants = {
                phonenumbers.format_number(example, PhoneNumberFormat.E164),
                phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL),
                phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL),
                nsn, nsn[:-1], nsn + "7", "9" + nsn[1:],
                f"+{example.country_code}{nsn[:-1]}", f"{example.country_code}{nsn}",
            }
            for text in variants:
                for parse_region in (region, "US", "GB"):
                    expected = reference(text, parse_region)
                    assert ours(text, parse_region) == expected, (text, parse_region)
                    checked += 1
                    fast += phones._fast_e164(text, parse_region) is not None
    # The comparison only means something if the fast path actually answered often.
    assert checked > 10_000 and fast > checked // 5


@given(plus=st.booleans(), digits=st.text("0123456789", min_size=1, max_size=17),
       region=st.sampled_from(REGIONS), separators=st.booleans())
def test_random_digits_agree_with_phonenumbers(plus: bool, digits: str, region: str,
                                               separators: bool) -> None:
    text = ("+" if plus else "") + digits
    if separators and len(digits) > 6:
        text = f"{text[:3]} ({text[3:6]}) {text[6:]}"
    assert ours(text, region) == reference(text, region)


@given(area=st.sampled_from(["212", "415", "305", "416", "604", "787", "876", "684"]),
       rest=st.text("0123456789", min_size=7, max_size=7),
       style=st.sampled_from(["+1{a}{r}", "({a}) {r}", "1{a}{r}", "{a}.{r}"]))
def test_nanp_numbers_agree_with_phonenumbers(area: str, rest: str, style: str) -> None:
    """North America shares +1 among 25 regions: the fast path picks the region the same way."""
    text = style.format(a=area, r=rest)
    for region in ("US", "CA", "JM"):
        assert ours(text, region) == reference(text, region)


def test_describe_us_number() -> None:
    info = describe("+12125550100")
    assert (info.country, info.region, info.area_code) == ("US", "NY", "212")
    assert info.timezones == ("America/New_York",)


def test_describe_spanish_mobile() -> None:
    info = describe("+34600123456")
    assert info.country == "ES" and info.region is None
    assert "Europe/Madrid" in info.timezones


def test_is_region() -> None:
    assert is_region("US") and is_region("ES")
    assert not is_region("XX") and not is_region("us")


def test_geography_tables_use_the_prefix_lengths_describe_caches_by() -> None:
    """``describe`` shares lookups between numbers with the same table prefix; that is only
    exact while phonenumbers' tables have no longer prefixes than it assumes."""
    from phonenumbers.geodata import GEOCODE_DATA
    from phonenumbers.tzdata import TIMEZONE_DATA

    from ringwise.core.phones import NANP_PREFIX_DIGITS, TABLE_PREFIX_DIGITS

    for table in (GEOCODE_DATA, TIMEZONE_DATA):
        assert max(len(key) for key in table) <= TABLE_PREFIX_DIGITS
        assert max(len(key) for key in table if key.startswith("1")) <= NANP_PREFIX_DIGITS


def test_stored_numbers_are_read_as_phonenumbers_parses_them() -> None:
    """``describe`` builds the PhoneNumber of a stored E.164 number itself; it must equal
    what ``phonenumbers.parse`` gives, for every region's example numbers."""
    from ringwise.core.phones import _parsed

    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE,
                     PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            assert _parsed(e164) == phonenumbers.parse(e164, None), e164
            checked += 1
    assert checked > 500


@given(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)), st.integers(0, 10**9))
def test_number_types_are_phonenumbers_own(region: str, salt: int) -> None:
    """``describe`` types numbers on compiled patterns; the type must be phonenumbers'
    (example numbers of every type, and random variations of their digits)."""
    from ringwise.core.phones import _number_type

    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE,
                 PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
                 PhoneNumberType.VOIP, PhoneNumberType.SHARED_COST):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        digits = str(example.national_number)
        varied = digits[:-4] + f"{salt % 10_000:04d}" if len(digits) > 6 else digits
        for national in {digits, varied, digits[:-1], digits + "5"}:
            number = phonenumbers.PhoneNumber(country_code=example.country_code,
                                              national_number=int(national),
                                              italian_leading_zero=example.italian_leading_zero)
            assert _number_type(number) == phonenumbers.number_type(number), (region, national)


def test_nanp_number_types_are_phonenumbers_own() -> None:
    from ringwise.core.phones import _number_type

    for npa in range(200, 1000):
        for line in ("2015550123", "4567891234", "8005550100"):
            national = f"{npa}{line[3:]}"
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
            assert _number_type(number) == phonenumbers.number_type(number), national
