"""A 50,000-contact campaign over every US zone and state, run to completion by the real dialer
on the memory store, with a do-not-call list that grows during the run; then the independent
checker (``compliance_checker.py``) verifies every call: no call at or after the instant a
matching entry (number or area-code wildcard) took effect, none after an opt-out, none outside
the legal hours in any candidate zone, no frequency cap exceeded.

The run (Saturday 2026-10-31 to the following week) crosses the end of US daylight saving time
(Sunday 2026-11-01, with the Sunday bans of AL, RI, LA, MS and UT and Texas's Sunday noon
start) and Election Day (Tuesday 2026-11-03, a holiday in LA and RI). Calls last a few
seconds, so 50,000 contacts and ~87,000 calls take seconds.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from ringwise.api.schemas.campaigns import CallerId, RetrySettings, Schedule, VoicemailSettings
from ringwise.clock import ManualClock
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import MemoryDialerStore
from ringwise.dialer.store import CampaignView, NumberView, Target, WorkspaceView
from ringwise.telephony.simulated import CarrierModel, Duration, SimulatedCarrier
from tests.dialer import compliance_checker as cc
from tests.dialer.test_compliance_properties import (
    STATE_NAMES,
    nanp_area_codes,
    nanp_zone_splits,
)

CONTACTS = 50_000
LAUNCH = datetime(2026, 10, 31, 11, 0, tzinfo=UTC)  # Saturday, 07:00 in New York
HORIZON = timedelta(days=12)
# Short calls: every duration fixed, so calls placed together end together (few ticks).
SHORT_CALLS = CarrierModel(
    answer_rate=0.3, busy_rate=0.2, voicemail_rate=0.2, failure_rate=0.03, invalid_rate=0.02,
    post_dial_delay=Duration.fixed(0.5), ring_time=Duration.fixed(2.0),
    machine_ring_time=Duration.fixed(3.0), busy_after=Duration.fixed(1.0), ring_timeout_s=4.0,
    talk_time=Duration.fixed(3.0), voicemail_greeting=Duration.fixed(1.0),
    voicemail_message=Duration.fixed(2.0), cps_limit=None)
CAPPED_STATES = {"FL", "OK", "MD"}


def us_prefixes() -> list[str]:
    """'+1NPANXX' of every US area code and every NPA-NXX with its own zone entry."""
    numbers = [e164 for _, e164 in nanp_area_codes()] + list(nanp_zone_splits())
    return sorted({n[:8] for n in numbers if cc.phone_facts(n).country == "US"})


def view(campaign_id: str, retry: dict[str, Any]) -> CampaignView:
    return CampaignView(
        id=campaign_id, workspace_id="ws", status="running", priority=50, concurrency_limit=0,
        never_ending=False, channel=None, assistant_id=None,
        schedule=Schedule.model_validate({}).model_dump(mode="json"),  # the legal floor only
        retry=RetrySettings.model_validate(retry).model_dump(mode="json"),
        caller_id=CallerId.model_validate({"mode": "pool"}).stored(),
        voicemail=VoicemailSettings().model_dump(mode="json"), opening_message="Hi",
        first_message=None, voicemail_message=None, updated_at=LAUNCH, started_at=LAUNCH,
        contacts_total=0, contacts_pending=0, contacts_active=0, in_flight=0)


def test_fifty_thousand_contacts_growing_dnc_list_zero_violations() -> None:
    rng = random.Random(20261101)
    prefixes = us_prefixes()
    states = sorted(STATE_NAMES)
    people: list[cc.Person] = []
    targets: list[Target] = []
    for i in range(CONTACTS):
        phone = f"{prefixes[i % len(prefixes)]}{i // len(prefixes):04d}"
        state = None
        if rng.random() < 0.3:  # an address: half the time the number's own state
            own = sorted(cc.phone_facts(phone).states)
            state = own[0] if own and rng.random() < 0.5 else rng.choice(states)
        people.append(cc.Person(phone, None, state, "US" if state else None))
        targets.append(Target(
            id=f"a-{i:05d}", campaign_id="a", contact_id=f"p{i:05d}", phone=phone,
            contact_timezone=None, zones=None, attempts=0, due_at=None, window_end=None,
            caller_number_id=None, first_attempt_at=None,
            address_state=None if state is None else (state, STATE_NAMES[state])[i % 2]))
    assert len({p.phone for p in people}) == CONTACTS

    store = MemoryDialerStore()
    store.keep_audit = False  # the compliance log of 100,000 decisions: not needed here
    store.add_workspace(WorkspaceView("ws", "America/New_York", None, 300, 100))
    for n in range(30):
        e164 = f"+1212555{n:04d}"
        store.add_number(NumberView(f"n{n}", "ws", e164, "simulated", "US", "NY", "212", 50.0,
                                    ()))
    # Unanswered contacts are called again 25 hours later, twice: Saturday, Sunday, Monday.
    store.add_campaign(view("a", {"delays_minutes": [1500], "max_attempts": 3,
                                  "retry_on": ["no-answer", "busy"]}))
    store.add_contacts("a", targets)
    # A second campaign reaches 1,000 of the capped states' numbers again (3 attempts more):
    # the 3-calls-per-24-h caps count across campaigns.
    capped = [i for i, p in enumerate(people)
              if (cc.phone_facts(p.phone).states | {p.address_state}) & CAPPED_STATES][:1000]
    store.add_campaign(view("b", {"delays_minutes": [30, 60], "max_attempts": 3}))
    store.add_contacts("b", [Target(
        id=f"b-{i:05d}", campaign_id="b", contact_id=f"p{i:05d}", phone=people[i].phone,
        contact_timezone=None, zones=None, attempts=0, due_at=None, window_end=None,
        caller_number_id=None, first_attempt_at=None, address_state=targets[i].address_state)
        for i in capped])

    # The do-not-call list, growing over the run: 1,000 numbers and 8 area codes listed at
    # instants spread over the run, most in its busy first 14 hours (each honoured from its
    # instant on, as if added then).
    def during_run() -> datetime:
        span = 14 * 3_600 if rng.random() < 0.8 else 4 * 86_400
        return LAUNCH + timedelta(seconds=rng.randrange(span))

    entries: list[tuple[str, datetime]] = []
    for i in rng.sample(range(CONTACTS), 1000):
        entries.append((people[i].phone, during_run()))
    for npa in rng.sample(sorted({p[2:5] for p in prefixes}), 8):
        entries.append((f"+1{npa}*", during_run()))
    for pattern, at in entries:
        store.add_dnc("ws", pattern, at)

    clock = ManualClock(LAUNCH)
    carrier = SimulatedCarrier(SHORT_CALLS, seed=7)
    dialer = Dialer(store, carrier, clock, worker_id="w")

    def finished() -> bool:
        return all(store.campaign_status(c) == "completed" for c in ("a", "b"))

    # Half a day in, list 300 numbers waiting for their retry, one second before it is due.
    drive(dialer, clock, carrier, until=LAUNCH + timedelta(hours=12), done=finished)
    waiting = [r for r in store.contact_rows("a")
               if r.state == "pending" and r.attempts == 1 and r.due_at is not None
               and r.due_at > clock.now()]
    assert len(waiting) > 300
    for row in rng.sample(waiting, 300):
        assert row.due_at is not None
        entries.append((row.phone, row.due_at - timedelta(seconds=1)))
        store.add_dnc("ws", row.phone, row.due_at - timedelta(seconds=1))
    result = drive(dialer, clock, carrier, until=LAUNCH + HORIZON, done=finished)
    assert result.reason == "done", result

    call_rows = store.call_rows()
    assert all(row.state.dialing_at is not None for row in call_rows)
    calls = [cc.Call(row.id, row.state.dialing_at or LAUNCH,
                     people[int(row.campaign_contact_id[2:])], ended_at=row.state.ended_at,
                     opted_out=row.state.ended_reason == "customer-opted-out")
             for row in call_rows]
    assert cc.unexplained(cc.check_all(calls, entries), calls) == []

    # The run can fail: it blocked contacts by do-not-call (listed before, during the run and
    # just before a retry), and it called many states.
    rows = store.contact_rows("a") + store.contact_rows("b")
    blocked = [r for r in rows if r.outcome == "blocked"]
    assert Counter(r.ended_reason for r in blocked) == {"dnc-listed": len(blocked)}
    listed_numbers = {pattern for pattern, _ in entries if not pattern.endswith("*")}
    by_wildcard = [r for r in blocked if r.phone not in listed_numbers]
    assert len(blocked) > 600 and len(by_wildcard) > 50, (len(blocked), len(by_wildcard))
    retry_listed = {phone for phone, _ in entries[-300:]}  # every one of them: blocked
    assert sum(1 for r in blocked if r.phone in retry_listed and r.attempts == 1) == 300
    called_states = Counter(s for call in calls for s in cc.phone_facts(call.person.phone).states)
    assert len(called_states) >= 48, called_states
    assert len(calls) > 60_000
