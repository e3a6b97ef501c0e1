"""GET /v1/campaigns/{id}/preflight: who the dialer will skip, and why, before it dials."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number
from tests.helpers import error_of

# The clock fixture is Monday 2026-03-02 15:00 UTC (10:00 in New York).
HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"],
         "call_hours": {"start_time": "09:00", "end_time": "17:00"}}


def campaign(client: TestClient, phones: list[str], **body: Any) -> dict[str, Any]:
    return create(client, assistant_id=make_assistant(client),
                  caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                  contact_ids=make_contacts(client, phones), **body)


def preflight(client: TestClient, campaign_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/campaigns/{campaign_id}/preflight")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_counts_each_reason(client: TestClient) -> None:
    # end_at 18:00 UTC: New York (open now) and Chicago (open now) have a window before it;
    # Honolulu opens at 19:00 UTC; a toll-free number spans zones never all open at once.
    phones = ["+12125550100", "+13125550100", "+18085550100", "+18005550100"]
    created = campaign(client, phones,
                       schedule={**HOURS, "end_at": "2026-03-02T18:00:00Z"})
    body = preflight(client, created["id"])
    assert body["campaign_id"] == created["id"]
    assert body["status"] == "draft"
    assert body["contacts_total"] == 4 and body["contacts"] == 4
    assert body["callable"] == 2
    assert body["skipped"] == {"invalid": 0, "duplicate": 0, "dnc": 0,
                               "no_consent": 0, "registry_scrub_stale": 0, "unknown_timezone": 0,
                               "no_window_before_end": 2}
    assert body["skipped_total"] == 2
    assert body["first_eligible_at"] == "2026-03-02T15:00:00Z"
    assert body["at"] == "2026-03-02T15:00:00Z"
    assert body["ready"] is True and body["not_ready"] is None


def test_next_window_when_closed_now(client: TestClient) -> None:
    created = campaign(client, ["+18085550100"], schedule=HOURS)
    body = preflight(client, created["id"])
    assert body["callable"] == 1
    assert body["first_eligible_at"] == "2026-03-02T19:00:00Z"  # 09:00 in Honolulu


def test_not_ready_names_the_setting(client: TestClient) -> None:
    response = client.post("/v1/campaigns", json={
        "name": "No numbers", "assistant_id": make_assistant(client),
        "contact_ids": make_contacts(client, ["+12125550100"])})
    assert response.status_code == 201, response.text
    body = preflight(client, response.json()["id"])
    assert body["ready"] is False
    assert body["not_ready"]["field"] == "caller_id.phone_number_ids"
    assert body["callable"] == 1


def test_running_campaign_counts_pending_only(client: TestClient) -> None:
    created = campaign(client, ["+12125550100", "+12125550101"], schedule=HOURS)
    assert client.post(f"/v1/campaigns/{created['id']}/start").status_code == 200
    body = preflight(client, created["id"])
    assert body["status"] == "running" and body["ready"] is True
    assert body["contacts"] == 2
    assert client.post(f"/v1/campaigns/{created['id']}/cancel").status_code == 200
    body = preflight(client, created["id"])
    assert body["contacts"] == 0 and body["contacts_total"] == 2  # skipped: not pending
    assert body["ready"] is False and body["not_ready"]["field"] == "status"


def test_foreign_and_unknown_ids_are_404(client: TestClient, other_client: TestClient) -> None:
    created = campaign(client, ["+12125550100"])
    error = error_of(other_client.get(f"/v1/campaigns/{created['id']}/preflight"), 404)
    assert error["code"] == "not_found"
    error_of(client.get("/v1/campaigns/00000000-0000-4000-8000-000000000000/preflight"), 404)


def test_needs_a_key(anon_client: TestClient) -> None:
    error_of(anon_client.get("/v1/campaigns/x/preflight"), 401)


def test_counts_the_compliance_gate(client: TestClient) -> None:
    """A telemarketing campaign: contacts without consent, and numbers on the workspace's
    do-not-call list, are counted as the dialer will block them."""
    phones = ["+12125550100", "+12125550101", "+12125550102"]
    created = campaign(client, phones, schedule=HOURS, telemarketing=True)
    consented = client.post("/v1/contacts", json={
        "phone": phones[0], "consent_basis": "express_written",
        "consent_at": "2026-02-01T12:00:00Z"})
    assert consented.status_code == 200, consented.text
    assert client.post("/v1/dnc", json={"phone": phones[1]}).status_code == 201
    body = preflight(client, created["id"])
    assert body["callable"] == 1
    assert body["skipped"]["dnc"] == 1 and body["skipped"]["no_consent"] == 1
    assert client.patch("/v1/settings", json={
        "compliance": {"require_registry_scrub": True}}).status_code == 200
    body = preflight(client, created["id"])
    assert body["callable"] == 0 and body["skipped"]["registry_scrub_stale"] == 1
