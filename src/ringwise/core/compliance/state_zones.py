"""The time zones in use in each US state and territory: where a callee with a known address
may be, for the legal-hours check (all of them must be open: the most restrictive).

Other countries: every zone the tz database lists for the country (``zone.tab``).

Source: the standard time zone boundaries of 49 CFR Part 71, by state; a state split between
two zones lists both (Florida's panhandle is Central, El Paso is Mountain, ...). Arizona
outside the Navajo Nation keeps standard time all year (America/Phoenix); the Navajo Nation
follows Denver, so both are listed. IANA names; each zone is one whose rules match the area.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

_ET: Final = "America/New_York"
_CT: Final = "America/Chicago"
_MT: Final = "America/Denver"
_PT: Final = "America/Los_Angeles"

STATE_ZONES: Final[dict[str, tuple[str, ...]]] = {
    "AL": (_CT,), "AK": ("America/Anchorage", "America/Adak"), "AZ": ("America/Phoenix", _MT),
    "AR": (_CT,), "CA": (_PT,), "CO": (_MT,), "CT": (_ET,), "DE": (_ET,), "DC": (_ET,),
    "FL": (_ET, _CT), "GA": (_ET,), "HI": ("Pacific/Honolulu",), "ID": ("America/Boise", _PT),
    "IL": (_CT,), "IN": ("America/Indiana/Indianapolis", _CT), "IA": (_CT,), "KS": (_CT, _MT),
    "KY": (_ET, _CT), "LA": (_CT,), "ME": (_ET,), "MD": (_ET,), "MA": (_ET,),
    "MI": ("America/Detroit", "America/Menominee"), "MN": (_CT,), "MS": (_CT,), "MO": (_CT,),
    "MT": (_MT,), "NE": (_CT, _MT), "NV": (_PT, _MT), "NH": (_ET,), "NJ": (_ET,), "NM": (_MT,),
    "NY": (_ET,), "NC": (_ET,), "ND": (_CT, _MT), "OH": (_ET,), "OK": (_CT,),
    "OR": (_PT, "America/Boise"), "PA": (_ET,), "RI": (_ET,), "SC": (_ET,), "SD": (_CT, _MT),
    "TN": (_CT, _ET), "TX": (_CT, _MT), "UT": (_MT,), "VT": (_ET,), "VA": (_ET,), "WA": (_PT,),
    "WV": (_ET,), "WI": (_CT,), "WY": (_MT,),
    "PR": ("America/Puerto_Rico",), "GU": ("Pacific/Guam",), "VI": ("America/St_Thomas",),
    "AS": ("Pacific/Pago_Pago",), "MP": ("Pacific/Saipan",),
}


def address_zones(state: str | None, country: str | None = None) -> tuple[str, ...]:
    """Where an address may be: its US state's zones ('Florida', 'FL', 'Miami, FL'), else
    every zone of its country (IANA's zone.tab: 'FR' -> Europe/Paris); () when unknown."""
    from ringwise.core.compliance.jurisdiction import country_code, state_code

    code = country_code(country) if country else None
    found = state_code(state, code) if state else None
    if found is not None and found[0] == "US":
        return STATE_ZONES.get(found[1], ())
    if found is not None:
        code = found[0]
    if code is None or code == "US":  # a US address without a state: the number decides
        return ()
    return country_zones().get(code, ())


@cache
def country_zones() -> dict[str, tuple[str, ...]]:
    """ISO country code -> its IANA zones, from the tz database's zone.tab (via tzdata)."""
    table = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    zones: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            zones.setdefault(fields[0], []).append(fields[2])
    return {code: tuple(names) for code, names in zones.items()}
