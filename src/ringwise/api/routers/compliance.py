"""The compliance audit trail: GET /v1/calls/{id}/audit (why one call was placed) and
/v1/campaigns/{id}/compliance-log (every dial-time decision of a campaign, as JSON pages or
a streamed CSV file).

The dialer writes one record per decision in the transaction that makes it: ``dialed`` (the
call placed), ``blocked`` (the contact closed: do-not-call, no consent, stale registry scrub,
unknown time zone...) or ``deferred`` (a frequency cap moved the call later).
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.compliance import (
    AppliedRule,
    CallAudit,
    ComplianceRecordOut,
    Decision,
)
from ringwise.api.state import AppState
from ringwise.db.models import ComplianceLog
from ringwise.services import compliance_log
from ringwise.services.compliance_log import RuleInfo
from ringwise.services.context import Ctx

TAG = "compliance"
calls_router = workspace_router("/v1/calls", TAG)
campaigns_router = workspace_router("/v1/campaigns", TAG)

_CALL_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse, "description": "No such call in this workspace"}}
_CAMPAIGN_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse,
    "description": "No such campaign in this workspace (`field`: campaign_id)"}}
_DECISION = Query(None, examples=["blocked"],
                  description="Only records with this decision: dialed | blocked | deferred")
_CSV_EXAMPLE = (
    "at,decision,reason,phone,call_id,campaign_contact_id,rules,local_times\r\n"
    "2026-03-02T15:00:00.000Z,dialed,,+13055550100,7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a,"
    "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b,us-federal+us-fl,"
    "America/New_York=2026-03-02T10:00:00-05:00\r\n"
    "2026-03-02T15:00:00.000Z,blocked,dnc-listed,+12125550100,,"
    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d,us-federal,"
    "America/New_York=2026-03-02T10:00:00-05:00\r\n")


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


def _rule(info: RuleInfo) -> AppliedRule:
    return AppliedRule(key=info.key, title=info.title, source=info.source)


def record_out(row: ComplianceLog) -> ComplianceRecordOut:
    keys = compliance_log.rule_keys(row.rules)
    cap = compliance_log.cap_info(row.reason)
    return ComplianceRecordOut(
        id=row.id, campaign_id=row.campaign_id, campaign_contact_id=row.campaign_contact_id,
        call_id=row.call_id, phone=row.phone, at=row.at,
        decision=cast(Decision, row.decision),  # validated: the dialer writes only these
        reason=row.reason, rules=keys,
        rule_details=[_rule(compliance_log.rule_info(key)) for key in keys],
        cap=None if cap is None else _rule(cap),
        local_times=compliance_log.local_times_of(row.local_times))


@calls_router.get("/{call_id}/audit", response_model=CallAudit, responses=_CALL_404,
                  summary="Why a call was placed: its compliance records")
def get_call_audit(call_id: str, ctx: Ctx = Depends(get_ctx)) -> CallAudit:
    """The dialer's decision to place this call: when, the calling-hour rules that applied
    (with their titles and legal sources), and the callee's local time in each of its time
    zones. An empty `data` for a call placed before the compliance log existed."""
    records = compliance_log.call_records(ctx, call_id)
    return CallAudit(call_id=call_id, data=[record_out(r) for r in records])


@campaigns_router.get("/{campaign_id}/compliance-log",
                      response_model=ListResponse[ComplianceRecordOut],
                      responses=_CAMPAIGN_404,
                      summary="List a campaign's compliance log (dialed, blocked, deferred)")
def list_compliance_log(
    campaign_id: str,
    decision: Decision | None = _DECISION,
    limit: int = Query(50, description="Page size, 1-200", examples=[50]),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[ComplianceRecordOut]:
    """Every dial-time decision of the campaign, newest first: each call placed, each
    contact blocked and why, each call deferred by a frequency cap. For the whole log as a
    file, see `compliance-log.csv`."""
    page = compliance_log.campaign_records(ctx, campaign_id, decision=decision, limit=limit,
                                           cursor=cursor)
    return ListResponse(data=[record_out(r) for r in page.items],
                        next_cursor=page.next_cursor)


@campaigns_router.get(
    "/{campaign_id}/compliance-log.csv", response_class=CsvResponse,
    responses={200: {"description": "The log as CSV (UTF-8, RFC 4180), oldest first",
                     "content": {"text/csv": {"schema": {"type": "string"},
                                              "example": _CSV_EXAMPLE}}},
               **_CAMPAIGN_404},
    summary="Export a campaign's compliance log as CSV")
def export_compliance_log(campaign_id: str, request: Request,
                          decision: Decision | None = _DECISION,
                          ctx: Ctx = Depends(get_ctx)) -> CsvResponse:
    """The whole log, oldest first, streamed: `at` (UTC), `decision`, `reason`, `phone`,
    `call_id`, `campaign_contact_id`, `rules` (keys joined by `+`, like
    `us-federal+us-fl`) and `local_times` (`zone=local time; zone=local time`). Records
    written while the file downloads may be included."""
    campaign = compliance_log.owned_campaign(ctx, campaign_id)
    state: AppState = request.app.state.ringwise
    # The request's session ends when this returns: the rows are read in pages, each in its
    # own short transaction, while the response streams.
    chunks = compliance_log.export_csv(state.db, ctx.workspace_id, campaign.id,
                                       decision=decision)
    filename = f"compliance-log-{campaign.id}.csv"
    return CsvResponse(chunks, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


# One module, one router for the app.
router = APIRouter()
router.include_router(calls_router)
router.include_router(campaigns_router)
