"""The compliance audit trail: GET /v1/calls/{id}/audit and a campaign's compliance log (JSON
pages and the streamed CSV export), on SQLite and PostgreSQL.

The API tests write ``compliance_log`` rows directly (the dialer writes them in real runs);
the last test runs a campaign with the real dialer and reads back what it logged.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.core.compliance.rules_us import US_FEDERAL, US_STATE_RULES
from ringwise.core.compliance.rules_world import COUNTRY_RULES
from ringwise.db.engine import Database
from ringwise.db.models import Call, CampaignContact, ComplianceLog, Contact
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.ids import new_id
from ringwise.services import compliance_log
from ringwise.telephony.simulated import SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number
from tests.helpers import error_of, walk_pages

NY = "America/New_York"
PHONES = ["+13055550100", "+12125550100", "+12125550101"]


# --- helpers ---------------------------------------------------------------------------------

def members_of(db: Database, campaign_id: str) -> dict[str, CampaignContact]:
    """phone -> the campaign's contact."""
    with db.reading() as session:
        rows = session.execute(
            select(CampaignContact, Contact.phone)
            .join(Contact, Contact.id == CampaignContact.contact_id)
            .where(CampaignContact.campaign_id == campaign_id)).all()
    return {phone: member for member, phone in rows}


def add_call(db: Database, workspace_id: str, member: CampaignContact, phone: str,
             at: datetime, attempt: int = 1) -> str:
    call_id = new_id()
    with db.transaction() as session:
        session.add(Call(id=call_id, workspace_id=workspace_id, campaign_id=member.campaign_id,
                         campaign_contact_id=member.id, contact_id=member.contact_id,
                         attempt=attempt, status="ended", outcome="answered", to_number=phone,
                         from_number="+14155550123", provider="simulated", created_at=at,
                         updated_at=at))
    return call_id


def add_record(db: Database, workspace_id: str, member: CampaignContact, phone: str,
               at: datetime, decision: str, *, reason: str | None = None,
               rules: str = "us-federal", local_times: dict[str, str] | None = None,
               call_id: str | None = None) -> str:
    record_id = new_id()
    with db.transaction() as session:
        session.add(ComplianceLog(
            id=record_id, workspace_id=workspace_id, campaign_id=member.campaign_id,
            campaign_contact_id=member.id, call_id=call_id, phone=phone, at=at,
            decision=decision, reason=reason, rules=rules,
            local_times={NY: at.astimezone(ZoneInfo(NY)).isoformat()} if local_times is None
            else local_times, details=None))
    return record_id


def seed(client: TestClient, db: Database, clock: ManualClock,
         workspace_id: str) -> dict[str, Any]:
    """A campaign of three contacts and five records a minute apart, oldest first: the FL
    number dialed, the first NY number blocked, the second deferred, then dialed twice (a
    retry). A second campaign has one record of its own."""
    campaign = create(client, name="Audit", contacts=[{"phone": p} for p in PHONES])["id"]
    other = create(client, name="Other", contacts=[{"phone": PHONES[0]}])["id"]
    members = members_of(db, campaign)
    start = clock.now()
    fl, ny1, ny2 = PHONES
    calls = [add_call(db, workspace_id, members[p], p, start + timedelta(minutes=m), attempt)
             for p, m, attempt in ((fl, 0, 1), (ny2, 3, 1), (ny2, 4, 2))]
    times = {NY: "2026-03-02T10:00:00-05:00", "America/Chicago": "2026-03-02T09:00:00-06:00"}
    plan: list[tuple[str, str, dict[str, Any]]] = [
        (fl, "dialed", {"rules": "us-federal+us-fl", "call_id": calls[0], "local_times": times}),
        (ny1, "blocked", {"reason": "dnc-listed"}),
        (ny2, "deferred", {"reason": "cap:us-fl-3-per-24h"}),
        (ny2, "dialed", {"call_id": calls[1]}),
        (ny2, "dialed", {"call_id": calls[2]}),
    ]
    ids = [add_record(db, workspace_id, members[phone], phone, start + timedelta(minutes=m),
                      decision, **extra)
           for m, (phone, decision, extra) in enumerate(plan)]
    other_member = members_of(db, other)[fl]
    add_record(db, workspace_id, other_member, fl, start, "dialed")
    return {"campaign": campaign, "other": other, "calls": calls, "records": ids}


