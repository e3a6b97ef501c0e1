"""Simulator speed and slot utilization: 100,000 contacts over a simulated week.

    python benchmarks/bench_simulator.py                    # examples/week-100k.json
    python benchmarks/bench_simulator.py --contacts 20000

Generates the contacts (examples/make_contacts.py, seeded) into a temp dir, then times the
two phases of ``ringwise simulate``: loading the scenario through the real services
(validation, contact import, campaign start) and dialing on the in-memory store with the
real dialer and the simulated carrier. Reports wall time, calls, ticks, peak RSS and the
forecast's slot utilization (busy slot time over the time when a contact was due; the
simulator's definition, docs/simulator.md). Goals: < 60 s; utilization >= 99 %.
Results go to benchmarks/results/simulator.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ringwise.dialer.simulation import load_scenario, prepare, run  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "simulator.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "examples" / "week-100k.json")
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "contacts.csv"
        subprocess.run([sys.executable, str(ROOT / "examples" / "make_contacts.py"),
                        str(args.contacts), str(csv_path)], check=True,
                       stdout=subprocess.DEVNULL)
        scenario = load_scenario(args.scenario)
        started = time.perf_counter()
        prepared = prepare(scenario, contacts_csv=csv_path)
        loaded = time.perf_counter()
        simulation = run(prepared)
        finished = time.perf_counter()
    summary = simulation.summary
    result: dict[str, Any] = {
        "scenario": args.scenario.name, "contacts": args.contacts,
        "load_s": round(loaded - started, 1), "dial_s": round(finished - loaded, 1),
        "total_s": round(finished - started, 1),
        "calls": summary.get("attempts"), "stop_reason": summary.get("stop_reason"),
        "completed_at": summary.get("completed_at"),
        "slot_utilization": summary.get("capacity", {}).get("slot_utilization"),
        "peak_concurrency": summary.get("capacity", {}).get("peak_concurrency"),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(),
                                   "python": platform.python_version(),
                                   "results": [result]}, indent=2))


if __name__ == "__main__":
    main()
