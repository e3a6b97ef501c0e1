"""/v1/contact-lists: named sets of contacts, their members, and streamed CSV import."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import csv_upload_body, get_ctx, streams_body, uploaded_csv
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.contact_lists import (
    ContactIds,
    ContactListCreate,
    ContactListOut,
    ContactListUpdate,
    ImportResult,
    MembershipChange,
)
from ringwise.api.schemas.contacts import ContactOut, check_region, contact_out
from ringwise.db.models import ContactList
from ringwise.errors import InvalidInput
from ringwise.services import contact_lists, contacts, csv_import
from ringwise.services.context import Ctx

router = workspace_router("/v1/contact-lists", "contact lists")


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse,
                    "description": "No such list, or a contact id that is not this "
                                   "workspace's (`field` names it)"}}


def _out(ctx: Ctx, contact_list: ContactList, count: int | None = None) -> ContactListOut:
    if count is None:
        count = contact_lists.member_counts(ctx, [contact_list.id])[contact_list.id]
    return ContactListOut(id=contact_list.id, name=contact_list.name,
                          description=contact_list.description, contact_count=count,
                          created_at=contact_list.created_at,
                          updated_at=contact_list.updated_at)


@router.post("", status_code=201, response_model=ContactListOut, summary="Create a contact list")
def create_list(body: ContactListCreate, ctx: Ctx = Depends(get_ctx)) -> ContactListOut:
    return _out(ctx, contact_lists.create_list(ctx, body), 0)


@router.get("", response_model=ListResponse[ContactListOut], summary="List contact lists")
def list_lists(
    limit: int = Query(50, description="Page size, 1-200", examples=[50]),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, max_length=255, examples=["webinar"],
                               description="Substring of the name or description"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[ContactListOut]:
    page = contact_lists.list_lists(ctx, limit=limit, cursor=cursor, search=search)
    counts = contact_lists.member_counts(ctx, [c.id for c in page.items])
    return ListResponse(data=[_out(ctx, c, counts[c.id]) for c in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{list_id}", response_model=ContactListOut, summary="Get a contact list")
def get_list(list_id: str, ctx: Ctx = Depends(get_ctx)) -> ContactListOut:
    return _out(ctx, contact_lists.get_list(ctx, list_id))


@router.patch("/{list_id}", response_model=ContactListOut,
              summary="Rename a contact list or change its description")
def update_list(list_id: str, body: ContactListUpdate,
                ctx: Ctx = Depends(get_ctx)) -> ContactListOut:
    return _out(ctx, contact_lists.update_list(ctx, list_id, body))


@router.delete("/{list_id}", status_code=204, response_class=Response,
               summary="Delete a contact list (its contacts are kept)")
def delete_list(list_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    contact_lists.delete_list(ctx, list_id)
    return Response(status_code=204)


@router.get("/{list_id}/contacts", response_model=ListResponse[ContactOut],
            summary="List the contacts of a list")
def list_members(
    list_id: str,
    limit: int = Query(50, description="Page size, 1-200", examples=[50]),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, max_length=255, examples=["garcia"],
                               description="As in GET /v1/contacts"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[ContactOut]:
    page = contacts.list_contacts(ctx, limit=limit, cursor=cursor, search=search,
                                  list_id=list_id)
    return ListResponse(data=[contact_out(c) for c in page.items],
                        next_cursor=page.next_cursor)


def _membership(ctx: Ctx, list_id: str, added: int = 0, removed: int = 0) -> MembershipChange:
    count = contact_lists.member_counts(ctx, [list_id])[list_id]
    return MembershipChange(list_id=list_id, added=added, removed=removed, contact_count=count)


@router.post("/{list_id}/contacts", response_model=MembershipChange, responses=_NOT_FOUND,
             summary="Add contacts to a list")
def add_contacts(list_id: str, body: ContactIds,
                 ctx: Ctx = Depends(get_ctx)) -> MembershipChange:
    """Contacts already in the list are left as they are. If any id is not one of this
    workspace's contacts, nothing is added and the 404 names it (`contact_ids[i]`)."""
    added = contact_lists.add_contacts(ctx, list_id, body.contact_ids)
    return _membership(ctx, list_id, added=added)


@router.delete("/{list_id}/contacts", response_model=MembershipChange, responses=_NOT_FOUND,
               summary="Remove contacts from a list")
