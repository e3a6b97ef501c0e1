"""The dialer's campaign-level behaviour, on the in-memory store: never-ending campaigns,
pausing, the end instant, priorities, contacts that cannot be placed in time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from ringwise.api.schemas.campaigns import CallerId, RetrySettings, Schedule, VoicemailSettings
from ringwise.clock import ManualClock
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import MemoryDialerStore
from ringwise.dialer.store import CampaignView, NumberView, Target, WorkspaceView
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier

MONDAY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


def campaign(store: MemoryDialerStore, campaign_id: str, *, priority: int = 50,
             limit: int = 0, never_ending: bool = False, status: str = "running",
             schedule: dict[str, Any] | None = None, retry: dict[str, Any] | None = None,
             phones: list[str] | None = None, zone: str | None = None) -> None:
    store.add_campaign(CampaignView(
        id=campaign_id, workspace_id="ws", status=status, priority=priority,
        concurrency_limit=limit, never_ending=never_ending, channel=None, assistant_id=None,
        schedule=Schedule.model_validate(schedule or {}).model_dump(mode="json"),
        retry=RetrySettings.model_validate(retry or {"auto_retry": False})
        .model_dump(mode="json"),
        caller_id=CallerId.model_validate({"mode": "pool"}).stored(),
        voicemail=VoicemailSettings().model_dump(mode="json"), opening_message="Hi",
        first_message=None, voicemail_message=None, updated_at=MONDAY, started_at=MONDAY,
        contacts_total=0, contacts_pending=0, contacts_active=0, in_flight=0))
    add(store, campaign_id, phones or [], zone=zone)


def add(store: MemoryDialerStore, campaign_id: str, phones: list[str], *,
        zone: str | None = None, first: int = 0) -> None:
    store.add_contacts(campaign_id, [
        Target(id=f"{campaign_id}-{first + i:04d}", campaign_id=campaign_id,
               contact_id=f"{campaign_id}-p{first + i:04d}", phone=phone,
               contact_timezone=zone, zones=None, attempts=0, due_at=None, window_end=None,
               caller_number_id=None, first_attempt_at=None)
        for i, phone in enumerate(phones)])


def world(limit: int = 10) -> MemoryDialerStore:
    store = MemoryDialerStore()
    store.add_workspace(WorkspaceView("ws", "America/New_York", None, limit, 100))
    for i in range(3):
        store.add_number(NumberView(f"n{i}", "ws", f"+121255509{i:02d}", "simulated", "US",
                                    "NY", "212", 5.0, ()))
    return store


def ny(count: int, start: int = 0) -> list[str]:
    return [f"+1212555{start + i:04d}" for i in range(count)]


def run(store: MemoryDialerStore, clock: ManualClock, until: timedelta,
        carrier: SimulatedCarrier | None = None) -> Dialer:
    carrier = carrier or SimulatedCarrier(seed=5)
    dialer = Dialer(store, carrier, clock, worker_id="w")
    drive(dialer, clock, carrier, until=clock.now() + until)
    return dialer


def test_a_never_ending_campaign_waits_for_new_contacts() -> None:
    store, clock = world(), ManualClock(MONDAY)
    campaign(store, "c", never_ending=True, phones=ny(5))
    carrier = SimulatedCarrier(seed=5)
    dialer = run(store, clock, timedelta(hours=2), carrier)
    assert store.campaign_row("c").view.status == "running"  # all done, still waiting
    assert store.counters("c")["contacts_done"] == 5
    add(store, "c", ny(3, start=100), first=100)
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=2))
    assert store.counters("c")["calls_total"] == 8
    assert store.campaign_row("c").view.status == "running"


def test_an_ordinary_campaign_completes_when_every_contact_is_done() -> None:
    store, clock = world(), ManualClock(MONDAY)
    campaign(store, "c", phones=ny(5))
    run(store, clock, timedelta(hours=2))
    row = store.campaign_row("c")
    assert row.view.status == "completed" and row.ended_reason == "all-contacts-done"


def test_a_paused_campaign_places_no_calls() -> None:
    store, clock = world(), ManualClock(MONDAY)
    campaign(store, "c", status="paused", phones=ny(5))
    run(store, clock, timedelta(hours=3))
    assert store.call_rows() == []
    assert store.counters("c")["contacts_pending"] == 5


def test_at_the_end_instant_waiting_contacts_expire() -> None:
    """20 contacts, one call at a time, 40 minutes: those not reached in time expire, and the
    campaign completes at its end."""
    store, clock = world(), ManualClock(MONDAY)
    end = MONDAY + timedelta(minutes=40)
    campaign(store, "c", limit=1, phones=ny(200),
             schedule={"end_at": end.isoformat()})
    run(store, clock, timedelta(days=1))
    row = store.campaign_row("c")
    assert row.view.status == "completed" and row.ended_reason == "end-reached"
    rows = store.contact_rows("c")
    expired = [r for r in rows if r.state == "skipped"]
    assert expired and all(r.outcome == "expired" for r in expired)
    assert all(c.state.dialing_at is not None and c.state.dialing_at < end
               for c in store.call_rows())


def test_a_higher_priority_campaign_takes_the_free_slots_first() -> None:
    store, clock = world(limit=2), ManualClock(MONDAY)
    campaign(store, "low", priority=10, phones=ny(20))
    campaign(store, "high", priority=90, phones=ny(20, start=500))
    run(store, clock, timedelta(minutes=20))
    calls = store.call_rows()
    first_low = min(c.state.dialing_at for c in calls if c.campaign_id == "low")
    last_high = max(c.state.dialing_at for c in calls if c.campaign_id == "high")
    assert store.counters("high")["contacts_pending"] == 0
    assert last_high <= first_low  # low only dialed once high had nobody left to call


def test_equal_priorities_share_the_slots() -> None:
    store, clock = world(limit=4), ManualClock(MONDAY)
    campaign(store, "a", phones=ny(30))
    campaign(store, "b", phones=ny(30, start=500))
    run(store, clock, timedelta(minutes=15))
    a, b = store.counters("a")["calls_total"], store.counters("b")["calls_total"]
    assert a > 5 and b > 5 and abs(a - b) <= max(a, b) // 3


def test_a_number_without_a_zone_is_blocked_not_called_on_a_guess() -> None:
    """+800 (international freephone) maps to no zone and the contact names none: the legal
    hours cannot be known, so the contact is blocked (never called in an assumed zone)."""
    store, clock = world(), ManualClock(MONDAY)  # 07:00 in Los Angeles
    campaign(store, "c", phones=["+80012345678"],
             schedule={"timezone": "America/Los_Angeles",
                       "call_hours": {"start_time": "09:00", "end_time": "17:00"}})
    run(store, clock, timedelta(hours=4))
    assert store.call_rows() == []
    (row,) = store.contact_rows("c")
    assert (row.state, row.outcome, row.ended_reason) == ("skipped", "blocked",
                                                          "unknown-timezone")
    (record,) = store.audit_rows()
    assert (record.decision, record.reason) == ("blocked", "unknown-timezone")


def test_launch_stagger_spaces_first_attempts() -> None:
    store, clock = world(), ManualClock(MONDAY)
    campaign(store, "c", phones=ny(6), schedule={"stagger_seconds": 30})
    run(store, clock, timedelta(hours=1))
    starts = sorted(c.state.dialing_at for c in store.call_rows() if c.attempt == 1)
    assert len(starts) == 6
    assert all(b - a >= timedelta(seconds=30) for a, b in itertools.pairwise(starts))


def test_carrier_refusals_end_the_attempt_and_follow_the_retry_policy() -> None:
    """The carrier's own CPS limit refuses placements: the attempt ends failed
    (carrier-rejected-cps) and the contact is retried, never lost."""
    store, clock = world(), ManualClock(MONDAY)
    campaign(store, "c", phones=ny(30),
             retry={"delays_minutes": [1], "max_attempts": 3, "retry_on": ["failed"]})
    carrier = SimulatedCarrier(CarrierModel(cps_limit=1), seed=2)
    run(store, clock, timedelta(hours=2), carrier)
    reasons = {c.state.ended_reason for c in store.call_rows()}
    assert "carrier-rejected-cps" in reasons
    assert all(r.state in ("done", "skipped") for r in store.contact_rows("c"))


def test_numbers_at_their_cps_limit_do_not_make_the_dialer_spin() -> None:
    """Two campaigns sharing a slow number (one start per 2 s), fetching in shares: a tick
    that can dial nobody must not ask to tick again at the same instant (it once did, for
    ever)."""
    store = world(limit=5)
    store.add_number(NumberView("slow", "ws", "+12125550999", "simulated", "US", "NY", "212",
                                0.5, ()))
    for campaign_id in ("a", "b"):
        store.add_campaign(CampaignView(
            id=campaign_id, workspace_id="ws", status="running", priority=10,
            concurrency_limit=0, never_ending=False, channel=None, assistant_id=None,
            schedule=Schedule().model_dump(mode="json"),
            retry=RetrySettings.model_validate({"auto_retry": False}).model_dump(mode="json"),
            caller_id=CallerId.model_validate({"mode": "fixed",
                                               "phone_number_ids": ["slow"]}).stored(),
            voicemail=VoicemailSettings().model_dump(mode="json"), opening_message="Hi",
            first_message=None, voicemail_message=None, updated_at=MONDAY, started_at=MONDAY,
            contacts_total=0, contacts_pending=0, contacts_active=0, in_flight=0))
        add(store, campaign_id, ny(10, start=100 if campaign_id == "a" else 200))
    clock = ManualClock(MONDAY)
    carrier = SimulatedCarrier(seed=3)
    dialer = Dialer(store, carrier, clock, worker_id="w")
    ticks = 0

    def count(_: object) -> None:
        nonlocal ticks
        ticks += 1
        assert ticks < 2_000, "the dialer is spinning"

    result = drive(dialer, clock, carrier, until=MONDAY + timedelta(hours=3),
                   done=lambda: not store.campaigns(["running"]), on_tick=count)
    assert result.reason == "done"
    starts = sorted(c.state.dialing_at for c in store.call_rows())
    assert len(starts) == 20
    assert all(b - a >= timedelta(seconds=2) for a, b in pairwise(starts))


def test_two_campaigns_never_call_one_person_at_the_same_time() -> None:
    """The same number in two running campaigns: the second waits until the first call has
    ended (a cap would otherwise be weighed without the call just placed)."""
    store, clock = world(), ManualClock(MONDAY)
    campaign(store, "a", phones=["+12125550100"])
    campaign(store, "b", phones=["+12125550100"])
    run(store, clock, timedelta(hours=2))
    calls = sorted(store.call_rows(), key=lambda c: c.created_at)
    assert len(calls) == 2
    first, second = calls
    assert first.state.ended_at is not None
    assert second.created_at >= first.state.ended_at
    assert [r.decision for r in store.audit_rows()] == ["dialed", "dialed"]


def test_a_workspace_cap_holds_across_campaigns() -> None:
    store = MemoryDialerStore()
    store.add_workspace(WorkspaceView("ws", "America/New_York", None, 10, 100, "Acme",
                                      {"frequency_caps": [{"max_calls": 1, "per_hours": 24}]}))
    store.add_number(NumberView("n0", "ws", "+12125550900", "simulated", "US", "NY", "212",
                                5.0, ()))
    clock = ManualClock(MONDAY)
    campaign(store, "a", phones=["+12125550100"])
    campaign(store, "b", phones=["+12125550100"])
    run(store, clock, timedelta(days=2))
    calls = sorted(store.call_rows(), key=lambda c: c.created_at)
    assert len(calls) == 2
    assert calls[1].created_at - calls[0].created_at >= timedelta(hours=24)
    assert any(r.decision == "deferred" and r.reason == "cap:workspace-0"
               for r in store.audit_rows())
