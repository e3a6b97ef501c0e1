"""Campaign API latency, in process (FastAPI app + TestClient), on SQLite and PostgreSQL.

    python benchmarks/bench_campaigns.py                    # both engines
    python benchmarks/bench_campaigns.py --engines sqlite --runs 3 --gets 300

Measures, end to end through the HTTP layer (JSON parsing, validation, auth, transaction):

* POST /v1/campaigns with 10,000 inline contacts (all new contacts, then the same 10,000
  again, which updates them), target < 1 s on SQLite;
* POST /v1/campaigns with 10,000 existing contact_ids;
* GET /v1/campaigns/{id} (with its live counters) of a 10,000-contact campaign, target
  p50 < 5 ms, through httpx's ASGI transport (and, for reference, Starlette's TestClient).

SQLite uses a file in a temp dir; PostgreSQL a throwaway database on
$RINGWISE_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432), dropped afterwards.
Results go to benchmarks/results/campaigns.json (one entry per engine, replaced on re-run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from common import scratch_database  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from ringwise.api.app import create_app  # noqa: E402
from ringwise.clock import ManualClock  # noqa: E402
from ringwise.db.engine import Database  # noqa: E402
from ringwise.db.migrate import upgrade  # noqa: E402
from ringwise.services import workspaces  # noqa: E402
from ringwise.settings import Settings  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "campaigns.json"
CONTACTS = 10_000


def phones(batch: int) -> list[dict[str, Any]]:
    """10,000 distinct valid US numbers per batch, with a name and a custom field each."""
    area = ("212", "415", "305", "617", "713", "206", "312", "404", "503", "702")[batch % 10]
    exchange = 200 + batch // 10
    return [{"phone": f"+1{area}{exchange}{i:04d}", "first_name": f"Contact {i}",
             "custom_fields": {"lead": i}} for i in range(CONTACTS)]


def timed_post(client: TestClient, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    response = client.post("/v1/campaigns", json=body)
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise SystemExit(f"create failed: {response.status_code} {response.text[:500]}")
    return elapsed, response.json()


def summary(samples: list[float], unit: float = 1.0) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"p50": round(statistics.median(ordered) * unit, 3),
            "p95": round(p95 * unit, 3), "min": round(ordered[0] * unit, 3),
            "max": round(ordered[-1] * unit, 3), "n": len(ordered)}


def bench(engine: str, runs: int, gets: int) -> dict[str, Any]:
    with scratch_database(engine, "campaigns") as url:
        upgrade(url)
        db = Database(url)
        clock = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
        with db.transaction() as session:
            workspace = workspaces.create_workspace(session, "Bench", clock.now())
            secret = workspaces.create_key(session, workspace.id, "bench", clock.now()).secret
        app = create_app(Settings(database_url=db.url), db=db, clock=clock)
        with TestClient(app, headers={"X-API-Key": secret}) as client:
            assistant = client.post("/v1/assistants", json={"name": "Bench"}).json()["id"]
            number = client.post("/v1/phone-numbers", json={"number": "+14155550123"}).json()
            base = {"assistant_id": assistant,
                    "caller_id": {"mode": "fixed", "phone_number_ids": [number["id"]]}}

            timed_post(client, {**base, "name": "warm-up", "contacts": phones(999)[:200]})
            new_contacts, repeat_contacts, by_ids = [], [], []
            campaign: dict[str, Any] = {}
            for run in range(runs):
                batch = phones(run)
                elapsed, campaign = timed_post(client, {**base, "name": f"new {run}",
                                                        "contacts": batch})
                assert campaign["counts"]["contacts_total"] == CONTACTS
                new_contacts.append(elapsed)
                elapsed, _ = timed_post(client, {**base, "name": f"again {run}",
                                                 "contacts": batch})
                repeat_contacts.append(elapsed)
            ids = [r["contact_id"] for r in _all_contacts(client, campaign["id"])]
            for run in range(runs):
                elapsed, created = timed_post(client, {**base, "name": f"ids {run}",
                                                       "contact_ids": ids})
                assert created["contacts_added"] == CONTACTS
                by_ids.append(elapsed)

            url_get = f"/v1/campaigns/{campaign['id']}"
            testclient_samples = _time_gets(client.get, url_get, gets)
        # The same GETs through httpx's ASGI transport: no thread hop per request, so the
        # numbers are the app's own cost (TestClient adds ~1-2 ms of portal overhead).
        asgi_samples = asyncio.run(_asgi_gets(app, secret, url_get, gets))
        db.dispose()
    return {
        "create_10k_new_contacts_s": summary(new_contacts),
        "create_10k_existing_contacts_inline_s": summary(repeat_contacts),
        "create_10k_contact_ids_s": summary(by_ids),
        "get_campaign_ms": summary(asgi_samples, 1000.0),
        "get_campaign_testclient_ms": summary(testclient_samples, 1000.0),
    }


def _time_gets(get: Any, url: str, count: int) -> list[float]:
    for _ in range(50):
        get(url)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return samples


async def _asgi_gets(app: Any, secret: str, url: str, count: int) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                 headers={"X-API-Key": secret}) as client:
        for _ in range(50):
            await client.get(url)
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            response = await client.get(url)
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200
    return samples


def _all_contacts(client: TestClient, campaign_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/v1/campaigns/{campaign_id}/contacts", params=params).json()
        rows += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=5, help="creates of each kind")
    parser.add_argument("--gets", type=int, default=1000, help="timed GETs")
    args = parser.parse_args()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for engine in args.engines:
        measured = bench(engine, args.runs, args.gets)
        results[engine] = {
            **measured,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
        }
        print(f"{engine}:")
        for key, value in measured.items():
            print(f"  {key:40s} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
