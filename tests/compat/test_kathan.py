"""/compat/kathan: Kathan's POST /campaign (shared/seeds/001_a57f8b167fd17b0c.txt), sent as a
Kathan client sends it; the campaigns it creates are native and run on the simulated carrier."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringwise.clock import ManualClock
from ringwise.core.api_keys import generate_key
from ringwise.db.engine import Database
from ringwise.db.models import Call, Campaign, Contact
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.telephony.callee import CalleeModel
from ringwise.telephony.port import DialRequest, PlaceResult
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import make_assistant, make_contacts, make_list, make_number

URL = "/compat/kathan/campaign"
FLAT = (1.0,) * 24  # the default multiplier makes some (random) calls go unanswered
ANSWERED = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0, failure_rate=0.0,
                        invalid_rate=0.0, answer_hour_multiplier=FLAT,
                        callee=CalleeModel.from_dict({"weights": {
                            "interested": 1, "not-interested": 0, "call-back": 0,
                            "opt-out": 0}}))
BUSY = CarrierModel(answer_rate=0.0, busy_rate=1.0, voicemail_rate=0.0, failure_rate=0.0,
                    invalid_rate=0.0, answer_hour_multiplier=FLAT)
# The page's response keys, in the page's order.
RESPONSE_KEYS = [
    "id", "name", "assistant_id", "channel", "phone_number_id", "status", "max_concurrency",
    "retry_policy", "speech_settings", "assistant_name", "caller_id_number",
    "schedule_start_time", "schedule_end_time", "campaign_context", "opening_message_template",
    "use_returning_greeting", "use_short_term_summaries", "short_term_summaries_limit",
    "machine_detection_timeout_seconds", "recipient_list_id", "recipient_list_name",
    "recipient_list_row_count", "counts", "created_at", "updated_at"]
PAGE_SPEECH = {"style": "neutral", "responsiveness": "balanced", "interruptions": "on",
               "emotions": "natural"}


class Recording(SimulatedCarrier):
    """The simulated carrier, keeping every dial request it was sent."""

    def __init__(self, model: CarrierModel, seed: int) -> None:
        super().__init__(model, seed=seed)
        self.requests: list[DialRequest] = []

    def place_call(self, request: DialRequest) -> PlaceResult:
        self.requests.append(request)
        return super().place_call(request)


@pytest.fixture
def kathan(app: Any, workspace: tuple[str, str]) -> Iterator[TestClient]:
    """A client as Kathan's page writes it: bearer key plus X-User-ID."""
    headers = {"Authorization": f"Bearer {workspace[1]}", "X-User-ID": "user_42"}
    with TestClient(app, headers=headers) as test_client:
        yield test_client


def post(kathan: TestClient, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = kathan.post(URL, json=body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def minimal(client: TestClient, **body: Any) -> dict[str, Any]:
    """The three required fields (a twilio number: Kathan's default channel)."""
    return {"name": "Renewals", "assistant_id": make_assistant(client),
            "phone_number_id": make_number(client, "+14155550123", "twilio"), **body}


def run(db: Database, clock: ManualClock, carrier: SimulatedCarrier, hours: float) -> None:
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=hours))


def start(client: TestClient, campaign_id: str) -> str:
    response = client.post(f"/v1/campaigns/{campaign_id}/start")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def calls_of(db: Database, campaign_id: str) -> list[Call]:
    with db.reading() as session:
        return list(session.scalars(select(Call).where(Call.campaign_id == campaign_id)
                                    .order_by(Call.started_at, Call.to_number)))


