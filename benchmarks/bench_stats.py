"""Latency of reading a campaign's statistics, on SQLite and PostgreSQL.

    python benchmarks/bench_stats.py                       # 1,000,000 calls, both engines
    python benchmarks/bench_stats.py --calls 200000 --db sqlite --reads 100

One campaign (created through the API: New York schedule, four weekly runs) whose
``--calls`` calls (default 1,000,000) over 30 days x 24 hours exist only as what
``results.stats_writer`` makes of them: the real ``add_ended`` / ``add_analyzed`` are fed
every call (outcome mix 30 % answered, 20 % voicemail, 35 % no answer, 8 % busy, 6 % failed,
1 % canceled; calls weighted towards the afternoon, UTC; each analyzed call with 0-3 of 5
tags), which gives the campaign's 720 hourly rows and its tag rows; ``campaign_counters`` is
set to match. Then, ``--reads`` times each (after 20 warm-up reads), the latency of:

* ``all_time``: ``stats.totals``, ``tag_counts``, ``by_local_hour`` and ``counters`` in one
  read transaction (what GET /v1/campaigns/{id}/stats reads);
* ``one_run``: the same over one run's range (``stats.run_range``);
* ``every_run``: the four runs one after another, in one transaction;
* ``api_all_time`` / ``api_one_run``: GET /v1/campaigns/{id}/stats (``?run=week-2``)
  through httpx's ASGI transport, when the route exists (skipped if it answers 404).

Goal: < 50 ms. Each result also counts the garbage collector's full passes during its reads
(``full_gc_passes``): with the whole application in memory one costs ~50 ms, and they, not
the queries, make the slowest percentile. PostgreSQL uses a throwaway database on
$RINGWISE_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432), dropped afterwards.
Results go to benchmarks/results/stats.json (or ``--json PATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from common import scratch_database, write_results  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from ringwise.api.app import create_app  # noqa: E402
from ringwise.clock import ManualClock  # noqa: E402
from ringwise.db.engine import Database  # noqa: E402
from ringwise.db.migrate import upgrade  # noqa: E402
from ringwise.db.models import CampaignCounters, CampaignStatsHourly, CampaignTagHourly  # noqa: E402
from ringwise.results import stats  # noqa: E402
from ringwise.results.stats_writer import (  # noqa: E402
    AnalyzedCall,
    EndedCall,
    add_analyzed,
    add_ended,
)
from ringwise.services import workspaces  # noqa: E402
from ringwise.settings import Settings  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "stats.json"
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
DAYS = 30
ZONE = "America/New_York"
TAGS = ("Interested", "Follow-up", "Opt-out", "Price", "Competitor")
RUNS = [{"client_run_id": f"week-{n + 1}",
         "start_date": (T0 + timedelta(days=7 * n)).date().isoformat(),
         "end_date": (T0 + timedelta(days=7 * n + 6)).date().isoformat(),
         "start_time": "09:00", "end_time": "20:00"} for n in range(4)]
# outcome, share (canceled counts as "other")
OUTCOMES = (("answered", 0.30), ("voicemail", 0.20), ("no-answer", 0.35), ("busy", 0.08),
            ("failed", 0.06), ("canceled", 0.01))
# Relative calling volume per UTC hour: most calls in US business hours (13-23 UTC).
HOUR_WEIGHT = [0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0,
               3.0, 4.0, 4.5, 4.5, 4.0, 4.5, 4.5, 4.0, 3.0, 1.5, 0.5]
BATCH = 100_000  # calls aggregated per stats_writer call


def _calls(count: int, seed: int) -> Iterator[tuple[EndedCall, AnalyzedCall | None]]:
    """Every call as stats_writer sees it when the call ends and when it is analyzed."""
    rng = random.Random(seed)
    hours = [T0 + timedelta(hours=h) for h in range(DAYS * 24)]
    weights = [HOUR_WEIGHT[h.hour] for h in hours]
    kinds = [o for o, _ in OUTCOMES]
    shares = [s for _, s in OUTCOMES]
    for hour, outcome in zip(rng.choices(hours, weights, k=count),
                             rng.choices(kinds, shares, k=count), strict=True):
        started = hour + timedelta(seconds=rng.randrange(3600))
        talk = rng.uniform(15, 240) if outcome == "answered" else \
            rng.uniform(20, 40) if outcome == "voicemail" else 0.0
        cost = round(0.015 * -(-talk // 60), 4)
        analyzed = None
        if outcome == "answered":
            tags = tuple(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3))))
            analyzed = AnalyzedCall("", started, round(rng.uniform(-1, 1), 3),
                                    rng.randrange(101), "Interested" in tags,
                                    "Opt-out" in tags, tags)
        yield EndedCall("", started, outcome, talk, cost), analyzed


def populate(db: Database, campaign_id: str, calls: int, seed: int = 7) -> dict[str, int]:
    """The campaign's statistics rows, written by stats_writer; counts of what was written."""
    ended: list[EndedCall] = []
    analyzed: list[AnalyzedCall] = []
    answered = 0

    def flush() -> None:
        with db.transaction() as session:
            conn = session.connection()
            add_ended(conn, ended)
            add_analyzed(conn, analyzed)
        ended.clear()
        analyzed.clear()

    for end, analysis in _calls(calls, seed):
        ended.append(EndedCall(campaign_id, end.started_at, end.outcome, end.talk_seconds,
                               end.cost))
        if analysis is not None:
            answered += 1
            analyzed.append(AnalyzedCall(campaign_id, analysis.started_at, analysis.sentiment,
                                         analysis.score, analysis.success, analysis.opted_out,
                                         analysis.tags))
        if len(ended) >= BATCH:
            flush()
    flush()
    contacts = calls * 2 // 5  # 2.5 attempts per contact on average
    with db.transaction() as session:
        session.execute(update(CampaignCounters).where(
            CampaignCounters.campaign_id == campaign_id).values(
            contacts_total=contacts, contacts_done=contacts, calls_total=calls,
            calls_ended=calls, calls_answered=answered))
        hourly = session.scalar(select(func.count()).select_from(CampaignStatsHourly)) or 0
        tag_rows = session.scalar(select(func.count()).select_from(CampaignTagHourly)) or 0
        summed = session.scalar(select(func.sum(CampaignStatsHourly.calls))) or 0
    assert int(summed) == calls, (summed, calls)
    return {"hourly_rows": int(hourly), "tag_rows": int(tag_rows), "answered": answered}


