"""Scheduled messages of a campaign's runs: when each one falls due for a contact.

A run's ``messages[]`` entry says "send this on ``send_date`` at ``send_time``", in each
contact's own local time, like the calling windows. This module turns an entry into the
instant it may be sent to one contact (pure; the results worker sends it):

* not before ``send_time`` on ``send_date`` in *every* zone the contact may be in (a number
  that maps to several zones gets it when the latest of them reaches that time);
* a text message also stays inside the contact's legal floor (the calling-hour laws cover
  text messages too: 47 CFR 64.1200(c)(1) quiet hours apply to telephone solicitations by
  text), so a 07:00 text waits for 08:00;
* no later than the end of the run's last date: a message that cannot be sent within its run
  expires instead of arriving days late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

from ringwise.core.campaign_lifecycle import EARLIEST_OFFSET
from ringwise.core.hours import parse_hhmm
from ringwise.core.windows import CallingRules, FloorFn, Run, next_window

Channel = Literal["sms", "email"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)
MessageStatus = Literal["scheduled", "sending", "sent", "failed", "blocked", "skipped",
                        "expired", "canceled"]
MESSAGE_STATUSES: Final[tuple[MessageStatus, ...]] = get_args(MessageStatus)


@dataclass(frozen=True, slots=True)
class MessageSlot:
    """One ``schedule.runs[r].messages[m]`` entry, with the last date of its run."""

    run_index: int
    message_index: int
    send_date: date
    send_time: time
    last_date: date
    channel: Channel
    subject: str | None
    body: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.run_index, self.message_index)

    @property
    def local_send_at(self) -> datetime:
        """Naive: the wall-clock instant meant in each contact's zone."""
        return datetime.combine(self.send_date, self.send_time)

    def earliest(self) -> datetime:
        """The first instant it can be due anywhere (UTC+14 reaches the local time first)."""
        return self.local_send_at.replace(tzinfo=EARLIEST_OFFSET)

    def rules(self, floor: FloorFn | None) -> CallingRules:
        """The instants it may be sent in: from the send time to the end of the run's last
        date, within ``floor`` (a text's legal floor; None for e-mail)."""
        return CallingRules(local_start=self.local_send_at,
                            runs=(Run(self.send_date, self.last_date),), floor=floor)


def message_slots(schedule: Mapping[str, Any]) -> tuple[MessageSlot, ...]:
    """Every message of a stored (validated) schedule, in run and message order."""
    slots: list[MessageSlot] = []
    for run_index, run in enumerate(schedule.get("runs") or ()):
        last = date.fromisoformat(run["end_date"])
        for message_index, message in enumerate(run.get("messages") or ()):
            slots.append(MessageSlot(
                run_index=run_index, message_index=message_index,
                send_date=date.fromisoformat(message["send_date"]),
                send_time=parse_hhmm(message["send_time"]), last_date=last,
                channel=message.get("channel", "sms"), subject=message.get("subject"),
                body=message["body"]))
    return tuple(slots)


def send_instant(slot: MessageSlot, zones: Sequence[ZoneInfo | str], at: datetime,
                 floor: FloorFn | None) -> datetime | None:
    """The first instant >= ``at`` at which ``slot`` may be sent to a contact in ``zones``;
    None when there is none left in its run (or no zone is known)."""
    if not zones:
        return None
    window = next_window(_rules(slot, floor), zones, at)
    return None if window is None else window.start


@lru_cache(maxsize=4096)
def _rules(slot: MessageSlot, floor: FloorFn | None) -> CallingRules:
    # One rule set per (message, floor): the window code caches its work by rule set, and a
    # campaign's contacts share a handful of floors.
    return slot.rules(floor)
