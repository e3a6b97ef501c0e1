"""/v1/assistants: the agents campaigns put on the phone."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends, Query, Response

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.assistants import AssistantCreate, AssistantOut, AssistantUpdate
from ringwise.api.schemas.common import ErrorResponse, ListResponse
from ringwise.services import assistants
from ringwise.services.context import Ctx

router = workspace_router("/v1/assistants", "assistants")

_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorResponse,
                   "description": "A campaign past draft still uses this assistant"}}


@router.post("", status_code=201, response_model=AssistantOut, summary="Create an assistant")
def create_assistant(body: AssistantCreate, ctx: Ctx = Depends(get_ctx)) -> AssistantOut:
    return AssistantOut.model_validate(assistants.create_assistant(ctx, body))


@router.get("", response_model=ListResponse[AssistantOut], summary="List assistants")
def list_assistants(
    limit: int = Query(50, description="Page size, 1-200"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, max_length=255,
                               description="Case-insensitive substring of the name"),
    kind: Literal["assistant", "workflow", "squad"] | None = None,
    ctx: Ctx = Depends(get_ctx),
) -> ListResponse[AssistantOut]:
    page = assistants.list_assistants(ctx, limit=limit, cursor=cursor, search=search, kind=kind)
    return ListResponse(data=[AssistantOut.model_validate(a) for a in page.items],
                        next_cursor=page.next_cursor)


@router.get("/{assistant_id}", response_model=AssistantOut, summary="Get an assistant")
def get_assistant(assistant_id: str, ctx: Ctx = Depends(get_ctx)) -> AssistantOut:
    return AssistantOut.model_validate(assistants.get_assistant(ctx, assistant_id))


@router.patch("/{assistant_id}", response_model=AssistantOut, summary="Update an assistant")
def update_assistant(assistant_id: str, body: AssistantUpdate,
                     ctx: Ctx = Depends(get_ctx)) -> AssistantOut:
    return AssistantOut.model_validate(assistants.update_assistant(ctx, assistant_id, body))


@router.delete("/{assistant_id}", status_code=204, response_class=Response,
               responses=_CONFLICT, summary="Delete an assistant")
def delete_assistant(assistant_id: str, ctx: Ctx = Depends(get_ctx)) -> Response:
    assistants.delete_assistant(ctx, assistant_id)
    return Response(status_code=204)
