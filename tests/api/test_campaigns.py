from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, CampaignContact, Contact
from ringwise.ids import new_id
from tests.helpers import error_of

# --- helpers (also used by the other campaign test modules) ----------------------------------


def make_assistant(client: TestClient, **fields: Any) -> str:
    response = client.post("/v1/assistants", json={"name": "Ava", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def make_number(client: TestClient, number: str = "+14155550123",
                provider: str = "simulated") -> str:
    """The workspace's number (added on first use)."""
    response = client.post("/v1/phone-numbers", json={"number": number, "provider": provider})
    if response.status_code == 409:
        found = client.get("/v1/phone-numbers", params={"search": number}).json()["data"]
        return str(found[0]["id"])
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def make_contacts(client: TestClient, phones: list[str]) -> list[str]:
    response = client.post("/v1/contacts/bulk",
                           json={"contacts": [{"phone": phone} for phone in phones]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == [], body
    return [str(contact_id) for contact_id in body["contact_ids"]]


def make_list(client: TestClient, contact_ids: list[str], name: str = "Leads") -> str:
    response = client.post("/v1/contact-lists", json={"name": name})
    assert response.status_code == 201, response.text
    list_id = str(response.json()["id"])
    added = client.post(f"/v1/contact-lists/{list_id}/contacts",
                        json={"contact_ids": contact_ids})
    assert added.status_code == 200, added.text
    return list_id


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/campaigns", json={"name": "Spring renewals", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def ready(client: TestClient, **body: Any) -> dict[str, Any]:
    """A draft that can start: assistant, one number, one inline contact."""
    return create(client, assistant_id=make_assistant(client),
                  caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                  contacts=[{"phone": "+14155550100"}], **body)


def count(db: Database, model: Any) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- create / read ---------------------------------------------------------------------------


def test_minimal_draft_gets_defaults(client: TestClient) -> None:
    body = create(client)
    assert body["status"] == "draft"
    assert body["allowed_actions"] == ["start", "cancel"]
    assert body["priority"] == 50
    assert body["concurrency_limit"] == 0
    assert body["schedule"]["timezone"] == "America/New_York"  # the workspace's
    assert body["retry"] == {"auto_retry": True, "delays_minutes": [60],
                             "relative_to": "previous_attempt",
                             "retry_on": ["no-answer", "busy", "voicemail", "failed"],
                             "max_attempts": 2}
    assert body["caller_id"] == {"mode": "fixed", "phone_number_ids": [], "dial_plan": []}
    assert body["counts"]["contacts_total"] == 0
    assert body["contacts_added"] == 0
    again = client.get(f"/v1/campaigns/{body['id']}").json()
    assert {k: v for k, v in again.items()} == {
        k: v for k, v in body.items() if k not in ("contacts_added", "duplicates_ignored")}


def test_full_settings_round_trip(client: TestClient) -> None:
    assistant = make_assistant(client)
    first, second = make_number(client, "+14155550123", "twilio"), \
        make_number(client, "+12125550123", "twilio")
    settings: dict[str, Any] = {
        "description": "Policies renewing before April",
        "assistant_id": assistant,
        "caller_id": {"mode": "local_presence", "phone_number_ids": [first, second]},
        "schedule": {"timezone": "America/Chicago", "start_at": "2026-03-09T08:00:00-05:00",
                     "end_at": "2026-03-31T23:00:00Z", "days": ["Friday", "mon"],
                     "call_hours": {"start_time": "9:00", "end_time": "17:00"},
                     "stagger_seconds": 2, "retry_window_minutes": 60},
        "retry": {"delays_minutes": "[30,120]", "retry_on": ["busy", "no-answer"],
                  "max_attempts": 4},
        "concurrency_limit": 7, "priority": 90, "never_ending": True,
        "voicemail": {"detection_timeout_seconds": 30, "action": "leave_message",
                      "message": "Hi {{first_name}}, call us back."},
        "speech_settings": {"style": "friendly", "interruptions": "off"},
        "opening_message": "Hi {{first_name}}!",
        "campaign_context": "Renewals",
        "memory": {"use_returning_greeting": True, "returning_greeting": "Welcome back",
                   "use_short_term_summaries": True, "short_term_summaries_limit": 3},
        "analysis": {"scoring_criteria": "intent", "tags": [{"name": "Interested"}]},
        "options": {"on_behalf_of_clients": True, "form_id": 42},
        "metadata": {"owner": "renewals"},
    }
    body = create(client, **settings)
    assert body["channel"] == "twilio"  # taken from the numbers
    assert body["caller_id"]["phone_number_ids"] == [first, second]
    schedule = body["schedule"]
    assert schedule["start_at"] == "2026-03-09T13:00:00Z"  # stored as UTC
    assert schedule["days"] == ["mon", "fri"]
    assert schedule["call_hours"] == {"start_time": "09:00", "end_time": "17:00"}
    assert body["retry"]["delays_minutes"] == [30, 120]
    assert body["retry"]["retry_on"] == ["no-answer", "busy"]
    assert body["speech_settings"] == {"style": "friendly", "responsiveness": "balanced",
                                       "interruptions": "off", "emotions": "natural"}
    assert body["options"]["form_id"] == "42"
    assert body["analysis"]["tags"] == [{"name": "Interested", "description": None}]
    assert body["metadata"] == {"owner": "renewals"}
    assert client.get(f"/v1/campaigns/{body['id']}").json()["memory"] == {
        **settings["memory"]}


def test_list_search_filter_and_paginate(client: TestClient, clock: ManualClock) -> None:
    ids = []
    for name in ("Outreach A", "Renewals", "Outreach B"):
        ids.append(create(client, name=name)["id"])
        clock.advance(timedelta(seconds=1))
    page = client.get("/v1/campaigns", params={"search": "outreach", "limit": 1}).json()
    assert [c["name"] for c in page["data"]] == ["Outreach B"]
    assert page["data"][0]["counts"]["contacts_total"] == 0
    rest = client.get("/v1/campaigns", params={"search": "outreach", "limit": 1,
                                               "cursor": page["next_cursor"]}).json()
    assert [c["name"] for c in rest["data"]] == ["Outreach A"]
    assert rest["next_cursor"] is None
    client.post(f"/v1/campaigns/{ids[1]}/cancel")
    canceled = client.get("/v1/campaigns", params={"status": "canceled"}).json()["data"]
    assert [c["id"] for c in canceled] == [ids[1]]
    assert error_of(client.get("/v1/campaigns", params={"status": "bogus"}))["field"] == \
        "status"


def test_other_workspace_cannot_see_or_use(client: TestClient, other_client: TestClient,
                                           db: Database) -> None:
    mine = create(client)
    assert error_of(other_client.get(f"/v1/campaigns/{mine['id']}"), 404)["code"] == \
        "not_found"
    assert other_client.post(f"/v1/campaigns/{mine['id']}/cancel").status_code == 404
    assert other_client.patch(f"/v1/campaigns/{mine['id']}",
                              json={"name": "x"}).status_code == 404
    assert other_client.post(f"/v1/campaigns/{mine['id']}/contacts",
                             json={"contacts": [{"phone": "+14155550100"}]}).status_code == 404
    assert other_client.get("/v1/campaigns").json()["data"] == []
    # an id PostgreSQL could not even compare is simply not found
    assert client.get("/v1/campaigns/a%00b").status_code == 404
    assert client.post("/v1/campaigns/a%00b/start").status_code == 404
    assistant = make_assistant(client)
    error = error_of(other_client.post("/v1/campaigns", json={
        "name": "x", "assistant_id": assistant}), 404)
    assert error["field"] == "assistant_id"
    number = make_number(client)
    error = error_of(other_client.post("/v1/campaigns", json={
        "name": "x", "caller_id": {"mode": "pool", "phone_number_ids": [number]}}), 404)
    assert error["field"] == "caller_id.phone_number_ids[0]"
    assert count(db, Campaign) == 1


# --- contacts --------------------------------------------------------------------------------


def test_contacts_by_id_list_and_inline_with_duplicates(client: TestClient) -> None:
    a, b, c = make_contacts(client, ["+14155550101", "+14155550102", "+14155550103"])
    listed = make_list(client, [b, c])
    body = create(client, contact_ids=[a, b, a], contact_list_ids=[listed], contacts=[
        {"phone": "+14155550104", "first_name": "Dee", "campaign_metadata": {"t": 1},
         "assistant_overrides": {"first_message": "Hi Dee"}},
        {"phone": "(415) 555-0101"},  # the same person as contact a
    ])
    assert body["contacts_added"] == 4
    assert body["duplicates_ignored"] == 3  # a again, b from the list, a inline
    assert body["counts"]["contacts_total"] == 4
    assert body["counts"]["contacts_pending"] == 4
    listing = client.get(f"/v1/campaigns/{body['id']}/contacts", params={"limit": 3}).json()
    assert len(listing["data"]) == 3 and listing["next_cursor"]
    more = client.get(f"/v1/campaigns/{body['id']}/contacts",
                      params={"limit": 3, "cursor": listing["next_cursor"]}).json()
    rows = listing["data"] + more["data"]
    assert sorted(r["phone"] for r in rows) == [
        "+14155550101", "+14155550102", "+14155550103", "+14155550104"]
    dee = next(r for r in rows if r["phone"] == "+14155550104")
    assert dee["first_name"] == "Dee"
    assert dee["metadata"] == {"t": 1}
    assert dee["assistant_overrides"] == {"first_message": "Hi Dee"}
    assert all(r["state"] == "pending" and r["attempts"] == 0 and r["outcome"] is None
               for r in rows)

    # adding again: everything already there is a counted duplicate
    added = client.post(f"/v1/campaigns/{body['id']}/contacts", json={
        "contact_ids": [a], "contacts": [{"phone": "+14155550105"}]})
    assert added.status_code == 200, added.text
    assert added.json() == {"added": 1, "duplicates": 1, "contacts_total": 5}
    counts = client.get(f"/v1/campaigns/{body['id']}").json()["counts"]
    assert (counts["contacts_total"], counts["contacts_pending"]) == (5, 5)


def test_foreign_contact_id_is_404_and_nothing_written(
        client: TestClient, other_client: TestClient, db: Database) -> None:
    mine = make_contacts(client, ["+14155550101"])
    foreign = make_contacts(other_client, ["+14155550199"])
    contacts_before = count(db, Contact)
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "contacts": [{"phone": "+14155550150"}],
        "contact_ids": [mine[0], foreign[0]]}), 404)
    assert error["field"] == "contact_ids[1]"
    assert count(db, Contact) == contacts_before  # the inline contact was not kept
    assert count(db, Campaign) == 0
    foreign_list = make_list(other_client, foreign)
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "contact_list_ids": [foreign_list]}), 404)
    assert error["field"] == "contact_list_ids[0]"


