"""The README's first command: the demo campaign runs end to end on the embedded stack."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from ringwise.cli import app
from ringwise.cli.demo_display import (
    US_ZONES,
    CallHours,
    Snapshot,
    ZoneProgress,
    progress_line,
    render,
)
from ringwise.cli.quickstart import (
    CALLER_NUMBERS,
    MAX_CONTACTS,
    abbreviate,
    demo_contacts,
    virtual_start,
)
from ringwise.core.phones import describe, parse_e164
from ringwise.db.engine import Database
from ringwise.db.models import (
    Call,
    Campaign,
    CampaignContact,
    CampaignCounters,
    WebhookDelivery,
    WebhookEvent,
    Workspace,
)
from ringwise.results import stats
from ringwise.results.export import iter_csv

RINGWISE = Path(sys.executable).with_name("ringwise")
NEW_YORK = ZoneInfo("America/New_York")


# --- the demo's world ------------------------------------------------------------------------

def test_demo_contacts_are_seeded_and_spread_over_the_us_zones() -> None:
    contacts = demo_contacts(500)
    assert contacts == demo_contacts(500)  # deterministic
    phones = [parse_e164(c["phone"], "US") for c in contacts]
    assert len(set(phones)) == 500
    by_zone: Counter[str] = Counter()
    for phone in phones:
        assert phone[5:9] == "5550" and 101 <= int(phone[8:]) <= 199  # fictional 555-01xx
        zones = describe(phone).timezones
        zone = next(z for z in US_ZONES if z.holds(",".join(zones)))
        assert phone[2:5] in zone.area_codes
        by_zone[zone.label] += 1
    assert by_zone == {z.label: 5 * z.weight for z in US_ZONES}  # weights are percents
    assert all(c["first_name"] and c["last_name"] for c in contacts)
    assert len({c["phone"][:3] for c in contacts}) > 1  # written in several formats


def test_demo_contacts_sizes() -> None:
    assert len(demo_contacts(1)) == 1
    assert len({parse_e164(c["phone"], "US") for c in demo_contacts(MAX_CONTACTS)}) \
        == MAX_CONTACTS
    for wrong in (0, MAX_CONTACTS + 1):
        with pytest.raises(ValueError):
            demo_contacts(wrong)


def test_the_caller_pool_covers_every_zone() -> None:
    for zone in US_ZONES:
        assert any(zone.holds(",".join(describe(n).timezones)) for n, _ in CALLER_NUMBERS)


@pytest.mark.parametrize(("after", "expected"), [
    (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), datetime(2026, 3, 2, 13, 50, tzinfo=UTC)),
    (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), datetime(2026, 3, 3, 13, 50, tzinfo=UTC)),
    (datetime(2026, 3, 6, 20, 0, tzinfo=UTC), datetime(2026, 3, 9, 12, 50, tzinfo=UTC)),
    (datetime(2026, 7, 4, 9, 0, tzinfo=UTC), datetime(2026, 7, 6, 12, 50, tzinfo=UTC)),
])
def test_virtual_start_is_the_next_weekday_morning_in_new_york(
        after: datetime, expected: datetime) -> None:
    start = virtual_start(after)
    assert start == expected and start > after
    local = start.astimezone(NEW_YORK)
    assert local.isoweekday() <= 5 and local.time() == clock_time(8, 50)


def test_abbreviate_keeps_the_echo_on_one_line() -> None:
    body = {"contacts": [{"phone": f"+1212555{n:04d}", "first_name": "Ada"} for n in range(500)],
            "note": "x" * 200}
    text = abbreviate(body)
    assert len(text) < 150
    assert text.startswith('{"contacts": [{"phone": "+12125550000", "first_name": "Ada"}, '
                           "…499 more]")
    assert abbreviate({"days": ["mon", "tue"]}) == json.dumps({"days": ["mon", "tue"]})


def test_live_panel_and_progress_line() -> None:
    at = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 11:30 New York, 06:30 Honolulu
    snap = Snapshot(at=at, status="running", in_flight=12, limit=20, attempts=300,
                    outcomes={"answered": 80, "voicemail": 60, "no-answer": 120, "busy": 30,
                              "failed": 10},
                    contacts_total=500, done=150, skipped=10, active=12, retrying=90,
                    zones=tuple(ZoneProgress(z.label, z.zone, 5 * z.weight, 0, 0, 0)
                                for z in US_ZONES))
    console = Console(width=120, record=True)
    console.print(render(snap, hours=CallHours(clock_time(9), clock_time(20)), speed=600,
                         real_elapsed=12.0, title="Policy renewals"))
    text = console.export_text()
    for expected in ("Policy renewals", "running", "12 / 20", "answered 80", "Hawaii",
                     "11:30 New York", "in 2:30", "238 not called yet"):
        assert expected in text
    line = progress_line(snap)
    assert "in flight 12/20" in line and "Eastern 0/190" in line and "\n" not in line


def test_a_window_is_open_only_when_open_in_every_zone_of_the_contact() -> None:
    hours = CallHours(clock_time(9), clock_time(20))

    def window(at: datetime, zone_sets: tuple[tuple[str, ...], ...]) -> str:
        snap = Snapshot(at=at, status="running", in_flight=0, limit=20, attempts=0,
                        outcomes={}, contacts_total=1, done=0, skipped=0, active=0,
                        retrying=0, zones=(ZoneProgress("Alaska", "America/Anchorage", 1, 0,
                                                        0, 0, zone_sets=zone_sets),))
        console = Console(width=120, record=True)
        console.print(render(snap, hours=hours, speed=600, real_elapsed=0.0))
        row = next(line for line in console.export_text().splitlines() if "Alaska" in line)
        words = row.split()
        start = words.index("Alaska") + 2  # after the zone and its local time
        return " ".join(words[start:start + 2])

    alaska = (("America/Adak", "America/Anchorage"),)
    at = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)  # 09:30 in Anchorage, 08:30 in Adak
    assert window(at, (("America/Anchorage",),)).startswith("open")
    assert window(at, alaska) == "in 0:30"  # Adak opens last
    assert window(at + timedelta(minutes=30), alaska).startswith("open")
    assert window(datetime(2026, 3, 3, 6, 0, tzinfo=UTC), alaska).startswith("closed")  # 21:00
    assert window(datetime(2026, 3, 7, 19, 0, tzinfo=UTC), alaska).startswith("closed")  # Sat


# --- end to end ------------------------------------------------------------------------------

def _check_campaign(url: str, contacts: int, *,
                    within: timedelta = timedelta(hours=20)) -> str:
    """The invariants of a finished demo campaign; returns its id."""
    db = Database(url)
    try:
        with db.reading() as session:
            campaign = session.scalars(select(Campaign).order_by(Campaign.created_at.desc())
                                       ).first()
            assert campaign is not None and campaign.status == "completed"
            counters = session.get(CampaignCounters, campaign.id)
            members = session.scalars(select(CampaignContact).where(
                CampaignContact.campaign_id == campaign.id)).all()
            calls = session.scalars(select(Call).where(Call.campaign_id == campaign.id)).all()
    finally:
        db.dispose()
    assert counters is not None and counters.contacts_total == contacts == len(members)
    assert {m.state for m in members} <= {"done", "skipped"}
    assert counters.contacts_done + counters.contacts_skipped == contacts
    assert counters.calls_total == len(calls) and counters.calls_in_progress == 0
    assert all(c.status == "ended" for c in calls)
    assert max(m.attempts for m in members) <= 3  # two retries
    zones_of = {m.id: m.timezones for m in members}
    for call in calls:
        assert call.started_at is not None
        for zone in (zones_of[call.campaign_contact_id] or "").split(","):
            local = call.started_at.astimezone(ZoneInfo(zone))
            assert local.isoweekday() <= 5 and clock_time(9) <= local.time() < clock_time(20), \
                (call.to_number, zone, local)
        assert call.from_number is not None
    pool_area_codes = {n[2:5] for n, _ in CALLER_NUMBERS}
    for call in calls:  # local presence: the pool's own area codes are always matched
        if call.to_number[2:5] in pool_area_codes:
            assert call.from_number is not None and call.from_number[2:5] == call.to_number[2:5]
    assert campaign.started_at is not None and campaign.completed_at is not None
    assert campaign.completed_at - campaign.started_at < within
    return campaign.id


def test_quickstart_command_runs_the_demo_to_completion(tmp_path: Path) -> None:
    """As the README runs it, in a subprocess (fast: 60 contacts at 3000x)."""
    db_path = tmp_path / "demo.db"
    url = f"sqlite:///{db_path}"
    # No wall-clock assertion: on a busy CI machine the demo's real time varies; the timeout
    # only catches a hang (speed is benchmarks' business).
    result = subprocess.run(
        [str(RINGWISE), "quickstart", "--exit", "--contacts", "60", "--speed", "3000",
         "--port", "0", "--database-url", url],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "curl -s \"$RW_URL/v1/contacts/bulk\"" in out and "…59 more]" in out
    assert "Results: Policy renewals (completed)" in out
    for expected in ("connect rate", "attempts per contact", "campaign duration", "/docs",
                     "/v1/calls?campaign_id="):
        assert expected in out
    campaign_id = _check_campaign(url, 60)
    assert f"/v1/campaigns/{campaign_id}" in out
    journal = tmp_path / "demo.db.quickstart-carrier.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    db = Database(url)
    try:
        with db.reading() as session:
            calls = session.scalar(select(func.count()).select_from(Call))
    finally:
        db.dispose()
    assert records[0]["kind"] == "header"
    assert sum(r["kind"] == "place" for r in records) == calls  # every call is journaled
    _check_results(url, campaign_id, out)


def _check_results(url: str, campaign_id: str, out: str) -> None:
    """Every answered call of the demo has a transcript and an analysis, and the statistics,
    the CSV export and the webhook deliveries count the same calls."""
    db = Database(url)
    try:
        with db.reading() as session:
            calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)).all()
            totals = stats.totals(session, [campaign_id])[campaign_id]
            delivered = Counter(session.scalars(
                select(WebhookEvent.type).join(WebhookDelivery,
                                               WebhookDelivery.event_id == WebhookEvent.id)
                .where(WebhookDelivery.status == "delivered")))
            workspace_id = calls[0].workspace_id
        export = iter_csv(db, workspace_id, campaign_id)
        rows = list(csv.DictReader(io.StringIO(b"".join(export).decode())))
    finally:
        db.dispose()
    answered = [c for c in calls if c.outcome == "answered"]
    assert answered
    for call in answered:
        assert call.transcript and call.analysis_status == "done" and call.analysis
    assert totals.calls == len(calls) == len(rows) == delivered["call.ended"]
    assert delivered["call.started"] == len(calls)
    assert totals.answered == len(answered) == totals.analyzed == delivered["call.analyzed"]
    assert sum(r["outcome"] == "answered" for r in rows) == totals.answered
    assert sum(r["success"] == "true" for r in rows) == totals.success
    assert f"call.ended {len(calls)}" in out and "0 bad signatures" in out


def test_quickstart_can_be_replayed_on_the_same_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'quick.db'}"
    days = []
    for run in (1, 2):
        result = CliRunner().invoke(app, ["quickstart", "--exit", "--port", "0", "--contacts",
                                          "20", "--speed", "20000", "--database-url", url])
        assert result.exit_code == 0, result.output
        assert "Results: Policy renewals (completed)" in result.output
        # At 20,000x a loaded machine's slow walkthrough costs virtual hours: the campaign may
        # start late and finish on the next calling day, which a holiday can push back.
        _check_campaign(url, 20, within=timedelta(days=6))
        db = Database(url)
        try:
            with db.reading() as session:
                assert session.scalar(select(func.count()).select_from(Workspace)) == run
                statuses = list(session.scalars(select(Campaign.status)))
                assert statuses == ["completed"] * run
                started = session.scalars(select(Campaign.started_at)
                                          .order_by(Campaign.created_at.desc())).first()
        finally:
            db.dispose()
        assert started is not None
        days.append(started.astimezone(NEW_YORK).date())
    assert days[1] > days[0]  # each run gets a virtual day of its own


def test_ctrl_c_mid_campaign_pauses_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    process = subprocess.Popen(
        [str(RINGWISE), "quickstart", "--contacts", "200", "--speed", "60", "--port", "0",
         "--database-url", url],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if line.startswith("Dialing"):
                break
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    assert "Stopping." in output and "Paused campaign" in output
    db = Database(url)
    try:
        with db.reading() as session:
            assert list(session.scalars(select(Campaign.status))) == ["paused"]
    finally:
        db.dispose()
