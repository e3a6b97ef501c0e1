"""The exceptions Ringwise raises on purpose, in one hierarchy.

Each maps to one HTTP status and one stable machine-readable ``code``; the API turns them into
``{"error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

from typing import Any


class RingwiseError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code is not None:
            self.code = code


class InvalidInput(RingwiseError):
    """The request is well-formed JSON but a value is not acceptable."""

    status_code = 422
    code = "invalid"


class AuthenticationFailed(RingwiseError):
    status_code = 401
    code = "unauthenticated"


class NotFound(RingwiseError):
    status_code = 404
    code = "not_found"


class Conflict(RingwiseError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class IdempotencyMismatch(RingwiseError):
    """The same Idempotency-Key was sent again with a different request."""

    status_code = 422
    code = "idempotency_key_reused"


class PayloadTooLarge(RingwiseError):
    status_code = 413
    code = "payload_too_large"


class FieldError(ValueError):
    """Raised inside a pydantic validator to blame a sub-field of the model being validated.

    The API's error handler appends ``field`` to the model's location, so a model-level check
    such as "end_time must be after start_time" names ``runs[0].end_time``, not ``runs[0]``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
