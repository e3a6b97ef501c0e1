"""An in-memory :class:`~ringwise.dialer.store.DialerStore`: the simulator's, and the tests'.

It behaves exactly like the SQL adapter (``dialer.sql_store``) as far as the dialer can see:
the same orderings and tie-breaks, the same counters, the same "first ending wins" rule, so
a seeded campaign gives the same call log on either. It is built for speed instead of
durability: 100,000 contacts and a quarter of a million calls in seconds of Python.

Loading and reading back (not part of the port; for the simulator and tests)::

    store = MemoryDialerStore()
    store.add_workspace(WorkspaceView(...))
    store.add_campaign(CampaignView(...))           # its counter fields must be 0
    store.add_number(NumberView(...))
    store.add_contacts(campaign_id, [Target(...), ...])
    store.set_status(campaign_id, "running")         # a plain overwrite, no CAS
    store.call_rows()                                # every call, by (created_at, id)
    store.contact_rows(campaign_id)                  # by campaign contact id
    store.counters(campaign_id)                      # {"contacts_total": ..., ...}
    store.campaign_row(campaign_id)                  # view + completed_at, ended_reason

Orderings (ids compare as Python strings: SQLite's order, and PostgreSQL's for the
canonical lowercase UUIDs the application generates; other ids may sort differently under a
PostgreSQL collation other than ``C``):

* ``campaigns``: by campaign id; ``numbers``: by ``(e164, id)``; ``workspaces``: by id;
* ``unscheduled``: by campaign contact id;
* due contacts in ``claim``: by ``(due_at, id)``;
* ``orphaned_calls`` and ``call_rows``: by ``(created_at, id)``.

Instants are stored and returned as given (the dialer's are aware UTC, like the SQL
adapter's). Every method holds one re-entrant lock for its whole duration (the "transaction"), so
several dialers in threads of one process see each method as atomic. Methods validate what
they are given before changing anything, so a rejected call (``KeyError`` / ``ValueError``)
leaves the store as it was.

Data structures on the hot path: each campaign keeps its scheduled pending contacts in two
heaps keyed ``(due_at, id, version)`` with lazy deletion (an entry is live while its contact
is pending with that version): ``ready`` (due at or before the campaign's watermark, the
latest instant a claim or ``next_due`` looked at) and ``future`` (after it). A claim pops its
``wanted`` due contacts off ``ready`` and pushes back those still pending; ``next_due`` is
the top of ``future``. Unended calls are indexed by lease owner, so ``orphaned_calls`` costs
nothing while every owner heart-beats.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from heapq import heappop, heappush
from typing import Any, Final

from ringwise.core.call_states import CallOutcome, CallState
from ringwise.core.compliance.dnc import candidate_patterns
from ringwise.dialer.store import (
    HISTORY_SPAN,
    AttemptEnd,
    AuditRecord,
    CallChange,
    CallView,
    CampaignView,
    ClaimDecider,
    ClaimInput,
    Closed,
    ContactState,
    NewCall,
    NumberView,
    ScheduleChange,
    Scheduled,
    Target,
    WorkspaceView,
)

__all__ = ["COUNTER_NAMES", "CallRow", "CampaignRow", "ContactRow", "MemoryDialerStore"]

COUNTER_NAMES: Final[tuple[str, ...]] = (
    "contacts_total", "contacts_pending", "contacts_active", "contacts_done",
    "contacts_skipped", "calls_total", "calls_in_progress", "calls_ended", "calls_answered",
    "calls_voicemail", "calls_no_answer", "calls_busy", "calls_failed",
)
# The per-outcome call counter of an ended call (other outcomes have none).
_OUTCOME_COUNTER: Final[Mapping[str, str]] = {
    "answered": "calls_answered", "voicemail": "calls_voicemail",
    "no-answer": "calls_no_answer", "busy": "calls_busy", "failed": "calls_failed",
}
# CampaignView fields the store computes from its counters.
_LIVE_FIELDS: Final[frozenset[str]] = frozenset(
    {"contacts_total", "contacts_pending", "contacts_active", "in_flight"})
_FINAL_STATES: Final[frozenset[str]] = frozenset({"done", "skipped"})

_Entry = tuple[datetime, str, int]  # (due_at, campaign contact id, version)


# --- read-back rows --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRow:
    """A stored call, as the ``calls`` table holds it."""

    id: str
    workspace_id: str
    campaign_id: str
    campaign_contact_id: str
    contact_id: str
    attempt: int
    phone_number_id: str | None
    provider: str
    from_number: str
    to_number: str
    provider_call_id: str | None
    lease_owner: str | None
    state: CallState
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A stored campaign contact, as the ``campaign_contacts`` table holds it."""

    id: str
    workspace_id: str
    campaign_id: str
    contact_id: str
    phone: str
    contact_timezone: str | None
    state: ContactState
    outcome: str | None
    ended_reason: str | None
    attempts: int
    zones: tuple[str, ...] | None
    due_at: datetime | None
    window_end: datetime | None
    caller_number_id: str | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """A stored campaign: its view (live counters) and how it ended."""

    view: CampaignView
    completed_at: datetime | None
    ended_reason: str | None


