"""From a call's end to its results, on both databases: the record (transcript, cost,
settings), the analysis job, the statistics, and memory across calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringwise.analysis.port import AnalysisError, AnalysisRequest, AnalysisResult
from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import AnalysisJob, Call, CallSettings
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.results.analysis_jobs import MAX_ATTEMPTS, AnalysisRunner
from ringwise.telephony.callee import CalleeModel
from ringwise.telephony.port import DialRequest, PlaceResult
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier
from tests.api.test_campaigns import create, make_assistant, make_contacts, make_number

# Call fates hash the (random) call ids: with 48 contacts a run without a voicemail (asserted
# below) has a chance of about 0.8 ** 48, 2e-5.
PHONES = [f"+1212555{n:04d}" for n in range(100, 148)]
ANALYSIS = {"scoring_criteria": "Interest in a renewal review",
            "tags": [{"name": "Interested", "description": "Wants a review"},
                     {"name": "Call back", "description": "Asked to be called later"}],
            "structured_data_schema": [{"key": "callback_time", "type": "string"}]}
MIXED = CarrierModel(answer_rate=0.6, busy_rate=0.1, voicemail_rate=0.2, failure_rate=0.05,
                     invalid_rate=0.0)


class Recording(SimulatedCarrier):
    """The simulated carrier, keeping every dial request it was sent."""

    def __init__(self, model: CarrierModel, seed: int) -> None:
        super().__init__(model, seed=seed)
        self.requests: list[DialRequest] = []

    def place_call(self, request: DialRequest) -> PlaceResult:
        self.requests.append(request)
        return super().place_call(request)


def _campaign(client: TestClient, phones: list[str], **body: Any) -> str:
    campaign = create(client, assistant_id=make_assistant(client),
                      caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                      contact_ids=make_contacts(client, phones),
                      retry={"delays_minutes": [30], "max_attempts": 2},
                      schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}},
                      **body)
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
    return str(campaign["id"])


def _run(db: Database, clock: ManualClock, carrier: SimulatedCarrier, hours: float = 4) -> None:
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id="w1")
    drive(dialer, clock, carrier, until=clock.now() + timedelta(hours=hours))


def _analyze(db: Database, clock: ManualClock, **kwargs: Any) -> AnalysisRunner:
    runner = AnalysisRunner(db, clock, worker_id="r1", **kwargs)
    while runner.run_due(20):
        pass
    return runner


def test_every_answered_call_gets_its_record_and_analysis(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    campaign_id = _campaign(client, PHONES, analysis=ANALYSIS)
    _run(db, clock, SimulatedCarrier(MIXED, seed=7))
    _analyze(db, clock)
    with db.reading() as session:
        calls = session.scalars(select(Call).where(Call.campaign_id == campaign_id)).all()
        snapshots = {s.id: s for s in session.scalars(select(CallSettings))}
        jobs = session.scalars(select(AnalysisJob)).all()
    answered = [c for c in calls if c.outcome == "answered"]
    assert answered and any(c.outcome == "voicemail" for c in calls)
    assert len(jobs) == len(answered) and {j.status for j in jobs} == {"done"}
    for call in calls:
        assert call.status == "ended"
        assert call.settings_id in snapshots  # the settings it was placed with
        snapshot = snapshots[call.settings_id]
        assert snapshot.campaign["analysis"]["tags"][0]["name"] == "Interested"
        assert snapshot.assistant is not None and snapshot.assistant["id"] == call.assistant_id
        if call.outcome in ("answered", "voicemail"):
            assert call.transcript  # a voicemail: the greeting, and any message left
            if call.outcome == "answered":
                assert {t["role"] for t in call.transcript} == {"assistant", "user"}
            assert call.cost is not None and call.cost > 0
        else:
            assert not call.transcript and call.cost == 0
            assert call.analysis is None and call.analysis_status is None
    for call in answered:
        assert call.analysis_status == "done" and call.analysis is not None
        analysis = call.analysis
        assert analysis["analyzer"] == "offline-v1"
        assert set(analysis["tags"]) <= {"Interested", "Call back"}
        assert set(analysis["structured_data"]) == {"callback_time"}
        assert -1 <= analysis["sentiment"] <= 1 and 0 <= analysis["score"] <= 100
    # The statistics agree with the calls, outcome by outcome.
    body = client.get(f"/v1/campaigns/{campaign_id}/stats").json()
    by_outcome = {o: sum(1 for c in calls if c.outcome == o)
                  for o in ("answered", "voicemail", "no-answer", "busy", "failed")}
    assert body["total_calls"] == len(calls)
    assert body["outcomes"] == {"answered": by_outcome["answered"],
                                "voicemail": by_outcome["voicemail"],
                                "no_answer": by_outcome["no-answer"], "busy": by_outcome["busy"],
                                "failed": by_outcome["failed"], "other": 0}
    assert body["analyzed_calls"] == len(answered)
    assert body["success_calls"] == sum(1 for c in answered if c.analysis
                                        and c.analysis["success"])
    assert body["cost"] == round(sum(c.cost or 0 for c in calls), 4)
    tags = {t["tag"]: t["calls"] for t in body["by_tag"]}
    for tag in ("Interested", "Call back"):
        assert tags.get(tag, 0) == sum(1 for c in answered if c.analysis
                                       and tag in c.analysis["tags"])
    assert sum(h["calls"] for h in body["by_hour"]) == len(calls)
    sentiments = [c.analysis["sentiment"] for c in answered if c.analysis]
    # The server sums per hour, in another order than sum(): at a tie (x.xxx5) the last bit
    # of the float sum may round either way.
    assert body["average_sentiment_score"] == pytest.approx(
        sum(sentiments) / len(sentiments), abs=0.0005 + 1e-9)
    # The call record through the API: timeline, analysis, the settings it was placed with.
    call = answered[0]
    record = client.get(f"/v1/calls/{call.id}").json()
    assert [t["status"] for t in record["timeline"]] == ["dialing", "ringing", "in-progress",
                                                         "ended"]
    assert record["analysis_status"] == "done" and record["analysis"] == call.analysis
    assert record["cost"] == call.cost and record["transcript"] == call.transcript
    settings = client.get(f"/v1/calls/{call.id}/settings").json()
    assert settings["id"] == call.settings_id and settings["campaign_id"] == campaign_id
    assert settings["campaign"]["analysis"]["tags"][1]["name"] == "Call back"
    assert client.get(f"/v1/calls/{calls[0].id}/settings").status_code == 200
    # The campaign list carries the same summary.
    row = next(c for c in client.get("/v1/campaigns").json()["data"] if c["id"] == campaign_id)
    assert row["stats"]["total_calls"] == len(calls)
    assert row["stats"]["connected_calls"] == len(answered)


def test_another_workspace_cannot_read_a_calls_settings(
        client: TestClient, other_client: TestClient, db: Database, clock: ManualClock) -> None:
    _campaign(client, PHONES[:1])
    _run(db, clock, SimulatedCarrier(MIXED, seed=1), hours=1)
    with db.reading() as session:
        call_id = session.scalars(select(Call.id)).first()
    assert client.get(f"/v1/calls/{call_id}/settings").status_code == 200
    assert other_client.get(f"/v1/calls/{call_id}/settings").status_code == 404


def test_a_failing_analyzer_is_retried_then_gives_up(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    always_answered = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                                   failure_rate=0.0, invalid_rate=0.0,
                            answer_hour_multiplier=(1.0,) * 24)
    _campaign(client, PHONES[:2], analysis=ANALYSIS)
    _run(db, clock, SimulatedCarrier(always_answered, seed=3), hours=1)

    class Broken:
        name = "broken"
        calls = 0

        def analyze(self, request: AnalysisRequest) -> AnalysisResult:
            Broken.calls += 1
            raise AnalysisError("the model is down")

    runner = AnalysisRunner(db, clock, worker_id="r1", analyzer_for=lambda _s: Broken())
    for _ in range(MAX_ATTEMPTS + 2):
        runner.run_due(10)
        due = runner.next_due()
        if due is None:
            break
        clock.set(max(clock.now(), due))
    with db.reading() as session:
        calls = session.scalars(select(Call)).all()
        jobs = session.scalars(select(AnalysisJob)).all()
    assert Broken.calls == 2 * MAX_ATTEMPTS
    assert {j.status for j in jobs} == {"failed"}
    assert all(j.last_error == "the model is down" for j in jobs)
    assert {c.analysis_status for c in calls} == {"failed"}


def test_an_analysis_that_hears_an_opt_out_lists_the_number(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    _campaign(client, PHONES[:1], analysis=ANALYSIS)
    answered = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                            failure_rate=0.0, invalid_rate=0.0,
                            answer_hour_multiplier=(1.0,) * 24)
    _run(db, clock, SimulatedCarrier(answered, seed=3), hours=1)

    class HearsOptOut:
        name = "test"

        def analyze(self, request: AnalysisRequest) -> AnalysisResult:
            return AnalysisResult(summary="Asked not to be called.", sentiment=-0.5, score=0,
                                  opted_out=True, analyzer="test",
                                  structured={"callback_time": None})

    _analyze(db, clock, analyzer_for=lambda _s: HearsOptOut())
    check = client.get("/v1/dnc/check", params={"phone": PHONES[0]}).json()
    assert check["listed"] is True
    stats = client.get("/v1/campaigns").json()["data"][0]["stats"]
    assert stats["connected_calls"] == 1


def test_memory_returning_greeting_and_last_summaries(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    """A contact reached before is greeted as a returning one by a campaign with memory, and
    its agent gets the summaries of the earlier calls."""
    answered = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                            failure_rate=0.0, invalid_rate=0.0,
                            answer_hour_multiplier=(1.0,) * 24,
                            callee=CalleeModel.from_dict({"weights": {
                                "interested": 1, "not-interested": 0, "call-back": 0,
                                "opt-out": 0}}))
    contact_ids = make_contacts(client, PHONES[:1])
    first = create(client, assistant_id=make_assistant(client), contact_ids=contact_ids,
                   caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
                   schedule={"call_hours": {"start_time": "09:00", "end_time": "17:00"}})
    assert client.post(f"/v1/campaigns/{first['id']}/start").status_code == 200
    carrier = Recording(answered, seed=5)
    _run(db, clock, carrier, hours=1)
    _analyze(db, clock)
    with db.reading() as session:
        summary = session.scalars(select(Call)).one().analysis["summary"]  # type: ignore[index]
    second = client.post("/v1/campaigns", json={
        "name": "Follow-up", "assistant_id": first["assistant_id"],
        "contact_ids": contact_ids,
        "caller_id": {"mode": "fixed", "phone_number_ids": first["caller_id"]["phone_number_ids"]},
        "schedule": {"call_hours": {"start_time": "09:00", "end_time": "17:00"}},
        "memory": {"use_returning_greeting": True,
                   "returning_greeting": "Welcome back {{first_name}}!",
                   "use_short_term_summaries": True, "short_term_summaries_limit": 2}})
    assert second.status_code == 201, second.text
    assert client.post(f"/v1/campaigns/{second.json()['id']}/start").status_code == 200
    _run(db, clock, carrier, hours=1)
    first_request, follow_up = carrier.requests
    assert not first_request.opening_message.startswith("Welcome back")
    assert first_request.previous_summaries == ()
    assert follow_up.opening_message == "Welcome back {{first_name}}!"
    assert follow_up.previous_summaries == (summary,)


def test_the_opening_renders_custom_fields_and_campaign_metadata(
        client: TestClient, db: Database, clock: ManualClock) -> None:
    """``{{custom_fields.<key>}}`` and ``{{metadata.<key>}}`` reach the call: the contact's
    metadata, overlaid by its metadata in this campaign."""
    answered = CarrierModel(answer_rate=1.0, busy_rate=0.0, voicemail_rate=0.0,
                            failure_rate=0.0, invalid_rate=0.0,
                            answer_hour_multiplier=(1.0,) * 24)
    campaign = create(
        client, assistant_id=make_assistant(client),
        caller_id={"mode": "fixed", "phone_number_ids": [make_number(client)]},
        opening_message="Hi {{first_name}}, about case {{metadata.case}} ({{metadata.team}}) "
                        "on your {{custom_fields.plan}} plan.",
        contacts=[{"phone": PHONES[0], "first_name": "Ann", "custom_fields": {"plan": "Gold"},
                   "metadata": {"case": "old", "team": "Renewals"},
                   "campaign_metadata": {"case": "C-17"}}])
    assert client.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
    carrier = Recording(answered, seed=3)
    _run(db, clock, carrier, hours=1)
    [request] = carrier.requests
    assert request.opening_message is not None
    with db.reading() as session:
        transcript = session.scalars(select(Call)).one().transcript
    assert transcript is not None
    assert transcript[0]["text"] == "Hi Ann, about case C-17 (Renewals) on your Gold plan."
