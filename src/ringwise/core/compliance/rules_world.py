"""Built-in calling-hour floors outside the US, by ISO country code.

A country listed here replaces the workspace default floor for numbers and addresses in it.
Countries not listed (including GB: PECR and Ofcom set no calling hours) fall back to the
workspace default. Not legal advice; check the cited text before relying on an entry.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Final

from ringwise.core.compliance.caps import FrequencyCap
from ringwise.core.compliance.floors import FloorRule, weekly
from ringwise.core.windows import TimeRange

_NONE: Final[tuple[TimeRange, ...]] = ()

COUNTRY_RULES: Final[dict[str, FloorRule]] = {
    # France: commercial phone prospecting only Monday to Friday, 10:00-13:00 and
    # 14:00-20:00 in the consumer's time zone, never on public holidays (Code du travail
    # L.3133-1), and at most 4 attempts per professional in 30 calendar days. Not modelled
    # here: the 60-day pause after a refusal during a conversation (same article).
    "FR": FloorRule(
        key="fr",
        title="France, démarchage téléphonique: weekdays 10:00-13:00 and 14:00-20:00, "
              "no public holidays, at most 4 attempts in 30 days",
        source="Code de la consommation L.223-1 and D.223-9 (Décret n° 2022-1313)",
        week=weekly(((time(10), time(13)), (time(14), time(20))), saturday=_NONE,
                    sunday=_NONE),
        holidays=("FR", None),
        caps=(FrequencyCap(
            key="fr-4-per-30d", title="France: at most 4 attempts in 30 calendar days",
            source="Code de la consommation D.223-9",
            # 30 calendar days, plus one hour so a DST change inside the period cannot
            # make the rolling window shorter than the local one.
            limit=4, window=timedelta(days=30, hours=1)),)),
    # Spain: commercial calls never before 09:00 or after 21:00, nor on holidays or weekends.
    # National holidays only: regional and local ones are not known from a number.
    "ES": FloorRule(
        key="es",
        title="Spain: weekdays 09:00-21:00, no weekends or public holidays",
        source="RDL 1/2007 (TRLGDCU) art. 96.2, as amended by Ley 4/2022; "
               "Ley 11/2022 General de Telecomunicaciones art. 66.1",
        week=weekly(((time(9), time(21)),), saturday=_NONE, sunday=_NONE),
        holidays=("ES", None)),
    # Canada: telemarketing calls only 09:00-21:30 on weekdays and 10:00-18:00 on weekends,
    # unless provincial law is stricter (provinces are not modelled yet).
    "CA": FloorRule(
        key="ca",
        title="Canada, CRTC Telemarketing Rules: weekdays 09:00-21:30, weekends 10:00-18:00",
        source="CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing Rules), "
               "calling hours",
        week=weekly(((time(9), time(21, 30)),), saturday=((time(10), time(18)),),
                    sunday=((time(10), time(18)),))),
}

__all__ = ["COUNTRY_RULES"]
