"""/v1/campaigns/{id}/reports: scheduled e-mail reports (routes being built)."""

from __future__ import annotations

from ringwise.api.routers.base import workspace_router

router = workspace_router("/v1/campaigns", "reports")
