"""Contacts' consent and registry-scrub fields: JSON API, bulk, CSV import; both engines."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import error_of

CONSENT = {"consent_basis": "express_written", "consent_at": "2026-02-14T11:20:00-05:00",
           "registry_scrubbed_at": "2026-03-01T08:00:00Z"}


def create(client: TestClient, status: int = 201, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/contacts", json=fields)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_fields_round_trip_as_utc(client: TestClient) -> None:
    body = create(client, phone="+12125550100", **CONSENT)
    assert body["consent_basis"] == "express_written"
    assert body["consent_at"] == "2026-02-14T16:20:00Z"
    assert body["registry_scrubbed_at"] == "2026-03-01T08:00:00Z"
    assert client.get(f"/v1/contacts/{body['id']}").json() == body
    plain = create(client, phone="+12125550101")
    assert (plain["consent_basis"], plain["consent_at"], plain["registry_scrubbed_at"]) == (
        None, None, None)


def test_upsert_keeps_and_patch_clears(client: TestClient) -> None:
    first = create(client, phone="+12125550100", **CONSENT)
    kept = create(client, 200, phone="212 555 0100", first_name="Ann", consent_basis="")
    assert kept["id"] == first["id"]
    assert (kept["consent_basis"], kept["consent_at"]) == ("express_written",
                                                           "2026-02-14T16:20:00Z")
    changed = create(client, 200, phone="+12125550100", consent_basis="Existing Business "
                                                                      "Relationship")
    assert changed["consent_basis"] == "existing_business_relationship"
    url = f"/v1/contacts/{first['id']}"
    patched = client.patch(url, json={"consent_basis": None, "registry_scrubbed_at":
                                      "2026-03-02T10:00:00+01:00"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["consent_basis"] is None
    assert patched.json()["registry_scrubbed_at"] == "2026-03-02T09:00:00Z"
    assert patched.json()["consent_at"] == "2026-02-14T16:20:00Z"


def test_invalid_values_name_the_field(client: TestClient) -> None:
    cases = [
        ({"consent_basis": "verbal"}, "consent_basis"),
        ({"consent_basis": 1}, "consent_basis"),
        ({"consent_at": "2026-02-14T16:20:00"}, "consent_at"),  # no offset
        ({"consent_at": "2026-02-14"}, "consent_at"),
        ({"consent_at": "yesterday"}, "consent_at"),
        ({"consent_at": 1771086000}, "consent_at"),  # not ISO-8601
        ({"registry_scrubbed_at": "2026-03-01 08:00"}, "registry_scrubbed_at"),
    ]
    for fields, field in cases:
        error = error_of(client.post("/v1/contacts", json={"phone": "+12125550100", **fields}))
        assert error["field"] == field, (fields, error)
    contact = create(client, phone="+12125550100")
    error = error_of(client.patch(f"/v1/contacts/{contact['id']}",
                                  json={"consent_at": "2026-02-14T16:20:00"}))
    assert error["field"] == "consent_at" and "offset" in error["message"]


def test_bulk_rejects_rows_with_bad_consent(client: TestClient) -> None:
    response = client.post("/v1/contacts/bulk", json={"contacts": [
        {"phone": "+12125550100", **CONSENT},
        {"phone": "+12125550101", "consent_at": "2026-02-14T16:20:00"},
        {"phone": "+12125550102", "consent_basis": "implied"},
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "consent_at"),
                                                                   (2, "consent_basis")]
    contact = client.get(f"/v1/contacts/{body['contact_ids'][0]}").json()
    assert contact["registry_scrubbed_at"] == "2026-03-01T08:00:00Z"


def test_campaign_inline_contacts_carry_consent(client: TestClient) -> None:
    response = client.post("/v1/campaigns", json={
        "name": "C", "telemarketing": True,
        "contacts": [{"phone": "+12125550100", "consent_basis": "express_written",
                      "consent_at": "2026-02-14T16:20:00Z"}]})
    assert response.status_code == 201, response.text
    contact = client.get("/v1/contacts").json()["data"][0]
    assert contact["consent_basis"] == "express_written"


def test_csv_import_reads_the_columns(client: TestClient) -> None:
    list_id = client.post("/v1/contact-lists", json={"name": "L"}).json()["id"]
    data = (b"Phone,Consent Basis,Consent At,Registry Scrubbed At,Consent\n"
            b"+12125550100,Express Written,2026-02-14T11:20:00-05:00,2026-03-01T08:00:00Z,yes\n"
            b"+12125550101,express,2026-02-14T16:20:00,,yes\n"
            b"+12125550102,verbal,,,no\n"
            b"+12125550103,,,2026-03-01T08:00:00+00:00,\n"
            b"+12125550100,,,,\n")
    response = client.post(f"/v1/contact-lists/{list_id}/import", content=data,
                           headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["columns"]["consent_basis"] == "Consent Basis"
    assert report["columns"]["consent_at"] == "Consent At"
    assert report["columns"]["registry_scrubbed_at"] == "Registry Scrubbed At"
    assert report["columns"]["custom_fields.consent"] == "Consent"  # a loose column stays custom
    assert [(r["index"], r["field"]) for r in report["rejections"]] == [(3, "consent_at"),
                                                                       (4, "consent_basis")]
    assert (report["created"], report["duplicates"]) == (2, 1)
    people = {c["phone"]: c for c in client.get("/v1/contacts").json()["data"]}
    ann = people["+12125550100"]
    assert (ann["consent_basis"], ann["consent_at"], ann["registry_scrubbed_at"]) == (
        "express_written", "2026-02-14T16:20:00Z", "2026-03-01T08:00:00Z")
    assert ann["custom_fields"] == {"consent": "yes"}
    assert people["+12125550103"]["registry_scrubbed_at"] == "2026-03-01T08:00:00Z"
    assert people["+12125550103"]["consent_basis"] is None
    # a second import updates the instant, and empty cells keep what is stored
    again = (b"phone,consent_at\n+12125550100,2026-02-20T00:00:00+00:00\n"
             b"+12125550103,\n")
    response = client.post(f"/v1/contact-lists/{list_id}/import", content=again,
                           headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    people = {c["phone"]: c for c in client.get("/v1/contacts").json()["data"]}
    assert people["+12125550100"]["consent_at"] == "2026-02-20T00:00:00Z"
    assert people["+12125550100"]["consent_basis"] == "express_written"
    assert people["+12125550103"]["registry_scrubbed_at"] == "2026-03-01T08:00:00Z"


def test_csv_mapping_can_name_the_fields(client: TestClient) -> None:
    list_id = client.post("/v1/contact-lists", json={"name": "L"}).json()["id"]
    data = b"tel,basis,when\n+12125550100,express,2026-02-14T16:20:00Z\n"
    response = client.post(
        f"/v1/contact-lists/{list_id}/import", content=data,
        params={"mapping": '{"phone": "tel", "consent_basis": "basis", "consent_at": "when"}'},
        headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    contact = client.get("/v1/contacts").json()["data"][0]
    assert (contact["consent_basis"], contact["consent_at"]) == ("express",
                                                                 "2026-02-14T16:20:00Z")