def test_bad_inline_phone_names_the_row(client: TestClient, db: Database) -> None:
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "contacts": [{"phone": "+14155550100"}, {"phone": "12"}]}))
    assert error["field"] == "contacts[1].phone"
    assert count(db, Contact) == 0 and count(db, Campaign) == 0


def test_add_contacts_only_while_campaign_can_call(client: TestClient) -> None:
    campaign = create(client)
    client.post(f"/v1/campaigns/{campaign['id']}/cancel")
    error = error_of(client.post(f"/v1/campaigns/{campaign['id']}/contacts",
                                 json={"contacts": [{"phone": "+14155550100"}]}), 409)
    assert error["code"] == "invalid_state"
    assert "'canceled'" in error["message"]
    error = error_of(client.post(f"/v1/campaigns/{campaign['id']}/contacts", json={}))
    assert error["field"] == "contact_ids"


def test_dial_plan_assigns_numbers(client: TestClient) -> None:
    first, second = make_number(client, "+14155550123"), make_number(client, "+12125550123")
    (existing,) = make_contacts(client, ["+12125550111"])
    body = create(client, caller_id={"mode": "dial_plan", "dial_plan": [
        {"phone_number_id": first, "contacts": [{"phone": "+14155550101"},
                                                {"phone": "+14155550102"}]},
        {"phone_number_id": second, "contact_ids": [existing]},
    ]})
    assert body["caller_id"]["dial_plan"] == [{"phone_number_id": first},
                                              {"phone_number_id": second}]
    assert body["counts"]["contacts_total"] == 3
    rows = client.get(f"/v1/campaigns/{body['id']}/contacts").json()["data"]
    by_phone = {r["phone"]: r["caller_number_id"] for r in rows}
    assert by_phone == {"+14155550101": first, "+14155550102": first, "+12125550111": second}

    url = f"/v1/campaigns/{body['id']}/contacts"
    assert error_of(client.post(url, json={"contacts": [{"phone": "+14155550103"}]}))[
        "field"] == "phone_number_id"
    added = client.post(url, json={"contacts": [{"phone": "+14155550103"}],
                                   "phone_number_id": second})
    assert added.json()["added"] == 1

    # the same contact under two numbers is ambiguous
    error = error_of(client.post("/v1/campaigns", json={"name": "x", "caller_id": {
        "mode": "dial_plan", "dial_plan": [
            {"phone_number_id": first, "contact_ids": [existing]},
            {"phone_number_id": second, "contact_ids": [existing]}]}}))
    assert error["field"] == "caller_id.dial_plan[1].contact_ids[0]"

    # PATCH: move the existing contact to the first number; dropping a number that still
    # has contacts is refused
    patched = client.patch(f"/v1/campaigns/{body['id']}", json={"caller_id": {
        "mode": "dial_plan", "dial_plan": [
            {"phone_number_id": first, "contact_ids": [existing]},
            {"phone_number_id": second}]}})
    assert patched.status_code == 200, patched.text
    rows = client.get(url).json()["data"]
    assert {r["phone"]: r["caller_number_id"] for r in rows}["+12125550111"] == first
    error = error_of(client.patch(f"/v1/campaigns/{body['id']}", json={"caller_id": {
        "mode": "dial_plan", "dial_plan": [{"phone_number_id": first}]}}))
    assert error["field"] == "caller_id.dial_plan"
    # leaving the dial plan clears the per-contact numbers
    client.patch(f"/v1/campaigns/{body['id']}", json={"caller_id": {
        "mode": "pool", "phone_number_ids": [first, second]}})
    assert {r["caller_number_id"] for r in client.get(url).json()["data"]} == {None}


