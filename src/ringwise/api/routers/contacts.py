"""/v1/contacts: the people to call, one per phone number in a workspace (upsert by phone)."""

from __future__ import annotations

from fastapi import Depends, Query, Response

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.contacts import (
    ContactBulkCreate,
    ContactBulkResult,
    ContactInput,
    ContactOut,
    ContactUpdate,
    RowRejection,
    check_region,
    contact_out,
)
from ringwise.errors import InvalidInput
from ringwise.services import contacts
from ringwise.services.context import Ctx

router = workspace_router("/v1/contacts", "contacts")

_REGION_DOC = ("Region (ISO 3166-1 alpha-2) for numbers written without +country; defaults to "
               "the workspace's default_region")


def region_param(default_region: str | None = Query(
        None, min_length=2, max_length=2, examples=["ES"], description=_REGION_DOC)) -> str | None:
    return None if default_region is None else check_region(default_region, "default_region")


@router.post("", response_model=ContactOut, status_code=201,
             responses={200: {"model": ContactOut,
                              "description": "A contact with this phone existed: updated"}},
             summary="Create or update a contact (upsert by phone)")
def upsert_contact(body: ContactInput, response: Response,
                   default_region: str | None = Depends(region_param),
                   ctx: Ctx = Depends(get_ctx)) -> ContactOut:
    """Non-empty fields overwrite, absent or empty ones keep the stored value; custom_fields and
    metadata are merged key by key. 201 when the contact is new, 200 when it existed."""
    result = contacts.upsert_contacts(ctx, [body], default_region)
    if result.rejected:
        rejection = result.rejected[0]
        raise InvalidInput(f"{rejection.field}: {rejection.reason}", field=rejection.field)
    contact_id = result.contact_ids[0]
    assert contact_id is not None
    response.status_code = 201 if result.created else 200
    return contact_out(contacts.get_contact(ctx, contact_id))


@router.post("/bulk", response_model=ContactBulkResult,
             summary="Create or update up to 10,000 contacts")
def bulk_upsert(body: ContactBulkCreate, ctx: Ctx = Depends(get_ctx)) -> ContactBulkResult:
    """Each row is upserted by phone as in `POST /v1/contacts`. A row that is invalid (a field,
    or a phone that does not parse) is reported in `rejected` with its 0-based index and the
    field; the other rows are written."""
    result = contacts.upsert_contacts(ctx, body.contacts, body.default_region)
    ids: list[str | None] = [None] * (len(body.contacts) + len(body.invalid_rows))
    rejected: dict[int, RowRejection] = dict(body.invalid_rows)
    for position, contact_id in zip(body.positions, result.contact_ids, strict=True):
        ids[position] = contact_id
    for rejection in result.rejected:
        index = body.positions[rejection.index]
        rejected[index] = RowRejection(index=index, field=rejection.field,
                                       reason=rejection.reason)
    return ContactBulkResult(created=result.created, updated=result.updated,
                             duplicates=result.duplicates, contact_ids=ids,
                             rejected=[rejected[i] for i in sorted(rejected)])


@router.get("", response_model=ListResponse[ContactOut], summary="List contacts")
def list_contacts(
    limit: int = Query(50, description="Page size, 1-200", examples=[50]),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, max_length=255, examples=["juan garcia"],
                               description="Words that must each match (case-insensitively) "
                                           "the first or last name, the e-mail, or the "
                                           "phone's digits"),
    list_id: str | None = Query(None, description="Only the contacts of this list"),
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[ContactOut]:
    page = contacts.list_contacts(ctx, limit=limit, cursor=cursor, search=search,
                                  list_id=list_id)
    return ListResponse(data=[contact_out(c) for c in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{contact_id}", response_model=ContactOut, summary="Get a contact")
def get_contact(contact_id: str, ctx: Ctx = Depends(get_ctx)) -> ContactOut:
    return contact_out(contacts.get_contact(ctx, contact_id, "contact_id"))


@router.patch("/{contact_id}", response_model=ContactOut,
              responses={409: {"model": ErrorResponse,
                               "description": "Another contact already has the new phone"}},
              summary="Update a contact")
def update_contact(contact_id: str, body: ContactUpdate,
                   default_region: str | None = Depends(region_param),
                   ctx: Ctx = Depends(get_ctx)) -> ContactOut:
    return contact_out(contacts.update_contact(ctx, contact_id, body, default_region))


@router.delete("/{contact_id}", status_code=204, response_class=Response,
               summary="Delete a contact")
def delete_contact(contact_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    contacts.delete_contact(ctx, contact_id)
    return Response(status_code=204)
