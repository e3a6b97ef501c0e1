"""The dialer's store port: what the dialer reads and writes, one transaction per method.

The dialer (``dialer.engine``) owns every decision; a store owns transactions and locking.
Where a decision must see and change shared state atomically (claiming calls under
concurrency and calls-per-second limits), the store opens the transaction, locks what it
must, and asks the dialer's :class:`ClaimDecider` in the middle of it, so the limits hold
across any number of worker processes without the dialer knowing SQL.

Adapters: ``dialer.sql_store`` (SQLite, PostgreSQL) and ``dialer.memory_store`` (the
simulator's). ``tests/dialer/test_store_contract.py`` runs one behavioural suite against
all of them, and the same seeded campaign must produce the same call log on each.

Contact states in a campaign: ``pending`` (waiting: ``due_at`` None = not scheduled yet),
``active`` (on a call), ``done`` (attempts over, ``outcome`` = the last attempt's) and
``skipped`` (never dialed again without a call of its own: expired, blocked, canceled).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal, Protocol

from ringwise.core.call_states import CallOutcome, CallState
from ringwise.telephony.port import DialRequest, Transcript

ContactState = Literal["pending", "active", "done", "skipped"]
# How far back a store reads a phone's calls for the frequency caps (the longest cap window).
HISTORY_SPAN: Final = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class WorkspaceView:
    id: str
    timezone: str
    business_hours: tuple[Mapping[str, str], ...] | None
    concurrency_limit: int
    concurrency_rate: int
    name: str = ""
    compliance: Mapping[str, Any] | None = None  # the workspace's compliance settings
    cost_per_minute: float = 0.0  # the estimate of a call's cost, per started minute


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign's settings as stored, its assistant's messages, and its live counters."""

    id: str
    workspace_id: str
    status: str
    priority: int
    concurrency_limit: int
    never_ending: bool
    channel: str | None
    assistant_id: str | None
    schedule: Mapping[str, Any]
    retry: Mapping[str, Any]
    caller_id: Mapping[str, Any]
    voicemail: Mapping[str, Any]
    opening_message: str | None
    first_message: str | None  # the assistant's
    voicemail_message: str | None  # the assistant's
    updated_at: datetime  # settings version, for caches
    started_at: datetime | None
    contacts_total: int
    contacts_pending: int
    contacts_active: int
    in_flight: int  # calls dialing, ringing or in progress
    telemarketing: bool = False  # needs recorded consent; the opening offers an opt-out
    regulation_f: bool = False  # debt collection: 7 calls in 7 days, none 7 days after a talk
    memory: Mapping[str, Any] = field(default_factory=dict)  # MemorySettings
    returning_greeting: str | None = None  # the assistant's


@dataclass(frozen=True, slots=True)
class NumberView:
    """A workspace number that may call, with its recent dial starts (for its CPS limit)."""

    id: str
    workspace_id: str
    e164: str
    provider: str
    country: str | None
    region: str | None
    area_code: str | None
    cps_limit: float
    recent_starts: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """A pending contact of a campaign, with what is needed to schedule and dial it."""

    id: str  # the campaign contact
    campaign_id: str
    contact_id: str
    phone: str
    contact_timezone: str | None
    zones: tuple[str, ...] | None  # None: not resolved yet
    attempts: int
    due_at: datetime | None
    window_end: datetime | None
    caller_number_id: str | None
    first_attempt_at: datetime | None
    variables: Mapping[str, Any] = field(default_factory=dict, compare=False)
    address_state: str | None = None
    address_country: str | None = None
    consent_basis: str | None = None
    registry_scrubbed_at: datetime | None = None
    # Filled by the store when it hands the contact to ``decide`` (read in the claim's
    # transaction, so a number listed a second earlier is seen):
    dnc: str | None = None  # the do-not-call entry matching the phone, if any
    recent_calls: tuple[datetime, ...] = ()  # dial starts to this phone, all campaigns
    conversations: tuple[datetime, ...] = ()  # answers by a person on this phone
    on_a_call: bool = False  # a call to this phone (any campaign) has not ended yet
    # The summaries of the contact's last analyzed calls, newest first (only for campaigns
    # that give the agent short-term memory).
    summaries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A pending contact becomes eligible at ``due_at``, inside a window open until
    ``window_end``, in its candidate ``zones``."""

    target_id: str
    zones: tuple[str, ...]
    due_at: datetime
    window_end: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One dial decision and why, for the compliance log: ``dialed`` (``call_id`` set),
    ``blocked`` (the contact is closed) or ``deferred`` (a cap moved it later)."""

    target_id: str
    campaign_id: str
    phone: str
    at: datetime
    decision: Literal["dialed", "blocked", "deferred"]
    reason: str | None
    rules: str  # rule keys applied, "us-federal+us-fl"
    local_times: tuple[tuple[str, str], ...]  # (zone, callee-local ISO time) at ``at``
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Closed:
    """A pending contact leaves the campaign without another call (state ``skipped``).
    A ``blocked`` one is written to the compliance log (``audit``, or a bare record)."""

    target_id: str
    outcome: CallOutcome  # expired | blocked | canceled
    reason: str
    audit: AuditRecord | None = field(default=None, compare=False)


ScheduleChange = Scheduled | Closed


