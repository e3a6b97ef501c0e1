"""Frequency caps: how many call attempts a number may receive in a rolling window.

Pure: the caller passes the attempt history and the instant ``at``. A cap ``(limit, window)``
allows one more attempt at ``t`` when fewer than ``limit`` earlier attempts lie in
``(t - window, t]``. Rolling windows are at least as strict as the "calendar day" periods some
rules speak of: any calendar period of that length is one of the rolling windows.

The earliest allowed instant is found exactly, without scanning: when a cap is full at ``t``,
no instant before ``h + window`` can work, where ``h`` is the oldest attempt that must leave
the window, and attempts only ever leave at such instants.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most ``limit`` call attempts in any rolling ``window``, per phone number, counted
    across all campaigns of the workspace."""

    key: str
    title: str
    source: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"cap {self.key}: limit must be at least 1")
        if self.window <= _ZERO:
            raise ValueError(f"cap {self.key}: window must be positive")


def next_allowed(caps: Sequence[FrequencyCap], history: Sequence[datetime],
                 at: datetime) -> datetime:
    """The earliest instant ``>= at`` (aware UTC) at which one more attempt keeps every cap.

    ``history``: start instants of earlier attempts to this number, aware, any order."""
    attempts = _sorted_utc(history)
    t = _utc(at, "at")
    while True:
        # Each cap names the earliest instant it could allow; none before the latest of them
        # can work, so jump there and check again (attempts after ``t`` may now count).
        later = max((release for cap in caps
                     if (release := _release(attempts, cap.limit, cap.window, t)) is not None),
                    default=None)
        if later is None:
            return t
        t = later


def blocking_cap(caps: Sequence[FrequencyCap], history: Sequence[datetime],
                 at: datetime) -> FrequencyCap | None:
    """The first cap that one more attempt at ``at`` would break, or None (for audit logs)."""
    attempts = _sorted_utc(history)
    t = _utc(at, "at")
    for cap in caps:
        if _release(attempts, cap.limit, cap.window, t) is not None:
            return cap
    return None


@dataclass(frozen=True, slots=True)
class RegulationF:
    """12 CFR 1006.14(b)(2), the debt-collection call-frequency presumption, per person and
    debt: at most ``max_calls`` attempts in any rolling ``window``, and none within
    ``quiet_after_conversation`` after a telephone conversation about the debt.

    The rule counts "seven consecutive days" (the conversation's date being day one); rolling
    7 x 24 h windows are at least as strict except across a DST change, where a local week is
    one hour longer: widen ``window`` / ``quiet_after_conversation`` to be exact there."""

    max_calls: int = 7
    window: timedelta = timedelta(days=7)
    quiet_after_conversation: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        if self.window <= _ZERO or self.quiet_after_conversation < _ZERO:
            raise ValueError("window must be positive and quiet_after_conversation >= 0")

    def next_allowed(self, attempts: Sequence[datetime], conversations: Sequence[datetime],
                     at: datetime) -> datetime:
        """The earliest instant ``>= at`` (aware UTC) at which one more attempt is allowed."""
        calls = _sorted_utc(attempts)
        talks = _sorted_utc(conversations)
        t = _utc(at, "at")
        while True:
            quiet_until = max((talk + self.quiet_after_conversation for talk in talks
                               if talk <= t < talk + self.quiet_after_conversation),
                              default=None)
            if quiet_until is not None:
                t = quiet_until
                continue
            release = _release(calls, self.max_calls, self.window, t)
            if release is None:
                return t
            t = release


# -- internals ------------------------------------------------------------------------------


def _release(attempts: list[datetime], limit: int, window: timedelta,
             t: datetime) -> datetime | None:
    """None when an attempt at ``t`` keeps the cap; else the first instant at which enough
    of the attempts in ``(t - window, t]`` have left the window (always ``> t``)."""
    newest = bisect_right(attempts, t)
    oldest = bisect_right(attempts, t - window)
    count = newest - oldest
    if count < limit:
        return None
    # ``count - limit + 1`` attempts must leave; the last of them to leave is this one.
    return attempts[oldest + count - limit] + window


def _utc(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _sorted_utc(values: Sequence[datetime]) -> list[datetime]:
    return sorted(_utc(value, "history instant") for value in values)


__all__ = ["FrequencyCap", "RegulationF", "blocking_cap", "next_allowed"]
