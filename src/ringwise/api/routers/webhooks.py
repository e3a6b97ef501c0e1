"""/v1/webhooks (routes being built)."""

from __future__ import annotations

from ringwise.api.routers.base import workspace_router

router = workspace_router("/v1/webhooks", "webhooks")
