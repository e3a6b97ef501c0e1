"""A campaign's lifecycle: its states and the named transitions between them.

Pure: the caller says what time it is and when the schedule starts.

Transitions (action: from -> to)::

    start:    draft              -> scheduled | running
    begin:    scheduled          -> running      (the dialer, when the start is reached)
    pause:    scheduled, running -> paused
    resume:   paused             -> scheduled | running
    complete: running            -> completed    (the dialer, when every contact is done)
    cancel:   draft, scheduled, running, paused -> canceled

``start`` goes to *scheduled* when the schedule's first possible instant is still in the
future, else straight to *running*; ``resume`` does the same from *paused*. ``begin`` and
``complete`` are the system's transitions (the dialer's), not API actions. *completed* and
*canceled* are terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Final, Literal, get_args

from ringwise.errors import InvalidTransition

CampaignStatus = Literal["draft", "scheduled", "running", "paused", "completed", "canceled"]
Action = Literal["start", "begin", "pause", "resume", "cancel", "complete"]

STATUSES: Final[tuple[CampaignStatus, ...]] = get_args(CampaignStatus)
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
TERMINAL: Final[frozenset[CampaignStatus]] = frozenset({"completed", "canceled"})
# Settings may change only while nothing is being dialed and nothing is about to be.
EDITABLE: Final[frozenset[CampaignStatus]] = frozenset({"draft", "paused"})
# Contacts may be added to any campaign that can still call them.
ACCEPTS_CONTACTS: Final[frozenset[CampaignStatus]] = frozenset(
    {"draft", "scheduled", "running", "paused"})
# API actions (POST /v1/campaigns/{id}/<action>); begin and complete belong to the dialer.
API_ACTIONS: Final[tuple[Action, ...]] = ("start", "pause", "resume", "cancel")

# The states each action may leave from. start and resume pick their target from the clock.
_FROM: Final[dict[Action, frozenset[CampaignStatus]]] = {
    "start": frozenset({"draft"}),
    "begin": frozenset({"scheduled"}),
    "pause": frozenset({"scheduled", "running"}),
    "resume": frozenset({"paused"}),
    "cancel": frozenset({"draft", "scheduled", "running", "paused"}),
    "complete": frozenset({"running"}),
}
_FIXED_TARGET: Final[dict[Action, CampaignStatus]] = {
    "begin": "running", "pause": "paused", "cancel": "canceled", "complete": "completed",
}

# The earliest offset any place on Earth has (Kiribati, UTC+14): a naive per-contact-local
# start instant cannot come earlier than this reading of it.
EARLIEST_OFFSET: Final = timezone(timedelta(hours=14))


def allowed_actions(status: str, *, api_only: bool = False) -> tuple[Action, ...]:
    """The actions that are legal from ``status``, in a stable order (``api_only``: those a
    client may request, without the dialer's begin and complete)."""
    actions = API_ACTIONS if api_only else ACTIONS
    return tuple(a for a in actions if status in _FROM[a])


def transition(status: str, action: str, *, starts_in_future: bool = False) -> CampaignStatus:
    """The state ``action`` leads to from ``status``, or InvalidTransition naming ``status``.

    ``starts_in_future`` decides where start and resume go: scheduled if true, else running.
    """
    if action not in _FROM:
        raise InvalidTransition(f"'{action}' is not a campaign action; use one of "
                                f"{', '.join(API_ACTIONS)}",
                                details={"status": status, "action": action})
    act: Action = action
    if status not in _FROM[act]:
        legal = allowed_actions(status, api_only=act in API_ACTIONS)
        hint = (f"; from '{status}' you can {', '.join(legal)}" if legal
                else f"; '{status}' is final")
        raise InvalidTransition(
            f"cannot {act} a campaign that is '{status}'{hint}",
            field="status",
            details={"status": status, "action": act, "allowed_actions": list(legal)},
        )
    if act in ("start", "resume"):
        return "scheduled" if starts_in_future else "running"
    return _FIXED_TARGET[act]


def earliest_start(*, start_at: datetime | None = None, local_start_at: datetime | None = None,
                   run_dates: Sequence[date] = ()) -> datetime | None:
    """The first instant a schedule could place any call, or None if it may start at once.

    ``local_start_at`` is naive wall time in each contact's own zone, so the earliest it can
    occur anywhere is that wall time at UTC+14; a run can begin no earlier than 00:00 of its
    first date at UTC+14. The latest of the bounds given wins (they all must hold).
    """
    bounds: list[datetime] = []
    if start_at is not None:
        if start_at.tzinfo is None:
            raise ValueError("start_at must be timezone-aware")
        bounds.append(start_at.astimezone(UTC))
    if local_start_at is not None:
        bounds.append(local_start_at.replace(tzinfo=EARLIEST_OFFSET).astimezone(UTC))
    if run_dates:
        first = min(run_dates)
        bounds.append(datetime.combine(first, time(0, 0), EARLIEST_OFFSET).astimezone(UTC))
    return max(bounds) if bounds else None


def schedule_start(schedule: Mapping[str, Any]) -> datetime | None:
    """:func:`earliest_start` of a stored ``schedule`` document (ISO strings; messaging-only
    runs count too: sending is activity)."""
    start_at, local = schedule.get("start_at"), schedule.get("local_start_at")
    runs = schedule.get("runs") or ()
    return earliest_start(
        start_at=datetime.fromisoformat(start_at) if start_at else None,
        local_start_at=datetime.fromisoformat(local) if local else None,
        run_dates=[date.fromisoformat(run["start_date"]) for run in runs])


def starts_in_future(now: datetime, first_instant: datetime | None) -> bool:
    return first_instant is not None and first_instant > now
