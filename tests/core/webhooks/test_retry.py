from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringwise.core.webhooks.retry import (
    MAX_JITTER,
    MAX_RETRY_AFTER,
    RETRY_AFTER_STATUSES,
    RETRY_DELAYS,
    classify,
    jitter_for,
    next_attempt_at,
    retry_after,
)

FAILED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_schedule_is_the_standard_webhooks_one() -> None:
    assert [d.total_seconds() for d in RETRY_DELAYS] == [
        0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600,
    ]
    # "About 3 days": 75 h 35 min 5 s from the first attempt to the last.
    assert sum(RETRY_DELAYS, timedelta(0)) == timedelta(days=3, hours=3, minutes=35, seconds=5)


@pytest.mark.parametrize(
    ("attempts_made", "delay"),
    [
        (0, timedelta(0)),
        (1, timedelta(seconds=5)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=30)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=5)),
        (6, timedelta(hours=10)),
        (7, timedelta(hours=14)),
        (8, timedelta(hours=20)),
        (9, timedelta(hours=24)),
    ],
)
def test_next_attempt_follows_the_schedule(attempts_made: int, delay: timedelta) -> None:
    assert next_attempt_at(attempts_made, FAILED) == FAILED + delay


@pytest.mark.parametrize("attempts_made", [10, 11, 100])
def test_gives_up_after_the_last_attempt(attempts_made: int) -> None:
    assert next_attempt_at(attempts_made, FAILED) is None


def test_jitter_only_lengthens_the_delay_by_that_fraction() -> None:
    assert next_attempt_at(4, FAILED, jitter=0.05) == FAILED + timedelta(hours=2, minutes=6)
    assert next_attempt_at(9, FAILED, jitter=0.0999) == FAILED + timedelta(hours=24) * 1.0999


@pytest.mark.parametrize("jitter", [-0.01, 1.0])
def test_jitter_out_of_range_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        next_attempt_at(1, FAILED, jitter=jitter)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="attempts_made"):
        next_attempt_at(-1, FAILED)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_attempt_at(1, datetime(2026, 3, 2, 15, 0))


def test_retry_after_postpones_but_never_brings_forward() -> None:
    # 30 min scheduled; the receiver asks for 1 h: wait the hour.
    assert next_attempt_at(3, FAILED, retry_after=timedelta(hours=1)) == FAILED + timedelta(hours=1)
    # 30 min scheduled; the receiver asks for 10 s: the schedule wins.
    later = next_attempt_at(3, FAILED, retry_after=timedelta(seconds=10))
    assert later == FAILED + timedelta(minutes=30)
    # Capped at 24 h even when a caller passes more.
    capped = next_attempt_at(1, FAILED, retry_after=timedelta(days=5))
    assert capped == FAILED + MAX_RETRY_AFTER
    # Giving up is not undone by a Retry-After.
    assert next_attempt_at(10, FAILED, retry_after=timedelta(hours=1)) is None


def test_jitter_for_is_deterministic_and_in_range() -> None:
    keys = [f"msg_{i}" for i in range(2000)]
    values = [jitter_for(key) for key in keys]
    assert values == [jitter_for(key) for key in keys]
    assert all(0.0 <= v < MAX_JITTER for v in values)
    # Spread, not constant: deliveries failing together must not come back together.
    assert len(set(values)) > 1900
    assert min(values) < 0.01 and max(values) > 0.09
    assert jitter_for("msg_a") != jitter_for("msg_b")


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, None, "delivered"),
        (201, None, "delivered"),
        (204, None, "delivered"),
        (299, None, "delivered"),
        (200, "ReadError: connection reset", "delivered"),  # the status decides
        (410, None, "gone"),
        (408, None, "retry"),
        (409, None, "retry"),
        (425, None, "retry"),
        (429, None, "retry"),
        (500, None, "retry"),
        (502, None, "retry"),
        (503, None, "retry"),
        (504, None, "retry"),
        (400, None, "retry"),
        (401, None, "retry"),
        (403, None, "retry"),
        (404, None, "retry"),
        (301, None, "retry"),
        (302, None, "retry"),
        (304, None, "retry"),
        (None, "ConnectError: [Errno 111] Connection refused", "retry"),
        (None, "ReadTimeout: timed out", "retry"),
        (None, None, "retry"),
    ],
)
def test_classify(status: int | None, error: str | None, outcome: str) -> None:
    assert classify(status, error) == outcome


def test_classify_refused_destination_is_rejected() -> None:
    assert classify(None, "Host 10.0.0.1 is a private network address.", refused=True) == (
        "rejected"
    )


NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", timedelta(0)),
        ("120", timedelta(seconds=120)),
        (" 7 ", timedelta(seconds=7)),
        ("86400", timedelta(hours=24)),
        ("86401", MAX_RETRY_AFTER),
        ("999999999999999999999999", MAX_RETRY_AFTER),
        ("Mon, 02 Mar 2026 15:02:00 GMT", timedelta(minutes=2)),
        ("Monday, 02-Mar-26 15:02:00 GMT", timedelta(minutes=2)),  # RFC 850
        ("Mon Mar  2 15:02:00 2026", timedelta(minutes=2)),  # asctime
        ("Mon, 02 Mar 2026 14:00:00 GMT", timedelta(0)),  # already past: retry now
        ("Fri, 06 Mar 2026 15:00:00 GMT", MAX_RETRY_AFTER),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
        ("Mon, 32 Mar 2026 15:02:00 GMT", None),
    ],
)
def test_retry_after_parsing(value: str, expected: timedelta | None) -> None:
    assert retry_after({"Retry-After": value}, now=NOW) == expected


def test_retry_after_header_name_is_case_insensitive_and_optional() -> None:
    assert retry_after({"retry-after": "30"}, now=NOW) == timedelta(seconds=30)
    assert retry_after({"RETRY-AFTER": "30"}, now=NOW) == timedelta(seconds=30)
    assert retry_after({"Content-Type": "text/plain"}, now=NOW) is None
    assert retry_after({}, now=NOW) is None
    # Two different values: ambiguous, so the schedule alone decides.
    assert retry_after({"Retry-After": "5", "retry-after": "600"}, now=NOW) is None


def test_retry_after_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        retry_after({"Retry-After": "5"}, now=datetime(2026, 3, 2, 15, 0))


def test_retry_after_only_counts_for_429_and_503() -> None:
    assert frozenset({429, 503}) == RETRY_AFTER_STATUSES
