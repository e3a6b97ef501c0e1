"""/v1/campaigns/{id}/reports: validation, isolation, PATCH semantics, and the campaign's
own report (``report_schedule``) kept in step by ``sync_campaign_report``."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, Report
from ringwise.errors import InvalidInput
from ringwise.results.reports import NO_SMTP
from ringwise.services import campaigns as campaigns_service
from ringwise.services.reports import sync_campaign_report
from tests.api.test_campaigns import create
from tests.helpers import error_of

RUNS = [{"client_run_id": f"run-{n}", "start_date": f"2026-03-0{n + 1}",
         "end_date": f"2026-03-0{n + 1}", "start_time": "09:00", "end_time": "17:00"}
        for n in (1, 2)]
WEEKLY: dict[str, Any] = {"name": "Weekly", "frequency": "weekly", "weekday": 2,
                          "time": "09:30", "recipients": ["reports@firm.com"]}
DAILY: dict[str, Any] = {"name": "Daily", "frequency": "daily", "time": "09:30",
                         "recipients": ["reports@firm.com"], "date_range": "previous_day"}
# START is Monday 2026-03-02 10:00 in New York (EST, UTC-5); DST starts on 2026-03-08.
TUESDAY_0930 = "2026-03-03T14:30:00Z"

SYNC_WIRED = "sync_campaign_report" in inspect.getsource(campaigns_service)


def _campaign(client: TestClient, **body: Any) -> str:
    schedule = {"timezone": "America/New_York", "runs": RUNS}
    return str(create(client, schedule=schedule, **body)["id"])


def _report(client: TestClient, campaign_id: str, base: dict[str, Any] | None = None,
            **body: Any) -> dict[str, Any]:
    response = client.post(f"/v1/campaigns/{campaign_id}/reports",
                           json={**(base or WEEKLY), **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def test_create_read_change_and_delete(client: TestClient) -> None:
    campaign_id = _campaign(client)
    report = _report(client, campaign_id, run_client_ids=["run-1"],
                     filters={"outcome": "answered"})
    assert report["campaign_id"] == campaign_id and report["source"] == "api"
    assert report["enabled"] is True and report["timezone"] == "America/New_York"
    assert report["run_client_ids"] == ["run-1"] and report["filters"] == {"outcome": "answered"}
    assert report["date_range"] == "cumulative" and report["format"] == "csv"
    assert _instant(report["next_send_at"]) == _instant(TUESDAY_0930)
    path = f"/v1/campaigns/{campaign_id}/reports/{report['id']}"
    assert client.get(path).json() == report
    listed = client.get(f"/v1/campaigns/{campaign_id}/reports").json()
    assert [r["id"] for r in listed["data"]] == [report["id"]]

    changed = client.patch(path, json={"time": "08:00"}).json()
    assert _instant(changed["next_send_at"]) == _instant("2026-03-03T13:00:00Z")
    assert changed["name"] == "Weekly" and changed["weekday"] == 2
    # Another frequency drops the old one's day field; the timing is computed again (April
    # is in daylight saving time: 08:00 EDT is 12:00 UTC).
    monthly = client.patch(path, json={"frequency": "monthly", "day_of_month": 1}).json()
    assert monthly["weekday"] is None and monthly["day_of_month"] == 1
    assert _instant(monthly["next_send_at"]) == _instant("2026-04-01T12:00:00Z")
    disabled = client.patch(path, json={"enabled": False}).json()
    assert disabled["enabled"] is False and disabled["next_send_at"] is None
    enabled = client.patch(path, json={"enabled": True}).json()
    assert enabled["next_send_at"] == monthly["next_send_at"]
    same = client.patch(path, json={"recipients": ["a@firm.com", "b@firm.com"]}).json()
    assert same["recipients"] == ["a@firm.com", "b@firm.com"]
    assert same["next_send_at"] == monthly["next_send_at"]

    assert client.get(f"{path}/deliveries").json() == {"data": [], "next_cursor": None}
    assert client.delete(path).status_code == 204
    assert error_of(client.get(path), 404)["field"] == "report_id"


BAD_REPORTS: list[tuple[dict[str, Any], str]] = [
    ({"frequency": "weekly", "weekday": None}, "weekday"),
    ({"frequency": "monthly", "weekday": None}, "day_of_month"),
    ({"frequency": "daily", "weekday": 1}, "weekday"),
    ({"run_client_ids": ["run-1", "run-9"]}, "run_client_ids[1]"),
    ({"filters": {"colour": "red"}}, "filters.colour"),
    ({"filters": {"status": "exploded"}}, "filters.status"),
    ({"filters": {"outcome": 3}}, "filters.outcome"),
    ({"filters": {"created_after": "2026-03-01T00:00:00Z"}}, "filters.created_after"),
    ({"recipients": ["reports@firm.com", "not-an-address"]}, "recipients[1]"),
    ({"recipients": ["jörg@firmä.com"]}, "recipients[0]"),
    ({"recipients": []}, "recipients"),
    ({"time": "24:00"}, "time"),
    ({"time": "9h30"}, "time"),
    ({"date_range": "yesterday"}, "date_range"),
    ({"format": "xlsx"}, "format"),
]
BAD_CHANGES: list[tuple[dict[str, Any], str]] = [
    ({"frequency": "weekly"}, "weekday"),
    ({"name": None}, "name"),
    ({"enabled": None}, "enabled"),
    ({"run_client_ids": ["run-7"]}, "run_client_ids[0]"),
    ({"filters": {"analysis_status": "maybe"}}, "filters.analysis_status"),
    ({"recipients": ["x@y"]}, "recipients[0]"),
    ({"source": "campaign"}, "source"),
]


def test_invalid_reports_and_changes_are_refused_naming_the_field(
        client: TestClient) -> None:
    campaign_id = _campaign(client)
    base = f"/v1/campaigns/{campaign_id}/reports"
    for body, field in BAD_REPORTS:
        error = error_of(client.post(base, json={**WEEKLY, **body}), 422)
        assert error["field"] == field, (body, error)
    assert client.get(base).json()["data"] == []
    report = _report(client, campaign_id, DAILY)
    for body, field in BAD_CHANGES:
        error = error_of(client.patch(f"{base}/{report['id']}", json=body), 422)
        assert error["field"] == field, (body, error)
    assert client.get(f"{base}/{report['id']}").json() == report


def test_other_workspaces_reports_are_not_found(client: TestClient,
                                                other_client: TestClient) -> None:
    campaign_id = _campaign(client)
    report = _report(client, campaign_id)
    base = f"/v1/campaigns/{campaign_id}/reports"
    one = f"{base}/{report['id']}"
    for response in (other_client.get(base), other_client.post(base, json=WEEKLY),
                     other_client.get(one), other_client.patch(one, json={"enabled": False}),
                     other_client.delete(one), other_client.post(f"{one}/send-now"),
                     other_client.get(f"{one}/deliveries")):
        assert error_of(response, 404)["field"] == "campaign_id"
    # Its own campaign, another campaign's report id; and ids that are not ids.
    mine = _campaign(other_client)
    other_base = f"/v1/campaigns/{mine}/reports"
    for path in (f"{other_base}/{report['id']}", f"{other_base}/not-a-uuid",
                 f"{base.replace(campaign_id, mine)}/{report['id']}/deliveries"):
        assert error_of(other_client.get(path), 404)["field"] == "report_id"
    assert client.get(one).json()["enabled"] is True


def test_send_now_without_smtp_settings_is_a_logged_409(client: TestClient) -> None:
    campaign_id = _campaign(client)
    report = _report(client, campaign_id)
    path = f"/v1/campaigns/{campaign_id}/reports/{report['id']}"
    error = error_of(client.post(f"{path}/send-now"), 409)
    assert error["code"] == "email_not_configured" and error["message"] == NO_SMTP
    [delivery] = client.get(f"{path}/deliveries").json()["data"]
    assert delivery["id"] == error["details"]["delivery_id"]
    assert delivery["status"] == "failed" and delivery["error"] == NO_SMTP
    assert delivery["trigger"] == "send_now" and delivery["scheduled_for"] is None
    assert client.get(path).json()["next_send_at"] == report["next_send_at"]


# --- the campaign's report_schedule -----------------------------------------------------------

def _sync(db: Database, clock: ManualClock, campaign_id: str,
          report_schedule: dict[str, Any] | None) -> None:
    """What services.campaigns does on create / update: store, then sync."""
    with db.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.report_schedule = report_schedule
        session.flush()
        sync_campaign_report(session, campaign, clock.now())


def _campaign_reports(db: Database, campaign_id: str) -> list[Report]:
    with db.reading() as session:
        return list(session.scalars(select(Report).where(Report.campaign_id == campaign_id)))


def test_sync_campaign_report_creates_follows_and_deletes(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    campaign_id = _campaign(client)
    api_report = _report(client, campaign_id, DAILY)
    _sync(db, clock, campaign_id, {**WEEKLY, "run_client_ids": ["run-2"]})
    [report] = [r for r in _campaign_reports(db, campaign_id) if r.source == "campaign"]
    assert report.schedule["run_client_ids"] == ["run-2"]
    assert report.next_send_at == _instant(TUESDAY_0930)
    path = f"/v1/campaigns/{campaign_id}/reports/{report.id}"
    assert client.get(path).json()["source"] == "campaign"

    # Only the timing moves next_send_at; the same schedule again changes nothing.
    clock.set(datetime.fromisoformat("2026-03-02T18:00:00+00:00"))
    _sync(db, clock, campaign_id, {**WEEKLY, "run_client_ids": ["run-2"]})
    [same] = [r for r in _campaign_reports(db, campaign_id) if r.source == "campaign"]
    assert (same.updated_at, same.next_send_at) == (report.updated_at, report.next_send_at)
    _sync(db, clock, campaign_id, {**WEEKLY, "weekday": 3})
    [moved] = [r for r in _campaign_reports(db, campaign_id) if r.source == "campaign"]
    assert moved.id == report.id and moved.schedule["run_client_ids"] == []
    assert moved.next_send_at == _instant("2026-03-04T14:30:00Z")

    # Managed by the campaign: only enabled changes here, and it is not deleted here.
    assert error_of(client.patch(path, json={"time": "08:00"}), 409)["code"] == \
        "managed_by_campaign"
    assert error_of(client.delete(path), 409)["code"] == "managed_by_campaign"
    assert client.patch(path, json={"enabled": False}).json()["next_send_at"] is None

    # Refused like a request field, under report_schedule.
    with pytest.raises(InvalidInput) as caught:
        _sync(db, clock, campaign_id, {**WEEKLY, "filters": {"colour": "red"}})
    assert caught.value.field == "report_schedule.filters.colour"
    with pytest.raises(InvalidInput) as caught:
        _sync(db, clock, campaign_id, {**WEEKLY, "run_client_ids": ["run-5"]})
    assert caught.value.field == "report_schedule.run_client_ids[0]"

    _sync(db, clock, campaign_id, None)
    assert [r.id for r in _campaign_reports(db, campaign_id)] == [api_report["id"]]


def test_sync_retimes_reports_when_the_campaign_zone_changes(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    campaign_id = _campaign(client)
    report = _report(client, campaign_id, DAILY)
    with db.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.schedule = {**campaign.schedule, "timezone": "Europe/Paris"}
        session.flush()
        sync_campaign_report(session, campaign, clock.now())
    changed = client.get(f"/v1/campaigns/{campaign_id}/reports/{report['id']}").json()
    assert changed["timezone"] == "Europe/Paris"
    assert _instant(changed["next_send_at"]) == _instant("2026-03-03T08:30:00Z")


@pytest.mark.skipif(not SYNC_WIRED, reason="services.campaigns does not call "
                    "sync_campaign_report yet (create_campaign / update_campaign)")
def test_a_campaign_created_with_a_report_schedule_lists_its_report(
        client: TestClient) -> None:
    campaign_id = _campaign(client, report_schedule={**WEEKLY, "run_client_ids": ["run-1"]})
    [report] = client.get(f"/v1/campaigns/{campaign_id}/reports").json()["data"]
    assert report["source"] == "campaign" and report["run_client_ids"] == ["run-1"]
    assert _instant(report["next_send_at"]) == _instant(TUESDAY_0930)
    changed = client.patch(f"/v1/campaigns/{campaign_id}",
                           json={"report_schedule": {**DAILY, "time": "07:00"}})
    assert changed.status_code == 200, changed.text
    [daily] = client.get(f"/v1/campaigns/{campaign_id}/reports").json()["data"]
    assert daily["id"] == report["id"] and daily["frequency"] == "daily"
    assert _instant(daily["next_send_at"]) == _instant("2026-03-03T12:00:00Z")
    bad = client.patch(f"/v1/campaigns/{campaign_id}",
                       json={"report_schedule": {**DAILY, "filters": {"colour": "red"}}})
    assert error_of(bad, 422)["field"] == "report_schedule.filters.colour"
    cleared = client.patch(f"/v1/campaigns/{campaign_id}", json={"report_schedule": None})
    assert cleared.status_code == 200, cleared.text
    assert client.get(f"/v1/campaigns/{campaign_id}/reports").json()["data"] == []
