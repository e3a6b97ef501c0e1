"""/v1/webhooks: validation (the SSRF guard included), isolation between workspaces,
pagination, secrets kept out of listings, and the delivery log's shape.

The app here does not allow private destinations (the default, except where a test says
otherwise), so endpoints use a public IP literal (no DNS lookup); deliveries go through a mock
transport, never the network.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ringwise.api.app import create_app
from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.notify.webhook_sender import WebhookSender
from ringwise.results import outbox
from ringwise.results.webhook_dispatch import WebhookDispatcher
from ringwise.settings import Settings
from tests.conftest import START
from tests.helpers import error_of, walk_pages

URL = "https://93.184.215.14/hooks/ringwise"
MISSING = "00000000-0000-4000-8000-000000000000"


def secret_of(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(1, size + 1))).decode()


def make(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json={"url": URL, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- creation and validation -------------------------------------------------------------------

def test_create_returns_the_endpoint_and_its_secret(client: TestClient) -> None:
    created = make(client, events=["call.ended", "call.analyzed"], description="CRM sync")
    assert created["url"] == URL
    assert created["events"] == ["call.ended", "call.analyzed"]
    assert (created["description"], created["enabled"], created["disabled_reason"]) == (
        "CRM sync", True, None)
    key = base64.b64decode(created["secret"].removeprefix("whsec_"), validate=True)
    assert created["secret"].startswith("whsec_") and len(key) >= 24
    assert make(client)["events"] == []  # omitted: all events
    assert make(client, events=[])["events"] == []
    other = make(client)
    assert other["secret"] != created["secret"]
    given = make(client, secret=secret_of(24))
    assert given["secret"] == secret_of(24)
    shown = client.get(f"/v1/webhooks/{given['id']}/secret").json()
    assert shown == {"endpoint_id": given["id"], "secret": secret_of(24),
                     "secrets": [{"secret": secret_of(24), "expires_at": None}]}


def test_the_url_is_normalised(client: TestClient) -> None:
    assert make(client, url="HTTPS://93.184.215.14:443")["url"] == "https://93.184.215.14/"


REFUSED = [
    ("http://127.0.0.1/", "https"),
    ("http://169.254.169.254/", "https"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://169.254.169.254/latest/meta-data", "cloud metadata"),
    ("https://10.0.0.7/", "private"),
    ("https://[::1]/", "loopback"),
    ("https://[::ffff:169.254.169.254]/", "cloud metadata"),
    ("https://localhost/", "internal"),
    ("https://hooks.internal/", "internal"),
    ("https://2130706433/", "IP address"),
    ("https://user:pw@93.184.215.14/", "user name"),
    ("ftp://93.184.215.14/", "https"),
    ("not a url", "spaces"),
]


def test_refused_destinations_are_a_422_naming_url(client: TestClient) -> None:
    endpoint = make(client)
    for url, reason in REFUSED:
        error = error_of(client.post("/v1/webhooks", json={"url": url}))
        assert error["field"] == "url", (url, error)
        assert reason in error["message"], (url, error)
        error = error_of(client.patch(f"/v1/webhooks/{endpoint['id']}", json={"url": url}))
        assert error["field"] == "url" and reason in error["message"], (url, error)
    assert client.get(f"/v1/webhooks/{endpoint['id']}").json()["url"] == URL
    assert [e["id"] for e in client.get("/v1/webhooks").json()["data"]] == [endpoint["id"]]


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"events": ["call.nope"]}, "events[0]"),
    ({"events": ["call.ended", "call.finished"]}, "events[1]"),
    ({"events": ["call.ended", "call.analyzed", "call.ended"]}, "events[2]"),
    ({"events": "call.ended"}, "events"),
    ({"events": [*outbox.EVENT_TYPES, "call.ended"]}, "events"),
    ({"secret": "abc"}, "secret"),
    ({"secret": "whsec_not base64!"}, "secret"),
    ({"secret": secret_of(23)}, "secret"),
    ({"secret": secret_of(65)}, "secret"),
    ({"secret": "whsec_"}, "secret"),
    ({"description": "x" * 256}, "description"),
    ({"url": "https://93.184.215.14/" + "a" * 2048}, "url"),
    ({"url": ""}, "url"),
    ({"enabled": False}, "enabled"),  # not a field of creation
    ({"description": "a\x00b"}, "description"),
]


def test_bad_input_is_a_422_naming_the_field(client: TestClient) -> None:
    for body, field in BAD_INPUT:
        error = error_of(client.post("/v1/webhooks", json={"url": URL, **body}))
        assert error["field"] == field, (body, error)
    assert client.get("/v1/webhooks").json()["data"] == []


@pytest.fixture
def private_client(db: Database, clock: ManualClock,
                   workspace: tuple[str, str]) -> Iterator[TestClient]:
    """The workspace's client on a server that allows private destinations."""
    app = create_app(Settings(database_url=db.url, webhooks_allow_private=True), db=db,
                     clock=clock)
    with TestClient(app, headers={"X-API-Key": workspace[1]}) as test_client:
        yield test_client


