"""Time is injected: every decision about *when* reads a Clock, never the wall clock directly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for tests and the discrete-event simulator."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start instant")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time does not run backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        with self._lock:
            if instant < self._now:
                raise ValueError("time does not run backwards")
            self._now = instant.astimezone(UTC)


class ScaledClock:
    """Time running ``speed`` times faster than ``base`` from a virtual starting instant: the
    demo's accelerated clock (``--demo-speed 600`` turns a minute into ten hours)."""

    def __init__(self, speed: float, start: datetime | None = None,
                 base: Clock | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self._base = base or SystemClock()
        self._origin = self._base.now()
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = (start or self._origin).astimezone(UTC)
        self.speed = speed

    def now(self) -> datetime:
        return self._start + (self._base.now() - self._origin) * self.speed

    def base_instant(self, virtual: datetime) -> datetime:
        """The base clock's instant at which this clock reads ``virtual``."""
        return self._origin + (virtual - self._start) / self.speed

    def real_seconds(self, virtual: timedelta) -> float:
        """How long to really wait for ``virtual`` time to pass (for sleeping loops)."""
        return virtual.total_seconds() / self.speed
