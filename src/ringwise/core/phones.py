"""Phone numbers: parse to E.164 and derive country, region and area code with ``phonenumbers``.

Parsing is on the hot path of CSV import, so clean input (``+15551234567`` or national digits)
skips ``phonenumbers.parse`` and builds the number directly; validity is always decided by
``phonenumbers``' own metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, geocoder, timezone

from ringwise.core.regions import region_code

_PUNCTUATION = str.maketrans("", "", " ()-./\u00a0\t")


class InvalidPhone(ValueError):
    """The text is not a valid, dialable phone number; the message says why."""


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    country: str | None  # ISO 3166-1 alpha-2
    region: str | None  # state / province when the numbering plan tells it
    area_code: str | None
    timezones: tuple[str, ...]


@lru_cache(maxsize=512)
def _country_code_for_region(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


def _fast_number(text: str, default_region: str) -> PhoneNumber | None:
    """Build a PhoneNumber without the full parser when the input is plain digits."""
    cleaned = text.translate(_PUNCTUATION)
    if cleaned.startswith("+"):
        digits = cleaned[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 15:
            return None
        for cc_len in (1, 2, 3):
            cc = int(digits[:cc_len])
            if phonenumbers.region_code_for_country_code(cc) != "ZZ":
                national = digits[cc_len:]
                if not national or national.startswith("0"):
                    return None  # leading zeros need the full parser's rules
                return PhoneNumber(country_code=cc, national_number=int(national))
        return None
    if default_region in ("US", "CA") and cleaned.isdigit():
        if len(cleaned) == 11 and cleaned.startswith("1"):
            cleaned = cleaned[1:]
        if len(cleaned) == 10:
            return PhoneNumber(country_code=1, national_number=int(cleaned))
    return None


def parse_e164(text: str, default_region: str = "US") -> str:
    """Return the E.164 form of ``text`` or raise InvalidPhone with a plain reason."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidPhone("phone number is empty")
    number = _fast_number(raw, default_region)
    if number is None:
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


def describe(e164: str) -> PhoneInfo:
    """Country, region (state), area code and candidate time zones of an E.164 number."""
    number = phonenumbers.parse(e164, None)
    country = phonenumbers.region_code_for_number(number)
    area_code: str | None = None
    national = str(number.national_number)
    ndc_len = phonenumbers.length_of_national_destination_code(number)
    if ndc_len > 0:
        area_code = national[:ndc_len]
    region = _region_of(number, country)
    zones = tuple(z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown")
    return PhoneInfo(
        e164=e164,
        country=country if country and country != "ZZ" else None,
        region=region,
        area_code=area_code,
        timezones=zones,
    )


def _region_of(number: PhoneNumber, country: str | None) -> str | None:
    """Two-letter state / province code ("CA", "ON") from the geocoder's description."""
    if country not in ("US", "CA"):
        return None
    description = geocoder.description_for_number(number, "en")
    if not description:
        return None
    return region_code(country, str(description))