Range = tuple[datetime | None, datetime | None]


def read_all(db: Database, campaign_id: str, ranges: Sequence[Range]) -> None:
    """What the stats endpoint reads, over each range ((None, None): all time)."""
    with db.reading() as session:
        for start, end in ranges:
            stats.totals(session, [campaign_id], start=start, end=end)
            stats.tag_counts(session, campaign_id, start=start, end=end)
            stats.by_local_hour(session, campaign_id, ZONE, start=start, end=end)
            stats.counters(session, [campaign_id])


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1] * 1000, 2), "n": len(ordered)}


@contextmanager
def full_collections() -> Iterator[list[int]]:
    """Counts the garbage collector's full (generation 2) passes while in use: they, not the
    queries, make the slowest reads (~50 ms each with the app's objects in memory)."""
    count = [0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            count[0] += 1

    gc.callbacks.append(callback)
    try:
        yield count
    finally:
        gc.callbacks.remove(callback)


def timed(read: Callable[[], object], reads: int) -> dict[str, float]:
    for _ in range(20):
        read()
    samples = []
    with full_collections() as collections:
        for _ in range(reads):
            started = time.perf_counter()
            read()
            samples.append(time.perf_counter() - started)
    return {**summary(samples), "full_gc_passes": collections[0]}


async def _api_samples(app: Any, secret: str, url: str, reads: int) -> dict[str, Any] | None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                 headers={"X-API-Key": secret}) as client:
        first = await client.get(url)
        if first.status_code == 404:
            return None  # the route is not there (yet)
        assert first.status_code == 200, first.text
        for _ in range(20):
            await client.get(url)
        samples = []
        with full_collections() as collections:
            for _ in range(reads):
                started = time.perf_counter()
                response = await client.get(url)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
    return {**summary(samples), "full_gc_passes": collections[0]}


def bench(engine: str, calls: int, reads: int) -> dict[str, Any]:
    with scratch_database(engine, "stats") as url:
        upgrade(url)
        db = Database(url)
        clock = ManualClock(T0 + timedelta(days=DAYS))
        with db.transaction() as session:
            workspace = workspaces.create_workspace(session, "Bench", clock.now())
            secret = workspaces.create_key(session, workspace.id, "bench", clock.now()).secret
        app = create_app(Settings(database_url=db.url), db=db, clock=clock)
        with TestClient(app, headers={"X-API-Key": secret}) as client:
            created = client.post("/v1/campaigns", json={
                "name": "Bench stats",
                "schedule": {"timezone": ZONE, "runs": RUNS},
                "analysis": {"tags": [{"name": t} for t in TAGS]}})
            assert created.status_code == 201, created.text
            campaign_id = str(created.json()["id"])
        started = time.perf_counter()
        written = populate(db, campaign_id, calls)
        setup_s = time.perf_counter() - started
        print(f"{engine}: {calls:,} calls as {written['hourly_rows']} hourly rows and "
              f"{written['tag_rows']} tag rows in {setup_s:.1f}s", flush=True)
        ranges: list[Range] = [stats.run_range(run, ZONE) for run in RUNS]
        result: dict[str, Any] = {
            "engine": engine, "calls": calls, "setup_s": round(setup_s, 1), **written,
            "all_time": timed(lambda: read_all(db, campaign_id, [(None, None)]), reads),
            "one_run": timed(lambda: read_all(db, campaign_id, ranges[1:2]), reads),
            "every_run": timed(lambda: read_all(db, campaign_id, ranges), reads)}
        base = f"/v1/campaigns/{campaign_id}/stats"
        for key, path in (("api_all_time", base), ("api_one_run", base + "?run=week-2")):
            measured = asyncio.run(_api_samples(app, secret, path, reads))
            result[key] = measured if measured is not None else "skipped: route not found"
        db.dispose()
    for key in ("all_time", "one_run", "every_run", "api_all_time", "api_one_run"):
        print(f"{engine:>9} {key:>13}: {result[key]}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=200, help="timed reads of each kind")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args()
    engines = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    write_results(args.json, [bench(engine, args.calls, args.reads) for engine in engines])


if __name__ == "__main__":
    main()
