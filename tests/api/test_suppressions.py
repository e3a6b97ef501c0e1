"""/v1/campaigns/{id}/suppressions: one campaign's suppression list, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_campaigns import create
from tests.helpers import error_of, walk_pages

UUID0 = "00000000-0000-0000-0000-000000000000"


def url(campaign_id: str, rest: str = "") -> str:
    return f"/v1/campaigns/{campaign_id}/suppressions{rest}"


def suppress(client: TestClient, campaign_id: str, status: int = 201,
             **body: Any) -> dict[str, Any]:
    response = client.post(url(campaign_id), json=body)
    assert response.status_code == status, response.text
    entry: dict[str, Any] = response.json()
    return entry


def check(client: TestClient, phone: str, campaign_id: str | None = None) -> dict[str, Any]:
    params = {"phone": phone, **({"campaign_id": campaign_id} if campaign_id else {})}
    response = client.get("/v1/dnc/check", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_suppression_list_is_the_campaigns_own(client: TestClient) -> None:
    spring, autumn = create(client)["id"], create(client, name="Autumn")["id"]
    entry = suppress(client, spring, phone="+12125550100", reason="existing customer")
    assert (entry["campaign_id"], entry["pattern"], entry["source"]) == (
        spring, "+12125550100", "api")
    assert suppress(client, spring, 200, pattern="212-555-0100")["id"] == entry["id"]
    # the same number on another campaign's list and on the workspace's list: other entries
    other = suppress(client, autumn, phone="+12125550100")
    workspace = client.post("/v1/dnc", json={"phone": "+12125550100"})
    assert workspace.status_code == 201
    assert len({entry["id"], other["id"], workspace.json()["id"]}) == 3
    assert [e["id"] for e in client.get(url(spring)).json()["data"]] == [entry["id"]]
    assert [e["id"] for e in client.get("/v1/dnc").json()["data"]] == [workspace.json()["id"]]


def test_check_reads_the_campaigns_list(client: TestClient) -> None:
    campaign = create(client)["id"]
    entry = suppress(client, campaign, pattern="646*")
    assert check(client, "+16465550100")["listed"] is False  # not on the workspace's list
    found = check(client, "+16465550100", campaign)
    assert found["listed"] is True and [m["id"] for m in found["matches"]] == [entry["id"]]
    workspace = client.post("/v1/dnc", json={"phone": "+16465550100"}).json()
    both = check(client, "+16465550100", campaign)
    assert [m["id"] for m in both["matches"]] == [workspace["id"], entry["id"]]


def test_bulk_list_and_delete(client: TestClient) -> None:
    campaign = create(client)["id"]
    response = client.post(url(campaign, "/bulk"), json={"entries": [
        {"phone": "+12125550100"}, {"pattern": "646*"}, {"pattern": "xx*"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], [r["index"] for r in body["rejected"]]) == (2, [2])
    entries = walk_pages(client, url(campaign), limit=1)
    assert {e["pattern"] for e in entries} == {"+12125550100", "+1646*"}
    assert [e["pattern"] for e in client.get(url(campaign), params={"search": "646"})
            .json()["data"]] == ["+1646*"]
    first = body["entry_ids"][0]
    # an entry is deleted through its own list only
    assert error_of(client.delete(f"/v1/dnc/{first}"), 404)["field"] == "entry_id"
    other = create(client, name="Other")["id"]
    assert error_of(client.delete(url(other, f"/{first}")), 404)["field"] == "entry_id"
    assert client.delete(url(campaign, f"/{first}")).status_code == 204
    assert error_of(client.delete(url(campaign, f"/{first}")), 404)["field"] == "entry_id"
    assert check(client, "+12125550100", campaign)["listed"] is False


def test_import(client: TestClient) -> None:
    campaign = create(client)["id"]
    response = client.post(url(campaign, "/import"), content=b"pattern,reason\n212*,x\n555,y\n",
                           headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["campaign_id"], report["added"], report["rejected"]) == (campaign, 1, 1)
    assert report["rejections"][0]["index"] == 3
    assert check(client, "+12125550100", campaign)["matches"][0]["source"] == "csv"
    assert client.get("/v1/dnc").json()["data"] == []


def test_unknown_and_foreign_campaigns_are_404(client: TestClient,
                                               other_client: TestClient) -> None:
    campaign = create(client)["id"]
    entry = suppress(client, campaign, phone="+12125550100")
    for who, campaign_id in ((client, UUID0), (client, "not-an-id"), (other_client, campaign)):
        requests = [
            who.post(url(campaign_id), json={"phone": "+12125550101"}),
            who.post(url(campaign_id, "/bulk"), json={"entries": [{"phone": "+12125550101"}]}),
            who.get(url(campaign_id)),
            who.delete(url(campaign_id, f"/{entry['id']}")),
            who.post(url(campaign_id, "/import"), content=b"phone\n+12125550101\n",
                     headers={"content-type": "text/csv"}),
            who.get("/v1/dnc/check", params={"phone": "+12125550100",
                                             "campaign_id": campaign_id}),
        ]
        for response in requests:
            error = error_of(response, 404)
            assert error["field"] == "campaign_id", (campaign_id, response.request.url, error)
    assert [e["id"] for e in client.get(url(campaign)).json()["data"]] == [entry["id"]]
