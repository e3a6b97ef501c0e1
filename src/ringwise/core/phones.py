"""Phone numbers: parse to E.164 and derive country, region and area code with ``phonenumbers``.

Parsing is on the hot path of CSV import (a million rows), and ``phonenumbers.parse`` plus
``is_valid_number`` cost ~25 us a number, mostly Python call overhead around its regexes. So
plain input (``+15551234567``, ``(555) 123-4567``, ``0034 ...`` excepted) takes a fast path:

* the text is reduced to digits the way ``parse`` would, and any case where ``parse`` could do
  something cleverer (an international dialing prefix, a national prefix or carrier code to
  strip, a leading zero, the default country's code in front) is left to ``parse``;
* validity is decided by the same metadata patterns, compiled once per region into one regex
  (general description AND any number type), walking a shared country code's regions in
  ``phonenumbers``' own order.

Only a *valid* fast answer is trusted: anything the fast path cannot prove valid goes through
``phonenumbers`` itself, so both paths give the same result (tests/core/test_phones.py checks
this against ``phonenumbers`` on generated input for every region).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Final

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from ringwise.core.regions import region_code

# Separators people type inside numbers; anything else sends the text to the full parser.
_PUNCTUATION = str.maketrans("", "", " ()-./\u00a0\t")
_NON_GEO = "001"
_TYPE_DESCS = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
               "uan", "voicemail", "fixed_line", "mobile")


class InvalidPhone(ValueError):
    """The text is not a valid, dialable phone number; the message says why."""


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    country: str | None  # ISO 3166-1 alpha-2
    region: str | None  # state / province when the numbering plan tells it
    area_code: str | None
    timezones: tuple[str, ...]


# --- compiled validity per region --------------------------------------------------------------

def _desc_regex(desc: object) -> str | None:
    """The desc's pattern with its possible lengths folded in, or None if it matches nothing."""
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = tuple(getattr(desc, "possible_length", ()) or ())
    if not lengths:  # absent lengths mean "as the general description", checked separately
        return f"(?:{pattern})"
    positive = [n for n in lengths if n > 0]
    if not positive:
        return None
    alternatives = "|".join(rf"\d{{{n}}}" for n in positive)
    return rf"(?=(?:{alternatives})\Z)(?:{pattern})"


@dataclass(frozen=True, slots=True)
class _Region:
    code: str
    leading: re.Pattern[str] | None  # metadata.leading_digits: picks the region by prefix
    valid: re.Pattern[str] | None  # fullmatch <=> phonenumbers' number type is not UNKNOWN

    def accepts(self, nsn: str) -> bool:
        return self.valid is not None and self.valid.fullmatch(nsn) is not None


def _compile_region(code: str) -> _Region:
    metadata: Any = PhoneMetadata.metadata_for_region(code, None)
    general = _desc_regex(metadata.general_desc)
    types = [r for r in (_desc_regex(getattr(metadata, n, None)) for n in _TYPE_DESCS) if r]
    valid = None
    if general and types:
        valid = re.compile(f"(?=(?:{general})\\Z)(?:{'|'.join(types)})")
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return _Region(code=code, leading=leading, valid=valid)


@cache
def _regions(country_code: int) -> tuple[_Region, ...] | None:
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not codes or _NON_GEO in codes:
        return None  # non-geographic entities: left to phonenumbers
    return tuple(_compile_region(code) for code in codes)


def _valid_in(regions: tuple[_Region, ...], nsn: str) -> str | None:
    """``region_code_for_number`` + ``is_valid_number_for_region``, on compiled patterns: the
    region of a valid national number among its country code's regions, else None."""
    if len(regions) == 1:
        return regions[0].code if regions[0].accepts(nsn) else None
    for region in regions:
        if region.leading is not None:
            if region.leading.match(nsn):
                return region.code if region.accepts(nsn) else None
        elif region.accepts(nsn):
            return region.code
    return None


# --- the fast path ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Parsing:
    """What ``parse`` needs to know about a region to read a national number."""

    country_code: int
    cc_text: str
    idd: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None
    simple_prefix: bool  # no carrier-code groups, no transform rule: stripping is a cut
    general: re.Pattern[str] | None
    lengths: frozenset[int]
    local_lengths: frozenset[int]
    max_length: int


@cache
def _parsing(region: str) -> _Parsing | None:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return None
    metadata: Any = PhoneMetadata.metadata_for_region(region, None)
    npfp = metadata.national_prefix_for_parsing
    national_prefix = re.compile(npfp) if npfp else None
    general = metadata.general_desc
    lengths = [n for n in (general.possible_length or ()) if n > 0]
    return _Parsing(
        country_code=int(metadata.country_code),
        cc_text=str(metadata.country_code),
        idd=re.compile(metadata.international_prefix) if metadata.international_prefix else None,
        national_prefix=national_prefix,
        simple_prefix=(national_prefix is not None and national_prefix.groups == 0
                       and not metadata.national_prefix_transform_rule),
        general=(re.compile(general.national_number_pattern)
                 if general.national_number_pattern else None),
        lengths=frozenset(lengths),
        local_lengths=frozenset(general.possible_length_local_only or ()),
        max_length=max(lengths, default=0),
    )