def native(client: TestClient, campaign_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the page's example ---------------------------------------------------------------------


def page_example(client: TestClient) -> dict[str, Any]:
    """The page's request body, each "<string>" replaced by a real value of this workspace."""
    listed = make_list(client, make_contacts(client, ["+12125550101", "+12125550102"]),
                       "March renewals")
    return {
        "name": "Kathan renewals",
        "assistant_id": make_assistant(client, name="Kathan agent"),
        "phone_number_id": make_number(client, "+14155550123", "twilio"),
        "channel": "twilio",
        "scheduleStartTime": "2026-03-03T09:00:00-05:00",
        "scheduleEndTime": "2026-03-06T17:00:00-05:00",
        "max_concurrency": 5,
        "retry_policy": {},
        "speech_settings": dict(PAGE_SPEECH),
        "campaign_context": "Renewals due this month",
        "opening_message_template": "Hi {{first_name}}, it's Ava.",
        "use_returning_greeting": False,
        "use_short_term_summaries": False,
        "short_term_summaries_limit": 123,
        "machine_detection_timeout_seconds": 31,
        "recipient_list_id": listed,
        "recipients": [{"phone_number": "+12125550100", "metadata": {},
                        "assistant_overrides": {}}],
    }


def test_the_page_example_creates_a_native_campaign_and_runs_to_completion(
        kathan: TestClient, client: TestClient, db: Database, clock: ManualClock) -> None:
    request = page_example(client)
    body = post(kathan, request)
    assert list(body) == RESPONSE_KEYS  # the page's response shape, nothing more
    assert body["name"] == "Kathan renewals"
    assert body["assistant_id"] == request["assistant_id"]
    assert body["assistant_name"] == "Kathan agent"
    assert (body["phone_number_id"], body["caller_id_number"]) == (request["phone_number_id"],
                                                                   "+14155550123")
    assert (body["channel"], body["status"], body["max_concurrency"]) == ("twilio", "draft", 5)
    assert body["retry_policy"]["delays_minutes"] and body["retry_policy"]["max_attempts"] >= 1
    assert body["speech_settings"] == PAGE_SPEECH
    assert body["schedule_start_time"] == "2026-03-03T14:00:00Z"
    assert body["schedule_end_time"] == "2026-03-06T22:00:00Z"
    assert body["campaign_context"] == "Renewals due this month"
    assert body["opening_message_template"] == "Hi {{first_name}}, it's Ava."
    assert (body["use_returning_greeting"], body["use_short_term_summaries"],
            body["short_term_summaries_limit"]) == (False, False, 123)
    assert body["machine_detection_timeout_seconds"] == 31
    assert (body["recipient_list_id"], body["recipient_list_name"],
            body["recipient_list_row_count"]) == (request["recipient_list_id"],
                                                  "March renewals", 2)
    assert body["counts"]["contacts_total"] == 3 and body["counts"]["calls_total"] == 0
    assert body["created_at"] == body["updated_at"] == "2026-03-02T15:00:00Z"

    # The same campaign in the native API.
    shown = native(client, body["id"])
    assert shown["caller_id"] == {"mode": "fixed", "phone_number_ids": [
        request["phone_number_id"]], "dial_plan": []}
    assert shown["concurrency_limit"] == 5 and shown["voicemail"]["detection_timeout_seconds"] \
        == 31
    assert shown["memory"]["short_term_summaries_limit"] == 123
    assert shown["opening_message"] == "Hi {{first_name}}, it's Ava."

    # Started (natively: the page has no start route), it waits for scheduleStartTime, then
    # calls everyone from the requested number with the requested AMD timeout.
    assert start(client, body["id"]) == "scheduled"
    carrier = Recording(ANSWERED, seed=3)
    run(db, clock, carrier, hours=30)
    assert native(client, body["id"])["status"] == "completed"
    calls = calls_of(db, body["id"])
    assert sorted(c.to_number for c in calls) == ["+12125550100", "+12125550101",
                                                  "+12125550102"]
    assert all(c.started_at is not None and c.started_at >= datetime.fromisoformat(
        "2026-03-03T14:00:00+00:00") for c in calls)
    assert {r.from_number for r in carrier.requests} == {"+14155550123"}
    assert {r.machine_detection_timeout_s for r in carrier.requests} == {31}
    assert {r.opening_message for r in carrier.requests} == {"Hi {{first_name}}, it's Ava."}


def test_the_page_example_with_its_placeholders_left_in_is_a_422(kathan: TestClient) -> None:
    """"<string>" is no date: the first rule a literal copy of the page breaks."""
    body = post(kathan, {
        "name": "<string>", "assistant_id": "<string>", "phone_number_id": "<string>",
        "channel": "twilio", "scheduleStartTime": "<string>", "scheduleEndTime": "<string>",
        "max_concurrency": 5, "retry_policy": {}, "speech_settings": PAGE_SPEECH,
        "use_returning_greeting": False, "use_short_term_summaries": False,
        "short_term_summaries_limit": 123, "machine_detection_timeout_seconds": 31,
        "recipients": [{"phone_number": "<string>", "metadata": {},
                        "assistant_overrides": {}}]}, 422)
    assert [e["loc"] for e in body["detail"]] == [["body", "scheduleStartTime"],
                                                  ["body", "scheduleEndTime"]]


def test_defaults_of_a_minimal_request(kathan: TestClient, client: TestClient) -> None:
    request = minimal(client)
    body = post(kathan, request)
    assert (body["channel"], body["max_concurrency"], body["status"]) == ("twilio", 5, "draft")
    assert (body["use_returning_greeting"], body["use_short_term_summaries"]) == (False, False)
    assert body["short_term_summaries_limit"] is None
    assert body["machine_detection_timeout_seconds"] is None
    assert body["schedule_start_time"] is None and body["schedule_end_time"] is None
    assert body["recipient_list_id"] is None and body["recipient_list_row_count"] is None
    assert body["speech_settings"] == PAGE_SPEECH  # the assistant's (here: the defaults)
    assert body["retry_policy"] == native(client, body["id"])["retry"]
    assert body["counts"]["contacts_total"] == 0
    shown = native(client, body["id"])
    assert shown["concurrency_limit"] == 5 and shown["channel"] == "twilio"
    assert shown["speech_settings"] is None  # not given: the assistant's apply at call time


def test_a_naive_schedule_time_is_the_workspaces_zone(kathan: TestClient,
                                                      client: TestClient) -> None:
    body = post(kathan, minimal(client, scheduleStartTime="2026-03-03T09:00:00",
                                scheduleEndTime="2026-03-03T17:30"))
    assert body["schedule_start_time"] == "2026-03-03T14:00:00Z"  # America/New_York
    assert body["schedule_end_time"] == "2026-03-03T22:30:00Z"


def test_recipients_metadata_and_overrides_are_stored_per_campaign(
        kathan: TestClient, client: TestClient) -> None:
    body = post(kathan, minimal(client, recipients=[
        {"phone_number": "+12125550100", "metadata": {"ticket": "T-1"},
         "assistant_overrides": {"first_message": "Hi, about T-1",
                                 "variables": {"plan": "Gold"}}},
        {"phone_number": "+12125550199"}]))
    assert body["counts"]["contacts_total"] == 2
    rows = client.get(f"/v1/campaigns/{body['id']}/contacts").json()["data"]
    by_phone = {r["phone"]: r for r in rows}
    assert by_phone["+12125550100"]["metadata"] == {"ticket": "T-1"}
    assert by_phone["+12125550100"]["assistant_overrides"] == {
        "first_message": "Hi, about T-1", "variables": {"plan": "Gold"}}
    assert by_phone["+12125550199"]["metadata"] is None


# --- behaviour on the simulated carrier -----------------------------------------------------


def test_retry_policy_minutes_are_kept(kathan: TestClient, client: TestClient, db: Database,
                                       clock: ManualClock) -> None:
    body = post(kathan, minimal(client, retry_policy={"delays_minutes": [30], "max_attempts": 2},
                                recipients=[{"phone_number": "+12125550100"}]))
    assert body["retry_policy"]["delays_minutes"] == [30]
    assert start(client, body["id"]) == "running"
    run(db, clock, SimulatedCarrier(BUSY, seed=1), hours=3)
    first, second = calls_of(db, body["id"])
    assert (first.outcome, second.outcome) == ("busy", "busy")
    assert first.ended_at is not None and second.started_at is not None
    gap = second.started_at - first.ended_at
    assert timedelta(minutes=30) <= gap < timedelta(minutes=31)
    assert native(client, body["id"])["status"] == "completed"


def test_the_schedule_window_bounds_every_call(kathan: TestClient, client: TestClient,
                                               db: Database, clock: ManualClock) -> None:
    """Start at 12:00 New York (naive), end at 13:00: retries every 20 minutes stop there."""
    body = post(kathan, minimal(
        client, scheduleStartTime="2026-03-02T12:00:00", scheduleEndTime="2026-03-02T13:00",
        retry_policy={"delays_minutes": [20], "max_attempts": 10},
        recipients=[{"phone_number": "+12125550100"}]))
    assert start(client, body["id"]) == "scheduled"
    run(db, clock, SimulatedCarrier(BUSY, seed=1), hours=6)
    calls = calls_of(db, body["id"])
    opens, closes = (datetime.fromisoformat(t) for t in ("2026-03-02T17:00:00+00:00",
                                                         "2026-03-02T18:00:00+00:00"))
    starts = [c.started_at for c in calls if c.started_at is not None]
    assert len(starts) == len(calls) >= 2
    assert starts[0] == opens
    assert all(opens <= s < closes for s in starts)
    assert len(calls) < 10  # the window, not max_attempts, ended the retries
    assert native(client, body["id"])["status"] == "completed"


def test_max_concurrency_caps_calls_in_flight(kathan: TestClient, client: TestClient,
                                              db: Database, clock: ManualClock) -> None:
    phones = [f"+1212555{n:04d}" for n in range(100, 106)]
    body = post(kathan, minimal(client, max_concurrency=2,
                                recipients=[{"phone_number": p} for p in phones]))
    start(client, body["id"])
    run(db, clock, SimulatedCarrier(ANSWERED, seed=4), hours=3)
    calls = calls_of(db, body["id"])
    assert len(calls) == 6 and {c.outcome for c in calls} == {"answered"}
    spans = [(c.started_at, c.ended_at) for c in calls]
    in_flight = [sum(1 for s, e in spans if s is not None and e is not None and s <= t < e)
                 for t, _ in spans if t is not None]
    assert max(in_flight) == 2
    assert native(client, body["id"])["status"] == "completed"


def test_memory_flags_are_honoured_by_the_dialer(kathan: TestClient, client: TestClient,
                                                 db: Database, clock: ManualClock) -> None:
    """use_returning_greeting: the assistant's returning greeting for a contact reached before;
    use_short_term_summaries + limit: that many summaries of its earlier calls."""
    assistant = make_assistant(client, returning_greeting="Welcome back {{first_name}}!")
    number = make_number(client, "+14155550123", "twilio")
    recipients = [{"phone_number": "+12125550100"}]
    carrier = Recording(ANSWERED, seed=5)

    def campaign(**memory: Any) -> None:
        body = post(kathan, {"name": "Follow-up", "assistant_id": assistant,
                             "phone_number_id": number, "recipients": recipients, **memory})
        start(client, body["id"])
        run(db, clock, carrier, hours=1)
        AnalysisRunner(db, clock, worker_id="r1").run_due(20)

    campaign()
    campaign()  # reached before, but the flags are off
    campaign(use_returning_greeting=True, use_short_term_summaries=True,
             short_term_summaries_limit=1)
    first, plain, remembered = carrier.requests
    assert plain.opening_message == first.opening_message != "Welcome back {{first_name}}!"
    assert plain.previous_summaries == ()
    assert remembered.opening_message == "Welcome back {{first_name}}!"
    assert len(remembered.previous_summaries) == 1  # two earlier calls, limit 1


# --- validation rules -----------------------------------------------------------------------


RULES: list[tuple[dict[str, Any], list[str | int], str]] = [
    ({"name": None}, ["name"], "string_type"),
    ({"channel": "sip"}, ["channel"], "literal_error"),
    ({"max_concurrency": 0}, ["max_concurrency"], "greater_than_equal"),
    ({"max_concurrency": 201}, ["max_concurrency"], "less_than_equal"),
    ({"machine_detection_timeout_seconds": 2}, ["machine_detection_timeout_seconds"],
     "greater_than_equal"),
    ({"machine_detection_timeout_seconds": 61}, ["machine_detection_timeout_seconds"],
     "less_than_equal"),
    ({"speech_settings": {"style": "shouty"}}, ["speech_settings", "style"], "literal_error"),
    ({"scheduleStartTime": "tomorrow"}, ["scheduleStartTime"], "value_error"),
    ({"scheduleStartTime": "2026-03-04T10:00:00Z", "scheduleEndTime": "2026-03-04T09:00:00Z"},
     ["scheduleEndTime"], "value_error"),
    ({"scheduleEndTime": "2026-03-01T10:00:00Z"}, ["scheduleEndTime"], "value_error"),
    ({"scheduleEndTime": "9999-12-31T23:59:00"}, ["scheduleEndTime"], "value_error"),
    ({"retry_policy": {"max_retries": 3}}, ["retry_policy", "max_retries"], "extra_forbidden"),
    ({"retry_policy": {"delays_minutes": [0]}}, ["retry_policy", "delays_minutes", 0],
     "value_error"),
    ({"short_term_summaries_limit": 0}, ["short_term_summaries_limit"], "greater_than_equal"),
    ({"opening_message_template": "Hi {{first_name"}, ["opening_message_template"],
     "value_error"),
    ({"recipients": [{"metadata": {}}]}, ["recipients", 0, "phone_number"], "missing"),
    ({"recipients": [{"phone_number": "12"}]}, ["recipients", 0, "phone_number"],
     "value_error"),
    ({"recipients": [{"phone_number": "+12125550100", "assistant_overrides": {"tone": "x"}}]},
     ["recipients", 0, "assistant_overrides", "tone"], "extra_forbidden"),
    ({"use_returning_greeting": "maybe"}, ["use_returning_greeting"], "bool_parsing"),
]


def test_each_rule_is_a_422_naming_the_kathan_field(
        kathan: TestClient, client: TestClient, db: Database) -> None:
    """One test for all the rules (a database per rule would cost seconds each)."""
    request = minimal(client)
    for change, loc, kind in RULES:
        body = post(kathan, {**request, **change}, 422)
        first = body["detail"][0]
        assert (first["loc"], first["type"]) == (["body", *loc], kind), (change, body)
        assert set(first) >= {"type", "loc", "msg", "input"}
    for field in ("name", "assistant_id", "phone_number_id"):
        partial = {k: v for k, v in request.items() if k != field}
        assert post(kathan, partial, 422)["detail"] == [{
            "type": "missing", "loc": ["body", field], "msg": "Field required",
            "input": partial}]
    with db.reading() as session:  # nothing written
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_number_of_another_provider_than_channel(kathan: TestClient,
                                                   client: TestClient) -> None:
    body = post(kathan, minimal(client, channel="vobiz"), 422)
    assert body["detail"][0]["loc"] == ["body", "phone_number_id"]
    assert "twilio number" in body["detail"][0]["msg"]


def test_an_unknown_id_is_a_404_naming_the_field(kathan: TestClient, client: TestClient,
                                                 db: Database) -> None:
    request = minimal(client, recipients=[{"phone_number": "+12125550100"}])
    for field, value in (("assistant_id", "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f"),
                         ("phone_number_id", "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"),
                         ("recipient_list_id", "2f0e1d3c-4b5a-4678-9a0b-1c2d3e4f5a6b")):
        body = post(kathan, {**request, field: value}, 404)
        assert body["detail"].startswith(f"{field}: ") and value in body["detail"], body
    with db.reading() as session:
        # The inline recipient is upserted before the list is looked up: it must not stay.
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_another_workspaces_objects_are_not_found(kathan: TestClient, client: TestClient,
                                                  other_client: TestClient) -> None:
    theirs = make_assistant(other_client)
    body = post(kathan, minimal(client, assistant_id=theirs), 404)
    assert body == {"detail": f"assistant_id: assistant '{theirs}' not found"}


def test_authentication(anon_client: TestClient, workspace: tuple[str, str]) -> None:
    for headers, detail, scheme in (
            ({}, "Not authenticated", "Bearer"),
            ({"X-User-ID": "user_42"}, "Not authenticated", "Bearer"),
            ({"Authorization": f"Bearer {workspace[1]}"}, "Not authenticated", "APIKey"),
            ({"X-User-ID": " ", "Authorization": f"Bearer {workspace[1]}"},
             "Not authenticated", "APIKey"),
            ({"X-User-ID": "user_42", "Authorization": "Basic abc"}, "Not authenticated",
             "Bearer"),
            ({"X-User-ID": "user_42", "Authorization": "Bearer rw_live_nope"},
             "malformed API key: Ringwise keys look like rw_live_...", "Bearer"),
            ({"X-User-ID": "user_42", "Authorization": f"Bearer {generate_key().secret}"},
             "unknown API key", "Bearer")):
        response = anon_client.post(URL, json={"name": "x"}, headers=headers)
        assert (response.status_code, response.json()) == (401, {"detail": detail}), headers
        assert response.headers["www-authenticate"] == scheme


def test_the_key_may_also_come_as_x_api_key(anon_client: TestClient, client: TestClient,
                                            workspace: tuple[str, str]) -> None:
    response = anon_client.post(URL, json=minimal(client),
                                headers={"x-api-key": workspace[1], "x-user-id": "u"})
    assert response.status_code == 200, response.text
