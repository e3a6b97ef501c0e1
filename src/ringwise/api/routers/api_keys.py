"""/v1/api-keys: a workspace's keys (the secret is shown once, at creation)."""

from __future__ import annotations

from fastapi import Depends

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from ringwise.api.schemas.common import ListResponse
from ringwise.db.models import ApiKey
from ringwise.services import workspaces
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned

router = workspace_router("/v1/api-keys", "api keys")


@router.get("", response_model=ListResponse[ApiKeyOut], summary="List API keys")
def list_keys(prefix: str | None = None, ctx: Ctx = Depends(get_ctx)) -> ListResponse[ApiKeyOut]:
    keys = workspaces.list_keys(ctx.session, ctx.workspace_id, prefix)
    return ListResponse(data=[ApiKeyOut.model_validate(k) for k in keys])


@router.post("", status_code=201, response_model=ApiKeyCreated, summary="Create an API key")
def create_key(body: ApiKeyCreate, ctx: Ctx = Depends(get_ctx)) -> ApiKeyCreated:
    created = workspaces.create_key(ctx.session, ctx.workspace_id, body.name, ctx.now)
    out = ApiKeyOut.model_validate(created.key).model_dump()
    return ApiKeyCreated(**out, key=created.secret)


@router.delete("/{key_id}", response_model=ApiKeyOut, summary="Revoke an API key")
def revoke_key(key_id: str, ctx: Ctx = Depends(get_ctx)) -> ApiKeyOut:
    key = get_owned(ctx, ApiKey, key_id, "key_id")
    workspaces.revoke_key(ctx.session, key.id, ctx.now, ctx.workspace_id)
    return ApiKeyOut.model_validate(key)