def test_channel_must_match_numbers(client: TestClient) -> None:
    twilio = make_number(client, "+14155550123", "twilio")
    vobiz = make_number(client, "+12125550123", "vobiz")
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "caller_id": {"mode": "pool", "phone_number_ids": [twilio, vobiz]}}))
    assert error["field"] == "caller_id.phone_number_ids[1]"
    assert "vobiz" in error["message"] and "twilio" in error["message"]
    error = error_of(client.post("/v1/campaigns", json={
        "name": "x", "channel": "vobiz",
        "caller_id": {"mode": "fixed", "phone_number_ids": [twilio]}}))
    assert error["field"] == "caller_id.phone_number_ids[0]"


# --- lifecycle -------------------------------------------------------------------------------


def test_lifecycle_start_pause_resume_cancel(client: TestClient, clock: ManualClock) -> None:
    campaign = ready(client)
    url = f"/v1/campaigns/{campaign['id']}"
    started = client.post(f"{url}/start").json()
    assert started["status"] == "running"
    assert started["started_at"] == "2026-03-02T15:00:00Z"
    assert started["allowed_actions"] == ["pause", "cancel"]
    assert client.post(f"{url}/pause").json()["status"] == "paused"
    assert client.post(f"{url}/resume").json()["status"] == "running"
    error = error_of(client.post(f"{url}/start"), 409)
    assert error["code"] == "invalid_transition"
    assert "'running'" in error["message"]
    assert error["details"]["allowed_actions"] == ["pause", "cancel"]
    clock.advance(timedelta(minutes=5))
    canceled = client.post(f"{url}/cancel").json()
    assert canceled["status"] == "canceled"
    assert canceled["completed_at"] == "2026-03-02T15:05:00Z"
    assert canceled["ended_reason"] == "canceled"
    assert canceled["allowed_actions"] == []
    assert canceled["counts"]["contacts_pending"] == 0
    assert canceled["counts"]["contacts_skipped"] == 1
    rows = client.get(f"{url}/contacts").json()["data"]
    assert [(r["state"], r["outcome"]) for r in rows] == [("skipped", "canceled")]
    for action in ("start", "pause", "resume", "cancel"):
        error = error_of(client.post(f"{url}/{action}"), 409)
        assert "'canceled'" in error["message"] and "final" in error["message"]


