"""Every example request of the five seed pages (shared/seeds), translated by hand into native
requests, with the objects they reference created first. docs/field-mapping.md explains each
translation; these tests prove the native API expresses (and stores) every one of them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_campaigns import (
    create,
    make_assistant,
    make_contacts,
    make_list,
    make_number,
)
from tests.helpers import error_of

KEJUE_ANALYSIS = {
    "scoring_criteria": "Score 0-100 based on buying intent",
    "structured_data_schema": [
        {"description": "Stated budget range", "key": "budget"},
        {"description": "Decision timeline", "key": "timeline"},
    ],
    "tags": [
        {"description": "Contact expressed buying interest", "name": "Interested"},
        {"description": "Contact requested a follow-up call", "name": "Follow-up"},
    ],
}


def contacts_of(client: TestClient, campaign_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/campaigns/{campaign_id}/contacts", params={"limit": 200})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


# --- Kejue: POST /api/v1/campaigns ------------------------------------------------------------


def test_kejue_create_campaign(client: TestClient) -> None:
    # persona_id / voice_config_id -> one assistant (the voice agent implies its persona)
    persona = make_assistant(client, persona="Friendly SDR")
    make_number(client, "+14155550123")  # local presence picks from the workspace's numbers
    contact_ids = make_contacts(client, ["+14155550100", "+12125550100"])
    body = create(
        client,
        name="Kejue outreach", description="Q2 pipeline", assistant_id=persona,
        schedule={"days": ["mon", "tue", "wed", "thu", "fri"],  # allowed_days [0..4]
                  "call_hours": {"start_time": "09:00", "end_time": "17:00"},
                  "local_start_at": "2026-03-09T09:00"},  # scheduled_start_at, naive
        retry={"auto_retry": True, "delays_minutes": [60, 240]},  # retry_schedule
        caller_id={"mode": "local_presence"},  # phone_assignment_mode "local"
        analysis=KEJUE_ANALYSIS, metadata={}, contact_ids=contact_ids, priority=50,
        auto_start=False,
    )
    # the response fields of the page: id, name, status, created_at, persona_id,
    # contacts_added, scheduled_start_at
    assert body["status"] == "draft"
    assert body["assistant_id"] == persona
    assert body["contacts_added"] == 2
    assert body["created_at"] == "2026-03-02T15:00:00Z"
    assert body["schedule"]["local_start_at"] == "2026-03-09T09:00"
    assert body["schedule"]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert body["retry"]["max_attempts"] == 3
    assert body["caller_id"]["mode"] == "local_presence"
    assert body["analysis"]["structured_data_schema"][0] == {
        "key": "budget", "description": "Stated budget range", "type": "string"}
    assert [t["name"] for t in body["analysis"]["tags"]] == ["Interested", "Follow-up"]
    assert body["metadata"] == {}
    assert body["priority"] == 50

    # auto_start: true -> started right after the contacts are added; the naive start is a
    # week away in every zone, so the campaign waits as 'scheduled'
    started = create(client, name="Kejue auto", assistant_id=persona,
                     caller_id={"mode": "local_presence"}, contact_ids=contact_ids,
                     schedule={"local_start_at": "2026-03-09T09:00"}, auto_start=True)
    assert started["status"] == "scheduled"
    assert started["counts"]["contacts_total"] == 2


# --- Kathan: POST /campaign ------------------------------------------------------------------


def test_kathan_create_campaign(client: TestClient) -> None:
    assistant = make_assistant(client, name="Kathan agent")
    number = make_number(client, "+14155550123", "twilio")
    listed = make_list(client, make_contacts(client, ["+12125550100"]), "Recipients")
    request = dict(
        name="Kathan renewals", assistant_id=assistant,
        caller_id={"mode": "fixed", "phone_number_ids": [number]},  # phone_number_id
        channel="twilio",
        schedule={"start_at": "2026-03-03T14:00:00Z",  # scheduleStartTime
                  "end_at": "2026-03-06T22:00:00Z"},  # scheduleEndTime
        concurrency_limit=5,  # max_concurrency
        retry={},  # retry_policy {}: the defaults
        speech_settings={"style": "neutral", "responsiveness": "balanced",
                         "interruptions": "on", "emotions": "natural"},
        campaign_context="Renewals due this month",
        opening_message="Hi {{first_name}}, it's Ava.",  # opening_message_template
        memory={"use_returning_greeting": False, "use_short_term_summaries": False,
                "short_term_summaries_limit": 123},  # the page's example value
        voicemail={"detection_timeout_seconds": 31},  # machine_detection_timeout_seconds
        contact_list_ids=[listed],  # recipient_list_id
        contacts=[{"phone": "+14155550100", "campaign_metadata": {"ticket": "T-1"},
                   "assistant_overrides": {"first_message": "Hi, about T-1"}}],  # recipients
    )
    body = create(client, **request)
    assert body["status"] == "draft"  # Kathan: draft | running | paused | completed
    assert body["channel"] == "twilio"
    assert body["concurrency_limit"] == 5
    assert body["voicemail"]["detection_timeout_seconds"] == 31
    assert body["speech_settings"] == request["speech_settings"]
    assert body["opening_message"] == "Hi {{first_name}}, it's Ava."
    assert body["schedule"]["start_at"] == "2026-03-03T14:00:00Z"
    assert body["counts"]["contacts_total"] == 2  # counts
    recipient = next(r for r in contacts_of(client, body["id"]) if r["phone"] == "+14155550100")
    assert recipient["metadata"] == {"ticket": "T-1"}
    assert recipient["assistant_overrides"] == {"first_message": "Hi, about T-1"}
    assert body["memory"]["short_term_summaries_limit"] == 123
    # status is server-managed; lifecycle actions move it
    started = client.post(f"/v1/campaigns/{body['id']}/start").json()
    assert started["status"] == "scheduled"  # scheduleStartTime is tomorrow
    assert client.post(f"/v1/campaigns/{body['id']}/pause").json()["status"] == "paused"


# --- Kayse: POST /v1/campaigns, GET /v1/campaigns/settings, GET /v1/campaigns?key= -----------


def test_kayse_create_campaign(client: TestClient) -> None:
    agent = make_assistant(client, name="abc_123")
    case_list = make_list(client, make_contacts(client, ["+14155550100", "+14155550101"]),
                          "Case list 123")
    body = create(
        client, name="Outreach Campaign", assistant_id=agent,  # agent_id
        contact_list_ids=[case_list],  # case_list_id
        options={"on_behalf_of_clients": False,  # is_obo
                 "calls_scheduled_externally": False},
        schedule={"runs": [{"client_run_id": "run-1", "start_date": "2026-02-20",
                            "end_date": "2026-02-20", "start_time": "09:00",
                            "end_time": "17:00", "messaging_only": False}]},
        report_schedule={"name": "Weekly Campaign Report", "run_client_ids": ["run-1"],
                         "frequency": "weekly", "weekday": 2, "time": "09:30",
                         "recipients": ["reports@firm.com"], "format": "csv",
                         "date_range": "cumulative", "filters": {}},
    )
    assert body["id"]  # Kayse answers {"id": 1}; Ringwise ids are UUIDs
    assert body["counts"]["contacts_total"] == 2
    assert body["schedule"]["runs"][0]["client_run_id"] == "run-1"
    assert body["report_schedule"]["weekday"] == 2  # Tuesday (0 is Sunday)
    assert body["report_schedule"]["recipients"] == ["reports@firm.com"]
    assert body["options"]["on_behalf_of_clients"] is False

    # the optional fields of the table: never_ending, concurrency_limit 0 (= unlimited, i.e.
    # the workspace limit), self_healing_disabled, form_id, use_company_hours + business_hours
    full = create(client, name="Kayse full", assistant_id=agent, never_ending=True,
                  concurrency_limit=0,
                  options={"self_healing_disabled": True, "form_id": 7},
                  schedule={"business_hours": [{"start_time": "09:00", "end_time": "12:00"},
                                               {"start_time": "13:00", "end_time": "17:00"}],
                            "runs": [{"start_date": "2026-03-10", "end_date": "2026-03-12"}]})
    assert full["never_ending"] is True and full["concurrency_limit"] == 0
    assert full["options"]["form_id"] == "7"
    assert len(full["schedule"]["business_hours"]) == 2


def test_kayse_settings_and_list(client: TestClient) -> None:
    # GET /v1/campaigns/settings -> GET /v1/settings (is_enabled = campaigns_enabled)
    client.patch("/v1/settings", json={"concurrency_rate": 70, "business_hours": [
        {"start_time": "09:00", "end_time": "12:00"},
        {"start_time": "13:00", "end_time": "17:00"}]})
    settings = client.get("/v1/settings").json()
    assert settings["campaigns_enabled"] is True
    assert settings["concurrency_rate"] == 70
    assert settings["business_hours"] == [{"start_time": "09:00", "end_time": "12:00"},
                                          {"start_time": "13:00", "end_time": "17:00"}]
    # GET /v1/campaigns?key=outreach -> search=outreach; stats come from counts
    create(client, name="Outreach Campaign")
    create(client, name="Renewals")
    found = client.get("/v1/campaigns", params={"search": "outreach"}).json()["data"]
    assert [c["name"] for c in found] == ["Outreach Campaign"]
    assert {"calls_total", "calls_answered", "calls_failed"} <= set(found[0]["counts"])


# --- playbook API: POST /campaign --------------------------------------------------------------

PLAYBOOK_IMMEDIATE = {"auto_start": True, "caller_id": {"mode": "pool"}}  # no launch_at


def test_playbook_examples(client: TestClient) -> None:
    playbook = make_assistant(client, name="Playbook 550e8400")
    make_number(client, "+34910000000")  # the API picks the caller number itself

    # 4. recall as a string: retry 30 and 120 minutes after the call
    recall = create(client, assistant_id=playbook, **PLAYBOOK_IMMEDIATE,
                    contacts=[{"phone": "+34600123456", "first_name": "Juan"}],
                    retry={"delays_minutes": "[30,120]", "relative_to": "first_attempt"})
    assert recall["retry"]["delays_minutes"] == [30, 120]
    assert recall["retry"]["max_attempts"] == 3

    # 5.1 immediate, minimal -> 202 {scheduled: false, total_contacts: 2}
    minimal = create(client, assistant_id=playbook, **PLAYBOOK_IMMEDIATE,
                     contacts=[{"phone": "+34600123456"}, {"phone": "+34600987654"}])
    assert minimal["status"] == "running"
    assert minimal["contacts_added"] == 2

    # 5.2 immediate with contact data and recall
    data = create(client, assistant_id=playbook, **PLAYBOOK_IMMEDIATE, contacts=[
        {"phone": "+34600123456", "first_name": "Juan", "last_name": "García",
         "email": "juan@example.com", "company": "Acme SL"},
        {"phone": "+34600987654", "first_name": "María", "email": "maria@example.com"},
    ], retry={"delays_minutes": "[30,120]", "relative_to": "first_attempt"})
    rows = {r["phone"]: r for r in contacts_of(client, data["id"])}
    assert rows["+34600123456"]["last_name"] == "García"
    assert rows["+34600987654"]["first_name"] == "María"

    # 5.3 custom fields, recall as an array
    custom = create(client, assistant_id=playbook, **PLAYBOOK_IMMEDIATE, contacts=[
        {"phone": "+34600123456", "first_name": "Juan", "last_name": "García",
         "custom_fields": {"lead_id": "ext-12345", "producto_interes": "Premium",
                           "origen": "web"}}],
        retry={"delays_minutes": [30, 60, 120], "relative_to": "first_attempt"})
    assert custom["retry"]["max_attempts"] == 4
    assert custom["counts"]["contacts_total"] == 1

    # 5.4 scheduled: launch_at "2025-03-01T10:00:00" is UTC (the page answers with ...Z), with
    # a small stagger between contacts; that date has passed, so the campaign runs at once
    scheduled = {"assistant_id": playbook, **PLAYBOOK_IMMEDIATE,
                 "contacts": [{"phone": "+34600123456", "first_name": "Juan"},
                              {"phone": "+34600987654", "first_name": "María"}],
                 "retry": {"delays_minutes": "[30,120]", "relative_to": "first_attempt"}}
    past = create(client, **scheduled, schedule={"start_at": "2025-03-01T10:00:00Z",
                                                 "stagger_seconds": 2})
    assert past["status"] == "running"
    future = create(client, **scheduled, schedule={"start_at": "2026-04-01T10:00:00Z",
                                                   "stagger_seconds": 2})
    assert future["status"] == "scheduled"  # the page's "scheduled": true
    assert future["schedule"]["start_at"] == "2026-04-01T10:00:00Z"  # launch_at
    assert future["counts"]["contacts_total"] == 2  # total_contacts / scheduled_calls


def test_playbook_error_cases(client: TestClient, other_client: TestClient) -> None:
    make_number(client, "+34910000000")
    playbook = make_assistant(client)
    # 400 missing playbook_id: an immediate campaign cannot start without an assistant
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", **PLAYBOOK_IMMEDIATE, "contacts": [{"phone": "+34600123456"}]}), 409)
    assert error["field"] == "assistant_id"
    # 400 empty contacts
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "assistant_id": playbook, **PLAYBOOK_IMMEDIATE, "contacts": []}), 409)
    assert error["field"] == "contacts"
    # 400 a contact without a valid phone
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "assistant_id": playbook, **PLAYBOOK_IMMEDIATE,
        "contacts": [{"phone": "+34600123456"}, {"phone": ""}]}))
    assert error["field"] == "contacts[1].phone"
    # 403 playbook not owned by your account: 404 naming the field (no id oracle)
    error = error_of(other_client.post("/v1/campaigns", json={
        "name": "x", "assistant_id": playbook, "contacts": [{"phone": "+34600123456"}]}), 404)
    assert error["field"] == "assistant_id"
    assert client.get("/v1/campaigns").json()["data"] == []


# --- Vapi: POST /campaign ----------------------------------------------------------------------


def test_vapi_create_campaign(client: TestClient) -> None:
    assistant = make_assistant(client, name="Riley")
    workflow = make_assistant(client, name="Intake flow", kind="workflow")
    squad = make_assistant(client, name="Sales squad", kind="squad")
    number = make_number(client, "+14155550123")
    second = make_number(client, "+12125550123")
    customers = [{"phone": "+14155550100", "first_name": "Ann",
                  "metadata": {"external_id": "c-1"}},  # customers[].externalId
                 {"phone": "+14155550101", "first_name": "Bo"}]

    # assistantId + phoneNumberId + customers + schedulePlan {earliestAt, latestAt}
    body = create(client, name="Vapi batch", assistant_id=assistant,
                  caller_id={"mode": "fixed", "phone_number_ids": [number]},
                  contacts=customers,
                  schedule={"start_at": "2026-03-02T16:00:00Z", "end_at": "2026-03-02T20:00:00Z",
                            "retry_window_minutes": 60})
    assert body["schedule"]["retry_window_minutes"] == 60
    assert body["counts"]["contacts_total"] == 2
    started = client.post(f"/v1/campaigns/{body['id']}/start").json()
    assert started["status"] == "scheduled"  # earliestAt is in an hour
    # callsCounter* and endedReason
    assert started["counts"]["calls_queued"] == 0
    assert started["counts"]["calls_in_progress"] == 0
    assert started["counts"]["calls_voicemail"] == 0
    assert started["counts"]["calls_ended"] == 0
    assert started["ended_reason"] is None
    assert client.get("/v1/calls", params={"campaign_id": body["id"]}).json()["data"] == []

    # workflowId / squadId: the same assistant_id, naming an assistant of that kind
    for kind_id in (workflow, squad):
        other = create(client, name="Vapi kind", assistant_id=kind_id,
                       caller_id={"mode": "fixed", "phone_number_ids": [number]})
        assert other["assistant_id"] == kind_id

    # dialPlan: each number calls its own customers
    planned = create(client, name="Vapi dial plan", assistant_id=assistant,
                     caller_id={"mode": "dial_plan", "dial_plan": [
                         {"phone_number_id": number, "contacts": customers[:1]},
                         {"phone_number_id": second, "contacts": customers[1:]}]})
    by_phone = {r["phone"]: r["caller_number_id"] for r in contacts_of(client, planned["id"])}
    assert by_phone == {"+14155550100": number, "+14155550101": second}
    # phoneNumberId and dialPlan are mutually exclusive
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "caller_id": {"mode": "dial_plan", "phone_number_ids": [number],
                                   "dial_plan": [{"phone_number_id": second}]}}))
    assert error["field"] == "caller_id.phone_number_ids"
