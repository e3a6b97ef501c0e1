"""Pacing: how many due calls may start now, given concurrency limits, priorities and CPS.

Pure: no I/O, no wall clock. The worker reads the shared counters (in-flight calls per
campaign and workspace, recent dial starts per caller number) inside the claiming
transaction, asks these functions, and writes the result back in the same transaction, so
that the limits hold across all workers together.

Concurrency
    :func:`workspace_capacity` is the number of slots campaigns may use:
    ``floor(limit * rate / 100)``, rounded down so the rate is never exceeded, but at least 1
    when ``limit >= 1`` (a tiny workspace at a low rate can still dial).

    :func:`allocate` splits the workspace's free slots among campaigns. A campaign's *room*
    is ``min(due, limit - in_flight)`` (only ``due`` when its limit is 0), never negative.
    Rules, all at once:

    1. nobody gets more than its room, and the total is at most the free workspace slots;
    2. priority levels are served from the highest (100) down: a lower level gets a slot
       only when every higher campaign's room is filled;
    3. within one level, water-filling: everyone gets the same share, capped by its room;
       the ``r`` slots left over after the equal share (fewer than the campaigns still with
       room) go one each to ``r`` of them, taken in ``campaign_id`` order starting at
       position ``tick * r`` (mod their number), wrapping around. With the worker's tick
       counter as ``tick`` and unchanged demand, the extra slots go round-robin
       over consecutive ticks, so no campaign of a level is starved of them;
    4. work-conserving: a free slot stays unused only when no campaign has room.

Calls per second
    A limit ``L`` calls per second allows at most ``N`` starts in any half-open span of
    ``P`` seconds: ``N = floor(L), P = 1`` for ``L >= 1`` (``2.5`` allows 2 per second),
    ``N = 1, P = 1/L`` for ``L < 1`` (``0.5``: one start per 2 s). ``P`` is rounded up to
    the microsecond, so rounding never loosens the limit. Equivalently: any ``N + 1``
    consecutive starts span at least ``P``. :class:`RateWindow` holds ``(N, P)``; its
    answers count every start passed in, including ones after ``at`` (another worker's clock
    may run slightly ahead).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Final

MIN_PRIORITY: Final = 1
MAX_PRIORITY: Final = 100

_US: Final = 1_000_000  # microseconds per second
_ONE_US: Final = timedelta(microseconds=1)


def workspace_capacity(concurrency_limit: int, concurrency_rate_pct: int) -> int:
    """Slots campaigns may use: ``floor(limit * rate / 100)``, but at least 1 if limit >= 1."""
    if concurrency_limit < 0:
        raise ValueError(f"concurrency limit must be >= 0, got {concurrency_limit}")
    if not 1 <= concurrency_rate_pct <= 100:
        raise ValueError(f"concurrency rate must be 1-100 %, got {concurrency_rate_pct}")
    if concurrency_limit == 0:
        return 0
    return max(1, concurrency_limit * concurrency_rate_pct // 100)


@dataclass(frozen=True, slots=True)
class CampaignDemand:
    """One campaign's state at the instant of the decision.

    ``limit`` 0 means only the workspace limit applies. ``in_flight`` may exceed ``limit``
    (the limit was lowered); the campaign then simply has no room.
    """

    campaign_id: str
    priority: int
    limit: int
    in_flight: int
    due: int

    def __post_init__(self) -> None:
        if not MIN_PRIORITY <= self.priority <= MAX_PRIORITY:
            raise ValueError(f"priority must be {MIN_PRIORITY}-{MAX_PRIORITY}, "
                             f"got {self.priority}")
        for name in ("limit", "in_flight", "due"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @property
    def room(self) -> int:
        """New dials this campaign could start if the workspace had slots to spare."""
        if self.limit == 0:
            return self.due
        return max(0, min(self.due, self.limit - self.in_flight))


def allocate(free_workspace_slots: int, campaigns: Sequence[CampaignDemand], *,
             tick: int = 0) -> dict[str, int]:
    """New dials each campaign may start now (every campaign is a key, possibly with 0).

    ``free_workspace_slots`` is capacity minus calls in flight; a negative value (capacity
    was lowered) counts as 0. ``tick`` (the worker's tick counter) rotates who gets the
    leftover slots of a priority level. See the module doc for the rules.
    """
    if len(campaigns) == 1:  # the common case: one campaign running in the workspace
        only = campaigns[0]
        return {only.campaign_id: min(max(0, free_workspace_slots), only.room)}
    ids = [c.campaign_id for c in campaigns]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate campaign_id in allocate()")
    grants = dict.fromkeys(ids, 0)
    free = max(0, free_workspace_slots)
    levels = sorted({c.priority for c in campaigns}, reverse=True)
    for level in levels:
        if free == 0:
            break
        group = [c for c in campaigns if c.priority == level]
        for campaign_id, granted in _share(free, group, tick).items():
            grants[campaign_id] = granted
            free -= granted
    return grants


def _share(free: int, group: Sequence[CampaignDemand], tick: int) -> dict[str, int]:
    """Water-fill ``free`` slots over one priority level (see the module doc, rule 3)."""
    pending = sorted(group, key=lambda c: (c.room, c.campaign_id))
    shares: dict[str, int] = {}
    while pending:
        level = free // len(pending)
        smallest = pending[0]
        if smallest.room <= level:  # capped by its own room: give it all, re-level the rest
            shares[smallest.campaign_id] = smallest.room
            free -= smallest.room
            pending.pop(0)
            continue
        # Everyone left has room > level, so room >= level + 1 for the extra slots.
        leftover = free - level * len(pending)
        ordered = sorted(c.campaign_id for c in pending)
        start = (tick * leftover) % len(ordered)
        lucky = {ordered[(start + i) % len(ordered)] for i in range(leftover)}
        for campaign_id in ordered:
            shares[campaign_id] = level + (campaign_id in lucky)
        break
    return shares


@dataclass(frozen=True, slots=True)
class RateWindow:
    """At most ``max_starts`` dial starts in any half-open span of ``period``."""

    max_starts: int
    period: timedelta

    def __post_init__(self) -> None:
        if self.max_starts < 1:
            raise ValueError(f"max_starts must be >= 1, got {self.max_starts}")
        if self.period < _ONE_US:
            raise ValueError(f"period must be at least 1 microsecond, got {self.period}")

    @classmethod
    def per_second(cls, limit_cps: float) -> RateWindow:
        """The window of a calls-per-second limit (see the module doc)."""
        if not math.isfinite(limit_cps) or limit_cps <= 0:
            raise ValueError(f"calls-per-second limit must be finite and > 0, got {limit_cps}")
        if limit_cps >= 1:
            return cls(math.floor(limit_cps), timedelta(seconds=1))
        period_us = math.ceil(Fraction(_US) / Fraction(limit_cps))
        return cls(1, timedelta(microseconds=period_us))

    def allowed_now(self, starts: Sequence[datetime], at: datetime) -> int:
        """How many more starts may happen at ``at`` (0 when the window is full)."""
        offsets = _offsets(starts, at)
        return max(0, self.max_starts - self._busiest(offsets, 0))

    def next_start_at(self, starts: Sequence[datetime], at: datetime) -> datetime:
        """The earliest instant >= ``at`` at which one more start is allowed."""
        offsets = _offsets(starts, at)
        period = self.period // _ONE_US
        candidates = [0, *sorted({s + period for s in offsets if s + period > 0})]
        for t in candidates:
            if self._busiest(offsets, t) < self.max_starts:
                return at + timedelta(microseconds=t)
        raise AssertionError("unreachable: the last candidate is after every start")

    def _busiest(self, offsets: Sequence[int], t: int) -> int:
        """Most starts in any window ``[a, a + period)`` that contains ``t`` (sorted input).

        The count only grows as ``a`` passes ``s - period + 1`` (``s`` enters), so the
        maximum is at the leftmost window or just where some start enters.
        """
        period = self.period // _ONE_US
        lefts = [t - period + 1] + [
            s - period + 1 for s in offsets if t - period + 1 < s - period + 1 <= t]
        return max(bisect_left(offsets, a + period) - bisect_left(offsets, a) for a in lefts)


class StartLog:
    """One number's dial starts during one decision at ``at``: :meth:`RateWindow.allowed_now`
    answered incrementally. When no start lies after ``at`` (the usual case: only another
    worker's clock running ahead puts one there) the busiest window containing ``at`` is
    ``(at - period, at]``, so a running count is exact; otherwise the full check runs."""

    def __init__(self, window: RateWindow, starts: Sequence[datetime], at: datetime) -> None:
        self.window = window
        self.at = at
        self.starts = list(starts)
        self._exact = any(s > at for s in starts)
        after = at - window.period
        self._recent = sum(1 for s in starts if s > after)
        self._next: datetime | None = None

    def room(self) -> int:
        """Starts still allowed at ``at``."""
        if self._exact:
            return self.window.allowed_now(self.starts, self.at)
        return max(0, self.window.max_starts - self._recent)

    def allows_one(self) -> bool:
        if self._exact:
            return self.window.allowed_now(self.starts, self.at) > 0
        return self._recent < self.window.max_starts

    def record(self) -> None:
        self.starts.append(self.at)
        self._recent += 1
        self._next = None

    def next_start_at(self) -> datetime:
        """Memoised until the next :meth:`record`: a full number is asked once per claim,
        not once per contact waiting for it."""
        if self._next is None:
            if self._exact:
                self._next = self.window.next_start_at(self.starts, self.at)
            else:
                # Every start is at or before ``at``: the window to beat is the one ending at
                # t, so t must pass the max_starts-th latest start by one period.
                latest = sorted(self.starts, reverse=True)[:self.window.max_starts]
                self._next = self.at if len(latest) < self.window.max_starts \
                    else max(self.at, latest[-1] + self.window.period)
        return self._next

    def kept(self) -> tuple[datetime, ...]:
        """The starts that can still limit a later start (the last period's)."""
        after = self.at - self.window.period
        return tuple(s for s in self.starts if s > after)


@lru_cache(maxsize=256)
def rate_window(limit_cps: float) -> RateWindow:
    """:meth:`RateWindow.per_second`, cached: a dialer asks for the same few limits often."""
    return RateWindow.per_second(limit_cps)


def _offsets(starts: Sequence[datetime], at: datetime) -> list[int]:
    """Starts as sorted microseconds relative to ``at``."""
    return sorted((s - at) // _ONE_US for s in starts)


def allowed_now(starts: Sequence[datetime], limit_cps: float, at: datetime) -> int:
    """How many more dial starts one caller number may make at ``at`` under ``limit_cps``."""
    return RateWindow.per_second(limit_cps).allowed_now(starts, at)


def next_start_at(starts: Sequence[datetime], limit_cps: float, at: datetime) -> datetime:
    """The earliest instant >= ``at`` at which the number may start one more dial."""
    return RateWindow.per_second(limit_cps).next_start_at(starts, at)


def staggered_starts(n: int, first: datetime, stagger_seconds: float) -> list[datetime]:
    """``n`` launch instants: ``first``, then one every ``stagger_seconds`` (to the µs)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not math.isfinite(stagger_seconds) or stagger_seconds < 0:
        raise ValueError(f"stagger must be finite and >= 0, got {stagger_seconds}")
    step_us = round(Fraction(stagger_seconds) * _US)
    return [first + timedelta(microseconds=i * step_us) for i in range(n)]
