"""Do-not-call is checked when a call is placed, in the claim's transaction, on both engines:
a number listed one second before its retry is due is never called again."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, CampaignContact, ComplianceLog, DncEntry
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number

PHONE = "+12125550100"
ALWAYS_BUSY = CarrierModel(answer_rate=0.0, busy_rate=1.0, voicemail_rate=0.0, failure_rate=0.0,
                           invalid_rate=0.0)


def _campaign(client: TestClient, **body: object) -> str:
    campaign = create(client, assistant_id=make_assistant(client),
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                      contact_ids=make_contacts(client, [PHONE, "+13125550100"]),
                      retry={"delays_minutes": [30], "max_attempts": 2},
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}},
                      **body)
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
    return str(campaign["id"])


def test_a_number_listed_one_second_before_its_retry_is_not_called(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    _campaign(client)
    carrier = SimulatedCarrier(ALWAYS_BUSY, seed=1)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    # First attempts: both busy, both retry in 30 minutes.
    drive(dialer, clock, carrier, until=clock.now() + timedelta(minutes=10))
    with db.reading() as session:
        retry_at = session.scalar(select(CampaignContact.next_eligible_at)
                                  .where(CampaignContact.state == "pending")
                                  .order_by(CampaignContact.next_eligible_at))
    assert retry_at is not None
    clock.set(retry_at - timedelta(seconds=1))
    listed = client.post("/v1/dnc", json={"phone": PHONE, "reason": "asked by e-mail"})
    assert listed.status_code == 201, listed.text
    clock.set(retry_at + timedelta(minutes=1))  # the other number's retry is due too
    dialer.tick()
    with db.reading() as session:
        calls = session.scalars(select(Call).order_by(Call.created_at)).all()
        by_phone = {c.to_number: [x for x in calls if x.to_number == c.to_number]
                    for c in calls}
        contact = session.execute(
            select(CampaignContact).join(Call, Call.campaign_contact_id == CampaignContact.id)
            .where(Call.to_number == PHONE)).scalars().first()
        log = session.scalars(select(ComplianceLog).where(ComplianceLog.phone == PHONE)
                              .order_by(ComplianceLog.at)).all()
    assert len(by_phone[PHONE]) == 1  # the first attempt only
    assert len(by_phone["+13125550100"]) == 2  # the other contact's retry went out
    assert contact is not None
    assert (contact.state, contact.outcome, contact.ended_reason) == ("skipped", "blocked",
                                                                      "dnc-listed")
    assert [(r.decision, r.reason) for r in log] == [("dialed", None),
                                                     ("blocked", "dnc-listed")]
    assert "us-federal" in log[-1].rules.split("+")
    assert set(log[-1].local_times) == {"America/New_York"}


def test_an_area_code_wildcard_and_a_suppression_list_block_too(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    campaign_id = _campaign(client)
    assert client.post("/v1/dnc", json={"pattern": "312*"}).status_code == 201
    suppressed = client.post(f"/v1/campaigns/{campaign_id}/suppressions",
                             json={"phone": PHONE})
    assert suppressed.status_code == 201, suppressed.text
    carrier = SimulatedCarrier(ALWAYS_BUSY, seed=1)
    Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1").tick()
    with db.reading() as session:
        assert session.scalars(select(Call)).all() == []
        states = {c.state for c in session.scalars(select(CampaignContact))}
        reasons = [r.reason for r in session.scalars(select(ComplianceLog))]
    assert states == {"skipped"} and reasons == ["dnc-listed", "dnc-listed"]


def test_an_opt_out_during_a_call_lists_the_number_at_once(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    """The simulated callee who says 'stop calling me' ends the call as customer-opted-out;
    the number joins the workspace's list in the same transaction."""
    from ringwise.telephony.callee import CalleeModel

    # Flat by hour: the Chicago contact is called at 09:00 local, where the default
    # multiplier (0.95) would send some calls (by their random ids) to no-answer.
    opting_out = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0, failure_rate=0.0,
                              invalid_rate=0.0, answer_hour_multiplier=(1.0,) * 24,
                              callee=CalleeModel.from_dict({"weights": {
                                  "interested": 0, "not-interested": 0, "call-back": 0,
                                  "opt-out": 1}}))
    _campaign(client)
    carrier = SimulatedCarrier(opting_out, seed=2)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=1))
    with db.reading() as session:
        reasons = {c.ended_reason for c in session.scalars(select(Call))}
        entries = session.scalars(select(DncEntry)).all()
    assert reasons == {"customer-opted-out"}
    assert sorted(e.pattern for e in entries) == [PHONE, "+13125550100"]
    assert {e.source for e in entries} == {"opt_out"}
    body = client.get("/v1/dnc/check", params={"phone": PHONE}).json()
    assert body["listed"] is True
