"""GET/PATCH /v1/settings: the workspace's defaults and compliance settings."""

from __future__ import annotations

from fastapi import Depends

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.results_settings import email_out, results_out
from ringwise.api.schemas.settings import (
    ComplianceSettings,
    WorkspaceSettings,
    WorkspaceSettingsUpdate,
)
from ringwise.db.models import Workspace
from ringwise.services import compliance_settings, workspaces
from ringwise.services.context import Ctx

router = workspace_router("/v1/settings", "settings")


def _out(workspace: Workspace) -> WorkspaceSettings:
    compliance = ComplianceSettings.model_validate(compliance_settings.settings_of(workspace))
    data = {name: getattr(workspace, name) for name in (
        "id", "name", "timezone", "default_region", "business_hours", "concurrency_limit",
        "concurrency_rate", "campaigns_enabled")}
    return WorkspaceSettings.model_validate({
        **data, "compliance": compliance, "results": results_out(workspace.results),
        "email": email_out(workspace.email), "compat": workspace.compat or {}})


@router.get("", response_model=WorkspaceSettings, summary="Get workspace settings")
def get_settings(ctx: Ctx = Depends(get_ctx)) -> WorkspaceSettings:
    return _out(ctx.workspace)


@router.patch("", response_model=WorkspaceSettings, summary="Update workspace settings")
def update_settings(body: WorkspaceSettingsUpdate,
                    ctx: Ctx = Depends(get_ctx)) -> WorkspaceSettings:
    """Only the fields sent change. In `compliance`, only the keys sent change (`null` for a
    key restores its default); `"compliance": null` restores every compliance default."""
    return _out(workspaces.update_settings(ctx, body))
