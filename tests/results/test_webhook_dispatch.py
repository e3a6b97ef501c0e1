"""Webhook delivery against a real local receiver, on SQLite and PostgreSQL, on virtual time.

Signatures are checked with an independent Standard Webhooks verifier (``receiver.py``), never
with ``ringwise.core.webhooks``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ringwise.api.app import create_app
from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import (
    Campaign,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.notify.webhook_sender import SendResult, WebhookSender
from ringwise.results import outbox
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.results.webhook_dispatch import PER_ENDPOINT, WebhookDispatcher
from ringwise.settings import Settings
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number, ready
from tests.conftest import START
from tests.results.receiver import (
    Received,
    Receiver,
    signature_matches,
    verify_standard_webhook,
)

ANSWERING = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0, failure_rate=0.0,
                         invalid_rate=0.0, answer_hour_multiplier=(1.0,) * 24)
SECRET_1 = "whsec_" + "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"  # 24 bytes of 0x01
SECRET_2 = "whsec_" + "AgICAgICAgICAgICAgICAgICAgICAgIC"  # 24 bytes of 0x02
PROCESS = Path(__file__).with_name("webhook_process.py")
MAX_STEPS = 500


# --- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def api(db: Database, clock: ManualClock, workspace: tuple[str, str]) -> Iterator[TestClient]:
    """The workspace's API client, on an app that allows receivers on 127.0.0.1."""
    app = create_app(Settings(database_url=db.url, webhooks_allow_private=True), db=db,
                     clock=clock)
    with TestClient(app, headers={"X-API-Key": workspace[1]}) as client:
        yield client


@pytest.fixture
def sender(clock: ManualClock) -> Iterator[WebhookSender]:
    with WebhookSender(allow_private=True, clock=clock, timeout=5.0) as made:
        yield made


def dispatcher(db: Database, clock: ManualClock, sender: WebhookSender,
               worker_id: str = "d1") -> WebhookDispatcher:
    return WebhookDispatcher(db, clock, sender, worker_id=worker_id)


def make_endpoint(api: TestClient, url: str, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/webhooks", json={"url": url, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def emit(db: Database, workspace_id: str, at: datetime,
         types: tuple[outbox.EventType, ...] = ("call.ended",)) -> list[str]:
    """Record events the way the application does: through the outbox, in a transaction."""
    with db.transaction() as session:
        return outbox.emit_many(session.connection(), workspace_id, [
            (event_type, {"n": index, "note": "héllo"}) for index, event_type in enumerate(types)
        ], at)


def pump(runner: WebhookDispatcher, clock: ManualClock, until: datetime | None = None) -> None:
    """Run the dispatcher, jumping the clock to each next due instant, until nothing is
    pending (or the next attempt is at or after ``until``)."""
    for _ in range(MAX_STEPS):
        runner.run_due()
        due = runner.next_due()
        if due is None or (until is not None and due >= until):
            return
        clock.set(max(due, clock.now()))
    raise AssertionError("the dispatcher never ran out of work")


def events(db: Database) -> dict[str, WebhookEvent]:
    with db.reading() as session:
        return {e.id: e for e in session.scalars(select(WebhookEvent))}


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.reading() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(
            WebhookDelivery.created_at, WebhookDelivery.id)))


def attempts_of(db: Database, delivery_id: str) -> list[WebhookAttempt]:
    with db.reading() as session:
        return list(session.scalars(select(WebhookAttempt).where(
            WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.at)))


def check_request(request: Received, secret: str, stored: Mapping[str, WebhookEvent]) -> None:
    """Signed with ``secret``, and its body is the stored payload of the event it names."""
    assert verify_standard_webhook(secret, request), request.headers
    assert request.headers["content-type"] == "application/json"
    event = stored[request.webhook_id]
    # Compact, sorted keys: the same bytes on every attempt, whatever order the database
    # returns the JSON in.
    assert request.body == json.dumps(event.payload, separators=(",", ":"), sort_keys=True,
                                      ensure_ascii=False).encode()
    assert json.loads(request.body)["type"] == event.type


# --- a) end to end -----------------------------------------------------------------------------

