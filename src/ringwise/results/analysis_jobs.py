"""Post-call analysis jobs: claim, analyze outside any transaction, store, retry.

A job is written in the transaction that ends an answered call. A runner claims due jobs by
pushing their ``next_attempt_at`` one lease ahead (so a runner that dies mid-analysis leaves
the job to be taken again when the lease runs out), runs the workspace's analyzer with no
transaction open (an LLM may take seconds), then stores the result, the statistics, the events
(``call.analyzed``, ``contact.opted_out``) and a detected opt-out's do-not-call entry in one
transaction. A failure is retried with backoff; after :data:`MAX_ATTEMPTS` the call's analysis
is marked failed with the last error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from ringwise.analysis.offline import OfflineAnalyzer
from ringwise.analysis.port import (
    AnalysisError,
    AnalysisRequest,
    AnalysisResult,
    Analyzer,
    FieldDef,
    TagDef,
)
from ringwise.clock import Clock
from ringwise.core.compliance.dnc import parse_pattern
from ringwise.db.engine import Database
from ringwise.db.models import AnalysisJob, Call, CallSettings, Campaign, DncEntry, Workspace
from ringwise.ids import new_id
from ringwise.results import outbox
from ringwise.results.records import iso, turns_of
from ringwise.results.stats_writer import AnalyzedCall, add_analyzed

log = logging.getLogger("ringwise.analysis")

JOBS: Final = cast(Table, AnalysisJob.__table__)
MAX_ATTEMPTS: Final = 6
# After the nth failure: 30 s, 2 min, 10 min, 1 h, 6 h, then it gives up (about 7 h in all).
BACKOFF: Final = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
                  timedelta(hours=1), timedelta(hours=6))
LEASE: Final = timedelta(minutes=5)

AnalyzerFactory = Callable[[Mapping[str, Any]], Analyzer]


def default_analyzer_for(results: Mapping[str, Any]) -> Analyzer:
    """The workspace's analyzer: the LLM one when its results settings configure it."""
    analyzer = results.get("analyzer") or "offline"
    if analyzer == "llm":
        from ringwise.analysis.llm import LlmAnalyzer

        llm = results.get("llm") or {}
        return LlmAnalyzer(base_url=str(llm["base_url"]), model=str(llm["model"]),
                           api_key=llm.get("api_key"),
                           timeout_s=float(llm.get("timeout_seconds") or 30.0))
    return OfflineAnalyzer()


@dataclass(frozen=True, slots=True)
class _Work:
    call_id: str
    workspace_id: str
    attempts: int
    request: AnalysisRequest | None  # None: nothing to analyze (no transcript)
    results_settings: Mapping[str, Any]


def request_for(call: Call, settings: Mapping[str, Any] | None,
                assistant: Mapping[str, Any] | None) -> AnalysisRequest:
    """The analyzer's input: the call's turns and the analysis settings it was placed with
    (the campaign's, else its assistant's)."""
    analysis = (settings or {}).get("analysis") or (assistant or {}).get("analysis") or {}
    return AnalysisRequest(
        turns=turns_of(call.transcript), outcome="answered",
        answered_by=cast(Any, call.answered_by), duration_s=float(call.duration_seconds or 0.0),
        tags=[TagDef(t["name"], t.get("description")) for t in analysis.get("tags") or ()],
        fields=[FieldDef(f["key"], f.get("description"), f.get("type") or "string")
                for f in analysis.get("structured_data_schema") or ()],
        scoring_criteria=analysis.get("scoring_criteria"),
        success_criteria=analysis.get("success_criteria"),
        language=(assistant or {}).get("language"))


def result_json(result: AnalysisResult, at: datetime) -> dict[str, Any]:
    return {"summary": result.summary, "sentiment": result.sentiment, "score": result.score,
            "tags": list(result.tags), "structured_data": dict(result.structured),
            "success": result.success, "opted_out": result.opted_out,
            "callback_requested": result.callback_requested, "analyzer": result.analyzer,
            "analyzed_at": iso(at)}


