"""Pacing: hand-written cases and properties of the allocation and CPS rules.

The CPS checks use a brute-force counter independent of ringwise.core.pacing: it counts the
starts in the window opening at each start, with the period as an exact fraction of seconds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.pacing import (
    CampaignDemand,
    RateWindow,
    StartLog,
    allocate,
    allowed_now,
    next_start_at,
    staggered_starts,
    workspace_capacity,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
US = timedelta(microseconds=1)

# --- concurrency --------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "rate", "expected"), [
    (10, 70, 7), (10, 100, 10), (3, 50, 1), (1, 1, 1), (0, 70, 0), (7, 99, 6), (200, 33, 66),
])
def test_workspace_capacity(limit: int, rate: int, expected: int) -> None:
    assert workspace_capacity(limit, rate) == expected


@pytest.mark.parametrize(("limit", "rate"), [(-1, 50), (10, 0), (10, 101)])
def test_workspace_capacity_rejects(limit: int, rate: int) -> None:
    with pytest.raises(ValueError):
        workspace_capacity(limit, rate)


def demand(cid: str, priority: int = 50, limit: int = 0, in_flight: int = 0,
           due: int = 100) -> CampaignDemand:
    return CampaignDemand(cid, priority, limit, in_flight, due)


def test_allocate_examples() -> None:
    campaigns = [demand("hi", 90, limit=3, in_flight=1), demand("a", 50), demand("b", 50),
                 demand("low", 10)]
    assert allocate(7, campaigns) == {"hi": 2, "a": 3, "b": 2, "low": 0}
    assert allocate(7, [*campaigns[:3], demand("low", 10)][::-1]) == allocate(7, campaigns)
    assert allocate(8, campaigns) == {"hi": 2, "a": 3, "b": 3, "low": 0}
    # Limit lowered below in-flight, negative workspace slack: nothing, no error.
    assert allocate(-2, [demand("x", limit=2, in_flight=5)]) == {"x": 0}
    assert allocate(5, [demand("x", limit=2, in_flight=5)]) == {"x": 0}
    assert allocate(5, []) == {}


def test_allocate_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        allocate(3, [demand("a"), demand("a")])
    with pytest.raises(ValueError):
        demand("a", priority=0)
    with pytest.raises(ValueError):
        demand("a", due=-1)


def room(c: CampaignDemand) -> int:
    cap = c.due if c.limit == 0 else min(c.due, c.limit - c.in_flight)
    return max(0, cap)


campaign_lists = st.lists(
    st.builds(
        CampaignDemand,
        campaign_id=st.sampled_from("abcdefgh"),
        priority=st.sampled_from([10, 50, 90]),
        limit=st.integers(0, 6),
        in_flight=st.integers(0, 8),
        due=st.integers(0, 8),
    ),
    max_size=7, unique_by=lambda c: c.campaign_id,
)


@given(st.integers(-3, 30), campaign_lists)
def test_allocation_respects_every_limit_and_conserves_work(
        free: int, campaigns: list[CampaignDemand]) -> None:
    grants = allocate(free, campaigns)
    assert set(grants) == {c.campaign_id for c in campaigns}
    for c in campaigns:
        assert 0 <= grants[c.campaign_id] <= room(c)
        assert grants[c.campaign_id] <= c.due
        if c.limit > 0:
            assert c.in_flight + grants[c.campaign_id] <= max(c.limit, c.in_flight)
    total = sum(grants.values())
    assert total <= max(0, free)
    # Work-conserving: slots stay free only when nobody has room left.
    assert total == min(max(0, free), sum(room(c) for c in campaigns))


@given(st.integers(0, 30), campaign_lists)
def test_higher_priority_is_served_first(free: int, campaigns: list[CampaignDemand]) -> None:
    grants = allocate(free, campaigns)
    for low in campaigns:
        if grants[low.campaign_id] == 0:
            continue
        for high in campaigns:
            if high.priority > low.priority:
                assert grants[high.campaign_id] == room(high), (high, low)


@given(st.integers(0, 30), campaign_lists)
def test_equal_priority_is_even(free: int, campaigns: list[CampaignDemand]) -> None:
    grants = allocate(free, campaigns)
    for level in {c.priority for c in campaigns}:
        group = [c for c in campaigns if c.priority == level]
        uncapped = [grants[c.campaign_id] for c in group if grants[c.campaign_id] < room(c)]
        if uncapped:
            assert max(uncapped) - min(uncapped) <= 1
            # And nobody capped by its own room got more than an uncapped one plus one.
            assert max(grants[c.campaign_id] for c in group) <= min(uncapped) + 1


@given(st.integers(0, 30), campaign_lists, st.randoms(use_true_random=False))
def test_allocation_ignores_input_order(free: int, campaigns: list[CampaignDemand],
                                        rnd: random.Random) -> None:
    shuffled = list(campaigns)
    rnd.shuffle(shuffled)
    assert allocate(free, shuffled) == allocate(free, campaigns)


@given(m=st.integers(2, 6), share=st.integers(0, 3), data=st.data())
def test_leftover_rotates_over_ticks(m: int, share: int, data: st.DataObject) -> None:
    leftover = data.draw(st.integers(1, m - 1))
    ticks = data.draw(st.integers(1, 25))
    first_tick = data.draw(st.integers(0, 10_000))
    ids = [f"c{i}" for i in range(m)]
    received = dict.fromkeys(ids, 0)
    for tick in range(first_tick, first_tick + ticks):
        campaigns = [demand(cid) for cid in ids]
        grants = allocate(m * share + leftover, campaigns, tick=tick)
        for cid in ids:
            assert grants[cid] in (share, share + 1)
            received[cid] += grants[cid] - share
    # Round-robin: after any number of ticks, the extra slots differ by at most one.
    assert max(received.values()) - min(received.values()) <= 1
    if ticks * leftover >= m:
        assert min(received.values()) >= 1  # nobody starved


def test_leftover_rotation_with_a_capped_peer() -> None:
    """The capped campaign takes its room; the other two alternate the odd slot."""
    seen = []
    for tick in range(4):
        campaigns = [demand("a"), demand("b"), demand("c", due=1)]
        seen.append(allocate(6, campaigns, tick=tick))
    assert all(g["c"] == 1 for g in seen)
    assert sorted((g["a"], g["b"]) for g in seen) == [(2, 3), (2, 3), (3, 2), (3, 2)]


# --- calls per second ---------------------------------------------------------------------


def exact_window(limit: float) -> tuple[int, Fraction]:
    """(max starts, period in seconds) straight from the definition, no rounding."""
    if limit >= 1:
        return math.floor(limit), Fraction(1)
    return 1, 1 / Fraction(limit)


def brute_ok(starts: Sequence[datetime], limit: float) -> bool:
    """No half-open window of the period holds more than the allowed number of starts."""
    n, period = exact_window(limit)
    bound = period.numerator * 1_000_000  # d_us < period  <=>  d_us * den < num * 10**6
    for left in starts:
        inside = [s for s in starts if 0 <= ((s - left) // US) * period.denominator < bound]
        if len(inside) > n:
            return False
    return True


def test_rate_window_definition() -> None:
    assert RateWindow.per_second(10) == RateWindow(10, timedelta(seconds=1))
    assert RateWindow.per_second(2.5) == RateWindow(2, timedelta(seconds=1))
    assert RateWindow.per_second(0.5) == RateWindow(1, timedelta(seconds=2))
    assert RateWindow.per_second(0.3).period == timedelta(microseconds=3_333_334)
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            RateWindow.per_second(bad)


def test_cps_examples() -> None:
    starts = [T0, T0 + timedelta(milliseconds=300)]
    assert allowed_now(starts, 2, T0 + timedelta(milliseconds=500)) == 0
    assert allowed_now(starts, 3, T0 + timedelta(milliseconds=500)) == 1
    assert next_start_at(starts, 2, T0 + timedelta(milliseconds=500)) == T0 + timedelta(seconds=1)
    assert allowed_now(starts, 2, T0 + timedelta(seconds=1)) == 1
    assert allowed_now(starts, 2, T0 + timedelta(seconds=1, milliseconds=300)) == 2
    assert next_start_at([T0], 0.5, T0) == T0 + timedelta(seconds=2)
    assert allowed_now([], 5, T0) == 5
    # A start after ``at`` (another worker's clock ahead) counts too.
    assert allowed_now([T0 + timedelta(milliseconds=400)], 1, T0) == 0
    assert next_start_at([T0 + timedelta(milliseconds=400)], 1, T0) == T0 + timedelta(
        seconds=1, milliseconds=400)


limits = st.one_of(st.integers(1, 5).map(float), st.sampled_from([0.3, 0.5, 1.5, 2.5, 0.25]))


@given(limits, st.lists(st.integers(0, 4000), min_size=1, max_size=15))
def test_simulated_starts_never_exceed_the_limit(limit: float, wishes_ms: list[int]) -> None:
    """Each dial wants to start at a wished instant; it starts at next_start_at instead."""
    starts: list[datetime] = []
    clock = T0
    for wish in sorted(wishes_ms):
        clock = max(clock, T0 + timedelta(milliseconds=wish))
        at = next_start_at(starts, limit, clock)
        assert at >= clock
        assert allowed_now(starts, limit, at) >= 1
        if at > clock:  # earliest: one microsecond before, it was not allowed
            assert allowed_now(starts, limit, at - US) == 0
            assert not brute_ok([*starts, at - US], limit)
        starts.append(at)
        clock = at
        assert brute_ok(starts, limit)


@given(limits, st.lists(st.integers(0, 3000), max_size=10), st.integers(-500, 3500))
def test_allowed_now_agrees_with_brute_force(limit: float, wishes_ms: list[int],
                                             query_ms: int) -> None:
    starts: list[datetime] = []
    for wish in sorted(wishes_ms):
        starts.append(next_start_at(starts, limit, T0 + timedelta(milliseconds=wish)))
    at = T0 + timedelta(milliseconds=query_ms)
    k = allowed_now(starts, limit, at)
    assert brute_ok([*starts, *[at] * k], limit)
    assert not brute_ok([*starts, *[at] * (k + 1)], limit)
    nxt = next_start_at(starts, limit, at)
    assert (nxt == at) == (k >= 1)
    # Minimal: every 10 ms before it, and the microsecond before it, is refused.
    step = timedelta(milliseconds=10)
    probes = [at + i * step for i in range((nxt - at) // step + 1)] + [nxt - US]
    for probe in probes:
        if at <= probe < nxt:
            assert not brute_ok([*starts, probe], limit)
    assert brute_ok([*starts, nxt], limit)


def test_staggered_starts() -> None:
    assert staggered_starts(0, T0, 0.5) == []
    assert staggered_starts(3, T0, 0.5) == [T0, T0 + timedelta(seconds=0.5),
                                            T0 + timedelta(seconds=1)]
    assert staggered_starts(2, T0, 0) == [T0, T0]
    assert staggered_starts(4, T0, 1 / 3)[3] == T0 + timedelta(microseconds=999_999)
    for n, stagger in ((-1, 1.0), (2, -0.1), (2, math.inf)):
        with pytest.raises(ValueError):
            staggered_starts(n, T0, stagger)


@given(st.lists(st.integers(-3_000_000, 500_000), max_size=12),
       st.sampled_from([0.3, 0.5, 1.0, 2.0, 2.5, 5.0]), st.integers(0, 6))
def test_start_log_answers_like_the_rate_window(offsets: list[int], cps: float,
                                                extra: int) -> None:
    """The incremental check used while claiming agrees with the exact one, including when
    another worker's clock put starts after ``at``."""
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    window = RateWindow.per_second(cps)
    starts = [at + timedelta(microseconds=o) for o in offsets]
    log = StartLog(window, starts, at)
    for _ in range(extra):
        assert log.allows_one() == (window.allowed_now(log.starts, at) > 0)
        if log.allows_one():
            log.record()
    assert log.next_start_at() == window.next_start_at(log.starts, at)


@given(st.lists(st.integers(-3_000_000, 500_000), max_size=12),
       st.sampled_from([0.3, 1.0, 2.5, 5.0]))
def test_start_log_room_is_the_windows_allowance(offsets: list[int], cps: float) -> None:
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    window = RateWindow.per_second(cps)
    starts = [at + timedelta(microseconds=o) for o in offsets]
    assert StartLog(window, starts, at).room() == window.allowed_now(starts, at)
