"""/v1/contact-lists (being written)."""

from __future__ import annotations

from ringwise.api.routers.base import workspace_router

router = workspace_router("/v1/contact-lists", "contact lists")
