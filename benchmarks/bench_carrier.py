"""Benchmark of the simulated carrier: placements + events per second for 100,000 calls.

The forecaster simulates 100,000 contacts over a week in under a minute, so the carrier must
place calls and hand out their events at well over 50,000 calls a second.

Run: ``python benchmarks/bench_carrier.py``; prints a summary and writes
``benchmarks/results/carrier.json``.
"""

from __future__ import annotations

import json
import platform
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ringwise.telephony import Accepted, CarrierModel, DialRequest, SimulatedCarrier

RESULTS = Path(__file__).parent / "results" / "carrier.json"
CALLS = 100_000
T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # a Monday, 08:00 in New York
ZONES = (("America/New_York",), ("America/Chicago",), ("America/Denver",),
         ("America/Los_Angeles",), ("America/Boise", "America/Los_Angeles"))
TICK = timedelta(seconds=6)  # the worker's tick: one call placed per tick
SEED = 7


def _requests() -> list[DialRequest]:
    # One call every 6 s: 100,000 calls over a week, as the forecaster's scenario.
    return [DialRequest(call_id=f"call_{i:07d}", from_number="+12125550100",
                        to_number=f"+1312555{i % 10_000:04d}", callee_zones=ZONES[i % len(ZONES)],
                        placed_at=T0 + timedelta(seconds=6 * i), machine_detection=i % 3 != 0,
                        opening_message="Hi {{first_name}}, this is Ava from Acme.",
                        voicemail_message="Hi {{first_name}}, please call us back.",
                        context={"first_name": "Dana"})
            for i in range(CALLS)]


def run(requests: list[DialRequest]) -> dict[str, float]:
    """The worker's loop: pull what happened up to now, then place the next call."""
    carrier = SimulatedCarrier(CarrierModel(), seed=SEED)
    events = accepted = 0
    started = time.perf_counter()
    tick_at = requests[0].placed_at
    for request in requests:
        while tick_at < request.placed_at:
            tick_at += TICK
            events += len(carrier.events_due(tick_at))
        accepted += isinstance(carrier.place_call(request), Accepted)
    events += len(carrier.events_due(tick_at + timedelta(days=1)))
    total_s = time.perf_counter() - started
    return {"total_s": total_s, "events": events, "accepted": accepted}


def place_only(requests: list[DialRequest]) -> float:
    """Seconds to place every call, events left unread (heap grows to all of them)."""
    carrier = SimulatedCarrier(CarrierModel(), seed=SEED)
    started = time.perf_counter()
    for request in requests:
        carrier.place_call(request)
    return time.perf_counter() - started


def main() -> None:
    requests = _requests()
    runs = [run(requests) for _ in range(3)]
    best = min(runs, key=lambda r: r["total_s"])
    place_s = min(place_only(requests) for _ in range(3))
    calls_per_s = CALLS / best["total_s"]
    result = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "calls": CALLS,
        "events": int(best["events"]),
        "accepted": int(best["accepted"]),
        "best_total_s": round(best["total_s"], 3),
        "place_call_us": round(place_s / CALLS * 1e6, 2),
        "calls_per_s": round(calls_per_s),
        "events_per_s": round(best["events"] / best["total_s"]),
    }
    print(f"{CALLS:,} calls, {result['events']:,} events in {result['best_total_s']} s "
          "(best of 3): "
          f"{result['calls_per_s']:,} calls/s, {result['events_per_s']:,} events/s, "
          f"place_call {result['place_call_us']} us")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
