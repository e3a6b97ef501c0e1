"""/compat/kejue: the Kejue page's request, sent as written, creates a native campaign that
runs on the simulated carrier as its fields ask; every documented rule breaks with FastAPI's
422 ``{"detail": [...]}``; other errors are ``{"detail": "..."}``."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Campaign
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import make_assistant, make_contacts, make_number

URL = "/compat/kejue/api/v1/campaigns"
NY, LA = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
# Flat by hour: call ids are random and the default multiplier answers less early on.
ALWAYS_BUSY = CarrierModel(answer_rate=0.0, busy_rate=1.0, voicemail_rate=0.0, failure_rate=0.0,
                           invalid_rate=0.0, answer_hour_multiplier=(1.0,) * 24)
ALWAYS_ANSWERED = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                               failure_rate=0.0, invalid_rate=0.0,
                               answer_hour_multiplier=(1.0,) * 24)

# The page's request example, as written ("<string>" placeholders are filled per test).
PAGE_EXAMPLE: dict[str, Any] = {
    "name": "<string>",
    "description": "<string>",
    "persona_id": "<string>",
    "voice_config_id": "<string>",
    "call_settings": {
        "allowed_days": [0, 1, 2, 3, 4],
        "auto_retry": True,
        "call_end_hour": 17,
        "call_start_hour": 9,
        "phone_assignment_mode": "local",
        "retry_schedule": [60, 240],
        "scoring_criteria": "Score 0-100 based on buying intent",
        "structured_data_schema": [
            {"description": "Stated budget range", "key": "budget"},
            {"description": "Decision timeline", "key": "timeline"},
        ],
        "tags": [
            {"description": "Contact expressed buying interest", "name": "Interested"},
            {"description": "Contact requested a follow-up call", "name": "Follow-up"},
        ],
    },
    "metadata": {},
    "contact_ids": ["<string>"],
    "priority": 50,
    "scheduled_start_at": "<string>",
    "auto_start": False,
}
RESPONSE_KEYS = {"id", "name", "status", "created_at", "persona_id", "contacts_added",
                 "scheduled_start_at"}


def example(assistant: str, contact_ids: list[str], **changes: Any) -> dict[str, Any]:
    """The page's example with its placeholders filled (a real Kejue client sends real ids)."""
    body = copy.deepcopy(PAGE_EXAMPLE)
    body.update(name="Q2 outreach", description="Pipeline for Q2", persona_id=assistant,
                voice_config_id=assistant, contact_ids=contact_ids,
                scheduled_start_at="2026-03-09T09:00")
    body.update(changes)
    return body


def post(client: TestClient, body: Any, **kwargs: Any) -> dict[str, Any]:
    response = client.post(URL, json=body, **kwargs)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    assert set(created) == RESPONSE_KEYS
    return created


def run(db: Database, clock: ManualClock, model: CarrierModel, campaign_ids: list[str],
        days: int = 14) -> None:
    carrier = SimulatedCarrier(model, seed=7)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")

    def done() -> bool:
        with db.reading() as session:
            statuses = session.scalars(select(Campaign.status)
                                       .where(Campaign.id.in_(campaign_ids))).all()
        return all(s == "completed" for s in statuses)

    drive(dialer, clock, carrier, until=clock.now() + timedelta(days=days), done=done)


def calls_by_phone(db: Database, campaign_id: str) -> dict[str, list[Call]]:
    with db.reading() as session:
        calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)
                                .order_by(Call.started_at)).all()
    grouped: dict[str, list[Call]] = {}
    for call in calls:
        grouped.setdefault(call.to_number, []).append(call)
    return grouped


def detail(response: Any, status: int = 422) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"}
    assert isinstance(body["detail"], list) and body["detail"]
    for item in body["detail"]:
        assert {"type", "loc", "msg"} <= set(item)
    found: list[dict[str, Any]] = body["detail"]
    return found


def locs(response: Any) -> list[list[Any]]:
    return [item["loc"] for item in detail(response)]


# --- the page's example ---------------------------------------------------------------------