def test_a_campaign_end_to_end(api: TestClient, db: Database, clock: ManualClock,
                               receiver: Receiver, sender: WebhookSender) -> None:
    secret = make_endpoint(api, receiver.url)["secret"]
    campaign = create(api, assistant_id=make_assistant(api),
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(api)]},
                      contact_ids=make_contacts(api, ["+12125550100", "+13125550100"]),
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}})
    assert api.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200

    def completed() -> bool:
        with db.reading() as session:
            return session.scalar(select(Campaign.status).where(
                Campaign.id == campaign["id"])) == "completed"

    carrier = SimulatedCarrier(ANSWERING, seed=3)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=2), done=completed)
    assert completed()
    analysis = AnalysisRunner(db, clock, worker_id="a1")
    while analysis.run_due():
        pass
    receiver.answer_next(503)  # the very first request fails: its event is retried
    pump(dispatcher(db, clock, sender), clock)

    stored = events(db)
    got = receiver.received()
    types = {event.type for event in stored.values()}
    assert {"call.started", "call.ended", "call.analyzed", "campaign.status_changed"} <= types
    changes = [(e.payload["data"]["from"], e.payload["data"]["to"]) for e in stored.values()
               if e.type == "campaign.status_changed"]
    assert sorted(changes) == [("draft", "running"), ("running", "completed")]
    # Every event arrived once with a 2xx, plus the one retry; all of them signed.
    assert len(got) == len(stored) + 1
    assert receiver.ids(answered=200) == set(stored)
    assert len([r for r in got if r.answered == 200]) == len(stored)
    for request in got:
        check_request(request, secret, stored)
    # The retry carries the same webhook-id and the very same body bytes.
    failed = [r for r in got if r.answered == 503]
    assert len(failed) == 1
    again = [r for r in got if r.webhook_id == failed[0].webhook_id and r.answered == 200]
    assert len(again) == 1 and again[0].body == failed[0].body
    assert again[0].timestamp >= failed[0].timestamp + 5  # signed when sent: 5 s later
    # Each request's webhook-timestamp is the instant of its logged attempt.
    with db.reading() as session:
        logged = {(event_id, int(at.timestamp())) for event_id, at in session.execute(
            select(WebhookDelivery.event_id, WebhookAttempt.at)
            .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id))}
    assert {(r.webhook_id, r.timestamp) for r in got} == logged
    assert {d.status for d in deliveries(db)} == {"delivered"}


# --- b) a receiver down for a day --------------------------------------------------------------

