from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, PhoneNumber
from ringwise.ids import new_id
from tests.helpers import error_of


def add(client: TestClient, number: str = "+14155550123", **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/phone-numbers", json={"number": number, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def add_campaign(db: Database, clock: ManualClock, workspace_id: str, status: str, name: str,
                 caller_id: dict[str, Any]) -> str:
    campaign_id = new_id()
    with db.transaction() as session:
        session.add(Campaign(
            id=campaign_id, workspace_id=workspace_id, name=name, status=status,
            caller_id=caller_id, schedule={}, retry={}, voicemail={}, memory={}, options={},
            created_at=clock.now(), updated_at=clock.now(),
        ))
    return campaign_id


def test_create_derives_geography(client: TestClient) -> None:
    created = add(client, "+14155550123", provider="twilio", label="SF", cps_limit=2.5)
    assert created["number"] == "+14155550123"
    assert created["provider"] == "twilio"
    assert created["label"] == "SF"
    assert created["cps_limit"] == 2.5
    assert (created["country"], created["region"], created["area_code"]) == ("US", "CA", "415")
    assert created["timezones"] == ["America/Los_Angeles"]
    fetched = client.get(f"/v1/phone-numbers/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_defaults_and_national_format(client: TestClient) -> None:
    created = add(client, "(212) 555-0100")  # workspace default region is US
    assert created["number"] == "+12125550100"
    assert created["provider"] == "simulated"
    assert created["cps_limit"] == 1.0
    assert created["label"] is None
    assert (created["region"], created["area_code"]) == ("NY", "212")
    assert created["timezones"] == ["America/New_York"]


def test_canadian_and_foreign_numbers(client: TestClient) -> None:
    toronto = add(client, "+16135550123")
    assert (toronto["country"], toronto["region"], toronto["area_code"]) == ("CA", "ON", "613")
    london = add(client, "+442071838750", provider="vobiz")
    assert (london["country"], london["region"], london["area_code"]) == ("GB", None, "20")
    assert london["timezones"] == ["Europe/London"]


def test_national_digits_use_the_workspace_region(client: TestClient) -> None:
    assert client.patch("/v1/settings", json={"default_region": "GB"}).status_code == 200
    created = add(client, "020 7183 8750")
    assert created["number"] == "+442071838750"
    assert created["country"] == "GB"


@pytest.mark.parametrize(("payload", "field", "needle"), [
    ({"number": "+15555550123"}, "number", "not a valid phone number"),
    ({"number": "hello"}, "number", "not a phone number"),
    ({"number": ""}, "number", "at least 1"),
    ({"number": "+14155550123", "provider": "plivo"}, "provider", "simulated"),
    ({"number": "+14155550123", "cps_limit": 0}, "cps_limit", "greater than 0"),
    ({"number": "+14155550123", "cps_limit": -1}, "cps_limit", "greater than 0"),
    ({"number": "+14155550123", "cps_limit": 100.5}, "cps_limit", "less than or equal to 100"),
    ({"number": "+14155550123", "label": "x" * 256}, "label", "at most 255"),
    ({"number": "+14155550123", "country": "US"}, "country", "not permitted"),
    ({"provider": "twilio"}, "number", "required"),
    ({"number": "+14155550123", "label": "SF\x00"}, "label", "NUL"),
])
def test_validation_names_the_field(client: TestClient, db: Database, payload: dict[str, Any],
                                    field: str, needle: str) -> None:
    error = error_of(client.post("/v1/phone-numbers", json=payload))
    assert error["field"] == field
    assert needle in error["message"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(PhoneNumber)) == 0


def test_cps_limit_bounds_are_inclusive_at_100(client: TestClient) -> None:
    assert add(client, cps_limit=100)["cps_limit"] == 100.0
    assert add(client, "+12125550100", cps_limit=0.2)["cps_limit"] == 0.2


def test_duplicate_number_is_409_in_any_spelling(client: TestClient) -> None:
    add(client, "+14155550123")
    for spelling in ("+14155550123", "(415) 555-0123", "1-415-555-0123"):
        error = error_of(client.post("/v1/phone-numbers", json={"number": spelling}), 409)
        assert error["code"] == "conflict"
        assert error["field"] == "number"
        assert "+14155550123" in error["message"]
    assert len(client.get("/v1/phone-numbers").json()["data"]) == 1


def test_same_number_in_two_workspaces(client: TestClient, other_client: TestClient) -> None:
    ours = add(client)
    theirs = add(other_client)
    assert ours["id"] != theirs["id"]


def test_patch_label_and_cps(client: TestClient, clock: ManualClock) -> None:
    created = add(client, label="old", cps_limit=3)
    clock.advance(timedelta(minutes=1))
    body = client.patch(f"/v1/phone-numbers/{created['id']}", json={"cps_limit": 5}).json()
    assert body["cps_limit"] == 5.0 and body["label"] == "old"
    assert body["updated_at"] == "2026-03-02T15:01:00Z"
    body = client.patch(f"/v1/phone-numbers/{created['id']}", json={"label": None}).json()
    assert body["label"] is None and body["cps_limit"] == 5.0
    assert client.get(f"/v1/phone-numbers/{created['id']}").json() == body


@pytest.mark.parametrize(("payload", "field"), [
    ({"cps_limit": None}, "cps_limit"),
    ({"cps_limit": 0}, "cps_limit"),
    ({"cps_limit": 101}, "cps_limit"),
    ({"number": "+12125550100"}, "number"),
    ({"provider": "twilio"}, "provider"),
])
def test_patch_validation(client: TestClient, payload: dict[str, Any], field: str) -> None:
    created = add(client, cps_limit=3)
    assert error_of(client.patch(f"/v1/phone-numbers/{created['id']}",
                                 json=payload))["field"] == field
    assert client.get(f"/v1/phone-numbers/{created['id']}").json() == created


def test_list_paginates_and_filters(client: TestClient, clock: ManualClock) -> None:
    numbers = ["+14155550123", "+12125550100", "+16135550123", "+442071838750"]
    ids = []
    for n in numbers:
        ids.append(add(client, n, label=f"line {n[-4:]}",
                       provider="twilio" if n.startswith("+1") else "vobiz")["id"])
        clock.advance(timedelta(seconds=1))
    first = client.get("/v1/phone-numbers", params={"limit": 3}).json()
    second = client.get("/v1/phone-numbers",
                        params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [p["id"] for p in first["data"] + second["data"]] == list(reversed(ids))
    assert second["next_cursor"] is None

    by_provider = client.get("/v1/phone-numbers", params={"provider": "vobiz"}).json()["data"]
    assert [p["number"] for p in by_provider] == ["+442071838750"]
    by_number = client.get("/v1/phone-numbers", params={"search": "415"}).json()["data"]
    assert [p["number"] for p in by_number] == ["+14155550123"]
    by_label = client.get("/v1/phone-numbers", params={"search": "LINE 0100"}).json()["data"]
    assert [p["number"] for p in by_label] == ["+12125550100"]
    assert error_of(client.get("/v1/phone-numbers",
                               params={"provider": "plivo"}))["field"] == "provider"


def test_workspace_isolation(client: TestClient, other_client: TestClient) -> None:
    ours = add(client)
    theirs = add(other_client, "+12125550100")
    path = f"/v1/phone-numbers/{ours['id']}"
    assert error_of(other_client.get(path), 404)["code"] == "not_found"
    assert other_client.patch(path, json={"label": "mine"}).status_code == 404
    assert other_client.delete(path).status_code == 404
    assert client.get(path).json() == ours
    assert [p["id"] for p in other_client.get("/v1/phone-numbers").json()["data"]] \
        == [theirs["id"]]
    assert [p["id"] for p in client.get("/v1/phone-numbers").json()["data"]] == [ours["id"]]


def test_ids_we_never_issue_are_404(client: TestClient) -> None:
    for path in ("/v1/phone-numbers/nope", "/v1/phone-numbers/a%00",
                 f"/v1/phone-numbers/{new_id()}"):
        assert error_of(client.get(path), 404)["code"] == "not_found"
        assert client.patch(path, json={"label": "x"}).status_code == 404
        assert client.delete(path).status_code == 404


def test_requires_a_key(anon_client: TestClient) -> None:
    assert error_of(anon_client.get("/v1/phone-numbers"), 401)["code"] == "unauthenticated"


def test_delete(client: TestClient) -> None:
    created = add(client)
    assert client.delete(f"/v1/phone-numbers/{created['id']}").status_code == 204
    assert client.get(f"/v1/phone-numbers/{created['id']}").status_code == 404
    # The number can be added again afterwards.
    assert add(client)["number"] == "+14155550123"


@pytest.mark.parametrize(("status", "shape"), [
    ("running", "ids"), ("paused", "dial_plan"), ("scheduled", "ids"),
])
def test_delete_blocked_by_live_campaign(client: TestClient, db: Database, clock: ManualClock,
                                         workspace: tuple[str, str], status: str,
                                         shape: str) -> None:
    phone = add(client)
    other = add(client, "+12125550100")
    if shape == "ids":
        caller_id: dict[str, Any] = {"mode": "pool",
                                     "phone_number_ids": [other["id"], phone["id"]]}
    else:
        caller_id = {"mode": "dial_plan", "phone_number_ids": [],
                     "dial_plan": [{"phone_number_id": other["id"], "customers": []},
                                   {"phone_number_id": phone["id"], "customers": []}]}
    add_campaign(db, clock, workspace[0], status, "Spring push", caller_id)
    error = error_of(client.delete(f"/v1/phone-numbers/{phone['id']}"), 409)
    assert error["code"] == "conflict"
    assert f"'Spring push' ({status})" in error["message"]
    assert error["details"]["campaigns"][0]["name"] == "Spring push"
    assert client.get(f"/v1/phone-numbers/{phone['id']}").status_code == 200


def test_delete_allowed_when_only_draft_or_finished_campaigns_use_it(
        client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    phone = add(client)
    unrelated = add(client, "+12125550100")
    caller_id = {"mode": "fixed", "phone_number_ids": [phone["id"]]}
    add_campaign(db, clock, workspace[0], "draft", "Idea", caller_id)
    add_campaign(db, clock, workspace[0], "completed", "Done", caller_id)
    # A running campaign on another number does not block this one.
    add_campaign(db, clock, workspace[0], "running", "Other",
                 {"mode": "fixed", "phone_number_ids": [unrelated["id"]]})
    assert client.delete(f"/v1/phone-numbers/{phone['id']}").status_code == 204