def test_the_page_example_creates_a_native_draft(client: TestClient) -> None:
    assistant = make_assistant(client, persona="Friendly SDR")
    contacts = make_contacts(client, ["+14155550100", "+12125550100"])
    created = post(client, example(assistant, contacts))
    assert created["name"] == "Q2 outreach"
    assert created["status"] == "draft"
    assert created["created_at"] == "2026-03-02T15:00:00Z"
    assert created["persona_id"] == assistant
    assert created["contacts_added"] == 2
    assert created["scheduled_start_at"] == "2026-03-09T09:00"

    # The same campaign in the native API, every field where the mapping puts it.
    native = client.get(f"/v1/campaigns/{created['id']}").json()
    assert native["description"] == "Pipeline for Q2"
    assert native["assistant_id"] == assistant
    assert native["schedule"]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert native["schedule"]["call_hours"] == {"start_time": "09:00", "end_time": "17:00"}
    assert native["schedule"]["local_start_at"] == "2026-03-09T09:00"
    assert native["retry"]["auto_retry"] is True
    assert native["retry"]["delays_minutes"] == [60, 240]
    assert native["retry"]["max_attempts"] == 3
    assert native["caller_id"] == {"mode": "local_presence", "phone_number_ids": [],
                                   "dial_plan": []}
    assert native["analysis"]["scoring_criteria"] == "Score 0-100 based on buying intent"
    assert native["analysis"]["structured_data_schema"] == [
        {"key": "budget", "description": "Stated budget range", "type": "string"},
        {"key": "timeline", "description": "Decision timeline", "type": "string"}]
    assert [t["name"] for t in native["analysis"]["tags"]] == ["Interested", "Follow-up"]
    assert native["metadata"] == {}
    assert native["priority"] == 50
    assert native["auto_start"] is False
    assert native["counts"]["contacts_total"] == 2


def test_the_example_as_written_names_its_placeholder_start(client: TestClient) -> None:
    # Sent verbatim, "<string>" is not a datetime: the documented 422 names the field.
    response = client.post(URL, json=PAGE_EXAMPLE)
    assert locs(response) == [["body", "scheduled_start_at"]]
    assert client.get("/v1/campaigns").json()["data"] == []


