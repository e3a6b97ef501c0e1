"""/compat/playbook: every request example of the page (shared/seeds/003_2f2bb110975fc459.txt)
sent as written gets the documented 202 body, and the campaign it creates runs to completion
on the simulated carrier doing what its fields ask (recall minutes, launch_at, stagger); every
documented rule broken gets the documented error body, compared as exact JSON."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Assistant, Call
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.ids import is_uuid
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import make_assistant, make_number

PLAYBOOK_ID = "550e8400-e29b-41d4-a716-446655440000"  # the page's examples name this one
FLAT = (1.0,) * 24  # answer rates that do not depend on the callee's hour
ALWAYS_BUSY = CarrierModel(answer_rate=0.0, busy_rate=1.0, voicemail_rate=0.0, failure_rate=0.0,
                           invalid_rate=0.0, answer_hour_multiplier=FLAT)
ALWAYS_ANSWERED = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                               failure_rate=0.0, invalid_rate=0.0, answer_hour_multiplier=FLAT)

# --- the page's request examples, verbatim ---------------------------------------------------

EXAMPLE_4 = {  # "4. Using the recall field"
    "playbook_id": "550e8400-e29b-41d4-a716-446655440000",
    "contacts": [{"phone": "+34600123456", "first_name": "Juan"}],
    "recall": "[30,120]",
}
EXAMPLE_5_1 = {
    "playbook_id": "550e8400-e29b-41d4-a716-446655440000",
    "contacts": [
        {"phone": "+34600123456"},
        {"phone": "+34600987654"},
    ],
}
EXAMPLE_5_2 = {
    "playbook_id": "550e8400-e29b-41d4-a716-446655440000",
    "contacts": [
        {
            "phone": "+34600123456",
            "first_name": "Juan",
            "last_name": "García",
            "email": "juan@example.com",
            "company": "Acme SL",
        },
        {
            "phone": "+34600987654",
            "first_name": "María",
            "email": "maria@example.com",
        },
    ],
    "recall": "[30,120]",
}
EXAMPLE_5_3 = {
    "playbook_id": "550e8400-e29b-41d4-a716-446655440000",
    "contacts": [
        {
            "phone": "+34600123456",
            "first_name": "Juan",
            "last_name": "García",
            "custom_fields": {
                "lead_id": "ext-12345",
                "producto_interes": "Premium",
                "origen": "web",
            },
        },
    ],
    "recall": [30, 60, 120],
}
EXAMPLE_5_4 = {
    "playbook_id": "550e8400-e29b-41d4-a716-446655440000",
    "contacts": [
        {"phone": "+34600123456", "first_name": "Juan"},
        {"phone": "+34600987654", "first_name": "María"},
    ],
    "launch_at": "2025-03-01T10:00:00",
    "recall": "[30,120]",
}

PHONE_ERROR = {"error": "Each contact must have a non-empty phone field"}  # the page's 400
UNAUTHENTICATED = {"error": "Not authenticated: missing or invalid token"}
NOT_YOURS = {"error": "Playbook not found or not owned by your account"}


# --- fixtures and helpers --------------------------------------------------------------------

@pytest.fixture
def playbook(client: TestClient, db: Database) -> str:
    """The workspace's assistant under the page's playbook id, plus a caller number."""
    native = make_assistant(client, name="Playbook")
    with db.transaction() as session:  # a fresh assistant: nothing refers to its id yet
        session.execute(update(Assistant).where(Assistant.id == native)
                        .values(id=PLAYBOOK_ID))
    make_number(client, "+34910000000")
    return PLAYBOOK_ID


@pytest.fixture
def api(app: Any, workspace: tuple[str, str]) -> Iterator[TestClient]:
    """A playbook client: the workspace key as its Bearer token, as the page says."""
    with TestClient(app, base_url="http://testserver/compat/playbook",
                    headers={"Authorization": f"Bearer {workspace[1]}"}) as test_client:
        yield test_client


def accepted(response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert is_uuid(body["campaign_id"])
    return body


def run(db: Database, clock: ManualClock, model: CarrierModel, hours: float = 4) -> None:
    carrier = SimulatedCarrier(model, seed=5)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=hours))


def calls_by_phone(db: Database, campaign_id: str) -> dict[str, list[Call]]:
    with db.reading() as session:
        calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)
                                .order_by(Call.attempt)).all()
    found: dict[str, list[Call]] = {}
    for call in calls:
        found.setdefault(call.to_number, []).append(call)
    return found


def offsets(calls: list[Call]) -> list[float]:
    """Minutes from the first call's start to each call's start."""
    starts: list[datetime] = [c.started_at for c in calls if c.started_at is not None]
    return [round((s - starts[0]).total_seconds() / 60, 1) for s in starts]


def native(client: TestClient, campaign_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def native_contacts(client: TestClient, campaign_id: str) -> dict[str, dict[str, Any]]:
    rows = client.get(f"/v1/campaigns/{campaign_id}/contacts").json()["data"]
    return {row["phone"]: client.get(f"/v1/contacts/{row['contact_id']}").json()
            for row in rows}


# --- the request examples --------------------------------------------------------------------

def test_4_recall_string_retries_30_and_120_minutes_after_the_call(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    body = accepted(api.post("/campaign", json=EXAMPLE_4))
    assert body == {"success": True, "message": "Campaign started successfully",
                    "campaign_id": body["campaign_id"], "scheduled": False, "total_contacts": 1}
    campaign = native(client, body["campaign_id"])
    assert campaign["status"] == "running" and campaign["assistant_id"] == playbook
    assert campaign["retry"]["delays_minutes"] == [30, 120]
    assert campaign["retry"]["relative_to"] == "first_attempt"
    run(db, clock, ALWAYS_BUSY)
    calls = calls_by_phone(db, body["campaign_id"])["+34600123456"]
    assert [c.outcome for c in calls] == ["busy"] * 3
    assert offsets(calls) == [0, 30, 120]  # from the first call, not from the previous one
    assert native(client, body["campaign_id"])["status"] == "completed"


def test_5_1_minimal_immediate_campaign_calls_each_phone_once(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    body = accepted(api.post("/campaign", json=EXAMPLE_5_1))
    assert body == {"success": True, "message": "Campaign started successfully",
                    "campaign_id": body["campaign_id"], "scheduled": False, "total_contacts": 2}
    campaign = native(client, body["campaign_id"])
    assert campaign["caller_id"] == {"mode": "pool", "phone_number_ids": [], "dial_plan": []}
    assert campaign["retry"]["auto_retry"] is False  # no recall: no retry
    assert campaign["schedule"]["stagger_seconds"] == 0
    run(db, clock, ALWAYS_BUSY)
    by_phone = calls_by_phone(db, body["campaign_id"])
    assert {p: [c.outcome for c in calls] for p, calls in by_phone.items()} == {
        "+34600123456": ["busy"], "+34600987654": ["busy"]}
    assert {c.from_number for calls in by_phone.values() for c in calls} == {"+34910000000"}
    assert native(client, body["campaign_id"])["status"] == "completed"
    for recall in ("[]", [], None):  # an empty recall is no recall either
        again = accepted(api.post("/campaign", json={**EXAMPLE_5_1, "recall": recall}))
        retry = native(client, again["campaign_id"])["retry"]
        assert (retry["auto_retry"], retry["max_attempts"]) == (False, 1), recall


def test_5_2_contact_data_reaches_the_native_contacts(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    body = accepted(api.post("/campaign", json=EXAMPLE_5_2))
    assert body == {"success": True, "message": "Campaign started successfully",
                    "campaign_id": body["campaign_id"], "scheduled": False, "total_contacts": 2}
    contacts = native_contacts(client, body["campaign_id"])
    juan, maria = contacts["+34600123456"], contacts["+34600987654"]
    assert (juan["first_name"], juan["last_name"], juan["email"], juan["company"]) == (
        "Juan", "García", "juan@example.com", "Acme SL")
    assert (maria["first_name"], maria["email"]) == ("María", "maria@example.com")
    run(db, clock, ALWAYS_ANSWERED)
    by_phone = calls_by_phone(db, body["campaign_id"])
    # Answered calls are not recalled.
    assert {p: [c.outcome for c in calls] for p, calls in by_phone.items()} == {
        "+34600123456": ["answered"], "+34600987654": ["answered"]}
    assert native(client, body["campaign_id"])["status"] == "completed"
    # A campaign's contacts read through GET /call/:id too, by their native member id.
    members = client.get(f"/v1/campaigns/{body['campaign_id']}/contacts").json()["data"]
    for member in members:
        call = api.get(f"/call/{member['id']}").json()
        assert (call["phone"], call["status"], call["outcome"], call["attempts"]) == (
            member["phone"], "ended", "answered", 1)
        assert call["native_call_id"] == by_phone[member["phone"]][0].id


def test_5_3_custom_fields_and_recall_as_an_array(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    body = accepted(api.post("/campaign", json=EXAMPLE_5_3))
    assert body["total_contacts"] == 1 and body["scheduled"] is False
    juan = native_contacts(client, body["campaign_id"])["+34600123456"]
    assert juan["custom_fields"] == {"lead_id": "ext-12345", "producto_interes": "Premium",
                                     "origen": "web"}
    assert native(client, body["campaign_id"])["retry"]["max_attempts"] == 4
    run(db, clock, ALWAYS_BUSY)
    calls = calls_by_phone(db, body["campaign_id"])["+34600123456"]
    assert offsets(calls) == [0, 30, 60, 120]


def test_5_4_scheduled_example_as_written_gets_the_documented_6_2_body(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    body = accepted(api.post("/campaign", json=EXAMPLE_5_4))
    assert body == {"success": True, "message": "Scheduled 2 calls for 01/03/2025 10:00",
                    "campaign_id": body["campaign_id"], "scheduled": True,
                    "launch_at": "2025-03-01T10:00:00.000Z", "total_contacts": 2,
                    "scheduled_calls": 2, "error_calls": 0}
    campaign = native(client, body["campaign_id"])
    assert campaign["schedule"]["start_at"] == "2025-03-01T10:00:00Z"
    assert campaign["schedule"]["stagger_seconds"] == 2
    assert campaign["status"] == "running"  # launch_at has passed: the calls are due now
    run(db, clock, ALWAYS_BUSY)
    by_phone = calls_by_phone(db, body["campaign_id"])
    assert [len(calls) for calls in by_phone.values()] == [3, 3]
    firsts = sorted(calls[0].started_at for calls in by_phone.values()
                    if calls[0].started_at is not None)
    assert firsts[1] - firsts[0] >= timedelta(seconds=2)  # the stagger between contacts
    assert all(offsets(calls) == [0, 30, 120] for calls in by_phone.values())
    assert native(client, body["campaign_id"])["status"] == "completed"


def test_a_future_launch_at_waits_for_it_then_staggers_the_contacts(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    future = {**copy.deepcopy(EXAMPLE_5_4), "launch_at": "2026-03-03T10:00:00"}
    body = accepted(api.post("/campaign", json=future))
    assert body["message"] == "Scheduled 2 calls for 03/03/2026 10:00"
    assert body["launch_at"] == "2026-03-03T10:00:00.000Z"
    assert native(client, body["campaign_id"])["status"] == "scheduled"
    run(db, clock, ALWAYS_BUSY, hours=24)
    by_phone = calls_by_phone(db, body["campaign_id"])
    firsts = sorted(calls[0].started_at for calls in by_phone.values()
                    if calls[0].started_at is not None)
    launch = datetime.fromisoformat("2026-03-03T10:00:00+00:00")
    assert launch <= firsts[0] < launch + timedelta(seconds=2)
    assert firsts[1] - firsts[0] >= timedelta(seconds=2)
    assert native(client, body["campaign_id"])["status"] == "completed"


def test_an_offset_in_launch_at_is_honoured_and_the_compat_defaults_pick_the_number(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    other = make_number(client, "+34910000001")
    assert client.patch("/v1/settings", json={"compat": {"phone_number_ids": [other]}}) \
        .status_code == 200
    body = accepted(api.post("/campaign", json={
        **EXAMPLE_5_1, "launch_at": "2026-03-02T17:30:00+01:00"}))
    assert body["launch_at"] == "2026-03-02T16:30:00.000Z"
    campaign = native(client, body["campaign_id"])
    assert campaign["caller_id"]["phone_number_ids"] == [other]
    run(db, clock, ALWAYS_BUSY)
    calls = [c for cs in calls_by_phone(db, body["campaign_id"]).values() for c in cs]
    assert {c.from_number for c in calls} == {"+34910000001"}
    assert min(c.started_at for c in calls if c.started_at) >= datetime.fromisoformat(
        "2026-03-02T16:30:00+00:00")


# --- POST /call and GET /call/:id -------------------------------------------------------------

def test_a_single_call_is_placed_at_once_and_reads_back_with_its_results(
        api: TestClient, client: TestClient, db: Database, clock: ManualClock,
        playbook: str) -> None:
    started = api.post("/call", json={"playbook_id": PLAYBOOK_ID, "phone": "+34600123456",
                                      "first_name": "Juan", "recall": "[30,120]"})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body == {"success": True, "message": "Call started successfully",
                    "call_id": body["call_id"], "campaign_id": body["campaign_id"]}
    campaign = native(client, body["campaign_id"])
    assert campaign["status"] == "running" and campaign["counts"]["contacts_total"] == 1
    waiting = api.get(f"/call/{body['call_id']}").json()
    assert (waiting["status"], waiting["outcome"], waiting["attempts"]) == ("scheduled", None, 0)
    assert waiting["recall"] == [30, 120] and waiting["playbook_id"] == PLAYBOOK_ID
    assert waiting["native_call_id"] is None and waiting["first_name"] == "Juan"

    run(db, clock, ALWAYS_ANSWERED)
    runner = AnalysisRunner(db, clock, worker_id="r1")
    while runner.run_due(20):
        pass
    done = api.get(f"/call/{body['call_id']}")
    assert done.status_code == 200, done.text
    call = done.json()
    assert (call["status"], call["outcome"], call["attempts"]) == ("ended", "answered", 1)
    assert call["phone"] == "+34600123456" and call["campaign_id"] == body["campaign_id"]
    assert call["transcript"] and {t["role"] for t in call["transcript"]} == {"assistant",
                                                                              "user"}
    assert call["analysis_status"] == "done" and call["analysis"]["analyzer"] == "offline-v1"
    assert call["duration_seconds"] > 0 and call["ended_at"] is not None
    # The native call is the same call, and reads in the page's shape by its own id too.
    native_call = client.get(f"/v1/calls/{call['native_call_id']}").json()
    assert native_call["outcome"] == "answered" and native_call["campaign_id"] == \
        body["campaign_id"]
    by_native_id = api.get(f"/call/{call['native_call_id']}").json()
    assert by_native_id["id"] == call["native_call_id"]
    assert (by_native_id["status"], by_native_id["outcome"], by_native_id["transcript"]) == (
        "ended", "answered", call["transcript"])
    assert native(client, body["campaign_id"])["status"] == "completed"


def test_a_single_call_follows_its_recall_and_unknown_ids_are_404(
        api: TestClient, app: Any, db: Database, clock: ManualClock,
        other_client: TestClient, playbook: str) -> None:
    body = api.post("/call", json={"playbook_id": PLAYBOOK_ID, "phone": "+34600123456",
                                   "recall": [30]}).json()
    run(db, clock, ALWAYS_BUSY, hours=0.25)
    between = api.get(f"/call/{body['call_id']}").json()
    assert (between["status"], between["outcome"], between["attempts"]) == (
        "scheduled", "busy", 1)
    first = datetime.fromisoformat(between["started_at"])
    assert datetime.fromisoformat(between["next_attempt_at"]) == first + timedelta(minutes=30)
    run(db, clock, ALWAYS_BUSY)
    after = api.get(f"/call/{body['call_id']}").json()
    assert (after["status"], after["outcome"], after["attempts"]) == ("ended", "busy", 2)

    for path in ("/call/7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", "/call/not-a-uuid"):
        response = api.get(path)
        assert (response.status_code, response.json()) == (404, {"error": "Call not found"})
    secret = other_client.headers["X-API-Key"]  # another workspace: no id oracle
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as other:
        response = other.get(f"/compat/playbook/call/{body['call_id']}")
    assert (response.status_code, response.json()) == (404, {"error": "Call not found"})


# --- documented errors, as exact bodies ------------------------------------------------------

def test_401_without_or_with_a_wrong_token(anon_client: TestClient,
                                           workspace: tuple[str, str], playbook: str) -> None:
    for headers in ({}, {"Authorization": "Bearer rw_live_nope"},
                    {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        for method, path, json in (("POST", "/campaign", EXAMPLE_5_1),
                                   ("POST", "/call", {"playbook_id": PLAYBOOK_ID,
                                                      "phone": "+34600123456"}),
                                   ("GET", "/call/7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", None)):
            response = anon_client.request(method, f"/compat/playbook{path}", json=json,
                                           headers=headers)
            assert (response.status_code, response.json()) == (401, UNAUTHENTICATED), headers
    # Invalid data is not even looked at without a valid token.
    response = anon_client.post("/compat/playbook/campaign", json={})
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    # Header names and the scheme are case-insensitive.
    response = anon_client.post("/compat/playbook/campaign", json=EXAMPLE_5_1,
                                headers={"authorization": f"bearer {workspace[1]}"})
    assert response.status_code == 202, response.text


def test_403_for_a_playbook_that_is_not_yours(
        api: TestClient, client: TestClient, other_client: TestClient, playbook: str) -> None:
    foreign = make_assistant(other_client, name="Theirs")
    for playbook_id in (foreign, "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", "pb-123"):
        for path, body in (("/campaign", {**EXAMPLE_5_1, "playbook_id": playbook_id}),
                           ("/call", {"playbook_id": playbook_id, "phone": "+34600123456"})):
            response = api.post(path, json=body)
            assert (response.status_code, response.json()) == (403, NOT_YOURS)
    assert client.get("/v1/campaigns").json()["data"] == []
    assert client.get("/v1/contacts").json()["data"] == []  # nothing written


INVALID_CAMPAIGNS: list[tuple[dict[str, Any], str]] = [  # (change to example 5.2, error)
    ({"playbook_id": None}, "playbook_id is required"),
    ({"playbook_id": ""}, "playbook_id is required"),
    ({"playbook_id": "  "}, "playbook_id is required"),
    ({"contacts": []}, "contacts must be a non-empty array"),
    ({"contacts": None}, "contacts must be a non-empty array"),
    ({"contacts": {"phone": "+34600123456"}}, "contacts must be a non-empty array"),
    ({"contacts": [{"phone": "+34600123456"}, {"first_name": "María"}]},
     PHONE_ERROR["error"]),
    ({"contacts": [{"phone": ""}]}, PHONE_ERROR["error"]),
    ({"contacts": [{"phone": "   "}]}, PHONE_ERROR["error"]),
    ({"contacts": [{"phone": None}]}, PHONE_ERROR["error"]),
    ({"contacts": ["+34600123456"]}, PHONE_ERROR["error"]),
    ({"contacts": [{"phone": "+34600123456"}, {"phone": "not a phone"}]},
     "Each contact must have a valid phone field: contacts[1].phone: 'not a phone' is not a "
     "phone number (not a number)"),
    ({"recall": "[30,abc]"}, "recall: '[30,abc]' is not a list of minutes; write it like "
                            '"[30,120]"'),
    ({"recall": "[120,30]"}, "recall: delay #2 (30) must be greater than delay #1 (120) when "
                             "delays are measured from the first attempt"),
    ({"recall": 30}, 'recall must be a list of minutes, like "[30,120]" or [30, 120]'),
    ({"recall": [0]}, "recall: delay #1 is 0 minutes; each delay must be between 1 and 43200 "
                     "minutes (30 days)"),
    ({"launch_at": "tomorrow"}, "launch_at: 'tomorrow' is not an ISO date and time like "
                                "'2025-03-01T10:00:00'"),
    ({"contacts": [{"phone": "+34600123456", "email": "juan"}]},
     "contacts[0].email: 'juan' is not an e-mail address"),
    ({"contacts": [{"phone": "+34600123456", "timezone": "Mars/Base"}]},
     "contacts[0].timezone: 'Mars/Base' is not an IANA time zone (like 'America/New_York')"),
    ({"name": "Spring"}, "name: is not a field of this API"),
]


INVALID_CALLS: list[tuple[dict[str, Any], str]] = [
    ({"phone": "+34600123456"}, "playbook_id is required"),
    ({"playbook_id": PLAYBOOK_ID}, PHONE_ERROR["error"]),
    ({"playbook_id": PLAYBOOK_ID, "phone": ""}, PHONE_ERROR["error"]),
    ({"playbook_id": PLAYBOOK_ID, "phone": "+34600123456", "recall": "[x]"},
     'recall: \'[x]\' is not a list of minutes; write it like "[30,120]"'),
]


def test_400_invalid_data(api: TestClient, client: TestClient, playbook: str) -> None:
    for change, error in INVALID_CAMPAIGNS:
        response = api.post("/campaign", json={**EXAMPLE_5_2, **change})
        assert (response.status_code, response.json()) == (400, {"error": error}), change
    whole: list[tuple[Any, str]] = [
        ({"contacts": EXAMPLE_5_1["contacts"]}, "playbook_id is required"),
        ({"playbook_id": PLAYBOOK_ID}, "contacts must be a non-empty array"),
        ([EXAMPLE_5_1], "the request body must be a JSON object"),
    ]
    for body, error in whole:
        response = api.post("/campaign", json=body)
        assert (response.status_code, response.json()) == (400, {"error": error}), body
    response = api.post("/campaign", content=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (
        400, {"error": "the request body is not valid JSON"})
    response = api.post("/campaign")
    assert response.status_code == 400 and set(response.json()) == {"error"}
    for body, error in INVALID_CALLS:
        response = api.post("/call", json=body)
        assert (response.status_code, response.json()) == (400, {"error": error}), body
    assert client.get("/v1/campaigns").json()["data"] == []
    assert client.get("/v1/contacts").json()["data"] == []  # the valid contacts neither


def test_a_workspace_without_numbers_or_with_campaigns_disabled_is_a_409(
        api: TestClient, client: TestClient) -> None:
    native_id = make_assistant(client)
    response = api.post("/campaign", json={**EXAMPLE_5_1, "playbook_id": native_id})
    assert response.status_code == 409 and set(response.json()) == {"error"}
    assert "phone number" in response.json()["error"]
    make_number(client, "+34910000000")
    assert client.patch("/v1/settings", json={"campaigns_enabled": False}).status_code == 200
    response = api.post("/call", json={"playbook_id": native_id, "phone": "+34600123456"})
    assert response.status_code == 409 and "disabled" in response.json()["error"]
    assert client.get("/v1/campaigns").json()["data"] == []


