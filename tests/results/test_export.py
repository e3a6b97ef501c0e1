"""Campaign call exports (CSV and JSON Lines) on real data: a campaign run by the dialer on the
simulated carrier, its answered calls analyzed by the AnalysisRunner, on both engines. The
exports are checked against the call list API (``GET /v1/calls``) and the stored analysis."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Campaign
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.errors import InvalidInput, NotFound
from ringwise.ids import new_id
from ringwise.results import export
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.results.export import ExportFilters
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number
from tests.helpers import error_of, walk_pages

TAGS = [{"name": "Interested", "description": "wants the offer"},
        {"name": "Follow-up", "description": "asked to be called back"},
        {"name": "Opt-out", "description": "asked not to be called"},
        {"name": "Price, quote", "description": "talked about the price"}]
FIELDS = [{"key": "callback_date", "description": "date to call back", "type": "date"},
          {"key": "renew", "description": "will renew", "type": "boolean"},
          {"key": "email", "description": "e-mail address", "type": "string"}]
BASE = ["call_id", "campaign_id", "contact_id", "attempt", "to_number", "from_number",
        "status", "outcome", "ended_reason", "answered_by", "started_at", "answered_at",
        "ended_at", "duration_seconds", "cost", "analysis_status"]
ANALYSIS = ["summary", "sentiment", "score", "success", "opted_out", "callback_requested",
            "analyzer", "tags"]
HEADER = [*BASE, *ANALYSIS, "tag:Interested", "tag:Follow-up", "tag:Opt-out",
          "tag:Price, quote", "data:callback_date", "data:renew", "data:email"]
# Call ids (hence each call's fate) are random, so the scenario is sized for its assertions
# to hold whatever they are: ~12 answered of 20 first attempts, 4 other outcomes.
MOSTLY_ANSWERED = CarrierModel(answer_rate=0.6, busy_rate=0.15, voicemail_rate=0.15,
                               failure_rate=0.05, invalid_rate=0.0)
LEFT_PENDING = 2  # answered calls left unanalyzed


@dataclass(frozen=True)
class Ran:
    campaign_id: str
    calls: list[dict[str, Any]]  # GET /v1/calls?campaign_id=, oldest first
    analysis_status: dict[str, str | None]  # call id -> stored (not in the call API)


def run_campaign(client: TestClient, db: Database, clock: ManualClock,
                 contacts: int = 20) -> Ran:
    """A campaign with analysis settings, run to completion by the SQL dialer on the
    simulated carrier; its answered calls analyzed, all but LEFT_PENDING of them."""
    phones = [f"+1212555{n:04d}" for n in range(contacts)]
    campaign = create(client, assistant_id=make_assistant(client),
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                      contact_ids=make_contacts(client, phones), concurrency_limit=4,
                      retry={"delays_minutes": [30], "max_attempts": 2},
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}},
                      analysis={"tags": TAGS, "structured_data_schema": FIELDS,
                                "scoring_criteria": "interest in renewing"})
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
    carrier = SimulatedCarrier(MOSTLY_ANSWERED, seed=11)
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")

    def finished() -> bool:
        with db.reading() as session:
            status = session.scalar(select(Campaign.status)
                                    .where(Campaign.id == campaign["id"]))
            return status == "completed"

    result = drive(dialer, clock, carrier, until=clock.now() + timedelta(days=3), done=finished)
    assert result.reason == "done", result
    with db.reading() as session:
        waiting = len(session.scalars(select(Call.id).where(
            Call.analysis_status == "pending")).all())
    assert waiting > LEFT_PENDING + 3, "the scenario needs several answered calls"
    runner = AnalysisRunner(db, clock, worker_id="a1")
    assert runner.run_due(limit=waiting - LEFT_PENDING) == waiting - LEFT_PENDING
    calls = walk_pages(client, "/v1/calls", limit=200, campaign_id=campaign["id"])[::-1]
    with db.reading() as session:
        statuses = dict(session.execute(select(Call.id, Call.analysis_status)).all())
    return Ran(str(campaign["id"]), calls, statuses)


def get_export(client: TestClient, campaign_id: str, **params: Any) -> Any:
    return client.get(f"/v1/campaigns/{campaign_id}/calls/export", params=params)


def csv_rows(client: TestClient, campaign_id: str, **params: Any) -> list[dict[str, str]]:
    response = get_export(client, campaign_id, format="csv", **params)
    assert response.status_code == 200, response.text
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline=""))
    assert reader.fieldnames == HEADER
    return list(reader)


def csv_rows_any(client: TestClient, campaign_id: str) -> list[dict[str, str]]:
    """The CSV rows, whatever the header (the campaign's settings changed)."""
    response = get_export(client, campaign_id)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))