def ids_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["data"]]


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


# --- GET /v1/calls/{id}/audit ------------------------------------------------------------------

def test_call_audit_explains_the_rules(client: TestClient, db: Database, clock: ManualClock,
                                       workspace: tuple[str, str]) -> None:
    seeded = seed(client, db, clock, workspace[0])
    response = client.get(f"/v1/calls/{seeded['calls'][0]}/audit")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["call_id"] == seeded["calls"][0]
    (record,) = body["data"]
    assert record["id"] == seeded["records"][0]
    assert (record["decision"], record["reason"], record["phone"]) == ("dialed", None,
                                                                      PHONES[0])
    assert record["campaign_id"] == seeded["campaign"]
    assert record["call_id"] == seeded["calls"][0]
    assert record["at"] == "2026-03-02T15:00:00Z"
    assert record["rules"] == ["us-federal", "us-fl"]
    florida = US_STATE_RULES["FL"]
    assert record["rule_details"] == [
        {"key": "us-federal", "title": US_FEDERAL.title, "source": US_FEDERAL.source},
        {"key": "us-fl", "title": florida.title, "source": florida.source}]
    assert record["cap"] is None
    # Sorted by zone, the same on both engines (PostgreSQL's jsonb reorders keys).
    assert list(record["local_times"].items()) == [
        ("America/Chicago", "2026-03-02T09:00:00-06:00"),
        (NY, "2026-03-02T10:00:00-05:00")]


def test_workspace_and_unknown_rules_and_caps(client: TestClient, db: Database,
                                              clock: ManualClock,
                                              workspace: tuple[str, str]) -> None:
    campaign = create(client, contacts=[{"phone": "+33612345678"}])["id"]
    member = members_of(db, campaign)["+33612345678"]
    call_id = add_call(db, workspace[0], member, "+33612345678", clock.now())
    add_record(db, workspace[0], member, "+33612345678", clock.now(), "dialed",
               rules="fr+retired-rule+workspace-default+workspace-stricter", call_id=call_id,
               local_times={"Europe/Paris": "2026-03-02T16:00:00+01:00"})
    (record,) = client.get(f"/v1/calls/{call_id}/audit").json()["data"]
    france = COUNTRY_RULES["FR"]
    details = {r["key"]: r for r in record["rule_details"]}
    assert record["rules"] == ["fr", "retired-rule", "workspace-default", "workspace-stricter"]
    assert details["fr"] == {"key": "fr", "title": france.title, "source": france.source}
    assert details["retired-rule"] == {"key": "retired-rule", "title": None, "source": None}
    assert details["workspace-default"]["source"] == "workspace setting"
    assert details["workspace-stricter"]["source"] == "workspace setting"
    assert "stricter" in details["workspace-stricter"]["title"].lower()

    def cap(reason: str) -> dict[str, Any] | None:
        info = compliance_log.cap_info(reason)
        return None if info is None else {"key": info.key, "title": info.title,
                                          "source": info.source}

    assert cap("cap:fr-4-per-30d") == {"key": "fr-4-per-30d",
                                       "title": COUNTRY_RULES["FR"].caps[0].title,
                                       "source": "Code de la consommation D.223-9"}
    regulation_f = cap("cap:regulation-f")
    assert regulation_f is not None and regulation_f["source"] == "12 CFR 1006.14(b)(2)"
    assert cap("cap:workspace-0") == {"key": "workspace-0", "title": "Workspace frequency cap #1",
                                      "source": "workspace setting"}
    assert cap("cap:somewhere-else") == {"key": "somewhere-else", "title": None,
                                         "source": None}
    assert cap("dnc-listed") is None and cap("") is None


