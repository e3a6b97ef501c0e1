"""API keys: format, hashing, both header styles, revocation, last use, workspace scoping."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.core.api_keys import KEY_PREFIX, generate_key, hash_key, looks_like_key
from ringwise.db.engine import Database
from ringwise.db.models import ApiKey


def test_key_shape_and_checksum() -> None:
    key = generate_key()
    assert key.secret.startswith(KEY_PREFIX)
    assert looks_like_key(key.secret)
    assert key.hash == hash_key(key.secret) and key.secret not in key.hash
    # One changed character breaks the checksum: a typo is recognised without a lookup.
    tampered = key.secret[:-8] + ("A" if key.secret[-8] != "A" else "B") + key.secret[-7:]
    assert not looks_like_key(tampered)
    assert not looks_like_key("rw_live_short")
    assert not looks_like_key("sk_live_" + key.secret[8:])


def test_only_the_hash_is_stored(client: TestClient, db: Database,
                                 workspace: tuple[str, str]) -> None:
    created = client.post("/v1/api-keys", json={"name": "crm"})
    assert created.status_code == 201, created.text
    secret = created.json()["key"]
    with db.reading() as session:
        rows = list(session.scalars(select(ApiKey)))
    stored = {r.key_hash for r in rows}
    assert hash_key(secret) in stored
    for row in rows:
        assert secret not in (row.key_hash, row.prefix, row.name)
    listed = client.get("/v1/api-keys").json()["data"]
    assert all("key" not in item for item in listed)
    assert {item["prefix"] for item in listed} >= {secret[:12]}


def test_bearer_and_x_api_key_both_work(anon_client: TestClient,
                                        workspace: tuple[str, str]) -> None:
    secret = workspace[1]
    assert anon_client.get("/v1/settings", headers={"X-API-Key": secret}).status_code == 200
    bearer = anon_client.get("/v1/settings", headers={"Authorization": f"Bearer {secret}"})
    assert bearer.status_code == 200
    assert bearer.json()["name"] == "Acme"


def test_rejections_say_why(anon_client: TestClient, workspace: tuple[str, str]) -> None:
    cases = {
        None: "missing API key",
        "nonsense": "malformed API key",
        generate_key().secret: "unknown API key",
    }
    for secret, reason in cases.items():
        headers = {"X-API-Key": secret} if secret else {}
        response = anon_client.get("/v1/settings", headers=headers)
        assert response.status_code == 401
        assert reason in response.json()["error"]["message"]
    basic = anon_client.get("/v1/settings", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_revoked_key_is_refused(client: TestClient, anon_client: TestClient) -> None:
    created = client.post("/v1/api-keys", json={"name": "temp"}).json()
    headers = {"X-API-Key": created["key"]}
    assert anon_client.get("/v1/settings", headers=headers).status_code == 200
    revoked = client.delete(f"/v1/api-keys/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    response = anon_client.get("/v1/settings", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_last_used_is_recorded(client: TestClient, db: Database, clock: ManualClock,
                               workspace: tuple[str, str]) -> None:
    key_hash = hash_key(workspace[1])

    def last_used() -> object:
        with db.reading() as session:
            return session.scalars(select(ApiKey.last_used_at)
                                   .where(ApiKey.key_hash == key_hash)).one()

    assert last_used() is None
    client.get("/v1/settings")
    assert last_used() == clock.now()
    first = clock.now()
    clock.advance(timedelta(seconds=10))
    client.get("/v1/settings")
    assert last_used() == first  # refreshed at most once a minute
    clock.advance(timedelta(minutes=2))
    client.patch("/v1/settings", json={"concurrency_rate": 50})
    assert last_used() == clock.now()


def test_keys_are_workspace_scoped(client: TestClient, other_client: TestClient) -> None:
    mine = client.post("/v1/api-keys", json={"name": "mine"}).json()
    theirs = other_client.get("/v1/api-keys").json()["data"]
    assert mine["id"] not in {k["id"] for k in theirs}
    foreign = other_client.delete(f"/v1/api-keys/{mine['id']}")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"
    assert other_client.get("/v1/settings").json()["name"] == "Globex"
