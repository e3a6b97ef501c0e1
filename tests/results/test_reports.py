"""Scheduled e-mail reports end to end, on both databases, against a real SMTP server
(aiosmtpd on 127.0.0.1) in virtual time: what is sent when, which calls the CSV holds, the
delivery log, the report.sent event, retries, races and send-now."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Report, ReportDelivery, WebhookEndpoint, WebhookEvent
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.ids import new_id
from ringwise.notify.email import SendReceipt, SmtpSettings, send_email
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.results.reports import NO_SMTP, ReportRunner
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number
from tests.helpers import walk_pages
from tests.notify.test_email import Recorder, free_port, parse, smtp_server

SENDER = "reports@ringwise.test"
TO = ["ann@example.com", "bob@example.org"]
NY = "America/New_York"
# START (conftest) is Monday 2026-03-02 10:00 EST (UTC-5); DST starts Sunday 2026-03-08.
MON, TUE, WED, THU, FRI = (datetime(2026, 3, day, tzinfo=UTC) for day in range(2, 7))
AT_0930 = timedelta(hours=14, minutes=30)  # 09:30 EST in UTC
RUNS = [{"client_run_id": f"run-{n}", "start_date": f"2026-03-0{n + 1}",
         "end_date": f"2026-03-0{n + 1}", "start_time": "09:00", "end_time": "17:00"}
        for n in (1, 2, 3)]
ANALYSIS = {"tags": [{"name": "Interested", "description": "Wants a review"}],
            "structured_data_schema": [{"key": "callback_time", "type": "string"}]}
MIXED = CarrierModel(answer_rate=0.6, busy_rate=0.1, voicemail_rate=0.2, failure_rate=0.05,
                     invalid_rate=0.0)


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield recorder, port


def use_smtp(client: TestClient, port: int) -> None:
    response = client.patch("/v1/settings", json={"email": {
        "host": "127.0.0.1", "port": port, "security": "none",
        "from_address": SENDER, "timeout_seconds": 5}})
    assert response.status_code == 200, response.text


def draft_campaign(client: TestClient, **schedule: Any) -> str:
    return str(create(client, schedule={"timezone": NY, **schedule})["id"])


def add_report(client: TestClient, campaign_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/v1/campaigns/{campaign_id}/reports", json={
        "name": "Daily", "frequency": "daily", "time": "09:30", "recipients": TO, **body})
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    return report


def add_call(db: Database, workspace_id: str, campaign_id: str, at: datetime, *,
             outcome: str = "answered", sentiment: float | None = None,
             success: bool | None = None) -> str:
    call_id = new_id()
    analysis = None if sentiment is None else {
        "summary": "Talked.", "sentiment": sentiment, "score": 50, "tags": [],
        "structured_data": {}, "success": success, "opted_out": False,
        "callback_requested": False, "analyzer": "test"}
    with db.transaction() as session:
        session.add(Call(id=call_id, workspace_id=workspace_id, campaign_id=campaign_id,
                         to_number="+12125550100", status="ended", outcome=outcome,
                         created_at=at, updated_at=at, started_at=at,
                         ended_at=at + timedelta(minutes=1), analysis=analysis,
                         analysis_status=None if analysis is None else "done"))
    return call_id


def subscribe(db: Database, workspace_id: str, clock: ManualClock) -> None:
    with db.transaction() as session:
        session.add(WebhookEndpoint(
            id=new_id(), workspace_id=workspace_id, url="https://hooks.example.com/rw",
            description=None, events=["report.sent"],
            secrets=[{"secret": "whsec_dGVzdHNlY3JldA==", "expires_at": None}],
            enabled=True, created_at=clock.now(), updated_at=clock.now()))


def attachment(message: EmailMessage) -> tuple[str, list[dict[str, str]]]:
    [part] = list(message.iter_attachments())
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes) and part.get_content_type() == "text/csv"
    rows = list(csv.DictReader(io.StringIO(payload.decode("utf-8"), newline="")))
    return str(part.get_filename()), rows


def body_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def deliveries(db: Database, report_id: str) -> list[ReportDelivery]:
    with db.reading() as session:
        return list(session.scalars(select(ReportDelivery).where(
            ReportDelivery.report_id == report_id).order_by(ReportDelivery.created_at)))


def next_send(db: Database, report_id: str) -> datetime | None:
    with db.reading() as session:
        report = session.get(Report, report_id)
        assert report is not None
        return report.next_send_at


def api_call_ids(client: TestClient, campaign_id: str, start: datetime | None,
                 end: datetime) -> set[str]:
    """The calls GET /v1/calls lists for [start, end)."""
    params: dict[str, Any] = {"campaign_id": campaign_id, "created_before": end.isoformat()}
    if start is not None:
        params["created_after"] = start.isoformat()
    return {c["id"] for c in walk_pages(client, "/v1/calls", limit=200, **params)}


def emails_of(recorder: Recorder) -> list[EmailMessage]:
    return [parse(received) for received in recorder.received]


# --- a campaign dialed for real -----------------------------------------------------------------

def test_a_weekly_report_of_dialed_calls_goes_out_once_at_its_time(
        client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str], smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    campaign = create(client, name="Spring renewals", assistant_id=make_assistant(client),
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                      contact_ids=make_contacts(client, [f"+1212555{n:04d}"
                                                         for n in range(100, 112)]),
                      retry={"delays_minutes": [30], "max_attempts": 2}, analysis=ANALYSIS,
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}})
    campaign_id = str(campaign["id"])
    started = client.post(f"/v1/campaigns/{campaign_id}/start")
    assert started.status_code == 200, started.text
    report = add_report(client, campaign_id, name="Weekly Campaign Report",
                        frequency="weekly", weekday=2)  # Tuesdays 09:30, cumulative
    assert report["timezone"] == NY  # the workspace's, filled in on the campaign
    subscribe(db, workspace[0], clock)
    use_smtp(client, port)

    carrier = SimulatedCarrier(MIXED, seed=7)
    drive(Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1"), clock, carrier,
          until=clock.now() + timedelta(hours=3))
    analyzer = AnalysisRunner(db, clock, worker_id="a1")
    while analyzer.run_due(20):
        pass
    with db.reading() as session:
        calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)).all()
    assert calls and any(c.outcome == "answered" for c in calls)

    runner = ReportRunner(db, clock, worker_id="r1")
    assert runner.run_due() == 0
    assert runner.next_due() == TUE + AT_0930
    clock.set(TUE + AT_0930 - timedelta(seconds=1))
    assert runner.run_due() == 0 and recorder.received == []
    clock.set(TUE + AT_0930)
    assert runner.run_due() == 1
    assert runner.run_due() == 0
    [received] = recorder.received
    assert (received.mail_from, received.rcpt_tos) == (SENDER, TO)
    message = parse(received)
    assert message["Subject"] == "Weekly Campaign Report: Spring renewals, " \
                                 "2026-03-02 to 2026-03-03"

    # The CSV holds exactly the calls of its range, as GET /v1/calls lists them.
    [delivery] = deliveries(db, report["id"])
    assert (delivery.status, delivery.trigger, delivery.error) == ("sent", "schedule", None)
    assert delivery.scheduled_for == TUE + AT_0930 and delivery.range_end == TUE + AT_0930
    assert delivery.range_start == datetime.fromisoformat(started.json()["started_at"])
    filename, rows = attachment(message)
    assert filename == "spring-renewals-2026-03-02-to-2026-03-03.csv"
    ids = [row["call_id"] for row in rows]
    assert len(ids) == len(set(ids)) == delivery.rows == len(calls)
    assert set(ids) == api_call_ids(client, campaign_id, delivery.range_start,
                                    delivery.range_end) == {c.id for c in calls}
    assert "tag:Interested" in rows[0] and "data:callback_time" in rows[0]

    # The body's totals are those of the calls.
    answered = [c for c in calls if c.outcome == "answered"]
    sentiments = [c.analysis["sentiment"] for c in answered if c.analysis]
    lines = body_of(message).splitlines()
    assert f"Calls: {len(calls)}" in lines
    assert f"Connected (answered by a person): {len(answered)}" in lines
    assert f"Voicemail: {sum(c.outcome == 'voicemail' for c in calls)}" in lines
    assert f"Success: {sum(bool(c.analysis and c.analysis['success']) for c in calls)}" \
        in lines
    assert f"Average sentiment: {sum(sentiments) / len(sentiments):.2f}" in lines

    # The log, the event, and the next Tuesday (09:30 EDT by then).
    log = client.get(f"/v1/campaigns/{campaign_id}/reports/{report['id']}/deliveries").json()
    assert [d["id"] for d in log["data"]] == [delivery.id]
    assert log["data"][0]["rows"] == len(calls) and log["data"][0]["recipients"] == TO
    with db.reading() as session:
        [event] = session.scalars(select(WebhookEvent)
                                  .where(WebhookEvent.type == "report.sent")).all()
    data = event.payload["data"]
    assert (data["report_id"], data["campaign_id"], data["delivery_id"], data["rows"]) == \
        (report["id"], campaign_id, delivery.id, len(calls))
    assert data["period"]["label"] == "2026-03-02 to 2026-03-03"
    assert next_send(db, report["id"]) == datetime(2026, 3, 10, 13, 30, tzinfo=UTC)


# --- ranges and runs ---------------------------------------------------------------------------

def test_previous_day_today_so_far_and_cumulative_cover_their_own_calls(
        client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str], smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, port)
    campaign_id = draft_campaign(client)
    other_id = draft_campaign(client)
    ws = workspace[0]
    # Monday (local), Monday 23:00 EST (Tuesday in UTC), Tuesday 01:00 and 09:00 EST, and
    # one at the send instant itself (ranges end before it).
    instants = [MON + timedelta(hours=16), MON + timedelta(hours=20),
                TUE + timedelta(hours=4), TUE + timedelta(hours=6), TUE + timedelta(hours=14),
                TUE + AT_0930]
    calls = [add_call(db, ws, campaign_id, at, sentiment=0.5, success=True)
             for at in instants]
    add_call(db, ws, other_id, MON + timedelta(hours=17))  # another campaign's
    unanswered = add_call(db, ws, campaign_id, MON + timedelta(hours=18), outcome="busy")
    reports = {name: add_report(client, campaign_id, name=name.title(), date_range=name)
               for name in ("previous_day", "today_so_far", "cumulative")}
    add_report(client, campaign_id, name="Busy", date_range="previous_day",
               filters={"outcome": "busy"})

    runner = ReportRunner(db, clock, worker_id="r1")
    clock.set(TUE + AT_0930)
    assert runner.run_due() == 4 and len(recorder.received) == 4
    by_subject = {m["Subject"].split(":")[0]: m for m in emails_of(recorder)}
    busy = by_subject.pop("Busy")
    assert [row["call_id"] for row in attachment(busy)[1]] == [unanswered]
    assert "Filters: outcome=busy" in body_of(busy).splitlines()
    expected = {"previous_day": {*calls[:3], unanswered}, "today_so_far": set(calls[3:5]),
                "cumulative": {*calls[:5], unanswered}}
    labels = {"previous_day": "2026-03-02", "today_so_far": "2026-03-03",
              "cumulative": "through 2026-03-03"}
    for name, report in reports.items():
        [delivery] = deliveries(db, report["id"])
        filename, rows = attachment(by_subject[name.title()])
        ids = {row["call_id"] for row in rows}
        assert ids == expected[name], name
        assert ids == api_call_ids(client, campaign_id, delivery.range_start,
                                   delivery.range_end)
        assert delivery.rows == len(rows)
        assert by_subject[name.title()]["Subject"].endswith(labels[name])
        assert filename == f"spring-renewals-{labels[name].replace(' ', '-')}.csv"
        assert next_send(db, report["id"]) == WED + AT_0930
    assert deliveries(db, reports["previous_day"]["id"])[0].range_start == MON + \
        timedelta(hours=5)  # local midnight


def test_run_scoping_sends_one_csv_over_the_runs(
        client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str], smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, port)
    campaign_id = draft_campaign(client, runs=RUNS)  # run-1 Mon, run-2 Tue, run-3 Wed
    by_day = {day: [add_call(db, workspace[0], campaign_id, day + timedelta(hours=h),
                             outcome="voicemail") for h in (15, 19)]
              for day in (MON, TUE, WED, THU)}
    report = add_report(client, campaign_id, frequency="weekly", weekday=4,
                        run_client_ids=["run-3", "run-1"])  # Thursday 09:30

    runner = ReportRunner(db, clock, worker_id="r1")
    clock.set(THU + AT_0930)
    assert runner.run_due() == 1
    [message] = emails_of(recorder)
    _, rows = attachment(message)
    # Oldest first, one header, the gap (run-2's Tuesday) and Thursday left out.
    assert [row["call_id"] for row in rows] == by_day[MON] + by_day[WED]
    [delivery] = deliveries(db, report["id"])
    assert (delivery.range_start, delivery.range_end) == (MON + timedelta(hours=5),
                                                          THU + timedelta(hours=5))
    assert delivery.rows == 4
    covered = api_call_ids(client, campaign_id, MON + timedelta(hours=5),
                           TUE + timedelta(hours=5)) | api_call_ids(
        client, campaign_id, WED + timedelta(hours=5), THU + timedelta(hours=5))
    assert {row["call_id"] for row in rows} == covered
    lines = body_of(message).splitlines()
    assert "Runs: run-3, run-1" in lines and "Voicemail: 4" in lines
    assert "Average sentiment: n/a (no analyzed calls)" in lines


def test_a_worker_back_after_days_sends_the_latest_period_once(
        client: TestClient, db: Database, clock: ManualClock,
        smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, port)
    report = add_report(client, draft_campaign(client), date_range="previous_day")
    clock.set(FRI + AT_0930 + timedelta(hours=2))
    runner = ReportRunner(db, clock, worker_id="r1")
    assert runner.run_due() == 1 and runner.run_due() == 0
    [delivery] = deliveries(db, report["id"])
    assert delivery.scheduled_for == FRI + AT_0930
    assert delivery.range_start == THU + timedelta(hours=5)
    assert next_send(db, report["id"]) == FRI + timedelta(days=1) + AT_0930
    assert len(recorder.received) == 1


# --- failures -----------------------------------------------------------------------------------

def test_smtp_down_is_retried_then_failed_and_a_retry_can_succeed(
        client: TestClient, db: Database, clock: ManualClock, workspace: tuple[str, str],
        smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, free_port())  # nothing listens there
    subscribe(db, workspace[0], clock)
    report = add_report(client, draft_campaign(client))
    runner = ReportRunner(db, clock, worker_id="r1")
    due = TUE + AT_0930
    for _ in range(3):
        clock.set(due)
        assert runner.run_due() == 1
        due += timedelta(minutes=5)
    log = deliveries(db, report["id"])
    assert [d.status for d in log] == ["failed"] * 3
    assert {d.scheduled_for for d in log} == {TUE + AT_0930}
    assert all("could not connect to the SMTP server 127.0.0.1" in str(d.error) for d in log)
    assert "(try 1 of 3; trying again at 2026-03-03T14:35:00Z)" in str(log[0].error)
    assert str(log[2].error).endswith("(try 3 of 3; giving up on this period)")
    assert next_send(db, report["id"]) == WED + AT_0930
    clock.set(TUE + AT_0930 + timedelta(hours=1))
    assert runner.run_due() == 0
    with db.reading() as session:
        assert session.scalars(select(WebhookEvent)).all() == []

    # Wednesday: the first try fails, the server is fixed, the retry sends that period.
    clock.set(WED + AT_0930)
    assert runner.run_due() == 1
    use_smtp(client, port)
    clock.set(WED + AT_0930 + timedelta(minutes=4))
    assert runner.run_due() == 0  # not before its retry time
    clock.set(WED + AT_0930 + timedelta(minutes=5))
    assert runner.run_due() == 1
    failed, sent = deliveries(db, report["id"])[-2:]
    assert (failed.status, sent.status) == ("failed", "sent")
    assert sent.scheduled_for == failed.scheduled_for == WED + AT_0930
    assert (sent.range_start, sent.range_end) == (failed.range_start, failed.range_end)
    assert len(recorder.received) == 1
    assert next_send(db, report["id"]) == THU + AT_0930


def test_without_smtp_settings_the_delivery_fails_plainly(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    report = add_report(client, draft_campaign(client))
    runner = ReportRunner(db, clock, worker_id="r1")
    clock.set(TUE + AT_0930)
    assert runner.run_due() == 1
    [delivery] = deliveries(db, report["id"])
    assert (delivery.status, delivery.error, delivery.rows) == ("failed", NO_SMTP, 0)
    assert delivery.recipients == TO
    assert next_send(db, report["id"]) == WED + AT_0930  # not retried


# --- concurrency --------------------------------------------------------------------------------

def test_two_runners_racing_send_one_email(
        client: TestClient, db: Database, clock: ManualClock,
        smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, port)
    report = add_report(client, draft_campaign(client))
    clock.set(TUE + AT_0930)

    def slow_send(settings: SmtpSettings, message: EmailMessage) -> SendReceipt:
        time.sleep(0.2)  # both runners are busy at once
        return send_email(settings, message)

    runners = [ReportRunner(db, clock, worker_id=f"r{n}", send=slow_send) for n in (1, 2)]
    barrier = threading.Barrier(2)
    done: list[int] = []

    def work(runner: ReportRunner) -> None:
        barrier.wait()
        done.append(runner.run_due())

    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done) == [0, 1]
    assert len(recorder.received) == 1 and len(deliveries(db, report["id"])) == 1


def test_a_runner_that_dies_mid_send_leaves_the_report_to_another(
        client: TestClient, db: Database, clock: ManualClock,
        smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, port)
    report = add_report(client, draft_campaign(client), date_range="previous_day")
    clock.set(TUE + AT_0930)
    assert ReportRunner(db, clock, worker_id="dead")._claim() is not None  # then it dies
    other = ReportRunner(db, clock, worker_id="r2")
    clock.advance(timedelta(minutes=4))
    assert other.run_due() == 0  # still leased
    assert other.next_due() == TUE + AT_0930 + timedelta(minutes=5)
    clock.advance(timedelta(minutes=1))
    assert other.run_due() == 1
    [delivery] = deliveries(db, report["id"])
    assert delivery.scheduled_for == TUE + AT_0930 and delivery.status == "sent"
    assert delivery.range_start == MON + timedelta(hours=5)
    assert len(recorder.received) == 1
    assert next_send(db, report["id"]) == WED + AT_0930


# --- send now -----------------------------------------------------------------------------------

def test_send_now(client: TestClient, db: Database, clock: ManualClock,
                  workspace: tuple[str, str], smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    use_smtp(client, port)
    campaign_id = draft_campaign(client)
    call_id = add_call(db, workspace[0], campaign_id, MON + timedelta(hours=15, minutes=30))
    report = add_report(client, campaign_id, date_range="today_so_far")
    path = f"/v1/campaigns/{campaign_id}/reports/{report['id']}"
    clock.set(MON + timedelta(hours=16))

    response = client.post(f"{path}/send-now")
    assert response.status_code == 200, response.text
    sent = response.json()
    assert (sent["status"], sent["trigger"], sent["rows"]) == ("sent", "send_now", 1)
    assert datetime.fromisoformat(sent["range_end"]) == clock.now()
    assert datetime.fromisoformat(sent["range_start"]) == MON + timedelta(hours=5)
    [received] = recorder.received
    assert [r["call_id"] for r in attachment(parse(received))[1]] == [call_id]
    assert client.get(path).json()["next_send_at"] == report["next_send_at"]  # unchanged

    # The SMTP server gone: a 502 naming the problem, logged as a failed delivery.
    use_smtp(client, free_port())
    clock.advance(timedelta(minutes=1))
    response = client.post(f"{path}/send-now")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "email_failed"
    assert "could not connect to the SMTP server 127.0.0.1" in error["message"]
    log = client.get(f"{path}/deliveries").json()["data"]
    assert [d["status"] for d in log] == ["failed", "sent"]  # newest first
    assert log[0]["id"] == error["details"]["delivery_id"]

    # While a runner holds the report: 409, nothing sent.
    clock.set(TUE + AT_0930)
    assert ReportRunner(db, clock, worker_id="busy")._claim() is not None
    busy = client.post(f"{path}/send-now")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "report_busy"
    assert len(recorder.received) == 1

