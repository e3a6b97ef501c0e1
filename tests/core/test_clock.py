from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringwise.clock import ManualClock, ScaledClock, SystemClock

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(START)
    assert clock.advance(timedelta(minutes=5)) == START + timedelta(minutes=5)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        clock.set(START)
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))


def test_scaled_clock_runs_faster_from_its_start() -> None:
    real = ManualClock(START)
    virtual_start = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    clock = ScaledClock(600, start=virtual_start, base=real)
    assert clock.now() == virtual_start
    real.advance(timedelta(seconds=6))
    assert clock.now() == virtual_start + timedelta(hours=1)
    assert clock.real_seconds(timedelta(minutes=10)) == 1.0
    with pytest.raises(ValueError):
        ScaledClock(0, base=real)


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().utcoffset() == timedelta(0)