def test_the_operator_can_allow_private_destinations(private_client: TestClient) -> None:
    created = private_client.post("/v1/webhooks", json={"url": "http://127.0.0.1:8080/in"})
    assert created.status_code == 201, created.text
    assert created.json()["url"] == "http://127.0.0.1:8080/in"
    # Still a URL: no credentials, a valid port.
    for url in ("http://u:p@127.0.0.1/", "http://127.0.0.1:99999/"):
        assert error_of(private_client.post("/v1/webhooks", json={"url": url}))["field"] == "url"
    # Within 2,048 characters as sent, longer once the host name is IDNA-encoded.
    url = "https://" + ".".join(["ü"] * 10) + ".com/" + "a" * 2010
    assert len(url) <= 2048
    error = error_of(private_client.post("/v1/webhooks", json={"url": url}))
    assert error["field"] == "url" and "encoded" in error["message"]


def test_limits_are_inclusive(client: TestClient) -> None:
    assert make(client, secret=secret_of(64))["secret"] == secret_of(64)
    assert make(client, description="x" * 255)["description"] == "x" * 255
    assert len(make(client, events=list(outbox.EVENT_TYPES))["events"]) == 6
    long_url = "https://93.184.215.14/" + "a" * (2048 - len("https://93.184.215.14/"))
    assert make(client, url=long_url)["url"] == long_url


