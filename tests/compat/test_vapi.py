"""/compat/vapi: Vapi's campaign API on native campaigns (docs/compat.md).

The page (shared/seeds/004) has no literal examples; its request shapes are the combinations it
describes (assistantId / workflowId / squadId, phoneNumberId + customers or dialPlan,
schedulePlan), each sent here with Vapi's Bearer header and run on the simulated carrier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.telephony.callee import CalleeModel
from ringwise.telephony.simulated import CarrierModel, Duration, SimulatedCarrier
from tests.api.test_campaigns import make_assistant, make_number

BASE = "/compat/vapi/campaign"
NY = ["+12125550100", "+12125550101", "+12125550102"]  # 10:00 local at the clock's start
FLAT = (1.0,) * 24  # no hour-of-day effect: outcomes depend on the model only


def _model(fate: str, **extra: Any) -> CarrierModel:
    rates = {"answer_rate": 0.0, "busy_rate": 0.0, "voicemail_rate": 0.0,
             "failure_rate": 0.0, "invalid_rate": 0.0}
    rates[f"{fate}_rate"] = 1.0
    return CarrierModel(**rates, answer_hour_multiplier=FLAT, **extra)  # type: ignore[arg-type]


ANSWERED = _model("answer")
BUSY = _model("busy")
VOICEMAIL = _model("voicemail", amd_unknown_rate=0.0)  # every machine detected

CAMPAIGN_KEYS = {
    "status", "endedReason", "name", "assistantId", "workflowId", "squadId", "phoneNumberId",
    "dialPlan", "schedulePlan", "customers", "id", "orgId", "createdAt", "updatedAt", "calls",
    "callsCounterScheduled", "callsCounterQueued", "callsCounterInProgress",
    "callsCounterEndedVoicemail", "callsCounterEnded",
}


@pytest.fixture
def api(anon_client: TestClient, workspace: tuple[str, str]) -> TestClient:
    """Vapi's authentication: the key as a Bearer token (the native helpers accept it too)."""
    anon_client.headers["Authorization"] = f"Bearer {workspace[1]}"
    return anon_client


