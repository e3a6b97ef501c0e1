"""The route class of every workspace-scoped endpoint.

It owns the request's transaction: authenticate, claim the Idempotency-Key, run the endpoint,
then commit only if the response is a success. An endpoint never commits, so a failed request
never leaves a partial write, and a stored idempotent response always matches committed work.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ringwise.api.state import AppState
from ringwise.errors import InvalidInput
from ringwise.services import idempotency, workspaces
from ringwise.services.context import Ctx

F = TypeVar("F", bound=Callable[..., Any])
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def streams_body(endpoint: F) -> F:
    """Mark an endpoint that reads a large body as a stream (CSV import): it is not buffered for
    Idempotency-Key fingerprinting; such endpoints must be naturally idempotent (upserts)."""
    endpoint.__dict__["ringwise_streams_body"] = True
    return endpoint


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _refuse_nul(request: Request) -> None:
    """A NUL byte can never be a valid search term or filter, and PostgreSQL cannot take one.
    (Path ids need no check: lookups accept UUIDs only, anything else is a 404.)"""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidInput("query parameters cannot contain the NUL character", field=name)


def get_ctx(request: Request) -> Ctx:
    """FastAPI dependency: the context the route class prepared for this request."""
    ctx: Ctx = request.state.ctx
    return ctx


class WorkspaceRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()
        streams = bool(getattr(self.endpoint, "ringwise_streams_body", False))

        async def handler(request: Request) -> Response:
            _refuse_nul(request)
            state: AppState = request.app.state.ringwise
            write = request.method not in _READ_METHODS
            now = state.clock.now()
            secret = presented_key(request)
            session = await run_in_threadpool(state.db.session, write=write)
            try:
                workspace, key = await run_in_threadpool(
                    workspaces.authenticate, session, secret
                )
                if workspaces.needs_touch(key, now):
                    if write:  # this session already holds the write lock (SQLite)
                        await run_in_threadpool(workspaces.touch_key, session, key.id, now)
                    else:
                        await run_in_threadpool(state.touch_key, key.id, now)
                request.state.ctx = Ctx(session=session, workspace=workspace, now=now)

                idem_key = request.headers.get("idempotency-key")
                use_idempotency = idem_key is not None and request.method == "POST" and not streams
                if use_idempotency:
                    assert idem_key is not None
                    body = await request.body()
                    fingerprint = idempotency.request_fingerprint(
                        request.method, request.url.path + "?" + request.url.query, body
                    )
                    stored = await run_in_threadpool(
                        idempotency.claim, session, workspace.id, idem_key, fingerprint,
                        request.method, request.url.path, now,
                    )
                    if stored is not None:
                        await run_in_threadpool(session.rollback)
                        return Response(
                            content=stored.body, status_code=stored.status_code,
                            media_type="application/json",
                            headers={"Idempotent-Replayed": "true"},
                        )

                response = await endpoint_handler(request)
                if response.status_code >= 400 or isinstance(response, StreamingResponse):
                    await run_in_threadpool(session.rollback)
                    return response
                if use_idempotency:
                    assert idem_key is not None
                    await run_in_threadpool(
                        idempotency.store, session, workspace.id, idem_key,
                        idempotency.StoredResponse(response.status_code,
                                                   bytes(response.body).decode("utf-8")),
                    )
                await run_in_threadpool(session.commit)
                return response
            except BaseException:
                await run_in_threadpool(session.rollback)
                raise
            finally:
                await run_in_threadpool(session.close)

        return handler