@pytest.mark.parametrize("outage", ["refused", "503"])
def test_a_receiver_down_for_a_day_loses_nothing(
        outage: str, api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    secret = make_endpoint(api, receiver.url)["secret"]
    if outage == "refused":
        receiver.stop()
    else:
        receiver.answer(503, {"Retry-After": "120"})
    emit(db, workspace[0], clock.now(), ("call.started", "call.ended",
                                         "campaign.status_changed"))
    runner = dispatcher(db, clock, sender)
    back_at = START + timedelta(hours=24)
    arrivals = [START + timedelta(hours=h) for h in (6, 12, 23)]  # events keep coming
    for _ in range(MAX_STEPS):
        runner.run_due()
        due = runner.next_due()
        assert due is not None  # nothing is given up within a day
        following = min([due, *arrivals])
        if following >= back_at:
            break
        clock.set(max(following, clock.now()))
        while arrivals and arrivals[0] <= clock.now():
            emit(db, workspace[0], arrivals.pop(0), ("call.analyzed",))
    assert not arrivals
    assert receiver.ids() == set()  # nothing got through during the outage
    clock.set(back_at)
    if outage == "refused":
        receiver.start()  # the same port: the endpoint's URL works again
    else:
        receiver.answer(200)
    pump(runner, clock)

    stored = events(db)
    assert len(stored) == 6
    assert receiver.ids() == set(stored)
    assert len([r for r in receiver.received() if r.answered == 200]) == len(stored)
    for request in receiver.received():
        check_request(request, secret, stored)
    for delivery in deliveries(db):
        assert delivery.status == "delivered"
        log = attempts_of(db, delivery.id)
        assert len(log) == delivery.attempts
        assert [a.outcome for a in log] == ["retry"] * (len(log) - 1) + ["delivered"]
        for failure in log[:-1]:
            if outage == "refused":
                assert failure.status_code is None and "ConnectError" in (failure.error or "")
            else:
                assert failure.status_code == 503
        if delivery.created_at == START:  # down all day: retried on the schedule
            assert delivery.attempts >= 7
            assert delivery.delivered_at is not None and delivery.delivered_at > back_at
            if outage == "503":  # Retry-After postponed the 5-second retry to 2 minutes
                assert log[1].at - log[0].at >= timedelta(seconds=120)
    if outage == "503":
        failures = sum(len(attempts_of(db, d.id)) - 1 for d in deliveries(db))
        assert len([r for r in receiver.received() if r.answered == 503]) == failures


def test_a_delivery_is_given_up_after_about_three_days(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    make_endpoint(api, receiver.url)
    emit(db, workspace[0], clock.now())
    receiver.answer(500)
    pump(dispatcher(db, clock, sender), clock)
    (delivery,) = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 10, None)
    assert (delivery.last_status_code, delivery.last_error) == (500, "HTTP 500")
    log = attempts_of(db, delivery.id)
    assert [a.outcome for a in log] == ["retry"] * 10
    assert timedelta(days=3) < log[-1].at - log[0].at < timedelta(days=3.5)
    assert len(receiver.received()) == 10


def test_a_refused_destination_is_not_retried(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        workspace: tuple[str, str]) -> None:
    make_endpoint(api, receiver.url)  # allowed by the API here...
    emit(db, workspace[0], clock.now())
    with WebhookSender(clock=clock) as strict:  # ...but not by the sender: no private hosts
        runner = dispatcher(db, clock, strict)
        assert runner.run_due() == 1
        assert runner.next_due() is None
    (delivery,) = deliveries(db)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    (attempt,) = attempts_of(db, delivery.id)
    assert attempt.outcome == "rejected" and "https" in (attempt.error or "")
    assert receiver.received() == []


# --- c) crashes --------------------------------------------------------------------------------

def _run(args: list[str], processes: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, str(PROCESS), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2],
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    processes.append(process)
    return process


def _read_line(process: subprocess.Popen[bytes], timeout: float = 20.0) -> str:
    stdout = process.stdout
    assert stdout is not None
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, "the process printed nothing in time"
    return lines[0].decode().strip()


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def test_events_committed_by_a_killed_process_are_delivered(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str],
        processes: list[subprocess.Popen[bytes]]) -> None:
    secret = make_endpoint(api, receiver.url)["secret"]
    campaign_id = ready(api)["id"]
    process = _run(["commit", db.url, workspace[0], campaign_id, START.isoformat()], processes)
    line = _read_line(process)
    assert line == "committed", line
    _kill(process)
    assert receiver.received() == []  # killed before any delivery

    stored = events(db)
    assert sorted(e.type for e in stored.values()) == [
        "call.ended", "call.started", "campaign.status_changed"]
    pump(dispatcher(db, clock, sender), clock)
    assert receiver.ids() == set(stored)
    for request in receiver.received():
        check_request(request, secret, stored)


def test_a_dispatcher_killed_mid_send_is_replaced_when_its_lease_runs_out(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str],
        processes: list[subprocess.Popen[bytes]]) -> None:
    secret = make_endpoint(api, receiver.url)["secret"]
    (event_id,) = emit(db, workspace[0], clock.now())
    receiver.hold()  # the request arrives, no answer comes
    process = _run(["dispatch", db.url, START.isoformat()], processes)
    receiver.wait_for(1, timeout=20)
    _kill(process)  # mid-send: claimed and sent, never recorded
    receiver.answer(200)
    receiver.release.set()

    (delivery,) = deliveries(db)
    assert (delivery.status, delivery.lease_owner, delivery.attempts) == (
        "pending", "doomed", 1)
    assert delivery.next_attempt_at == START + timedelta(seconds=60)
    assert attempts_of(db, delivery.id) == []
    runner = dispatcher(db, clock, sender, worker_id="d2")
    clock.advance(timedelta(seconds=59))
    assert runner.run_due() == 0  # still leased to the dead dispatcher
    assert len(receiver.received()) == 1
    clock.set(runner.next_due() or START)
    assert runner.run_due() == 1
    (delivery,) = deliveries(db)
    assert (delivery.status, delivery.lease_owner, delivery.attempts) == ("delivered", None, 2)
    first, second = receiver.received()
    assert first.webhook_id == second.webhook_id == event_id  # at least once, deduplicable
    assert first.body == second.body
    assert second.answered == 200 and verify_standard_webhook(secret, second)
    assert [a.outcome for a in attempts_of(db, delivery.id)] == ["delivered"]