def created(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(BASE, json=body)
    assert response.status_code == 201, response.text
    campaign: dict[str, Any] = response.json()
    assert set(campaign) == CAMPAIGN_KEYS
    return campaign


def rejected(response: Any, status: int = 400) -> list[str]:
    """The messages of a Vapi error body with ``status``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "error", "statusCode"}
    assert body["statusCode"] == status
    messages = body["message"]
    return messages if isinstance(messages, list) else [messages]


def customers(*phones: str) -> list[dict[str, Any]]:
    return [{"number": p, "name": f"Customer {i}"} for i, p in enumerate(phones)]


def run(db: Database, clock: ManualClock, model: CarrierModel, hours: float = 8,
        done: Callable[[], bool] | None = None) -> None:
    carrier = SimulatedCarrier(model, seed=7)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="vapi-test")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=hours), done=done)


def calls_of(db: Database, campaign_id: str) -> list[Call]:
    with db.reading() as session:
        return list(session.scalars(select(Call).where(Call.campaign_id == campaign_id)
                                    .order_by(Call.created_at)))


def native_count(api: TestClient) -> int:
    return len(api.get("/v1/campaigns").json()["data"])


# --- the page's request shapes, run to completion ---------------------------------------------


def test_assistant_phone_number_customers_and_schedule_plan(
        api: TestClient, db: Database, clock: ManualClock, workspace: tuple[str, str]) -> None:
    assistant = make_assistant(api, name="Riley")
    number = make_number(api, "+12125550123")
    body = {"name": "Q2 renewals", "assistantId": assistant, "phoneNumberId": number,
            "schedulePlan": {"earliestAt": "2026-03-02T16:00:00.000Z",
                             "latestAt": "2026-03-02T20:00:00.000Z"},
            "customers": [{"number": NY[0], "name": "Ann Lee", "email": "ann@example.com",
                           "externalId": "crm-1"},
                          {"number": NY[1], "name": "Bo"}]}
    campaign = created(api, body)
    assert campaign["status"] == "scheduled"  # earliestAt is an hour away
    assert campaign["endedReason"] is None
    assert (campaign["assistantId"], campaign["workflowId"], campaign["squadId"]) == (
        assistant, None, None)
    assert campaign["phoneNumberId"] == number and campaign["dialPlan"] is None
    assert campaign["schedulePlan"] == body["schedulePlan"]
    assert campaign["customers"] == [
        {"number": NY[0], "name": "Ann Lee", "email": "ann@example.com", "externalId": "crm-1"},
        {"number": NY[1], "name": "Bo", "email": None, "externalId": None}]
    assert campaign["orgId"] == workspace[0]
    assert campaign["createdAt"] == campaign["updatedAt"] == "2026-03-02T15:00:00.000Z"
    assert campaign["calls"] == {}
    assert [campaign[f"callsCounter{n}"] for n in
            ("Scheduled", "Queued", "InProgress", "EndedVoicemail", "Ended")] == [2, 0, 0, 0, 0]

    # The native objects behind it.
    native = api.get(f"/v1/campaigns/{campaign['id']}").json()
    assert native["status"] == "scheduled" and native["assistant_id"] == assistant
    assert native["caller_id"]["phone_number_ids"] == [number]
    assert native["schedule"]["start_at"] == "2026-03-02T16:00:00Z"
    assert native["schedule"]["end_at"] == "2026-03-02T20:00:00Z"
    assert native["schedule"]["retry_window_minutes"] == 60
    assert native["retry"]["auto_retry"] is False
    contacts = api.get(f"/v1/campaigns/{campaign['id']}/contacts").json()["data"]
    assert {(c["first_name"], c["last_name"]) for c in contacts} == {("Ann", "Lee"),
                                                                     ("Bo", None)}

    run(db, clock, ANSWERED)
    calls = calls_of(db, campaign["id"])
    assert sorted(c.to_number for c in calls) == NY[:2]
    assert min(c.created_at for c in calls) >= datetime(2026, 3, 2, 16, tzinfo=UTC)
    assert {c.phone_number_id for c in calls} == {number}
    done = api.get(f"{BASE}/{campaign['id']}").json()
    assert (done["status"], done["endedReason"]) == ("ended", "campaign.ended.success")
    assert [done[f"callsCounter{n}"] for n in
            ("Scheduled", "Queued", "InProgress", "EndedVoicemail", "Ended")] == [0, 0, 0, 0, 2]
    assert set(done["calls"]) == {c.id for c in calls}
    for call in done["calls"].values():
        assert call["status"] == "ended" and call["endedReason"] is not None
        assert call["customer"]["number"] in NY and call["phoneNumberId"] == number
    assert api.get(f"/v1/campaigns/{campaign['id']}").json()["status"] == "completed"


def test_workflow_and_squad_start_at_once(api: TestClient, db: Database,
                                          clock: ManualClock) -> None:
    number = make_number(api, "+12125550123")
    agents = {}
    for index, (kind, key) in enumerate((("workflow", "workflowId"), ("squad", "squadId"))):
        agent = make_assistant(api, name="Intake", kind=kind)
        campaign = created(api, {"name": kind, key: agent, "phoneNumberId": number,
                                 "customers": customers(NY[index])})
        assert campaign["status"] == "in-progress"  # no schedulePlan: it launches now
        assert campaign[key] == agent
        assert [campaign[k] for k in ("assistantId", "workflowId", "squadId")].count(None) == 2
        assert campaign["schedulePlan"] is None
        assert api.get(f"/v1/campaigns/{campaign['id']}").json()["assistant_id"] == agent
        agents[campaign["id"]] = agent
    run(db, clock, ANSWERED)
    for campaign_id, agent in agents.items():
        assert [c.assistant_id for c in calls_of(db, campaign_id)] == [agent]
        assert api.get(f"{BASE}/{campaign_id}").json()["status"] == "ended"


def test_dial_plan_calls_each_customer_from_its_number(
        api: TestClient, db: Database, clock: ManualClock) -> None:
    assistant = make_assistant(api)
    first = make_number(api, "+12125550123")
    second = make_number(api, "+12125550124")
    plan = [{"phoneNumberId": first, "customers": customers(NY[0])},
            {"phoneNumberId": second, "customers": customers(NY[1], NY[2])}]
    campaign = created(api, {"name": "Split", "assistantId": assistant, "dialPlan": plan})
    assert campaign["phoneNumberId"] is None and campaign["customers"] is None
    assert [(e["phoneNumberId"], [c["number"] for c in e["customers"]])
            for e in campaign["dialPlan"]] == [(first, NY[:1]), (second, NY[1:])]
    run(db, clock, ANSWERED)
    by_number = {c.to_number: c.phone_number_id for c in calls_of(db, campaign["id"])}
    assert by_number == {NY[0]: first, NY[1]: second, NY[2]: second}
    done = api.get(f"{BASE}/{campaign['id']}").json()
    assert done["callsCounterEnded"] == 3 and done["status"] == "ended"


def test_each_customer_is_called_once(api: TestClient, db: Database,
                                      clock: ManualClock) -> None:
    """Vapi does not redial an unanswered customer; only capacity is waited for."""
    campaign = created(api, {"name": "Busy", "assistantId": make_assistant(api),
                             "phoneNumberId": make_number(api, "+12125550123"),
                             "customers": customers(*NY[:2])})
    run(db, clock, BUSY, hours=24)
    assert sorted(c.to_number for c in calls_of(db, campaign["id"])) == NY[:2]
    done = api.get(f"{BASE}/{campaign['id']}").json()
    assert (done["status"], done["callsCounterEnded"]) == ("ended", 2)


def test_voicemail_counter(api: TestClient, db: Database, clock: ManualClock) -> None:
    campaign = created(api, {"name": "Machines", "assistantId": make_assistant(api),
                             "phoneNumberId": make_number(api, "+12125550123"),
                             "customers": customers(*NY)})
    run(db, clock, VOICEMAIL)
    done = api.get(f"{BASE}/{campaign['id']}").json()
    assert done["callsCounterEndedVoicemail"] == done["callsCounterEnded"] == 3
    assert {c["endedReason"] for c in done["calls"].values()} <= {
        "voicemail", "machine-detected-hangup"}


def test_calls_not_placed_by_latest_at_are_dropped(api: TestClient, db: Database,
                                                   clock: ManualClock) -> None:
    """San Francisco is at 07:00: the legal window opens at 16:00Z, after latestAt."""
    campaign = created(api, {"name": "Too early", "assistantId": make_assistant(api),
                             "phoneNumberId": make_number(api, "+14155550123"),
                             "schedulePlan": {"earliestAt": "2026-03-02T15:00:00Z",
                                              "latestAt": "2026-03-02T15:30:00Z"},
                             "customers": customers("+14155550100")})
    assert campaign["status"] == "in-progress"
    run(db, clock, ANSWERED, hours=4)
    assert calls_of(db, campaign["id"]) == []
    done = api.get(f"{BASE}/{campaign['id']}").json()
    assert (done["status"], done["endedReason"]) == ("ended", "campaign.ended.success")
    assert done["callsCounterScheduled"] == 0


def test_a_call_waiting_over_an_hour_for_capacity_is_dropped(
        api: TestClient, db: Database, clock: ManualClock) -> None:
    settings = api.patch("/v1/settings", json={"concurrency_limit": 1,
                                               "concurrency_rate": 100})
    assert settings.status_code == 200, settings.text
    campaign = created(api, {"name": "One line", "assistantId": make_assistant(api),
                             "phoneNumberId": make_number(api, "+12125550123"),
                             "customers": customers(*NY[:2])})
    # Every callee interested: the talk time is never shortened by a quick refusal.
    interested = CalleeModel.from_dict({"weights": {"interested": 1, "not-interested": 0,
                                                    "call-back": 0, "opt-out": 0}})
    long_talk = _model("answer", talk_time=Duration.fixed(90 * 60), callee=interested)
    run(db, clock, long_talk, hours=6)
    assert len(calls_of(db, campaign["id"])) == 1  # the second waited > 1 h: dropped
    customer = api.get(f"/v1/campaigns/{campaign['id']}/contacts").json()["data"]
    assert sorted(c["outcome"] for c in customer) == ["answered", "expired"]


def test_a_call_freed_within_the_hour_is_placed(
        api: TestClient, db: Database, clock: ManualClock) -> None:
    settings = api.patch("/v1/settings", json={"concurrency_limit": 1,
                                               "concurrency_rate": 100})
    assert settings.status_code == 200, settings.text
    campaign = created(api, {"name": "One line", "assistantId": make_assistant(api),
                             "phoneNumberId": make_number(api, "+12125550123"),
                             "customers": customers(*NY[:2])})
    short_talk = _model("answer", talk_time=Duration.fixed(10 * 60))
    run(db, clock, short_talk, hours=6)
    assert len(calls_of(db, campaign["id"])) == 2


def test_compat_default_assistant_when_none_is_named(api: TestClient) -> None:
    squad = make_assistant(api, kind="squad")
    number = make_number(api, "+12125550123")
    body = {"name": "Defaults", "phoneNumberId": number, "customers": customers(NY[0])}
    messages = rejected(api.post(BASE, json=body))
    assert messages[0].startswith("assistantId: ")
    set_default = api.patch("/v1/settings", json={"compat": {"assistant_id": squad}})
    assert set_default.status_code == 200, set_default.text
    campaign = created(api, body)
    assert (campaign["assistantId"], campaign["squadId"]) == (None, squad)


def test_canceled_campaigns_end_by_user(api: TestClient, clock: ManualClock) -> None:
    assistant = make_assistant(api)
    number = make_number(api, "+12125550123")
    later = created(api, {"name": "Later", "assistantId": assistant, "phoneNumberId": number,
                          "schedulePlan": {"earliestAt": "2026-03-03T15:00:00Z"},
                          "customers": customers(NY[0])})
    now = created(api, {"name": "Now", "assistantId": assistant, "phoneNumberId": number,
                        "customers": customers(NY[1])})
    for campaign in (later, now):
        assert api.post(f"/v1/campaigns/{campaign['id']}/cancel").status_code == 200
    reasons = {c["name"]: (c["status"], c["endedReason"])
               for c in api.get(BASE).json()["results"]}
    assert reasons == {"Later": ("ended", "campaign.scheduled.ended-by-user"),
                       "Now": ("ended", "campaign.in-progress.ended-by-user")}


# --- validation rules: each broken once, nothing written ------------------------------------


@pytest.fixture
def refs(api: TestClient) -> dict[str, str]:
    return {"assistant": make_assistant(api), "workflow": make_assistant(api, kind="workflow"),
            "number": make_number(api, "+12125550123"),
            "second": make_number(api, "+12125550124")}


def _valid(refs: dict[str, str]) -> dict[str, Any]:
    return {"name": "Valid", "assistantId": refs["assistant"], "phoneNumberId": refs["number"],
            "customers": customers(NY[0])}


BROKEN: list[tuple[str, Callable[[dict[str, str]], dict[str, Any]], str]] = [
    ("name required", lambda r: {k: v for k, v in _valid(r).items() if k != "name"},
     "name: this field is required"),
    ("name empty", lambda r: {**_valid(r), "name": ""}, "name: "),
    ("two of assistant/workflow/squad",
     lambda r: {**_valid(r), "workflowId": r["workflow"]},
     "workflowId: only one of assistantId, workflowId, or squadId can be used"),
    ("phoneNumberId with dialPlan",
     lambda r: {**{k: v for k, v in _valid(r).items() if k != "customers"},
                "dialPlan": [{"phoneNumberId": r["second"], "customers": customers(NY[1])}]},
     "phoneNumberId: phoneNumberId and dialPlan are mutually exclusive"),
    ("no phoneNumberId nor dialPlan",
     lambda r: {k: v for k, v in _valid(r).items() if k != "phoneNumberId"},
     "phoneNumberId: is required if dialPlan is not provided"),
    ("no customers without dialPlan",
     lambda r: {k: v for k, v in _valid(r).items() if k != "customers"},
     "customers: is required if dialPlan is not provided"),
    ("empty customers", lambda r: {**_valid(r), "customers": []},
     "customers: is required if dialPlan is not provided"),
    ("customers beside dialPlan",
     lambda r: {"name": "x", "assistantId": r["assistant"], "customers": customers(NY[0]),
                "dialPlan": [{"phoneNumberId": r["second"], "customers": customers(NY[1])}]},
     "customers: with dialPlan"),
    ("dialPlan entry without customers",
     lambda r: {"name": "x", "assistantId": r["assistant"],
                "dialPlan": [{"phoneNumberId": r["second"], "customers": []}]},
     "dialPlan.0.customers: "),
    ("dialPlan number twice",
     lambda r: {"name": "x", "assistantId": r["assistant"],
                "dialPlan": [{"phoneNumberId": r["second"], "customers": customers(NY[0])},
                             {"phoneNumberId": r["second"], "customers": customers(NY[1])}]},
     "dialPlan.1.phoneNumberId: "),
    ("customer under two numbers",
     lambda r: {"name": "x", "assistantId": r["assistant"],
                "dialPlan": [{"phoneNumberId": r["number"], "customers": customers(NY[0])},
                             {"phoneNumberId": r["second"], "customers": customers(NY[0])}]},
     "dialPlan.1.customers.0: "),
    ("earliestAt required", lambda r: {**_valid(r), "schedulePlan": {
        "latestAt": "2026-03-02T20:00:00Z"}}, "schedulePlan.earliestAt: this field is required"),
    ("earliestAt without offset", lambda r: {**_valid(r), "schedulePlan": {
        "earliestAt": "2026-03-02T16:00:00"}}, "schedulePlan.earliestAt: "),
    ("latestAt before earliestAt", lambda r: {**_valid(r), "schedulePlan": {
        "earliestAt": "2026-03-02T16:00:00Z", "latestAt": "2026-03-02T16:00:00Z"}},
     "schedulePlan.latestAt: must be after earliestAt"),
    ("latestAt in the past", lambda r: {**_valid(r), "schedulePlan": {
        "earliestAt": "2026-03-01T16:00:00Z", "latestAt": "2026-03-01T20:00:00Z"}},
     "schedulePlan.latestAt: is in the past"),
    ("customer without number", lambda r: {**_valid(r), "customers": [{"name": "Ann"}]},
     "customers.0.number: is required"),
    ("invalid number", lambda r: {**_valid(r), "customers": [{"number": "12"}]},
     "customers.0.number: "),
    ("invalid email", lambda r: {**_valid(r), "customers": [
        {"number": NY[0], "email": "not-an-email"}]}, "customers.0.email: "),
    ("SIP customer", lambda r: {**_valid(r), "customers": [{"sipUri": "sip:ann@example.com"}]},
     "customers.0.sipUri: "),
    ("extension", lambda r: {**_valid(r), "customers": [{"number": NY[0], "extension": "12"}]},
     "customers.0.extension: "),
    ("unknown property", lambda r: {**_valid(r), "maxConcurrency": 3},
     "property maxConcurrency should not exist"),
    ("unknown customer property", lambda r: {**_valid(r), "customers": [
        {"number": NY[0], "phone": NY[0]}]}, "property customers.0.phone should not exist"),
    ("snake_case name", lambda r: {**_valid(r), "phone_number_id": r["number"]},
     "property phone_number_id should not exist"),
    ("unknown assistant", lambda r: {**_valid(r),
                                     "assistantId": "00000000-0000-4000-8000-000000000000"},
     "assistantId: '00000000-0000-4000-8000-000000000000' not found"),
    ("workflowId naming an assistant", lambda r: {
        **{k: v for k, v in _valid(r).items() if k != "assistantId"},
        "workflowId": r["assistant"]}, "workflowId: "),
    ("unknown phone number", lambda r: {**_valid(r), "phoneNumberId": "nope"},
     "phoneNumberId: "),
    ("unknown dialPlan number",
     lambda r: {"name": "x", "assistantId": r["assistant"],
                "dialPlan": [{"phoneNumberId": "nope", "customers": customers(NY[0])}]},
     "dialPlan.0.phoneNumberId: "),
    ("bad variableValues", lambda r: {**_valid(r), "customers": [
        {"number": NY[0], "assistantOverrides": {"variableValues": {"a": [1]}}}]},
     "customers.0.assistantOverrides.variableValues"),
]


def test_each_broken_rule_is_400_naming_the_field(api: TestClient,
                                                  refs: dict[str, str]) -> None:
    """One database for all the rules (they write nothing, so they cannot disturb each
    other): a fresh database per rule would cost a second each."""
    for name, broken, expected in BROKEN:
        messages = rejected(api.post(BASE, json=broken(refs)))
        assert any(m.startswith(expected) for m in messages), (name, messages)
    bad = api.post(BASE, content=b"{", headers={"Content-Type": "application/json"})
    assert rejected(bad) == ["the request body is not valid JSON"]
    assert rejected(api.post(BASE)) == ["the request has no body"]
    assert native_count(api) == 0  # nothing written by any of them
    assert api.get("/v1/contacts").json()["data"] == []
    created(api, _valid(refs))  # so each broken variant fails for its own reason only


# --- authentication, reading -----------------------------------------------------------------


def test_a_missing_or_unknown_key_is_401_and_an_unknown_campaign_404(
        anon_client: TestClient, other_client: TestClient, workspace: tuple[str, str]) -> None:
    for headers in ({}, {"Authorization": "Bearer rw_live_nope"},
                    {"Authorization": "Basic abc"}):
        for response in (anon_client.post(BASE, json={"name": "x"}, headers=headers),
                         anon_client.get(BASE, headers=headers),
                         anon_client.get(f"{BASE}/abc", headers=headers)):
            message = rejected(response, 401)
            assert message[0].startswith("Invalid Key")
            assert response.json()["error"] == "Unauthorized"
    api = anon_client
    api.headers["Authorization"] = f"Bearer {workspace[1]}"
    foreign = other_client.post("/v1/campaigns", json={"name": "theirs"}).json()["id"]
    for campaign_id in (foreign, "00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        response = api.get(f"{BASE}/{campaign_id}")
        assert response.status_code == 404
        assert response.json() == {
            "message": "Campaign not found", "error": "Not Found", "statusCode": 404}


def test_list_pages_filters_and_sorts(api: TestClient, clock: ManualClock) -> None:
    assistant = make_assistant(api)
    number = make_number(api, "+12125550123")
    ids = []
    for index in range(3):
        plan = {"schedulePlan": {"earliestAt": "2026-03-03T15:00:00Z"}} if index == 2 else {}
        ids.append(created(api, {"name": f"c{index}", "assistantId": assistant,
                                 "phoneNumberId": number, "customers": customers(NY[index]),
                                 **plan})["id"])
        clock.advance(timedelta(minutes=1))
    native = api.post("/v1/campaigns", json={"name": "native draft"})
    assert native.status_code == 201
    page = api.get(BASE).json()
    assert page["metadata"] == {"itemsPerPage": 100, "totalItems": 4, "currentPage": 1}
    assert [c["name"] for c in page["results"]] == ["native draft", "c2", "c1", "c0"]
    assert page["results"][0]["status"] == "scheduled"  # a native draft has not started
    second = api.get(BASE, params={"limit": 2, "page": 2, "sortOrder": "ASC"}).json()
    assert [c["name"] for c in second["results"]] == ["c2", "native draft"]
    assert second["metadata"] == {"itemsPerPage": 2, "totalItems": 4, "currentPage": 2}
    running = api.get(BASE, params={"status": "in-progress"}).json()
    assert {c["id"] for c in running["results"]} == set(ids[:2])
    assert [c["id"] for c in api.get(BASE, params={"id": ids[1]}).json()["results"]] \
        == [ids[1]]
    after = api.get(BASE, params={"createdAtGt": "2026-03-02T15:00:00Z"}).json()
    assert after["metadata"]["totalItems"] == 3
    upto = api.get(BASE, params={"createdAtLe": "2026-03-02T15:01:00.000Z"}).json()
    assert {c["name"] for c in upto["results"]} == {"c0", "c1"}


    for params, field in (({"page": 0}, "page"), ({"limit": 1001}, "limit"),
                          ({"status": "running"}, "status"), ({"sortOrder": "up"}, "sortOrder"),
                          ({"createdAtGt": "yesterday"}, "createdAtGt")):
        messages = rejected(api.get(BASE, params=params))
        assert messages[0].startswith(f"{field}: "), messages
