"""Campaigns' compliance flags: telemarketing and regulation_f."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_campaigns import create
from tests.helpers import error_of


def test_flags_default_to_false(client: TestClient) -> None:
    body = create(client)
    assert (body["telemarketing"], body["regulation_f"]) == (False, False)
    assert client.get(f"/v1/campaigns/{body['id']}").json()["telemarketing"] is False


def test_flags_on_create_and_update(client: TestClient) -> None:
    body = create(client, telemarketing=True, regulation_f=True)
    assert (body["telemarketing"], body["regulation_f"]) == (True, True)
    url = f"/v1/campaigns/{body['id']}"
    patched = client.patch(url, json={"telemarketing": False})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["telemarketing"], patched.json()["regulation_f"]) == (False, True)
    listed = client.get("/v1/campaigns").json()["data"][0]
    assert (listed["telemarketing"], listed["regulation_f"]) == (False, True)


def test_invalid_flags_name_the_field(client: TestClient) -> None:
    for field in ("telemarketing", "regulation_f"):
        error = error_of(client.post("/v1/campaigns", json={"name": "C", field: "maybe"}))
        assert error["field"] == field
    campaign = create(client)["id"]
    for field in ("telemarketing", "regulation_f"):
        error = error_of(client.patch(f"/v1/campaigns/{campaign}", json={field: None}))
        assert error["field"] == field and "null" in error["message"]
        error = error_of(client.patch(f"/v1/campaigns/{campaign}", json={field: [1]}))
        assert error["field"] == field


def test_flags_documented(anon_client: TestClient) -> None:
    schemas = anon_client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("CampaignCreate", "CampaignUpdate", "CampaignOut"):
        for field in ("telemarketing", "regulation_f"):
            assert schemas[name]["properties"][field].get("description"), (name, field)
