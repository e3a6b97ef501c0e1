"""Two-letter codes of US states and Canadian provinces, by the names the geocoder uses."""

from __future__ import annotations

US_STATES: dict[str, str] = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Washington D.C.": "DC", "Washington DC": "DC", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA",  # the geocoder's name for 206, 253, 360, 425, 509 and 564
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY", "Puerto Rico": "PR",
    "Guam": "GU", "US Virgin Islands": "VI", "American Samoa": "AS",
    "Northern Mariana Islands": "MP",
}

CA_PROVINCES: dict[str, str] = {
    "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
    "British Colombia": "BC",  # sic: the geocoder's name for 257
    "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON",
    "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
    "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
}

_CODES = {"US": set(US_STATES.values()), "CA": set(CA_PROVINCES.values())}
_NAMES = {"US": US_STATES, "CA": CA_PROVINCES}


def region_code(country: str, name_or_code: str) -> str | None:
    """'Florida' or 'FL' (or 'Miami, FL') -> 'FL' for country 'US'; None when unknown."""
    text = name_or_code.strip()
    if ", " in text:
        text = text.rsplit(", ", 1)[1]
    codes = _CODES.get(country)
    if codes is None:
        return None
    if text.upper() in codes:
        return text.upper()
    return _NAMES[country].get(text)
