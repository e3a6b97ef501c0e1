"""A dialer worker killed mid-campaign: nobody is dialed twice, nobody is lost, the campaign
completes (on SQLite and PostgreSQL).

Two tests. The first kills a real ``ringwise worker`` process with SIGKILL at whatever point
it happens to be, restarts one under another worker id on the same carrier journal, and
checks the finished campaign. The second kills a dialer at the one instant that matters most,
after the calls are committed ``dialing`` and before the carrier hears of them, and checks
that the next worker ends those calls (nobody was called) and retries their contacts as new
attempts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Campaign, CampaignContact, CampaignCounters
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.telephony.journal import JournaledCarrier
from ringwise.telephony.port import (
    CallEvent,
    DialRequest,
    PlaceResult,
    ProviderCallRecord,
    Transcript,
)
from tests.api.test_campaigns import create, make_assistant, make_contacts
from tests.conftest import START

SEED = 7
SPEED = 200  # virtual seconds per real second: a one-minute call lasts 0.3 s
CAMPAIGN_TIMEOUT_S = 90.0
RUN_WORKER = "from ringwise.cli import app; app(prog_name='ringwise')"


# --- helpers ---------------------------------------------------------------------------------

def make_number(client: TestClient, number: str, cps_limit: float = 10) -> str:
    response = client.post("/v1/phone-numbers", json={"number": number, "cps_limit": cps_limit})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def start_campaign(client: TestClient, contacts: int, concurrency: int) -> str:
    phones = [f"+1212555{n:04d}" for n in range(contacts)]
    campaign = create(client, assistant_id=make_assistant(client),
                      caller_id={"mode": "fixed",
                                 "phone_number_ids": [make_number(client, "+12125550999")]},
                      contact_ids=make_contacts(client, phones), concurrency_limit=concurrency,
                      retry={"delays_minutes": [1], "max_attempts": 2,
                             "retry_on": ["no-answer", "busy", "voicemail", "failed"]})
    started = client.post(f"/v1/campaigns/{campaign['id']}/start")
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running"
    return str(campaign["id"])


def journaled_calls(path: Path) -> list[str]:
    """The call ids of every placement the carrier journal holds, in order."""
    ids = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "place":
            ids.append(record["call_id"])
    return ids


def campaign_status(db: Database, campaign_id: str) -> str | None:
    with db.reading() as session:
        return session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))


def check_finished_campaign(db: Database, campaign_id: str, journal: Path) -> list[Call]:
    """The invariants of a campaign that survived a crash; returns its calls."""
    assert campaign_status(db, campaign_id) == "completed"
    with db.reading() as session:
        calls = list(session.scalars(select(Call).where(Call.campaign_id == campaign_id)))
        contacts = list(session.scalars(
            select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)))
        counters = session.scalars(select(CampaignCounters).where(
            CampaignCounters.campaign_id == campaign_id)).one()
    # No lost contact: each is finished, and its attempts are exactly its calls, 1..n.
    assert {c.state for c in contacts} <= {"done", "skipped"}
    attempts: dict[str | None, list[int]] = {}
    for call in calls:
        attempts.setdefault(call.campaign_contact_id, []).append(call.attempt)
    for contact in contacts:
        made = sorted(attempts.get(contact.id, []))
        assert made == list(range(1, contact.attempts + 1)), (contact.id, made)
        assert contact.attempts >= 1
    # No attempt twice in the database, none placed twice at the carrier.
    pairs = Counter((c.campaign_contact_id, c.attempt) for c in calls)
    assert max(pairs.values()) == 1
    placed = Counter(journaled_calls(journal))
    assert placed and max(placed.values()) == 1, placed.most_common(3)
    by_id = {c.id: c for c in calls}
    assert set(placed) <= set(by_id)  # the carrier dialed nothing the database lacks
    for call in calls:
        assert call.status == "ended", (call.id, call.status)
        if call.id not in placed:  # never reached the carrier: nobody was called
            assert call.provider_call_id is None and call.outcome == "failed", call.id
        if call.ended_reason == "worker-crash-reconciled":
            assert call.id not in placed
    # The counters agree with the rows.
    assert counters.calls_total == len(calls)
    assert counters.calls_ended == len(calls)
    assert counters.calls_in_progress == 0
    assert counters.contacts_active == 0 and counters.contacts_pending == 0
    assert counters.contacts_done + counters.contacts_skipped == counters.contacts_total \
        == len(contacts)
    assert counters.contacts_done == sum(c.state == "done" for c in contacts)
    return calls


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             alive: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.poll() is not None:
            output = log.read_text() if log is not None else ""
            pytest.fail(f"the worker exited ({alive.returncode}) before {what}:\n{output}")
        if time.monotonic() > deadline:
            output = log.read_text() if log is not None else ""
            pytest.fail(f"timed out waiting for {what}\n{output}")
        time.sleep(0.05)


# --- a real worker process, killed -9 --------------------------------------------------------

def test_worker_killed_mid_campaign_recovers(
        client: TestClient, db: Database, db_url: str, tmp_path: Path,
        processes: list[subprocess.Popen[bytes]]) -> None:
    campaign_id = start_campaign(client, contacts=30, concurrency=5)
    journal = tmp_path / "carrier.jsonl"
    epoch = time.time()  # the virtual clock reads START (the API's clock) at this instant

    def launch(worker_id: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{worker_id}.log"
        command = [sys.executable, "-c", RUN_WORKER, "worker",
                   "--carrier-journal", str(journal), "--seed", str(SEED),
                   "--speed", str(SPEED), "--clock-start", START.isoformat(),
                   "--clock-epoch", repr(epoch), "--worker-id", worker_id,
                   "--lease-seconds", "1", "--poll-interval", "0.1"]
        env = {**os.environ, "RINGWISE_DATABASE_URL": db_url}
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        return process, log

    def calls() -> tuple[int, int]:
        with db.reading() as session:
            total = session.scalar(select(func.count()).select_from(Call)) or 0
            live = session.scalar(select(func.count()).select_from(Call)
                                  .where(Call.status != "ended")) or 0
        return total, live

    def busy() -> bool:
        total, live = calls()
        return total >= 8 and live >= 1

    first, first_log = launch("crash-test-w1")
    wait_for(busy, 30, "the first worker to place calls", first, first_log)
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    total_at_kill, live_at_kill = calls()
    assert live_at_kill >= 1  # killed with calls in flight (nothing ends them without a worker)
    assert campaign_status(db, campaign_id) == "running"

    second, second_log = launch("crash-test-w2")
    wait_for(lambda: campaign_status(db, campaign_id) == "completed", CAMPAIGN_TIMEOUT_S,
             "the campaign to complete", second, second_log)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0, second_log.read_text()
    output = second_log.read_text()
    assert "dialer worker crash-test-w2 stopped" in output
    assert f"campaign {campaign_id} completed" in output

    calls_done = check_finished_campaign(db, campaign_id, journal)
    assert len(calls_done) > total_at_kill  # the second worker carried on dialing
    with db.reading() as session:
        leftovers = session.scalar(select(func.count()).select_from(Call).where(
            Call.lease_owner == "crash-test-w1", Call.status != "ended"))
    assert leftovers == 0


# --- killed between committing "dialing" and the carrier hearing of it -----------------------

class CrashingCarrier:
    """A carrier whose worker dies (SystemExit) just before its ``crash_at``-th placement."""

    def __init__(self, inner: JournaledCarrier, crash_at: int) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.attempted = 0

    def place_call(self, request: DialRequest) -> PlaceResult:
        self.attempted += 1
        if self.attempted == self.crash_at:
            raise SystemExit("killed between committing the call and placing it")
        return self.inner.place_call(request)

    def events_due(self, until: datetime) -> list[CallEvent]:
        return self.inner.events_due(until)

    def lookup(self, call_id: str) -> ProviderCallRecord | None:
        return self.inner.lookup(call_id)

    def conversation(self, provider_call_id: str) -> Transcript | None:
        return self.inner.conversation(provider_call_id)

    def next_event_at(self, *, terminal_only: bool = False) -> datetime | None:
        return self.inner.next_event_at(terminal_only=terminal_only)


def calls_by_id(db: Database) -> dict[str, Call]:
    with db.reading() as session:
        return {c.id: c for c in session.scalars(select(Call))}


def test_crash_between_commit_and_placement_is_reconciled(
        client: TestClient, db: Database, clock: ManualClock, tmp_path: Path) -> None:
    campaign_id = start_campaign(client, contacts=4, concurrency=4)
    journal = tmp_path / "carrier.jsonl"
    store = SqlDialerStore(db)
    lease = timedelta(seconds=60)

    first_carrier = JournaledCarrier(journal, seed=SEED, fsync=False)
    crashing = CrashingCarrier(first_carrier, crash_at=2)
    first = Dialer(store, crashing, clock, worker_id="w1", lease=lease)
    with pytest.raises(SystemExit):
        first.tick()
    first_carrier.close()  # the process is gone; its journal stays
    committed = calls_by_id(db)
    assert len(committed) == 4 and {c.status for c in committed.values()} == {"dialing"}
    placed = journaled_calls(journal)
    assert len(placed) == 1  # the first placement reached the carrier, then the worker died
    unplaced = set(committed) - set(placed)
    assert len(unplaced) == 3

    # Another worker, on the same journal. Within the lease it leaves w1's calls alone, but
    # the events of the call that was placed reach it through the replayed journal.
    carrier = JournaledCarrier(journal, seed=SEED, fsync=False)
    second = Dialer(store, carrier, clock, worker_id="w2", lease=lease)
    clock.advance(timedelta(seconds=5))
    assert second.tick().reconciled == 0
    now = calls_by_id(db)
    assert now[placed[0]].provider_call_id is not None
    assert all(now[call_id].status == "dialing" for call_id in unplaced)

    # Past the lease: the calls the carrier never heard of end, nobody having been called.
    clock.advance(lease)
    assert second.tick().reconciled >= 3
    now = calls_by_id(db)
    for call_id in unplaced:
        call = now[call_id]
        assert (call.status, call.outcome, call.ended_reason) == \
            ("ended", "failed", "worker-crash-reconciled")
        assert call.provider_call_id is None and call.attempt == 1
        assert carrier.lookup(call_id) is None
    with db.reading() as session:
        retried = {c.id: c for c in session.scalars(select(CampaignContact).where(
            CampaignContact.id.in_([now[i].campaign_contact_id for i in unplaced])))}
    assert {c.state for c in retried.values()} == {"pending"}  # retry per policy
    assert all(c.next_eligible_at is not None for c in retried.values())

    def completed() -> bool:
        return campaign_status(db, campaign_id) == "completed"

    result = drive(second, clock, carrier, until=clock.now() + timedelta(days=2), done=completed)
    assert result.reason == "done", result
    carrier.close()
    calls = check_finished_campaign(db, campaign_id, journal)
    # Each reconciled contact was dialed again as a new attempt, under a new call id.
    for call_id in unplaced:
        target = committed[call_id].campaign_contact_id
        again = [c for c in calls if c.campaign_contact_id == target and c.attempt == 2]
        assert len(again) == 1 and again[0].id != call_id
        assert again[0].id in journaled_calls(journal)