# --- internal records ------------------------------------------------------------------------


class _Counters:
    __slots__ = COUNTER_NAMES

    def __init__(self) -> None:
        self.contacts_total = 0
        self.contacts_pending = 0
        self.contacts_active = 0
        self.contacts_done = 0
        self.contacts_skipped = 0
        self.calls_total = 0
        self.calls_in_progress = 0
        self.calls_ended = 0
        self.calls_answered = 0
        self.calls_voicemail = 0
        self.calls_no_answer = 0
        self.calls_busy = 0
        self.calls_failed = 0

    def as_dict(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in COUNTER_NAMES}


class _Contact:
    __slots__ = ("address_country", "address_state", "attempts", "caller_number_id",
                 "campaign", "consent_basis", "contact_id", "contact_timezone", "due_at",
                 "ended_reason", "first_attempt_at", "id", "last_attempt_at", "outcome",
                 "phone", "registry_scrubbed_at", "state", "variables", "version",
                 "window_end", "zones")

    def __init__(self, target: Target, campaign: _Campaign) -> None:
        self.id = target.id
        self.campaign = campaign
        self.contact_id = target.contact_id
        self.phone = target.phone
        self.contact_timezone = target.contact_timezone
        self.zones: tuple[str, ...] | None = target.zones
        self.attempts = target.attempts
        self.due_at: datetime | None = target.due_at
        self.window_end: datetime | None = target.window_end
        self.caller_number_id = target.caller_number_id
        self.first_attempt_at: datetime | None = target.first_attempt_at
        self.last_attempt_at: datetime | None = None
        self.variables: Mapping[str, Any] = target.variables
        self.address_state = target.address_state
        self.address_country = target.address_country
        self.consent_basis = target.consent_basis
        self.registry_scrubbed_at = target.registry_scrubbed_at
        self.state: ContactState = "pending"
        self.outcome: str | None = None
        self.ended_reason: str | None = None
        self.version = 0  # bumped whenever a due entry is pushed; older entries are dead

    def target(self, dnc: str | None = None, history: _History | None = None) -> Target:
        return Target(self.id, self.campaign.id, self.contact_id, self.phone,
                      self.contact_timezone, self.zones, self.attempts, self.due_at,
                      self.window_end, self.caller_number_id, self.first_attempt_at,
                      self.variables, self.address_state, self.address_country,
                      self.consent_basis, self.registry_scrubbed_at, dnc,
                      () if history is None else tuple(history.calls),
                      () if history is None else tuple(history.conversations),
                      history is not None and history.in_flight > 0)

    def row(self) -> ContactRow:
        return ContactRow(self.id, self.campaign.workspace_id, self.campaign.id,
                          self.contact_id, self.phone, self.contact_timezone, self.state,
                          self.outcome, self.ended_reason, self.attempts, self.zones,
                          self.due_at, self.window_end, self.caller_number_id,
                          self.first_attempt_at, self.last_attempt_at)


class _Call:
    __slots__ = ("attempt", "contact", "created_at", "from_number", "id", "lease_owner",
                 "phone_number_id", "provider", "provider_call_id", "state", "to_number",
                 "workspace_id")

    def __init__(self, new: NewCall, contact: _Contact, workspace_id: str, worker_id: str,
                 state: CallState, at: datetime) -> None:
        self.id = new.request.call_id
        self.workspace_id = workspace_id
        self.contact = contact
        self.attempt = new.attempt
        self.phone_number_id = new.phone_number_id
        self.provider = new.provider
        self.from_number = new.request.from_number
        self.to_number = new.request.to_number
        self.provider_call_id: str | None = None
        self.lease_owner: str | None = worker_id
        self.state = state
        self.created_at = at

    def view(self) -> CallView:
        contact = self.contact
        zones = contact.zones if contact.zones is not None else ()
        return CallView(self.id, self.workspace_id, contact.campaign.id, contact.id,
                        self.attempt, self.provider_call_id, self.lease_owner, self.state,
                        contact.first_attempt_at, zones, contact.phone,
                        contact.address_state, contact.address_country)

    def row(self) -> CallRow:
        contact = self.contact
        return CallRow(self.id, self.workspace_id, contact.campaign.id, contact.id,
                       contact.contact_id, self.attempt, self.phone_number_id, self.provider,
                       self.from_number, self.to_number, self.provider_call_id,
                       self.lease_owner, self.state, self.created_at)


