"""The dialer worker: a dialer ticking in real time, sleeping until it next has work.

The same :class:`~ringwise.dialer.engine.Dialer` runs here on a real or accelerated clock
(``SystemClock``, ``ScaledClock``); the simulator drives it on virtual time instead
(``dialer.driver``). After each tick the worker sleeps until the earliest of: the provider's
next event when the provider can tell (the simulated carrier can), the next contact due,
the dialer's own wake-up (a CPS window, a campaign boundary), or ``poll_interval`` real
seconds (new campaigns and contacts arrive through the API; webhooks through their inbox).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Final

from ringwise.dialer.engine import Dialer, TickReport

log = logging.getLogger("ringwise.worker")

ERROR_BACKOFF_S: Final = 1.0


class DialerWorker:
    def __init__(self, dialer: Dialer, *, poll_interval: float = 0.5) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be > 0 seconds")
        self.dialer = dialer
        self.poll_interval = poll_interval
        self.stop_event = threading.Event()
        self.last_report: TickReport | None = None
        self.ticks = 0
        self.errors = 0

    @property
    def speed(self) -> float:
        """Virtual seconds per real second of the dialer's clock (1 for the system clock)."""
        return float(getattr(self.dialer.clock, "speed", 1.0))

    def step(self) -> float:
        """One tick; returns how many real seconds to wait before the next."""
        try:
            report = self.dialer.tick()
        except Exception:  # a database hiccup must not kill the worker; it retries
            self.errors += 1
            log.exception("dialer tick failed; retrying in %.1f s", ERROR_BACKOFF_S)
            return ERROR_BACKOFF_S
        self.ticks += 1
        self.last_report = report
        if report.ended or report.placed or report.more:
            return 0.0  # a slot may have freed or a campaign finished: look again at once
        return self._wait_after(report)

    def _wait_after(self, report: TickReport) -> float:
        now = self.dialer.clock.now()
        candidates: list[datetime] = []
        if report.wake_at is not None:
            candidates.append(report.wake_at)
        next_event = getattr(self.dialer.provider, "next_event_at", None)
        if callable(next_event):
            upcoming = next_event()
            if upcoming is not None:
                candidates.append(upcoming)
        due = self.dialer.store.next_due(now)
        if due is not None:
            candidates.append(due)
        if not candidates:
            return self.poll_interval
        ahead = (min(candidates) - now).total_seconds() / self.speed
        return min(max(ahead, 0.0), self.poll_interval)

    def run(self) -> None:
        """Tick until :meth:`stop` is called."""
        log.info("dialer worker %s started", self.dialer.worker_id)
        while not self.stop_event.is_set():
            wait = self.step()
            if wait > 0:
                self.stop_event.wait(wait)
        log.info("dialer worker %s stopped after %d ticks", self.dialer.worker_id, self.ticks)

    def stop(self) -> None:
        self.stop_event.set()

    def start_thread(self, name: str = "ringwise-dialer") -> threading.Thread:
        """Run in a daemon thread (the embedded stack: API server and dialer in one process)."""
        thread = threading.Thread(target=self.run, name=name, daemon=True)
        thread.start()
        return thread
