"""Router factory for workspace-scoped resources."""

from __future__ import annotations

from fastapi import APIRouter, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from ringwise.api.routing import WorkspaceRoute
from ringwise.api.schemas.common import ERROR_RESPONSES

# Declared for the OpenAPI document and the interactive docs' "Authorize" button; the
# WorkspaceRoute does the actual authentication.
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="A workspace API key, rw_live_...")
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token")


def workspace_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        route_class=WorkspaceRoute,
        dependencies=[Security(api_key_header), Security(bearer)],
        responses=ERROR_RESPONSES,
    )
