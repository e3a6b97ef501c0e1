"""/v1/campaigns/{id}/calls/export: a campaign's calls with their analysis, as one streamed
CSV or JSON Lines file (``results.export`` does the work)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final, Literal

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.calls import CallOutcome, CallStatus
from ringwise.api.schemas.common import ErrorResponse
from ringwise.api.state import AppState
from ringwise.db.models import Campaign
from ringwise.errors import InvalidInput
from ringwise.results import export
from ringwise.results.export import ExportFilters, ExportStream
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned

router = workspace_router("/v1/campaigns", "calls")

ExportFormat = Literal["csv", "jsonl"]
AnalysisStatus = Literal["pending", "done", "failed", "skipped"]
MEDIA_TYPES: Final[dict[str, str]] = {"csv": "text/csv; charset=utf-8",
                                      "jsonl": "application/x-ndjson"}

_CSV_EXAMPLE: Final = (
    "call_id,campaign_id,contact_id,attempt,to_number,from_number,status,outcome,"
    "ended_reason,answered_by,started_at,answered_at,ended_at,duration_seconds,cost,"
    "analysis_status,summary,sentiment,score,success,opted_out,callback_requested,analyzer,"
    "tags,tag:Interested,tag:Follow-up,data:budget\r\n"
    "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a,3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8,"
    "0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11,1,+14155550100,+14155550123,ended,answered,"
    "customer-ended-call,human,2026-03-02T15:00:01.000Z,2026-03-02T15:00:09.000Z,"
    "2026-03-02T15:03:10.000Z,181.0,0.042,done,A person answered and was interested.,0.6,"
    "82,true,false,false,offline-v1,Interested,true,false,10-20k\r\n"
    "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b,3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8,"
    "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d,1,+14155550101,+14155550123,ended,no-answer,"
    "customer-did-not-answer,,2026-03-02T15:00:02.000Z,,2026-03-02T15:00:32.000Z,,0.0,,,,"
    ",,,,,,,,\r\n")
_JSONL_EXAMPLE: Final = (
    '{"call_id":"7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",'
    '"campaign_id":"3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8",'
    '"contact_id":"0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11","attempt":1,'
    '"to_number":"+14155550100","from_number":"+14155550123","status":"ended",'
    '"outcome":"answered","ended_reason":"customer-ended-call","answered_by":"human",'
    '"started_at":"2026-03-02T15:00:01.000Z","answered_at":"2026-03-02T15:00:09.000Z",'
    '"ended_at":"2026-03-02T15:03:10.000Z","duration_seconds":181.0,"cost":0.042,'
    '"analysis_status":"done","analysis":{"summary": "A person answered and was '
    'interested.", "sentiment": 0.6, "score": 82, "tags": ["Interested"], '
    '"structured_data": {"budget": "10-20k"}, "success": true, "opted_out": false, '
    '"callback_requested": false, "analyzer": "offline-v1", '
    '"analyzed_at": "2026-03-02T15:03:12Z"}}\n')

_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "The file, streamed (UTF-8), oldest call first. Content-Disposition "
                         "names it `calls-<campaign id>.csv` or `.jsonl`.",
          "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
                      "application/x-ndjson": {"schema": {"type": "string"},
                                               "example": _JSONL_EXAMPLE}}},
    404: {"model": ErrorResponse,
          "description": "No such campaign in this workspace (`field`: campaign_id)"},
    422: {"model": ErrorResponse,
          "description": "A filter is invalid (`field` names it: format, status, outcome, "
                         "analysis_status, created_after, created_before, "
                         "include_transcript)"},
}


class CallsExportResponse(StreamingResponse):
    media_type = "text/csv"


@router.get(
    "/{campaign_id}/calls/export", response_class=CallsExportResponse, responses=_RESPONSES,
    summary="Export a campaign's calls with their analysis (CSV or JSON Lines)")
def export_calls(
    campaign_id: str,
    request: Request,
    export_format: ExportFormat = Query(
        "csv", alias="format", description="csv (one row per call, one column per tag and "
                                           "structured-data key) | jsonl (one JSON object "
                                           "per line, the analysis nested)"),
    status: CallStatus | None = None,
    outcome: CallOutcome | None = None,
    contact_id: str | None = Query(None, description="Only calls to this contact"),
    analysis_status: AnalysisStatus | None = Query(
        None, description="pending | done | failed | skipped"),
    created_after: datetime | None = Query(
        None, description="Created at or after this instant (ISO 8601 with offset)"),
    created_before: datetime | None = Query(
        None, description="Created before this instant (ISO 8601 with offset)"),
    include_transcript: bool = Query(
        False, description="jsonl only: add each call's `transcript` as stored"),
    ctx: Ctx = Depends(get_ctx),
) -> CallsExportResponse:
    """Every call of the campaign matching the filters, oldest first, read in one consistent
    snapshot and streamed: memory stays flat for a million calls.

    CSV columns: `call_id`, `campaign_id`, `contact_id`, `attempt`, `to_number`,
    `from_number`, `status`, `outcome`, `ended_reason`, `answered_by`, `started_at`,
    `answered_at`, `ended_at` (UTC, `2026-03-02T15:00:00.000Z`), `duration_seconds`, `cost`,
    `analysis_status`, then the analysis: `summary`, `sentiment`, `score`, `success`,
    `opted_out`, `callback_requested`, `analyzer`, `tags` (joined by `;`), one `tag:<name>`
    column (`true`/`false`) per tag and one `data:<key>` column per structured-data key of
    the campaign's analysis settings, in their order (empty for a call not analyzed). Tags
    and keys removed from the settings get no column. Conversation text starting with `=`,
    `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it as a formula.

    JSON Lines: the same call fields, `analysis` as stored, and `transcript` with
    `include_transcript=true`."""
    campaign = get_owned(ctx, Campaign, campaign_id, "campaign_id")  # 404 before any byte
    if include_transcript and export_format != "jsonl":
        raise InvalidInput("include_transcript: transcripts are in the jsonl format only",
                           field="include_transcript")
    filters = ExportFilters(status=status, outcome=outcome, contact_id=contact_id,
                            analysis_status=analysis_status, created_after=created_after,
                            created_before=created_before)
    state: AppState = request.app.state.ringwise
    # The request's session ends when this returns; the export reads in its own transaction
    # while the response streams. Filters are checked here, before the response starts.
    if export_format == "csv":
        chunks = export.iter_csv(state.db, ctx.workspace_id, campaign.id, filters=filters)
    else:
        chunks = export.iter_jsonl(state.db, ctx.workspace_id, campaign.id, filters=filters,
                                   include_transcript=include_transcript)
    filename = f"calls-{campaign.id}.{export_format}"
    return CallsExportResponse(
        _streamed(chunks), media_type=MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _next(chunks: ExportStream) -> bytes | None:
    return next(chunks, None)


async def _streamed(chunks: ExportStream) -> AsyncIterator[bytes]:
    """Each chunk made in a worker thread; the export closed however the response ends, so
    a client that goes away mid-file releases its read transaction (and PostgreSQL
    connection) at once rather than whenever the generator is collected."""
    try:
        while (chunk := await run_in_threadpool(_next, chunks)) is not None:
            yield chunk
    finally:
        # Never running here: a cancelled worker-thread call is waited for before this.
        chunks.close()
