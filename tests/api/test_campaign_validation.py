"""Every range and rule the seed APIs state, at its boundaries: the error names the field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_campaigns import make_number
from tests.helpers import error_of

URL = "/v1/campaigns"


def post(client: TestClient, **body: Any) -> Any:
    return client.post(URL, json={"name": "Validation", **body})


def ok(client: TestClient, **body: Any) -> dict[str, Any]:
    response = post(client, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def field_of(client: TestClient, status: int = 422, **body: Any) -> str | None:
    field: str | None = error_of(post(client, **body), status)["field"]
    return field


def test_priority_1_to_100(client: TestClient) -> None:  # Kejue
    assert ok(client, priority=1)["priority"] == 1
    assert ok(client, priority=100)["priority"] == 100
    assert field_of(client, priority=0) == "priority"
    assert field_of(client, priority=101) == "priority"


def test_concurrency_0_or_1_to_200(client: TestClient) -> None:  # Kathan 1-200, Kayse 0
    assert ok(client, concurrency_limit=0)["concurrency_limit"] == 0
    assert ok(client, concurrency_limit=200)["concurrency_limit"] == 200
    assert field_of(client, concurrency_limit=201) == "concurrency_limit"
    assert field_of(client, concurrency_limit=-1) == "concurrency_limit"


def test_machine_detection_timeout_3_to_60(client: TestClient) -> None:  # Kathan
    for seconds in (3, 60):
        body = ok(client, voicemail={"detection_timeout_seconds": seconds})
        assert body["voicemail"]["detection_timeout_seconds"] == seconds
    for seconds in (2, 61):
        assert field_of(client, voicemail={"detection_timeout_seconds": seconds}) == \
            "voicemail.detection_timeout_seconds"
    assert field_of(client, voicemail={"action": "shout"}) == "voicemail.action"


def test_at_most_10000_contacts(client: TestClient) -> None:  # Kejue contact_ids
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(10_001)]
    assert field_of(client, contact_ids=ids) == "contact_ids"
    # 10,000 is accepted by the schema; these ids do not exist, so the first is 'not found'
    assert field_of(client, 404, contact_ids=ids[:10_000]) == "contact_ids[0]"
    phones = [{"phone": f"+1415555{i % 10_000:04d}"} for i in range(10_001)]
    assert field_of(client, contacts=phones) == "contacts"


def test_business_hours_inside_tcpa_and_not_overlapping(client: TestClient) -> None:  # Kayse
    slots = [{"start_time": "08:00", "end_time": "12:00"},
             {"start_time": "13:00", "end_time": "21:00"}]
    assert ok(client, schedule={"business_hours": slots})["schedule"]["business_hours"] == slots
    late = [slots[0], {"start_time": "13:00", "end_time": "21:30"}]
    error = error_of(post(client, schedule={"business_hours": late}))
    assert error["field"] == "schedule.business_hours[1]"
    assert "08:00-21:00" in error["message"]
    early = [{"start_time": "07:59", "end_time": "09:00"}]
    assert field_of(client, schedule={"business_hours": early}) == "schedule.business_hours[0]"
    overlap = [slots[0], {"start_time": "11:00", "end_time": "14:00"}]
    assert "overlaps" in error_of(post(client, schedule={"business_hours": overlap}))["message"]
    backwards = [{"start_time": "12:00", "end_time": "09:00"}]
    assert field_of(client, schedule={"business_hours": backwards}) == \
        "schedule.business_hours[0].end_time"


def test_workspace_business_hours_need_defaults(client: TestClient) -> None:  # Kayse
    assert field_of(client, schedule={"use_workspace_business_hours": True}) == \
        "schedule.use_workspace_business_hours"
    client.patch("/v1/settings", json={"business_hours": [
        {"start_time": "09:00", "end_time": "17:00"}]})
    body = ok(client, schedule={"use_workspace_business_hours": True, "runs": [
        {"start_date": "2026-03-10", "end_date": "2026-03-12"}]})  # run times not needed
    assert body["schedule"]["use_workspace_business_hours"] is True
    assert field_of(client, schedule={"use_workspace_business_hours": True, "call_hours": {
        "start_time": "09:00", "end_time": "10:00"}}) == "schedule.call_hours"


def test_report_schedule_rules(client: TestClient) -> None:  # Kayse
    base = {"name": "Weekly", "frequency": "weekly", "weekday": 0, "time": "09:30",
            "recipients": ["reports@firm.com"]}
    assert ok(client, report_schedule=base)["report_schedule"]["weekday"] == 0  # Sunday
    assert ok(client, report_schedule={**base, "weekday": 6})["report_schedule"]["format"] == \
        "csv"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"weekday": None}, "report_schedule.weekday"),
        ({"weekday": 7}, "report_schedule.weekday"),
        ({"frequency": "daily"}, "report_schedule.weekday"),  # weekday is weekly-only
        ({"frequency": "monthly", "weekday": None}, "report_schedule.day_of_month"),
        ({"frequency": "monthly", "weekday": None, "day_of_month": 32},
         "report_schedule.day_of_month"),
        ({"recipients": []}, "report_schedule.recipients"),
        ({"recipients": ["ok@firm.com", "not-an-email"]}, "report_schedule.recipients[1]"),
        ({"time": "25:00"}, "report_schedule.time"),
        ({"date_range": "forever"}, "report_schedule.date_range"),
        ({"format": "pdf"}, "report_schedule.format"),
        ({"run_client_ids": ["run-9"]}, "report_schedule.run_client_ids[0]"),
    ]
    for change, expected in cases:
        assert field_of(client, report_schedule={**base, **change}) == expected, change
    monthly = ok(client, report_schedule={**base, "frequency": "monthly", "weekday": None,
                                          "day_of_month": 31})
    assert monthly["report_schedule"]["day_of_month"] == 31


def test_run_rules(client: TestClient) -> None:  # Kayse runs
    run = {"client_run_id": "run-1", "start_date": "2026-03-10", "end_date": "2026-03-12",
           "start_time": "09:00", "end_time": "17:00"}
    body = ok(client, schedule={"runs": [{**run, "selected_days": ["2026-03-11"]}]})
    assert body["schedule"]["runs"][0]["selected_days"] == ["2026-03-11"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"end_date": "2026-03-09"}, "schedule.runs[0].end_date"),
        ({"start_time": None, "end_time": None}, "schedule.runs[0].start_time"),
        ({"end_time": None}, "schedule.runs[0].end_time"),
        ({"end_time": "08:00"}, "schedule.runs[0].end_time"),
        ({"messaging_only": True}, "schedule.runs[0].start_time"),
        ({"selected_days": ["2026-03-20"]}, "schedule.runs[0].selected_days[0]"),
        ({"messages": [{"send_date": "2026-03-20", "send_time": "10:00", "body": "x"}]},
         "schedule.runs[0].messages[0].send_date"),
    ]
    for change, expected in cases:
        assert field_of(client, schedule={"runs": [{**run, **change}]}) == expected, change
    assert field_of(client, schedule={"runs": [run, run]}) == "schedule.runs[1].client_run_id"
    messaging = ok(client, schedule={"runs": [{
        "start_date": "2026-03-10", "end_date": "2026-03-10", "messaging_only": True,
        "messages": [{"send_date": "2026-03-10", "send_time": "10:00", "channel": "email",
                      "subject": "Renewal", "body": "Hi {{first_name}}"}]}]})
    assert messaging["schedule"]["runs"][0]["messages"][0]["channel"] == "email"


def test_schedule_instants_and_days(client: TestClient) -> None:  # Kejue, Kathan, Vapi
    assert field_of(client, schedule={"start_at": "2026-03-09T09:00:00"}) == \
        "schedule.start_at"  # an instant needs an offset
    assert field_of(client, schedule={"start_at": "2026-03-09T09:00:00Z",
                                      "end_at": "2026-03-09T09:00:00Z"}) == "schedule.end_at"
    assert field_of(client, schedule={"end_at": "2026-03-01T09:00:00Z"}) == \
        "schedule.end_at"  # already past
    assert field_of(client, schedule={"local_start_at": "2026-03-09T09:00",
                                      "start_at": "2026-03-09T09:00:00Z"}) == \
        "schedule.local_start_at"
    assert field_of(client, schedule={"local_start_at": "2026-03-09T09:00+01:00"}) == \
        "schedule.local_start_at"
    assert field_of(client, schedule={"local_start_at": "next tuesday"}) == \
        "schedule.local_start_at"
    error = error_of(post(client, schedule={"days": ["mon", 2]}))
    assert error["field"] == "schedule.days[1]"
    assert "ambiguous" in error["message"]
    assert field_of(client, schedule={"days": []}) == "schedule.days"
    assert field_of(client, schedule={"timezone": "Mars/Olympus"}) == "schedule.timezone"
    assert field_of(client, schedule={"call_hours": {"start_time": "17:00",
                                                     "end_time": "09:00"}}) == \
        "schedule.call_hours.end_time"
    assert field_of(client, schedule={"stagger_seconds": -1}) == "schedule.stagger_seconds"


def test_retry_rules(client: TestClient) -> None:  # Kejue retry_schedule, playbook recall
    assert ok(client, retry={"delays_minutes": "[30,120]"})["retry"]["max_attempts"] == 3
    assert ok(client, retry={"auto_retry": False})["retry"]["max_attempts"] == 1
    error = error_of(post(client, retry={"delays_minutes": "[30,0]"}))
    assert error["field"] == "retry.delays_minutes[1]"
    assert "between 1 and 43200" in error["message"]
    assert field_of(client, retry={"delays_minutes": "thirty"}) == "retry.delays_minutes"
    assert field_of(client, retry={"delays_minutes": [43_201]}) == "retry.delays_minutes[0]"
    assert field_of(client, retry={"max_attempts": 21}) == "retry.max_attempts"
    assert field_of(client, retry={"max_attempts": 0}) == "retry.max_attempts"
    assert field_of(client, retry={"auto_retry": False, "max_attempts": 3}) == \
        "retry.max_attempts"
    assert field_of(client, retry={"delays_minutes": [], "max_attempts": 3}) == \
        "retry.delays_minutes"
    assert field_of(client, retry={"retry_on": ["answered"]}) == "retry.retry_on[0]"
    assert field_of(client, retry={"delays_minutes": [120, 30],
                                   "relative_to": "first_attempt"}) == \
        "retry.delays_minutes[1]"


def test_memory_summaries_limit_1_to_1000(client: TestClient) -> None:  # Kathan
    assert ok(client, memory={"short_term_summaries_limit": 123})["memory"][
        "short_term_summaries_limit"] == 123
    for value in (0, 1001):
        assert field_of(client, memory={"short_term_summaries_limit": value}) == \
            "memory.short_term_summaries_limit"


def test_caller_id_shapes(client: TestClient) -> None:  # Kejue, Kathan, Vapi
    a, b = make_number(client, "+14155550123"), make_number(client, "+12125550123")
    assert field_of(client, caller_id={"mode": "fixed", "phone_number_ids": [a, b]}) == \
        "caller_id.phone_number_ids"
    assert field_of(client, caller_id={"mode": "pool", "phone_number_ids": [a, a]}) == \
        "caller_id.phone_number_ids[1]"
    assert field_of(client, caller_id={"mode": "dial_plan"}) == "caller_id.dial_plan"
    assert field_of(client, caller_id={"mode": "dial_plan", "phone_number_ids": [a],
                                       "dial_plan": [{"phone_number_id": b}]}) == \
        "caller_id.phone_number_ids"
    assert field_of(client, caller_id={"mode": "dial_plan", "dial_plan": [
        {"phone_number_id": a}, {"phone_number_id": a}]}) == \
        "caller_id.dial_plan[1].phone_number_id"
    assert field_of(client, caller_id={"mode": "pool", "dial_plan": [
        {"phone_number_id": a}]}) == "caller_id.dial_plan"
    assert field_of(client, contacts=[{"phone": "+14155550100"}], caller_id={
        "mode": "dial_plan", "dial_plan": [{"phone_number_id": a}]}) == "contacts"
    assert field_of(client, channel="skype") == "channel"


def test_names_templates_and_unknown_fields(client: TestClient) -> None:
    assert field_of(client, name="") == "name"
    assert field_of(client, name="x" * 256) == "name"
    assert field_of(client, opening_message="Hi {{first_name}") == "opening_message"
    assert field_of(client, opening_message="Hi {{favourite_colour}}") == "opening_message"
    # read-only, not silently dropped
    assert error_of(client.post(URL, json={"name": "x", "status": "running"}))["field"] == \
        "status"
    assert field_of(client, schedule={"start": "x"}) == "schedule.start"
    assert field_of(client, metadata={"note": "a\x00b"}) == "metadata.note"
    assert field_of(client, contacts=[{"phone": "+14155550100",
                                       "assistant_overrides": {"model": "gpt"}}]) == \
        "contacts[0].assistant_overrides.model"
    assert field_of(client, analysis={"tags": [{"name": "A"}, {"name": "a"}]}) == \
        "analysis.tags[1].name"


def test_start_instants_at_the_ends_of_the_calendar_are_refused(client: TestClient) -> None:
    """Year 1 at a positive offset is before datetime.min in UTC; a naive year-1 start has no
    instant in eastern zones: a 422 naming the field, never a 500."""
    for schedule, field in (({"end_at": "0001-01-01T00:00:00+01:00"}, "schedule.end_at"),
                            ({"local_start_at": "0001-01-01T00:00"}, "schedule.local_start_at"),
                            ({"local_start_at": "9999-12-31T23:00"},
                             "schedule.local_start_at")):
        response = client.post("/v1/campaigns", json={"name": "Edge", "schedule": schedule,
                                                       "auto_start": True})
        assert error_of(response)["field"] == field, response.text