def test_update(client: TestClient) -> None:
    endpoint = make(client, events=["call.ended"], description="first")
    path = f"/v1/webhooks/{endpoint['id']}"
    changed = client.patch(path, json={"events": ["call.started"], "description": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["events"], changed.json()["description"]) == (["call.started"],
                                                                          None)
    assert client.patch(path, json={"events": None}).json()["events"] == []
    assert client.patch(path, json={"url": "https://93.184.215.15/x"}).json()["url"] == \
        "https://93.184.215.15/x"
    assert error_of(client.patch(path, json={"url": None}))["field"] == "url"
    assert error_of(client.patch(path, json={"enabled": None}))["field"] == "enabled"
    assert error_of(client.patch(path, json={"events": ["x"]}))["field"] == "events[0]"
    assert error_of(client.patch(path, json={"secret": secret_of(24)}))["field"] == "secret"
    off = client.patch(path, json={"enabled": False}).json()
    assert off["enabled"] is False and off["disabled_reason"].startswith("disabled through")
    on = client.patch(path, json={"enabled": True}).json()
    assert (on["enabled"], on["disabled_reason"]) == (True, None)


def test_delete(client: TestClient) -> None:
    endpoint = make(client)
    deleted = client.delete(f"/v1/webhooks/{endpoint['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    error_of(client.get(f"/v1/webhooks/{endpoint['id']}"), 404)
    error_of(client.delete(f"/v1/webhooks/{endpoint['id']}"), 404)


def test_rotation(client: TestClient, clock: ManualClock) -> None:
    endpoint = make(client, secret=secret_of(24))
    path = f"/v1/webhooks/{endpoint['id']}"
    rotated = client.post(f"{path}/rotate-secret", json={})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != secret_of(24)
    assert rotated.json()["secrets"] == [
        {"secret": new, "expires_at": None},
        {"secret": secret_of(24), "expires_at": "2026-03-03T15:00:00Z"}]  # 24 h by default
    assert client.get(f"{path}/secret").json() == rotated.json()
    # Rotating to a secret in use, or with an out-of-range overlap, is refused.
    assert error_of(client.post(f"{path}/rotate-secret",
                                json={"secret": secret_of(24)}))["field"] == "secret"
    for hours in (-1, 169, "soon"):
        error = error_of(client.post(f"{path}/rotate-secret",
                                     json={"previous_valid_hours": hours}))
        assert error["field"] == "previous_valid_hours"
    assert error_of(client.post(f"{path}/rotate-secret",
                                json={"secret": "whsec_x"}))["field"] == "secret"
    # 0 hours: the previous secrets stop at once.
    now = client.post(f"{path}/rotate-secret",
                      json={"secret": secret_of(32), "previous_valid_hours": 0}).json()
    assert now["secrets"] == [{"secret": secret_of(32), "expires_at": None}]
    # Previous secrets expire on their own.
    client.post(f"{path}/rotate-secret", json={"previous_valid_hours": 1})
    assert len(client.get(f"{path}/secret").json()["secrets"]) == 2
    clock.advance(timedelta(hours=1))
    assert len(client.get(f"{path}/secret").json()["secrets"]) == 1


# --- isolation, pagination, secrets --------------------------------------------------------

def test_another_workspace_sees_nothing(client: TestClient, other_client: TestClient,
                                        db: Database, clock: ManualClock,
                                        workspace: tuple[str, str]) -> None:
    endpoint = make(client)
    (event_id,) = _emit(db, workspace[0])
    delivery = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["data"][0]
    base = f"/v1/webhooks/{endpoint['id']}"
    one = f"{base}/deliveries/{delivery['id']}"
    for method, path, body in [
        ("GET", base, None), ("PATCH", base, {"description": "mine"}), ("DELETE", base, None),
        ("GET", f"{base}/secret", None), ("POST", f"{base}/rotate-secret", {}),
        ("GET", f"{base}/deliveries", None), ("GET", one, None),
        ("POST", f"{one}/replay", None),
        ("POST", f"{base}/replay", {"since": START.isoformat()}),
    ]:
        response = other_client.request(method, path, json=body)
        error = error_of(response, 404)
        assert error["field"] in ("webhook_id", "delivery_id"), (method, path, error)
        assert endpoint["secret"] not in response.text
    assert other_client.get("/v1/webhooks").json() == {"data": [], "next_cursor": None}
    # Nothing changed for the owner.
    assert client.get(base).json()["description"] is None
    assert client.get(f"{base}/secret").json()["secret"] == endpoint["secret"]
    assert len(client.get(f"{base}/deliveries").json()["data"]) == 1
    # Another endpoint's delivery id is a 404 too, in the same workspace.
    second = make(client)
    error = error_of(client.get(f"/v1/webhooks/{second['id']}/deliveries/{delivery['id']}"),
                     404)
    assert error["field"] == "delivery_id"
    assert event_id == delivery["event_id"]


def test_unknown_ids_are_404(client: TestClient) -> None:
    endpoint = make(client)
    for bad in (MISSING, "x", "1", "%00", "a" * 300):
        assert error_of(client.get(f"/v1/webhooks/{bad}"), 404)["field"] == "webhook_id"
        error_of(client.patch(f"/v1/webhooks/{bad}", json={}), 404)
        error = error_of(client.get(f"/v1/webhooks/{endpoint['id']}/deliveries/{bad}"), 404)
        assert error["field"] == "delivery_id"
        error_of(client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{bad}/replay"), 404)


def test_pagination_and_no_secret_in_listings(client: TestClient, clock: ManualClock) -> None:
    made = []
    for _ in range(5):
        made.append(make(client))
        clock.advance(timedelta(seconds=1))
    listed = walk_pages(client, "/v1/webhooks", limit=2)
    assert [e["id"] for e in listed] == [e["id"] for e in reversed(made)]  # newest first
    for endpoint in made:
        got = client.get(f"/v1/webhooks/{endpoint['id']}")
        assert "secret" not in got.json() and endpoint["secret"] not in got.text
    page = client.get("/v1/webhooks", params={"limit": 200})
    assert all("secret" not in e for e in page.json()["data"])
    assert all(e["secret"] not in page.text for e in made)
    assert error_of(client.get("/v1/webhooks", params={"cursor": "nope"}))["field"] == "cursor"
    for limit in (0, 201):
        assert error_of(client.get("/v1/webhooks", params={"limit": limit}))["field"] == "limit"


# --- deliveries ----------------------------------------------------------------------------

def _emit(db: Database, workspace_id: str,
          types: tuple[outbox.EventType, ...] = ("call.ended",)) -> list[str]:
    with db.transaction() as session:
        return outbox.emit_many(session.connection(), workspace_id,
                                [(t, {"call_id": f"call-{i}"}) for i, t in enumerate(types)],
                                START)


@pytest.fixture
def answers() -> list[int]:
    """Status codes the mock receiver answers, in order (then 200)."""
    return []


@pytest.fixture
def mock_sender(clock: ManualClock, answers: list[int]) -> Iterator[WebhookSender]:
    def handle(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if answers else 200
        # A stream, as from the network: the sender reads the body itself (capped).
        return httpx.Response(status, stream=httpx.ByteStream(
            b"busy" if status >= 300 else b"thanks"))

    with WebhookSender(transport=httpx.MockTransport(handle), clock=clock) as sender:
        yield sender


def test_the_delivery_log(client: TestClient, db: Database, clock: ManualClock,
                          workspace: tuple[str, str], mock_sender: WebhookSender,
                          answers: list[int]) -> None:
    endpoint = make(client)
    base = f"/v1/webhooks/{endpoint['id']}"
    ended, analyzed = _emit(db, workspace[0], ("call.ended", "call.analyzed"))
    runner = WebhookDispatcher(db, clock, mock_sender, worker_id="t")
    answers.extend([503, 503])  # both fail once, then succeed
    assert runner.run_due() == 2
    pending = client.get(f"{base}/deliveries").json()["data"]
    assert {d["status"] for d in pending} == {"pending"}
    assert {d["last_status_code"] for d in pending} == {503}
    assert {d["last_error"] for d in pending} == {"HTTP 503"}
    clock.advance(timedelta(seconds=6))  # the second attempt: 5 s later, plus jitter
    assert runner.run_due() == 2

    listed = client.get(f"{base}/deliveries").json()
    assert listed["next_cursor"] is None
    assert {d["event_id"]: d["event_type"] for d in listed["data"]} == {
        ended: "call.ended", analyzed: "call.analyzed"}
    delivery = next(d for d in listed["data"] if d["event_id"] == ended)
    assert set(delivery) == {"id", "endpoint_id", "event_id", "event_type", "status",
                             "attempts", "next_attempt_at", "last_status_code", "last_error",
                             "delivered_at", "created_at"}
    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"],
            delivery["last_status_code"], delivery["last_error"]) == (
        "delivered", 2, None, 200, None)
    assert delivery["delivered_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert delivery["endpoint_id"] == endpoint["id"]

    detail = client.get(f"{base}/deliveries/{delivery['id']}").json()
    assert detail["payload"] == {"type": "call.ended", "timestamp": "2026-03-02T15:00:00Z",
                                 "data": {"call_id": "call-0"}}
    log = detail["attempt_log"]
    assert [set(a) for a in log] == [{"at", "status_code", "outcome", "error", "duration_ms",
                                      "response_snippet"}] * 2
    assert [(a["status_code"], a["outcome"], a["response_snippet"]) for a in log] == [
        (503, "retry", "busy"), (200, "delivered", "thanks")]
    assert log[0]["at"] == "2026-03-02T15:00:00Z" and log[0]["error"] is None
    assert all(isinstance(a["duration_ms"], float) for a in log)
    # Filters.
    only = client.get(f"{base}/deliveries", params={"event_type": "call.analyzed"}).json()
    assert [d["event_id"] for d in only["data"]] == [analyzed]
    assert client.get(f"{base}/deliveries", params={"status": "failed"}).json()["data"] == []
    assert len(client.get(f"{base}/deliveries", params={"status": "delivered"})
               .json()["data"]) == 2
    for params, field in [({"status": "lost"}, "status"), ({"event_type": "x"}, "event_type"),
                          ({"limit": 0}, "limit"), ({"cursor": "!"}, "cursor")]:
        assert error_of(client.get(f"{base}/deliveries", params=params))["field"] == field


def test_deliveries_are_paged_newest_first(client: TestClient, db: Database,
                                           clock: ManualClock,
                                           workspace: tuple[str, str]) -> None:
    endpoint = make(client)
    ids = _emit(db, workspace[0], ("call.started", "call.ended", "call.analyzed"))
    replayed = []
    for _ in range(2):
        clock.advance(timedelta(minutes=1))
        first = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["data"][-1]
        response = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{first['id']}/replay")
        assert response.status_code == 202, response.text
        replayed.append(response.json()["id"])
    listed = walk_pages(client, f"/v1/webhooks/{endpoint['id']}/deliveries", limit=2)
    assert len(listed) == 5 and len({d["id"] for d in listed}) == 5
    assert [d["id"] for d in listed[:2]] == list(reversed(replayed))
    assert {d["event_id"] for d in listed} == set(ids)
    assert listed[0]["status"] == "pending" and listed[0]["attempts"] == 0


def test_replay_validation(client: TestClient) -> None:
    endpoint = make(client)
    path = f"/v1/webhooks/{endpoint['id']}/replay"
    for body, field in [({}, "since"), ({"since": "2026-03-01T00:00:00"}, "since"),
                        ({"since": "yesterday"}, "since"),
                        ({"since": "0001-01-01T00:00:00+01:00"}, "since"),
                        ({"since": "9999-12-31T23:59:59-01:00"}, "since"),
                        ({"since": "2026-03-01T00:00:00Z", "status": "delivered"}, "status"),
                        ({"since": "2026-03-01T00:00:00Z", "extra": 1}, "extra")]:
        assert error_of(client.post(path, json=body))["field"] == field, body
    for since in ("2026-03-01T00:00:00Z", "0001-01-01T00:00:00Z", "2026-03-01T01:00:00+01:00"):
        done = client.post(path, json={"since": since})
        assert done.status_code == 202 and done.json() == {"replayed": 0}, done.text


def test_the_openapi_document_describes_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = {path: set(ops) for path, ops in spec["paths"].items() if "webhooks" in path}
    assert paths == {
        "/v1/webhooks": {"get", "post"},
        "/v1/webhooks/{webhook_id}": {"get", "patch", "delete"},
        "/v1/webhooks/{webhook_id}/secret": {"get"},
        "/v1/webhooks/{webhook_id}/rotate-secret": {"post"},
        "/v1/webhooks/{webhook_id}/deliveries": {"get"},
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}": {"get"},
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay": {"post"},
        "/v1/webhooks/{webhook_id}/replay": {"post"},
    }
    create = spec["paths"]["/v1/webhooks"]["post"]
    assert "201" in create["responses"]
    assert json.dumps(spec["components"]["schemas"]["WebhookEndpointCreate"]).count("examples")