class AnalysisRunner:
    def __init__(self, db: Database, clock: Clock, *, worker_id: str,
                 analyzer_for: AnalyzerFactory = default_analyzer_for,
                 lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.worker_id = worker_id
        self.analyzer_for = analyzer_for
        self.lease = lease
        self._pg = db.dialect == "postgresql"

    def run_due(self, limit: int = 50) -> int:
        """Analyze up to ``limit`` due calls; how many jobs were worked on."""
        work = self._claim(limit)
        for item in work:
            self._run(item)
        return len(work)

    def next_due(self) -> datetime | None:
        with self.db.reading() as session:
            value: datetime | None = session.scalar(
                select(AnalysisJob.next_attempt_at).where(AnalysisJob.status == "pending")
                .order_by(AnalysisJob.next_attempt_at).limit(1))
        return value

    def _claim(self, limit: int) -> list[_Work]:
        at = self.clock.now()
        query = (select(AnalysisJob).where(AnalysisJob.status == "pending",
                                           AnalysisJob.next_attempt_at <= at)
                 .order_by(AnalysisJob.next_attempt_at, AnalysisJob.call_id).limit(limit))
        if self._pg:
            query = query.with_for_update(skip_locked=True)
        work: list[_Work] = []
        with self.db.transaction() as session:
            jobs = session.scalars(query).all()
            for job in jobs:
                job.attempts += 1
                job.next_attempt_at = at + self.lease
                job.lease_owner = self.worker_id
                job.updated_at = at
                work.append(self._work_of(session, job))
        return work

    def _work_of(self, session: Session, job: AnalysisJob) -> _Work:
        call = session.get(Call, job.call_id)
        workspace = session.get(Workspace, job.workspace_id)
        results = (workspace.results if workspace is not None else None) or {}
        if call is None or not call.transcript:
            return _Work(job.call_id, job.workspace_id, job.attempts, None, results)
        snapshot = session.get(CallSettings, call.settings_id) if call.settings_id else None
        settings: Mapping[str, Any] | None
        assistant: Mapping[str, Any] | None
        if snapshot is not None:
            settings, assistant = snapshot.campaign, snapshot.assistant
        else:  # placed before snapshots existed, or directly: the campaign as it is now
            campaign = session.get(Campaign, call.campaign_id) if call.campaign_id else None
            settings = {"analysis": campaign.analysis} if campaign is not None else None
            assistant = None
        try:
            request = request_for(call, settings, assistant)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("call %s: its analysis settings are unusable (%s)", call.id, exc)
            request = request_for(call, None, None)
        return _Work(job.call_id, job.workspace_id, job.attempts, request, results)

    def _run(self, item: _Work) -> None:
        if item.request is None:
            self._finish(item, None, "skipped")
            return
        try:
            analyzer = self.analyzer_for(item.results_settings)
            result = analyzer.analyze(item.request)
        except (AnalysisError, KeyError, ValueError, TypeError) as exc:
            self._failed(item, str(exc) or type(exc).__name__)
            return
        except Exception as exc:  # an analyzer bug must not stop the others
            log.exception("analysis of call %s raised", item.call_id)
            self._failed(item, f"{type(exc).__name__}: {exc}")
            return
        self._finish(item, result, "done")

    def _failed(self, item: _Work, error: str) -> None:
        at = self.clock.now()
        give_up = item.attempts >= MAX_ATTEMPTS
        values: dict[str, Any] = {"last_error": error[:2000], "updated_at": at,
                                  "lease_owner": None}
        if give_up:
            values.update(status="failed", next_attempt_at=None)
        else:
            values["next_attempt_at"] = at + BACKOFF[min(item.attempts, len(BACKOFF)) - 1]
        with self.db.transaction() as session:
            # Only while it is still ours: a runner whose lease ran out must not reschedule a
            # job another runner has taken since.
            ours = getattr(session.execute(update(AnalysisJob).where(
                AnalysisJob.call_id == item.call_id, AnalysisJob.status == "pending",
                AnalysisJob.lease_owner == self.worker_id,
                AnalysisJob.attempts == item.attempts).values(**values)), "rowcount", 0)
            if ours and give_up:
                session.execute(update(Call).where(Call.id == item.call_id)
                                .values(analysis_status="failed", updated_at=at))
        if ours:
            log.warning("analysis of call %s failed (attempt %d%s): %s", item.call_id,
                        item.attempts, ", giving up" if give_up else "", error)

    def _finish(self, item: _Work, result: AnalysisResult | None, status: str) -> None:
        at = self.clock.now()
        with self.db.transaction() as session:
            claimed = getattr(session.execute(
                update(AnalysisJob).where(AnalysisJob.call_id == item.call_id,
                                          AnalysisJob.status == "pending")
                .values(status="done", next_attempt_at=None, lease_owner=None,
                        last_error=None, updated_at=at)), "rowcount", 0)
            call = session.get(Call, item.call_id)
            if not claimed or call is None:
                return  # another runner finished it first (its lease ran out mid-analysis)
            call.analysis_status = status
            call.analyzed_at = at
            call.updated_at = at
            if result is None:
                return
            call.analysis = result_json(result, at)
            conn = session.connection()
            if call.campaign_id is not None:
                add_analyzed(conn, [AnalyzedCall(
                    call.campaign_id, call.started_at or call.created_at, result.sentiment,
                    result.score, result.success, result.opted_out, result.tags)])
            events: list[tuple[outbox.EventType, Mapping[str, Any]]] = [("call.analyzed", {
                "call_id": call.id, "campaign_id": call.campaign_id,
                "contact_id": call.contact_id, "analysis": call.analysis})]
            if result.opted_out and _list_opt_out(session, call, at):
                events.append(("contact.opted_out", {
                    "phone": call.to_number, "contact_id": call.contact_id,
                    "campaign_id": call.campaign_id, "call_id": call.id,
                    "source": "analysis"}))
            outbox.emit_many(conn, call.workspace_id, events, at)


def _list_opt_out(session: Session, call: Call, at: datetime) -> bool:
    """The analysis heard the callee ask not to be called: the number joins the workspace's
    do-not-call list (True when it was not on it already)."""
    try:
        pattern = parse_pattern(call.to_number)
    except ValueError:
        return False
    exists = session.scalar(select(DncEntry.id).where(
        DncEntry.workspace_id == call.workspace_id, DncEntry.campaign_id.is_(None),
        DncEntry.pattern == pattern.pattern))
    if exists is not None:
        return False
    session.add(DncEntry(id=new_id(), workspace_id=call.workspace_id, campaign_id=None,
                         pattern=pattern.pattern, kind=pattern.kind, source="opt_out",
                         reason="asked not to be called (post-call analysis)", created_at=at))
    return True
