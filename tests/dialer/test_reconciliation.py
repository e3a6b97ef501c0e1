"""Calls whose fate a worker lost are looked up at the provider, never dialed twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.telephony.port import DialRequest, PlaceResult
from ringwise.telephony.simulated import SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number


def started_campaign(client: TestClient, contacts: int = 3) -> str:
    number = make_number(client, "+12125550999")
    ids = make_contacts(client, [f"+121255500{i:02d}" for i in range(contacts)])
    campaign = create(client, assistant_id=make_assistant(client), contact_ids=ids,
                      caller_id={"mode": "fixed", "phone_number_ids": [number]})
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
    return str(campaign["id"])


class FailsOnce:
    """A provider whose ``place_call`` raises ``error`` once, at the ``nth`` placement."""

    def __init__(self, inner: SimulatedCarrier, error: BaseException, nth: int = 1) -> None:
        self.inner = inner
        self.error = error
        self.left = nth

    def place_call(self, request: DialRequest) -> PlaceResult:
        self.left -= 1
        if self.left == 0:
            raise self.error
        return self.inner.place_call(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def calls(db: Database) -> list[Call]:
    with db.reading() as session:
        return list(session.scalars(select(Call).order_by(Call.created_at, Call.id)))


def test_a_placement_that_raises_is_looked_up_and_the_rest_go_on(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    started_campaign(client)
    carrier = SimulatedCarrier()
    dialer = Dialer(SqlDialerStore(db), FailsOnce(carrier, RuntimeError("disk full")), clock,
                    worker_id="w1")
    dialer.tick()
    first = calls(db)
    assert len(first) == 1  # fixed number, 1 call per second
    clock.advance(timedelta(seconds=1))
    dialer.tick()  # the failed one is looked up: the carrier never had it
    failed = next(c for c in calls(db) if c.id == first[0].id)
    assert failed.status == "ended" and failed.ended_reason == "provider-error"
    assert carrier.lookup(failed.id) is None
    for _ in range(200):
        clock.advance(timedelta(minutes=5))
        dialer.tick()
    rows = calls(db)
    assert all(c.status == "ended" for c in rows)
    assert len({c.id for c in rows}) == len(rows)
    assert len({(c.campaign_contact_id, c.attempt) for c in rows}) == len(rows)


@pytest.mark.parametrize("same_id", [True, False])
def test_a_worker_that_died_mid_placement_is_reconciled(
        client: TestClient, db: Database, clock: ManualClock, same_id: bool) -> None:
    """Killed between committing ``dialing`` and the request: the call is ended, never sent
    again, whether the new worker reuses the dead one's id or not."""
    started_campaign(client)
    carrier = SimulatedCarrier()
    dying = Dialer(SqlDialerStore(db), FailsOnce(carrier, SystemExit(137)), clock,
                   worker_id="w1")
    with pytest.raises(SystemExit):
        dying.tick()
    orphan = calls(db)[0]
    assert orphan.status == "dialing" and orphan.provider_call_id is None
    clock.advance(timedelta(minutes=2))  # past the 60 s lease
    again = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1" if same_id else "w2")
    for _ in range(200):
        again.tick()
        clock.advance(timedelta(minutes=5))
    rows = calls(db)
    reconciled = next(c for c in rows if c.id == orphan.id)
    assert reconciled.status == "ended" and reconciled.ended_reason == "worker-crash-reconciled"
    assert carrier.lookup(orphan.id) is None  # it was never dialed, and is not now
    retry = [c for c in rows if c.campaign_contact_id == orphan.campaign_contact_id
             and c.attempt == 2]
    assert retry and retry[0].id != orphan.id  # the contact is retried as a new attempt
    assert all(c.status == "ended" for c in rows)
