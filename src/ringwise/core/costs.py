"""The cost estimate of a call: carriers bill answered time per started minute."""

from __future__ import annotations

import math
from typing import Final

from ringwise.core.call_states import CallState

DEFAULT_COST_PER_MINUTE: Final = 0.05  # USD: carrier minute plus speech and model minutes


def talk_seconds(state: CallState) -> float:
    """Answered time (answer to hang-up); 0 for a call never answered."""
    if state.answered_at is None or state.ended_at is None:
        return 0.0
    return max(0.0, (state.ended_at - state.answered_at).total_seconds())


def estimate_cost(state: CallState, per_minute: float) -> float:
    """``per_minute`` times the started minutes of answered time, to a hundredth of a cent.
    Unanswered calls cost nothing (carriers do not bill ringing)."""
    seconds = talk_seconds(state)
    if seconds <= 0 or per_minute <= 0:
        return 0.0
    return round(math.ceil(seconds / 60) * per_minute, 4)
