"""End to end on the SQL store: a campaign created through the API runs to completion."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Campaign, CampaignContact, CampaignCounters
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.telephony.simulated import SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number


def test_campaign_runs_to_completion(client: TestClient, db: Database,
                                     clock: ManualClock) -> None:
    phones = [f"+1212555{n:04d}" for n in range(40)] + [f"+1415555{n:04d}" for n in range(40)]
    contact_ids = make_contacts(client, phones)
    numbers = [make_number(client, "+12125550999"), make_number(client, "+14155550999")]
    campaign = create(client, assistant_id=make_assistant(client),
                      caller_id={"mode": "local_presence", "phone_number_ids": numbers},
                      contact_ids=contact_ids, concurrency_limit=5,
                      retry={"delays_minutes": [30], "max_attempts": 2},
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}})
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
    store = SqlDialerStore(db)
    carrier = SimulatedCarrier(seed=7)
    dialer = Dialer(store, carrier, clock, worker_id="w1")

    def finished() -> bool:
        with db.reading() as session:
            return session.scalar(select(Campaign.status)) == "completed"

    result = drive(dialer, clock, carrier, until=clock.now() + timedelta(days=3), done=finished)
    assert result.reason == "done", result
    with db.reading() as session:
        calls = session.scalars(select(Call)).all()
        contacts = session.scalars(select(CampaignContact)).all()
        counters = session.scalars(select(CampaignCounters)).one()
    assert all(c.status == "ended" for c in calls)
    assert all(c.state in ("done", "skipped") for c in contacts)
    assert counters.contacts_done + counters.contacts_skipped == 80
    assert counters.calls_total == len(calls) and counters.calls_in_progress == 0
    assert max(c.attempts for c in contacts) <= 2
    for call in calls:  # local presence: same area code
        assert call.from_number[:5] == call.to_number[:5]
