"""Idempotency-Key: a replay returns the first response; a different body is a 422."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from ringwise.clock import ManualClock


def test_replay_returns_first_response(client: TestClient) -> None:
    headers = {"Idempotency-Key": "create-crm-key-1"}
    first = client.post("/v1/api-keys", json={"name": "crm"}, headers=headers)
    second = client.post("/v1/api-keys", json={"name": "crm"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    names = [k["name"] for k in client.get("/v1/api-keys").json()["data"]]
    assert names.count("crm") == 1


def test_same_key_different_body_is_422(client: TestClient) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert client.post("/v1/api-keys", json={"name": "a"}, headers=headers).status_code == 201
    response = client.post("/v1/api-keys", json={"name": "b"}, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["field"] == "Idempotency-Key"


def test_failed_request_is_not_remembered(client: TestClient) -> None:
    headers = {"Idempotency-Key": "k-3"}
    bad = client.post("/v1/api-keys", json={"name": "x" * 300}, headers=headers)
    assert bad.status_code == 422
    # Nothing was committed for the failed attempt, so the key is free for a corrected request.
    good = client.post("/v1/api-keys", json={"name": "fixed"}, headers=headers)
    assert good.status_code == 201


def test_keys_expire_after_24_hours(client: TestClient, clock: ManualClock) -> None:
    headers = {"Idempotency-Key": "k-4"}
    first = client.post("/v1/api-keys", json={"name": "daily"}, headers=headers).json()
    clock.advance(timedelta(hours=23))
    assert client.post("/v1/api-keys", json={"name": "daily"},
                       headers=headers).json()["id"] == first["id"]
    clock.advance(timedelta(hours=2))
    later = client.post("/v1/api-keys", json={"name": "daily"}, headers=headers).json()
    assert later["id"] != first["id"]


def test_keys_are_per_workspace(client: TestClient, other_client: TestClient) -> None:
    headers = {"Idempotency-Key": "shared-name"}
    mine = client.post("/v1/api-keys", json={"name": "n"}, headers=headers).json()
    theirs = other_client.post("/v1/api-keys", json={"name": "n"}, headers=headers)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"]


def test_overlong_key_rejected(client: TestClient) -> None:
    response = client.post("/v1/api-keys", json={"name": "n"},
                           headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"


def test_twenty_concurrent_replays_create_one_object(live_server: str,
                                                     workspace: tuple[str, str]) -> None:
    headers = {"X-API-Key": workspace[1], "Idempotency-Key": "burst-1"}

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            return http.post("/v1/api-keys", json={"name": "burst"}, headers=headers)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(send, range(20)))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    with httpx.Client(base_url=live_server) as http:
        listed = http.get("/v1/api-keys", headers={"X-API-Key": workspace[1]}).json()["data"]
    assert [k["name"] for k in listed].count("burst") == 1
