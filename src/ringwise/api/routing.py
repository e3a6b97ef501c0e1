"""The route class of every workspace-scoped endpoint.

It owns the request's transaction: authenticate, claim the Idempotency-Key, run the endpoint,
then commit only if the response is a success. An endpoint never commits, so a failed request
never leaves a partial write, and a stored idempotent response always matches committed work.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import IO, Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse
from starlette.types import Message

from ringwise.api.state import AppState
from ringwise.errors import InvalidInput, PayloadTooLarge
from ringwise.services import idempotency, workspaces
from ringwise.services.context import Ctx

F = TypeVar("F", bound=Callable[..., Any])
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


MAX_STREAMED_BODY = 2 * 1024**3  # 2 GiB: ~20 million CSV rows
_SPOOL_IN_MEMORY = 8 * 1024**2  # larger bodies go to a temporary file


def streams_body(endpoint: F) -> F:
    """Mark an endpoint that takes a large body (CSV import). The route authenticates, then
    spools the body to a temporary file *before* opening the write transaction (on SQLite that
    takes the database's write lock, which must not wait on a slow upload); the endpoint reads
    it with ``streamed_body``. The body is not fingerprinted for Idempotency-Key, so such
    endpoints must be naturally idempotent (upserts)."""
    endpoint.__dict__["ringwise_streams_body"] = True
    return endpoint


def csv_upload_body(description: str, example: str) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an import read by :func:`uploaded_csv`."""
    return {"requestBody": {
        "required": True,
        "description": "The CSV file, either as the raw body (`Content-Type: text/csv`) or as "
                       "the `file` field of a multipart form." + (f" {description}"
                                                                  if description else ""),
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}, "example": example},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"],
                           "properties": {"file": {"type": "string", "format": "binary"}}},
            },
        },
    }}


@asynccontextmanager
async def uploaded_csv(request: Request) -> AsyncIterator[IO[bytes]]:
    """The file of an import request: a multipart form's ``file``, or the raw body, streamed
    (a 422 naming ``file`` when it is missing or empty); the form is closed after."""
    form = None
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            await form.close()
            raise InvalidInput("the multipart form has no `file` field", field="file")
        stream: IO[bytes] = upload.file
    else:
        stream = streamed_body(request)
    try:
        if not stream.read(1):
            raise InvalidInput("the file is empty", field="file")
        stream.seek(0)
        yield stream
    finally:
        if form is not None:
            await form.close()


def streamed_body(request: Request) -> IO[bytes]:
    """The spooled body of a ``streams_body`` endpoint, rewound."""
    body: IO[bytes] = request.state.body_file
    body.seek(0)
    return body


async def _spool(request: Request) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_STREAMED_BODY:
                raise PayloadTooLarge(
                    f"the file is larger than {MAX_STREAMED_BODY // 1024**3} GiB", field="file")
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _replaying(request: Request, spool: IO[bytes]) -> Request:
    """A request whose body is read back from ``spool`` (for multipart parsing downstream)."""
    original = request.receive
    finished = False

    async def receive() -> Message:
        nonlocal finished
        if not finished:
            chunk = spool.read(1 << 20)
            if chunk:
                return {"type": "http.request", "body": chunk, "more_body": True}
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await original()  # after the body: wait for the client's disconnect as usual

    return Request(request.scope, receive)


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
            if streams and write:
                await run_in_threadpool(state.check_key, secret)  # no upload for a bad key
                body_file = await _spool(request)
                request = _replaying(request, body_file)
                request.state.body_file = body_file
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
                spooled: IO[bytes] | None = getattr(request.state, "body_file", None)
                if spooled is not None:
                    spooled.close()

        return handler
