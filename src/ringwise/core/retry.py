"""Retry policy: which call outcomes are retried, after how long, and how many attempts in all.

Pure: no I/O, no clock. Delays come either as a list of minutes (``[30, 120]``) or as the
string form some APIs use (``"[30,120]"``, also ``"30,120"``); :func:`parse_delays` turns
both into a tuple of ints and says precisely what is wrong otherwise.

Semantics (native): ``delays_minutes[i]`` is the wait before attempt ``i + 2``, measured from
the end of the previous attempt (``relative_to="previous_attempt"``) or from the first attempt
(``"first_attempt"``, where the delays must be strictly increasing). When ``max_attempts``
exceeds ``len(delays) + 1`` the last delay repeats. Every attempt, of any outcome, counts
toward ``max_attempts``: one shared cap per contact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

RetryOutcome = Literal["no-answer", "busy", "voicemail", "failed"]
DelayBasis = Literal["previous_attempt", "first_attempt"]

RETRYABLE_OUTCOMES: Final[tuple[RetryOutcome, ...]] = get_args(RetryOutcome)
MIN_DELAY_MINUTES: Final = 1
MAX_DELAY_MINUTES: Final = 43_200  # 30 days
MAX_ATTEMPTS: Final = 20
MAX_DELAYS: Final = MAX_ATTEMPTS - 1
DEFAULT_DELAYS: Final[tuple[int, ...]] = (60,)
_BARE_LIST: Final = re.compile(r"[0-9.\s]+(,[0-9.\s]+)*")


class RetryDelayError(ValueError):
    """A retry delay list is malformed or out of range. ``index`` is the offending entry."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


def _parse_text(text: str) -> list[object]:
    stripped = text.strip()
    if not stripped:
        return []
    if _BARE_LIST.fullmatch(stripped):
        stripped = f"[{stripped}]"  # "30,120" is the same as "[30,120]"
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        raise RetryDelayError(
            f"'{text}' is not a list of minutes; write it like \"[30,120]\"") from None
    if not isinstance(value, list):
        raise RetryDelayError(f"'{text}' is not a list of minutes; write it like \"[30,120]\"")
    return value


def parse_delays(value: str | Sequence[object]) -> tuple[int, ...]:
    """``"[30,120]"``, ``"30, 120"`` or ``[30, 120]`` -> ``(30, 120)``.

    Each delay is a whole number of minutes in 1..43200 (30 days); at most 19 delays (20
    attempts). Raises :class:`RetryDelayError` naming the bad entry.
    """
    items: Sequence[object] = _parse_text(value) if isinstance(value, str) else value
    if len(items) > MAX_DELAYS:
        raise RetryDelayError(f"at most {MAX_DELAYS} retry delays are allowed "
                              f"({MAX_ATTEMPTS} attempts), got {len(items)}")
    delays: list[int] = []
    for index, item in enumerate(items):
        if isinstance(item, bool):
            raise RetryDelayError(f"delay #{index + 1} is not a number of minutes", index)
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item.strip())
        if not isinstance(item, int):
            raise RetryDelayError(
                f"delay #{index + 1} ({item!r}) is not a whole number of minutes", index)
        if not MIN_DELAY_MINUTES <= item <= MAX_DELAY_MINUTES:
            raise RetryDelayError(
                f"delay #{index + 1} is {item} minutes; each delay must be between "
                f"{MIN_DELAY_MINUTES} and {MAX_DELAY_MINUTES} minutes (30 days)", index)
        delays.append(item)
    return tuple(delays)


def check_increasing(delays: Sequence[int]) -> None:
    """Offsets from the first attempt must grow, or two retries would coincide or go back."""
    for index in range(1, len(delays)):
        if delays[index] <= delays[index - 1]:
            raise RetryDelayError(
                f"delay #{index + 1} ({delays[index]}) must be greater than delay #{index} "
                f"({delays[index - 1]}) when delays are measured from the first attempt", index)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    auto_retry: bool = True
    delays_minutes: tuple[int, ...] = DEFAULT_DELAYS
    retry_on: frozenset[str] = frozenset(RETRYABLE_OUTCOMES)
    max_attempts: int = len(DEFAULT_DELAYS) + 1
    relative_to: DelayBasis = "previous_attempt"

    def delay_before(self, attempt: int) -> timedelta:
        """Wait before attempt number ``attempt`` (2 = first retry); the last delay repeats."""
        if attempt < 2 or not self.delays_minutes:
            raise ValueError("only retries (attempt >= 2) of a policy with delays have a delay")
        index = min(attempt - 2, len(self.delays_minutes) - 1)
        if self.relative_to == "first_attempt" and attempt - 2 >= len(self.delays_minutes):
            # Past the list, keep the last gap between offsets (or the last offset if only one).
            last = self.delays_minutes[-1]
            gap = last - (self.delays_minutes[-2] if len(self.delays_minutes) > 1 else 0)
            return timedelta(minutes=last + gap * (attempt - 1 - len(self.delays_minutes)))
        return timedelta(minutes=self.delays_minutes[index])

    def next_attempt_at(self, outcome: str, attempts_made: int, *, last_ended_at: datetime,
                        first_attempt_at: datetime | None = None) -> datetime | None:
        """When to try again after ``attempts_made`` attempts, the last ending with ``outcome``;
        None when the contact is done (answered, not a retried outcome, or out of attempts)."""
        if (not self.auto_retry or outcome not in self.retry_on
                or attempts_made >= self.max_attempts or not self.delays_minutes):
            return None
        delay = self.delay_before(attempts_made + 1)
        if self.relative_to == "first_attempt":
            base = first_attempt_at or last_ended_at
            return max(base + delay, last_ended_at)
        return last_ended_at + delay


def policy_from_dict(data: dict[str, object] | None) -> RetryPolicy:
    """A stored campaign ``retry`` section -> RetryPolicy (missing keys take the defaults)."""
    if not data:
        return RetryPolicy()
    delays = parse_delays(data.get("delays_minutes", list(DEFAULT_DELAYS)))  # type: ignore[arg-type]
    retry_on = data.get("retry_on")
    max_attempts = data.get("max_attempts")
    auto = bool(data.get("auto_retry", True))
    basis = data.get("relative_to", "previous_attempt")
    return RetryPolicy(
        auto_retry=auto,
        delays_minutes=delays,
        retry_on=frozenset(retry_on if isinstance(retry_on, list) else RETRYABLE_OUTCOMES),
        max_attempts=(max_attempts if isinstance(max_attempts, int) else
                      (len(delays) + 1 if auto else 1)),
        relative_to="first_attempt" if basis == "first_attempt" else "previous_attempt",
    )