def _strip_prefix(national: str, parsing: _Parsing, length_test: bool) -> str | None:
    """``parse``'s national-prefix stripping (``_maybe_strip_national_prefix_carrier_code``,
    then, when ``length_test``, its possible-length check) for prefixes that are a plain cut;
    None when a carrier code or transform rule is involved: the caller falls back."""
    if parsing.national_prefix is None:
        return national
    match = parsing.national_prefix.match(national)
    if match is None:
        return national
    if not parsing.simple_prefix or parsing.general is None:
        return None
    stripped = national[match.end():]
    if (parsing.general.fullmatch(national) is not None
            and parsing.general.fullmatch(stripped) is None):
        return national  # the number was viable as written and would not be without the cut
    if length_test:
        n = len(stripped)
        if n in parsing.local_lengths or not (n in parsing.lengths or n > parsing.max_length):
            return national
    return stripped


# country code -> (parsing rules of its main region, its regions); filled on first use
_COUNTRY: dict[int, tuple[_Parsing | None, tuple[_Region, ...] | None]] = {}


def _country(country_code: int) -> tuple[_Parsing | None, tuple[_Region, ...] | None]:
    found = _COUNTRY.get(country_code)
    if found is None:
        main = phonenumbers.region_code_for_country_code(country_code)
        found = _COUNTRY[country_code] = (_parsing(main), _regions(country_code))
    return found


