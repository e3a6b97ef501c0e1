"""/v1/phone-numbers: the numbers a workspace calls from."""

from __future__ import annotations

from fastapi import Depends, Query, Response

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.api.schemas.phone_numbers import (
    PhoneNumberCreate,
    PhoneNumberOut,
    PhoneNumberUpdate,
    Provider,
)
from ringwise.services import phone_numbers
from ringwise.services.context import Ctx

router = workspace_router("/v1/phone-numbers", "phone numbers")


@router.post("", status_code=201, response_model=PhoneNumberOut,
             responses={409: {"model": ErrorResponse,
                              "description": "The number is already in this workspace"}},
             summary="Add a phone number")
def create_phone_number(body: PhoneNumberCreate, ctx: Ctx = Depends(get_ctx)) -> PhoneNumberOut:
    return PhoneNumberOut.model_validate(phone_numbers.create_phone_number(ctx, body))


@router.get("", response_model=ListResponse[PhoneNumberOut], summary="List phone numbers")
def list_phone_numbers(
    limit: int = Query(50, description="Page size, 1-200"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, max_length=255,
                               description="Substring of the number or (case-insensitive) "
                                           "the label"),
    provider: Provider | None = None,
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[PhoneNumberOut]:
    page = phone_numbers.list_phone_numbers(ctx, limit=limit, cursor=cursor, search=search,
                                            provider=provider)
    return ListResponse(data=[PhoneNumberOut.model_validate(p) for p in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{phone_number_id}", response_model=PhoneNumberOut, summary="Get a phone number")
def get_phone_number(phone_number_id: str, ctx: Ctx = Depends(get_ctx)) -> PhoneNumberOut:
    return PhoneNumberOut.model_validate(phone_numbers.get_phone_number(ctx, phone_number_id))


@router.patch("/{phone_number_id}", response_model=PhoneNumberOut,
              summary="Change a phone number's label or calls-per-second limit")
def update_phone_number(phone_number_id: str, body: PhoneNumberUpdate,
                        ctx: Ctx = Depends(get_ctx)) -> PhoneNumberOut:
    return PhoneNumberOut.model_validate(
        phone_numbers.update_phone_number(ctx, phone_number_id, body))


@router.delete("/{phone_number_id}", status_code=204, response_class=Response,
               responses={409: {"model": ErrorResponse,
                                "description": "A scheduled, running or paused campaign "
                                               "calls from this number"}},
               summary="Delete a phone number")
def delete_phone_number(phone_number_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    phone_numbers.delete_phone_number(ctx, phone_number_id)
    return Response(status_code=204)