def test_start_with_future_schedule_is_scheduled(client: TestClient) -> None:
    campaign = ready(client, schedule={"start_at": "2026-03-03T14:00:00Z"})
    url = f"/v1/campaigns/{campaign['id']}"
    body = client.post(f"{url}/start").json()
    assert body["status"] == "scheduled" and body["started_at"] is None
    assert client.post(f"{url}/pause").json()["status"] == "paused"
    assert client.post(f"{url}/resume").json()["status"] == "scheduled"
    # a naive per-contact start: 'tomorrow 09:00' has begun nowhere yet (UTC+14 is 19:00 now)
    local = ready(client, schedule={"local_start_at": "2026-03-03T09:00"})
    assert client.post(f"/v1/campaigns/{local['id']}/start").json()["status"] == "scheduled"
    started_somewhere = ready(client, schedule={"local_start_at": "2026-03-03T04:00"})
    assert client.post(f"/v1/campaigns/{started_somewhere['id']}/start").json()[
        "status"] == "running"


def test_start_needs_assistant_number_and_contacts(client: TestClient) -> None:
    draft = create(client)
    url = f"/v1/campaigns/{draft['id']}"
    error = error_of(client.post(f"{url}/start"), 409)
    assert (error["code"], error["field"]) == ("not_ready", "assistant_id")
    client.patch(url, json={"assistant_id": make_assistant(client)})
    error = error_of(client.post(f"{url}/start"), 409)
    assert error["field"] == "caller_id.phone_number_ids"
    client.patch(url, json={"caller_id": {"mode": "local_presence"}})
    error = error_of(client.post(f"{url}/start"), 409)
    assert error["field"] == "caller_id.phone_number_ids"  # the workspace has no numbers
    make_number(client)
    error = error_of(client.post(f"{url}/start"), 409)
    assert error["field"] == "contacts"
    client.patch(url, json={"voicemail": {"action": "leave_message"}})
    client.post(f"{url}/contacts", json={"contacts": [{"phone": "+14155550100"}]})
    error = error_of(client.post(f"{url}/start"), 409)
    assert error["field"] == "voicemail.message"
    client.patch(url, json={"voicemail": {"action": "leave_message", "message": "Call back"}})
    assert client.post(f"{url}/start").json()["status"] == "running"