def _fast_e164(text: str, default_region: str) -> str | None:
    """E.164 for plain, valid input; None means "ask phonenumbers" (not "invalid")."""
    cleaned = text.translate(_PUNCTUATION)
    if cleaned[:1] == "+":
        digits = cleaned[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 17 or digits[0] == "0":
            return None
        for cc_len in (1, 2, 3):
            country_code = int(digits[:cc_len])
            if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[cc_len:]
                break
        else:
            return None
        # parse() strips prefixes with the metadata of the code's main region.
        strip_rules, regions = _country(country_code)
    else:
        if not cleaned.isdigit():
            return None
        parsing = _parsing(default_region)
        if parsing is None or parsing.general is None or (
                parsing.idd is not None and parsing.idd.match(cleaned)):
            return None
        country_code = parsing.country_code
        national = cleaned
        strip_rules = parsing
        main_rules, regions = _country(country_code)
        if cleaned.startswith(parsing.cc_text):
            # parse() drops the country's own code when that makes the number fit its plan.
            rest = _strip_prefix(cleaned[len(parsing.cc_text):], parsing, False)
            if rest is None:
                return None
            fits = parsing.general.fullmatch(cleaned) is not None
            if not fits and parsing.general.fullmatch(rest) is not None:
                national = rest
                strip_rules = main_rules
            elif len(cleaned) > parsing.max_length:
                return None  # "too long" rules: let parse() decide
    if len(national) < 2 or strip_rules is None or regions is None:
        return None
    stripped = _strip_prefix(national, strip_rules, True)
    if stripped is None or not 2 <= len(stripped) <= 17 or stripped[0] == "0":
        return None
    if _valid_in(regions, stripped) is None:
        return None
    return f"+{country_code}{stripped}"


def is_region(code: str) -> bool:
    """A region ``phonenumbers`` can parse national numbers for ("US", "ES", ...)."""
    return code in phonenumbers.SUPPORTED_REGIONS


def parse_e164(text: str, default_region: str = "US") -> str:
    """Return the E.164 form of ``text`` or raise InvalidPhone with a plain reason."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidPhone("phone number is empty")
    fast = _fast_e164(raw, default_region)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"'{raw}' is not a phone number ({_reason(exc)})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"'{raw}' is not a valid phone number")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _reason(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a number",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(exc.error_type, "unparseable")


# --- geography -------------------------------------------------------------------------------

# phonenumbers' time zone and geocoding tables are keyed by prefixes of at most 9 digits
# (country code included), 7 in the NANP (+1, area code, exchange): numbers sharing them,
# their length and their type share the answer (tests/core/test_phones.py checks the data).
TABLE_PREFIX_DIGITS: Final = 9
NANP_PREFIX_DIGITS: Final = 7
_Geography = tuple[str | None, str | None, str | None, tuple[str, ...]]
_geography: dict[tuple[str, int, int], _Geography] = {}


@lru_cache(maxsize=131_072)  # a campaign's contacts are described again at each call
def describe(e164: str) -> PhoneInfo:
    """Country, region (state), area code and candidate time zones of an E.164 number.

    The lookups (~250 us) are shared by numbers of the same table prefix, length and type,
    so a contact list costs the parse and type check (~50 us) per number."""
    try:
        number = _parsed(e164)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{e164!r} is not an E.164 number") from exc
    digits = NANP_PREFIX_DIGITS if e164.startswith("+1") else TABLE_PREFIX_DIGITS
    key = (e164[:digits + 1], len(e164), _number_type(number))
    found = _geography.get(key)
    if found is None:
        if len(_geography) > 200_000:
            _geography.clear()
        found = _geography[key] = _geography_of(number)
    country, region, area_code, zones = found
    return PhoneInfo(e164=e164, country=country, region=region, area_code=area_code,
                     timezones=zones)


# --- number type on compiled patterns --------------------------------------------------------

_Matcher = tuple[frozenset[int], re.Pattern[str]]  # (possible lengths, or empty: any), pattern
_ORDERED_TYPES: Final = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE), ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST), ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER), ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN), ("voicemail", PhoneNumberType.VOICEMAIL))


@dataclass(frozen=True, slots=True)
class _Typing:
    """One region's type descriptions, compiled (``phonenumbers`` compiles per call)."""

    leading: re.Pattern[str] | None
    general: _Matcher | None
    ordered: tuple[tuple[_Matcher, int], ...]
    fixed: _Matcher | None
    mobile: _Matcher | None
    same_fixed_and_mobile: bool


def _matcher(desc: Any) -> _Matcher | None:
    pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
    if not pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(pattern)


def _matches(matcher: _Matcher | None, nsn: str) -> bool:
    if matcher is None:
        return False
    lengths, pattern = matcher
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


@cache
def _typing(region: str) -> _Typing | None:
    metadata: Any = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    ordered = tuple((m, kind) for name, kind in _ORDERED_TYPES
                    if (m := _matcher(getattr(metadata, name, None))) is not None)
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return _Typing(leading, _matcher(metadata.general_desc), ordered,
                   _matcher(metadata.fixed_line), _matcher(metadata.mobile),
                   bool(metadata.same_mobile_and_fixed_line_pattern))


def _type_in(typing: _Typing, nsn: str) -> int:
    """``phonenumbers``' ``_number_type_helper``, step for step."""
    if not _matches(typing.general, nsn):
        return PhoneNumberType.UNKNOWN
    for matcher, kind in typing.ordered:
        if _matches(matcher, nsn):
            return kind
    if _matches(typing.fixed, nsn):
        if typing.same_fixed_and_mobile or _matches(typing.mobile, nsn):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not typing.same_fixed_and_mobile and _matches(typing.mobile, nsn):
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def _number_type(number: phonenumbers.PhoneNumber) -> int:
    """``phonenumbers.number_type`` (region by leading digits or validity, then the type)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0)
    if not regions or _NON_GEO in regions or number.italian_leading_zero:
        return int(phonenumbers.number_type(number))
    nsn = str(number.national_number)
    for region in regions:
        typing = _typing(region.upper())
        if typing is None:
            continue
        if len(regions) == 1:
            return _type_in(typing, nsn)
        if typing.leading is not None:
            if typing.leading.match(nsn):
                return _type_in(typing, nsn)
        else:
            kind = _type_in(typing, nsn)
            if kind != PhoneNumberType.UNKNOWN:
                return kind
    return PhoneNumberType.UNKNOWN


def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    """``phonenumbers.parse`` of a stored E.164 number, built directly when its country code
    is plain (the parse is most of a first ``describe``)."""
    digits = e164[1:]
    if e164[:1] == "+" and digits.isdigit():
        for cc_len in (1, 2, 3):
            country_code = int(digits[:cc_len])
            if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[cc_len:]
                if national and national[0] != "0":  # leading zeros: parse() knows the rules
                    return phonenumbers.PhoneNumber(country_code=country_code,
                                                    national_number=int(national))
                break
    return phonenumbers.parse(e164, None)


def _geography_of(number: phonenumbers.PhoneNumber) -> _Geography:
    from phonenumbers import timezone  # imported on first use: ~100 MB of tables
    country = phonenumbers.region_code_for_number(number)
    area_code: str | None = None
    national = str(number.national_number)
    ndc_len = phonenumbers.length_of_national_destination_code(number)
    if ndc_len > 0:
        area_code = national[:ndc_len]
    region = _region_of(number, country)
    zones = tuple(z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown")
    return (country if country and country != "ZZ" else None, region, area_code, zones)


def _region_of(number: phonenumbers.PhoneNumber, country: str | None) -> str | None:
    """Two-letter state / province code ("CA", "ON") from the geocoder's description."""
    if country not in ("US", "CA"):
        return None
    from phonenumbers import geocoder

    description = geocoder.description_for_number(number, "en")
    if not description:
        return None
    return region_code(country, str(description))