@dataclass(frozen=True, slots=True)
class NewCall:
    """A claimed attempt: the call row to insert (status dialing) and the request to send."""

    target_id: str
    campaign_id: str
    contact_id: str
    attempt: int
    phone_number_id: str | None
    provider: str
    request: DialRequest
    assistant_id: str | None = None
    address_state: str | None = None  # the contact's, for the legal floor of a retry
    address_country: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimInput:
    """What a claiming transaction sees, under the workspace's lock."""

    at: datetime
    workspace: WorkspaceView
    campaigns: tuple[CampaignView, ...]  # the workspace's running campaigns
    workspace_in_flight: int  # across all its campaigns, whatever their status
    numbers: tuple[NumberView, ...]
    audit: bool = True  # the store keeps a compliance log: decide() writes its records


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    calls: tuple[NewCall, ...] = ()
    schedule: tuple[ScheduleChange, ...] = ()  # stale windows found while claiming
    number_starts: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    audit: tuple[AuditRecord, ...] = ()  # dials and deferrals (blocks ride on ``Closed``)


class ClaimDecider(Protocol):
    """The dialer's side of a claim, called by the store inside its transaction."""

    def wanted(self, claim: ClaimInput) -> Mapping[str, int]:
        """How many due contacts to fetch per campaign (at most)."""
        ...

    def decide(self, claim: ClaimInput,
               due: Mapping[str, Sequence[Target]]) -> ClaimDecision:
        """Which of the due contacts to dial now, and from which number."""
        ...


@dataclass(frozen=True, slots=True)
class CallView:
    id: str
    workspace_id: str
    campaign_id: str
    campaign_contact_id: str
    attempt: int
    provider_call_id: str | None
    lease_owner: str | None
    state: CallState
    first_attempt_at: datetime | None
    zones: tuple[str, ...]
    phone: str = ""  # the contact's, with its address: the legal floor of a retry
    address_state: str | None = None
    address_country: str | None = None


@dataclass(frozen=True, slots=True)
class CallChange:
    """A call's new state (``provider_call_id`` set when learned)."""

    call_id: str
    state: CallState
    provider_call_id: str | None = None
    # Learned when the call ends (answered calls): the conversation and the cost estimate.
    transcript: Transcript | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True)
class AttemptEnd:
    """A contact whose call ended: back to pending (``retry`` set) or finished."""

    target_id: str
    campaign_id: str
    outcome: CallOutcome
    retry: Scheduled | None = None
    final_state: ContactState = "done"
    reason: str | None = None  # why it is finished
    opt_out: str | None = None  # the phone that asked not to be called: joins the DNC list


class DialerStore(Protocol):
    """Storage for the dialer; every method is one transaction."""

    def heartbeat(self, worker_id: str, at: datetime) -> None:
        """Record that ``worker_id`` is alive at ``at`` (its leases stay valid)."""
        ...

    def campaigns(self, statuses: Collection[str]) -> list[CampaignView]:
        ...

    def workspaces(self, ids: Collection[str]) -> dict[str, WorkspaceView]:
        ...

    def numbers(self, workspace_id: str) -> list[NumberView]:
        ...

    def set_campaign_status(self, campaign_id: str, expect: str, status: str, at: datetime,
                            ended_reason: str | None = None) -> bool:
        """Compare-and-set the status; False when it was no longer ``expect``."""
        ...

    def close_pending(self, campaign_id: str, outcome: CallOutcome, reason: str,
                      at: datetime) -> int:
        """Every pending contact of the campaign becomes skipped; how many did."""
        ...

    def unscheduled(self, campaign_id: str, limit: int) -> list[Target]:
        """Pending contacts with no ``due_at`` yet, oldest first."""
        ...

    def save_schedule(self, changes: Sequence[ScheduleChange], at: datetime) -> None:
        """Apply to contacts that are still pending (others are left alone)."""
        ...

    def claim(self, workspace_id: str, at: datetime, worker_id: str,
              decider: ClaimDecider) -> list[NewCall]:
        """In one transaction holding the workspace's claim lock: read the
        :class:`ClaimInput`, fetch due contacts (``due_at <= at``, ordered by
        ``(due_at, id)``, skipping rows other workers hold), let ``decider`` choose, then
        write its decision: calls inserted as ``dialing`` leased to ``worker_id``, their
        contacts ``active`` with ``attempts = attempt``, counters, number starts."""
        ...

    def calls(self, call_ids: Collection[str]) -> dict[str, CallView]:
        ...

    def save_calls(self, changes: Sequence[CallChange], ends: Sequence[AttemptEnd],
                   at: datetime) -> None:
        """Store call changes; for calls newly ended, apply the contact's ``AttemptEnd`` and
        the counters. A call already ended in the store keeps its first ending."""
        ...

    def orphaned_calls(self, at: datetime, stale_before: datetime, worker_id: str,
                       limit: int, *, include_own: bool = False) -> list[CallView]:
        """Unended calls whose lease owner is not alive (no owner, an owner that never
        heart-beat, or whose heartbeat is older than ``stale_before``), by
        ``(created_at, id)``, now leased to ``worker_id`` for reconciliation.
        ``include_own``: calls already leased to ``worker_id`` count as orphaned too (a
        process starting under a fixed id takes back what its earlier life left)."""
        ...

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest ``due_at`` after ``after`` among pending contacts of running
        campaigns: when a waiting worker next has something to dial."""
        ...
