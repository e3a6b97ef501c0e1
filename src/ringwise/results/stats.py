"""Reading a campaign's statistics: sums over its hourly rows, never a scan of its calls.

Per run: a run is a date range in the schedule's time zone, so its statistics are the hours
from its first day's local midnight to the midnight after its last day. Calls count in the
hour they started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringwise.db.models import CampaignCounters, CampaignStatsHourly, CampaignTagHourly

H = CampaignStatsHourly


@dataclass(slots=True)
class Totals:
    calls: int = 0  # ended calls
    answered: int = 0
    voicemail: int = 0
    no_answer: int = 0
    busy: int = 0
    failed: int = 0
    other: int = 0
    talk_seconds: float = 0.0
    cost: float = 0.0
    analyzed: int = 0
    success: int = 0
    opted_out: int = 0
    sentiment_sum: float = 0.0
    score_sum: int = 0

    def add(self, other: Totals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def not_connected(self) -> int:
        """Calls that reached no one: no answer, busy, failed, canceled."""
        return self.calls - self.answered - self.voicemail

    def rate(self, part: int | float, whole: int | float) -> float | None:
        return None if not whole else round(100.0 * part / whole, 1)

    @property
    def average_sentiment(self) -> float | None:
        return None if not self.analyzed else round(self.sentiment_sum / self.analyzed, 3)

    @property
    def average_score(self) -> float | None:
        return None if not self.analyzed else round(self.score_sum / self.analyzed, 1)

    @property
    def average_duration(self) -> float | None:
        talked = self.answered + self.voicemail
        return None if not talked else round(self.talk_seconds / talked, 1)


_SUM_COLUMNS = tuple(f.name for f in fields(Totals))
_FLOATS = frozenset({"talk_seconds", "cost", "sentiment_sum"})


def _totals(values: Sequence[Any]) -> Totals:
    """Sums as the database returns them (Decimal on PostgreSQL) as a :class:`Totals`."""
    totals = Totals()
    for name, value in zip(_SUM_COLUMNS, values, strict=True):
        setattr(totals, name, float(value or 0) if name in _FLOATS else int(value or 0))
    return totals


def _in_range(query: Any, start: datetime | None, end: datetime | None) -> Any:
    if start is not None:
        query = query.where(H.hour >= start)
    if end is not None:
        query = query.where(H.hour < end)
    return query


def totals(session: Session, campaign_ids: Sequence[str], *, start: datetime | None = None,
           end: datetime | None = None) -> dict[str, Totals]:
    """Each campaign's sums over the hours in [start, end) (all hours by default)."""
    found = {cid: Totals() for cid in campaign_ids}
    if not campaign_ids:
        return found
    query = _in_range(
        select(H.campaign_id, *(func.coalesce(func.sum(getattr(H, name)), 0)
                                for name in _SUM_COLUMNS))
        .where(H.campaign_id.in_(list(campaign_ids))).group_by(H.campaign_id), start, end)
    for campaign_id, *sums in session.execute(query):
        found[campaign_id] = _totals(sums)
    return found


def tag_counts(session: Session, campaign_id: str, *, start: datetime | None = None,
               end: datetime | None = None) -> list[tuple[str, int]]:
    """Analyzed calls per tag, most frequent first."""
    T = CampaignTagHourly
    query = select(T.tag, func.sum(T.calls)).where(T.campaign_id == campaign_id)
    if start is not None:
        query = query.where(T.hour >= start)
    if end is not None:
        query = query.where(T.hour < end)
    rows = session.execute(query.group_by(T.tag)).all()
    return sorted(((tag, int(n)) for tag, n in rows), key=lambda r: (-r[1], r[0]))


def by_local_hour(session: Session, campaign_id: str, zone: str, *,
                  start: datetime | None = None,
                  end: datetime | None = None) -> dict[int, Totals]:
    """Sums per hour of the day (0-23) in ``zone``, over every day in range."""
    tz = ZoneInfo(zone)
    # Plain rows, not ORM objects: a month of hours is 720 rows, read on every stats call.
    query = _in_range(select(H.hour, *(getattr(H, name) for name in _SUM_COLUMNS))
                      .where(H.campaign_id == campaign_id), start, end)
    sums: dict[int, list[Any]] = {}
    for hour, *values in session.execute(query):
        local = hour.astimezone(tz).hour
        into = sums.get(local)
        if into is None:
            sums[local] = list(values)
        else:
            for i, value in enumerate(values):
                into[i] += value
    return {hour: _totals(values) for hour, values in sorted(sums.items())}


def counters(session: Session, campaign_ids: Sequence[str]) -> dict[str, CampaignCounters]:
    rows = session.scalars(select(CampaignCounters).where(
        CampaignCounters.campaign_id.in_(list(campaign_ids)))).all()
    return {row.campaign_id: row for row in rows}


def run_range(run: Mapping[str, object], zone: str) -> tuple[datetime, datetime]:
    """The UTC interval of a run's dates: local midnight of its first day to local midnight
    after its last."""
    tz = ZoneInfo(zone)
    first = date.fromisoformat(str(run["start_date"]))
    last = date.fromisoformat(str(run["end_date"]))
    return (datetime.combine(first, time(), tz).astimezone(ZoneInfo("UTC")),
            datetime.combine(last + timedelta(days=1), time(), tz).astimezone(ZoneInfo("UTC")))
