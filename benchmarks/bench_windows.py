"""Micro-benchmark of ringwise.core.windows: microseconds per call on typical rule sets.

Run: ``python benchmarks/bench_windows.py``; prints a table and writes
``benchmarks/results/windows.json``.
"""

from __future__ import annotations

import json
import platform
import random
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ringwise.core.windows import CallingRules, Run, is_open, next_window

RESULTS = Path(__file__).parent / "results" / "windows.json"
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)

TYPICAL = CallingRules(
    start_at=datetime(2026, 1, 1, tzinfo=UTC),
    end_at=datetime(2027, 12, 31, tzinfo=UTC),
    weekdays=frozenset(range(5)),
    call_hours=(time(9, 0), time(20, 0)),
    business_hours=((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0))),
)
WITH_RUNS = CallingRules(
    runs=(Run(date(2026, 3, 1), date(2026, 6, 30), time(10, 0), time(18, 0)),
          Run(date(2026, 7, 1), date(2026, 12, 31), time(9, 0), time(17, 0),
              dates=frozenset(date(2026, 7, 1) + timedelta(days=3 * i) for i in range(60)))),
    weekdays=frozenset(range(6)),
    call_hours=(time(8, 0), time(21, 0)),
)


def _instants(count: int) -> list[datetime]:
    rng = random.Random(7)
    return [T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 300)) for _ in range(count)]


def _per_call(fn: Callable[[datetime], object], instants: list[datetime]) -> float:
    """Best of 5 runs over the instants, in microseconds per call (caches warm)."""
    for at in instants:  # warm the per-(zone, date) cache, as in a running dialer
        fn(at)

    def loop() -> None:
        for at in instants:
            fn(at)

    return min(timeit.repeat(loop, number=1, repeat=5)) / len(instants) * 1e6


def _cold(instants: list[datetime]) -> float:
    """A fresh rule set per call: nothing cached (first contact of a new campaign)."""
    rule_sets = [CallingRules(weekdays=frozenset(range(5)),
                              call_hours=(time(9, 0), time(17, i % 60)))
                 for i in range(len(instants))]
    started = timeit.default_timer()
    for rules, at in zip(rule_sets, instants, strict=True):
        next_window(rules, ("America/New_York",), at)
    return (timeit.default_timer() - started) / len(instants) * 1e6


def main() -> None:
    instants = _instants(5000)
    ny = ("America/New_York",)
    boise = ("America/Boise", "America/Los_Angeles")
    cases: dict[str, Callable[[datetime], object]] = {
        "next_window typical, 1 zone": lambda at: next_window(TYPICAL, ny, at),
        "next_window typical, 2 zones": lambda at: next_window(TYPICAL, boise, at),
        "next_window runs+selected dates, 1 zone": lambda at: next_window(WITH_RUNS, ny, at),
        "is_open typical, 1 zone": lambda at: is_open(TYPICAL, ny, at),
    }
    results = {name: round(_per_call(fn, instants), 2) for name, fn in cases.items()}
    results["next_window cold (new rule set per call), 1 zone"] = round(_cold(instants), 2)
    width = max(map(len, results))
    for name, micros in results.items():
        print(f"{name:<{width}}  {micros:8.2f} us/call")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": platform.python_version(),
        "machine": platform.machine(),
        "calls_per_case": len(instants),
        "us_per_call": results,
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