class _History:
    """One phone's dial starts and conversations in a workspace (the last HISTORY_SPAN)."""

    __slots__ = ("calls", "conversations", "in_flight")

    def __init__(self) -> None:
        self.calls: list[datetime] = []
        self.conversations: list[datetime] = []
        self.in_flight = 0

    def add(self, entries: list[datetime], at: datetime) -> None:
        entries.append(at)
        if entries[0] < at - HISTORY_SPAN:
            entries[:] = [t for t in entries if t >= at - HISTORY_SPAN]


class _DncList:
    """Do-not-call patterns with the instant each took effect (a simulation may list a
    number in advance: it is honoured from its instant on, as if added then)."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[str, datetime] = {}

    def add(self, pattern: str, at: datetime) -> None:
        known = self.entries.get(pattern)
        if known is None or at < known:
            self.entries[pattern] = at

    def match(self, phone: str, at: datetime) -> str | None:
        entries = self.entries
        if not entries:
            return None
        for pattern in candidate_patterns(phone):
            added = entries.get(pattern)
            if added is not None and added <= at:
                return pattern
        return None


class _DueQueue:
    """A campaign's scheduled pending contacts by ``(due_at, id)``, with lazy deletion."""

    __slots__ = ("future", "mark", "ready")

    def __init__(self) -> None:
        self.ready: list[_Entry] = []  # due_at <= mark
        self.future: list[_Entry] = []  # due_at > mark
        self.mark: datetime | None = None

    def push(self, entry: _Entry) -> None:
        if self.mark is not None and entry[0] <= self.mark:
            heappush(self.ready, entry)
        else:
            heappush(self.future, entry)

    def advance(self, until: datetime, contacts: Mapping[str, _Contact]) -> None:
        """Move the entries due at or before ``until`` to ``ready`` (dropping dead ones)."""
        if self.mark is not None and until <= self.mark:
            return
        future, ready = self.future, self.ready
        while future and future[0][0] <= until:
            entry = heappop(future)
            if _live(entry, contacts):
                heappush(ready, entry)
        self.mark = until

    def clear(self) -> None:
        self.ready.clear()
        self.future.clear()


def _live(entry: _Entry, contacts: Mapping[str, _Contact]) -> bool:
    contact = contacts.get(entry[1])
    return contact is not None and contact.state == "pending" and contact.version == entry[2]


class _Campaign:
    __slots__ = ("args", "base", "cache", "completed_at", "contacts", "counters",
                 "ended_reason", "id", "keys", "queue", "unscheduled", "unscheduled_new",
                 "workspace_id")

    def __init__(self, view: CampaignView) -> None:
        self.id = view.id
        self.workspace_id = view.workspace_id
        # Settings, status and started_at (`base`, and as keywords in `args`); the view's
        # counter fields come from `counters`.
        self.base = view
        self.args: dict[str, Any] = {}
        self.cache: tuple[tuple[int, int, int, int], CampaignView] | None = None
        self.set_base(view)
        self.completed_at: datetime | None = None
        self.ended_reason: str | None = None
        self.counters = _Counters()
        self.contacts: list[_Contact] = []  # in insertion order
        self.keys: set[str] = set()  # contact ids, unique per campaign
        self.queue = _DueQueue()
        # Candidates for `unscheduled`, sorted by id descending (the next one is last), and
        # ids added since the last sort. Dead candidates are dropped lazily.
        self.unscheduled: list[str] = []
        self.unscheduled_new: list[str] = []

    def set_base(self, view: CampaignView) -> None:
        self.base = view
        self.args = {f.name: getattr(view, f.name) for f in fields(view)
                     if f.init and f.name not in _LIVE_FIELDS}
        self.cache = None

    def view(self) -> CampaignView:
        c = self.counters
        key = (c.contacts_total, c.contacts_pending, c.contacts_active, c.calls_in_progress)
        cache = self.cache
        if cache is not None and cache[0] == key:
            return cache[1]
        # Keyword construction from the settings kept in `args`: several times faster than
        # dataclasses.replace(), and still right if CampaignView gains fields.
        view = CampaignView(**self.args, contacts_total=key[0], contacts_pending=key[1],
                            contacts_active=key[2], in_flight=key[3])
        self.cache = (key, view)
        return view


# --- the store -------------------------------------------------------------------------------


