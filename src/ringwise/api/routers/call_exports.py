"""/v1/campaigns/{id}/calls/export: a campaign's calls as CSV or JSON Lines (being built)."""

from __future__ import annotations

from ringwise.api.routers.base import workspace_router

router = workspace_router("/v1/campaigns", "calls")
