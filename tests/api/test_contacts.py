"""/v1/contacts and the shared upsert, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from ringwise.api.schemas.contacts import ContactInput
from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Contact, Workspace
from ringwise.services.contacts import upsert_contacts
from ringwise.services.context import Ctx
from tests.helpers import walk_pages


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/contacts", json=fields)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_normalises_phone_and_derives_geography(client: TestClient) -> None:
    response = client.post("/v1/contacts", json={
        "phone": "(212) 555-0100", "first_name": " Ann ", "timezone": "America/New_York",
        "custom_fields": {"lead_id": "x-1"}, "metadata": {"crm": 7},
    })
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == "+12125550100"
    assert body["first_name"] == "Ann"
    assert body["phone_info"] == {"country": "US", "region": "NY", "area_code": "212",
                                  "timezones": ["America/New_York"]}
    assert body["custom_fields"] == {"lead_id": "x-1"}
    assert body["metadata"] == {"crm": 7}
    assert client.get(f"/v1/contacts/{body['id']}").json() == body


def test_upsert_by_phone_merges_fields(client: TestClient) -> None:
    first = create(client, phone="+12125550100", first_name="Ann", last_name="Lee",
                   email="ann@example.com", custom_fields={"a": 1, "b": {"x": 1}},
                   metadata={"m": 1})
    response = client.post("/v1/contacts", json={
        "phone": "1 212 555 0100", "first_name": "Anne", "last_name": "", "email": None,
        "company": "Acme", "custom_fields": {"b": {"y": 2}, "c": True, "a": None},
    })
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["id"] == first["id"]
    assert second["first_name"] == "Anne"  # non-empty overwrites
    assert second["last_name"] == "Lee"  # empty keeps
    assert second["email"] == "ann@example.com"  # null keeps
    assert second["company"] == "Acme"
    # key-wise (top-level) merge; a null key means "keep", a nested object is replaced
    assert second["custom_fields"] == {"a": 1, "b": {"y": 2}, "c": True}
    assert second["metadata"] == {"m": 1}


def test_default_region_from_workspace_and_request(client: TestClient) -> None:
    assert client.patch("/v1/settings", json={"default_region": "ES"}).status_code == 200
    assert create(client, phone="600 123 456")["phone"] == "+34600123456"
    response = client.post("/v1/contacts?default_region=gb", json={"phone": "07911 123456"})
    assert response.json()["phone"] == "+447911123456"
    bad = client.post("/v1/contacts?default_region=XX", json={"phone": "07911 123456"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "default_region"


def test_invalid_fields_name_the_field(client: TestClient) -> None:
    cases = [
        ({"phone": "555-CALL"}, "phone"),
        ({"phone": "+12125550100", "timezone": "Mars/Olympus"}, "timezone"),
        ({"phone": "+12125550100", "email": "not-an-email"}, "email"),
        ({"phone": "+12125550100", "first_name": "x" * 256}, "first_name"),
        ({"phone": "+12125550100", "nickname": "Al"}, "nickname"),
        ({"first_name": "Al"}, "phone"),
    ]
    for body, field in cases:
        response = client.post("/v1/contacts", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, body
    assert client.get("/v1/contacts").json()["data"] == []


def test_bulk_reports_rejected_rows_and_writes_the_rest(client: TestClient) -> None:
    existing = create(client, phone="+34600000001", first_name="Old", company="Keep")
    response = client.post("/v1/contacts/bulk", json={
        "default_region": "ES",
        "contacts": [
            {"phone": "600 000 001", "first_name": "New"},  # updates `existing`
            {"phone": "123"},  # bad phone
            {"phone": "600 000 002", "email": "nope"},  # bad e-mail
            {"phone": "600000003", "first_name": "Ana"},
            {"phone": "+34 600 000 003", "last_name": "Gil", "custom_fields": {"k": "v"}},
            {"first_name": "no phone"},
            {"phone": 34600000004},  # a JSON number
            {"phone": "600 000 005", "first_name": "nul\u0000"},
            "not an object",
        ],
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["duplicates"]) == (2, 1, 1)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "phone"), (2, "email"), (5, "phone"), (7, "first_name"), (8, None)]
    assert len(body["contact_ids"]) == 9
    ids = body["contact_ids"]
    assert ids[0] == existing["id"] and ids[1] is None and ids[2] is None
    assert ids[3] == ids[4] and ids[3] is not None and ids[6] is not None
    merged = client.get(f"/v1/contacts/{ids[3]}").json()
    assert (merged["first_name"], merged["last_name"]) == ("Ana", "Gil")
    assert merged["custom_fields"] == {"k": "v"}
    updated = client.get(f"/v1/contacts/{existing['id']}").json()
    assert (updated["first_name"], updated["company"]) == ("New", "Keep")
    assert len(client.get("/v1/contacts").json()["data"]) == 3


def test_bulk_limits(client: TestClient) -> None:
    too_many = client.post("/v1/contacts/bulk", json={
        "contacts": [{"phone": "+12125550100"}] * 10_001})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["field"] == "contacts"
    empty = client.post("/v1/contacts/bulk", json={"contacts": []})
    assert empty.status_code == 422
    all_bad = client.post("/v1/contacts/bulk", json={"contacts": [{"phone": "x"}]})
    assert all_bad.status_code == 200
    assert all_bad.json()["contact_ids"] == [None] and all_bad.json()["created"] == 0


def test_bulk_of_ten_thousand(client: TestClient) -> None:
    rows = [{"phone": f"+1212555{i:04d}", "first_name": f"N{i}", "custom_fields": {"i": i}}
            for i in range(10_000)]
    response = client.post("/v1/contacts/bulk", json={"contacts": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] + len(body["rejected"]) == 10_000
    assert len(set(filter(None, body["contact_ids"]))) == body["created"]
    again = client.post("/v1/contacts/bulk", json={"contacts": rows}).json()
    assert again["created"] == 0 and again["updated"] == body["created"]
    assert again["contact_ids"] == body["contact_ids"]


def test_upsert_function_is_set_based_and_fast(db: Database, clock: ManualClock,
                                               workspace: tuple[str, str]) -> None:
    """The function campaigns call with inline contacts: 10,000 rows well under a second."""
    rows = [ContactInput(phone=f"+1415555{i:04d}", first_name="A") for i in range(10_000)]
    with db.transaction() as session:
        ws = session.get(Workspace, workspace[0])
        assert ws is not None
        ctx = Ctx(session=session, workspace=ws, now=clock.now())
        started = time.perf_counter()
        result = upsert_contacts(ctx, rows)
        elapsed = time.perf_counter() - started
        assert result.created + len(result.rejected) == 10_000
        assert len(result.contact_ids) == 10_000
        rejected = {r.index for r in result.rejected}
        assert all((cid is None) == (i in rejected) for i, cid in enumerate(result.contact_ids))
        stored = session.get(Contact, result.contact_ids[5] or "")
        assert stored is not None and stored.phone == "+14155550005"
    assert elapsed < 3.0  # ~0.3 s on a laptop; generous for a busy CI machine


def test_list_search_and_pagination(client: TestClient, clock: ManualClock) -> None:
    from datetime import timedelta

    people = [("Ann", "Lee", "ann@example.com", "+12125550100"),
              ("Bob", "Stone", "bob@corp.io", "+14155550101"),
              ("Cleo", "Lee", None, "+13055550102"),
              ("Dan", "Park", "dan@example.com", "+16175550103"),
              ("Eve", "100% Lee_", None, "+17135550104")]
    for first, last, email, phone in people:
        create(client, phone=phone, first_name=first, last_name=last, email=email)
        clock.advance(timedelta(seconds=1))

    def names(**params: Any) -> list[str]:
        response = client.get("/v1/contacts", params=params)
        assert response.status_code == 200, response.text
        return [c["first_name"] for c in response.json()["data"]]

    assert names() == ["Eve", "Dan", "Cleo", "Bob", "Ann"]  # newest first
    assert names(search="lee") == ["Eve", "Cleo", "Ann"]
    assert names(search="ann lee") == ["Ann"]
    assert names(search="example.com") == ["Dan", "Ann"]
    assert names(search="415-555") == ["Bob"]
    assert names(search="%") == ["Eve"]  # LIKE wildcards are literal
    assert names(search="_") == ["Eve"]
    seen = [c["first_name"] for c in walk_pages(client, "/v1/contacts")]
    assert seen == ["Eve", "Dan", "Cleo", "Bob", "Ann"]
    assert client.get("/v1/contacts", params={"limit": 0}).json()["error"]["field"] == "limit"
    assert client.get("/v1/contacts", params={"cursor": "junk"}).status_code == 422


def test_filter_by_list(client: TestClient) -> None:
    a = create(client, phone="+12125550100", first_name="A")
    create(client, phone="+12125550101", first_name="B")
    list_id = client.post("/v1/contact-lists", json={"name": "L"}).json()["id"]
    client.post(f"/v1/contact-lists/{list_id}/contacts", json={"contact_ids": [a["id"]]})
    listed = client.get("/v1/contacts", params={"list_id": list_id}).json()["data"]
    assert [c["id"] for c in listed] == [a["id"]]
    missing = client.get("/v1/contacts", params={"list_id": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "list_id"


def test_patch(client: TestClient) -> None:
    contact = create(client, phone="+12125550100", first_name="Ann", last_name="Lee",
                     custom_fields={"a": 1, "b": 2}, metadata={"m": 1})
    other = create(client, phone="+12125550101")
    url = f"/v1/contacts/{contact['id']}"
    response = client.patch(url, json={"last_name": None, "city": "NYC",
                                       "custom_fields": {"a": None, "c": 3}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["last_name"] is None and body["city"] == "NYC" and body["first_name"] == "Ann"
    assert body["custom_fields"] == {"b": 2, "c": 3}
    assert client.patch(url, json={"metadata": None}).json()["metadata"] == {}
    moved = client.patch(url, json={"phone": "(415) 555-0199"})
    assert moved.json()["phone"] == "+14155550199"
    assert moved.json()["phone_info"]["region"] == "CA"
    taken = client.patch(url, json={"phone": other["phone"]})
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "phone"
    for bad, field in (({"phone": "nope"}, "phone"), ({"phone": None}, "phone"),
                       ({"timezone": "Nowhere/City"}, "timezone"), ({"id": "x"}, "id")):
        response = client.patch(url, json=bad)
        assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert client.get(url).json()["phone"] == "+14155550199"


def test_delete(client: TestClient) -> None:
    contact = create(client, phone="+12125550100")
    list_id = client.post("/v1/contact-lists", json={"name": "L"}).json()["id"]
    client.post(f"/v1/contact-lists/{list_id}/contacts", json={"contact_ids": [contact["id"]]})
    assert client.delete(f"/v1/contacts/{contact['id']}").status_code == 204
    assert client.get(f"/v1/contacts/{contact['id']}").status_code == 404
    assert client.delete(f"/v1/contacts/{contact['id']}").status_code == 404
    assert client.get(f"/v1/contact-lists/{list_id}").json()["contact_count"] == 0


def test_workspace_isolation(client: TestClient, other_client: TestClient) -> None:
    mine = create(client, phone="+12125550100", first_name="Mine")
    url = f"/v1/contacts/{mine['id']}"
    assert other_client.get(url).status_code == 404
    assert other_client.patch(url, json={"first_name": "Theirs"}).status_code == 404
    assert other_client.delete(url).status_code == 404
    assert other_client.get("/v1/contacts").json()["data"] == []
    # the same phone in another workspace is another contact
    theirs = other_client.post("/v1/contacts", json={"phone": "+12125550100",
                                                     "first_name": "Theirs"})
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]
    assert client.get(url).json()["first_name"] == "Mine"


def test_needs_a_key(anon_client: TestClient) -> None:
    assert anon_client.get("/v1/contacts").status_code == 401
    assert anon_client.post("/v1/contacts", json={"phone": "+12125550100"}).status_code == 401
