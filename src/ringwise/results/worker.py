"""The results worker: analysis jobs, webhook deliveries, scheduled reports and scheduled
messages, in one loop.

Each part is a *runner* with ``run_due(limit) -> int`` (work done) and ``next_due()`` (when
it next has work, for sleeping). The loop runs beside the dialer (its own thread in
``ringwise worker``, ``serve`` and the quick start), so a slow LLM or a dead webhook receiver
never delays a dial.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, Protocol

from ringwise.clock import Clock

log = logging.getLogger("ringwise.results")

ERROR_BACKOFF_S: Final = 1.0
BATCH: Final = 50


class Runner(Protocol):
    def run_due(self, limit: int = BATCH) -> int: ...

    def next_due(self) -> datetime | None: ...


class ResultsWorker:
    def __init__(self, runners: Sequence[Runner], clock: Clock, *,
                 poll_interval: float = 0.5,
                 on_stop: Sequence[Callable[[], None]] = ()) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be > 0 seconds")
        self.runners = list(runners)
        self.clock = clock
        self.poll_interval = poll_interval
        self.stop_event = threading.Event()
        self.errors = 0
        self.on_stop = list(on_stop)  # resources to release when the loop ends

    def step(self) -> float:
        """Run every runner once; the real seconds to wait before the next step."""
        busy = False
        for runner in self.runners:
            try:
                busy = runner.run_due(BATCH) >= BATCH or busy
            except Exception:  # a database hiccup must not kill the loop; it retries
                self.errors += 1
                log.exception("%s failed; retrying in %.1f s", type(runner).__name__,
                              ERROR_BACKOFF_S)
                return ERROR_BACKOFF_S
        if busy:
            return 0.0
        return self._wait()

    def _wait(self) -> float:
        now = self.clock.now()
        upcoming = [due for due in (r.next_due() for r in self.runners) if due is not None]
        if not upcoming:
            return self.poll_interval
        speed = float(getattr(self.clock, "speed", 1.0))
        ahead = (min(upcoming) - now).total_seconds() / speed
        return min(max(ahead, 0.0), self.poll_interval)

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                wait = self.step()
                if wait > 0:
                    self.stop_event.wait(wait)
        finally:
            for release in self.on_stop:
                release()

    def stop(self) -> None:
        self.stop_event.set()

    def start_thread(self, name: str = "ringwise-results") -> threading.Thread:
        thread = threading.Thread(target=self.run, name=name, daemon=True)
        thread.start()
        return thread
