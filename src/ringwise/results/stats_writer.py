"""Adding to a campaign's hourly statistics, inside the transaction that changes a call.

Rows are keyed by (campaign, UTC hour of the call's start): an ended call adds to its hour's
outcome counts, talk time and cost; its analysis, later, adds to the same hour's sentiment,
score, success and tag counts. Upserts (``ON CONFLICT DO UPDATE``), so concurrent workers add
rather than overwrite.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ringwise.db.models import CampaignStatsHourly, CampaignTagHourly

HOURLY: Final = cast(Table, CampaignStatsHourly.__table__)
TAGS: Final = cast(Table, CampaignTagHourly.__table__)

# Call outcome -> its column; canceled and expired calls count as "other".
OUTCOME_COLUMNS: Final[Mapping[str, str]] = {
    "answered": "answered", "voicemail": "voicemail", "no-answer": "no_answer",
    "busy": "busy", "failed": "failed"}
_SUMS: Final = ("calls", "answered", "voicemail", "no_answer", "busy", "failed", "other",
                "talk_seconds", "cost", "analyzed", "success", "opted_out", "sentiment_sum",
                "score_sum")


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class EndedCall:
    campaign_id: str
    started_at: datetime
    outcome: str
    talk_seconds: float
    cost: float


@dataclass(frozen=True, slots=True)
class AnalyzedCall:
    campaign_id: str
    started_at: datetime
    sentiment: float
    score: int
    success: bool
    opted_out: bool
    tags: tuple[str, ...]


def add_ended(conn: Connection, calls: Iterable[EndedCall]) -> None:
    sums: dict[tuple[str, datetime], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for call in calls:
        row = sums[(call.campaign_id, hour_of(call.started_at))]
        row["calls"] += 1
        row[OUTCOME_COLUMNS.get(call.outcome, "other")] += 1
        row["talk_seconds"] += call.talk_seconds
        row["cost"] += call.cost
    _upsert(conn, sums)


def add_analyzed(conn: Connection, calls: Iterable[AnalyzedCall]) -> None:
    sums: dict[tuple[str, datetime], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    tags: dict[tuple[str, datetime, str], int] = defaultdict(int)
    for call in calls:
        key = (call.campaign_id, hour_of(call.started_at))
        row = sums[key]
        row["analyzed"] += 1
        row["success"] += int(call.success)
        row["opted_out"] += int(call.opted_out)
        row["sentiment_sum"] += call.sentiment
        row["score_sum"] += call.score
        for tag in call.tags:
            tags[(*key, tag)] += 1
    _upsert(conn, sums)
    if tags:
        stmt = _insert(conn, TAGS).values(
            [{"campaign_id": c, "hour": h, "tag": t, "calls": n}
             for (c, h, t), n in sorted(tags.items())])
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["campaign_id", "hour", "tag"],
            set_={"calls": TAGS.c.calls + stmt.excluded.calls}))


def _upsert(conn: Connection, sums: Mapping[tuple[str, datetime], Mapping[str, Any]]) -> None:
    if not sums:
        return
    # Sorted: two transactions upserting the same rows take their locks in one order.
    rows = [{"campaign_id": campaign_id, "hour": hour,
             **{name: values.get(name, 0) for name in _SUMS}}
            for (campaign_id, hour), values in sorted(sums.items())]
    stmt = _insert(conn, HOURLY).values(rows)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["campaign_id", "hour"],
        set_={name: HOURLY.c[name] + stmt.excluded[name] for name in _SUMS}))


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql.insert(table) if conn.dialect.name == "postgresql"
            else sqlite.insert(table))