def remove_contacts(list_id: str, body: ContactIds,
                    ctx: Ctx = Depends(get_ctx)) -> MembershipChange:
    """The contacts themselves are kept. Same body as adding."""
    removed = contact_lists.remove_contacts(ctx, list_id, body.contact_ids)
    return _membership(ctx, list_id, removed=removed)


@router.post("/{list_id}/contacts/remove", response_model=MembershipChange,
             responses=_NOT_FOUND,
             summary="Remove contacts from a list (for clients that cannot send a DELETE body)")
def remove_contacts_post(list_id: str, body: ContactIds,
                         ctx: Ctx = Depends(get_ctx)) -> MembershipChange:
    removed = contact_lists.remove_contacts(ctx, list_id, body.contact_ids)
    return _membership(ctx, list_id, removed=removed)


# --- CSV import --------------------------------------------------------------------------------

_CSV_EXAMPLE = ("Mobile,First Name,Last Name,E-mail,Lead Source\n"
                "+1 (212) 555-0100,Ann,Lee,ann@example.com,webinar\n")
_IMPORT_BODY: dict[str, Any] = csv_upload_body("", _CSV_EXAMPLE)


def _options(ctx: Ctx, default_region: str | None, mapping: str | None,
             delimiter: str | None) -> csv_import.ImportOptions:
    region = (check_region(default_region, "default_region") if default_region
              else ctx.workspace.default_region or "US")
    parsed: dict[str, str | None] = {}
    if mapping:
        try:
            raw = json.loads(mapping)
        except json.JSONDecodeError:
            raw = None
        if not isinstance(raw, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in raw.items()):
            raise InvalidInput('mapping must be a JSON object of field -> column, like '
                               '{"phone": "Mobile", "email": null}', field="mapping")
        parsed = raw
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";",
                     "pipe": "|"}.get(delimiter.lower(), delimiter)
        if delimiter not in csv_import.DELIMITERS:
            raise InvalidInput("delimiter must be one of , ; | or tab", field="delimiter")
    return csv_import.ImportOptions(default_region=region, mapping=parsed, delimiter=delimiter)


@router.post("/{list_id}/import", response_model=ImportResult, openapi_extra=_IMPORT_BODY,
             responses={413: {"model": ErrorResponse, "description": "The file is over 2 GiB"},
                        **_NOT_FOUND},
             summary="Import contacts from a CSV file into a list")
@streams_body
async def import_csv(
    list_id: str,
    request: Request,
    default_region: str | None = Query(
        None, min_length=2, max_length=2, examples=["US"],
        description="Region for numbers without +country; defaults to the workspace's"),
    mapping: str | None = Query(
        None, examples=['{"phone": "Mobile", "custom_fields.source": "Lead Source"}'],
        description="JSON object: contact field (or `custom_fields.<key>`) -> the file's "
                    "column header; a field mapped to null is not imported. Unmapped fields "
                    "are found by usual header names (phone/mobile/cell/tel, first name, "
                    "e-mail, zip, time zone, ...); other columns become custom fields."),
    delimiter: str | None = Query(None, examples=[";"],
                                  description="`,` `;` `|` or `tab`; detected when absent"),
    ctx: Ctx = Depends(get_ctx),
) -> ImportResult:
    """The file is streamed: any size up to 2 GiB, read and written in batches, in one
    transaction. Upsert by phone as everywhere (non-empty cells overwrite, empty ones keep),
    a phone repeated in the file merges into its first row's contact. UTF-8 (with or without
    BOM), UTF-16 with BOM, or Windows-1252; `,` `;` tab or `|` separated; blank lines skipped.
    Rows that fail validation are reported with their spreadsheet row number (header = row 1)
    and the other rows are imported."""
    options = _options(ctx, default_region, mapping, delimiter)
    await run_in_threadpool(contact_lists.get_list, ctx, list_id)  # 404 before the upload
    async with uploaded_csv(request) as stream:
        report = await run_in_threadpool(csv_import.import_csv, ctx, stream, list_id, options)
        count = await run_in_threadpool(contact_lists.member_counts, ctx, [list_id])
    return ImportResult(
        list_id=list_id, rows=report.rows, imported=report.imported, created=report.created,
        updated=report.updated, duplicates=report.duplicates, rejected=report.rejected,
        rejections=report.rejections, rejections_truncated=report.rejections_truncated,
        encoding=report.encoding, delimiter=report.delimiter, columns=report.columns,
        contact_count=count[list_id],
    )
