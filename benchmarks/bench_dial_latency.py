"""Latency from a freed slot to the next dial, on the embedded stack (SQLite, worker thread).

    python benchmarks/bench_dial_latency.py                 # ~40 s
    python benchmarks/bench_dial_latency.py --seconds 20 --speed 20

A campaign with a backlog runs at its concurrency limit on an accelerated clock
(``ScaledClock``), the dialer in a real ``DialerWorker`` thread on SQLite with the simulated
carrier, exactly as ``ringwise serve --demo-speed`` runs it. Every call that ends frees a slot
that the next due contact takes: with the k-th call end paired with the (limit + k)-th dial,
the latency is the wall-clock time from the instant the carrier ended the call (its virtual
instant mapped back to real time) to the moment the dialer handed the next request to the
carrier. Goal: p99 <= 50 ms. Results go to benchmarks/results/dial_latency.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fastapi.testclient import TestClient  # noqa: E402

from ringwise.api.app import create_app  # noqa: E402
from ringwise.clock import ScaledClock, SystemClock  # noqa: E402
from ringwise.db.engine import Database  # noqa: E402
from ringwise.db.migrate import upgrade  # noqa: E402
from ringwise.dialer.engine import Dialer  # noqa: E402
from ringwise.dialer.sql_store import SqlDialerStore  # noqa: E402
from ringwise.dialer.worker import DialerWorker  # noqa: E402
from ringwise.services import workspaces  # noqa: E402
from ringwise.settings import Settings  # noqa: E402
from ringwise.telephony.port import DialRequest, PlaceResult  # noqa: E402
from ringwise.telephony.simulated import CarrierModel, Duration, SimulatedCarrier  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "dial_latency.json"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


class TimedCarrier(SimulatedCarrier):
    """The simulated carrier, noting the wall-clock time of every placement."""

    placed: list[float]
    call_ids: list[str]

    def place_call(self, request: DialRequest) -> PlaceResult:
        self.placed.append(time.time())
        self.call_ids.append(request.call_id)
        return super().place_call(request)


def run(seconds: float, speed: float, limit: int, contacts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        clock = ScaledClock(speed, START, SystemClock())
        with db.transaction() as session:
            ws = workspaces.create_workspace(session, "bench", clock.now())
            key = workspaces.create_key(session, ws.id, "bench", clock.now()).secret
        client = TestClient(create_app(Settings(database_url=url), db=db, clock=clock),
                            headers={"X-API-Key": key})
        assert client.patch("/v1/settings", json={"concurrency_limit": limit}).status_code == 200
        assistant = client.post("/v1/assistants", json={"name": "Ava"}).json()["id"]
        numbers = [client.post("/v1/phone-numbers", json={
            "number": f"+1212555{9000 + i}", "cps_limit": 5}).json()["id"] for i in range(10)]
        phones = [f"+1212{5550000 + i:07d}" for i in range(contacts)]
        ids = client.post("/v1/contacts/bulk", json={
            "contacts": [{"phone": p} for p in phones]}).json()["contact_ids"]
        campaign = client.post("/v1/campaigns", json={
            "name": "latency", "assistant_id": assistant, "concurrency_limit": limit,
            "caller_id": {"mode": "pool", "phone_number_ids": numbers},
            "retry": {"auto_retry": False}, "contact_ids": ids}).json()
        assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200

        # Short calls, so that many slots free up in the run.
        model = CarrierModel(cps_limit=None, ring_time=Duration.uniform(2, 6),
                             talk_time=Duration.uniform(5, 20),
                             machine_ring_time=Duration.uniform(8, 12))
        carrier = TimedCarrier(model, seed=1)
        carrier.placed = []
        carrier.call_ids = []
        dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="bench",
                        lease=timedelta(seconds=60 * speed))
        worker = DialerWorker(dialer, poll_interval=0.5)
        thread = worker.start_thread()
        time.sleep(seconds)
        worker.stop()
        thread.join(timeout=10)
        ends = sorted(
            clock.base_instant(plan_end).timestamp()
            for call_id in carrier.call_ids
            if (plan := carrier.plan(call_id)) is not None
            and (plan_end := plan.events[-1].at) is not None
            and plan_end <= clock.now())
        placed = sorted(carrier.placed)
        latencies = [placed[limit + k] - end for k, end in enumerate(ends)
                     if limit + k < len(placed)]
        db.dispose()
    latencies_ms = sorted(1000 * x for x in latencies)

    def pct(p: float) -> float:
        return round(latencies_ms[min(len(latencies_ms) - 1, int(p * len(latencies_ms)))], 2)

    result = {"engine": "sqlite", "speed": speed, "concurrency": limit,
              "samples": len(latencies_ms), "dials": len(placed),
              "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
              "max_ms": round(latencies_ms[-1], 2),
              "mean_ms": round(statistics.fmean(latencies_ms), 2),
              "negative": sum(x < 0 for x in latencies_ms)}
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=5_000)
    args = parser.parse_args()
    result = run(args.seconds, args.speed, args.concurrency, args.contacts)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(),
                                   "python": platform.python_version(),
                                   "results": [result]}, indent=2))


if __name__ == "__main__":
    main()
