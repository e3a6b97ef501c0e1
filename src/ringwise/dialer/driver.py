"""Discrete-event driving of a dialer on virtual time: the simulator's and the tests' loop.

The clock jumps from one instant at which something can happen to the next: a call ends at
the provider (a slot frees), a waiting contact becomes due, a number's calls-per-second
window reopens, a campaign starts or reaches its end. Events that free nothing (ringing,
answered) are applied, at their own instants, by the next tick. Between those instants
nothing could change, so the result equals a live worker ticking continuously, without
the idle ticks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ringwise.clock import ManualClock
from ringwise.dialer.engine import Dialer, TickReport


class SupportsNextEvent(Protocol):
    def next_event_at(self, *, terminal_only: bool = False) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class DriveResult:
    ticks: int
    stopped_at: datetime
    reason: str  # "done" | "until" | "idle"


def drive(dialer: Dialer, clock: ManualClock, provider: SupportsNextEvent, *,
          until: datetime, done: Callable[[], bool] | None = None,
          on_tick: Callable[[TickReport], None] | None = None,
          idle_step: timedelta | None = None) -> DriveResult:
    """Tick ``dialer`` at every instant something can happen, until ``done()`` is true,
    ``until`` is reached, or (without ``idle_step``) nothing is left that could happen."""
    ticks = 0
    same_instant, last_at = 0, None
    while True:
        report = dialer.tick()
        ticks += 1
        same_instant = same_instant + 1 if report.at == last_at else 0
        last_at = report.at
        if same_instant > MAX_TICKS_PER_INSTANT:
            raise RuntimeError(f"the dialer made no progress in {same_instant} ticks at "
                               f"{report.at.isoformat()}: a bug, please report it")
        if on_tick is not None:
            on_tick(report)
        now = clock.now()
        if done is not None and done():
            return DriveResult(ticks, now, "done")
        if report.more:
            continue
        ending = provider.next_event_at(terminal_only=True)
        if ending is not None and ending <= now:
            continue  # a call ended at this very instant (refused at once): apply it now
        # With every slot taken, a contact becoming due waits for a call to end anyway.
        due = None if report.slots_left == 0 else dialer.store.next_due(now)
        candidates = [t for t in (report.wake_at, ending, due) if t is not None and t > now]
        if candidates:
            following = min(candidates)
        elif report.ended or report.placed or report.scheduled:
            continue  # a campaign may complete on what this tick changed: look again now
        elif provider.next_event_at() is not None:
            following = max(provider.next_event_at() or now, now + _TINY)
        elif idle_step is not None:
            following = now + idle_step
        else:
            return DriveResult(ticks, now, "idle")
        if following >= until:
            clock.set(until)
            dialer.tick()
            return DriveResult(ticks + 1, until, "until")
        clock.set(following)


_TINY = timedelta(microseconds=1)
MAX_TICKS_PER_INSTANT = 1_000_000  # a stale backlog re-ticks once per fetch; a spin never ends
