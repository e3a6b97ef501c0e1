"""Preflight: each skip reason is counted, and the verdicts are the dialer's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ringwise.clock import ManualClock
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import MemoryDialerStore
from ringwise.dialer.plans import CampaignPlan, compile_plan
from ringwise.dialer.preflight import (
    SKIP_REASONS,
    Rejection,
    check,
    iso,
    preflight,
    summarize,
)
from ringwise.dialer.store import CampaignView, NumberView, Target, WorkspaceView
from ringwise.telephony.simulated import SimulatedCarrier

LAUNCH = datetime(2026, 3, 2, 13, tzinfo=UTC)  # Monday 08:00 in New York
WORKSPACE = WorkspaceView("ws", "America/New_York", None, 10, 100)


def view(**schedule: Any) -> CampaignView:
    return CampaignView(
        id="camp", workspace_id="ws", status="running", priority=50, concurrency_limit=5,
        never_ending=False, channel=None, assistant_id=None,
        schedule={"timezone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"],
                  "call_hours": {"start_time": "09:00", "end_time": "17:00"}, **schedule},
        retry={"auto_retry": False}, caller_id={"mode": "pool"}, voicemail={},
        opening_message=None, first_message=None, voicemail_message=None,
        updated_at=LAUNCH, started_at=LAUNCH, contacts_total=0, contacts_pending=0,
        contacts_active=0, in_flight=0)


def plan(**schedule: Any) -> CampaignPlan:
    return compile_plan(view(**schedule), WORKSPACE)


def target(index: int, phone: str, *, zone: str | None = None,
           zones: tuple[str, ...] | None = None) -> Target:
    return Target(id=f"cc-{index:03d}", campaign_id="camp", contact_id=f"c-{index:03d}",
                  phone=phone, contact_timezone=zone, zones=zones, attempts=0, due_at=None,
                  window_end=None, caller_number_id=None, first_attempt_at=None)


# Monday 18:00 UTC: New York (14:00 UTC) and Chicago (15:00 UTC) open before it, Honolulu
# (09:00 there is 19:00 UTC) only after.
END = "2026-03-02T18:00:00Z"

TARGETS = [
    target(0, "+12125550100"),  # New York: window at 14:00 UTC
    target(1, "+13125550100"),  # Chicago: 15:00 UTC
    target(2, "+18085550100"),  # Honolulu: 19:00 UTC, after END
    target(3, "+18005550100"),  # toll-free: ~40 zones, never all open at once
    target(4, "+12125550101", zones=()),  # resolved to no zone at all
    target(5, "+12125550102"),  # on the DNC list
    # Its own zone and its number's: both must be open, so 17:00 UTC (09:00 in San Francisco).
    target(6, "+14155550100", zone="America/Chicago"),
]


def test_each_reason_is_counted() -> None:
    report = preflight(plan(end_at=END), TARGETS, LAUNCH, dnc={"+12125550102"}, invalid=4,
                       duplicate=2, rejections=[Rejection("contacts[3]", "phone", "bad")])
    assert report.skipped == {"invalid": 4, "duplicate": 2, "dnc": 1,
                              "no_consent": 0, "registry_scrub_stale": 0, "unknown_timezone": 1,
                              "no_window_before_end": 2}
    assert list(report.skipped) == list(SKIP_REASONS)
    assert report.callable == 3
    assert report.contacts == 7 + 4 + 2 == report.callable + report.skipped_total
    assert report.first_eligible_at == datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert report.rejections == (Rejection("contacts[3]", "phone", "bad"),)


def test_verdicts_carry_zones_and_first_instant() -> None:
    compiled = plan(end_at=END)
    ny = check(compiled, TARGETS[0], LAUNCH)
    assert ny.reason is None and ny.zones == ("America/New_York",)
    assert ny.first_at == datetime(2026, 3, 2, 14, tzinfo=UTC)
    own = check(compiled, TARGETS[6], LAUNCH)
    assert own.zones == ("America/Chicago", "America/Los_Angeles")
    assert own.first_at == datetime(2026, 3, 2, 17, tzinfo=UTC)
    hawaii = check(compiled, TARGETS[2], LAUNCH)
    assert hawaii.reason == "no_window_before_end" and hawaii.zones == ("Pacific/Honolulu",)
    assert check(compiled, TARGETS[4], LAUNCH).reason == "unknown_timezone"
    assert check(compiled, TARGETS[5], LAUNCH, {"+12125550102"}).reason == "dnc"


def test_without_an_end_only_the_impossible_are_skipped() -> None:
    report = preflight(plan(), TARGETS, LAUNCH)
    assert report.skipped["no_window_before_end"] == 1  # the toll-free number
    assert report.skipped["unknown_timezone"] == 1
    assert report.callable == 5


def test_the_launch_instant_moves_the_first_window() -> None:
    late = LAUNCH + timedelta(hours=9)  # Monday 22:00 UTC: New York is closed
    report = preflight(plan(), TARGETS[:1], late)
    assert report.first_eligible_at == datetime(2026, 3, 3, 14, tzinfo=UTC)
    assert report.at == late


def test_empty_and_bad_counts() -> None:
    report = summarize([], LAUNCH)
    assert report.contacts == 0 and report.first_eligible_at is None
    assert report.to_dict()["first_eligible_at"] is None
    with pytest.raises(ValueError, match="must be >= 0"):
        summarize([], LAUNCH, invalid=-1)


def test_json_form() -> None:
    data = preflight(plan(end_at=END), TARGETS, LAUNCH).to_dict()
    assert data["at"] == "2026-03-02T13:00:00.000Z"
    assert data["first_eligible_at"] == "2026-03-02T14:00:00.000Z"
    skipped = data["skipped"]
    assert isinstance(skipped, dict)
    assert data["skipped_total"] == sum(skipped.values())
    assert iso(datetime(2026, 3, 2, 14, 0, 0, 123456, tzinfo=UTC)) == "2026-03-02T14:00:00.123Z"
    with pytest.raises(ValueError):
        iso(datetime(2026, 3, 2))


def test_preflight_agrees_with_the_dialer() -> None:
    """Run the real dialer over the same contacts: those it closes without a call are the
    ones the preflight said it would skip, for the same reasons."""
    campaign = view(end_at=END)
    compiled = compile_plan(campaign, WORKSPACE)
    targets = [t for t in TARGETS if t.phone != "+12125550102"]
    report = preflight(compiled, targets, LAUNCH)
    store = MemoryDialerStore()
    store.add_workspace(WORKSPACE)
    store.add_number(NumberView("n1", "ws", "+12125550999", "simulated", "US", "NY", "212",
                                5.0, ()))
    store.add_campaign(campaign)
    store.add_contacts("camp", targets)
    clock = ManualClock(LAUNCH)
    carrier = SimulatedCarrier(seed=1)
    dialer = Dialer(store, carrier, clock, worker_id="w")
    drive(dialer, clock, carrier, until=LAUNCH + timedelta(days=2))
    never_called = [row for row in store.contact_rows("camp") if row.attempts == 0]
    reasons = sorted(row.ended_reason or "" for row in never_called)
    assert reasons == ["no-window-before-end", "no-window-before-end", "unknown-timezone"]
    assert report.skipped["no_window_before_end"] == 2
    assert report.skipped["unknown_timezone"] == 1
    called = {row.phone for row in store.contact_rows("camp") if row.attempts}
    assert len(called) == report.callable
