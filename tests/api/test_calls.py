from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, CampaignContact
from ringwise.ids import new_id
from tests.api.test_campaigns import create
from tests.helpers import error_of, walk_pages


def seed_calls(client: TestClient, db: Database, clock: ManualClock,
               workspace_id: str) -> tuple[str, str, list[str]]:
    """Two campaigns; five calls, one minute apart, oldest first. Returns (campaign a,
    campaign b, call ids)."""
    a = create(client, name="A", contacts=[{"phone": "+14155550100"}])["id"]
    b = create(client, name="B", contacts=[{"phone": "+14155550101"}])["id"]
    plan: list[tuple[str, str, str | None]] = [
        (a, "ended", "no-answer"), (a, "ended", "answered"), (b, "ended", "busy"),
        (a, "in-progress", None), (b, "queued", None),
    ]
    ids: list[str] = []
    with db.transaction() as session:
        members = {cc.campaign_id: cc for cc in session.scalars(select(CampaignContact))}
        attempts: dict[str, int] = {}
        for index, (campaign_id, status, outcome) in enumerate(plan):
            member = members[campaign_id]
            attempts[campaign_id] = attempts.get(campaign_id, 0) + 1
            at = clock.now() + timedelta(minutes=index)
            call_id = new_id()
            ids.append(call_id)
            session.add(Call(
                id=call_id, workspace_id=workspace_id, campaign_id=campaign_id,
                campaign_contact_id=member.id, contact_id=member.contact_id,
                attempt=attempts[campaign_id], status=status, outcome=outcome,
                to_number="+14155550100", from_number="+14155550123", provider="simulated",
                created_at=at, updated_at=at,
                ended_at=at + timedelta(seconds=30) if status == "ended" else None,
                duration_seconds=30.0 if outcome == "answered" else None,
                transcript=[{"role": "assistant", "text": "Hello"}] if outcome else None,
                metadata_={"n": index},
            ))
    return a, b, ids


def ids_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


def test_list_and_filters(client: TestClient, db: Database, clock: ManualClock,
                          workspace: tuple[str, str]) -> None:
    a, b, ids = seed_calls(client, db, clock, workspace[0])
    assert ids_of(client.get("/v1/calls")) == ids[::-1]  # newest first
    assert ids_of(client.get("/v1/calls", params={"campaign_id": a})) == \
        [ids[3], ids[1], ids[0]]
    assert ids_of(client.get("/v1/calls", params={"status": "ended"})) == ids[2::-1]
    assert ids_of(client.get("/v1/calls", params={"outcome": "busy"})) == [ids[2]]
    assert ids_of(client.get("/v1/calls", params={"campaign_id": b, "status": "queued"})) == \
        [ids[4]]
    window = {"created_after": "2026-03-02T15:01:00Z", "created_before": "2026-03-02T15:03:00Z"}
    assert ids_of(client.get("/v1/calls", params=window)) == [ids[2], ids[1]]
    offset = {"created_after": "2026-03-02T10:03:00-05:00"}  # 15:03 UTC
    assert ids_of(client.get("/v1/calls", params=offset)) == [ids[4], ids[3]]


def test_cursor_pagination(client: TestClient, db: Database, clock: ManualClock,
                           workspace: tuple[str, str]) -> None:
    _, _, ids = seed_calls(client, db, clock, workspace[0])
    seen = [c["id"] for c in walk_pages(client, "/v1/calls")]
    assert seen == ids[::-1]
    assert error_of(client.get("/v1/calls", params={"cursor": "garbage"}))["field"] == "cursor"
    assert error_of(client.get("/v1/calls", params={"limit": 0}))["field"] == "limit"


def test_get_one(client: TestClient, db: Database, clock: ManualClock,
                 workspace: tuple[str, str]) -> None:
    a, _, ids = seed_calls(client, db, clock, workspace[0])
    body = client.get(f"/v1/calls/{ids[1]}").json()
    assert body["campaign_id"] == a
    assert (body["status"], body["outcome"], body["attempt"]) == ("ended", "answered", 2)
    assert body["duration_seconds"] == 30.0
    assert body["ended_at"] == "2026-03-02T15:01:30Z"
    assert body["transcript"] == [{"role": "assistant", "text": "Hello"}]
    assert body["metadata"] == {"n": 1}
    assert error_of(client.get(f"/v1/calls/{new_id()}"), 404)["code"] == "not_found"


def test_bad_filters(client: TestClient) -> None:
    assert error_of(client.get("/v1/calls", params={"status": "exploded"}))["field"] == "status"
    assert error_of(client.get("/v1/calls", params={"outcome": "maybe"}))["field"] == "outcome"
    assert error_of(client.get("/v1/calls", params={"created_after": "yesterday"}))[
        "field"] == "created_after"
    assert error_of(client.get("/v1/calls", params={"created_after": "2026-03-02T15:00:00"}))[
        "field"] == "created_after"  # an instant needs an offset
    assert error_of(client.get("/v1/calls", params={
        "created_after": "2026-03-02T15:00:00Z", "created_before": "2026-03-02T14:00:00Z"}))[
        "field"] == "created_before"
    assert error_of(client.get("/v1/calls", params={"campaign_id": new_id()}), 404)[
        "field"] == "campaign_id"
    assert client.get("/v1/calls/a%00b").status_code == 404


def test_isolation(client: TestClient, other_client: TestClient, db: Database,
                   clock: ManualClock, workspace: tuple[str, str]) -> None:
    a, _, ids = seed_calls(client, db, clock, workspace[0])
    assert other_client.get("/v1/calls").json()["data"] == []
    assert other_client.get(f"/v1/calls/{ids[0]}").status_code == 404
    assert other_client.get("/v1/calls", params={"campaign_id": a}).status_code == 404