def test_the_example_runs_to_completion_in_its_windows_with_its_retries(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    """Friday 16:00 in each contact's zone, Mon-Fri 9-17, retries after 60 then 240 minutes,
    each call from the number local to the callee."""
    ny_number, la_number = "+12125550199", "+14155550123"
    make_number(client, ny_number)
    make_number(client, la_number)
    assistant = make_assistant(client)
    contacts = make_contacts(client, ["+12125550100", "+14155550100"])
    created = post(client, example(assistant, contacts, auto_start=True,
                                   scheduled_start_at="2026-03-06T16:00"))
    assert created["status"] == "scheduled"  # Friday 16:00 is in the future everywhere

    run(db, clock, ALWAYS_BUSY, [created["id"]])
    assert client.get(f"/v1/campaigns/{created['id']}").json()["status"] == "completed"
    calls = calls_by_phone(db, created["id"])
    for phone, zone, local_number in (("+12125550100", NY, ny_number),
                                      ("+14155550100", LA, la_number)):
        attempts = calls[phone]
        assert len(attempts) == 3  # retry_schedule [60, 240]: three attempts in all
        assert {c.from_number for c in attempts} == {local_number}  # phone_assignment "local"
        starts = [c.started_at.astimezone(zone) for c in attempts if c.started_at]
        # 16:00 Friday; the 60-minute retry falls at 17:00, outside call_end_hour, and
        # Saturday / Sunday are not allowed days: Monday 09:00; then 240 minutes later.
        assert [(s.strftime("%a"), s.hour, s.minute) for s in starts] == [
            ("Fri", 16, 0), ("Mon", 9, 0), ("Mon", 13, 0)]
        for before, after, wait in zip(attempts, attempts[1:], (60, 240), strict=False):
            assert before.ended_at is not None and after.started_at is not None
            assert after.started_at - before.ended_at >= timedelta(minutes=wait)


def test_auto_start_without_a_start_time_calls_at_once_and_auto_retry_false_calls_once(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    number = make_number(client, "+13125550123")
    make_number(client, "+12125550199")
    assistant = make_assistant(client)
    # The workspace's compat default numbers are the caller numbers (Kejue names none).
    patched = client.patch("/v1/settings", json={"compat": {"phone_number_ids": [number]}})
    assert patched.status_code == 200, patched.text
    contacts = make_contacts(client, ["+12125550100", "+14155550100"])
    body = {"name": "Now", "voice_config_id": assistant, "contact_ids": contacts,
            "auto_start": True, "call_settings": {"auto_retry": False,
                                                  "retry_schedule": [60, 240]}}
    created = post(client, body)
    assert created["status"] == "running"
    assert created["persona_id"] == assistant  # the voice agent implies its persona
    assert created["scheduled_start_at"] is None
    native = client.get(f"/v1/campaigns/{created['id']}").json()
    assert native["caller_id"]["mode"] == "pool"
    assert native["caller_id"]["phone_number_ids"] == [number]
    assert native["retry"]["max_attempts"] == 1

    began = clock.now()
    run(db, clock, ALWAYS_BUSY, [created["id"]])
    assert client.get(f"/v1/campaigns/{created['id']}").json()["status"] == "completed"
    calls = calls_by_phone(db, created["id"])
    assert sorted(calls) == ["+12125550100", "+14155550100"]
    assert all(len(attempts) == 1 for attempts in calls.values())
    assert {c.from_number for a in calls.values() for c in a} == {"+13125550123"}
    first = min(c.started_at for a in calls.values() for c in a if c.started_at)
    assert first - began < timedelta(minutes=1)  # no start time, no windows: at once


def test_priority_orders_the_queue_when_capacity_is_short(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    assistant = make_assistant(client)
    make_number(client)
    assert client.patch("/v1/settings", json={"concurrency_limit": 1,
                                              "concurrency_rate": 100}).status_code == 200
    low = post(client, {"name": "Low", "persona_id": assistant, "priority": 10,
                        "auto_start": True,
                        "contact_ids": make_contacts(client, ["+12125550100"])})
    high = post(client, {"name": "High", "persona_id": assistant, "priority": 90,
                         "auto_start": True,
                         "contact_ids": make_contacts(client, ["+12125550101"])})
    run(db, clock, ALWAYS_ANSWERED, [low["id"], high["id"]], days=1)
    with db.reading() as session:
        order = session.scalars(select(Call.campaign_id).order_by(Call.started_at)).all()
    assert order == [high["id"], low["id"]]


def test_duplicates_are_counted_once_and_defaults_apply(client: TestClient) -> None:
    contacts = make_contacts(client, ["+12125550100", "+12125550101"])
    created = post(client, {"name": "Minimal", "contact_ids": contacts + contacts[:1]})
    assert created["contacts_added"] == 2
    assert created["persona_id"] is None  # no persona and no compat default: a draft
    native = client.get(f"/v1/campaigns/{created['id']}").json()
    assert native["priority"] == 50 and native["auto_start"] is False
    assert native["caller_id"]["mode"] == "pool"
    assert native["schedule"]["days"] is None and native["schedule"]["call_hours"] is None
    assert native["analysis"] is None


def test_the_compat_default_assistant_fills_a_missing_persona(client: TestClient) -> None:
    assistant = make_assistant(client)
    assert client.patch("/v1/settings", json={"compat": {"assistant_id": assistant}}) \
        .status_code == 200
    assert post(client, {"name": "Defaulted"})["persona_id"] == assistant
    other = make_assistant(client, name="Other")
    assert post(client, {"name": "Named", "persona_id": other})["persona_id"] == other


def test_one_sided_hours_and_lowercase_header(client: TestClient,
                                              workspace: tuple[str, str],
                                              anon_client: TestClient) -> None:
    created = post(anon_client, {"name": "Late", "call_settings": {"call_start_hour": 20}},
                   headers={"x-api-key": workspace[1]})
    native = client.get(f"/v1/campaigns/{created['id']}").json()
    assert native["schedule"]["call_hours"] == {"start_time": "20:00", "end_time": "24:00"}


# --- validation rules -----------------------------------------------------------------------

TOO_MANY = [f"id-{i}" for i in range(10_001)]


RULES: list[tuple[dict[str, Any], list[Any]]] = [
    ({}, ["body", "name"]),
    ({"name": ""}, ["body", "name"]),
    ({"name": "x" * 256}, ["body", "name"]),
    ({"name": "x", "priority": 0}, ["body", "priority"]),
    ({"name": "x", "priority": 101}, ["body", "priority"]),
    ({"name": "x", "priority": "high"}, ["body", "priority"]),
    ({"name": "x", "contact_ids": TOO_MANY}, ["body", "contact_ids"]),
    ({"name": "x", "contact_ids": "abc"}, ["body", "contact_ids"]),
    ({"name": "x", "scheduled_start_at": "next monday"}, ["body", "scheduled_start_at"]),
    ({"name": "x", "scheduled_start_at": "2026-03-09T09:00:00Z"},
     ["body", "scheduled_start_at"]),
    ({"name": "x", "scheduled_start_at": "0001-01-01T00:00"}, ["body", "scheduled_start_at"]),
    ({"name": "x", "auto_start": "soon"}, ["body", "auto_start"]),
    ({"name": "x", "metadata": [1]}, ["body", "metadata"]),
    ({"name": "x", "metadata": {"blob": "x" * 20_000}}, ["body", "metadata"]),
    ({"name": "x", "metadata": {"a": "\u0000"}}, ["body", "metadata", "a"]),
    ({"name": "x", "persona_id": "a", "voice_config_id": "b"}, ["body", "voice_config_id"]),
    ({"name": "x", "call_settings": {"allowed_days": [7]}},
     ["body", "call_settings", "allowed_days", 0]),
    ({"name": "x", "call_settings": {"allowed_days": [0, -1]}},
     ["body", "call_settings", "allowed_days", 1]),
    ({"name": "x", "call_settings": {"allowed_days": []}},
     ["body", "call_settings", "allowed_days"]),
    ({"name": "x", "call_settings": {"call_start_hour": 24}},
     ["body", "call_settings", "call_start_hour"]),
    ({"name": "x", "call_settings": {"call_end_hour": 25}},
     ["body", "call_settings", "call_end_hour"]),
    ({"name": "x", "call_settings": {"call_start_hour": 17, "call_end_hour": 9}},
     ["body", "call_settings", "call_end_hour"]),
    ({"name": "x", "call_settings": {"retry_schedule": [60, 0]}},
     ["body", "call_settings", "retry_schedule", 1]),
    ({"name": "x", "call_settings": {"retry_schedule": [43_201]}},
     ["body", "call_settings", "retry_schedule", 0]),
    ({"name": "x", "call_settings": {"retry_schedule": [60] * 20}},
     ["body", "call_settings", "retry_schedule"]),
    ({"name": "x", "call_settings": {"auto_retry": "sometimes"}},
     ["body", "call_settings", "auto_retry"]),
    ({"name": "x", "call_settings": {"phone_assignment_mode": "nearest"}},
     ["body", "call_settings", "phone_assignment_mode"]),
    ({"name": "x", "call_settings": {"structured_data_schema": [{"key": "2 words"}]}},
     ["body", "call_settings", "structured_data_schema", 0, "key"]),
    ({"name": "x", "call_settings": {"structured_data_schema": [{"description": "no key"}]}},
     ["body", "call_settings", "structured_data_schema", 0, "key"]),
    ({"name": "x", "call_settings": {"structured_data_schema": [{"key": "a"}, {"key": "a"}]}},
     ["body", "call_settings", "structured_data_schema"]),
    ({"name": "x", "call_settings": {"tags": [{"name": "Hot"}, {"name": "hot"}]}},
     ["body", "call_settings", "tags"]),
    ({"name": "x", "call_settings": {"tags": [{"description": "no name"}]}},
     ["body", "call_settings", "tags", 0, "name"]),
    ({"name": "x", "call_settings": {"scoring_criteria": "x" * 10_001}},
     ["body", "call_settings", "scoring_criteria"]),
    ({"name": "x", "call_settings": "weekdays"}, ["body", "call_settings"]),
]


def test_each_rule_is_a_fastapi_422_naming_the_field(client: TestClient) -> None:
    # One database for every rule (a fresh one per rule costs more than the requests).
    for body, loc in RULES:
        assert locs(client.post(URL, json=body))[0] == loc, (body, loc)
    assert client.get("/v1/campaigns").json()["data"] == []


def test_a_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    response = client.post(URL, content=b"{name:", headers={"Content-Type": "application/json"})
    assert detail(response)[0]["type"] == "json_invalid"


def test_unknown_fields_are_ignored_like_fastapi_does(client: TestClient) -> None:
    assert post(client, {"name": "x", "team": "sales", "call_settings": {"mood": "sunny"}})


# --- references, auth and no partial writes -------------------------------------------------


def test_an_unknown_contact_is_a_404_and_nothing_is_written(client: TestClient) -> None:
    contacts = make_contacts(client, ["+12125550100"])
    response = client.post(URL, json={"name": "x", "contact_ids": [*contacts, "missing"]})
    assert response.status_code == 404
    assert response.json() == {"detail": "contact_ids[1]: contact 'missing' not found"}
    assert client.get("/v1/campaigns").json()["data"] == []


def test_another_workspaces_assistant_or_contact_is_not_found(
        client: TestClient, other_client: TestClient) -> None:
    foreign = make_assistant(other_client)
    for field in ("persona_id", "voice_config_id"):
        response = client.post(URL, json={"name": "x", field: foreign})
        assert response.status_code == 404
        assert response.json() == {"detail": f"{field}: assistant '{foreign}' not found"}
    foreign_contact = make_contacts(other_client, ["+12125550100"])
    response = client.post(URL, json={"name": "x", "contact_ids": foreign_contact})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("contact_ids[0]: ")
    assert client.get("/v1/campaigns").json()["data"] == []


def test_auto_start_without_what_a_start_needs_is_a_409(client: TestClient) -> None:
    assistant = make_assistant(client)
    no_persona = client.post(URL, json={"name": "x", "auto_start": True,
                                        "contact_ids": make_contacts(client, ["+12125550100"])})
    assert no_persona.status_code == 409
    assert "persona_id" in no_persona.json()["detail"]
    no_contacts = client.post(URL, json={"name": "x", "auto_start": True,
                                         "persona_id": assistant})
    assert no_contacts.status_code == 409
    assert "contact_ids" in no_contacts.json()["detail"]
    no_number = client.post(URL, json={"name": "x", "auto_start": True,
                                       "persona_id": assistant,
                                       "contact_ids": make_contacts(client, ["+12125550101"])})
    assert no_number.status_code == 409
    assert "phone number" in no_number.json()["detail"]
    assert client.get("/v1/campaigns").json()["data"] == []  # the create was rolled back too


def test_unusable_compat_default_numbers_are_a_409_about_the_workspace(
        client: TestClient) -> None:
    twilio = make_number(client, "+12125550199", "twilio")
    simulated = make_number(client, "+13125550199")
    assert client.patch("/v1/settings", json={"compat": {"phone_number_ids": [
        twilio, simulated]}}).status_code == 200
    response = client.post(URL, json={"name": "x"})
    assert response.status_code == 409
    assert "compat defaults" in response.json()["detail"]


def test_a_missing_or_wrong_key_is_a_401(anon_client: TestClient, client: TestClient) -> None:
    for headers in ({}, {"X-API-Key": "kej_live_abc"}, {"X-API-Key": "rw_live_" + "0" * 40}):
        response = anon_client.post(URL, json={"name": "x"}, headers=headers)
        assert response.status_code == 401, headers
        assert set(response.json()) == {"detail"}
        assert response.headers["WWW-Authenticate"] == "APIKey"
        if not headers:
            assert response.json() == {"detail": "Not authenticated"}  # FastAPI's words
    assert client.get("/v1/campaigns").json()["data"] == []


def test_the_openapi_document_shows_the_route(anon_client: TestClient) -> None:
    spec = anon_client.get("/openapi.json").json()
    operation = spec["paths"][URL]["post"]
    assert operation["security"]
    assert {"200", "401", "404", "409", "422"} <= set(operation["responses"])
