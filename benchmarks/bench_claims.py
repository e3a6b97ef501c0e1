"""Claim throughput of the SQL dialer store: 1,000,000 pending contacts in 1,000 campaigns.

    python benchmarks/bench_claims.py                       # SQLite and PostgreSQL
    python benchmarks/bench_claims.py --engines postgres --contacts 200000

The data (10 workspaces x 100 campaigns, every contact due) is written straight into the
tables, then the real claim path runs: ``SqlDialerStore.claim`` with the dialer's own
decider (pacing, window re-check, caller id with calls-per-second limits) in the locked
claim transaction, one workspace after another, one virtual second per round. Only the
claim transactions are timed; between rounds the in-flight counters are reset (as if every
call had ended) so capacity never runs out. Goal: >= 5,000 claims/s on PostgreSQL.
Results go to benchmarks/results/claims.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import scratch_database  # noqa: E402
from sqlalchemy import update  # noqa: E402

from ringwise.clock import ManualClock  # noqa: E402
from ringwise.db.engine import Database  # noqa: E402
from ringwise.db.migrate import upgrade  # noqa: E402
from ringwise.db.models import CampaignCounters  # noqa: E402
from ringwise.dialer.engine import ACTIVE_STATUSES, Dialer, _Decider  # noqa: E402
from ringwise.dialer.sql_store import SqlDialerStore  # noqa: E402
from ringwise.telephony.simulated import SimulatedCarrier  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "claims.json"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
WORKSPACES = 10
NUMBERS_PER_WORKSPACE = 20
NUMBER_CPS = 100.0


def _stamp(dialect: str, value: datetime) -> Any:
    # UTCDateTime stores naive UTC text on SQLite and timestamptz on PostgreSQL.
    return value.replace(tzinfo=None).isoformat(sep=" ") if dialect == "sqlite" else value


def populate(db: Database, contacts: int, campaigns: int) -> list[str]:
    """Rows written with the driver directly: this measures claiming, not inserting."""
    per_campaign = contacts // campaigns
    now = _stamp(db.dialect, T0)
    due = now
    window_end = _stamp(db.dialect, T0 + timedelta(hours=8))
    ws_ids = [str(uuid.uuid4()) for _ in range(WORKSPACES)]
    rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in (
        "workspaces", "phone_numbers", "campaigns", "campaign_counters")}
    for w, ws in enumerate(ws_ids):
        rows["workspaces"].append((ws, f"bench {w}", "America/New_York", "US", None, 100_000,
                                   100, True, now, now))
        for n in range(NUMBERS_PER_WORKSPACE):
            rows["phone_numbers"].append((str(uuid.uuid4()), ws, f"+1212555{w:02d}{n:02d}",
                                          "simulated", NUMBER_CPS, "US", "NY", "212", now, now))
    campaign_ids = []
    for c in range(campaigns):
        cid = str(uuid.uuid4())
        campaign_ids.append(cid)
        ws = ws_ids[c % WORKSPACES]
        rows["campaigns"].append((cid, ws, f"campaign {c}", "running", 50, 0, False, False,
                                  json.dumps({"mode": "pool"}), "{}", "{}", "{}", "{}", "{}",
                                  now, now, now))
        rows["campaign_counters"].append((cid, per_campaign, per_campaign))
    sql = {
        "workspaces": "INSERT INTO workspaces (id, name, timezone, default_region, "
                      "business_hours, concurrency_limit, concurrency_rate, campaigns_enabled, "
                      "created_at, updated_at) VALUES ({})",
        "phone_numbers": "INSERT INTO phone_numbers (id, workspace_id, number, provider, "
                         "cps_limit, country, region, area_code, created_at, updated_at) "
                         "VALUES ({})",
        "campaigns": "INSERT INTO campaigns (id, workspace_id, name, status, priority, "
                     "concurrency_limit, never_ending, auto_start, caller_id, schedule, retry, "
                     "voicemail, memory, options, created_at, updated_at, started_at) "
                     "VALUES ({})",
        "campaign_counters": "INSERT INTO campaign_counters (campaign_id, contacts_total, "
                             "contacts_pending, contacts_active, contacts_done, "
                             "contacts_skipped, calls_total, calls_queued, calls_in_progress, "
                             "calls_ended, calls_answered, calls_voicemail, calls_no_answer, "
                             "calls_busy, calls_failed) VALUES ({}, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
                             "0, 0, 0)",
    }
    raw: Any = db.engine.raw_connection()
    try:
        mark = "?" if db.dialect == "sqlite" else "%s"
        cur = raw.cursor()
        for table, data in rows.items():
            cur.executemany(sql[table].format(", ".join([mark] * len(data[0]))), data)
        contact_rows = []
        cc_rows = []
        for c, cid in enumerate(campaign_ids):
            ws = ws_ids[c % WORKSPACES]
            for i in range(per_campaign):
                contact_id = str(uuid.uuid4())
                phone = f"+1{(2_000_000_000 + c * per_campaign + i):010d}"
                contact_rows.append((contact_id, ws, phone, now, now))
                cc_rows.append((str(uuid.uuid4()), ws, cid, contact_id, "pending", 0, due,
                                window_end, "America/New_York", now, now))
        contact_sql = "INSERT INTO contacts (id, workspace_id, phone, created_at, updated_at)"
        cc_sql = ("INSERT INTO campaign_contacts (id, workspace_id, campaign_id, contact_id, "
                  "state, attempts, next_eligible_at, window_end, timezones, created_at, "
                  "updated_at)")
        if db.dialect == "postgresql":
            with cur.copy("COPY contacts (id, workspace_id, phone, created_at, updated_at) "
                          "FROM STDIN") as copy:
                for row in contact_rows:
                    copy.write_row(row)
            with cur.copy("COPY campaign_contacts (id, workspace_id, campaign_id, contact_id, "
                          "state, attempts, next_eligible_at, window_end, timezones, "
                          "created_at, updated_at) FROM STDIN") as copy:
                for row in cc_rows:
                    copy.write_row(row)
            cur.execute("ANALYZE")
        else:
            cur.executemany(contact_sql + " VALUES (?, ?, ?, ?, ?)", contact_rows)
            cur.executemany(cc_sql + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cc_rows)
        raw.commit()
    finally:
        raw.close()
    return ws_ids


def run(engine: str, contacts: int, campaigns: int, target: int) -> dict[str, Any]:
    with scratch_database(engine, "claims") as url:
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        ws_ids = populate(db, contacts, campaigns)
        setup_s = time.perf_counter() - started
        store = SqlDialerStore(db)
        clock = ManualClock(T0)
        dialer = Dialer(store, SimulatedCarrier(), clock, worker_id="bench")
        store.heartbeat("bench", T0)
        dialer._load_plans(store.campaigns(ACTIVE_STATUSES), T0)
        claimed = 0
        claim_s = 0.0
        transactions = 0
        rounds = 0
        while claimed < target:
            at = clock.now()
            for ws in ws_ids:
                t = time.perf_counter()
                calls = store.claim(ws, at, "bench", _Decider(dialer, at))
                claim_s += time.perf_counter() - t
                transactions += 1
                claimed += len(calls)
            with db.transaction() as session:  # every call "ended": capacity stays free
                session.execute(update(CampaignCounters).values(calls_in_progress=0))
            clock.advance(timedelta(seconds=1))
            rounds += 1
        db.dispose()
    result = {
        "engine": engine, "contacts": contacts, "campaigns": campaigns,
        "workspaces": WORKSPACES, "setup_s": round(setup_s, 1), "claimed": claimed,
        "transactions": transactions, "rounds": rounds, "claim_s": round(claim_s, 3),
        "claims_per_s": round(claimed / claim_s),
        "ms_per_transaction": round(1000 * claim_s / transactions, 2),
    }
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=1_000)
    parser.add_argument("--claims", type=int, default=50_000, help="claims to time")
    args = parser.parse_args()
    results = [run(e, args.contacts, args.campaigns, args.claims)
               for e in args.engines.split(",")]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "python":
                                   platform.python_version(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
