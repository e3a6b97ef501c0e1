"""GET/PATCH /v1/settings: the workspace's defaults."""

from __future__ import annotations

from fastapi import Depends

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.settings import WorkspaceSettings, WorkspaceSettingsUpdate
from ringwise.services.context import Ctx

router = workspace_router("/v1/settings", "settings")


@router.get("", response_model=WorkspaceSettings, summary="Get workspace settings")
def get_settings(ctx: Ctx = Depends(get_ctx)) -> WorkspaceSettings:
    return WorkspaceSettings.model_validate(ctx.workspace)


@router.patch("", response_model=WorkspaceSettings, summary="Update workspace settings")
def update_settings(body: WorkspaceSettingsUpdate,
                    ctx: Ctx = Depends(get_ctx)) -> WorkspaceSettings:
    changes = body.model_dump(exclude_unset=True)
    workspace = ctx.workspace
    for name, value in changes.items():
        if value is None and name != "business_hours":
            continue
        setattr(workspace, name, value)
    workspace.updated_at = ctx.now
    ctx.session.flush()
    return WorkspaceSettings.model_validate(workspace)
