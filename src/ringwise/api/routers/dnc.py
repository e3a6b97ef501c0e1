"""/v1/dnc (the workspace's do-not-call list) and /v1/campaigns/{id}/suppressions (one
campaign's suppression list): the same operations on the two kinds of list.

The dialer never calls a number that is on the workspace's list, nor one on the suppression
list of the campaign calling it, at the moment of dialing. Entries are numbers or area-code
wildcards ("212*", "+44 20*").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import csv_upload_body, get_ctx, streams_body, uploaded_csv
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.contacts import RowRejection, check_region
from ringwise.api.schemas.dnc import (
    DncBulkCreate,
    DncBulkResult,
    DncCheckResult,
    DncEntryInput,
    DncEntryOut,
    DncImportResult,
    DncSource,
)
from ringwise.db.models import DncEntry
from ringwise.services import dnc
from ringwise.services.context import Ctx

TAG = "do-not-call"
dnc_router = workspace_router("/v1/dnc", TAG)
suppressions_router = workspace_router("/v1/campaigns/{campaign_id}/suppressions", TAG)

_REGION_DOC = ("Region (ISO 3166-1 alpha-2) for numbers written without +country; defaults to "
               "the workspace's default_region")
_CAMPAIGN_404: dict[int | str, dict[str, Any]] = {404: {
    "model": ErrorResponse,
    "description": "No such campaign in this workspace (`field`: campaign_id), or no such "
                   "entry on this list (`field`: entry_id)"}}
_ADD_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "model": DncEntryOut, "description": "Already on the list: the existing entry, unchanged"}}


def region_param(default_region: str | None = Query(
        None, min_length=2, max_length=2, examples=["US"], description=_REGION_DOC)) -> str | None:
    return None if default_region is None else check_region(default_region, "default_region")


def entry_out(entry: DncEntry) -> DncEntryOut:
    return DncEntryOut.model_validate(entry)


# --- shared operations -------------------------------------------------------------------------

def _add(ctx: Ctx, campaign_id: str | None, body: DncEntryInput, response: Response,
         default_region: str | None) -> DncEntryOut:
    listed = dnc.add_entry(ctx, campaign_id, body, default_region)
    response.status_code = 201 if listed.created else 200
    return entry_out(listed.entry)


def _bulk(ctx: Ctx, campaign_id: str | None, body: DncBulkCreate) -> DncBulkResult:
    result = dnc.add_entries(ctx, campaign_id, body.entries, body.default_region)
    ids: list[str | None] = [None] * (len(body.entries) + len(body.invalid_rows))
    rejected: dict[int, RowRejection] = dict(body.invalid_rows)
    for position, entry_id in zip(body.positions, result.entry_ids, strict=True):
        ids[position] = entry_id
    for rejection in result.rejected:
        index = body.positions[rejection.index]
        rejected[index] = RowRejection(index=index, field=rejection.field,
                                       reason=rejection.reason)
    return DncBulkResult(added=result.added, already_listed=result.already_listed,
                         duplicates=result.duplicates, entry_ids=ids,
                         rejected=[rejected[i] for i in sorted(rejected)])


def _list(ctx: Ctx, campaign_id: str | None, limit: int, cursor: str | None,
          search: str | None, source: str | None,
          default_region: str | None) -> ListResponse[DncEntryOut]:
    page = dnc.list_entries(ctx, campaign_id, limit=limit, cursor=cursor, search=search,
                            source=source, default_region=default_region)
    return ListResponse(data=[entry_out(e) for e in page.items], next_cursor=page.next_cursor)


_DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


async def _import(ctx: Ctx, campaign_id: str | None, request: Request,
                  default_region: str | None, delimiter: str | None) -> DncImportResult:
    if delimiter is not None:
        delimiter = _DELIMITERS.get(delimiter.lower(), delimiter)
    await run_in_threadpool(dnc.list_scope, ctx, campaign_id)  # 404 before reading the file
    async with uploaded_csv(request) as stream:
        report = await run_in_threadpool(
            lambda: dnc.import_csv(ctx, campaign_id, stream, default_region=default_region,
                                   delimiter=delimiter))
    return DncImportResult(
        campaign_id=campaign_id, rows=report.rows, added=report.added,
        already_listed=report.already_listed, duplicates=report.duplicates,
        rejected=report.rejected, rejections=report.rejections,
        rejections_truncated=report.rejections_truncated, encoding=report.encoding,
        delimiter=report.delimiter, header=report.header, columns=report.columns)


_CSV_EXAMPLE = "Phone,Reason\n+1 (212) 555-0100,asked not to be called\n646*,no calls\n"
_IMPORT_BODY: dict[str, Any] = csv_upload_body(
    "Columns: `phone` (or `number` / `pattern`) and an optional `reason`; a file without a "
    "header row is read as numbers in its first column.", _CSV_EXAMPLE)
_IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The file is over 2 GiB"}, **_CAMPAIGN_404}
_IMPORT_DOC = """The file is streamed and written in batches, in one transaction: a broken
file writes nothing. Rows that do not parse are reported with their spreadsheet row number
(header = row 1) and skipped, so every valid number in the file is protected at once;
entries already on the list are counted in `already_listed` and left as they are, so
importing a file again is harmless. UTF-8 (with or without BOM), UTF-16 with BOM or
Windows-1252; `,` `;` tab or `|` separated."""

_LIMIT = Query(50, description="Page size, 1-200", examples=[50])
_CURSOR = Query(None, description="next_cursor of the previous page")
_SEARCH = Query(None, max_length=32, examples=["212"],
                description="Entries whose pattern starts with this number prefix; without "
                            "+, read in the default region ('212' in the US: '+1212')")
_SOURCE = Query(None, examples=["opt_out"], description="Only entries added this way")
_DELIMITER = Query(None, examples=[","], description="`,` `;` `|` or `tab`; detected when "
                                                     "absent")


# --- /v1/dnc ---------------------------------------------------------------------------------

@dnc_router.post("", response_model=DncEntryOut, status_code=201, responses=_ADD_RESPONSES,
                 summary="Add a number or area-code wildcard to the do-not-call list")
def add_dnc(body: DncEntryInput, response: Response,
            default_region: str | None = Depends(region_param),
            ctx: Ctx = Depends(get_ctx)) -> DncEntryOut:
    """Body: `{"phone": "...", "reason": "..."}` for a number, or `{"pattern": "212*"}` for
    a number or an area-code wildcard. 201 when added, 200 when it was already listed (the
    existing entry is returned unchanged)."""
    return _add(ctx, None, body, response, default_region)


@dnc_router.post("/bulk", response_model=DncBulkResult,
                 summary="Add up to 10,000 numbers or wildcards to the do-not-call list")
def bulk_dnc(body: DncBulkCreate, ctx: Ctx = Depends(get_ctx)) -> DncBulkResult:
    """Each row as in `POST /v1/dnc`. A row that is invalid is reported in `rejected` with
    its 0-based index and field; the other rows are added."""
    return _bulk(ctx, None, body)


@dnc_router.get("", response_model=ListResponse[DncEntryOut],
                summary="List the do-not-call list")
def list_dnc(limit: int = _LIMIT, cursor: str | None = _CURSOR, search: str | None = _SEARCH,
             source: DncSource | None = _SOURCE,
             default_region: str | None = Depends(region_param),
             ctx: Ctx = Depends(get_ctx)) -> ListResponse[DncEntryOut]:
    return _list(ctx, None, limit, cursor, search, source, default_region)


@dnc_router.get("/check", response_model=DncCheckResult, responses=_CAMPAIGN_404,
                summary="Is this number on a do-not-call list?")
def check_dnc(
    phone: str = Query(min_length=1, max_length=64, examples=["+12125550100"],
                       description="The number to check"),
    campaign_id: str | None = Query(None, examples=["3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"],
                                    description="Also check this campaign's suppression list"),
    default_region: str | None = Depends(region_param),
    ctx: Ctx = Depends(get_ctx),
) -> DncCheckResult:
    """Checks the workspace's list (number and area-code wildcards) and, given a campaign,
    its suppression list: what the dialer checks before every call."""
    result = dnc.check(ctx, phone, campaign_id, default_region)
    return DncCheckResult(phone=result.phone, listed=result.listed,
                          matches=[entry_out(e) for e in result.matches])


@dnc_router.delete("/{entry_id}", status_code=204, response_class=Response,
                   summary="Remove an entry from the do-not-call list")
def delete_dnc(entry_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    dnc.remove_entry(ctx, None, entry_id)
    return Response(status_code=204)


@dnc_router.post("/import", response_model=DncImportResult, openapi_extra=_IMPORT_BODY,
                 responses=_IMPORT_RESPONSES,
                 summary="Import numbers and wildcards from a CSV file to the do-not-call list",
                 description=_IMPORT_DOC)
@streams_body
async def import_dnc(request: Request, default_region: str | None = Depends(region_param),
                     delimiter: str | None = _DELIMITER,
                     ctx: Ctx = Depends(get_ctx)) -> DncImportResult:
    return await _import(ctx, None, request, default_region, delimiter)



# --- /v1/campaigns/{campaign_id}/suppressions ------------------------------------------------

@suppressions_router.post("", response_model=DncEntryOut, status_code=201,
                          responses={**_ADD_RESPONSES, **_CAMPAIGN_404},
                          summary="Add a number or wildcard to a campaign's suppression list")
def add_suppression(campaign_id: str, body: DncEntryInput, response: Response,
                    default_region: str | None = Depends(region_param),
                    ctx: Ctx = Depends(get_ctx)) -> DncEntryOut:
    """As `POST /v1/dnc`, for this campaign only: its calls skip the number."""
    return _add(ctx, campaign_id, body, response, default_region)


@suppressions_router.post("/bulk", response_model=DncBulkResult, responses=_CAMPAIGN_404,
                          summary="Add up to 10,000 entries to a campaign's suppression list")
def bulk_suppressions(campaign_id: str, body: DncBulkCreate,
                      ctx: Ctx = Depends(get_ctx)) -> DncBulkResult:
    """As `POST /v1/dnc/bulk`."""
    return _bulk(ctx, campaign_id, body)


@suppressions_router.get("", response_model=ListResponse[DncEntryOut],
                         responses=_CAMPAIGN_404, summary="List a campaign's suppression list")
def list_suppressions(campaign_id: str, limit: int = _LIMIT, cursor: str | None = _CURSOR,
                      search: str | None = _SEARCH, source: DncSource | None = _SOURCE,
                      default_region: str | None = Depends(region_param),
                      ctx: Ctx = Depends(get_ctx)) -> ListResponse[DncEntryOut]:
    return _list(ctx, campaign_id, limit, cursor, search, source, default_region)


@suppressions_router.delete("/{entry_id}", status_code=204, response_class=Response,
                            responses=_CAMPAIGN_404,
                            summary="Remove an entry from a campaign's suppression list")
def delete_suppression(campaign_id: str, entry_id: str,
                       ctx: Ctx = Depends(get_ctx)) -> Response:
    dnc.remove_entry(ctx, campaign_id, entry_id)
    return Response(status_code=204)


@suppressions_router.post("/import", response_model=DncImportResult,
                          openapi_extra=_IMPORT_BODY, responses=_IMPORT_RESPONSES,
                          summary="Import a CSV file to a campaign's suppression list",
                          description=_IMPORT_DOC)
@streams_body
async def import_suppressions(campaign_id: str, request: Request,
                              default_region: str | None = Depends(region_param),
                              delimiter: str | None = _DELIMITER,
                              ctx: Ctx = Depends(get_ctx)) -> DncImportResult:
    return await _import(ctx, campaign_id, request, default_region, delimiter)


# One module, one router for the app: both lists, same tag.
router = APIRouter()
router.include_router(dnc_router)
router.include_router(suppressions_router)
