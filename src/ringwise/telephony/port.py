"""The telephony provider port: what the dialer asks of a carrier, and what it gets back.

A provider places calls and reports what happened to them as :class:`ProviderEvent` s in
Twilio's ``CallStatus`` vocabulary (``core.call_states`` turns those into our call states).
The port is pull-shaped: the worker asks for the events due up to its clock's ``now`` on every
tick (a real adapter reads its webhook inbox; the simulated carrier computes them), so one
worker loop serves the live service, the demo and the simulator.

Calls are irreversible, so placing is idempotent on our ``call_id``: placing the same call
twice returns the same provider call and never rings the callee twice. After a worker crash a
call left ``dialing`` without a provider id is looked up (:meth:`TelephonyProvider.lookup`),
never blindly redialed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from ringwise.core.call_states import (
    TERMINAL_PROVIDER_STATUSES,
    AnsweredBy,
    EndedReason,
    ProviderEvent,
    ProviderStatus,
)

Speaker = Literal["assistant", "callee"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _require_aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DialRequest:
    """One attempt to call one contact.

    ``call_id`` is our id of the attempt and the idempotency key. ``callee_zones`` are the
    callee's candidate time zones (``core.phones.describe``), ``placed_at`` the instant the
    dialer sends the request (aware). ``opening_message`` and ``voicemail_message`` are
    templates (``core.templates``) filled with the contact variables in ``context``.
    """

    call_id: str
    from_number: str
    to_number: str
    callee_zones: tuple[str, ...] = ()
    placed_at: datetime
    machine_detection: bool = True
    machine_detection_timeout_s: int = 30
    opening_message: str = ""
    voicemail_message: str | None = None
    context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False,
                                         compare=False)
    # Short-term memory for the agent: summaries of the contact's last calls, newest first.
    previous_summaries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.call_id:
            raise ValueError("call_id must not be empty")
        _require_aware(self.placed_at, "placed_at")
        if self.machine_detection_timeout_s <= 0:
            raise ValueError("machine_detection_timeout_s must be > 0")


@dataclass(frozen=True, slots=True)
class Accepted:
    """The provider took the call; ``provider_call_id`` is its id (a Twilio Call SID)."""

    provider_call_id: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The provider refused the request; no call exists. ``retryable``: the same request may
    succeed later (a rate limit), as opposed to never (a malformed number)."""

    reason: EndedReason
    retryable: bool


PlaceResult = Accepted | Rejected


class CallEvent(NamedTuple):
    """A provider event of one of our calls. A named tuple, not a dataclass: the simulator
    makes millions of them and a tuple is built in half the time."""

    call_id: str
    provider_call_id: str
    event: ProviderEvent

    @property
    def at(self) -> datetime | None:
        return self.event.at


@dataclass(frozen=True, slots=True)
class ProviderCallRecord:
    """What the provider knows of a call now (Twilio's ``GET /Calls/{Sid}``): its latest
    status and the instant of it, and the facts learned so far."""

    call_id: str
    provider_call_id: str
    from_number: str
    to_number: str
    placed_at: datetime
    status: ProviderStatus
    status_at: datetime
    answered_by: AnsweredBy | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ended_reason: EndedReason | None = None

    @property
    def is_ended(self) -> bool:
        return self.status in TERMINAL_PROVIDER_STATUSES

    def event(self) -> ProviderEvent:
        """The record as one provider event, for reconciliation through ``apply_event``
        (which walks the skipped statuses)."""
        return ProviderEvent(self.status, self.status_at, self.answered_by,
                             self.ended_reason if self.is_ended else None)


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance; offsets in seconds from the moment the call was answered."""

    speaker: Speaker
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """The conversation of an answered call; ``duration_s`` is the answered (talk) time."""

    provider_call_id: str
    turns: tuple[Turn, ...]
    duration_s: float

    @property
    def text(self) -> str:
        """``speaker: text`` lines, the shape an analyzer prompt wants."""
        return "\n".join(f"{turn.speaker}: {turn.text}" for turn in self.turns)


class TelephonyProvider(Protocol):
    """A carrier: places calls and reports their events. Implementations: the simulated
    carrier (``telephony.simulated``), Twilio, ..."""

    def place_call(self, request: DialRequest) -> PlaceResult:
        """Place a call; idempotent on ``request.call_id`` (a repeat returns the first
        answer's call and creates none)."""
        ...

    def events_due(self, until: datetime) -> list[CallEvent]:
        """The events not returned yet that happened at or before ``until``, in time order;
        each event is returned once."""
        ...

    def lookup(self, call_id: str) -> ProviderCallRecord | None:
        """What the provider knows of our call ``call_id``; None if it never created it."""
        ...

    def conversation(self, provider_call_id: str) -> Transcript | None:
        """The turns of an answered call; None for unknown or unanswered calls."""
        ...


@runtime_checkable
class SupportsHangup(Protocol):
    """A provider that can end a call on our request (Twilio: update the call's status)."""

    def hangup(self, call_id: str, at: datetime) -> bool:
        """End the call at ``at`` if it is still going; True if that changed anything."""
        ...