def test_deferred_record_names_its_cap(client: TestClient, db: Database, clock: ManualClock,
                                       workspace: tuple[str, str]) -> None:
    seeded = seed(client, db, clock, workspace[0])
    data = client.get(f"/v1/campaigns/{seeded['campaign']}/compliance-log",
                      params={"decision": "deferred"}).json()["data"]
    (record,) = data
    assert record["reason"] == "cap:us-fl-3-per-24h"
    assert record["call_id"] is None
    assert record["cap"] == {"key": "us-fl-3-per-24h", "title": "FL: at most 3 calls per 24 h",
                             "source": "Fla. Stat. 501.616(6)(b)"}


def test_a_call_without_records_has_an_empty_audit(client: TestClient, db: Database,
                                                   clock: ManualClock,
                                                   workspace: tuple[str, str]) -> None:
    campaign = create(client, contacts=[{"phone": PHONES[1]}])["id"]
    member = members_of(db, campaign)[PHONES[1]]
    call_id = add_call(db, workspace[0], member, PHONES[1], clock.now())  # before the log
    response = client.get(f"/v1/calls/{call_id}/audit")
    assert response.status_code == 200, response.text
    assert response.json() == {"call_id": call_id, "data": []}


def test_call_audit_not_found(client: TestClient, other_client: TestClient, db: Database,
                              clock: ManualClock, workspace: tuple[str, str]) -> None:
    seeded = seed(client, db, clock, workspace[0])
    assert error_of(client.get(f"/v1/calls/{new_id()}/audit"), 404)["code"] == "not_found"
    assert client.get("/v1/calls/not-an-id/audit").status_code == 404
    assert client.get("/v1/calls/a%00b/audit").status_code == 404
    assert error_of(other_client.get(f"/v1/calls/{seeded['calls'][0]}/audit"), 404)[
        "code"] == "not_found"


# --- GET /v1/campaigns/{id}/compliance-log -----------------------------------------------------

def test_campaign_log_pages_newest_first(client: TestClient, db: Database, clock: ManualClock,
                                         workspace: tuple[str, str]) -> None:
    seeded = seed(client, db, clock, workspace[0])
    path = f"/v1/campaigns/{seeded['campaign']}/compliance-log"
    assert ids_of(client.get(path)) == seeded["records"][::-1]  # not the other campaign's
    assert [r["id"] for r in walk_pages(client, path, limit=2)] == seeded["records"][::-1]
    records = seeded["records"]
    assert ids_of(client.get(path, params={"decision": "dialed"})) == \
        [records[4], records[3], records[0]]
    assert ids_of(client.get(path, params={"decision": "blocked"})) == [records[1]]
    assert [r["id"] for r in walk_pages(client, path, limit=1, decision="dialed")] == \
        [records[4], records[3], records[0]]
    blocked = client.get(path, params={"decision": "blocked"}).json()["data"][0]
    assert (blocked["reason"], blocked["rules"], blocked["call_id"]) == ("dnc-listed",
                                                                        ["us-federal"], None)


def test_campaign_log_bad_input(client: TestClient, other_client: TestClient, db: Database,
                                clock: ManualClock, workspace: tuple[str, str]) -> None:
    seeded = seed(client, db, clock, workspace[0])
    path = f"/v1/campaigns/{seeded['campaign']}/compliance-log"
    assert error_of(client.get(path, params={"decision": "maybe"}))["field"] == "decision"
    assert error_of(client.get(path + ".csv", params={"decision": "maybe"}))[
        "field"] == "decision"
    assert error_of(client.get(path, params={"cursor": "garbage"}))["field"] == "cursor"
    assert error_of(client.get(path, params={"limit": 0}))["field"] == "limit"
    assert error_of(client.get(path, params={"limit": 201}))["field"] == "limit"
    for suffix in ("", ".csv"):
        unknown = error_of(client.get(f"/v1/campaigns/{new_id()}/compliance-log{suffix}"), 404)
        assert (unknown["code"], unknown["field"]) == ("not_found", "campaign_id")
        assert error_of(other_client.get(path + suffix), 404)["field"] == "campaign_id"
        assert client.get(f"/v1/campaigns/nope/compliance-log{suffix}").status_code == 404


