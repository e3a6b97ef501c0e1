"""Scheduled messages end to end, on both databases, in virtual time: each contact gets each
run message at its own local send time, inside the legal floor for texts, never on the
do-not-call list; e-mails go through a real SMTP server (aiosmtpd); failures are retried,
and a runner that dies mid-send leaves the message to another."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import MessageSend
from ringwise.results.messages import MAX_TRIES, OPT_OUT_NOTICE, RETRY_DELAY, MessageRunner
from ringwise.telephony.messaging import SimulatedSms, SmsError, SmsReceipt, SmsRequest
from tests.api.test_campaigns import create, make_number
from tests.notify.test_email import Recorder, parse, smtp_server

FROM = "+12125550199"
NY_ANN: dict[str, Any] = {"phone": "+12125550101", "first_name": "Ann",
                          "email": "ann@example.com", "campaign_metadata": {"case": "C-17"}}
LA_BOB: dict[str, Any] = {"phone": "+13105550102", "first_name": "Bob",
                          "custom_fields": {"plan": "Gold"}}
# START (conftest) is Monday 2026-03-02 15:00 UTC: 10:00 in New York, 07:00 in Los Angeles.


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def campaign(client: TestClient, messages: list[dict[str, Any]], *,
             contacts: list[dict[str, Any]] | None = None, start: bool = True,
             end_date: str = "2026-03-04", **fields: Any) -> str:
    number = make_number(client, FROM)
    body = create(client, caller_id={"mode": "fixed", "phone_number_ids": [number]},
                  schedule={"runs": [{"start_date": "2026-03-02", "end_date": end_date,
                                      "messaging_only": True, "messages": messages}]},
                  contacts=contacts if contacts is not None else [NY_ANN, LA_BOB], **fields)
    if start:
        response = client.post(f"/v1/campaigns/{body['id']}/start")
        assert response.status_code == 200, response.text
    return str(body["id"])


def sms(send_time: str = "10:00", body: str = "Hi {{first_name}}, about your renewal.",
        send_date: str = "2026-03-03") -> dict[str, Any]:
    return {"send_date": send_date, "send_time": send_time, "channel": "sms", "body": body}


def rows(db: Database) -> dict[str, MessageSend]:
    """Message rows by the number or address they go to."""
    with db.reading() as session:
        found = session.scalars(select(MessageSend)).all()
    return {str(r.to_address or r.contact_id): r for r in found}


def drain(runner: MessageRunner) -> int:
    done = 0
    while (step := runner.run_due(50)):
        done += step
    return done


def texts(provider: SimulatedSms) -> dict[str, str]:
    return {request.to_number: request.body for request, _ in provider.sent}


@pytest.fixture
def provider() -> SimulatedSms:
    return SimulatedSms()


@pytest.fixture
def runner(db: Database, clock: ManualClock, provider: SimulatedSms) -> MessageRunner:
    return MessageRunner(db, clock, provider, worker_id="m1")


# --- when ---------------------------------------------------------------------------------------


def test_each_contact_gets_the_text_at_its_own_local_time(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    campaign_id = campaign(client, [sms(
        body="Hi {{first_name}}: case {{metadata.case}}, plan {{custom_fields.plan}}.")])
    assert runner.run_due() == 2  # planned
    planned = rows(db)
    # 10:00 EST is 15:00 UTC; 10:00 PST is 18:00 UTC.
    assert planned[NY_ANN["phone"]].due_at == utc(3, 15)
    assert planned[LA_BOB["phone"]].due_at == utc(3, 18)
    assert {r.status for r in planned.values()} == {"scheduled"}
    assert runner.next_due() == utc(3, 15)

    clock.set(utc(3, 15) - timedelta(seconds=1))
    assert drain(runner) == 0 and provider.sent == []
    clock.set(utc(3, 15))
    assert drain(runner) == 1
    assert texts(provider) == {NY_ANN["phone"]: "Hi Ann: case C-17, plan ."}
    clock.set(utc(3, 18))
    drain(runner)
    assert texts(provider)[LA_BOB["phone"]] == "Hi Bob: case , plan Gold."

    sent = rows(db)
    for phone, row in sent.items():
        assert (row.status, row.attempts, row.from_address) == ("sent", 1, FROM)
        assert row.body == texts(provider)[phone] and str(row.provider_message_id).startswith("SM")
    assert sent[LA_BOB["phone"]].sent_at == utc(3, 18)
    assert runner.next_due() is None
    assert drain(runner) == 0 and len(provider.sent) == 2  # never twice
    # The API shows the same.
    listed = client.get(f"/v1/campaigns/{campaign_id}/messages").json()["data"]
    assert sorted(m["status"] for m in listed) == ["sent", "sent"]
    summary = client.get(f"/v1/campaigns/{campaign_id}/messages/summary").json()
    assert summary["by_status"]["sent"] == 2 and summary["next_due_at"] is None


def test_a_text_waits_for_the_legal_floor_an_email_does_not(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner) -> None:
    campaign(client, [sms("07:00"), {"send_date": "2026-03-03", "send_time": "07:00",
                                     "channel": "email", "subject": "Renewal",
                                     "body": "Hi {{first_name}}"}], contacts=[NY_ANN])
    runner.run_due()
    with db.reading() as session:
        by_channel = {r.channel: r for r in session.scalars(select(MessageSend))}
    # Texts are telephone solicitations too: not before 08:00 callee-local (TCPA).
    assert by_channel["sms"].due_at == utc(3, 13)  # 08:00 EST
    assert by_channel["email"].due_at == utc(3, 12)  # 07:00 EST


def test_a_text_with_no_legal_time_left_in_its_run_expires(
        client: TestClient, db: Database, runner: MessageRunner) -> None:
    campaign(client, [sms("21:30", send_date="2026-03-04")], contacts=[NY_ANN])
    runner.run_due()
    row = rows(db)[NY_ANN["phone"]]
    assert (row.status, row.reason, row.due_at) == ("expired", "no-legal-time-in-run", None)


def test_an_expired_message_moved_to_a_legal_time_goes(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    campaign_id = campaign(client, [sms("21:30")], contacts=[NY_ANN], end_date="2026-03-03")
    runner.run_due()
    assert rows(db)[NY_ANN["phone"]].status == "expired"
    assert client.post(f"/v1/campaigns/{campaign_id}/pause").status_code == 200
    clock.advance(timedelta(minutes=1))
    patched = client.patch(f"/v1/campaigns/{campaign_id}", json={"schedule": {"runs": [{
        "start_date": "2026-03-02", "end_date": "2026-03-03", "messaging_only": True,
        "messages": [sms("20:30")]}]}})
    assert patched.status_code == 200, patched.text
    assert client.post(f"/v1/campaigns/{campaign_id}/resume").status_code == 200
    clock.advance(timedelta(minutes=1))
    runner.run_due()
    assert rows(db)[NY_ANN["phone"]].due_at == utc(4, 1, 30)  # 20:30 EST
    clock.set(utc(4, 1, 30))
    drain(runner)
    assert list(texts(provider)) == [NY_ANN["phone"]]


def test_a_message_already_past_when_the_campaign_starts_goes_at_once(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    clock.set(utc(3, 19))  # 14:00 in New York, after the 10:00 message time
    campaign(client, [sms("10:00")], contacts=[NY_ANN])
    drain(runner)
    assert list(texts(provider)) == [NY_ANN["phone"]]


# --- compliance ---------------------------------------------------------------------------------


def test_a_number_listed_after_planning_is_not_texted(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    campaign(client, [sms()])
    runner.run_due()
    response = client.post("/v1/dnc", json={"phone": LA_BOB["phone"], "reason": "asked"})
    assert response.status_code == 201, response.text
    clock.set(utc(3, 20))
    drain(runner)
    assert list(texts(provider)) == [NY_ANN["phone"]]
    row = rows(db)[LA_BOB["phone"]]
    assert (row.status, row.reason) == ("blocked", "dnc-listed")


def test_a_stop_reply_stops_the_next_texts(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    campaign(client, [sms(), sms("11:00", body="Second")], contacts=[NY_ANN])
    clock.set(utc(3, 15))
    drain(runner)
    assert [request.body for request, _ in provider.sent] == ["Hi Ann, about your renewal."]
    reply = client.post("/v1/messages/inbound", json={"from": NY_ANN["phone"], "to": FROM,
                                                     "body": "STOP"})
    assert reply.status_code == 200 and reply.json()["opt_out"] is True
    clock.set(utc(3, 16))
    drain(runner)
    assert len(provider.sent) == 1
    with db.reading() as session:
        second = session.scalars(select(MessageSend).where(MessageSend.message_index == 1)).one()
    assert (second.status, second.reason) == ("blocked", "dnc-listed")


def test_telemarketing_texts_need_written_consent_and_carry_the_opt_out(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    consented = {**NY_ANN, "consent_basis": "express_written", "consent_at": "2026-02-01T00:00:00Z"}
    campaign(client, [sms()], contacts=[consented, LA_BOB], telemarketing=True)
    clock.set(utc(3, 20))
    drain(runner)
    assert texts(provider) == {NY_ANN["phone"]: f"Hi Ann, about your renewal. {OPT_OUT_NOTICE}"}
    row = rows(db)[LA_BOB["phone"]]
    assert (row.status, row.reason) == ("blocked", "no-consent")


# --- lifecycle ----------------------------------------------------------------------------------


def test_paused_waits_canceled_closes(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    campaign_id = campaign(client, [sms(), sms("11:00", body="Second")], contacts=[NY_ANN])
    runner.run_due()
    assert client.post(f"/v1/campaigns/{campaign_id}/pause").status_code == 200
    clock.set(utc(3, 15, 30))
    drain(runner)
    assert provider.sent == []  # paused: nothing goes
    assert client.post(f"/v1/campaigns/{campaign_id}/resume").status_code == 200
    drain(runner)
    assert [request.body for request, _ in provider.sent] == ["Hi Ann, about your renewal."]
    assert client.post(f"/v1/campaigns/{campaign_id}/cancel").status_code == 200
    clock.set(utc(3, 17))
    drain(runner)
    assert len(provider.sent) == 1
    with db.reading() as session:
        statuses = {r.message_index: (r.status, r.reason)
                    for r in session.scalars(select(MessageSend))}
    assert statuses == {0: ("sent", None), 1: ("canceled", "campaign-canceled")}


def test_contacts_added_later_and_edited_messages_are_planned_again(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        provider: SimulatedSms) -> None:
    campaign_id = campaign(client, [sms()], contacts=[NY_ANN])
    runner.run_due()
    added = client.post(f"/v1/campaigns/{campaign_id}/contacts", json={"contacts": [LA_BOB]})
    assert added.status_code in (200, 201), added.text
    clock.advance(timedelta(minutes=1))  # the runner looks again after PLAN_CHECK
    runner.run_due()
    assert set(rows(db)) == {NY_ANN["phone"], LA_BOB["phone"]}
    # Edited while paused: the new time replaces the planned one.
    assert client.post(f"/v1/campaigns/{campaign_id}/pause").status_code == 200
    clock.advance(timedelta(minutes=1))
    patched = client.patch(f"/v1/campaigns/{campaign_id}", json={"schedule": {"runs": [{
        "start_date": "2026-03-02", "end_date": "2026-03-04", "messaging_only": True,
        "messages": [sms("12:00", body="Moved")]}]}})
    assert patched.status_code == 200, patched.text
    assert client.post(f"/v1/campaigns/{campaign_id}/resume").status_code == 200
    clock.advance(timedelta(minutes=1))
    runner.run_due()
    assert rows(db)[NY_ANN["phone"]].due_at == utc(3, 17)  # 12:00 EST
    clock.set(utc(3, 23))
    drain(runner)
    assert texts(provider) == {NY_ANN["phone"]: "Moved", LA_BOB["phone"]: "Moved"}


# --- e-mail -------------------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield recorder, port


def test_emails_go_through_the_workspaces_smtp_server(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner,
        smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    response = client.patch("/v1/settings", json={"email": {
        "host": "127.0.0.1", "port": port, "security": "none",
        "from_address": "care@acme.test", "timeout_seconds": 5}})
    assert response.status_code == 200, response.text
    campaign(client, [{"send_date": "2026-03-03", "send_time": "09:00", "channel": "email",
                       "subject": "Your case {{metadata.case}}",
                       "body": "Hi {{first_name}},\nyour renewal is due."}])
    clock.set(utc(3, 20))
    drain(runner)
    [received] = recorder.received
    assert received.rcpt_tos == [NY_ANN["email"]]
    message = parse(received)
    assert message["Subject"] == "Your case C-17"
    assert message.get_content().replace("\r\n", "\n").strip() == "Hi Ann,\nyour renewal is due."
    by_to = rows(db)
    assert (by_to[NY_ANN["email"]].status, by_to[NY_ANN["email"]].from_address) == \
        ("sent", "care@acme.test")
    bob = next(r for r in by_to.values() if r.to_address is None)
    assert (bob.status, bob.reason) == ("skipped", "no-email-address")


def test_an_email_without_smtp_settings_fails_plainly(
        client: TestClient, db: Database, clock: ManualClock, runner: MessageRunner) -> None:
    campaign(client, [{"send_date": "2026-03-03", "send_time": "09:00", "channel": "email",
                       "body": "Hi"}], contacts=[NY_ANN])
    clock.set(utc(3, 20))
    drain(runner)
    row = rows(db)[NY_ANN["email"]]
    assert (row.status, row.reason) == ("failed", "provider-error")
    assert row.error is not None and "PATCH /v1/settings" in row.error


# --- failures -----------------------------------------------------------------------------------


class Flaky:
    """Refuses the first ``failures`` requests, then accepts."""

    def __init__(self, failures: int, *, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.calls: list[SmsRequest] = []

    def send_sms(self, request: SmsRequest) -> SmsReceipt:
        self.calls.append(request)
        if len(self.calls) <= self.failures:
            raise SmsError("503 from the provider", retryable=self.retryable)
        return SmsReceipt(f"SM{len(self.calls)}", 1)


def test_a_provider_failure_is_retried_then_given_up(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    campaign(client, [sms()], contacts=[NY_ANN])
    flaky = Flaky(MAX_TRIES - 1)
    runner = MessageRunner(db, clock, flaky, worker_id="m1")
    clock.set(utc(3, 15))
    runner.run_due()
    row = rows(db)[NY_ANN["phone"]]
    assert (row.status, row.attempts, row.error) == ("scheduled", 1, "503 from the provider")
    assert row.due_at == utc(3, 15) + RETRY_DELAY
    for _ in range(MAX_TRIES - 1):
        clock.advance(RETRY_DELAY)
        runner.run_due()
    row = rows(db)[NY_ANN["phone"]]
    assert (row.status, row.attempts) == ("sent", MAX_TRIES)
    assert len({request.key for request in flaky.calls}) == 1  # one message, tried 3 times

    refused = Flaky(10, retryable=False)
    other = campaign(client, [sms()], contacts=[LA_BOB])
    runner = MessageRunner(db, clock, refused, worker_id="m2")
    clock.set(utc(3, 18))
    runner.run_due()
    with db.reading() as session:
        row = session.scalars(select(MessageSend).where(MessageSend.campaign_id == other)).one()
    assert (row.status, row.reason, row.attempts) == ("failed", "provider-error", 1)


def test_a_runner_that_dies_mid_send_leaves_the_message_to_another(
        client: TestClient, db: Database, clock: ManualClock, provider: SimulatedSms) -> None:
    campaign(client, [sms()], contacts=[NY_ANN])
    dead = MessageRunner(db, clock, provider, worker_id="dead")
    dead.plan()
    clock.set(utc(3, 15))
    [job] = dead._claim(10)  # claimed, then the process died before sending
    alive = MessageRunner(db, clock, provider, worker_id="alive")
    assert alive.run_due() == 0  # the lease holds
    clock.advance(dead.lease + timedelta(seconds=1))
    alive.run_due()
    row = rows(db)[NY_ANN["phone"]]
    assert (row.status, row.attempts) == ("sent", 2) and len(provider.sent) == 1
    dead._finish(job, status="failed", error="late")  # too late: nothing changes
    assert rows(db)[NY_ANN["phone"]].status == "sent"


def test_two_runners_plan_and_send_each_message_once(
        client: TestClient, db: Database, clock: ManualClock, provider: SimulatedSms) -> None:
    campaign(client, [sms(), sms("11:00", body="Second")])
    first = MessageRunner(db, clock, provider, worker_id="a")
    second = MessageRunner(db, clock, provider, worker_id="b")
    first.run_due()
    second.run_due()
    clock.set(utc(3, 23))
    while first.run_due(1) + second.run_due(1):
        pass
    with db.reading() as session:
        assert len(session.scalars(select(MessageSend)).all()) == 4
    assert sorted((r.to_number, r.body) for r, _ in provider.sent) == [
        (NY_ANN["phone"], "Hi Ann, about your renewal."), (NY_ANN["phone"], "Second"),
        (LA_BOB["phone"], "Hi Bob, about your renewal."), (LA_BOB["phone"], "Second")]


def test_a_planner_racing_another_writes_nothing_twice_and_looks_again(
        client: TestClient, db: Database, clock: ManualClock, provider: SimulatedSms,
        monkeypatch: pytest.MonkeyPatch) -> None:
    campaign_id = campaign(client, [sms()])
    first = MessageRunner(db, clock, provider, worker_id="a")
    second = MessageRunner(db, clock, provider, worker_id="b")
    planned_row = second._planned_row

    def racing(*args: Any) -> dict[str, Any]:
        if not first._planned:  # the other runner commits the same rows in between
            first.plan()
        return planned_row(*args)

    monkeypatch.setattr(second, "_planned_row", racing)
    assert second.plan() == 0  # its batch collided and was rolled back
    assert campaign_id in first._planned and campaign_id not in second._planned
    assert second.plan() == 0 and campaign_id in second._planned  # nothing left to write
    with db.reading() as session:
        assert len(session.scalars(select(MessageSend)).all()) == 2


def test_campaigns_without_messages_cost_one_look(
        client: TestClient, db: Database, runner: MessageRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    number = make_number(client, FROM)
    for name in ("Calls only A", "Calls only B"):
        body = create(client, name=name, contacts=[NY_ANN],
                      caller_id={"mode": "fixed", "phone_number_ids": [number]},
                      schedule={"runs": [{"start_date": "2026-03-02", "end_date": "2026-03-04",
                                          "messaging_only": True}]})
        assert client.post(f"/v1/campaigns/{body['id']}/start").status_code == 200
    looked: list[str] = []
    context = runner._context

    def counted(campaign_id: str) -> Any:
        looked.append(campaign_id)
        return context(campaign_id)

    monkeypatch.setattr(runner, "_context", counted)
    assert runner.plan() == 0 and looked == []  # their schedules say there is nothing to plan
    assert len(runner._planned) == 2 and runner.plan() == 0
