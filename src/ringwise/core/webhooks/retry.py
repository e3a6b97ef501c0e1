"""When to retry a webhook delivery, and what an attempt's result means (Standard Webhooks 1.0).

Pure code: no clock and no randomness. Callers pass the instant of the failure, the jitter
fraction (``jitter_for(delivery_id)`` gives a stable one) and, for HTTP dates, ``now``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

Outcome = Literal["delivered", "retry", "gone", "rejected"]

# Attempt n (0-based) is made RETRY_DELAYS[n] after attempt n-1 failed; the first one at once.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS)
MAX_JITTER = 0.1
MAX_RETRY_AFTER = timedelta(hours=24)
# Retry-After is only honoured where it means "come back later"; on a 3xx it means something else.
RETRY_AFTER_STATUSES = frozenset({429, 503})

_SECONDS_RE = re.compile(r"[0-9]+")
_JITTER_STEPS = 1_000_000


def jitter_for(key: str) -> float:
    """A stable fraction in [0, MAX_JITTER) derived from ``key`` (e.g. the delivery id).

    Stable so that a re-computed schedule gives the same instants; spread so that many
    deliveries failing together (an endpoint outage) do not all come back in the same second.
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    step = int.from_bytes(digest[:8], "big") % _JITTER_STEPS
    # Integer steps over a power of ten: the result can never round up to MAX_JITTER itself.
    return step * MAX_JITTER / _JITTER_STEPS


def next_attempt_at(
    attempts_made: int,
    failed_at: datetime,
    *,
    jitter: float = 0.0,
    retry_after: timedelta | None = None,
) -> datetime | None:
    """When to make the next attempt after ``attempts_made`` attempts, or None to give up.

    ``jitter`` lengthens the delay by that fraction (never shortens it). ``retry_after`` (from
    a 429/503) can postpone the attempt but never bring it forward of the schedule.
    """
    if isinstance(attempts_made, bool) or attempts_made < 0:
        raise ValueError("attempts_made must be a non-negative integer.")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be a fraction in [0, 1).")
    if failed_at.tzinfo is None:
        raise ValueError("failed_at must be timezone-aware.")
    if attempts_made >= MAX_ATTEMPTS:
        return None
    due = failed_at + RETRY_DELAYS[attempts_made] * (1.0 + jitter)
    if retry_after is not None and retry_after > timedelta(0):
        due = max(due, failed_at + min(retry_after, MAX_RETRY_AFTER))
    return due


def classify(status_code: int | None, error: str | None, *, refused: bool = False) -> Outcome:
    """What one attempt's result means for the delivery.

    * ``refused`` (the SSRF guard refused the destination, nothing was sent): "rejected",
      never retried: the same URL would be refused again.
    * 2xx: "delivered".
    * 410 Gone: "gone"; the receiver asks us to stop, so the endpoint must be disabled.
    * Everything else retries: no response (network error, timeout; ``error`` says which),
      408/409/425/429/5xx, and also 3xx and the other 4xx. Standard Webhooks receivers are often
      misconfigured for a while (a deploy returning 404, an expired auth proxy returning 401,
      a redirect to a login page); the schedule gives up after about 3 days anyway, so retrying
      costs little while dropping loses the event for good.

    When a status code arrived it decides, even if reading the body failed afterwards: the
    receiver has answered.
    """
    if refused:
        return "rejected"
    if status_code is None:
        return "retry"
    if 200 <= status_code <= 299:
        return "delivered"
    if status_code == 410:
        return "gone"
    return "retry"


def retry_after(headers: Mapping[str, str], *, now: datetime) -> timedelta | None:
    """The Retry-After delay (delay-seconds or HTTP-date), capped at 24 h; None if absent/bad.

    ``now`` converts an HTTP-date into a delay; a date in the past means "retry now" (0).
    Header names are matched case-insensitively, so a plain dict works as well as
    ``httpx.Headers``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware.")
    values = [value for name, value in headers.items() if name.lower() == "retry-after"]
    if len(values) != 1:
        return None  # absent, or repeated (ambiguous): the schedule alone decides
    text = values[0].strip()
    if _SECONDS_RE.fullmatch(text):
        if len(text) > 9:  # more than ~31 years; also keeps int() away from huge strings
            return MAX_RETRY_AFTER
        return min(timedelta(seconds=int(text)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are always GMT
    delay = when - now
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)