def test_never_ending_may_start_empty_and_disabled_workspace(client: TestClient) -> None:
    campaign = create(client, assistant_id=make_assistant(client), never_ending=True,
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]})
    client.patch("/v1/settings", json={"campaigns_enabled": False})
    error = error_of(client.post(f"/v1/campaigns/{campaign['id']}/start"), 409)
    assert error["code"] == "campaigns_disabled"
    client.patch("/v1/settings", json={"campaigns_enabled": True})
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").json()["status"] == "running"


def test_auto_start(client: TestClient) -> None:
    body = ready(client, auto_start=True)
    assert body["status"] == "running"
    assert body["auto_start"] is True
    # not ready: the whole create fails, nothing half-made is left
    error = error_of(client.post("/v1/campaigns", json={"name": "x", "auto_start": True}), 409)
    assert error["field"] == "assistant_id"
    assert len(client.get("/v1/campaigns").json()["data"]) == 1


def test_messaging_only_campaign_needs_no_assistant(client: TestClient) -> None:
    body = create(client, auto_start=True, never_ending=True,
                  caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                  schedule={"runs": [{
                      "start_date": "2026-03-10", "end_date": "2026-03-12",
                      "messaging_only": True,
                      "messages": [{"send_date": "2026-03-10", "send_time": "10:00",
                                    "body": "Hi {{first_name}}"}]}]})
    assert body["status"] == "scheduled"  # the first run is a week away