def test_a_campaign_with_no_records(client: TestClient) -> None:
    campaign = create(client)["id"]
    body = client.get(f"/v1/campaigns/{campaign}/compliance-log").json()
    assert body == {"data": [], "next_cursor": None}
    response = client.get(f"/v1/campaigns/{campaign}/compliance-log.csv")
    assert response.status_code == 200
    assert response.text == ",".join(compliance_log.CSV_COLUMNS) + "\r\n"


# --- GET /v1/campaigns/{id}/compliance-log.csv -------------------------------------------------

def test_csv_export(client: TestClient, db: Database, clock: ManualClock,
                    workspace: tuple[str, str]) -> None:
    seeded = seed(client, db, clock, workspace[0])
    response = client.get(f"/v1/campaigns/{seeded['campaign']}/compliance-log.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == \
        f'attachment; filename="compliance-log-{seeded["campaign"]}.csv"'
    assert response.text.splitlines()[0] == \
        "at,decision,reason,phone,call_id,campaign_contact_id,rules,local_times"
    rows = csv_rows(response)
    members = members_of(db, seeded["campaign"])
    assert [(r["decision"], r["reason"]) for r in rows] == [  # oldest first
        ("dialed", ""), ("blocked", "dnc-listed"), ("deferred", "cap:us-fl-3-per-24h"),
        ("dialed", ""), ("dialed", "")]
    first = rows[0]
    assert first == {
        "at": "2026-03-02T15:00:00.000Z", "decision": "dialed", "reason": "",
        "phone": PHONES[0], "call_id": seeded["calls"][0],
        "campaign_contact_id": members[PHONES[0]].id, "rules": "us-federal+us-fl",
        "local_times": "America/Chicago=2026-03-02T09:00:00-06:00; "
                       "America/New_York=2026-03-02T10:00:00-05:00"}
    assert rows[1]["at"] == "2026-03-02T15:01:00.000Z" and rows[1]["call_id"] == ""
    assert [r["call_id"] for r in rows[3:]] == seeded["calls"][1:]
    dialed = csv_rows(client.get(f"/v1/campaigns/{seeded['campaign']}/compliance-log.csv",
                                 params={"decision": "dialed"}))
    assert [r["call_id"] for r in dialed] == seeded["calls"]


def test_csv_export_reads_in_pages(client: TestClient, db: Database, clock: ManualClock,
                                   workspace: tuple[str, str]) -> None:
    """Keyset pages over (at, id): rows sharing an instant are neither lost nor repeated
    across a page boundary, and each page is one chunk of the stream."""
    campaign = create(client, contacts=[{"phone": p} for p in PHONES])["id"]
    members = members_of(db, campaign)
    at = clock.now()
    for n, phone in enumerate(PHONES * 5):  # instants shared by 4, 4, 4 and 3 rows
        add_record(db, workspace[0], members[phone], phone, at + timedelta(seconds=n // 4),
                   "blocked", reason="dnc-listed")
    chunks = list(compliance_log.export_csv(db, workspace[0], campaign, page_size=4))
    assert len(chunks) == 1 + 4  # the header, then 15 rows in pages of 4
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(rows) == 15
    with db.reading() as session:
        expected = session.scalars(select(ComplianceLog.campaign_contact_id)
                                   .order_by(ComplianceLog.at, ComplianceLog.id)).all()
    assert [r["campaign_contact_id"] for r in rows] == list(expected)
    exact = list(compliance_log.export_csv(db, workspace[0], campaign, page_size=5))
    assert len(exact) == 1 + 3  # a last full page ends the stream without an empty chunk
    assert "".join(exact) == "".join(chunks)
    assert list(compliance_log.export_csv(db, new_id(), campaign)) == [chunks[0]]


# --- end to end: the real dialer writes the log -------------------------------------------------

def test_the_dialer_logs_every_dial_and_block(client: TestClient, db: Database,
                                              clock: ManualClock) -> None:
    phones = ["+13055550100", "+12125550100", "+12125550101", "+12125550102"]
    listed = phones[1]
    campaign = create(client, assistant_id=make_assistant(client),
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                      contact_ids=make_contacts(client, phones),
                      retry={"delays_minutes": [30], "max_attempts": 2},
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}})
    campaign_id = campaign["id"]
    added = client.post("/v1/dnc", json={"phone": listed, "reason": "asked by e-mail"})
    assert added.status_code == 201, added.text
    assert client.post(f"/v1/campaigns/{campaign_id}/start").status_code == 200
    carrier = SimulatedCarrier(seed=3)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")

    def finished() -> bool:
        return bool(client.get(f"/v1/campaigns/{campaign_id}").json()["status"] == "completed")

    result = drive(dialer, clock, carrier, until=clock.now() + timedelta(days=3), done=finished)
    assert result.reason == "done", result

    with db.reading() as session:
        calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)).all()
    assert calls, "the campaign placed no call"
    assert listed not in {c.to_number for c in calls}
    for call in calls:
        records = client.get(f"/v1/calls/{call.id}/audit").json()["data"]
        assert [r["decision"] for r in records] == ["dialed"], records
        (record,) = records
        assert record["phone"] == call.to_number
        assert record["campaign_contact_id"] == call.campaign_contact_id
        assert "us-federal" in record["rules"]
        assert ("us-fl" in record["rules"]) == call.to_number.startswith("+1305")
        assert set(record["local_times"]) == {NY}
        assert record["at"] == call.created_at.isoformat().replace("+00:00", "Z")

    log = walk_pages(client, f"/v1/campaigns/{campaign_id}/compliance-log", limit=3)
    blocked = [r for r in log if r["decision"] == "blocked"]
    assert [(r["phone"], r["reason"]) for r in blocked] == [(listed, "dnc-listed")]
    assert "us-federal" in blocked[0]["rules"]
    assert sorted(r["call_id"] for r in log if r["decision"] == "dialed") == \
        sorted(c.id for c in calls)

    rows = csv_rows(client.get(f"/v1/campaigns/{campaign_id}/compliance-log.csv"))
    assert len(rows) == len(log)
    assert [(r["phone"], r["reason"]) for r in rows if r["decision"] == "blocked"] == \
        [(listed, "dnc-listed")]
    assert sorted(r["call_id"] for r in rows if r["decision"] == "dialed") == \
        sorted(c.id for c in calls)
    assert all("us-federal" in r["rules"].split("+") for r in rows)
    blocked_csv = csv_rows(client.get(f"/v1/campaigns/{campaign_id}/compliance-log.csv",
                                      params={"decision": "blocked"}))
    assert [r["phone"] for r in blocked_csv] == [listed]


def test_records_outlive_the_contact_they_are_about(client: TestClient, db: Database,
                                                    clock: ManualClock,
                                                    workspace: tuple[str, str]) -> None:
    """Deleting a contact (or its campaign) keeps the compliance log: the links go, the
    phone, instant, decision and rules stay (records are kept for years)."""
    campaign = create(client, name="Kept", contacts=[{"phone": PHONES[0]}])["id"]
    member = members_of(db, campaign)[PHONES[0]]
    record = add_record(db, workspace[0], member, PHONES[0], clock.now(), "blocked",
                        reason="dnc-listed")
    assert client.delete(f"/v1/contacts/{member.contact_id}").status_code == 204
    with db.reading() as session:
        kept = session.get(ComplianceLog, record)
    assert kept is not None
    assert (kept.campaign_contact_id, kept.campaign_id, kept.phone, kept.reason) == (
        None, campaign, PHONES[0], "dnc-listed")