class _SlowSender(WebhookSender):
    """Answers 503 after, meanwhile, the lease ran out and another dispatcher delivered."""

    def __init__(self, meanwhile: Any) -> None:
        super().__init__(allow_private=True)
        self.meanwhile = meanwhile

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        self.meanwhile()
        return SendResult(503, "retry", None, 61_000)


def test_a_late_result_does_not_overwrite_a_newer_one(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    make_endpoint(api, receiver.url)
    emit(db, workspace[0], clock.now())
    other = dispatcher(db, clock, sender, worker_id="fast")

    def lease_runs_out() -> None:
        clock.advance(timedelta(seconds=61))
        assert other.run_due() == 1

    with _SlowSender(lease_runs_out) as slow:
        assert dispatcher(db, clock, slow, worker_id="slow").run_due() == 1
    (delivery,) = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered", 2, 200)
    log = attempts_of(db, delivery.id)
    # Both requests are in the log (both were made); only the newer one decided.
    assert sorted(a.outcome for a in log) == ["delivered", "retry"]


def test_deliveries_whose_lease_would_run_out_are_given_back_unsent(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        workspace: tuple[str, str]) -> None:
    """A slow send eats the batch's lease: the deliveries not sent yet are released (due now,
    the attempt not counted) rather than sent when another dispatcher may take them."""
    make_endpoint(api, receiver.url)
    emit(db, workspace[0], clock.now(), ("call.started", "call.ended", "call.analyzed"))

    def slow_receiver() -> None:
        clock.advance(timedelta(seconds=31))  # more than half the 60 s lease

    with _SlowSender(slow_receiver) as slow:
        assert dispatcher(db, clock, slow).run_due() == 3
    states = sorted((d.attempts, d.status, d.lease_owner) for d in deliveries(db))
    assert states == [(0, "pending", None), (0, "pending", None), (1, "pending", None)]
    assert {d.next_attempt_at for d in deliveries(db) if d.attempts == 0} == {clock.now()}


# --- d) 410, re-enabling, replay, rotation -----------------------------------------------------

def test_410_disables_the_endpoint_and_replays_bring_the_events_back(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    endpoint = make_endpoint(api, receiver.url)
    base = f"/v1/webhooks/{endpoint['id']}"
    sent = set(emit(db, workspace[0], clock.now(), ("call.started", "call.ended",
                                                    "call.analyzed", "contact.opted_out")))
    receiver.answer(410)
    runner = dispatcher(db, clock, sender)
    assert runner.run_due() == 4  # one batch: the first answer stops the three others
    assert len(receiver.received()) == 1
    got = api.get(base).json()
    assert got["enabled"] is False
    assert got["disabled_reason"] == "the receiver answered 410 Gone on 2026-03-02T15:00:00Z"
    statuses = sorted(d.status for d in deliveries(db))
    assert statuses == ["cancelled", "cancelled", "cancelled", "failed"]
    failed = next(d for d in deliveries(db) if d.status == "failed")
    assert failed.last_status_code == 410
    assert [a.outcome for a in attempts_of(db, failed.id)] == ["gone"]
    # Nothing more is sent, and new events are not even recorded for it.
    assert runner.next_due() is None
    clock.advance(timedelta(days=1))
    assert runner.run_due() == 0
    assert emit(db, workspace[0], clock.now()) == []
    assert len(receiver.received()) == 1

    refused = api.post(f"{base}/deliveries/{failed.id}/replay")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["field"] == "enabled"
    assert "410 Gone" in refused.json()["error"]["message"]
    refused = api.post(f"{base}/replay", json={"since": START.isoformat()})
    assert refused.status_code == 409, refused.text

    enabled = api.patch(base, json={"enabled": True})
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)
    receiver.answer(200)
    one = api.post(f"{base}/deliveries/{failed.id}/replay")
    assert one.status_code == 202, one.text
    assert (one.json()["event_id"], one.json()["status"]) == (failed.event_id, "pending")
    assert one.json()["id"] != failed.id
    bulk = api.post(f"{base}/replay", json={"since": START.isoformat(), "status": "failed"})
    assert bulk.status_code == 202, bulk.text
    assert bulk.json() == {"replayed": 3}  # the failed one is pending again already
    assert api.post(f"{base}/replay", json={"since": START.isoformat()}).json() == {
        "replayed": 0}
    pump(runner, clock)
    assert receiver.ids() == sent
    assert len(receiver.received()) == 1 + 4
    # "all" sends every event again, delivered ones included.
    everything = api.post(f"{base}/replay", json={"since": START.isoformat(), "status": "all"})
    assert everything.json() == {"replayed": 4}
    pump(runner, clock)
    assert len([r for r in receiver.received() if r.answered == 200]) == 8


def test_a_410_cancels_the_endpoints_other_deliveries_at_once(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    make_endpoint(api, receiver.url)
    other = make_endpoint(api, receiver.url.replace("/hook", "/other"),
                          events=["contact.opted_out"])
    emit(db, workspace[0], clock.now(), ("call.started", "call.ended"))  # to mine only
    emit(db, workspace[0], clock.now() + timedelta(hours=1), ("contact.opted_out",))  # later
    receiver.answer(410)
    assert dispatcher(db, clock, sender).run_due(limit=1) == 1  # only one is claimed
    assert len(receiver.received()) == 1
    mine = [d for d in deliveries(db) if d.endpoint_id != other["id"]]
    assert sorted(d.status for d in mine) == ["cancelled", "cancelled", "failed"]
    # The other endpoint and its delivery are not touched.
    assert {d.status for d in deliveries(db) if d.endpoint_id == other["id"]} == {"pending"}
    assert api.get(f"/v1/webhooks/{other['id']}").json()["enabled"] is True


def test_a_delivery_to_an_endpoint_disabled_meanwhile_is_cancelled_unsent(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    endpoint = make_endpoint(api, receiver.url)
    emit(db, workspace[0], clock.now(), ("call.started", "call.ended"))
    # As when the outbox read the endpoint just before it was disabled: pending deliveries
    # to a disabled endpoint.
    with db.transaction() as session:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint["id"])
                        .values(enabled=False, disabled_reason="for the test"))
    assert dispatcher(db, clock, sender).run_due() == 2
    assert receiver.received() == []
    assert {(d.status, d.attempts, d.last_error) for d in deliveries(db)} == {
        ("cancelled", 0, "endpoint disabled: for the test")}  # no attempt was made


def test_disabling_through_the_api_cancels_pending_deliveries(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    endpoint = make_endpoint(api, receiver.url)
    emit(db, workspace[0], clock.now(), ("call.started", "call.ended"))
    disabled = api.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": False})
    assert disabled.json()["disabled_reason"].startswith("disabled through the API on ")
    assert dispatcher(db, clock, sender).run_due() == 0
    assert receiver.received() == []
    assert {d.status for d in deliveries(db)} == {"cancelled"}


def test_rotation_signs_with_both_secrets_until_the_old_one_expires(
        api: TestClient, db: Database, clock: ManualClock, receiver: Receiver,
        sender: WebhookSender, workspace: tuple[str, str]) -> None:
    endpoint = make_endpoint(api, receiver.url, secret=SECRET_1)
    assert endpoint["secret"] == SECRET_1
    base = f"/v1/webhooks/{endpoint['id']}"
    runner = dispatcher(db, clock, sender)
    emit(db, workspace[0], clock.now())
    pump(runner, clock)
    (before,) = receiver.received()
    assert len(before.signatures) == 1 and verify_standard_webhook(SECRET_1, before)
    assert not verify_standard_webhook(SECRET_2, before)

    rotated = api.post(f"{base}/rotate-secret",
                       json={"secret": SECRET_2, "previous_valid_hours": 2})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] == SECRET_2
    assert rotated.json()["secrets"] == [
        {"secret": SECRET_2, "expires_at": None},
        {"secret": SECRET_1, "expires_at": "2026-03-02T17:00:00Z"}]
    emit(db, workspace[0], clock.now())
    pump(runner, clock)
    during = receiver.received()[1]
    assert len(during.signatures) == 2
    new_entry, old_entry = during.signatures
    assert signature_matches(SECRET_2, during, new_entry)
    assert not signature_matches(SECRET_1, during, new_entry)
    assert signature_matches(SECRET_1, during, old_entry)
    assert not signature_matches(SECRET_2, during, old_entry)

    clock.advance(timedelta(hours=2))  # the old secret expires now
    assert [s["secret"] for s in api.get(f"{base}/secret").json()["secrets"]] == [SECRET_2]
    emit(db, workspace[0], clock.now())
    pump(runner, clock)
    after = receiver.received()[2]
    assert len(after.signatures) == 1
    assert verify_standard_webhook(SECRET_2, after)
    assert not verify_standard_webhook(SECRET_1, after)


# --- e) one slow or dead receiver does not hold up the others ------------------------------------

def test_a_hanging_receiver_does_not_delay_another_endpoint(
        api: TestClient, db: Database, clock: ManualClock, sender: WebhookSender,
        workspace: tuple[str, str]) -> None:
    with Receiver() as slow, Receiver() as fast:
        make_endpoint(api, slow.url, events=["call.started"])
        make_endpoint(api, fast.url, events=["call.ended"])
        slow.hold()  # every request stays open, unanswered
        # The slow receiver's delivery is the oldest: one after another, it would go first
        # and hold up the others until the sender's timeout.
        emit(db, workspace[0], clock.now() - timedelta(minutes=1), ("call.started",))
        emit(db, workspace[0], clock.now(), ("call.ended", "call.ended"))
        runner = dispatcher(db, clock, sender)
        try:
            worker = threading.Thread(target=runner.run_due)
            worker.start()
            # Both of the fast receiver's deliveries arrive while the slow one still holds
            # its first request.
            assert len(fast.wait_for(2, timeout=4)) == 2
            assert len(slow.wait_for(1, timeout=4)) == 1  # (its request may land last)
            assert all(r.answered is None for r in slow.received())  # still held
            slow.release.set()
            worker.join(timeout=20)
            assert not worker.is_alive()
        finally:
            runner.close()
    by_endpoint: dict[str, set[str]] = {}
    for delivery in deliveries(db):
        by_endpoint.setdefault(delivery.endpoint_id, set()).add(delivery.status)
    assert sorted(map(sorted, by_endpoint.values())) == [["delivered"], ["pending"]]


def test_a_dead_receivers_backlog_leaves_room_for_others(
        api: TestClient, db: Database, clock: ManualClock, sender: WebhookSender,
        workspace: tuple[str, str]) -> None:
    dead = make_endpoint(api, "http://127.0.0.1:9/dead", events=["call.started"])
    alive = make_endpoint(api, "http://127.0.0.1:9/alive", events=["call.ended"])
    emit(db, workspace[0], clock.now() - timedelta(minutes=5), ("call.started",) * 25)
    emit(db, workspace[0], clock.now(), ("call.ended",))
    with db.reading() as session:
        oldest = session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == dead["id"])
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(PER_ENDPOINT)).all()
    work, cancelled = dispatcher(db, clock, sender)._claim(12)
    per_endpoint = {e: sum(1 for w in work if w.endpoint_id == e)
                    for e in (dead["id"], alive["id"])}
    assert cancelled == 0
    assert per_endpoint == {dead["id"]: PER_ENDPOINT, alive["id"]: 1}
    # The oldest first within an endpoint.
    assert {w.delivery_id for w in work if w.endpoint_id == dead["id"]} == set(oldest)
