"""The dialer: one tick at a time, decide who to call, place the calls, apply what happened.

One code path for the live service, the demo and the simulator: the clock, the store and
the telephony provider are injected. A tick, at the clock's ``now``:

1. **advance campaigns**: a scheduled campaign whose first instant has come starts running;
   at its ``end_at`` a campaign's waiting contacts expire; a campaign with nobody waiting or
   on a call completes (unless never-ending);
2. **events**: the provider's events up to now move calls through the state machine; an
   ended call's contact gets the retry decision (a retry lands at the next window opening)
   or is done;
3. **reconcile**: calls leased to a worker that stopped heart-beating are looked up at the
   provider, never redialed (one attempt is dialed at most once);
4. **schedule**: contacts new to a campaign get their next eligible instant (``due_at``)
   and the end of that window, so "who is due" is an indexed range scan, not calendar math;
5. **claim** (per workspace, in the store's locked transaction): free slots are shared by
   priority and fairly (``core.pacing``), each due contact's window is re-checked, a caller
   number is chosen (``core.caller_id``) within its calls-per-second limit, and the calls
   are committed as ``dialing`` before the provider hears of them;
6. **place**: the requests go to the provider; its call ids (or refusals) are stored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal

from ringwise.clock import Clock
from ringwise.core import pacing
from ringwise.core.call_states import CallState, apply_event, end_call
from ringwise.core.caller_id import (
    Callee,
    OwnedNumber,
    callee_from_e164,
    canonical_order,
    choose_from_ordered,
    rotation_for,
)
from ringwise.core.campaign_lifecycle import schedule_start
from ringwise.core.compliance.disclosures import with_callback
from ringwise.core.compliance.floors import LegalFloor
from ringwise.core.costs import estimate_cost
from ringwise.core.retry_policy import Done, decide
from ringwise.core.windows import CallingRules, next_window
from ringwise.dialer import compliance
from ringwise.dialer.plans import WINDOW_STEP, CampaignPlan, call_id_for, compile_plan, owned
from ringwise.dialer.store import (
    AttemptEnd,
    AuditRecord,
    CallChange,
    CallView,
    CampaignView,
    ClaimDecision,
    ClaimInput,
    Closed,
    DialerStore,
    NewCall,
    NumberView,
    ScheduleChange,
    Scheduled,
    Target,
    WorkspaceView,
)
from ringwise.telephony.port import Accepted, CallEvent, DialRequest, TelephonyProvider

log = logging.getLogger("ringwise.dialer")

ACTIVE_STATUSES: Final = ("scheduled", "running", "paused")
LINE_BUSY_DELAY: Final = timedelta(minutes=5)  # a contact whose phone is on another call waits
MEMO_LIMIT: Final = 100_000  # entries per memo before it starts afresh
CPS_BUDGET_FROM: Final = 16  # free slots from which a claim's fetch is bounded by CPS room
# How often (clock time) workspace settings, compliance floors and caps among them, are re-read.
WORKSPACE_REFRESH: Final = timedelta(seconds=5)
SCHEDULE_BATCH: Final = 5_000
DEFAULT_LEASE: Final = timedelta(seconds=60)
_EMPTY: Final[tuple[datetime, ...]] = ()


@dataclass(frozen=True, slots=True)
class TickReport:
    at: datetime
    placed: int = 0
    events: int = 0
    ended: int = 0
    scheduled: int = 0
    reconciled: int = 0
    wake_at: datetime | None = None  # the next instant this dialer has work, if known
    more: bool = False  # more could be dialed right now: tick again at once
    # Slots that campaigns could have filled but did not (no one due, CPS); 0 when every
    # slot is taken, so a contact becoming due cannot be dialed before a call ends. None
    # when no campaign was running.
    slots_left: int | None = None


class Dialer:
    """Drives campaigns on ``store`` through ``provider`` at ``clock`` time.

    ``worker_id`` names this worker in leases; ``lease`` is how long a silent worker's calls
    are left alone before another worker reconciles them (in clock time).
    """

    def __init__(self, store: DialerStore, provider: TelephonyProvider, clock: Clock, *,
                 worker_id: str, lease: timedelta = DEFAULT_LEASE,
                 provider_name: str = "simulated", conversations: bool = True) -> None:
        self.store = store
        self.provider = provider
        self.clock = clock
        self.worker_id = worker_id
        self.lease = lease
        self.provider_name = provider_name
        # Keep each answered call's conversation and cost (the simulator's forecast does not).
        self.conversations = conversations
        self.ticks = 0
        self._plans: dict[str, CampaignPlan] = {}
        self._broken: dict[str, tuple[datetime, str]] = {}  # settings that cannot be dialed
        self._scheduled_total: dict[str, int] = {}  # contacts_total when fully scheduled
        self._stagger_next: dict[str, datetime] = {}
        self._cps_wake: datetime | None = None
        self._fetch_cut: dict[str, int] = {}
        self._uncertain: dict[str, NewCall] = {}  # placement raised: fate unknown
        self._beat_at: datetime | None = None
        self._more = False
        self._slots_left: int | None = None
        self._workspaces_read_at: datetime | None = None
        self._workspaces: dict[str, WorkspaceView] = {}
        self._status: dict[str, str] = {}  # campaign statuses as of this tick
        self._pools: dict[str, tuple[tuple[tuple[str, str], ...], tuple[OwnedNumber, ...]]] = {}
        # Memos for contacts examined again and again while their caller number is at its
        # CPS limit: the open window of (rules, zones) and the number chosen per attempt.
        self._open: dict[tuple[int, tuple[str, ...]], tuple[CallingRules, datetime, datetime]] = {}
        self._chosen: dict[tuple[str, int, str | None],
                           tuple[CampaignPlan, tuple[OwnedNumber, ...], str | None]] = {}

    # --- the tick --------------------------------------------------------------------------

    def tick(self) -> TickReport:
        at = self.clock.now()
        self.ticks += 1
        # A heartbeat a tenth of the lease old is fresh enough; not a write every tick.
        if self._beat_at is None or at - self._beat_at >= self.lease / 10 or at < self._beat_at:
            self.store.heartbeat(self.worker_id, at)
            self._beat_at = at
        views = self.store.campaigns(ACTIVE_STATUSES)
        self._load_plans(views, at)
        views = self._advance(views, at)
        events, ended = self._apply_events(at)
        reconciled = self._reconcile(at)
        scheduled = self._schedule(views, at)
        self._cps_wake = None
        self._more = False
        self._slots_left = None
        claimed: list[NewCall] = []
        by_workspace: dict[str, list[CampaignView]] = defaultdict(list)
        for view in views:
            if view.status == "running" and view.id in self._plans:
                by_workspace[view.workspace_id].append(view)
        for workspace_id in sorted(by_workspace):
            claimed.extend(self.store.claim(workspace_id, at, self.worker_id,
                                            _Decider(self, at)))
        placed = self._place(claimed, at)
        if ended and not placed and not self._more:
            # The last calls of a campaign may have ended just now: complete it at this
            # instant, not at the next tick (the simulator's next tick may be days later).
            self._advance(self.store.campaigns(("running",)), at)
        return TickReport(at, placed, events, ended, scheduled, reconciled,
                          self._wake(at, views), self._more, self._slots_left)

    # --- campaigns -------------------------------------------------------------------------

    def _load_plans(self, views: Sequence[CampaignView], at: datetime) -> None:
        """Compile the settings of new or changed campaigns (and, now and then, of those
        whose workspace changed); the views' live counters are read from the views."""
        self._status = {view.id: view.status for view in views}
        read_at = self._workspaces_read_at
        if read_at is None or not read_at <= at < read_at + WORKSPACE_REFRESH:
            self._workspaces_read_at = at
            fresh = self.store.workspaces({v.workspace_id for v in views})
            for plan_id, compiled in list(self._plans.items()):
                workspace_id = compiled.view.workspace_id
                if fresh.get(workspace_id) != self._workspaces.get(workspace_id):
                    del self._plans[plan_id]
            self._workspaces = fresh
        stale = [view for view in views
                 if (plan := self._plans.get(view.id)) is None
                 or plan.view.updated_at != view.updated_at]
        stale = [view for view in stale
                 if (broken := self._broken.get(view.id)) is None
                 or broken[0] != view.updated_at]
        if not stale:
            return
        missing = {v.workspace_id for v in stale} - set(self._workspaces)
        if missing:
            self._workspaces.update(self.store.workspaces(missing))
        for view in stale:
            try:
                self._plans[view.id] = compile_plan(view, self._workspaces[view.workspace_id])
                self._broken.pop(view.id, None)
                self._scheduled_total.pop(view.id, None)
            except (ValueError, KeyError) as exc:
                self._plans.pop(view.id, None)
                self._broken[view.id] = (view.updated_at, str(exc))
                log.error("campaign %s cannot be dialed: %s", view.id, exc)

    def _advance(self, views: list[CampaignView], at: datetime) -> list[CampaignView]:
        kept: list[CampaignView] = []
        for view in views:
            plan = self._plans.get(view.id)
            if view.status == "scheduled":
                first = schedule_start(view.schedule)
                if (first is None or first <= at) and self.store.set_campaign_status(
                        view.id, "scheduled", "running", at):
                    view = replace(view, status="running")
                    log.info("campaign %s started", view.id)
            if view.status == "running" and plan is not None:
                if plan.end_at is not None and at >= plan.end_at and view.contacts_pending:
                    expired = self.store.close_pending(view.id, "expired", "campaign-ended", at)
                    view = replace(view, contacts_pending=view.contacts_pending - expired)
                reached_end = plan.end_at is not None and at >= plan.end_at
                idle = view.contacts_pending == 0 and view.contacts_active == 0 \
                    and view.in_flight == 0
                if idle and (reached_end or not view.never_ending):
                    reason = "end-reached" if reached_end else "all-contacts-done"
                    if self.store.set_campaign_status(view.id, "running", "completed", at,
                                                      ended_reason=reason):
                        log.info("campaign %s completed (%s)", view.id, reason)
                        continue
            kept.append(view)
        return kept

    # --- scheduling ------------------------------------------------------------------------

    def _schedule(self, views: Sequence[CampaignView], at: datetime) -> int:
        count = 0
        for view in views:
            plan = self._plans.get(view.id)
            if plan is None or view.status not in ("scheduled", "running") \
                    or not view.contacts_pending \
                    or self._scheduled_total.get(view.id) == _total(view):
                continue
            while True:
                targets = self.store.unscheduled(view.id, SCHEDULE_BATCH)
                changes = [self._first_schedule(plan, t, at) for t in targets]
                if changes:
                    self.store.save_schedule(changes, at)
                count += len(changes)
                if len(targets) < SCHEDULE_BATCH:
                    break
            self._scheduled_total[view.id] = _total(view)
        return count

    def _first_schedule(self, plan: CampaignPlan, target: Target,
                        at: datetime) -> ScheduleChange:
        change = plan.schedule(target, at)
        if isinstance(change, Scheduled) and plan.stagger_seconds:
            # Launch stagger: this campaign's first attempts start at least this far apart.
            slot = max(change.due_at, self._stagger_next.get(plan.id, change.due_at))
            self._stagger_next[plan.id] = slot + timedelta(seconds=plan.stagger_seconds)
            if slot >= change.window_end:
                return plan.schedule(target, slot)
            change = replace(change, due_at=slot)
        return change

    # --- events ----------------------------------------------------------------------------

    def _apply_events(self, at: datetime) -> tuple[int, int]:
        events = self.provider.events_due(at)
        if not events:
            return 0, 0
        grouped: dict[str, list[CallEvent]] = {}
        for event in events:
            grouped.setdefault(event.call_id, []).append(event)
        views = self.store.calls(grouped)
        changes: list[CallChange] = []
        ends: list[AttemptEnd] = []
        for call_id, call_events in grouped.items():
            view = views.get(call_id)
            if view is None:
                log.warning("provider event for unknown call %s ignored", call_id)
                continue
            state = view.state
            for event in call_events:
                state = apply_event(state, event.event)
            sid = call_events[-1].provider_call_id
            if state == view.state and sid == view.provider_call_id:
                continue
            if state.is_ended and not view.state.is_ended:
                changes.append(self._change(view, state, sid) if self.conversations
                               else CallChange(call_id, state, sid))
                ends.append(self._attempt_end(view, state, at))
            else:
                changes.append(CallChange(call_id, state, sid))
        if changes:
            self.store.save_calls(changes, ends, at)
        return len(events), len(ends)

    def _change(self, view: CallView, state: CallState, sid: str | None) -> CallChange:
        """The call's new state; for a call that just ended, with its record: the
        conversation (answered calls and voicemails) and the cost estimate."""
        if not self.conversations or not state.is_ended or view.state.is_ended:
            return CallChange(view.id, state, sid)
        transcript = None
        if sid is not None and state.outcome in ("answered", "voicemail"):
            try:
                transcript = self.provider.conversation(sid)
            except Exception:  # the call's ending must be saved even if its words are not
                log.exception("could not fetch the conversation of call %s", view.id)
        workspace = self._workspaces.get(view.workspace_id)
        rate = workspace.cost_per_minute if workspace is not None else 0.0
        return CallChange(view.id, state, sid, transcript, estimate_cost(state, rate))

    def _attempt_end(self, view: CallView, state: CallState, at: datetime) -> AttemptEnd:
        """The contact's fate after its call ended: a retry in a window, or done."""
        assert state.outcome is not None
        if state.ended_reason == "customer-opted-out":
            # Honoured at once, in the transaction that ends the call: no campaign of the
            # workspace calls this number again.
            return AttemptEnd(view.campaign_contact_id, view.campaign_id, state.outcome,
                              reason="opted-out", opt_out=view.phone or None)
        plan = self._plans.get(view.campaign_id)
        ended_at = state.ended_at or at
        if plan is None or self._status.get(view.campaign_id) not in ACTIVE_STATUSES:
            return AttemptEnd(view.campaign_contact_id, view.campaign_id, state.outcome,
                              reason="campaign-closed")
        decision = decide(plan.policy, state.outcome, attempts_made=view.attempt,
                          ended_at=ended_at, ended_reason=state.ended_reason,
                          first_attempt_at=view.first_attempt_at or state.dialing_at)
        if isinstance(decision, Done):
            return AttemptEnd(view.campaign_contact_id, view.campaign_id, state.outcome,
                              reason=decision.reason)
        window = plan.window_from(view, view.zones, max(decision.at, at))
        if window is None:
            return AttemptEnd(view.campaign_contact_id, view.campaign_id, state.outcome,
                              reason="no-window-for-retry")
        return AttemptEnd(view.campaign_contact_id, view.campaign_id, state.outcome,
                          retry=Scheduled(view.campaign_contact_id, view.zones, window.start,
                                          window.end))

    # --- reconciliation --------------------------------------------------------------------

    def _reconcile(self, at: datetime) -> int:
        resolved = self._resolve_uncertain(at) if self._uncertain else 0
        # The first tick of a process also takes back calls its own id left unfinished in
        # an earlier life (a worker restarted under a fixed id).
        orphans = self.store.orphaned_calls(at, at - self.lease, self.worker_id, 200,
                                            include_own=self.ticks == 1)
        if not orphans:
            return resolved
        changes: list[CallChange] = []
        ends: list[AttemptEnd] = []
        for view in orphans:
            record = self.provider.lookup(view.id)
            if record is None:
                # The provider never received it: nobody was called. End the attempt.
                state = end_call(view.state, "failed", "worker-crash-reconciled", at=at)
                log.warning("call %s was never placed (its worker died); ended", view.id)
                sid = None
            else:
                state = apply_event(view.state, record.event())
                sid = record.provider_call_id
            changes.append(self._change(view, state, sid))
            if state.is_ended and not view.state.is_ended:
                ends.append(self._attempt_end(view, state, at))
        self.store.save_calls(changes, ends, at)
        return resolved + len(orphans)

    # --- placing ---------------------------------------------------------------------------

    def _place(self, calls: Sequence[NewCall], at: datetime) -> int:
        if not calls:
            return 0
        changes: list[CallChange] = []
        ends: list[AttemptEnd] = []
        for call in calls:
            try:
                result = self.provider.place_call(call.request)
            except Exception:
                # The provider may or may not have the call: look it up, never resend.
                log.exception("placing call %s failed; it will be looked up at the provider",
                              call.request.call_id)
                self._uncertain[call.request.call_id] = call
                continue
            dialing = CallState(status="dialing", dialing_at=at)
            if isinstance(result, Accepted):
                changes.append(CallChange(call.request.call_id, dialing, result.provider_call_id))
                continue
            ended = end_call(dialing, "failed", result.reason, at=at)
            changes.append(CallChange(call.request.call_id, ended))
            ends.append(self._attempt_end(_placed_view(call, self.worker_id), ended, at))
        if changes:
            self.store.save_calls(changes, ends, at)
        return len(calls)

    def _resolve_uncertain(self, at: datetime) -> int:
        """Calls whose placement raised: ask the provider what became of them."""
        changes: list[CallChange] = []
        ends: list[AttemptEnd] = []
        for call_id, call in list(self._uncertain.items()):
            try:
                record = self.provider.lookup(call_id)
            except Exception:
                log.warning("provider lookup of call %s failed; trying again next tick", call_id)
                continue
            del self._uncertain[call_id]
            view = _placed_view(call, self.worker_id)
            if record is None:
                state = end_call(view.state, "failed", "provider-error", at=at)
                sid = None
            else:
                state = apply_event(view.state, record.event())
                sid = record.provider_call_id
            changes.append(self._change(view, state, sid))
            if state.is_ended:
                ends.append(self._attempt_end(view, state, at))
        if changes:
            self.store.save_calls(changes, ends, at)
        return len(changes)

    # --- claiming (called inside the store's transaction) ----------------------------------

    def wanted(self, claim: ClaimInput) -> dict[str, int]:
        """Due contacts to fetch per campaign: its room, but at most a quarter more than a
        fair share of the free slots, so 1,000 campaigns do not each fetch the whole workspace's
        free capacity. If that cut leaves slots unused, the tick says ``more`` and the
        worker ticks again at once."""
        # Dials possible now: free slots, and what the numbers' CPS limits allow (worth
        # counting only for claims big enough that it saves fetching).
        free = _free_slots(claim)
        self._fetch_cut.clear()
        self._slots_left = self._slots_left or 0
        wanted: dict[str, int] = {}
        if free <= 0:
            return wanted
        rooms = {v.id: min(free, free if v.concurrency_limit == 0
                           else v.concurrency_limit - v.in_flight)
                 for v in claim.campaigns if v.id in self._plans}
        rooms = {cid: room for cid, room in rooms.items() if room > 0}
        if not rooms:
            return wanted
        # The campaigns' own limits may leave less room than the workspace has free.
        free = min(free, sum(rooms.values()))
        self._slots_left += free  # decide() takes off what it dials
        if free > CPS_BUDGET_FROM:
            free = min(free, _cps_budget(claim))
            if free <= 0:
                return wanted
            rooms = {cid: min(room, free) for cid, room in rooms.items()}
        share = -(-free // len(rooms))
        cap = share + share // 4 + 1
        for campaign_id, room in rooms.items():
            wanted[campaign_id] = min(room, cap)
            if room > cap:
                self._fetch_cut[campaign_id] = cap
        return wanted

    def decide(self, claim: ClaimInput, due: Mapping[str, Sequence[Target]],
               at: datetime) -> ClaimDecision:
        demands = [pacing.CampaignDemand(v.id, v.priority, v.concurrency_limit, v.in_flight,
                                         len(due.get(v.id, ())))
                   for v in claim.campaigns if v.id in self._plans]
        grants = pacing.allocate(_free_slots(claim), demands, tick=self.ticks)
        logs: dict[str, pacing.StartLog] = {}
        calls: list[NewCall] = []
        schedule: list[ScheduleChange] = []
        audit: list[AuditRecord] = []
        dialing: set[str] = set()  # phones dialed in this claim
        order = sorted((v for v in claim.campaigns if grants.get(v.id)),
                       key=lambda v: (-v.priority, v.id))
        for view in order:
            plan = self._plans[view.id]
            numbers = plan.usable_numbers(claim.numbers)
            pool = self._pool(plan.id, numbers)
            by_id = {n.id: n for n in numbers}
            left = grants[view.id]
            for target in due.get(view.id, ()):
                if left == 0:
                    break
                if plan.retry_window is not None and target.due_at is not None \
                        and at - target.due_at > plan.retry_window:
                    # Waited longer than the campaign allows for a free line: dropped.
                    schedule.append(Closed(target.id, "expired", "expired-before-dialing"))
                    continue
                zones = target.zones or plan.zones_of(target)
                floor = plan.floor_of(target)
                if target.window_end is None or target.window_end <= at \
                        or not self._is_open(plan.with_floor(floor), zones, at):
                    schedule.append(plan.schedule(target, at))  # its window passed: move on
                    continue
                if target.on_a_call or target.phone in dialing:
                    # Another campaign is calling this person: never two calls at once (and
                    # the caps count the first before this one is weighed).
                    schedule.append(plan.schedule(target, at + LINE_BUSY_DELAY))
                    continue
                verdict = compliance.check(target, floor, plan.profile, at,
                                           telemarketing=plan.telemarketing,
                                           regulation_f=plan.regulation_f)
                if verdict.decision != "dial":
                    record = _audit(target, zones, floor, at, verdict)
                    if verdict.decision == "block":
                        schedule.append(Closed(target.id, "blocked", verdict.reason or "",
                                               audit=record))
                        continue
                    assert verdict.not_before is not None
                    schedule.append(plan.schedule(target, verdict.not_before))
                    if claim.audit:
                        audit.append(record)
                    continue
                number = self._caller_number(plan, pool, by_id, target)
                if number is None:
                    schedule.append(Closed(target.id, "blocked", "no-caller-number"))
                    continue
                log_ = logs.get(number.id)
                if log_ is None:
                    log_ = logs[number.id] = pacing.StartLog(
                        pacing.rate_window(number.cps_limit), number.recent_starts, at)
                if not log_.allows_one():
                    wake = log_.next_start_at()
                    self._cps_wake = wake if self._cps_wake is None else min(self._cps_wake,
                                                                               wake)
                    continue
                log_.record()
                dialing.add(target.phone)
                call = self._new_call(plan, target, zones, number, at)
                calls.append(call)
                if claim.audit:
                    audit.append(_audit(target, zones, floor, at, compliance.DIAL,
                                        call.request.call_id))
                left -= 1
        if self._slots_left is not None:
            self._slots_left = max(0, self._slots_left - len(calls))
        # Starts older than one period can no longer limit anything.
        number_starts = {number_id: log_.kept() for number_id, log_ in logs.items()}
        if len(calls) < _free_slots(claim) and (schedule or (calls and any(
                len(due.get(cid, ())) >= cut for cid, cut in self._fetch_cut.items()))):
            # Slots are left and stale windows took places in the fetch, or a campaign may
            # have had more due than was fetched: the next tick, at once, looks further. Only
            # after progress (contacts rescheduled or dialed): otherwise it would find the
            # same (say every number at its CPS limit) and loop.
            self._more = True
        return ClaimDecision(tuple(calls), tuple(schedule), number_starts, tuple(audit))

    def _pool(self, campaign_id: str, numbers: Sequence[NumberView]) -> tuple[OwnedNumber, ...]:
        """The campaign's numbers in canonical order, sorted again only when they change."""
        key = tuple((n.id, n.e164) for n in numbers)
        cached = self._pools.get(campaign_id)
        if cached is None or cached[0] != key:
            cached = self._pools[campaign_id] = (key, canonical_order(owned(n) for n in numbers))
        return cached[1]

    def _is_open(self, rules: CallingRules, zones: tuple[str, ...], at: datetime) -> bool:
        """``windows.is_open``, remembering the window found: most contacts share a few
        zone sets, so one window answers for all of them until it closes."""
        key = (id(rules), zones)
        known = self._open.get(key)
        if known is not None and known[0] is rules and known[1] <= at < known[2]:
            return True
        window = next_window(rules, zones, at, span_limit=WINDOW_STEP)
        if window is None or window.start > at:
            return False
        if len(self._open) > MEMO_LIMIT:
            self._open.clear()
        self._open[key] = (rules, window.start, window.end)
        return True

    def _caller_number(self, plan: CampaignPlan, pool: tuple[OwnedNumber, ...],
                       by_id: Mapping[str, NumberView], target: Target) -> NumberView | None:
        if not pool:
            return None
        key = (target.id, target.attempts, target.caller_number_id)
        known = self._chosen.get(key)
        if known is not None and known[0] is plan and known[1] is pool:
            return None if known[2] is None else by_id[known[2]]
        number = self._choose_number(plan, pool, by_id, target)
        if len(self._chosen) > MEMO_LIMIT:
            self._chosen.clear()
        self._chosen[key] = (plan, pool, None if number is None else number.id)
        return number

    def _choose_number(self, plan: CampaignPlan, pool: tuple[OwnedNumber, ...],
                       by_id: Mapping[str, NumberView], target: Target) -> NumberView | None:
        # Only local presence needs to know where the callee is.
        callee = callee_from_e164(target.phone) if plan.caller_mode == "local_presence" \
            else Callee(target.phone)
        choice = choose_from_ordered(plan.caller_mode, pool, callee,
                                      rotation=rotation_for(target.id, target.attempts + 1),
                                      assigned_number_id=target.caller_number_id)
        return None if choice.number is None else by_id[choice.number.id]

    def _new_call(self, plan: CampaignPlan, target: Target, zones: tuple[str, ...],
                  number: NumberView, at: datetime) -> NewCall:
        attempt = target.attempts + 1
        call_id = call_id_for(target.id, attempt)
        # Memory across calls: a contact reached before is greeted as a returning one, and
        # the agent gets the summaries of its last calls.
        opening = plan.opening
        if plan.returning_opening is not None and (target.conversations or target.summaries):
            opening = plan.returning_opening
        request = DialRequest(
            call_id=call_id, from_number=number.e164, to_number=target.phone,
            callee_zones=zones, placed_at=at, machine_detection=plan.machine_detection,
            machine_detection_timeout_s=plan.machine_detection_timeout_s,
            opening_message=opening,
            voicemail_message=with_callback(plan.voicemail_message, number.e164),
            context=target.variables,
            previous_summaries=(target.summaries[:plan.summaries_limit] if target.summaries
                                else ()))
        return NewCall(target.id, plan.id, target.contact_id, attempt, number.id,
                       number.provider, request, plan.view.assistant_id,
                       target.address_state, target.address_country)

    # --- when to wake ----------------------------------------------------------------------

    def _wake(self, at: datetime, views: Iterable[CampaignView]) -> datetime | None:
        """The next instant a campaign boundary, a CPS limit or a stagger needs a tick (the
        simulator adds the provider's next event and the store's next due contact)."""
        candidates: list[datetime] = []
        if self._cps_wake is not None:
            candidates.append(self._cps_wake)
        for view in views:
            plan = self._plans.get(view.id)
            if view.status == "scheduled":
                first = schedule_start(view.schedule)
                if first is not None and first > at:
                    candidates.append(first)
            if plan is not None and plan.end_at is not None and plan.end_at > at:
                candidates.append(plan.end_at)
        return min(candidates) if candidates else None


class _Decider:
    """Binds a dialer and the tick's instant to the store's ClaimDecider protocol."""

    def __init__(self, dialer: Dialer, at: datetime) -> None:
        self._dialer = dialer
        self._at = at

    def wanted(self, claim: ClaimInput) -> Mapping[str, int]:
        return self._dialer.wanted(claim)

    def decide(self, claim: ClaimInput, due: Mapping[str, Sequence[Target]]) -> ClaimDecision:
        return self._dialer.decide(claim, due, self._at)


def _placed_view(call: NewCall, worker_id: str) -> CallView:
    """A call just claimed, as the store would show it: dialing since its claim."""
    request = call.request
    return CallView(request.call_id, "", call.campaign_id, call.target_id, call.attempt, None,
                    worker_id, CallState(status="dialing", dialing_at=request.placed_at),
                    None, request.callee_zones, request.to_number, call.address_state,
                    call.address_country)


def _audit(target: Target, zones: Sequence[str], floor: LegalFloor, at: datetime,
           verdict: compliance.Verdict, call_id: str | None = None) -> AuditRecord:
    decision: Literal["dialed", "blocked", "deferred"] = (
        "dialed" if verdict.decision == "dial"
        else "blocked" if verdict.decision == "block" else "deferred")
    return AuditRecord(target.id, target.campaign_id, target.phone, at, decision,
                       verdict.reason, floor.describe(), compliance.local_times(zones, at),
                       call_id)


def _cps_budget(claim: ClaimInput) -> int:
    """Dial starts the workspace's numbers allow at this instant, together."""
    total = 0
    at = claim.at
    for number in claim.numbers:
        window = pacing.rate_window(number.cps_limit)
        starts = number.recent_starts
        if not starts:
            total += window.max_starts
        elif max(starts) <= at:  # the usual case: count the last period's starts
            after = at - window.period
            total += max(0, window.max_starts - sum(1 for s in starts if s > after))
        else:
            total += pacing.StartLog(window, starts, at).room()
    return total


def _free_slots(claim: ClaimInput) -> int:
    ws = claim.workspace
    return pacing.workspace_capacity(ws.concurrency_limit, ws.concurrency_rate) \
        - claim.workspace_in_flight


def _total(view: CampaignView) -> int:
    return view.contacts_total  # grows when contacts are added: new ones need scheduling


