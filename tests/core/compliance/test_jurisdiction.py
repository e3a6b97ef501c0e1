"""Jurisdiction: countries and states from a phone number and a free-form address."""

from __future__ import annotations

from functools import cache

import phonenumbers.geodata
import pytest

from ringwise.core.compliance.floors import floor_for
from ringwise.core.compliance.jurisdiction import (
    Jurisdiction,
    country_code,
    jurisdiction_of,
    state_code,
)
from ringwise.core.phones import describe
from ringwise.core.regions import CA_PROVINCES, US_STATES, region_code

MIAMI = "+13055550123"
NEW_YORK_CITY = "+12125550123"
KNOWN_CODES = frozenset(US_STATES.values()) | frozenset(CA_PROVINCES.values())


@pytest.mark.parametrize(("number", "country", "states"), [
    ("+13055550123", "US", {"FL"}),
    ("+14055550123", "US", {"OK"}),
    ("+14105550123", "US", {"MD"}),
    ("+12035550123", "US", {"CT"}),
    ("+14165550123", "CA", {"ON"}),
    ("+18005550123", "US", set()),  # toll-free: no state
    ("+33612345678", "FR", set()),
    ("+34612345678", "ES", set()),
])
def test_number_alone(number: str, country: str, states: set[str]) -> None:
    assert jurisdiction_of(describe(number)) == Jurisdiction(frozenset({country}),
                                                             frozenset(states))


def test_address_and_number_both_apply() -> None:
    j = jurisdiction_of(describe(NEW_YORK_CITY), "Florida")
    assert j == Jurisdiction(frozenset({"US"}), frozenset({"FL", "NY"}))
    j = jurisdiction_of(describe("+33612345678"), "CT", "USA")
    assert j == Jurisdiction(frozenset({"FR", "US"}), frozenset({"CT"}))


@pytest.mark.parametrize("text", [
    "Florida", "FL", "fl", " Fla ", "Fla.", "florida", "FLORIDA", "Miami, FL", "Miami,FL",
])
def test_state_spellings(text: str) -> None:
    assert jurisdiction_of(describe(NEW_YORK_CITY), text).states == {"FL", "NY"}
    assert state_code(text) == ("US", "FL")


@pytest.mark.parametrize(("text", "expected"), [
    ("W. Va.", ("US", "WV")), ("N.H.", ("US", "NH")), ("Calif", ("US", "CA")),
    ("Washington D.C.", ("US", "DC")), ("Québec", ("CA", "QC")), ("quebec", ("CA", "QC")),
    ("Ontario", ("CA", "ON")), ("BC", ("CA", "BC")), ("Narnia", None), ("", None),
    ("  ", None),
])
def test_state_code(text: str, expected: tuple[str, str] | None) -> None:
    assert state_code(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("US", "US"), ("usa", "US"), ("U.S.A.", "US"), ("United States", "US"),
    ("united states of america", "US"), ("CA", "CA"), ("Canada", "CA"), ("fr", "FR"),
    ("France", "FR"), ("España", "ES"), ("UK", "GB"), ("de", "DE"), ("Narnia", None),
    ("ZZ", None), ("", None),
])
def test_country_code(text: str, expected: str | None) -> None:
    assert country_code(text) == expected


def test_state_without_country_infers_it() -> None:
    j = jurisdiction_of(describe("+33612345678"), "fl")
    assert j == Jurisdiction(frozenset({"FR", "US"}), frozenset({"FL"}))
    j = jurisdiction_of(describe("+33612345678"), "Ontario")
    assert j == Jurisdiction(frozenset({"FR", "CA"}), frozenset({"ON"}))


def test_state_of_another_country_is_ignored() -> None:
    # "ON" is no US state; "CA" under Canada is no province.
    j = jurisdiction_of(describe(MIAMI), "ON", "US")
    assert j == Jurisdiction(frozenset({"US"}), frozenset({"FL"}))
    j = jurisdiction_of(describe("+14165550123"), "CA", "Canada")
    assert j == Jurisdiction(frozenset({"CA"}), frozenset({"ON"}))


def test_unknown_address_text_is_ignored() -> None:
    j = jurisdiction_of(describe(MIAMI), "Atlantis", "Narnia")
    assert j == Jurisdiction(frozenset({"US"}), frozenset({"FL"}))


def test_jurisdiction_normalises_its_values() -> None:
    j = Jurisdiction({"us", " ca "}, ["fl"])  # type: ignore[arg-type]
    assert j == Jurisdiction(frozenset({"US", "CA"}), frozenset({"FL"}))
    assert hash(j) == hash(Jurisdiction(frozenset({"CA", "US"}), frozenset({"FL"})))


@cache
def _nanp_samples() -> dict[str, str]:
    """One number per area code in phonenumbers' geocoder (with a listed exchange if any)."""
    samples: dict[str, str] = {}
    for prefix in sorted(phonenumbers.geodata.GEOCODE_DATA):
        if prefix.startswith("1") and len(prefix) >= 4:
            npa = prefix[1:4]
            if len(prefix) == 7 and (npa not in samples or samples[npa].endswith("2345678")):
                samples[npa] = f"+{prefix}0123"
            samples.setdefault(npa, f"+1{npa}2345678")
    return samples


def test_every_nanp_area_code_maps_to_a_state_or_nothing() -> None:
    samples = _nanp_samples()
    assert len(samples) > 300
    for npa, number in samples.items():
        info = describe(number)
        j = jurisdiction_of(info)
        assert j.states <= KNOWN_CODES, (npa, j)
        assert len(j.states) <= 1
        if j.states:
            assert j.countries <= {"US", "CA"}, (npa, j)
            # The state agrees with the geocoder's area-code-level description.
            area = phonenumbers.geodata.GEOCODE_DATA.get(f"1{npa}", {}).get("en", "")
            country = next(iter(j.countries))
            expected = region_code(country, area) if area else None
            assert expected is None or j.states == {expected}, (npa, area, j)
        floor_for(j)  # every jurisdiction gets a floor
