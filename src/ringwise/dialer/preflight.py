"""Preflight: before a campaign dials, how many of its contacts will be skipped, and why.

Pure: no I/O, no clock. Every verdict comes from the code the dialer itself runs when it
first schedules a contact (:meth:`ringwise.dialer.plans.CampaignPlan.schedule`, compiled by
:func:`ringwise.dialer.plans.compile_plan`), so a preflight cannot disagree with the dialer
about who has a calling window.

Reasons a contact is skipped (:data:`SKIP_REASONS`, in this order):

* ``invalid``: the row was rejected on input (a phone that does not parse, or another field
  that fails the API's validation); counted by whoever read the input (CSV import, bulk
  upsert), passed in as ``invalid``;
* ``duplicate``: the row's phone (E.164) already appeared in an earlier row; passed in;
* ``dnc``: the phone is on a do-not-call list: the one given (a scenario's ``dnc``), or the
  workspace's list or the campaign's suppression list (``Target.dnc``, read by the caller);
* ``no_consent``: a telemarketing campaign, and the contact has no recorded consent;
* ``registry_scrub_stale``: the workspace requires a national-registry scrub at most 31 days
  old, and the contact's is missing or older;
* ``unknown_timezone``: no candidate time zone (the dialer closes it as ``blocked``);
* ``no_window_before_end``: no calling window opens before the campaign's ``end_at`` (or
  within the window search horizon): the dialer expires it without a call.

The last three come from the dialer's own compliance gate (``dialer.compliance.check``);
frequency caps only defer a call, so they skip no one. Everyone else is ``callable``, and
``first_eligible_at`` is the earliest opening of their windows (launch stagger not applied).
``contacts == callable + sum(skipped.values())``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from ringwise.dialer import compliance
from ringwise.dialer.plans import CampaignPlan
from ringwise.dialer.store import Closed, Scheduled, Target

SkipReason = Literal["invalid", "duplicate", "dnc", "no_consent", "registry_scrub_stale",
                     "unknown_timezone", "no_window_before_end"]
SKIP_REASONS: Final[tuple[SkipReason, ...]] = (
    "invalid", "duplicate", "dnc", "no_consent", "registry_scrub_stale", "unknown_timezone",
    "no_window_before_end")
# The compliance gate's blocking reasons, as preflight reasons.
_BLOCKED: Final[dict[str, SkipReason]] = {
    "dnc-listed": "dnc", "no-consent": "no_consent",
    "registry-scrub-stale": "registry_scrub_stale",
}
# The dialer's Closed reasons, as preflight reasons.
_CLOSED: Final[dict[str, SkipReason]] = {
    "unknown-timezone": "unknown_timezone",
    "no-window-before-end": "no_window_before_end",
}
MAX_EXAMPLES: Final = 10


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input row that was not loaded: where it was (``contacts[3]``, ``file.csv row 7``),
    the field blamed and why."""

    source: str
    field: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the dialer will do with one contact at its first scheduling: call it from
    ``first_at`` (``reason`` None), or skip it. ``zones`` are its resolved candidate zones
    (empty when unknown)."""

    target: Target
    reason: SkipReason | None
    zones: tuple[str, ...]
    first_at: datetime | None
    window_end: datetime | None = None  # the end of the window opening at ``first_at``


@dataclass(frozen=True, slots=True)
class Preflight:
    at: datetime
    contacts: int  # considered: callable + every skipped
    callable: int
    skipped: dict[SkipReason, int]  # every reason of SKIP_REASONS, 0 included
    first_eligible_at: datetime | None
    rejections: tuple[Rejection, ...] = field(default=())  # examples, at most MAX_EXAMPLES

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, object]:
        """The JSON form (instants as UTC ISO-8601 with ``Z``)."""
        return {
            "at": iso(self.at),
            "contacts": self.contacts,
            "callable": self.callable,
            "skipped": dict(self.skipped),
            "skipped_total": self.skipped_total,
            "first_eligible_at": iso(self.first_eligible_at),
            "rejections": [{"source": r.source, "field": r.field, "reason": r.reason}
                           for r in self.rejections],
        }


def check(plan: CampaignPlan, target: Target, at: datetime,
          dnc: Collection[str] = ()) -> Verdict:
    """The verdict on one contact if the campaign launched at ``at``."""
    if target.phone in dnc:
        return Verdict(target, "dnc", (), None)
    gate = compliance.check(target, plan.floor_of(target), plan.profile, at,
                            telemarketing=plan.telemarketing, regulation_f=plan.regulation_f)
    if gate.decision == "block":
        return Verdict(target, _BLOCKED.get(gate.reason or "", "dnc"), (), None)
    change = plan.schedule(target, at)
    if isinstance(change, Scheduled):
        return Verdict(target, None, change.zones, change.due_at, change.window_end)
    assert isinstance(change, Closed)
    reason = _CLOSED.get(change.reason)
    if reason is None:  # pragma: no cover - plans.schedule closes for these two reasons only
        raise ValueError(f"unexpected schedule closure {change.reason!r}")
    zones = () if reason == "unknown_timezone" else plan.zones_of(target)
    return Verdict(target, reason, zones, None)


def summarize(verdicts: Iterable[Verdict], at: datetime, *, invalid: int = 0,
              duplicate: int = 0, rejections: Sequence[Rejection] = ()) -> Preflight:
    """Count ``verdicts`` (plus the rows already rejected or merged on input)."""
    if invalid < 0 or duplicate < 0:
        raise ValueError("invalid and duplicate counts must be >= 0")
    skipped: dict[SkipReason, int] = dict.fromkeys(SKIP_REASONS, 0)
    skipped["invalid"] = invalid
    skipped["duplicate"] = duplicate
    callable_ = 0
    first: datetime | None = None
    for verdict in verdicts:
        if verdict.reason is not None:
            skipped[verdict.reason] += 1
            continue
        callable_ += 1
        if verdict.first_at is not None and (first is None or verdict.first_at < first):
            first = verdict.first_at
    return Preflight(at=at, contacts=callable_ + sum(skipped.values()), callable=callable_,
                     skipped=skipped, first_eligible_at=first,
                     rejections=tuple(rejections[:MAX_EXAMPLES]))


def preflight(plan: CampaignPlan, targets: Iterable[Target], at: datetime, *,
              dnc: Collection[str] = (), invalid: int = 0, duplicate: int = 0,
              rejections: Sequence[Rejection] = ()) -> Preflight:
    """How many of ``targets`` (a campaign's pending contacts) the dialer would skip if the
    campaign launched at ``at``, and why; ``invalid`` / ``duplicate`` count input rows that
    never became contacts. ``dnc``: E.164 numbers not to call."""
    blocked = frozenset(dnc)
    return summarize((check(plan, t, at, blocked) for t in targets), at, invalid=invalid,
                     duplicate=duplicate, rejections=rejections)


def iso(instant: datetime | None) -> str | None:
    """UTC ISO-8601 with millisecond precision and a ``Z``: ``2026-03-02T15:00:00.000Z``."""
    if instant is None:
        return None
    if instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got {instant!r}")
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"

