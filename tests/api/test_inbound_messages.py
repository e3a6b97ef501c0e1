"""POST /v1/messages/inbound: a contact's reply with an opt-out word lists its number at once
and emits contact.opted_out; other replies change nothing; bad input is a 422 naming the
field."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import WebhookEndpoint, WebhookEvent
from ringwise.ids import new_id
from tests.api.test_campaigns import make_contacts, make_number
from tests.helpers import error_of

OURS = "+12125550199"
ANN = "+12125550101"


def subscribe(db: Database, workspace_id: str, at: datetime) -> None:
    with db.transaction() as session:
        session.add(WebhookEndpoint(
            id=new_id(), workspace_id=workspace_id, url="https://hooks.example.com/rw",
            description=None, events=["contact.opted_out"],
            secrets=[{"secret": "whsec_dGVzdHNlY3JldA==", "expires_at": None}],
            enabled=True, created_at=at, updated_at=at))


def inbound(client: TestClient, body: str, sender: str = ANN, to: str = OURS) -> dict[str, object]:
    response = client.post("/v1/messages/inbound", json={"from": sender, "to": to, "body": body})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def events(db: Database) -> list[dict[str, object]]:
    with db.reading() as session:
        return [e.payload for e in session.scalars(select(WebhookEvent))]


def test_a_stop_reply_lists_the_number_once(client: TestClient, db: Database,
                                            clock: ManualClock,
                                            workspace: tuple[str, str]) -> None:
    make_number(client, OURS)
    [contact_id] = make_contacts(client, [ANN])
    subscribe(db, workspace[0], clock.now())
    result = inbound(client, "Stop texting me")
    assert result["opt_out"] is True and result["keyword"] == "stop"
    assert result["phone"] == ANN and result["newly_listed"] is True
    check = client.get("/v1/dnc/check", params={"phone": ANN}).json()
    assert check["listed"] is True
    [event] = events(db)
    data = event["data"]
    assert isinstance(data, dict)
    assert (data["phone"], data["contact_id"], data["source"]) == (ANN, contact_id, "sms")
    # Again: already listed, no second event.
    again = inbound(client, "STOP")
    assert again["newly_listed"] is False and again["dnc_entry_id"] == result["dnc_entry_id"]
    assert len(events(db)) == 1


def test_other_replies_change_nothing(client: TestClient, db: Database) -> None:
    make_number(client, OURS)
    result = inbound(client, "Thanks, see you Friday", sender="(212) 555-0101")
    assert result == {"opt_out": False, "keyword": None, "phone": ANN, "newly_listed": False,
                      "dnc_entry_id": None}
    assert client.get("/v1/dnc/check", params={"phone": ANN}).json()["listed"] is False


def test_bad_input_names_the_field(client: TestClient, other_client: TestClient) -> None:
    make_number(client, OURS)
    url = "/v1/messages/inbound"

    def field(body: dict[str, object], api: TestClient = client) -> object:
        return error_of(api.post(url, json=body), 422)["field"]

    assert field({"from": ANN, "to": "+12125550111", "body": "STOP"}) == "to"  # not ours
    assert field({"from": ANN, "to": OURS, "body": "STOP"}, other_client) == "to"
    assert field({"from": "12", "to": OURS, "body": "STOP"}) == "from"
    assert field({"from": ANN, "to": "nope", "body": "STOP"}) == "to"
    assert field({"from": ANN, "to": OURS}) == "body"
    assert field({"from": ANN, "to": OURS, "body": "STOP", "extra": 1}) == "extra"
    assert client.get("/v1/dnc/check", params={"phone": ANN}).json()["listed"] is False
