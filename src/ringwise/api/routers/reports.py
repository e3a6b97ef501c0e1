"""/v1/campaigns/{id}/reports: scheduled e-mail reports of a campaign's calls (a CSV of the
period's calls, with their analysis, attached), their delivery log, and sending one now.

Reports go out through the workspace's SMTP server (``PATCH /v1/settings`` with ``email``),
sent by the results worker (``ringwise worker`` / ``serve``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request, Response

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.campaigns import ReportSchedule
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.reports import ReportDeliveryOut, ReportOut, ReportUpdate
from ringwise.api.state import AppState
from ringwise.db.models import Report
from ringwise.services import reports
from ringwise.services.context import Ctx

router = workspace_router("/v1/campaigns", "reports")

_PATH = "/{campaign_id}/reports"
_ONE = _PATH + "/{report_id}"
_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse,
    "description": "No such campaign in this workspace (`field`: campaign_id), or no such "
                   "report of the campaign (`field`: report_id)"}}
_MANAGED: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorResponse,
    "description": "`managed_by_campaign`: the report is the campaign's report_schedule "
                   "(source `campaign`); change it through the campaign"}}
_SEND_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_404,
    409: {"model": ErrorResponse,
          "description": "`email_not_configured`: the workspace has no SMTP server (PATCH "
                         "/v1/settings with email); `report_busy`: the worker is sending "
                         "this report right now. The first is logged as a failed delivery "
                         "(`details.delivery_id`)"},
    502: {"model": ErrorResponse,
          "description": "`email_failed`: the SMTP server could not be reached or refused "
                         "the message; the message says why. Logged as a failed delivery "
                         "(`details.delivery_id`); not retried"},
}
_LIMIT = Query(50, description="Page size, 1-200", examples=[50])
_CURSOR = Query(None, description="next_cursor of the previous page")


def report_out(report: Report, zone: str) -> ReportOut:
    return ReportOut.model_validate({
        **report.schedule, "id": report.id, "campaign_id": report.campaign_id,
        "enabled": report.enabled, "source": report.source,
        "next_send_at": report.next_send_at, "timezone": zone,
        "created_at": report.created_at, "updated_at": report.updated_at})


@router.post(_PATH, status_code=201, response_model=ReportOut, responses=_404,
             summary="Schedule an e-mail report of a campaign's calls")
def create_report(campaign_id: str, body: ReportSchedule,
                  ctx: Ctx = Depends(get_ctx)) -> ReportOut:
    """Sends a CSV of the campaign's calls in `date_range` (as of each send instant) to
    `recipients`, daily / weekly / monthly at `time` in the campaign schedule's timezone
    (else the workspace's). `run_client_ids` narrows it to those runs' dates (ids of the
    campaign's schedule.runs); `filters` to calls with that status, outcome,
    analysis_status or contact_id."""
    report = reports.create_report(ctx, campaign_id, body)
    return report_out(report, reports.zone_of(ctx, report))


@router.get(_PATH, response_model=ListResponse[ReportOut], responses=_404,
            summary="List a campaign's scheduled reports")
def list_reports(campaign_id: str, limit: int = _LIMIT, cursor: str | None = _CURSOR,
                 ctx: Ctx = Depends(get_ctx)) -> ListResponse[ReportOut]:
    """Newest first; includes the report made from the campaign's report_schedule (source
    `campaign`)."""
    zone, page = reports.list_reports(ctx, campaign_id, limit=limit, cursor=cursor)
    return ListResponse(data=[report_out(r, zone) for r in page.items],
                        next_cursor=page.next_cursor)


@router.get(_ONE, response_model=ReportOut, responses=_404, summary="Get a scheduled report")
def get_report(campaign_id: str, report_id: str, ctx: Ctx = Depends(get_ctx)) -> ReportOut:
    _, report = reports.get_report(ctx, campaign_id, report_id)
    return report_out(report, reports.zone_of(ctx, report))


@router.patch(_ONE, response_model=ReportOut, responses={**_404, **_MANAGED},
              summary="Change a scheduled report")
def update_report(campaign_id: str, report_id: str, body: ReportUpdate,
                  ctx: Ctx = Depends(get_ctx)) -> ReportOut:
    """Only the fields sent change. `next_send_at` is computed again when the timing or
    `enabled` changes. A report of source `campaign` only takes `enabled` here."""
    report = reports.update_report(ctx, campaign_id, report_id, body)
    return report_out(report, reports.zone_of(ctx, report))


@router.delete(_ONE, status_code=204, response_class=Response,
               responses={**_404, **_MANAGED}, summary="Delete a scheduled report")
def delete_report(campaign_id: str, report_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    """Its delivery log goes with it. A report of source `campaign` is removed by setting
    the campaign's report_schedule to null."""
    reports.delete_report(ctx, campaign_id, report_id)
    return Response(status_code=204)


@router.post(_ONE + "/send-now", response_model=ReportDeliveryOut,
             responses=_SEND_RESPONSES, summary="Send a scheduled report now")
def send_report_now(campaign_id: str, report_id: str, request: Request,
                    ctx: Ctx = Depends(get_ctx)) -> ReportDeliveryOut:
    """Builds and e-mails the report now, covering its date_range as of now, and answers
    when the SMTP server has taken it (200, the delivery). It is one try: a failure is
    logged as a failed delivery and answered 409 (no SMTP server configured) or 502 (the
    server could not be reached or refused it), with the delivery's id in
    `error.details`. The schedule is unchanged."""
    reports.get_report(ctx, campaign_id, report_id)  # 404 before any work
    # End this request's transaction first: on SQLite it holds the database's write lock,
    # which the runner's own transactions (and every dialer) would wait on for as long as
    # the SMTP server takes. Nothing was written but the key's bookkeeping.
    ctx.session.commit()
    state: AppState = request.app.state.ringwise
    delivery = reports.send_now(state.db, state.clock, ctx.workspace_id, report_id)
    return ReportDeliveryOut.model_validate(delivery)


@router.get(_ONE + "/deliveries", response_model=ListResponse[ReportDeliveryOut],
            responses=_404, summary="List a report's deliveries (newest first)")
def list_deliveries(campaign_id: str, report_id: str, limit: int = _LIMIT,
                    cursor: str | None = _CURSOR,
                    ctx: Ctx = Depends(get_ctx)) -> ListResponse[ReportDeliveryOut]:
    """Every sending and every failed try, with the calls' range, the row count, the
    recipients and the error."""
    page = reports.list_deliveries(ctx, campaign_id, report_id, limit=limit, cursor=cursor)
    return ListResponse(data=[ReportDeliveryOut.model_validate(d) for d in page.items],
                        next_cursor=page.next_cursor)
