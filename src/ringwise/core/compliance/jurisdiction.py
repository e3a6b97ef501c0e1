"""Which laws a call falls under: the countries and US states / Canadian provinces of a
contact, from the phone number and from the postal address.

When they disagree, both apply: state laws reach residents wherever their number is from,
and several (FL, CT, OK) presume that a number with the state's area code is in the state.
Address text is free-form; anything not recognised is ignored, never an error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ringwise.core.phones import PhoneInfo, is_region
from ringwise.core.regions import CA_PROVINCES, US_STATES


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """ISO 3166-1 alpha-2 countries and two-letter US/CA state or province codes."""

    countries: frozenset[str]
    states: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterable; keep the value hashable (floors are cached per jurisdiction).
        object.__setattr__(self, "countries", _codes(self.countries))
        object.__setattr__(self, "states", _codes(self.states))


def jurisdiction_of(number: PhoneInfo, address_state: str | None = None,
                    address_country: str | None = None) -> Jurisdiction:
    """The number's country and state, plus the address's (both apply when they differ)."""
    countries: set[str] = set()
    states: set[str] = set()
    if number.country:
        countries.add(number.country)
        if number.region and number.country in _REGION_NAMES:
            states.add(number.region)
    country = country_code(address_country) if address_country else None
    if country:
        countries.add(country)
    if address_state:
        found = state_code(address_state, country)
        if found is not None:
            countries.add(found[0])
            states.add(found[1])
    return Jurisdiction(frozenset(countries), frozenset(states))


def country_code(text: str) -> str | None:
    """'USA', 'United States', 'canada', 'fr' -> ISO alpha-2; None when not recognised."""
    key = _key(text)
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    code = key.upper()
    if len(code) == 2 and code.isalpha() and is_region(code):
        return code
    return None


def state_code(text: str, country: str | None = None) -> tuple[str, str] | None:
    """'Florida', 'FL', ' fla. ', 'Miami, FL' -> ('US', 'FL'); 'Ontario' -> ('CA', 'ON').

    Without a country, US names win over Canadian ones (no two-letter codes are shared)."""
    key = _key(text.rsplit(",", 1)[-1])
    for candidate in ((country,) if country else ("US", "CA")):
        code = _REGION_NAMES.get(candidate, {}).get(key)
        if code is not None:
            return candidate, code
    return None


# -- internals ------------------------------------------------------------------------------


def _key(text: str) -> str:
    """Lower case, no accents, no dots, single spaces: 'Québec' -> 'quebec', 'N.H.' -> 'nh'."""
    folded = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(plain.replace(".", "").lower().split())


def _codes(values: Iterable[str]) -> frozenset[str]:
    return frozenset(value.strip().upper() for value in values if value and value.strip())


_COUNTRY_ALIASES: Final[dict[str, str]] = {
    "us": "US", "usa": "US", "united states": "US", "united states of america": "US",
    "america": "US", "ca": "CA", "can": "CA", "canada": "CA", "uk": "GB",
    "united kingdom": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "france": "FR", "spain": "ES", "espana": "ES",
}

# Postal and AP-style abbreviations people type ("Fla.", "Calif", "W. Va.").
_US_ABBREVIATIONS: Final[dict[str, str]] = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "cal": "CA", "calif": "CA", "colo": "CO",
    "conn": "CT", "del": "DE", "dc": "DC", "fla": "FL", "ill": "IL", "ind": "IN", "kan": "KS",
    "kans": "KS", "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mont": "MT",
    "neb": "NE", "nebr": "NE", "nev": "NV", "okla": "OK", "ore": "OR", "oreg": "OR",
    "penn": "PA", "penna": "PA", "tenn": "TN", "tex": "TX", "wash": "WA", "w va": "WV",
    "wis": "WI", "wisc": "WI", "wyo": "WY",
}
_CA_ABBREVIATIONS: Final[dict[str, str]] = {
    "alta": "AB", "man": "MB", "nfld": "NL", "newfoundland": "NL", "ont": "ON", "pei": "PE",
    "que": "QC", "pq": "QC", "sask": "SK", "yukon territory": "YT",
}


def _lookup(names: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    table = {_key(name): code for name, code in names.items()}
    table.update({code.lower(): code for code in names.values()})
    table.update(extra)
    return table


_REGION_NAMES: Final[dict[str, dict[str, str]]] = {
    "US": _lookup(US_STATES, _US_ABBREVIATIONS),
    "CA": _lookup(CA_PROVINCES, _CA_ABBREVIATIONS),
}

__all__ = ["Jurisdiction", "country_code", "jurisdiction_of", "state_code"]
