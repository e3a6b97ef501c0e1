"""MemoryDialerStore: the semantics the SQL adapter shares (orderings, counters, first ending
wins, leases, next_due), with a fake decider; a randomized check of the due-contact index
against a brute-force reference; and the real dialer driven over it end to end."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from ringwise.clock import ManualClock
from ringwise.core.call_states import CallOutcome, CallState, end_call, transition
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import COUNTER_NAMES, ContactRow, MemoryDialerStore
from ringwise.dialer.store import (
    AttemptEnd,
    CallChange,
    CampaignView,
    ClaimDecision,
    ClaimInput,
    Closed,
    NewCall,
    NumberView,
    ScheduleChange,
    Scheduled,
    Target,
    WorkspaceView,
)
from ringwise.telephony.port import DialRequest
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ZONES = ("America/New_York",)


def sec(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


# --- builders --------------------------------------------------------------------------------

def workspace(id: str = "ws1", limit: int = 10) -> WorkspaceView:
    return WorkspaceView(id, "America/New_York", None, limit, 100)


def campaign(id: str = "c1", ws: str = "ws1", status: str = "running", *,
             schedule: Mapping[str, object] | None = None,
             retry: Mapping[str, object] | None = None,
             caller_id: Mapping[str, object] | None = None) -> CampaignView:
    return CampaignView(
        id=id, workspace_id=ws, status=status, priority=50, concurrency_limit=0,
        never_ending=False, channel=None, assistant_id=None, schedule=schedule or {},
        retry=retry or {}, caller_id=caller_id or {"mode": "fixed"}, voicemail={},
        opening_message="Hello", first_message=None, voicemail_message=None, updated_at=T0,
        started_at=None, contacts_total=0, contacts_pending=0, contacts_active=0, in_flight=0)


def number(id: str = "n1", ws: str = "ws1", e164: str = "+12125550100") -> NumberView:
    return NumberView(id, ws, e164, "simulated", "US", "NY", "212", 1.0, ())


def target(id: str, campaign_id: str = "c1", *, due: datetime | None = None,
           zones: tuple[str, ...] | None = None, attempts: int = 0) -> Target:
    return Target(id=id, campaign_id=campaign_id, contact_id=f"k-{id}",
                  phone="+12125551234", contact_timezone=None,
                  zones=zones if zones is not None else (ZONES if due else None),
                  attempts=attempts, due_at=due,
                  window_end=None if due is None else due + timedelta(hours=8),
                  caller_number_id=None, first_attempt_at=None)


def store_with(*campaigns: CampaignView, numbers: Sequence[NumberView] = ()) -> MemoryDialerStore:
    store = MemoryDialerStore()
    for ws in sorted({c.workspace_id for c in campaigns} | {n.workspace_id for n in numbers}
                     or {"ws1"}):
        store.add_workspace(workspace(ws))
    for view in campaigns:
        store.add_campaign(view)
    for n in numbers:
        store.add_number(n)
    return store


def new_call(t: Target, at: datetime, from_number: str = "+12125550100",
             zones: tuple[str, ...] = ZONES) -> NewCall:
    attempt = t.attempts + 1
    request = DialRequest(call_id=f"call-{t.id}-{attempt}", from_number=from_number,
                          to_number=t.phone, callee_zones=zones, placed_at=at)
    return NewCall(t.id, t.campaign_id, t.contact_id, attempt, "n1", "simulated", request)


@dataclass
class FakeDecider:
    """Asks for ``want`` due contacts per running campaign (or what ``wanted_fn`` says) and
    dials those ``pick`` keeps (all by default); records what it was given."""

    want: int | Mapping[str, int] = 100
    pick: Callable[[Target], bool] = lambda t: True
    schedule: Sequence[ScheduleChange] = ()
    number_starts: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    inputs: list[ClaimInput] = field(default_factory=list)
    dues: list[dict[str, list[Target]]] = field(default_factory=list)

    def wanted(self, claim: ClaimInput) -> Mapping[str, int]:
        self.inputs.append(claim)
        if not isinstance(self.want, int):
            return self.want
        return {c.id: self.want for c in claim.campaigns}

    def decide(self, claim: ClaimInput, due: Mapping[str, Sequence[Target]]) -> ClaimDecision:
        self.dues.append({k: list(v) for k, v in due.items()})
        calls = tuple(new_call(t, claim.at) for ts in due.values() for t in ts if self.pick(t))
        return ClaimDecision(calls, tuple(self.schedule), dict(self.number_starts))


def among(ids: Collection[str]) -> Callable[[Target], bool]:
    return lambda t: t.id in ids


def due_ids(decider: FakeDecider, campaign_id: str = "c1") -> list[str]:
    return [t.id for t in decider.dues[-1].get(campaign_id, [])]


def ended(state: CallState, outcome: CallOutcome, at: datetime) -> CallState:
    if outcome in ("answered", "voicemail"):
        state = transition(transition(state, "ringing", at=at), "in-progress", at=at)
    return end_call(state, outcome, at=at)


def recount(store: MemoryDialerStore, campaign_id: str) -> dict[str, int]:
    """The counters recomputed from the rows: what they must always equal."""
    rows = store.contact_rows(campaign_id)
    states = Counter(r.state for r in rows)
    calls = [c for c in store.call_rows() if c.campaign_id == campaign_id]
    outcomes = Counter(c.state.outcome for c in calls)
    return {
        "contacts_total": len(rows), "contacts_pending": states["pending"],
        "contacts_active": states["active"], "contacts_done": states["done"],
        "contacts_skipped": states["skipped"], "calls_total": len(calls),
        "calls_in_progress": sum(not c.state.is_ended for c in calls),
        "calls_ended": sum(c.state.is_ended for c in calls),
        "calls_answered": outcomes["answered"], "calls_voicemail": outcomes["voicemail"],
        "calls_no_answer": outcomes["no-answer"], "calls_busy": outcomes["busy"],
        "calls_failed": outcomes["failed"],
    }


def row(store: MemoryDialerStore, contact_id: str, campaign_id: str = "c1") -> ContactRow:
    return next(r for r in store.contact_rows(campaign_id) if r.id == contact_id)


# --- loading and plain reads -----------------------------------------------------------------

def test_views_are_sorted_and_carry_live_counters() -> None:
    store = store_with(campaign("c2"), campaign("c1"), campaign("c3", status="paused"),
                       numbers=[number("n2", e164="+12125550100"),
                                number("n1", e164="+12125550100"),
                                number("n0", e164="+12125550199")])
    store.add_contacts("c1", [target("a"), target("b")])
    assert [v.id for v in store.campaigns(["running"])] == ["c1", "c2"]
    assert [v.id for v in store.campaigns(["running", "paused"])] == ["c1", "c2", "c3"]
    view = store.campaigns(["running"])[0]
    assert (view.contacts_total, view.contacts_pending, view.contacts_active,
            view.in_flight) == (2, 2, 0, 0)
    assert [n.id for n in store.numbers("ws1")] == ["n1", "n2", "n0"]
    assert store.numbers("nope") == []
    assert list(store.workspaces(["ws1", "nope"])) == ["ws1"]
    assert store.counters("c1") == dict.fromkeys(COUNTER_NAMES, 0) | {
        "contacts_total": 2, "contacts_pending": 2}


def test_loading_is_validated_and_all_or_nothing() -> None:
    store = store_with(campaign())
    with pytest.raises(ValueError):
        store.add_campaign(campaign())  # id taken
    with pytest.raises(KeyError):
        store.add_campaign(campaign("c9", ws="nope"))
    with pytest.raises(ValueError):
        store.add_campaign(replace(campaign("c9"), contacts_total=3))
    store.add_contacts("c1", [target("a")])
    with pytest.raises(ValueError):  # "b" fine, "a" again is not: nothing is added
        store.add_contacts("c1", [target("b"), target("a")])
    with pytest.raises(ValueError):  # a contact already in the campaign
        store.add_contacts("c1", [replace(target("y"), contact_id="k-a")])
    with pytest.raises(ValueError):  # a target of another campaign
        store.add_contacts("c1", [target("z", campaign_id="c2")])
    assert [r.id for r in store.contact_rows("c1")] == ["a"]
    assert store.counters("c1")["contacts_total"] == 1


# --- scheduling ------------------------------------------------------------------------------

def test_unscheduled_is_by_id_with_a_limit_and_save_schedule_applies_to_pending_only() -> None:
    store = store_with(campaign())
    store.add_contacts("c1", [target(i) for i in ("d", "b", "e")])
    store.add_contacts("c1", [target("a"), target("c"), target("x", due=sec(0))])
    assert [t.id for t in store.unscheduled("c1", 2)] == ["a", "b"]
    assert [t.id for t in store.unscheduled("c1", 10)] == ["a", "b", "c", "d", "e"]
    assert store.unscheduled("c1", 0) == []
    store.save_schedule([Scheduled("a", ZONES, sec(10), sec(100)),
                         Closed("b", "blocked", "unknown-timezone")], T0)
    assert [t.id for t in store.unscheduled("c1", 10)] == ["c", "d", "e"]
    a, b = row(store, "a"), row(store, "b")
    assert (a.state, a.due_at, a.window_end, a.zones) == ("pending", sec(10), sec(100), ZONES)
    assert (b.state, b.outcome, b.ended_reason, b.due_at) == (
        "skipped", "blocked", "unknown-timezone", None)
    counters = store.counters("c1")
    assert (counters["contacts_pending"], counters["contacts_skipped"]) == (5, 1)
    # b is not pending any more: neither change touches it, nor the counters.
    store.save_schedule([Scheduled("b", ZONES, sec(5), sec(50)),
                         Closed("b", "expired", "again")], T0)
    assert row(store, "b") == b
    assert store.counters("c1") == counters


# --- claiming --------------------------------------------------------------------------------

def test_claim_fetches_due_by_due_at_then_id_up_to_wanted() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [
        target("e", due=sec(5)), target("b", due=sec(10)), target("a", due=sec(10)),
        target("d", due=sec(1)), target("c", due=sec(60)), target("f")])
    decider = FakeDecider(want=3, pick=lambda t: False)
    assert store.claim("ws1", sec(30), "w1", decider) == []
    assert due_ids(decider) == ["d", "e", "a"]
    decider.want = 10  # nothing was dialed: the same contacts are due, and b; not c, f
    store.claim("ws1", sec(30), "w1", decider)
    assert due_ids(decider) == ["d", "e", "a", "b"]
    decider.pick = lambda t: t.id in ("e", "b")
    calls = store.claim("ws1", sec(30), "w1", decider)
    assert [c.target_id for c in calls] == ["e", "b"]
    decider.pick = lambda t: False
    store.claim("ws1", sec(60), "w1", decider)  # c is due at 60 (<= at)
    assert due_ids(decider) == ["d", "a", "c"]
    store.claim("ws1", sec(30), "w1", decider)  # an earlier instant again
    assert due_ids(decider) == ["d", "a"]


def test_claim_input_and_wanted_keys() -> None:
    store = store_with(campaign("c2"), campaign("c1"), campaign("cp", status="paused"),
                       campaign("other", ws="ws2"),
                       numbers=[number("n2", e164="+12125550200"), number("n1")])
    store.add_contacts("cp", [target("p", campaign_id="cp", due=T0)])
    store.add_contacts("c1", [target("a", due=T0)])
    store.add_contacts("c2", [target("b", campaign_id="c2", due=T0)])
    # The paused campaign's call still counts in the workspace's in-flight total.
    store.claim("ws1", T0, "w1", FakeDecider(want={"cp": 1}))
    decider = FakeDecider(want={"c2": 5, "c1": 0, "ghost": 2}, pick=lambda t: False)
    store.claim("ws1", sec(1), "w1", decider)
    claim = decider.inputs[-1]
    assert claim.at == sec(1) and claim.workspace == workspace("ws1")
    assert [c.id for c in claim.campaigns] == ["c1", "c2"]
    assert claim.workspace_in_flight == 1
    assert [n.id for n in claim.numbers] == ["n1", "n2"]
    # Keys in wanted's order; a count of 0 is left out; an unknown campaign has nobody due.
    assert list(decider.dues[-1]) == ["c2", "ghost"]
    assert due_ids(decider, "c2") == ["b"] and due_ids(decider, "ghost") == []
    assert store.claim("nope", T0, "w1", FakeDecider()) == []


def test_claim_writes_calls_contacts_counters_schedule_and_number_starts() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target("a", due=sec(1)), target("b", due=sec(2)),
                              target("c", due=sec(3)), target("d", due=sec(99))])
    decider = FakeDecider(
        pick=lambda t: t.id == "a",
        schedule=[Scheduled("b", ("Europe/Paris",), sec(500), sec(900)),
                  Closed("c", "blocked", "no-caller-number"),
                  Closed("a", "blocked", "ignored: a is active now")],
        number_starts={"n1": (sec(9),), "unknown": (sec(9),)})
    calls = store.claim("ws1", sec(9), "w1", decider)
    assert [c.request.call_id for c in calls] == ["call-a-1"]
    (call,) = store.call_rows()
    assert (call.id, call.workspace_id, call.campaign_id, call.campaign_contact_id,
            call.contact_id, call.attempt, call.phone_number_id, call.provider,
            call.from_number, call.to_number, call.provider_call_id, call.lease_owner,
            call.created_at) == ("call-a-1", "ws1", "c1", "a", "k-a", 1, "n1", "simulated",
                                 "+12125550100", "+12125551234", None, "w1", sec(9))
    assert call.state == CallState(status="dialing", dialing_at=sec(9))
    a = row(store, "a")
    assert (a.state, a.attempts, a.first_attempt_at, a.last_attempt_at, a.due_at,
            a.window_end, a.zones) == ("active", 1, sec(9), sec(9), None, None, ZONES)
    b, c = row(store, "b"), row(store, "c")
    assert (b.state, b.due_at, b.window_end, b.zones) == (
        "pending", sec(500), sec(900), ("Europe/Paris",))
    assert (c.state, c.outcome, c.ended_reason) == ("skipped", "blocked", "no-caller-number")
    assert store.counters("c1") == recount(store, "c1")
    assert store.counters("c1")["calls_in_progress"] == 1
    assert store.numbers("ws1")[0].recent_starts == (sec(9),)
    (view,) = store.campaigns(["running"])
    assert (view.contacts_pending, view.contacts_active, view.in_flight) == (2, 1, 1)
    # b was moved to 500: not due at 100 any more; d is.
    decider = FakeDecider(pick=lambda t: False)
    store.claim("ws1", sec(100), "w1", decider)
    assert due_ids(decider) == ["d"]


def test_a_decision_the_store_refuses_changes_nothing() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target("a", due=T0), target("b", due=T0)])
    store.claim("ws1", T0, "w1", FakeDecider(pick=lambda t: t.id == "a"))
    before = (store.call_rows(), store.contact_rows("c1"), store.counters("c1"))

    class Repeats(FakeDecider):  # dials b, then a's first attempt again
        def decide(self, claim: ClaimInput,
                   due: Mapping[str, Sequence[Target]]) -> ClaimDecision:
            b = due["c1"][0]
            return ClaimDecision((new_call(b, claim.at), new_call(target("a"), claim.at)))

    with pytest.raises(ValueError):
        store.claim("ws1", sec(1), "w1", Repeats())
    assert (store.call_rows(), store.contact_rows("c1"), store.counters("c1")) == before
    decider = FakeDecider(pick=lambda t: False)
    store.claim("ws1", sec(1), "w1", decider)
    assert due_ids(decider) == ["b"]  # still due


# --- ending calls ----------------------------------------------------------------------------

def claimed(store: MemoryDialerStore, at: datetime, ids: Sequence[str]) -> list[NewCall]:
    return store.claim("ws1", at, "w1", FakeDecider(pick=among(ids)))


def test_ends_done_skipped_and_retried_with_their_counters() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target(i, due=T0) for i in ("a", "b", "c", "d")])
    calls = claimed(store, T0, ["a", "b", "c", "d"])
    assert len(calls) == 4
    views = store.calls([c.request.call_id for c in calls] + ["nope"])
    assert list(views) == ["call-a-1", "call-b-1", "call-c-1", "call-d-1"]
    assert views["call-a-1"].first_attempt_at == T0 and views["call-a-1"].zones == ZONES
    at = sec(40)
    changes = [CallChange("call-a-1", ended(views["call-a-1"].state, "answered", at), "sid-a"),
               CallChange("call-b-1", ended(views["call-b-1"].state, "no-answer", at)),
               CallChange("call-c-1", ended(views["call-c-1"].state, "busy", at)),
               CallChange("call-d-1", transition(views["call-d-1"].state, "ringing", at=at),
                          "sid-d")]
    retry = Scheduled("b", ("America/Chicago",), sec(3600), sec(7200))
    ends = [AttemptEnd("a", "c1", "answered", reason="answered"),
            AttemptEnd("b", "c1", "no-answer", retry=retry),
            AttemptEnd("c", "c1", "busy", final_state="skipped", reason="campaign-closed")]
    store.save_calls(changes, ends, at)
    a, b, c, d = (row(store, i) for i in "abcd")
    assert (a.state, a.outcome, a.ended_reason) == ("done", "answered", "answered")
    assert (b.state, b.outcome, b.due_at, b.window_end, b.zones, b.attempts) == (
        "pending", "no-answer", sec(3600), sec(7200), ("America/Chicago",), 1)
    assert (c.state, c.outcome, c.ended_reason) == ("skipped", "busy", "campaign-closed")
    assert d.state == "active"
    counters = store.counters("c1")
    assert counters == recount(store, "c1")
    assert {k: counters[k] for k in ("contacts_pending", "contacts_active", "contacts_done",
                                     "contacts_skipped", "calls_in_progress", "calls_ended",
                                     "calls_answered", "calls_no_answer", "calls_busy")} == {
        "contacts_pending": 1, "contacts_active": 1, "contacts_done": 1,
        "contacts_skipped": 1, "calls_in_progress": 1, "calls_ended": 3,
        "calls_answered": 1, "calls_no_answer": 1, "calls_busy": 1}
    rows = {r.id: r for r in store.call_rows()}
    assert rows["call-a-1"].provider_call_id == "sid-a"
    assert rows["call-d-1"].state.status == "ringing" and rows["call-d-1"].provider_call_id \
        == "sid-d"
    # The retry is due at its instant, as attempt 2, with the view's zones following it.
    decider = FakeDecider(pick=lambda t: False)
    store.claim("ws1", sec(3599), "w1", decider)
    assert due_ids(decider) == []
    store.claim("ws1", sec(3600), "w1", decider)
    assert due_ids(decider) == ["b"] and decider.dues[-1]["c1"][0].attempts == 1
    (second,) = claimed(store, sec(3600), ["b"])
    assert second.attempt == 2
    view = store.calls(["call-b-2"])["call-b-2"]
    assert (view.attempt, view.first_attempt_at) == (2, T0)
    assert row(store, "b").last_attempt_at == sec(3600)
    assert store.counters("c1") == recount(store, "c1")


def test_first_ending_wins() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target("a", due=T0)])
    claimed(store, T0, ["a"])
    dialing = store.calls(["call-a-1"])["call-a-1"].state
    first = ended(dialing, "no-answer", sec(30))
    store.save_calls([CallChange("call-a-1", first, "sid-1")],
                     [AttemptEnd("a", "c1", "no-answer", reason="max-attempts")], sec(30))
    before = (store.call_rows(), store.contact_rows("c1"), store.counters("c1"))
    # A second ending (another worker, a late reconciliation): ignored, end and all.
    second = ended(dialing, "answered", sec(31))
    store.save_calls(
        [CallChange("call-a-1", second, "sid-2")],
        [AttemptEnd("a", "c1", "answered", retry=Scheduled("a", ZONES, sec(99), sec(999)))],
        sec(31))
    assert (store.call_rows(), store.contact_rows("c1"), store.counters("c1")) == before
    assert store.call_rows()[0].state == first
    assert store.call_rows()[0].provider_call_id == "sid-1"
    # Within one batch too: the first ending change of a call is the one kept.
    store.add_contacts("c1", [target("b", due=T0)])
    claimed(store, sec(40), ["b"])
    dialing = store.calls(["call-b-1"])["call-b-1"].state
    store.save_calls([CallChange("call-b-1", ended(dialing, "busy", sec(41))),
                      CallChange("call-b-1", ended(dialing, "answered", sec(42)))],
                     [AttemptEnd("b", "c1", "busy", reason="max-attempts")], sec(42))
    assert store.calls(["call-b-1"])["call-b-1"].state.outcome == "busy"
    assert store.counters("c1") == recount(store, "c1")


def test_an_ending_without_its_attempt_end_is_refused_whole() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target("a", due=T0), target("b", due=T0)])
    claimed(store, T0, ["a", "b"])
    views = store.calls(["call-a-1", "call-b-1"])
    before = (store.call_rows(), store.contact_rows("c1"), store.counters("c1"))
    with pytest.raises(ValueError):
        store.save_calls(
            [CallChange("call-a-1", ended(views["call-a-1"].state, "busy", sec(5))),
             CallChange("call-b-1", ended(views["call-b-1"].state, "busy", sec(5)))],
            [AttemptEnd("a", "c1", "busy")], sec(5))
    assert (store.call_rows(), store.contact_rows("c1"), store.counters("c1")) == before
    store.save_calls([CallChange("unknown", views["call-a-1"].state)], [], sec(5))  # ignored
    assert store.call_rows() == before[0]


# --- leases ----------------------------------------------------------------------------------

def test_orphaned_calls_of_a_silent_worker_are_leased_in_creation_order() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target(i, due=T0) for i in ("a", "b", "c", "d", "e")])
    store.heartbeat("w1", T0)
    claimed(store, T0, ["c", "a"])  # same created_at: by id
    claimed(store, sec(1), ["b"])
    claimed(store, sec(2), ["e"])
    store.claim("ws1", sec(2), "ghost", FakeDecider(pick=lambda t: t.id == "d"))
    a_state = store.calls(["call-a-1"])["call-a-1"].state
    store.save_calls([CallChange("call-a-1", ended(a_state, "busy", sec(3)))],
                     [AttemptEnd("a", "c1", "busy")], sec(3))
    store.heartbeat("w2", sec(100))
    # w1 alive recently enough: only the ghost (it never heart-beat) is orphaned.
    assert [v.id for v in store.orphaned_calls(sec(100), sec(0), "w2", 10)] == ["call-d-1"]
    # w1 silent since T0: its unended calls by (created_at, id), `limit` at a time.
    first = store.orphaned_calls(sec(100), sec(40), "w2", 2)
    assert [v.id for v in first] == ["call-c-1", "call-b-1"]
    assert all(v.lease_owner == "w2" for v in first)
    assert [v.id for v in store.orphaned_calls(sec(100), sec(40), "w2", 2)] == ["call-e-1"]
    assert store.orphaned_calls(sec(100), sec(40), "w2", 2) == []  # w2 is alive
    assert {c.id: c.lease_owner for c in store.call_rows()} == {
        "call-a-1": "w1", "call-c-1": "w2", "call-b-1": "w2", "call-e-1": "w2",
        "call-d-1": "w2"}
    # w2 goes silent in turn: a third worker takes over all four.
    store.heartbeat("w3", sec(500))
    assert [v.id for v in store.orphaned_calls(sec(500), sec(400), "w3", 10)] == [
        "call-c-1", "call-b-1", "call-d-1", "call-e-1"]


# --- next_due --------------------------------------------------------------------------------

def test_next_due_is_the_earliest_later_due_at_of_running_campaigns() -> None:
    store = store_with(campaign("c1"), campaign("c2"), campaign("cp", status="paused"),
                       numbers=[number()])
    assert store.next_due(T0) is None
    store.add_contacts("c1", [target("a", due=sec(10)), target("b", due=sec(50)),
                              target("u")])
    store.add_contacts("c2", [target("x", campaign_id="c2", due=sec(30))])
    store.add_contacts("cp", [target("p", campaign_id="cp", due=sec(5))])
    assert store.next_due(T0) == sec(10)
    assert store.next_due(sec(10)) == sec(30)  # strictly after
    assert store.next_due(sec(30)) == sec(50)
    assert store.next_due(sec(2)) == sec(10)  # asking about an earlier instant again
    assert store.next_due(sec(50)) is None
    claimed(store, sec(60), ["b"])  # claimed: not pending any more
    assert store.next_due(sec(20)) == sec(30)
    store.set_status("cp", "running")
    assert store.next_due(T0) == sec(5)
    store.save_schedule([Scheduled("u", ZONES, sec(7), sec(70))], T0)
    assert store.next_due(sec(5)) == sec(7)
    store.save_schedule([Scheduled("u", ZONES, sec(20), sec(70))], T0)  # moved later
    assert store.next_due(sec(5)) == sec(10)
    assert store.close_pending("c1", "expired", "campaign-ended", sec(5)) == 2  # a, u
    assert store.next_due(sec(5)) == sec(30)


def test_next_due_skips_contacts_moved_or_claimed_since() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target("a", due=sec(10)), target("b", due=sec(20)),
                              target("c", due=sec(40))])
    assert store.next_due(T0) == sec(10)
    store.save_schedule([Scheduled("a", ZONES, sec(30), sec(300))], T0)
    assert store.next_due(T0) == sec(20)
    claimed(store, sec(25), ["b"])
    assert store.next_due(T0) == sec(30)
    assert store.next_due(sec(30)) == sec(40)


# --- campaign status and closing -------------------------------------------------------------

def test_set_campaign_status_is_compare_and_set_and_keeps_updated_at() -> None:
    store = store_with(campaign(status="scheduled"))
    assert not store.set_campaign_status("c1", "running", "paused", sec(1))
    assert not store.set_campaign_status("nope", "scheduled", "running", sec(1))
    assert store.set_campaign_status("c1", "scheduled", "running", sec(2))
    assert store.set_campaign_status("c1", "running", "paused", sec(3))
    assert store.set_campaign_status("c1", "paused", "running", sec(4))
    row1 = store.campaign_row("c1")
    assert (row1.view.status, row1.view.started_at, row1.view.updated_at) == (
        "running", sec(2), T0)
    assert (row1.completed_at, row1.ended_reason) == (None, None)
    assert store.set_campaign_status("c1", "running", "completed", sec(5), "all-contacts-done")
    row2 = store.campaign_row("c1")
    assert (row2.view.status, row2.view.updated_at, row2.completed_at, row2.ended_reason) == (
        "completed", T0, sec(5), "all-contacts-done")
    assert [v.id for v in store.campaigns(["completed"])] == ["c1"]


def test_close_pending_skips_every_pending_contact_only() -> None:
    store = store_with(campaign(), numbers=[number()])
    store.add_contacts("c1", [target("a", due=T0), target("b", due=sec(100)), target("u")])
    claimed(store, T0, ["a"])
    assert store.close_pending("c1", "expired", "campaign-ended", sec(9)) == 2
    assert store.close_pending("c1", "expired", "campaign-ended", sec(9)) == 0
    assert store.close_pending("nope", "expired", "campaign-ended", sec(9)) == 0
    rows = {r.id: r for r in store.contact_rows("c1")}
    assert rows["a"].state == "active"
    for i in ("b", "u"):
        assert (rows[i].state, rows[i].outcome, rows[i].ended_reason, rows[i].due_at,
                rows[i].window_end) == ("skipped", "expired", "campaign-ended", None, None)
    assert store.counters("c1") == recount(store, "c1")
    assert store.unscheduled("c1", 10) == []
    decider = FakeDecider()
    store.claim("ws1", sec(1000), "w1", decider)
    assert due_ids(decider) == []


# --- the due index against a brute-force reference -------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_due_index_matches_a_brute_force_reference(seed: int) -> None:
    rng = random.Random(seed)
    store = store_with(campaign("c1"), campaign("c2"), numbers=[number()])
    for cid in ("c1", "c2"):
        store.add_contacts(cid, [
            target(f"{cid}-{i:03d}", campaign_id=cid,
                   due=None if rng.random() < 0.2 else sec(rng.randrange(0, 600, 5)))
            for i in rng.sample(range(300), 120)])

    def reference_due(at: datetime) -> dict[str, list[str]]:
        due: dict[str, list[str]] = {}
        for cid in ("c1", "c2"):
            rows = [r for r in store.contact_rows(cid)
                    if r.state == "pending" and r.due_at is not None and r.due_at <= at]
            due[cid] = [r.id for r in sorted(rows, key=lambda r: (r.due_at, r.id))]
        return due

    def reference_next(after: datetime) -> datetime | None:
        dues = [r.due_at for cid in ("c1", "c2") for r in store.contact_rows(cid)
                if r.state == "pending" and r.due_at is not None and r.due_at > after]
        return min(dues, default=None)

    now = T0
    in_flight: list[str] = []
    for _ in range(150):
        step = rng.random()
        if step < 0.1:  # look at the past sometimes
            probe = now - timedelta(seconds=rng.randrange(0, 300))
        else:
            now += timedelta(seconds=rng.randrange(0, 40))
            probe = now
        assert store.next_due(probe) == reference_next(probe)
        expected = reference_due(probe)
        want = {"c1": rng.randrange(0, 6), "c2": rng.randrange(1, 6)}
        moved: list[ScheduleChange] = []
        for cid in ("c1", "c2"):  # the decider moves or closes some of the due ones
            for tid in expected[cid][:want[cid]]:
                if rng.random() < 0.15:
                    moved.append(Scheduled(tid, ZONES, probe + timedelta(
                        seconds=rng.randrange(-50, 200)), probe + timedelta(hours=1)))
                elif rng.random() < 0.05:
                    moved.append(Closed(tid, "blocked", "no-caller-number"))
        moved_ids = {c.target_id for c in moved}
        dial = frozenset(tid for cid in ("c1", "c2") for tid in expected[cid][:want[cid]]
                         if tid not in moved_ids and rng.random() < 0.5)
        decider = FakeDecider(want=want, pick=among(dial), schedule=moved)
        calls = store.claim("ws1", probe, "w1", decider)
        got = decider.dues[-1]
        for cid in ("c1", "c2"):
            assert [t.id for t in got.get(cid, [])] == expected[cid][:want[cid]]
        in_flight += [c.request.call_id for c in calls]
        rng.shuffle(in_flight)
        count = rng.randrange(0, 4)
        ending, in_flight = in_flight[:count], in_flight[count:]
        if ending:
            views = store.calls(ending)
            changes, ends = [], []
            for call_id in ending:
                view = views[call_id]
                changes.append(CallChange(call_id, ended(view.state, "no-answer", probe)))
                if rng.random() < 0.6:
                    due = probe + timedelta(seconds=rng.randrange(-30, 300))
                    ends.append(AttemptEnd(view.campaign_contact_id, view.campaign_id,
                                           "no-answer", retry=Scheduled(
                                               view.campaign_contact_id, ZONES, due,
                                               due + timedelta(hours=1))))
                else:
                    ends.append(AttemptEnd(view.campaign_contact_id, view.campaign_id,
                                           "no-answer", reason="max-attempts"))
            store.save_calls(changes, ends, probe)
        if rng.random() < 0.1:  # newcomers, unscheduled first
            cid = rng.choice(("c1", "c2"))
            fresh = [target(f"{cid}-new-{now.timestamp()}-{i}", campaign_id=cid)
                     for i in range(3)]
            store.add_contacts(cid, fresh)
            store.save_schedule([Scheduled(t.id, ZONES, probe + timedelta(
                seconds=rng.randrange(-20, 100)), probe + timedelta(hours=1)) for t in fresh],
                probe)
        for cid in ("c1", "c2"):
            assert store.counters(cid) == recount(store, cid)


# --- the real dialer over the memory store ---------------------------------------------------

def run_campaign(seed: int) -> MemoryDialerStore:
    store = store_with(campaign(status="scheduled", retry={"delays_minutes": [30, 60]},
                                caller_id={"mode": "pool"}),
                       numbers=[number("n1"), number("n2", e164="+12125550101")])
    areas = ("212", "415", "305", "617", "713")
    store.add_contacts("c1", [
        Target(id=f"cc{i:04d}", campaign_id="c1", contact_id=f"k{i}",
               phone=f"+1{areas[i % 5]}555{i:04d}", contact_timezone=None, zones=None,
               attempts=0, due_at=None, window_end=None, caller_number_id=None,
               first_attempt_at=None, variables={"first_name": f"n{i}"})
        for i in range(150)])
    clock = ManualClock(T0)
    carrier = SimulatedCarrier(CarrierModel(cps_limit=None), seed=seed)
    dialer = Dialer(store, carrier, clock, worker_id="w1")

    def finished() -> bool:
        return store.campaign_row("c1").view.status == "completed"

    result = drive(dialer, clock, carrier, until=T0 + timedelta(days=3), done=finished)
    assert result.reason == "done"
    return store


def test_the_dialer_runs_a_campaign_to_completion_deterministically() -> None:
    store = run_campaign(seed=3)
    counters = store.counters("c1")
    assert counters == recount(store, "c1")
    assert counters["contacts_pending"] == counters["contacts_active"] == 0
    assert counters["contacts_done"] + counters["contacts_skipped"] == 150
    assert counters["calls_in_progress"] == 0 and counters["calls_total"] > 150
    calls = store.call_rows()
    assert [(c.created_at, c.id) for c in calls] == sorted((c.created_at, c.id) for c in calls)
    attempts: dict[str, list[int]] = {}
    for call in calls:
        attempts.setdefault(call.campaign_contact_id, []).append(call.attempt)
    assert all(a == list(range(1, len(a) + 1)) for a in attempts.values())
    assert all(len(a) <= 3 for a in attempts.values())
    row1 = store.campaign_row("c1")
    assert row1.ended_reason == "all-contacts-done" and row1.completed_at is not None
    again = run_campaign(seed=3)
    assert again.call_rows() == calls
    assert again.contact_rows("c1") == store.contact_rows("c1")
