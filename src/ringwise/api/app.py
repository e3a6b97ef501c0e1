"""The FastAPI application."""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI

from ringwise import __version__
from ringwise.api.errors import install_error_handlers
from ringwise.api.state import AppState
from ringwise.clock import Clock, SystemClock
from ringwise.compat import SYSTEMS
from ringwise.db.engine import Database
from ringwise.settings import Settings

DESCRIPTION = """\
Outbound AI voice-call campaigns, self-hosted.

Authenticate every `/v1` request with a workspace API key, as `X-API-Key: rw_live_...` or
`Authorization: Bearer rw_live_...`. Every POST accepts an `Idempotency-Key` header: a retry
with the same key and body returns the first response (kept 24 hours).

Errors always look like `{"error": {"code": "...", "message": "...", "field": "..."}}`.
"""

# Resource routers, in the order they appear in the docs.
ROUTER_MODULES = (
    "assistants",
    "phone_numbers",
    "contacts",
    "contact_lists",
    "campaigns",
    "dnc",
    "preflight",
    "calls",
    "compliance",
    "settings",
    "api_keys",
    "webhooks",
    "reports",
    "call_exports",
    "inbound_messages",
    "messages",
)


def create_app(settings: Settings | None = None, *, db: Database | None = None,
               clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Ringwise API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
    )
    app.state.ringwise = AppState(
        db=db or Database(settings.database_url),
        clock=clock or SystemClock(),
        settings=settings,
    )
    install_error_handlers(app)
    for name in ROUTER_MODULES:
        module = import_module(f"ringwise.api.routers.{name}")
        app.include_router(module.router)
    for name in SYSTEMS:  # the drop-in compatible endpoints
        app.include_router(import_module(f"ringwise.compat.{name}").router)

    @app.get("/healthz", tags=["meta"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        from sqlalchemy import text

        with app.state.ringwise.db.reading() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app