def test_texts_need_a_number_to_come_from_emails_do_not(client: TestClient) -> None:
    def messaging(channel: str) -> dict[str, Any]:
        return create(client, contacts=[{"phone": "+14155550101"}], schedule={"runs": [{
            "start_date": "2026-03-10", "end_date": "2026-03-12", "messaging_only": True,
            "messages": [{"send_date": "2026-03-10", "send_time": "10:00",
                          "channel": channel, "body": "Hi {{first_name}}"}]}]})

    texts = messaging("sms")
    error = error_of(client.post(f"/v1/campaigns/{texts['id']}/start"), 409)
    assert (error["code"], error["field"]) == ("not_ready", "caller_id.phone_number_ids")
    assert "to send the texts from" in error["message"]
    emails = messaging("email")
    started = client.post(f"/v1/campaigns/{emails['id']}/start")
    assert started.status_code == 200, started.text


# --- PATCH -----------------------------------------------------------------------------------


def test_patch_draft_and_paused_only(client: TestClient) -> None:
    campaign = ready(client)
    url = f"/v1/campaigns/{campaign['id']}"
    patched = client.patch(url, json={"priority": 80, "retry": {"delays_minutes": [5]},
                                      "description": None})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["priority"] == 80
    assert body["retry"]["max_attempts"] == 2  # the section is replaced whole
    assert body["name"] == "Spring renewals"  # untouched
    client.post(f"{url}/start")
    error = error_of(client.patch(url, json={"priority": 10}), 409)
    assert error["code"] == "not_editable" and "'running'" in error["message"]
    assert "pause it first" in error["message"]
    client.post(f"{url}/pause")
    assert client.patch(url, json={"priority": 10}).json()["priority"] == 10
    error = error_of(client.patch(url, json={"assistant_id": None}))
    assert error["field"] == "assistant_id"
    assert error_of(client.patch(url, json={"schedule": None}))["field"] == "schedule"
    assert error_of(client.patch(url, json={"status": "running"}))["field"] == "status"


def test_patch_revalidates_across_sections(client: TestClient) -> None:
    campaign = create(client, schedule={"runs": [
        {"client_run_id": "r1", "start_date": "2026-03-10", "end_date": "2026-03-10",
         "start_time": "09:00", "end_time": "17:00"}]},
        report_schedule={"name": "R", "run_client_ids": ["r1"], "frequency": "daily",
                         "time": "18:00", "recipients": ["a@example.com"]})
    url = f"/v1/campaigns/{campaign['id']}"
    # removing the run the stored report refers to is caught
    error = error_of(client.patch(url, json={"schedule": {"call_hours": {
        "start_time": "09:00", "end_time": "17:00"}}}))
    assert error["field"] == "report_schedule.run_client_ids[0]"
    error = error_of(client.patch(url, json={"assistant_id": new_id()}), 404)
    assert error["field"] == "assistant_id"


def test_concurrent_style_duplicate_adds_are_counted_once(client: TestClient) -> None:
    campaign = create(client)
    url = f"/v1/campaigns/{campaign['id']}/contacts"
    payload = {"contacts": [{"phone": "+14155550100"}, {"phone": "+14155550100"}]}
    assert client.post(url, json=payload).json() == {"added": 1, "duplicates": 1,
                                                     "contacts_total": 1}
    assert client.post(url, json=payload).json() == {"added": 0, "duplicates": 2,
                                                     "contacts_total": 1}


def test_counters_match_rows(client: TestClient, db: Database) -> None:
    campaign = create(client, contacts=[{"phone": f"+1415555{i:04d}"} for i in range(120)])
    client.post(f"/v1/campaigns/{campaign['id']}/contacts",
                json={"contacts": [{"phone": f"+1415555{i:04d}"} for i in range(100, 150)]})
    with db.reading() as session:
        rows = session.scalar(select(func.count()).select_from(CampaignContact).where(
            CampaignContact.campaign_id == campaign["id"]))
    counts = client.get(f"/v1/campaigns/{campaign['id']}").json()["counts"]
    assert rows == counts["contacts_total"] == counts["contacts_pending"] == 150


