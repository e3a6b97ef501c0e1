"""Do-not-call patterns: a number, or every number under an area code (a prefix wildcard).

A pattern is stored in one canonical text form, so that "is this number listed?" is an exact
lookup, ``pattern IN candidate_patterns(number)``, answered by an index:

* a number: its E.164 form, ``+12125550100``;
* a wildcard: ``+`` country code, the first national digits, ``*``: ``+1212*`` (a North
  American area code: always 3 digits, 2-9 first), ``+4420*`` (London). Outside the North
  American plan, area codes have 1 to 5 digits, so any 1 to 6 national digits are accepted
  and ``candidate_patterns`` offers every such prefix of a number: a wildcard can never be
  accepted and then silently match nothing.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Literal

import phonenumbers

from ringwise.core.phones import InvalidPhone, is_region, parse_e164

PatternKind = Literal["number", "area_code"]

MAX_PREFIX_DIGITS: Final = 6  # national digits of a wildcard outside the NANP
NANP_AREA_CODE: Final = re.compile(r"[2-9](?!11)\d\d")  # N11 codes are services, not areas
_E164: Final = re.compile(r"\+[1-9]\d{5,14}")
_SEPARATORS: Final = str.maketrans("", "", " ()-./\u00a0\t")


@dataclass(frozen=True, slots=True)
class DncPattern:
    pattern: str  # canonical: "+12125550100" or "+1212*"
    kind: PatternKind

    @property
    def is_wildcard(self) -> bool:
        return self.kind == "area_code"


def parse_pattern(text: str, default_region: str = "US") -> DncPattern:
    """The canonical pattern of ``text``: a phone number in any common format, or an area-code
    wildcard ("212*", "+1212*", "1-212-*", "(212) *", "+44 20*", "020*" in GB). Without a
    ``+``, the number or wildcard is read in ``default_region``. ValueError (a plain reason)
    when it is neither."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError("the pattern is empty")
    if "*" not in raw:
        try:
            return DncPattern(parse_e164(raw, default_region), "number")
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None
    head, _, tail = raw.partition("*")
    if tail.strip():
        raise ValueError(f"'{raw}': * must come last, after the area code (like '212*')")
    digits = head.translate(_SEPARATORS)
    international = digits.startswith("+")
    digits = digits.removeprefix("+")
    if not digits:
        raise ValueError(f"'{raw}': a wildcard needs an area code before * (like '212*')")
    if not digits.isdigit():
        raise ValueError(f"'{raw}' is not an area-code wildcard: digits, then * "
                         "(like '212*' or '+44 20*')")
    if not international and digits.startswith("00"):  # the common international prefix
        international, digits = True, digits[2:]
    if international:
        country_code = _country_code_of(digits)
        if country_code is None:
            raise ValueError(f"'{raw}': unknown country code")
        national = digits[len(country_code):]
    else:
        country_code, national = _national_wildcard(raw, digits, default_region)
    if country_code == "1":
        if not NANP_AREA_CODE.fullmatch(national):
            raise ValueError(f"'{raw}': a North American area code has 3 digits, the first "
                             "2-9, and is not N11 (like '212*')")
    elif not 1 <= len(national) <= MAX_PREFIX_DIGITS:
        raise ValueError(f"'{raw}': give 1 to {MAX_PREFIX_DIGITS} digits of area code after "
                         f"the country code +{country_code}, then * (like '+44 20*')")
    return DncPattern(f"+{country_code}{national}*", "area_code")


def search_prefix(text: str, default_region: str = "US") -> str:
    """The canonical prefix ("+1212", "+4420") that a search text stands for: digits with an
    optional + and a trailing *, read like ``parse_pattern`` reads a wildcard. ValueError
    when it is not digits."""
    raw = (text or "").strip()
    digits = raw.removesuffix("*").translate(_SEPARATORS)
    if digits.startswith("+"):
        digits = digits[1:]
        if digits and not digits.isdigit():
            raise ValueError(f"'{raw}' is not the start of a number: digits, with an optional "
                             "+ (like '+1212' or '212')")
        return "+" + digits
    if not digits.isdigit():
        raise ValueError(f"'{raw}' is not the start of a number: digits, with an optional + "
                         "(like '+1212' or '212')")
    if digits.startswith("00"):
        return "+" + digits[2:]
    country_code, national = _national_wildcard(raw, digits, default_region)
    return f"+{country_code}{national}"


def _national_wildcard(raw: str, digits: str, region: str) -> tuple[str, str]:
    """(country code, national digits) of a wildcard written without + in ``region``."""
    region = region.upper()
    code = phonenumbers.country_code_for_region(region) if is_region(region) else 0
    if not code:
        raise ValueError(f"'{region}' is not a region code (ISO 3166-1 alpha-2, like 'US')")
    if code == 1 and digits.startswith("011"):  # the NANP's international prefix
        found = _country_code_of(digits[3:])
        if found is None:
            raise ValueError(f"'{raw}': unknown country code")
        return found, digits[3 + len(found):]
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    prefix = getattr(metadata, "national_prefix", None) or ""
    if prefix and digits.startswith(prefix) and len(digits) > len(prefix):
        digits = digits[len(prefix):]  # "1-212-*" in the US, "020*" in GB
    return str(code), digits


def _country_code_of(digits: str) -> str | None:
    """The country calling code that ``digits`` start with (codes are prefix-free)."""
    if digits.startswith("0"):
        return None
    for length in (1, 2, 3):
        if len(digits) >= length and int(digits[:length]) in \
                phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:length]
    return None


def candidate_patterns(e164: str) -> tuple[str, ...]:
    """Every pattern that matches ``e164``, most specific first: the number itself, then its
    wildcards (``+1`` and the area code in the NANP; elsewhere each prefix of 1 to 6 national
    digits, which includes the area code whatever its length)."""
    if not _E164.fullmatch(e164):
        raise ValueError(f"'{e164}' is not an E.164 number like +12125550100")
    if e164.startswith("+1"):
        return (e164, e164[:5] + "*")
    country_code = _country_code_of(e164[1:])
    if country_code is None:
        return (e164,)
    head = 1 + len(country_code)
    national = e164[head:]
    longest = min(MAX_PREFIX_DIGITS, len(national) - 1)
    return (e164, *(e164[:head + n] + "*" for n in range(longest, 0, -1)))


class DncMatcher:
    """An in-memory do-not-call list (for the simulator and tests): the same matching as the
    database lookup, over a set of canonical patterns."""

    def __init__(self, patterns: Iterable[str | DncPattern] = (), *,
                 default_region: str = "US") -> None:
        self.default_region = default_region
        self._patterns: set[str] = set()
        for pattern in patterns:
            self.add(pattern)

    def _canonical(self, pattern: str | DncPattern) -> str:
        if isinstance(pattern, DncPattern):
            return pattern.pattern
        return parse_pattern(pattern, self.default_region).pattern

    def add(self, pattern: str | DncPattern) -> str:
        """Add a pattern (any form ``parse_pattern`` reads); returns its canonical form."""
        canonical = self._canonical(pattern)
        self._patterns.add(canonical)
        return canonical

    def discard(self, pattern: str | DncPattern) -> None:
        self._patterns.discard(self._canonical(pattern))

    def match(self, e164: str) -> str | None:
        """The most specific listed pattern matching ``e164``, or None."""
        for candidate in candidate_patterns(e164):
            if candidate in self._patterns:
                return candidate
        return None

    def __contains__(self, pattern: object) -> bool:
        return isinstance(pattern, str) and pattern in self._patterns

    def __len__(self) -> int:
        return len(self._patterns)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._patterns))
