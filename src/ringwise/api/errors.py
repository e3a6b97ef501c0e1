"""One error shape for every failure: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ringwise.errors import FieldError, RingwiseError

log = logging.getLogger("ringwise.api")

_HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
}


def error_body(code: str, message: str, field: str | None = None,
               details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    if details is not None:
        error["details"] = details
    return {"error": error}


def field_path(loc: Sequence[int | str]) -> str | None:
    """('body', 'schedule', 'slots', 0, 'start') -> 'schedule.slots[0].start'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and (part.startswith("function-") or "[" in part):
            continue  # pydantic's internal validator / union-member labels
        else:
            path += f".{part}" if path else str(part)
    return path or None


def _describe(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "missing":
        return "this field is required"
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    return message


def error_field(error: dict[str, Any]) -> str | None:
    """The dotted path of the field a pydantic error blames (FieldError sub-fields included)."""
    path = field_path(error.get("loc", ()))
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        sub = cause.field
        if not path:
            return sub
        return path + sub if sub.startswith("[") else f"{path}.{sub}"
    return path


def validation_response(errors: Sequence[Any]) -> JSONResponse:
    details = [
        {"field": error_field(e), "message": _describe(e), "type": e.get("type")}
        for e in errors
    ]
    first = details[0] if details else {"field": None, "message": "invalid request"}
    field = first["field"]
    message = str(first["message"]) if field is None else f"{field}: {first['message']}"
    return JSONResponse(
        status_code=422,
        content=error_body("invalid", message, field, details),
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RingwiseError)
    async def _ringwise(_request: Request, exc: RingwiseError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content=error_body(exc.code, exc.message, exc.field, exc.details),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            status_code=exc.status_code,
            content=error_body(code, str(exc.detail)),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content=error_body("internal", "an internal error occurred; nothing was written"),
        )
