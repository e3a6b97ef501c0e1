"""Properties of whole dialer runs over generated schedules, zones, DST dates and outcomes.

Each example builds a workspace with one or two campaigns on the in-memory store, runs the
real dialer on virtual time with the simulated carrier until every campaign completes (or a
horizon), and checks the call log with code that does not reuse the dialer's: local wall
clocks via ``zoneinfo``, interval sweeps for concurrency, sliding windows for CPS.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ringwise.api.schemas.campaigns import CallerId, RetrySettings, Schedule, VoicemailSettings
from ringwise.clock import ManualClock
from ringwise.core import pacing
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import CallRow, MemoryDialerStore
from ringwise.dialer.store import CampaignView, NumberView, Target, WorkspaceView
from ringwise.telephony.simulated import SimulatedCarrier

# Mondays to Fridays around the 2026 and 2027 DST changes in the US and Europe, and a plain one.
BASES = [
    datetime(2026, 3, 6, 13, tzinfo=UTC), datetime(2026, 3, 27, 8, tzinfo=UTC),
    datetime(2026, 10, 30, 13, tzinfo=UTC), datetime(2027, 3, 12, 13, tzinfo=UTC),
    datetime(2027, 11, 5, 13, tzinfo=UTC), datetime(2026, 6, 15, 13, tzinfo=UTC),
]
# Area codes across US zones, multi-zone ones (208, 605, 701, 907 span two), Phoenix (no
# DST), London and Paris.
PREFIXES = ["+1212555", "+1312555", "+1303555", "+1602555", "+1415555", "+1907555",
            "+1808555", "+1208555", "+1605555", "+1701555", "+4420794", "+3314523"]
OWN_ZONES = ["America/Chicago", "Europe/Berlin", "Asia/Tokyo", "America/Denver"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HORIZON = timedelta(days=12)


@dataclass(frozen=True)
class CampaignSpec:
    hours: tuple[str, str]
    days: tuple[str, ...]
    end_days: int | None
    delays: tuple[int, ...]
    max_attempts: int
    retry_on: tuple[str, ...]
    limit: int
    priority: int
    mode: str
    stagger: int


@dataclass(frozen=True)
class World:
    base: datetime
    workspace_limit: int
    rate: int
    cps: tuple[float, ...]
    contacts: tuple[tuple[str, str | None], ...]
    campaigns: tuple[CampaignSpec, ...]
    seed: int


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def campaign_specs(draw: st.DrawFn) -> CampaignSpec:
    start = draw(st.integers(6 * 2, 14 * 2)) * 30
    end = draw(st.integers(start // 30 + 2, 23 * 2)) * 30
    delays = tuple(draw(st.lists(st.integers(1, 600), min_size=1, max_size=3)))
    return CampaignSpec(
        hours=(_hhmm(start), _hhmm(end)),
        days=tuple(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))),
        end_days=draw(st.none() | st.integers(1, 6)),
        delays=delays,
        max_attempts=draw(st.integers(1, len(delays) + 1)),
        retry_on=tuple(draw(st.lists(st.sampled_from(["no-answer", "busy", "voicemail",
                                                      "failed"]),
                                     min_size=1, max_size=4, unique=True))),
        limit=draw(st.integers(0, 4)),
        priority=draw(st.sampled_from([10, 50, 90])),
        mode=draw(st.sampled_from(["pool", "local_presence", "fixed"])),
        stagger=draw(st.sampled_from([0, 0, 20])),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(1, 30))
    suffixes = draw(st.lists(st.integers(100, 9999), min_size=count, max_size=count,
                             unique=True))
    contacts = tuple(
        (draw(st.sampled_from(PREFIXES)) + f"{suffix:04d}",
         draw(st.none() | st.none() | st.none() | st.sampled_from(OWN_ZONES)))
        for suffix in suffixes)
    return World(
        base=draw(st.sampled_from(BASES)) + timedelta(minutes=draw(st.integers(0, 20 * 60))),
        workspace_limit=draw(st.integers(1, 6)),
        rate=draw(st.sampled_from([50, 100])),
        cps=tuple(draw(st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=1, max_size=3))),
        contacts=contacts,
        campaigns=tuple(draw(st.lists(campaign_specs(), min_size=1, max_size=2))),
        seed=draw(st.integers(0, 10_000)),
    )


def build(world: World) -> tuple[MemoryDialerStore, list[NumberView], dict[str, CampaignSpec]]:
    store = MemoryDialerStore()
    store.add_workspace(WorkspaceView("ws", "America/New_York", None, world.workspace_limit,
                                      world.rate))
    numbers = [NumberView(f"n{i}", "ws", f"+1{code}5550{100 + i}", "simulated", "US", None,
                          code, cps, ())
               for i, (code, cps) in enumerate(zip(("212", "415", "312"), world.cps,
                                                   strict=False))]
    for number in numbers:
        store.add_number(number)
    specs: dict[str, CampaignSpec] = {}
    for c, spec in enumerate(world.campaigns):
        campaign_id = f"c{c}"
        specs[campaign_id] = spec
        schedule: dict[str, Any] = {
            "call_hours": {"start_time": spec.hours[0], "end_time": spec.hours[1]},
            "days": list(spec.days), "stagger_seconds": spec.stagger}
        if spec.end_days is not None:
            schedule["end_at"] = (world.base + timedelta(days=spec.end_days)).isoformat()
        ids = [n.id for n in numbers]
        caller = {"mode": spec.mode, "phone_number_ids": ids[:1] if spec.mode == "fixed"
                  else ids}
        store.add_campaign(CampaignView(
            id=campaign_id, workspace_id="ws", status="running", priority=spec.priority,
            concurrency_limit=spec.limit, never_ending=False, channel=None, assistant_id=None,
            schedule=Schedule.model_validate(schedule).model_dump(mode="json"),
            retry=RetrySettings.model_validate({
                "delays_minutes": list(spec.delays), "max_attempts": spec.max_attempts,
                "retry_on": list(spec.retry_on)}).model_dump(mode="json"),
            caller_id=CallerId.model_validate(caller).stored(),
            voicemail=VoicemailSettings().model_dump(mode="json"),
            opening_message="Hi {{first_name}}", first_message=None, voicemail_message=None,
            updated_at=world.base, started_at=world.base, contacts_total=0,
            contacts_pending=0, contacts_active=0, in_flight=0))
        store.add_contacts(campaign_id, [
            Target(id=f"{campaign_id}-t{i:03d}", campaign_id=campaign_id,
                   contact_id=f"p{i:03d}", phone=phone, contact_timezone=zone, zones=None,
                   attempts=0, due_at=None, window_end=None, caller_number_id=None,
                   first_attempt_at=None, variables={"first_name": f"Person {i}"})
            for i, (phone, zone) in enumerate(world.contacts)])
    return store, numbers, specs


def run(world: World) -> tuple[MemoryDialerStore, datetime, str]:
    store, _, specs = build(world)
    clock = ManualClock(world.base)
    carrier = SimulatedCarrier(seed=world.seed)
    dialer = Dialer(store, carrier, clock, worker_id="w")

    def finished() -> bool:
        return all(store.campaign_row(c).view.status == "completed" for c in specs)

    result = drive(dialer, clock, carrier, until=world.base + HORIZON, done=finished)
    return store, result.stopped_at, result.reason


def _in_hours(local: datetime, spec: CampaignSpec) -> bool:
    start = time.fromisoformat(spec.hours[0])
    end = time.fromisoformat(spec.hours[1])
    return DAYS[local.weekday()] in spec.days and start <= local.time() < end


@given(worlds())
def test_dialer_invariants(world: World) -> None:
    store, stopped, reason = run(world)
    _, numbers, specs = build(world)
    calls = store.call_rows()
    contacts = {row.id: row for c in specs for row in store.contact_rows(c)}

    # 1. every attempt inside its window, in every candidate zone of the callee
    for call in calls:
        placed = call.state.dialing_at
        assert placed is not None
        spec = specs[call.campaign_id]
        zones = contacts[call.campaign_contact_id].zones
        assert zones, call
        for zone in zones:
            local = placed.astimezone(ZoneInfo(zone))
            assert _in_hours(local, spec), (call.id, zone, local, spec)
        if spec.end_days is not None:
            assert placed < world.base + timedelta(days=spec.end_days)

    # 2. no concurrency limit exceeded at any instant (ends free a slot before starts use it)
    capacity = pacing.workspace_capacity(world.workspace_limit, world.rate)
    edges = []
    for call in calls:
        end = call.state.ended_at or stopped
        edges += [(call.state.dialing_at, 1, call.campaign_id), (end, -1, call.campaign_id)]
    edges.sort(key=lambda e: (e[0], e[1]))
    in_flight: dict[str, int] = defaultdict(int)
    total = 0
    for _, delta, campaign_id in edges:
        in_flight[campaign_id] += delta
        total += delta
        assert total <= capacity
        limit = specs[campaign_id].limit
        assert limit == 0 or in_flight[campaign_id] <= limit

    # 3. calls-per-second per caller number
    starts: dict[str, list[datetime]] = defaultdict(list)
    for call in calls:
        assert call.phone_number_id is not None and call.state.dialing_at is not None
        starts[call.phone_number_id].append(call.state.dialing_at)
    for number in numbers:
        window = pacing.RateWindow.per_second(number.cps_limit)
        seq = sorted(starts[number.id])
        n = window.max_starts
        for i in range(len(seq) - n):
            assert seq[i + n] - seq[i] >= window.period, (number, seq[i:i + n + 1])

    # 4 + 5. attempts within the cap, numbered 1..k, retry delays honoured
    by_contact: dict[str, list[CallRow]] = defaultdict(list)
    for call in calls:
        by_contact[call.campaign_contact_id].append(call)
    for target_id, attempts in by_contact.items():
        spec = specs[contacts[target_id].campaign_id]
        attempts.sort(key=lambda c: c.attempt)
        assert [c.attempt for c in attempts] == list(range(1, len(attempts) + 1))
        assert len(attempts) <= spec.max_attempts
        for before, after in pairwise(attempts):
            assert before.state.outcome in spec.retry_on
            delay = spec.delays[min(before.attempt - 1, len(spec.delays) - 1)]
            assert before.state.ended_at is not None and after.state.dialing_at is not None
            assert after.state.dialing_at >= before.state.ended_at + timedelta(minutes=delay)

    # 6. every contact terminal, or waiting with an eligible instant still to come
    for row in contacts.values():
        if reason == "done":
            assert row.state in ("done", "skipped"), row
        else:
            assert row.state in ("done", "skipped", "active") or (
                row.state == "pending" and row.due_at is not None), row

    # 7. counters agree with the rows
    for campaign_id in specs:
        counters = store.counters(campaign_id)
        rows = [r for r in contacts.values() if r.campaign_id == campaign_id]
        assert counters["contacts_total"] == len(rows)
        for state in ("pending", "active", "done", "skipped"):
            assert counters[f"contacts_{state}"] == sum(r.state == state for r in rows)
        assert counters["calls_total"] == sum(c.campaign_id == campaign_id for c in calls)


@given(worlds())
def test_same_seed_same_call_log(world: World) -> None:
    first, _, _ = run(world)
    second, _, _ = run(world)
    assert [(c.id, c.from_number, c.state) for c in first.call_rows()] == \
        [(c.id, c.from_number, c.state) for c in second.call_rows()]