class MemoryDialerStore:
    """The dialer's storage in memory (see the module docstring for orderings and loading)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._workspaces: dict[str, WorkspaceView] = {}
        self._campaigns: dict[str, _Campaign] = {}
        self._campaign_order: list[_Campaign] = []  # by id
        self._by_workspace: dict[str, list[_Campaign]] = {}  # by id
        self._numbers: dict[str, NumberView] = {}
        self._sorted_numbers: dict[str, tuple[NumberView, ...]] = {}  # by (e164, id)
        self._contacts: dict[str, _Contact] = {}
        self._calls: dict[str, _Call] = {}
        self._call_keys: set[tuple[str, int]] = set()  # (campaign contact id, attempt)
        self._unended: dict[str | None, dict[str, _Call]] = {}  # by lease owner
        self._heartbeats: dict[str, datetime] = {}
        self._dnc: dict[str, _DncList] = {}  # by workspace id, or "campaign:" + campaign id
        self._history: dict[tuple[str, str], _History] = {}  # by (workspace id, phone)
        self.keep_audit = True  # the simulator turns the compliance log off (it is big)
        self._audit: list[AuditRecord] = []

    # --- loading (simulator and tests) -----------------------------------------------------

    def add_workspace(self, workspace: WorkspaceView) -> None:
        """Add a workspace; ``ValueError`` if its id is taken."""
        with self._lock:
            if workspace.id in self._workspaces:
                raise ValueError(f"workspace {workspace.id!r} exists")
            self._workspaces[workspace.id] = workspace
            self._by_workspace[workspace.id] = []
            self._sorted_numbers[workspace.id] = ()

    def add_campaign(self, campaign: CampaignView) -> None:
        """Add a campaign of a known workspace, with no contacts yet: its counter fields
        (``contacts_total``, ``contacts_pending``, ``contacts_active``, ``in_flight``) must
        be 0; they are kept live from here on (add contacts with :meth:`add_contacts`)."""
        with self._lock:
            if campaign.id in self._campaigns:
                raise ValueError(f"campaign {campaign.id!r} exists")
            if campaign.workspace_id not in self._workspaces:
                raise KeyError(f"unknown workspace {campaign.workspace_id!r}")
            if (campaign.contacts_total or campaign.contacts_pending or campaign.contacts_active
                    or campaign.in_flight):
                raise ValueError("a new campaign's counters must be 0: use add_contacts")
            record = _Campaign(campaign)
            self._campaigns[campaign.id] = record
            self._campaign_order.append(record)
            self._campaign_order.sort(key=lambda c: c.id)
            siblings = self._by_workspace[campaign.workspace_id]
            siblings.append(record)
            siblings.sort(key=lambda c: c.id)

    def add_dnc(self, workspace_id: str, pattern: str, at: datetime, *,
                campaign_id: str | None = None) -> None:
        """List a number or area-code wildcard (``parse_pattern``'s form: "+12125550100",
        "+1212*") as do-not-call from ``at`` on: for the workspace, or only for one of its
        campaigns (a suppression list)."""
        with self._lock:
            if workspace_id not in self._workspaces:
                raise KeyError(f"unknown workspace {workspace_id!r}")
            key = workspace_id if campaign_id is None else f"campaign:{campaign_id}"
            self._dnc.setdefault(key, _DncList()).add(pattern, at)

    def audit_rows(self) -> list[AuditRecord]:
        """The compliance log: every dial, deferral and block, in decision order."""
        with self._lock:
            return list(self._audit)

    def add_number(self, number: NumberView) -> None:
        """Add a caller number of a known workspace (its ``recent_starts`` as given)."""
        with self._lock:
            if number.id in self._numbers:
                raise ValueError(f"number {number.id!r} exists")
            if number.workspace_id not in self._workspaces:
                raise KeyError(f"unknown workspace {number.workspace_id!r}")
            self._numbers[number.id] = number
            self._resort_numbers(number.workspace_id)

    def add_contacts(self, campaign_id: str, targets: Iterable[Target]) -> int:
        """Add contacts to a campaign, all ``pending``; how many were added.

        Each target's ``campaign_id`` must be ``campaign_id``; its ``id`` (the campaign
        contact) must be new to the store and its ``contact_id`` new to the campaign. A
        target with ``due_at`` set is scheduled already (give ``window_end`` and ``zones``
        too); one without waits for :meth:`unscheduled`. ``attempts``,
        ``first_attempt_at``, ``caller_number_id`` and ``variables`` are kept as given.
        Counters: ``contacts_total`` and ``contacts_pending`` grow by the count.
        """
        with self._lock:
            campaign = self._campaign(campaign_id)
            batch = list(targets)
            ids: set[str] = set()
            keys: set[str] = set()
            for target in batch:
                if target.campaign_id != campaign_id:
                    raise ValueError(f"target {target.id!r} belongs to campaign "
                                     f"{target.campaign_id!r}, not {campaign_id!r}")
                if target.id in self._contacts or target.id in ids:
                    raise ValueError(f"campaign contact {target.id!r} exists")
                if target.contact_id in campaign.keys or target.contact_id in keys:
                    raise ValueError(f"contact {target.contact_id!r} is in campaign "
                                     f"{campaign_id!r} already")
                ids.add(target.id)
                keys.add(target.contact_id)
            for target in batch:
                contact = _Contact(target, campaign)
                self._contacts[contact.id] = contact
                campaign.contacts.append(contact)
                if contact.due_at is None:
                    campaign.unscheduled_new.append(contact.id)
                else:
                    self._enqueue(contact)
            campaign.keys |= keys
            counters = campaign.counters
            counters.contacts_total += len(batch)
            counters.contacts_pending += len(batch)
            return len(batch)

    def set_status(self, campaign_id: str, status: str) -> None:
        """Overwrite a campaign's status (no compare-and-set, no instants recorded): for
        setting up scenarios, e.g. a paused or draft campaign."""
        with self._lock:
            campaign = self._campaign(campaign_id)
            campaign.set_base(replace(campaign.base, status=status))

    # --- reading back (simulator and tests) ------------------------------------------------

    def call_rows(self) -> list[CallRow]:
        """Every call, by ``(created_at, id)``."""
        with self._lock:
            calls = sorted(self._calls.values(), key=lambda c: (c.created_at, c.id))
            return [call.row() for call in calls]

    def contact_rows(self, campaign_id: str) -> list[ContactRow]:
        """A campaign's contacts, by campaign contact id."""
        with self._lock:
            contacts = sorted(self._campaign(campaign_id).contacts, key=lambda c: c.id)
            return [contact.row() for contact in contacts]

    def counters(self, campaign_id: str) -> dict[str, int]:
        """A campaign's counters, keyed by :data:`COUNTER_NAMES`."""
        with self._lock:
            return self._campaign(campaign_id).counters.as_dict()

    def campaign_row(self, campaign_id: str) -> CampaignRow:
        """A campaign's view (live counters) and its ``completed_at`` / ``ended_reason``."""
        with self._lock:
            campaign = self._campaign(campaign_id)
            return CampaignRow(campaign.view(), campaign.completed_at, campaign.ended_reason)

    def campaign_status(self, campaign_id: str) -> str:
        with self._lock:
            return self._campaign(campaign_id).base.status

    # --- the DialerStore port --------------------------------------------------------------

    def heartbeat(self, worker_id: str, at: datetime) -> None:
        with self._lock:
            self._heartbeats[worker_id] = at

    def campaigns(self, statuses: Collection[str]) -> list[CampaignView]:
        with self._lock:
            wanted = frozenset(statuses)
            return [c.view() for c in self._campaign_order if c.base.status in wanted]

    def workspaces(self, ids: Collection[str]) -> dict[str, WorkspaceView]:
        with self._lock:
            known = self._workspaces
            return {i: known[i] for i in sorted(set(ids)) if i in known}

    def numbers(self, workspace_id: str) -> list[NumberView]:
        with self._lock:
            return list(self._sorted_numbers.get(workspace_id, ()))

    def set_campaign_status(self, campaign_id: str, expect: str, status: str, at: datetime,
                            ended_reason: str | None = None) -> bool:
        """Compare-and-set. To ``running``: ``started_at`` is set if it was None. To
        ``completed`` / ``canceled``: ``completed_at = at`` and ``ended_reason`` recorded.
        ``updated_at`` (the settings version) never changes here."""
        with self._lock:
            campaign = self._campaigns.get(campaign_id)
            if campaign is None or campaign.base.status != expect:
                return False
            base = replace(campaign.base, status=status)
            if status == "running" and base.started_at is None:
                base = replace(base, started_at=at)
            if status in ("completed", "canceled"):
                campaign.completed_at = at
                campaign.ended_reason = ended_reason
            campaign.set_base(base)
            return True

    def close_pending(self, campaign_id: str, outcome: CallOutcome, reason: str,
                      at: datetime) -> int:
        with self._lock:
            campaign = self._campaigns.get(campaign_id)
            if campaign is None:
                return 0
            closed = 0
            for contact in campaign.contacts:
                if contact.state == "pending":
                    _close(contact, outcome, reason)
                    closed += 1
            campaign.queue.clear()  # nobody is pending any more: every entry is dead
            campaign.unscheduled.clear()
            campaign.unscheduled_new.clear()
            counters = campaign.counters
            counters.contacts_pending -= closed
            counters.contacts_skipped += closed
            return closed

    def unscheduled(self, campaign_id: str, limit: int) -> list[Target]:
        """Pending contacts without ``due_at``, by campaign contact id, at most ``limit``."""
        with self._lock:
            campaign = self._campaigns.get(campaign_id)
            if campaign is None or limit <= 0:
                return []
            contacts = self._contacts
            stack = campaign.unscheduled
            if campaign.unscheduled_new:
                stack.extend(campaign.unscheduled_new)
                campaign.unscheduled_new.clear()
                stack[:] = [i for i in set(stack) if _unscheduled(contacts[i])]
                stack.sort(reverse=True)
            while stack and not _unscheduled(contacts[stack[-1]]):
                stack.pop()
            found: list[Target] = []
            for index in range(len(stack) - 1, -1, -1):
                contact = contacts[stack[index]]
                if _unscheduled(contact):
                    found.append(contact.target())
                    if len(found) == limit:
                        break
            return found

    def save_schedule(self, changes: Sequence[ScheduleChange], at: datetime) -> None:
        with self._lock:
            self._apply_schedule(changes)
            if self.keep_audit:
                self._audit_blocks(changes, at)

    def claim(self, workspace_id: str, at: datetime, worker_id: str,
              decider: ClaimDecider) -> list[NewCall]:
        """See :meth:`DialerStore.claim`. An unknown workspace claims nothing (the decider is
        not asked). ``due`` has a list (maybe empty) for every campaign ``wanted`` asks a
        count above 0 of, in ``wanted``'s order, whatever the campaign's status or workspace
        (an unknown campaign has none due); counts of 0 or less are left out. A decision
        naming an unknown contact, or reusing a call id or a (contact, attempt), raises
        ``KeyError`` / ``ValueError`` before anything changes."""
        with self._lock:
            workspace = self._workspaces.get(workspace_id)
            if workspace is None:
                return []
            siblings = self._by_workspace[workspace_id]
            claim = ClaimInput(
                at=at,
                workspace=workspace,
                campaigns=tuple(c.view() for c in siblings if c.base.status == "running"),
                workspace_in_flight=sum(c.counters.calls_in_progress for c in siblings),
                numbers=self._sorted_numbers[workspace_id],
                audit=self.keep_audit,
            )
            wanted = decider.wanted(claim)
            contacts = self._contacts
            due: dict[str, list[Target]] = {}
            held: list[tuple[_DueQueue, list[_Entry]]] = []
            try:
                for campaign_id, limit in wanted.items():
                    if limit <= 0:
                        continue
                    campaign = self._campaigns.get(campaign_id)
                    if campaign is None:
                        due[campaign_id] = []
                        continue
                    entries = _take_due(campaign.queue, at, limit, contacts)
                    held.append((campaign.queue, entries))
                    due[campaign_id] = self._targets(workspace_id, campaign_id,
                                                     [contacts[e[1]] for e in entries], at)
                decision = decider.decide(claim, due)
                self._check_new_calls(decision.calls)
                self._apply_new_calls(decision.calls, workspace_id, worker_id, at)
                self._apply_schedule(decision.schedule)
                if self.keep_audit:
                    self._audit.extend(decision.audit)
                    self._audit_blocks(decision.schedule, at)
                numbers = self._numbers
                touched: set[str] = set()
                for number_id, starts in decision.number_starts.items():
                    number = numbers.get(number_id)
                    if number is not None:
                        numbers[number_id] = NumberView(  # replace() costs 3x more
                            number.id, number.workspace_id, number.e164, number.provider,
                            number.country, number.region, number.area_code,
                            number.cps_limit, tuple(starts))
                        touched.add(number.workspace_id)
                for touched_id in touched:  # (e164, id) did not change: keep the order
                    self._sorted_numbers[touched_id] = tuple(
                        numbers[n.id] for n in self._sorted_numbers[touched_id])
            finally:
                # Due contacts not dialed stay due (claimed or rescheduled ones are dead).
                for queue, entries in held:
                    for entry in entries:
                        if _live(entry, contacts):
                            queue.push(entry)
            return list(decision.calls)

    def calls(self, call_ids: Collection[str]) -> dict[str, CallView]:
        with self._lock:
            known = self._calls
            return {i: known[i].view() for i in call_ids if i in known}

    def save_calls(self, changes: Sequence[CallChange], ends: Sequence[AttemptEnd],
                   at: datetime) -> None:
        """See :meth:`DialerStore.save_calls`. Changes of unknown calls are ignored; so is
        a change of a call already ended (stored, or by an earlier change of the batch).
        Each newly ended call needs an end with ``target_id`` = its campaign contact (the
        last such end is used), whose ``final_state`` is ``done`` or ``skipped`` unless it
        retries: ``ValueError`` otherwise, before any change. The per-outcome call counter
        follows the call's new ``state.outcome``; the contact's ``outcome`` is the end's."""
        with self._lock:
            calls = self._calls
            by_target = {end.target_id: end for end in ends}  # the last one of a target
            # Validate first, so a rejected batch changes nothing.
            ending: set[str] = set()
            for change in changes:
                call = calls.get(change.call_id)
                if call is None or call.state.is_ended or change.call_id in ending:
                    continue
                if change.state.is_ended:
                    ending.add(change.call_id)
                    found = by_target.get(call.contact.id)
                    if found is None:
                        raise ValueError(f"call {call.id!r} ended without an AttemptEnd for "
                                         f"{call.contact.id!r}")
                    if found.retry is None and found.final_state not in _FINAL_STATES:
                        raise ValueError(f"AttemptEnd of {found.target_id!r}: final_state "
                                         f"must be done or skipped, not {found.final_state!r}")
            for change in changes:
                call = calls.get(change.call_id)
                if call is None or call.state.is_ended:
                    continue
                call.state = change.state
                if change.provider_call_id is not None:
                    call.provider_call_id = change.provider_call_id
                if change.state.is_ended:
                    self._end_call(call, change.state.outcome, by_target[call.contact.id], at)

    def orphaned_calls(self, at: datetime, stale_before: datetime, worker_id: str,
                       limit: int, *, include_own: bool = False) -> list[CallView]:
        """Unended calls whose lease owner last heart-beat before ``stale_before``, never
        did, or is None (or is ``worker_id`` itself, with ``include_own``); by
        ``(created_at, id)``, at most ``limit``; leased to ``worker_id``."""
        with self._lock:
            if limit <= 0:
                return []
            beats = self._heartbeats
            stale: list[_Call] = []
            for owner, owned in self._unended.items():
                beat = None if owner is None else beats.get(owner)
                if beat is None or beat < stale_before or (include_own and owner == worker_id):
                    stale.extend(owned.values())
            if not stale:
                return []
            stale.sort(key=lambda c: (c.created_at, c.id))
            taken = stale[:limit]
            for call in taken:
                self._lease(call, worker_id)
            return [call.view() for call in taken]

    def next_due(self, after: datetime) -> datetime | None:
        with self._lock:
            contacts = self._contacts
            best: datetime | None = None
            for campaign in self._campaign_order:
                if campaign.base.status != "running":
                    continue
                queue = campaign.queue
                queue.advance(after, contacts)
                future = queue.future
                while future and not _live(future[0], contacts):
                    heappop(future)
                if future and (best is None or future[0][0] < best):
                    best = future[0][0]
                assert queue.mark is not None
                if after < queue.mark:  # asked about the past: `ready` may hold later ones
                    for entry in queue.ready:
                        if after < entry[0] and (best is None or entry[0] < best) \
                                and _live(entry, contacts):
                            best = entry[0]
            return best

    # --- internals -------------------------------------------------------------------------

    def _campaign(self, campaign_id: str) -> _Campaign:
        campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            raise KeyError(f"unknown campaign {campaign_id!r}")
        return campaign

    def _targets(self, workspace_id: str, campaign_id: str, due: list[_Contact],
                 at: datetime) -> list[Target]:
        """Due contacts as the dialer sees them, with their do-not-call match and the
        phone's recent calls (what the SQL store reads in the claim's transaction)."""
        listed = self._dnc.get(workspace_id)
        suppressed = self._dnc.get(f"campaign:{campaign_id}")
        history = self._history
        targets: list[Target] = []
        for contact in due:
            dnc = None if listed is None else listed.match(contact.phone, at)
            if dnc is None and suppressed is not None:
                dnc = suppressed.match(contact.phone, at)
            targets.append(contact.target(dnc, history.get((workspace_id, contact.phone))))
        return targets

    def _history_of(self, workspace_id: str, phone: str) -> _History:
        found = self._history.get((workspace_id, phone))
        if found is None:
            found = self._history[(workspace_id, phone)] = _History()
        return found

    def _audit_blocks(self, changes: Sequence[ScheduleChange], at: datetime) -> None:
        for change in changes:
            if isinstance(change, Closed) and change.outcome == "blocked":
                contact = self._contacts.get(change.target_id)
                if change.audit is not None:
                    self._audit.append(change.audit)
                elif contact is not None:
                    self._audit.append(AuditRecord(
                        contact.id, contact.campaign.id, contact.phone, at, "blocked",
                        change.reason, "", ()))

    def _resort_numbers(self, workspace_id: str) -> None:
        self._sorted_numbers[workspace_id] = tuple(sorted(
            (n for n in self._numbers.values() if n.workspace_id == workspace_id),
            key=lambda n: (n.e164, n.id)))

    def _enqueue(self, contact: _Contact) -> None:
        assert contact.due_at is not None
        contact.version += 1
        contact.campaign.queue.push((contact.due_at, contact.id, contact.version))

    def _apply_schedule(self, changes: Sequence[ScheduleChange]) -> None:
        contacts = self._contacts
        for change in changes:
            contact = contacts.get(change.target_id)
            if contact is None or contact.state != "pending":
                continue
            if isinstance(change, Scheduled):
                contact.zones = change.zones
                contact.due_at = change.due_at
                contact.window_end = change.window_end
                self._enqueue(contact)
            else:
                _close(contact, change.outcome, change.reason)
                counters = contact.campaign.counters
                counters.contacts_pending -= 1
                counters.contacts_skipped += 1

    def _check_new_calls(self, calls: Sequence[NewCall]) -> None:
        ids: set[str] = set()
        keys: set[tuple[str, int]] = set()
        for new in calls:
            if new.target_id not in self._contacts:
                raise KeyError(f"unknown campaign contact {new.target_id!r}")
            call_id = new.request.call_id
            key = (new.target_id, new.attempt)
            if call_id in self._calls or call_id in ids:
                raise ValueError(f"call {call_id!r} exists")
            if key in self._call_keys or key in keys:
                raise ValueError(f"attempt {new.attempt} of {new.target_id!r} exists")
            ids.add(call_id)
            keys.add(key)

    def _apply_new_calls(self, calls: Sequence[NewCall], workspace_id: str, worker_id: str,
                         at: datetime) -> None:
        if not calls:
            return
        owned = self._unended.setdefault(worker_id, {})
        dialing = CallState(status="dialing", dialing_at=at)  # immutable: shared
        for new in calls:
            contact = self._contacts[new.target_id]
            history = self._history_of(workspace_id, contact.phone)
            history.add(history.calls, at)
            history.in_flight += 1
            call = _Call(new, contact, workspace_id, worker_id, dialing, at)
            self._calls[call.id] = call
            self._call_keys.add((contact.id, new.attempt))
            owned[call.id] = call
            contact.state = "active"
            contact.attempts = new.attempt
            if contact.first_attempt_at is None:
                contact.first_attempt_at = at
            contact.last_attempt_at = at
            contact.due_at = None
            contact.window_end = None
            contact.zones = new.request.callee_zones
            counters = contact.campaign.counters
            counters.contacts_pending -= 1
            counters.contacts_active += 1
            counters.calls_total += 1
            counters.calls_in_progress += 1

    def _end_call(self, call: _Call, outcome: str | None, end: AttemptEnd,
                  at: datetime) -> None:
        history = self._history_of(call.workspace_id, call.to_number)
        history.in_flight -= 1
        if outcome == "answered":
            history.add(history.conversations, call.state.answered_at or at)
        if end.opt_out is not None:
            self._dnc.setdefault(call.workspace_id, _DncList()).add(end.opt_out, at)
        owned = self._unended.get(call.lease_owner)
        if owned is not None:
            owned.pop(call.id, None)
            if not owned:
                del self._unended[call.lease_owner]
        contact = call.contact
        counters = contact.campaign.counters
        counters.calls_in_progress -= 1
        counters.calls_ended += 1
        outcome_counter = _OUTCOME_COUNTER.get(outcome or "")
        if outcome_counter is not None:
            setattr(counters, outcome_counter, getattr(counters, outcome_counter) + 1)
        counters.contacts_active -= 1
        contact.outcome = end.outcome
        retry = end.retry
        if retry is not None:
            contact.state = "pending"
            contact.zones = retry.zones
            contact.due_at = retry.due_at
            contact.window_end = retry.window_end
            counters.contacts_pending += 1
            self._enqueue(contact)
        elif end.final_state == "skipped":
            contact.state = "skipped"
            contact.ended_reason = end.reason
            counters.contacts_skipped += 1
        else:
            contact.state = "done"
            contact.ended_reason = end.reason
            counters.contacts_done += 1

    def _lease(self, call: _Call, worker_id: str) -> None:
        if call.lease_owner == worker_id:
            return
        owned = self._unended.get(call.lease_owner)
        if owned is not None:
            owned.pop(call.id, None)
            if not owned:
                del self._unended[call.lease_owner]
        call.lease_owner = worker_id
        self._unended.setdefault(worker_id, {})[call.id] = call


def _unscheduled(contact: _Contact) -> bool:
    return contact.state == "pending" and contact.due_at is None


def _close(contact: _Contact, outcome: str, reason: str) -> None:
    contact.state = "skipped"
    contact.outcome = outcome
    contact.ended_reason = reason
    contact.due_at = None
    contact.window_end = None


def _take_due(queue: _DueQueue, at: datetime, limit: int,
              contacts: Mapping[str, _Contact]) -> list[_Entry]:
    """Pop up to ``limit`` live entries due at or before ``at``, in ``(due_at, id)`` order
    (the caller pushes back those still pending)."""
    queue.advance(at, contacts)
    ready = queue.ready
    taken: list[_Entry] = []
    while ready and len(taken) < limit:
        entry = ready[0]
        if entry[0] > at:  # `at` is before the watermark: the rest is not due yet
            break
        heappop(ready)
        if _live(entry, contacts):
            taken.append(entry)
    return taken