def test_release_contacts_keeps_counters_true(client: TestClient, db: Database,
                                              clock: ManualClock,
                                              workspace: tuple[str, str]) -> None:
    from ringwise.services import campaigns as service
    from ringwise.services import workspaces
    from ringwise.services.context import Ctx

    ids = make_contacts(client, ["+14155550101", "+14155550102"])
    first = create(client, contact_ids=ids)["id"]
    second = create(client, contact_ids=ids[:1])["id"]
    with db.transaction() as session:
        ctx = Ctx(session=session, workspace=workspaces.get_workspace(session, workspace[0]),
                  now=clock.now())
        service.release_contacts(ctx, ids[:1])
        session.delete(session.get(Contact, ids[0]))
    for campaign_id, left in ((first, 1), (second, 0)):
        counts = client.get(f"/v1/campaigns/{campaign_id}").json()["counts"]
        assert counts["contacts_total"] == counts["contacts_pending"] == left
        assert len(client.get(f"/v1/campaigns/{campaign_id}/contacts").json()["data"]) == left


def test_concurrent_adds_of_the_same_contacts(app: Any, workspace: tuple[str, str]) -> None:
    """Two clients add overlapping contacts at once: no error, each contact once, counters
    equal to the rows (the campaign row lock serializes them)."""
    import threading

    with TestClient(app, headers={"X-API-Key": workspace[1]}) as first, \
            TestClient(app, headers={"X-API-Key": workspace[1]}) as second:
        campaign = create(first)
        url = f"/v1/campaigns/{campaign['id']}/contacts"
        batches = [[{"phone": f"+1415555{i:04d}"} for i in range(0, 300)],
                   [{"phone": f"+1415555{i:04d}"} for i in range(200, 500)]]
        results: list[Any] = [None, None]

        def add(index: int, client: TestClient) -> None:
            results[index] = client.post(url, json={"contacts": batches[index]})

        threads = [threading.Thread(target=add, args=(i, c))
                   for i, c in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
        assert sum(r.json()["added"] for r in results) == 500
        assert sum(r.json()["duplicates"] for r in results) == 100
        counts = first.get(f"/v1/campaigns/{campaign['id']}").json()["counts"]
        assert counts["contacts_total"] == 500


def test_deleting_a_contact_keeps_campaign_counters_true(client: TestClient) -> None:
    a, b = make_contacts(client, ["+14155550111", "+14155550112"])
    body = create(client, contact_ids=[a, b])
    assert client.delete(f"/v1/contacts/{a}").status_code in (200, 204)
    counts = client.get(f"/v1/campaigns/{body['id']}").json()["counts"]
    assert (counts["contacts_total"], counts["contacts_pending"]) == (1, 1)
    rows = client.get(f"/v1/campaigns/{body['id']}/contacts").json()["data"]
    assert [r["contact_id"] for r in rows] == [b]


def test_an_inline_contact_keeps_its_data_when_also_in_a_listed_list(client: TestClient) -> None:
    """The same person in a contact list and inline: one campaign contact, with the inline
    entry's metadata and assistant overrides."""
    contact_ids = make_contacts(client, ["+12125550177"])
    listed = client.post("/v1/contact-lists", json={"name": "L"}).json()
    assert client.post(f"/v1/contact-lists/{listed['id']}/contacts",
                       json={"contact_ids": contact_ids}).status_code == 200
    campaign = create(client, contact_list_ids=[listed["id"]], contacts=[
        {"phone": "+12125550177", "campaign_metadata": {"deal": "A-1"},
         "assistant_overrides": {"first_message": "Hi again"}}])
    rows = client.get(f"/v1/campaigns/{campaign['id']}/contacts").json()["data"]
    assert len(rows) == 1
    assert rows[0]["metadata"] == {"deal": "A-1"}
    assert rows[0]["assistant_overrides"]["first_message"] == "Hi again"