def jsonl_rows(client: TestClient, campaign_id: str, **params: Any) -> list[dict[str, Any]]:
    response = get_export(client, campaign_id, format="jsonl", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    text = response.content.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


# What the export must write, worked out independently of results.export.

def instant(value: str | None) -> str:
    if value is None:
        return ""
    at = datetime.fromisoformat(value).astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def text_cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def value_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def expected_csv_row(call: dict[str, Any], analysis_status: str | None) -> dict[str, str]:
    def plain(value: Any) -> str:
        return "" if value is None else str(value)

    row = {"call_id": call["id"], "campaign_id": call["campaign_id"],
           "contact_id": plain(call["contact_id"]), "attempt": str(call["attempt"]),
           "to_number": call["to_number"], "from_number": plain(call["from_number"]),
           "status": call["status"], "outcome": plain(call["outcome"]),
           "ended_reason": plain(call["ended_reason"]),
           "answered_by": plain(call["answered_by"]),
           "started_at": instant(call["started_at"]),
           "answered_at": instant(call["answered_at"]), "ended_at": instant(call["ended_at"]),
           "duration_seconds": plain(call["duration_seconds"]), "cost": plain(call["cost"]),
           "analysis_status": plain(analysis_status)}
    analysis = call["analysis"]
    tail = HEADER[len(BASE):]
    if analysis is None:
        return {**row, **dict.fromkeys(tail, "")}
    flags = {name: value_cell(analysis[name])  # booleans, and callback_requested's text
             for name in ("success", "opted_out", "callback_requested")}
    row.update(summary=text_cell(analysis["summary"]), sentiment=repr(analysis["sentiment"]),
               score=str(analysis["score"]), analyzer=analysis["analyzer"],
               tags=text_cell(";".join(analysis["tags"])), **flags)
    for tag in TAGS:
        row[f"tag:{tag['name']}"] = "true" if tag["name"] in analysis["tags"] else "false"
    for field in FIELDS:
        row[f"data:{field['key']}"] = value_cell(analysis["structured_data"][field["key"]])
    return row


# --- the API, end to end ---------------------------------------------------------------------

def test_csv_has_the_calls_of_the_call_list_with_their_analysis(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    ran = run_campaign(client, db, clock)
    response = get_export(client, ran.campaign_id)  # csv is the default format
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == \
        f'attachment; filename="calls-{ran.campaign_id}.csv"'
    assert response.content.startswith(",".join(
        f'"{c}"' if "," in c else c for c in HEADER).encode() + b"\r\n")
    rows = csv_rows(client, ran.campaign_id)

    # Exactly the calls of the call list, oldest first, with the same values.
    assert [r["call_id"] for r in rows] == [c["id"] for c in ran.calls]
    for row, call in zip(rows, ran.calls, strict=True):
        assert (row["status"], row["outcome"]) == (call["status"], call["outcome"])
        assert (float(row["cost"]) if row["cost"] else None) == call["cost"]
        assert row == expected_csv_row(call, ran.analysis_status[call["id"]])

    # The analysis: every answered call but LEFT_PENDING analyzed, the others empty.
    analyzed = [r for r in rows if r["analysis_status"] == "done"]
    pending = [r for r in rows if r["analysis_status"] == "pending"]
    assert len(pending) == LEFT_PENDING and len(analyzed) >= 3
    assert {r["outcome"] for r in analyzed + pending} == {"answered"}
    assert all(r["analysis_status"] == "" for r in rows if r["outcome"] != "answered")
    assert all(r["summary"] == "" and r["tag:Interested"] == "" for r in pending)
    # Tag columns agree with the tags column, and the scenario has both values of some tag.
    for row in analyzed:
        listed = set(row["tags"].split(";")) - {""}
        assert {t["name"] for t in TAGS if row[f"tag:{t['name']}"] == "true"} == listed
        assert all(row[f"tag:{t['name']}"] in ("true", "false") for t in TAGS)
    assert any(r["tags"] for r in analyzed) and any(not r["tags"] for r in analyzed)
    # Against the stored analysis, read from the database this time.
    with db.reading() as session:
        stored: dict[str, Any] = dict(session.execute(
            select(Call.id, Call.analysis).where(Call.analysis_status == "done")).all())
    assert set(stored) == {r["call_id"] for r in analyzed}
    for row in analyzed:
        analysis = stored[row["call_id"]]
        assert row["summary"] == analysis["summary"] and row["analyzer"] == "offline-v1"
        assert float(row["sentiment"]) == analysis["sentiment"]
        assert int(row["score"]) == analysis["score"]
        assert row["success"] == ("true" if analysis["success"] else "false")
        assert row["data:callback_date"] == (analysis["structured_data"]["callback_date"]
                                             or "")


def test_jsonl_holds_the_same_calls_as_the_csv(client: TestClient, db: Database,
                                               clock: ManualClock) -> None:
    ran = run_campaign(client, db, clock)
    rows = csv_rows(client, ran.campaign_id)
    records = jsonl_rows(client, ran.campaign_id)
    response = get_export(client, ran.campaign_id, format="jsonl")
    assert response.headers["content-disposition"] == \
        f'attachment; filename="calls-{ran.campaign_id}.jsonl"'
    assert len(records) == len(rows) == len(ran.calls)
    for record, row, call in zip(records, rows, ran.calls, strict=True):
        assert list(record) == [*BASE, "analysis"]  # no transcript unless asked
        for key in BASE:
            value = record[key]
            assert row[key] == ("" if value is None else str(value)), key
        assert record["analysis"] == call["analysis"]  # nested, as stored
        if record["analysis"] is not None:
            assert row["tags"] == ";".join(record["analysis"]["tags"])
    with_transcripts = jsonl_rows(client, ran.campaign_id, include_transcript="true")
    assert [r["transcript"] for r in with_transcripts] == [c["transcript"] for c in ran.calls]
    assert any(r["transcript"] for r in with_transcripts)
    assert [{k: v for k, v in r.items() if k != "transcript"}
            for r in with_transcripts] == records


def test_filters_select_the_same_calls_as_the_call_list(
        client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    ran = run_campaign(client, db, clock)
    # Another campaign's call, in the same workspace and time range: never exported.
    other = create(client, name="Other")["id"]
    with db.transaction() as session:
        session.add(Call(id=new_id(), workspace_id=workspace[0], campaign_id=other,
                         to_number="+12125550999", status="ended", outcome="answered",
                         created_at=clock.now() - timedelta(hours=1), updated_at=clock.now()))
    assert len(csv_rows_any(client, other)) == 1

    def exported(fmt: str = "csv", **params: Any) -> list[str]:
        if fmt == "csv":
            return [r["call_id"] for r in csv_rows(client, ran.campaign_id, **params)]
        return [r["call_id"] for r in jsonl_rows(client, ran.campaign_id, **params)]

    def listed(**params: Any) -> list[str]:
        found = walk_pages(client, "/v1/calls", limit=200, campaign_id=ran.campaign_id,
                           **params)
        return [c["id"] for c in found[::-1]]

    outcomes = {c["outcome"] for c in ran.calls}
    assert "answered" in outcomes and len(outcomes) >= 3
    for outcome in outcomes:
        assert exported(outcome=outcome) == listed(outcome=outcome) != []
        assert exported("jsonl", outcome=outcome) == listed(outcome=outcome)
    assert exported(status="ended") == listed(status="ended") == [c["id"] for c in ran.calls]
    assert exported(status="queued") == []
    contact = ran.calls[-1]["contact_id"]
    assert exported(contact_id=contact) == listed(contact_id=contact) != []
    # created_after inclusive, created_before exclusive: split at a call's own instant.
    middle = ran.calls[len(ran.calls) // 2]["created_at"]
    before = exported(created_before=middle)
    after = exported(created_after=middle)
    assert before == listed(created_before=middle)
    assert after == listed(created_after=middle)
    assert before + after == [c["id"] for c in ran.calls] and before and after
    assert ran.calls[len(ran.calls) // 2]["id"] in after  # its own instant: inclusive
    both = exported(created_after=ran.calls[1]["created_at"], created_before=middle,
                    outcome="answered")
    assert both == listed(created_after=ran.calls[1]["created_at"], created_before=middle,
                          outcome="answered")
    # analysis_status: not a filter of the call list; checked against the stored values.
    for status in ("done", "pending"):
        wanted = [c["id"] for c in ran.calls if ran.analysis_status[c["id"]] == status]
        assert exported(analysis_status=status) == wanted != []
        assert exported("jsonl", analysis_status=status) == wanted
    assert exported(analysis_status="failed") == []


def test_bad_filters_are_refused_before_streaming_naming_the_field(
        client: TestClient) -> None:
    campaign_id = create(client, analysis={"tags": TAGS})["id"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"format": "xml"}, "format"),
        ({"status": "done"}, "status"),
        ({"outcome": "maybe"}, "outcome"),
        ({"analysis_status": "later"}, "analysis_status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2026-03-02T15:00:00"}, "created_after"),  # no offset
        ({"created_after": "2026-03-02T15:00:00Z", "created_before": "2026-03-02T15:00:00Z"},
         "created_before"),
        ({"include_transcript": "true"}, "include_transcript"),  # csv has no transcripts
        ({"include_transcript": "perhaps", "format": "jsonl"}, "include_transcript"),
    ]
    for params, field in bad:
        response = get_export(client, campaign_id, **params)
        assert error_of(response, 422)["field"] == field, params
        assert response.headers["content-type"] == "application/json"


def test_another_workspaces_campaign_is_not_found(client: TestClient,
                                                  other_client: TestClient) -> None:
    campaign_id = create(client, analysis={"tags": TAGS})["id"]
    assert get_export(client, campaign_id).status_code == 200
    for fmt in ("csv", "jsonl"):
        response = get_export(other_client, campaign_id, format=fmt)
        assert error_of(response, 404)["field"] == "campaign_id"
    assert error_of(get_export(client, "00000000-0000-4000-8000-000000000000"), 404)
    assert error_of(get_export(client, "not-a-uuid"), 404)["field"] == "campaign_id"


def test_a_campaign_without_calls_is_the_header_only(client: TestClient) -> None:
    campaign_id = create(client, analysis={"tags": TAGS, "structured_data_schema": FIELDS})
    response = get_export(client, campaign_id["id"])
    assert response.status_code == 200, response.text
    lines = response.content.decode().split("\r\n")
    assert lines[1:] == [""] and next(csv.reader([lines[0]])) == HEADER
    assert get_export(client, campaign_id["id"], format="jsonl").content == b""


def test_columns_come_from_the_assistant_when_the_campaign_has_no_settings(
        client: TestClient) -> None:
    assistant = make_assistant(client, analysis={"tags": [{"name": "Hot"}],
                                                 "structured_data_schema": [{"key": "size"}]})
    campaign_id = create(client, assistant_id=assistant)["id"]
    header = get_export(client, campaign_id).content.decode().split("\r\n")[0]
    assert header.split(",") == [*BASE, *ANALYSIS, "tag:Hot", "data:size"]
    bare = create(client)["id"]
    assert get_export(client, bare).content.decode() == ",".join([*BASE, *ANALYSIS]) + "\r\n"


def test_openapi_documents_both_content_types(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/campaigns/{campaign_id}/calls/export"]["get"]
    content = operation["responses"]["200"]["content"]
    assert {"text/csv", "application/x-ndjson"} <= set(content)
    example = list(csv.reader(io.StringIO(content["text/csv"]["example"], newline="")))
    assert example[0][:len(BASE) + len(ANALYSIS)] == [*BASE, *ANALYSIS]
    assert len(example) > 1 and {len(row) for row in example} == {len(example[0])}
    line = json.loads(content["application/x-ndjson"]["example"])
    assert list(line) == [*BASE, "analysis"]
    assert {"404", "422"} <= set(operation["responses"])
    params = {p["name"] for p in operation["parameters"]}
    assert {"format", "status", "outcome", "contact_id", "analysis_status", "created_after",
            "created_before", "include_transcript"} <= params


# --- the engine, as scheduled reports use it -------------------------------------------------

def test_engine_rows_counts_and_report_ranges(client: TestClient, db: Database,
                                              clock: ManualClock,
                                              workspace: tuple[str, str]) -> None:
    ran = run_campaign(client, db, clock)
    workspace_id = workspace[0]
    first = datetime.fromisoformat(ran.calls[0]["created_at"])
    last = datetime.fromisoformat(ran.calls[-1]["created_at"])
    day = ExportFilters(created_after=first, created_before=last)
    inside = [c["id"] for c in ran.calls
              if first <= datetime.fromisoformat(c["created_at"]) < last]
    stream = export.iter_csv(db, workspace_id, ran.campaign_id, filters=day, chunk_bytes=256)
    assert stream.rows == 0  # nothing read before the first chunk
    chunks = list(stream)
    assert len(chunks) > 2 and all(chunk.endswith(b"\r\n") for chunk in chunks)
    body = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert [r[0] for r in body[1:]] == inside and stream.rows == len(inside)
    assert export.count_rows(db, workspace_id, ran.campaign_id, filters=day) == len(inside)
    assert export.count_rows(db, workspace_id, ran.campaign_id) == len(ran.calls)
    records = list(export.iter_records(db, workspace_id, ran.campaign_id, filters=day))
    assert [r["call_id"] for r in records] == inside
    assert export.export_layout(db, workspace_id, ran.campaign_id).columns == tuple(HEADER)
    jsonl = export.iter_jsonl(db, workspace_id, ran.campaign_id)
    assert b"".join(jsonl).count(b"\n") == jsonl.rows == len(ran.calls)
    # A download abandoned half-way: close() ends the read transaction at once.
    pool: Any = db.engine.pool
    idle = pool.checkedout()
    partial = export.iter_csv(db, workspace_id, ran.campaign_id, chunk_bytes=256)
    next(partial)
    assert pool.checkedout() == idle + 1
    partial.close()
    assert pool.checkedout() == idle
    # Bad filters fail at the call, before any database work; an unknown campaign at the
    # first chunk.
    with pytest.raises(InvalidInput) as refused:
        export.iter_csv(db, workspace_id, ran.campaign_id,
                        filters=ExportFilters(created_after=first.replace(tzinfo=None)))
    assert refused.value.field == "created_after"
    with pytest.raises(InvalidInput):
        export.iter_jsonl(db, workspace_id, ran.campaign_id,
                          filters=ExportFilters(created_after=last, created_before=first))
    for campaign_id in (ran.campaign_id, "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(NotFound):
            next(export.iter_csv(db, "00000000-0000-4000-8000-000000000001", campaign_id))
    with pytest.raises(NotFound):
        export.count_rows(db, "00000000-0000-4000-8000-000000000001", ran.campaign_id)


def test_formula_text_is_neutralized_and_removed_tags_get_no_column(
        client: TestClient, db: Database, clock: ManualClock,
        workspace: tuple[str, str]) -> None:
    ran = run_campaign(client, db, clock)
    target = next(c for c in ran.calls if c["analysis"] is not None)
    crafted = {**target["analysis"], "summary": "=HYPERLINK(\"http://x\")",
               "tags": ["Interested", "Legacy"],
               "structured_data": {"callback_date": None, "renew": True,
                                   "email": "@home", "extra": "not a column"}}
    with db.transaction() as session:
        session.execute(update(Call).where(Call.id == target["id"]).values(analysis=crafted))
        # The campaign's settings lose "Opt-out" and "email" after calls were analyzed.
        session.execute(update(Campaign).where(Campaign.id == ran.campaign_id).values(
            analysis={"tags": [TAGS[0], TAGS[1], TAGS[3]],
                      "structured_data_schema": FIELDS[:2]}))
    rows = csv_rows_any(client, ran.campaign_id)
    # RFC 4180 exactly as the csv module writes it (reports re-write exported rows with
    # csv.writer and expect the same bytes): quotes, commas and CRLF included.
    body = get_export(client, ran.campaign_id).content
    rewritten = io.StringIO()
    csv.writer(rewritten).writerows(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rewritten.getvalue().encode() == body and b'"\'=HYPERLINK(""' in body
    assert "tag:Opt-out" not in rows[0] and "data:email" not in rows[0]
    assert "data:extra" not in rows[0] and "tag:Legacy" not in rows[0]
    row = next(r for r in rows if r["call_id"] == target["id"])
    assert row["summary"] == "'=HYPERLINK(\"http://x\")"
    assert row["tags"] == "Interested;Legacy"  # a tag no longer in the settings stays here
    assert (row["tag:Interested"], row["tag:Follow-up"]) == ("true", "false")
    assert (row["data:callback_date"], row["data:renew"]) == ("", "true")
    assert all(r["to_number"].startswith("+1") for r in rows)  # phones are never altered
    record = next(r for r in jsonl_rows(client, ran.campaign_id)
                  if r["call_id"] == target["id"])
    assert record["analysis"] == crafted  # JSON Lines: exactly as stored
