"""US calling-hour floors: the federal TCPA rule and the states that are stricter.

Each entry is a floor for telephone solicitation in the callee's local time, with its source.
Exemptions (prior express consent, existing business relationship, debt collection...) are
deliberately not modelled: the floor is the conservative reading, and a workspace that needs
an exemption must take that decision with counsel. Not legal advice; laws change, so check
the cited text before relying on an entry. Holidays: ("US", state) per the ``holidays``
package, which includes observed days (a conservative superset).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Final

from ringwise.core.compliance.caps import FrequencyCap
from ringwise.core.compliance.floors import FloorRule, every_day, weekly
from ringwise.core.windows import TimeRange


def _slot(start: int, end: int) -> tuple[TimeRange]:
    return ((time(start), time(end)),)


_NONE: Final[tuple[TimeRange, ...]] = ()

# 47 CFR 64.1200(c)(1): no telephone solicitation before 8 a.m. or after 9 p.m. at the called
# party's location.
US_FEDERAL: Final = FloorRule(
    key="us-federal", title="TCPA: 08:00-21:00 every day",
    source="47 CFR 64.1200(c)(1)", week=every_day(_slot(8, 21)))


def _three_a_day(state: str, source: str) -> FrequencyCap:
    # "More than 3 ... calls ... over a 24-hour period on the same subject matter or issue":
    # counted here per number across all campaigns, which is stricter than per subject.
    return FrequencyCap(key=f"us-{state.lower()}-3-per-24h",
                        title=f"{state}: at most 3 calls per 24 h", source=source,
                        limit=3, window=timedelta(hours=24))


US_STATE_RULES: Final[dict[str, FloorRule]] = {
    # Florida Telephone Solicitation Act (2021 amendments, SB 1120): 8 a.m.-8 p.m. and at
    # most 3 calls per 24 h; a Florida area code presumes a Florida resident (Fla. Stat. 501.059).
    "FL": FloorRule(
        key="us-fl",
        title="Florida Telephone Solicitation Act: 08:00-20:00, at most 3 calls per 24 h",
        source="Fla. Stat. 501.616(6)(a)-(b)", week=every_day(_slot(8, 20)),
        caps=(_three_a_day("FL", "Fla. Stat. 501.616(6)(b)"),)),
    # Oklahoma Telephone Solicitation Act of 2022: same hours and cap as Florida.
    "OK": FloorRule(
        key="us-ok",
        title="Oklahoma Telephone Solicitation Act: 08:00-20:00, at most 3 calls per 24 h",
        source="15 O.S. 775C.4", week=every_day(_slot(8, 20)),
        caps=(_three_a_day("OK", "15 O.S. 775C.4"),)),
    # Maryland Stop the Spam Calls Act of 2023 (in force 1 January 2024): same as Florida.
    "MD": FloorRule(
        key="us-md",
        title="Maryland Stop the Spam Calls Act: 08:00-20:00, at most 3 calls per 24 h",
        source="Md. Code, Com. Law 14-4503", week=every_day(_slot(8, 20)),
        caps=(_three_a_day("MD", "Md. Code, Com. Law 14-4503"),)),
    # Connecticut, PA 23-98 (SB 1058, in force 1 October 2023): 9 a.m.-8 p.m.; a Connecticut
    # area code presumes the call took place in the state (42-288(c)). Check the current
    # subsection number of 42-288a for the hours.
    "CT": FloorRule(
        key="us-ct", title="Connecticut telemarketing law: 09:00-20:00",
        source="Conn. Gen. Stat. 42-288a(c)(3), as amended by PA 23-98",
        week=every_day(_slot(9, 20))),
    # Alabama PSC rule for automated solicitation calls (an AI voice is automated): none on
    # Sundays or holidays, otherwise 8 a.m.-8 p.m.
    "AL": FloorRule(
        key="us-al",
        title="Alabama PSC rule: 08:00-20:00 Monday to Saturday, no Sundays or holidays",
        source="Ala. Admin. Code r. 770-X-5-.17(1)(b)",
        week=weekly(_slot(8, 20), saturday=_slot(8, 20), sunday=_NONE),
        holidays=("US", "AL")),
    # Rhode Island "hours of operation": 9 a.m.-6 p.m. weekdays, 10 a.m.-5 p.m. Saturdays,
    # never on Sundays or legal holidays (R.I. Gen. Laws 25-1-1 lists them).
    "RI": FloorRule(
        key="us-ri",
        title="Rhode Island Telephone Sales Solicitation Act: 09:00-18:00 weekdays, "
              "10:00-17:00 Saturday, no Sundays or legal holidays",
        source="R.I. Gen. Laws 5-61-3.6 and 5-61-2 (hours of operation); see 5-61-3.4(a)(1)",
        week=weekly(_slot(9, 18), saturday=_slot(10, 17), sunday=_NONE),
        holidays=("US", "RI")),
    # Louisiana: ADAD or live-operator sales calls only 8 a.m.-8 p.m. Monday to Saturday,
    # never on Sundays or state holidays. (The PSC's own holiday list is narrower than the
    # package's; the package's is the conservative choice.)
    "LA": FloorRule(
        key="us-la",
        title="Louisiana: 08:00-20:00 Monday to Saturday, no Sundays or state holidays",
        source="La. R.S. 45:811(2)-(3)",
        week=weekly(_slot(8, 20), saturday=_slot(8, 20), sunday=_NONE),
        holidays=("US", "LA")),
    # Mississippi Telephone Solicitation Act: 8 a.m.-8 p.m. "Central Standard Time", never on
    # Sunday. Read as local wall clock; the holiday ban was repealed with the PSC rules (2023).
    "MS": FloorRule(
        key="us-ms",
        title="Mississippi Telephone Solicitation Act: 08:00-20:00, no Sunday calls",
        source="Miss. Code Ann. 77-3-723(1)",
        week=weekly(_slot(8, 20), saturday=_slot(8, 20), sunday=_NONE)),
    # Utah: without prior express consent, none between 9 p.m. and 8 a.m., on a Sunday or on
    # a legal holiday.
    "UT": FloorRule(
        key="us-ut",
        title="Utah Telephone and Facsimile Solicitation Act: 08:00-21:00, "
              "no Sundays or legal holidays",
        source="Utah Code 13-25a-103(3)",
        week=weekly(_slot(8, 21), saturday=_slot(8, 21), sunday=_NONE),
        holidays=("US", "UT")),
    # Texas: 9 a.m.-9 p.m. on weekdays and Saturday, noon-9 p.m. on Sunday.
    "TX": FloorRule(
        key="us-tx",
        title="Texas telephone solicitation: 09:00-21:00, Sunday 12:00-21:00",
        source="Tex. Bus. & Com. Code 301.051",
        week=weekly(_slot(9, 21), saturday=_slot(9, 21), sunday=_slot(12, 21))),
    # Washington: commercial telephone solicitation only 8 a.m.-8 p.m. recipient local time.
    "WA": FloorRule(
        key="us-wa", title="Washington commercial telephone solicitation: 08:00-20:00",
        source="RCW 19.158.040(2); RCW 80.36.390", week=every_day(_slot(8, 20))),
    # Massachusetts Do Not Call regulation: no unsolicited sales calls 8 p.m.-8 a.m.
    "MA": FloorRule(
        key="us-ma", title="Massachusetts telemarketing regulation: 08:00-20:00",
        source="201 CMR 12.02(2) (M.G.L. c. 159C)", week=every_day(_slot(8, 20))),
    # New Mexico Unfair Practices Act: solicitations received before 9 a.m. or after 9 p.m.
    "NM": FloorRule(
        key="us-nm", title="New Mexico Unfair Practices Act: 09:00-21:00",
        source="N.M. Stat. Ann. 57-12-22(B)(5)", week=every_day(_slot(9, 21))),
    # Nevada: automatic dialing-announcing devices not between 9 p.m. and 9 a.m. Applied to
    # AI-voice calls as the conservative reading.
    "NV": FloorRule(
        key="us-nv", title="Nevada automatic dialing-announcing devices: 09:00-21:00",
        source="NRS 597.814(2)(a)", week=every_day(_slot(9, 21))),
    # Pennsylvania Telemarketer Registration Act: 8 a.m.-9 p.m. and, since Act 73 of 2019,
    # no telephone solicitation calls on legal holidays.
    "PA": FloorRule(
        key="us-pa",
        title="Pennsylvania Telemarketer Registration Act: 08:00-21:00, no legal holidays",
        source="73 P.S. 2245(a)(1), (a)(10)", week=every_day(_slot(8, 21)),
        holidays=("US", "PA")),
}

__all__ = ["US_FEDERAL", "US_STATE_RULES"]
