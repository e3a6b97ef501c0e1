"""/compat/kayse: every example of the Kayse page (shared/seeds/002_225ed1004cde9c63.txt) sent
as written, every documented validation rule broken once, and the campaigns it creates run on
the simulated carrier with the behaviour their fields ask for (docs/compat/kayse.md)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.compat import ids
from ringwise.db.engine import Database
from ringwise.db.models import Call
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.results.messages import MessageRunner
from ringwise.telephony.messaging import SimulatedSms
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import make_assistant, make_contacts, make_list, make_number
from tests.helpers import error_of

BASE = "/compat/kayse/v1"
NEW_YORK = ZoneInfo("America/New_York")
PHONES = ["+12125550100", "+12125550101", "+12125550102"]  # New York: contact-local = NY
ALWAYS_ANSWERED = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                               failure_rate=0.0, invalid_rate=0.0,
                               answer_hour_multiplier=(1.0,) * 24)
MIXED = CarrierModel(answer_rate=0.6, busy_rate=0.1, voicemail_rate=0.2, failure_rate=0.05,
                     invalid_rate=0.0)

# The page's create example, verbatim (its two ids are replaced by real ones where needed).
EXAMPLE: dict[str, Any] = {
    "name": "Outreach Campaign",
    "agent_id": "abc_123",
    "case_list_id": 123,
    "is_obo": False,
    "calls_scheduled_externally": False,
    "runs": [{"client_run_id": "run-1", "start_date": "2026-02-20", "end_date": "2026-02-20",
              "start_time": "09:00", "end_time": "17:00", "messaging_only": False}],
    "report_schedule": {"name": "Weekly Campaign Report", "run_client_ids": ["run-1"],
                        "frequency": "weekly", "weekday": 2, "time": "09:30",
                        "recipients": ["reports@firm.com"], "format": "csv",
                        "date_range": "cumulative", "filters": {}},
}


@pytest.fixture
def kayse(app: Any, workspace: tuple[str, str]) -> Iterator[TestClient]:
    """A client authenticated the Kayse way: X-API-KEY (spelled as on the page)."""
    with TestClient(app, headers={"X-API-KEY": workspace[1]}) as test_client:
        yield test_client


def case_list(kayse: TestClient, client: TestClient, phones: list[str] = PHONES,
              name: str = "Case list") -> int:
    """A native contact list with these contacts, by the integer id Kayse bodies use."""
    if phones:
        native = make_list(client, make_contacts(client, phones), name)
    else:
        native = client.post("/v1/contact-lists", json={"name": name}).json()["id"]
    listed = kayse.get(f"{BASE}/case-lists")
    assert listed.status_code == 200, listed.text
    return int(next(row["id"] for row in listed.json() if row["native_id"] == native))


def body(kayse: TestClient, client: TestClient, **changes: Any) -> dict[str, Any]:
    """The example with a real assistant and case list (and one caller number)."""
    make_number(client)
    data = copy.deepcopy(EXAMPLE)
    data.update(agent_id=make_assistant(client), case_list_id=case_list(kayse, client))
    data.update(changes)
    return data


def post(kayse: TestClient, data: dict[str, Any], status: int = 201) -> Any:
    response = kayse.post(f"{BASE}/campaigns", json=data)
    assert response.status_code == status, response.text
    return response.json()


def native(db: Database, workspace: tuple[str, str], kayse_id: int) -> str:
    with db.reading() as session:
        found = ids.native_id(session, "kayse", "campaign", workspace[0], kayse_id)
    assert found is not None
    return found


def run(db: Database, clock: ManualClock, model: CarrierModel = ALWAYS_ANSWERED,
        days: float = 5) -> list[Call]:
    carrier = SimulatedCarrier(model, seed=3)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(days=days))
    with db.reading() as session:
        return list(session.scalars(select(Call).order_by(Call.started_at)))


def local(at: datetime | None) -> datetime:
    assert at is not None
    return at.replace(tzinfo=UTC).astimezone(NEW_YORK) if at.tzinfo is None \
        else at.astimezone(NEW_YORK)


def max_in_flight(calls: list[Call]) -> int:
    edges = sorted([(local(c.started_at), 1) for c in calls]
                   + [(local(c.ended_at), -1) for c in calls])  # an end sorts before a start
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


# --- POST /v1/campaigns: the example --------------------------------------------------------


def test_the_create_example_answers_an_integer_id_and_maps_every_field(
        kayse: TestClient, client: TestClient, db: Database,
        workspace: tuple[str, str]) -> None:
    data = body(kayse, client)
    created = post(kayse, data)
    assert created == {"id": created["id"]} and isinstance(created["id"], int)

    campaign = client.get(f"/v1/campaigns/{native(db, workspace, created['id'])}").json()
    assert campaign["name"] == "Outreach Campaign"
    assert campaign["assistant_id"] == data["agent_id"]
    assert campaign["counts"]["contacts_total"] == 3  # the case list's members
    assert campaign["options"] == {"on_behalf_of_clients": False,
                                   "calls_scheduled_externally": False,
                                   "self_healing_disabled": False, "form_id": None}
    assert campaign["schedule"]["runs"] == [{
        "client_run_id": "run-1", "start_date": "2026-02-20", "end_date": "2026-02-20",
        "start_time": "09:00", "end_time": "17:00", "messaging_only": False,
        "selected_days": [], "messages": []}]
    assert campaign["caller_id"] == {"mode": "pool", "phone_number_ids": [], "dial_plan": []}
    assert campaign["concurrency_limit"] == 0 and campaign["never_ending"] is False
    assert campaign["status"] == "running"  # Kayse has no start call: started at creation
    assert campaign["metadata"] == {"kayse": {"case_list_id": data["case_list_id"]}}

    # report_schedule: the campaign's e-mail report exists from the same transaction on
    reports = client.get(f"/v1/campaigns/{campaign['id']}/reports").json()["data"]
    assert len(reports) == 1
    report = reports[0]
    assert {k: report[k] for k in EXAMPLE["report_schedule"]} == EXAMPLE["report_schedule"]
    assert report["source"] == "campaign"
    assert report["next_send_at"] == "2026-03-03T14:30:00Z"  # Tuesday (2) 09:30 New York


def test_the_example_as_written_names_ids_this_workspace_does_not_have(
        kayse: TestClient, client: TestClient) -> None:
    error = error_of(kayse.post(f"{BASE}/campaigns", json=EXAMPLE), 404)
    assert error["field"] == "case_list_id" and "123" in error["message"]
    with_list = {**EXAMPLE, "case_list_id": case_list(kayse, client)}
    error = error_of(kayse.post(f"{BASE}/campaigns", json=with_list), 404)
    assert error["field"] == "agent_id" and "abc_123" in error["message"]


def test_the_example_run_is_over_so_the_campaign_completes_without_a_call(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    campaign_id = native(db, workspace, post(kayse, body(kayse, client))["id"])
    assert run(db, clock, days=1) == []  # 2026-02-20 was before today (2026-03-02)
    campaign = client.get(f"/v1/campaigns/{campaign_id}").json()
    assert campaign["status"] == "completed"
    assert campaign["counts"]["contacts_skipped"] == 3


def test_integer_ids_are_stable_and_per_object(
        kayse: TestClient, client: TestClient, db: Database,
        workspace: tuple[str, str]) -> None:
    data = body(kayse, client)
    first, second = post(kayse, data)["id"], post(kayse, data)["id"]
    assert first != second
    assert native(db, workspace, first) != native(db, workspace, second)
    lists = kayse.get(f"{BASE}/case-lists").json()
    assert lists == kayse.get(f"{BASE}/case-lists").json()
    assert [row["contact_count"] for row in lists] == [3]


# --- the campaign runs as its fields say ----------------------------------------------------


def test_a_run_calls_on_its_dates_in_its_window_within_its_concurrency(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    phones = [f"+1212555{n:04d}" for n in range(200, 206)]
    data = body(kayse, client, case_list_id=None, concurrency_limit=2, report_schedule=None,
                runs=[{"start_date": "2026-03-04", "end_date": "2026-03-04",
                       "start_time": "11:00", "end_time": "12:00"}])
    data["case_list_id"] = case_list(kayse, client, phones, "Six")
    campaign_id = native(db, workspace, post(kayse, data)["id"])
    assert client.get(f"/v1/campaigns/{campaign_id}").json()["status"] == "scheduled"
    calls = run(db, clock)
    assert len(calls) == 6
    starts = [local(c.started_at) for c in calls]
    assert all(s.date().isoformat() == "2026-03-04" and 11 <= s.hour < 12 for s in starts)
    assert max_in_flight(calls) == 2
    assert client.get(f"/v1/campaigns/{campaign_id}").json()["status"] == "completed"


def test_selected_days_only(kayse: TestClient, client: TestClient, db: Database,
                            clock: ManualClock) -> None:
    post(kayse, body(kayse, client, report_schedule=None, runs=[
        {"start_date": "2026-03-03", "end_date": "2026-03-06", "start_time": "09:00",
         "end_time": "17:00", "selected_days": ["2026-03-05"]}]))
    calls = run(db, clock)
    assert len(calls) == 3
    assert {local(c.started_at).date().isoformat() for c in calls} == {"2026-03-05"}


def test_company_hours_replace_the_run_times(kayse: TestClient, client: TestClient,
                                             db: Database, clock: ManualClock) -> None:
    post(kayse, body(kayse, client, report_schedule=None, use_company_hours=True,
                     business_hours=[{"start_time": "13:00", "end_time": "14:00"}],
                     runs=[{"start_date": "2026-03-03", "end_date": "2026-03-03",
                            "start_time": "09:00", "end_time": "10:00"},
                           {"start_date": "2026-03-04", "end_date": "2026-03-04"}]))
    calls = run(db, clock)
    assert len(calls) == 3
    assert all(local(c.started_at).hour == 13 for c in calls)
    assert {local(c.started_at).date().isoformat() for c in calls} == {"2026-03-03"}


def test_messaging_only_runs_need_no_agent_and_place_no_call(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    data = body(kayse, client, report_schedule=None, runs=[{
        "start_date": "2026-03-03", "end_date": "2026-03-04", "messaging_only": True,
        "messages": [{"send_date": "2026-03-03", "send_time": "10:00",
                      "body": "Hi {{first_name}}, a reminder about your case."}]}])
    del data["agent_id"]
    campaign_id = native(db, workspace, post(kayse, data)["id"])
    # The run's message goes to every case, at 10:00 in New York on its date.
    texts = SimulatedSms()
    messages = MessageRunner(db, clock, texts, worker_id="m1")
    messages.run_due()  # planned
    assert messages.next_due() == datetime(2026, 3, 3, 15, tzinfo=UTC)
    clock.set(datetime(2026, 3, 3, 15, tzinfo=UTC))
    messages.run_due()
    assert sorted(request.to_number for request, _ in texts.sent) == PHONES
    sent = client.get(f"/v1/campaigns/{campaign_id}/messages").json()["data"]
    assert {(m["status"], m["sent_at"]) for m in sent} == {("sent", "2026-03-03T15:00:00Z")}
    assert run(db, clock, days=3) == []
    campaign = client.get(f"/v1/campaigns/{campaign_id}").json()
    assert campaign["assistant_id"] is None and campaign["status"] == "completed"
    assert campaign["schedule"]["runs"][0]["messages"][0]["send_time"] == "10:00"


def test_never_ending_stays_running_when_the_list_is_done(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    data = body(kayse, client, report_schedule=None, never_ending=True, runs=[
        {"start_date": "2026-03-02", "end_date": "2026-03-31", "start_time": "09:00",
         "end_time": "17:00"}])
    campaign_id = native(db, workspace, post(kayse, data)["id"])
    assert len(run(db, clock, days=1)) == 3
    campaign = client.get(f"/v1/campaigns/{campaign_id}").json()
    assert campaign["counts"]["contacts_done"] == 3
    assert campaign["status"] == "running"  # without never_ending it would be completed


def test_concurrency_limit_zero_means_the_workspace_limit(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock) -> None:
    assert client.patch("/v1/settings", json={"concurrency_limit": 3}).status_code == 200
    phones = [f"+1212555{n:04d}" for n in range(300, 306)]
    data = body(kayse, client, case_list_id=None, concurrency_limit=0, report_schedule=None,
                runs=[{"start_date": "2026-03-02", "end_date": "2026-03-02",
                       "start_time": "09:00", "end_time": "17:00"}])
    data["case_list_id"] = case_list(kayse, client, phones, "Six")
    post(kayse, data)
    calls = run(db, clock, days=1)
    assert len(calls) == 6 and max_in_flight(calls) == 3


def test_the_compat_default_caller_numbers_are_used(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    data = body(kayse, client, report_schedule=None, runs=[
        {"start_date": "2026-03-02", "end_date": "2026-03-02", "start_time": "09:00",
         "end_time": "17:00"}])
    chosen = make_number(client, "+12125550999")
    assert client.patch("/v1/settings", json={"compat": {"phone_number_ids": [chosen]}}) \
        .status_code == 200
    campaign_id = native(db, workspace, post(kayse, data)["id"])
    caller_id = client.get(f"/v1/campaigns/{campaign_id}").json()["caller_id"]
    assert caller_id["phone_number_ids"] == [chosen]
    calls = run(db, clock, days=1)
    assert len(calls) == 3 and {c.phone_number_id for c in calls} == {chosen}


# --- validation: each documented rule, broken ------------------------------------------------

RULES: list[tuple[str, dict[str, Any], str]] = [
    ("name required", {"name": None}, "name"),
    ("case_list_id required", {"case_list_id": None}, "case_list_id"),
    ("case_list_id is an integer", {"case_list_id": "123"}, "case_list_id"),
    ("case_list_id fits an id", {"case_list_id": 2**63}, "case_list_id"),
    ("case_list_id is positive", {"case_list_id": 0}, "case_list_id"),
    ("runs required", {"runs": None}, "runs"),
    ("at least one run", {"runs": []}, "runs"),
    ("start_date required", {"runs": [{"end_date": "2026-03-03", "start_time": "09:00",
                                       "end_time": "17:00"}]}, "runs[0].start_date"),
    ("end_date required", {"runs": [{"start_date": "2026-03-03", "start_time": "09:00",
                                     "end_time": "17:00"}]}, "runs[0].end_date"),
    ("dates are YYYY-MM-DD", {"runs": [{"start_date": "03/03/2026", "end_date": "2026-03-03",
                                        "start_time": "09:00", "end_time": "17:00"}]},
     "runs[0].start_date"),
    ("start_time required for calling runs",
     {"runs": [{"start_date": "2026-03-03", "end_date": "2026-03-03"}]}, "runs[0].start_time"),
    ("end_time required for calling runs",
     {"runs": [{"start_date": "2026-03-03", "end_date": "2026-03-03", "start_time": "09:00"}]},
     "runs[0].end_time"),
    ("times are HH:mm", {"runs": [{"start_date": "2026-03-03", "end_date": "2026-03-03",
                                   "start_time": "9am", "end_time": "17:00"}]},
     "runs[0].start_time"),
    ("messaging-only runs take no call times",
     {"runs": [{"start_date": "2026-03-03", "end_date": "2026-03-03", "start_time": "09:00",
                "end_time": "17:00", "messaging_only": True}]}, "runs[0].start_time"),
    ("agent_id required unless all runs are messaging-only", {"agent_id": None}, "agent_id"),
    ("concurrency_limit is not negative", {"concurrency_limit": -1}, "concurrency_limit"),
    ("concurrency_limit is an integer", {"concurrency_limit": "5"}, "concurrency_limit"),
    ("form_id is an integer", {"form_id": "form-7"}, "form_id"),
    ("business_hours required with use_company_hours", {"use_company_hours": True},
     "business_hours"),
    ("slots start from 08:00", {"use_company_hours": True, "business_hours": [
        {"start_time": "07:30", "end_time": "12:00"}]}, "business_hours[0]"),
    ("slots end by 21:00", {"use_company_hours": True, "business_hours": [
        {"start_time": "18:00", "end_time": "21:30"}]}, "business_hours[0]"),
    ("a slot ends after it starts", {"use_company_hours": True, "business_hours": [
        {"start_time": "12:00", "end_time": "09:00"}]}, "business_hours[0].end_time"),
    ("slots do not overlap", {"use_company_hours": True, "business_hours": [
        {"start_time": "09:00", "end_time": "12:00"},
        {"start_time": "11:00", "end_time": "13:00"}]}, "business_hours[1]"),
    ("a slot needs start_time", {"use_company_hours": True, "business_hours": [
        {"end_time": "12:00"}]}, "business_hours[0].start_time"),
    ("unknown fields are refused", {"agent": "abc"}, "agent"),
]
REPORT_RULES: list[tuple[str, dict[str, Any], str]] = [
    ("name required", {"name": None}, "report_schedule.name"),
    ("frequency required", {"frequency": None}, "report_schedule.frequency"),
    ("frequency is daily, weekly or monthly", {"frequency": "hourly"},
     "report_schedule.frequency"),
    ("weekly needs weekday", {"weekday": None}, "report_schedule.weekday"),
    ("weekday is 0-6", {"weekday": 7}, "report_schedule.weekday"),
    ("weekday only for weekly", {"frequency": "daily"}, "report_schedule.weekday"),
    ("monthly needs day_of_month", {"frequency": "monthly", "weekday": None},
     "report_schedule.day_of_month"),
    ("day_of_month is 1-31", {"frequency": "monthly", "weekday": None, "day_of_month": 32},
     "report_schedule.day_of_month"),
    ("day_of_month is 1-31 (0)", {"frequency": "monthly", "weekday": None, "day_of_month": 0},
     "report_schedule.day_of_month"),
    ("time required", {"time": None}, "report_schedule.time"),
    ("time is HH:mm", {"time": "9.30"}, "report_schedule.time"),
    ("recipients required", {"recipients": None}, "report_schedule.recipients"),
    ("recipients are e-mails", {"recipients": ["reports"]}, "report_schedule.recipients[0]"),
    ("format is csv", {"format": "pdf"}, "report_schedule.format"),
    ("date_range enum", {"date_range": "all_time"}, "report_schedule.date_range"),
    ("run_client_ids match runs", {"run_client_ids": ["run-9"]},
     "report_schedule.run_client_ids[0]"),
]


# Request-only checks: one database engine is enough (the others run on both).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _without_nones(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@sqlite_only
def test_each_rule_broken_is_a_422_naming_the_kayse_field(kayse: TestClient,
                                                          client: TestClient) -> None:
    # One database for every rule (they are checked before anything is written).
    base = body(kayse, client)
    for rule, change, field in RULES:
        data = _without_nones({**base, **change})
        error = error_of(kayse.post(f"{BASE}/campaigns", json=data))
        assert (error["code"], error["field"]) == ("invalid", field), (rule, error)
        assert error["message"].startswith(f"{field}: "), (rule, error)
    assert client.get("/v1/campaigns").json()["data"] == []  # nothing written


@sqlite_only
def test_each_report_schedule_rule_broken_is_a_422(kayse: TestClient,
                                                   client: TestClient) -> None:
    base = body(kayse, client)
    for rule, change, field in REPORT_RULES:
        report = _without_nones({**EXAMPLE["report_schedule"], **change})
        error = error_of(kayse.post(f"{BASE}/campaigns", json={**base,
                                                                "report_schedule": report}))
        assert (error["code"], error["field"]) == ("invalid", field), (rule, error)
    assert client.get("/v1/campaigns").json()["data"] == []


def test_report_schedule_variants_are_accepted(kayse: TestClient, client: TestClient,
                                               db: Database,
                                               workspace: tuple[str, str]) -> None:
    variants: list[dict[str, Any]] = [
        {"frequency": "daily", "weekday": None},
        {"frequency": "monthly", "weekday": None, "day_of_month": 31,
         "date_range": "previous_month"},
        {"run_client_ids": [], "format": None, "date_range": None, "filters": None}]
    for report in variants:
        schedule = _without_nones({**EXAMPLE["report_schedule"], **report})
        created = post(kayse, body(kayse, client, report_schedule=schedule))
        campaign_id = native(db, workspace, created["id"])
        stored = client.get(f"/v1/campaigns/{campaign_id}").json()["report_schedule"]
        assert stored["frequency"] == schedule["frequency"]
        assert stored["format"] == "csv"


@sqlite_only
def test_a_duplicate_client_run_id_names_the_run(kayse: TestClient,
                                                 client: TestClient) -> None:
    # Checked by the native schedule: its error is renamed to Kayse's field.
    runs = [{**EXAMPLE["runs"][0]}, {**EXAMPLE["runs"][0]}]
    error = error_of(kayse.post(f"{BASE}/campaigns", json=body(kayse, client, runs=runs)))
    assert error["field"] == "runs[1].client_run_id"
    assert error["message"].startswith("runs[1].client_run_id:")


def test_start_prerequisites_are_409s(kayse: TestClient, client: TestClient) -> None:
    data = body(kayse, client)
    empty = case_list(kayse, client, [], "Empty")
    error = error_of(kayse.post(f"{BASE}/campaigns", json={**data, "case_list_id": empty}), 409)
    assert error["code"] == "not_ready" and error["field"] == "case_list_id"
    assert client.patch("/v1/settings", json={"campaigns_enabled": False}).status_code == 200
    error = error_of(kayse.post(f"{BASE}/campaigns", json=data), 409)
    assert error["code"] == "campaigns_disabled"
    assert client.get("/v1/campaigns").json()["data"] == []


def test_another_workspaces_case_list_and_agent_are_not_found(
        kayse: TestClient, client: TestClient, other_client: TestClient) -> None:
    data = body(kayse, client)
    theirs = make_list(other_client, make_contacts(other_client, PHONES))
    other_kayse_lists = other_client.get(f"{BASE}/case-lists").json()
    assert [row["native_id"] for row in other_kayse_lists] == [theirs]
    error = error_of(kayse.post(f"{BASE}/campaigns", json={
        **data, "case_list_id": other_kayse_lists[0]["id"]}), 404)
    assert error["field"] == "case_list_id"
    error = error_of(kayse.post(f"{BASE}/campaigns", json={
        **data, "agent_id": make_assistant(other_client)}), 404)
    assert error["field"] == "agent_id"


@sqlite_only
def test_authentication(anon_client: TestClient, workspace: tuple[str, str]) -> None:
    assert error_of(anon_client.get(f"{BASE}/campaigns"), 401)["code"] == "unauthenticated"
    assert error_of(anon_client.get(f"{BASE}/campaigns/settings",
                                    headers={"X-API-KEY": "rw_live_nope"}), 401)
    assert error_of(anon_client.post(f"{BASE}/campaigns", json=EXAMPLE), 401)
    for header in ("X-API-KEY", "x-api-key"):
        response = anon_client.get(f"{BASE}/campaigns", headers={header: workspace[1]})
        assert response.status_code == 200, response.text


# --- GET /v1/campaigns/settings ------------------------------------------------------------


@sqlite_only
def test_settings_example(kayse: TestClient, client: TestClient) -> None:
    assert kayse.get(f"{BASE}/campaigns/settings").json() == {
        "is_enabled": True, "concurrency_rate": 100, "business_hours": None}
    client.patch("/v1/settings", json={"concurrency_rate": 70, "business_hours": [
        {"start_time": "09:00", "end_time": "12:00"},
        {"start_time": "13:00", "end_time": "17:00"}]})
    response = kayse.get(f"{BASE}/campaigns/settings")
    assert response.status_code == 200
    assert response.json() == {
        "is_enabled": True, "concurrency_rate": 70,
        "business_hours": [{"start_time": "09:00", "end_time": "12:00"},
                           {"start_time": "13:00", "end_time": "17:00"}]}
    client.patch("/v1/settings", json={"campaigns_enabled": False})
    assert kayse.get(f"{BASE}/campaigns/settings").json()["is_enabled"] is False


# --- GET /v1/campaigns?key= ----------------------------------------------------------------


def test_list_example_shape_and_search(kayse: TestClient, client: TestClient) -> None:
    data = body(kayse, client)
    created = post(kayse, data)["id"]
    post(kayse, {**data, "name": "Renewals"})
    client.post("/v1/campaigns", json={"name": "Native outreach"})  # not made through Kayse
    response = kayse.get(f"{BASE}/campaigns", params={"key": "outreach"})
    assert response.status_code == 200, response.text
    rows = sorted(response.json(), key=lambda row: str(row["name"]))
    assert [r["name"] for r in rows] == ["Native outreach", "Outreach Campaign"]
    mine = rows[1]
    assert mine == {
        "id": created, "name": "Outreach Campaign", "agent_id": data["agent_id"],
        "case_list_id": data["case_list_id"], "origin": "public_api", "update_origin": None,
        "stats": {"total_calls": 0, "success_calls": 0, "success_calls_percentage": None,
                  "failed_calls": 0, "average_sentiment_score": None,
                  "conversion_rate": 0.0}}
    assert isinstance(rows[0]["id"], int) and rows[0]["id"] != created
    assert rows[0]["case_list_id"] is None and rows[0]["agent_id"] is None
    again = kayse.get(f"{BASE}/campaigns", params={"key": "OUTREACH"}).json()
    # the native campaign's id was allocated once
    assert sorted(again, key=lambda row: str(row["name"])) == rows
    assert len(kayse.get(f"{BASE}/campaigns").json()) == 3
    assert kayse.get(f"{BASE}/campaigns", params={"key": "nothing"}).json() == []


def test_list_stats_are_the_campaigns_results(
        kayse: TestClient, client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    # Call fates hash the (random) contact ids: forty contacts make a run with no failed call
    # and no answered one practically impossible (0.8 ** 40 at worst).
    phones = [f"+1212555{n:04d}" for n in range(400, 440)]
    data = body(kayse, client, case_list_id=None, report_schedule=None, runs=[
        {"start_date": "2026-03-02", "end_date": "2026-03-03", "start_time": "09:00",
         "end_time": "17:00"}])
    data["case_list_id"] = case_list(kayse, client, phones, "Forty")
    campaign_id = native(db, workspace, post(kayse, data)["id"])
    calls = run(db, clock, MIXED, days=2)
    runner = AnalysisRunner(db, clock, worker_id="r1")
    while runner.run_due(20):
        pass
    stats = kayse.get(f"{BASE}/campaigns").json()[0]["stats"]
    expected = client.get(f"/v1/campaigns/{campaign_id}").json()["stats"]
    assert stats == {k: expected[k] for k in stats}
    assert stats["total_calls"] == len(calls) > 0
    reached = sum(1 for call in calls if call.outcome in ("answered", "voicemail"))
    assert stats["failed_calls"] == len(calls) - reached > 0
    assert stats["average_sentiment_score"] is not None
