"""What the dialects share: native field paths as locations, FastAPI-style 422s built from
native errors, and validating the native campaign a dialect builds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from ringwise.api.errors import error_field
from ringwise.api.schemas.campaigns import CampaignCreate
from ringwise.errors import InvalidInput

Loc = tuple[str | int, ...]
_PART: Final = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def split_path(path: str) -> Loc:
    """'tags[0].name' -> ('tags', 0, 'name')."""
    return tuple(int(index) if index else name for index, name in _PART.findall(path))


def dotted(loc: Loc) -> str:
    """('contact_ids', 3) -> 'contact_ids[3]'."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def value_at(data: Any, loc: Loc) -> Any:
    """The value at ``loc`` in a JSON document, or None."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def native_errors(exc: ValidationError) -> list[tuple[str | None, str, str]]:
    """A native model's errors as (field path, pydantic type, message)."""
    return [(error_field(dict(e)), e["type"], str(e["msg"])) for e in exc.errors()]


def fastapi_422(errors: Iterable[tuple[Loc, str, str]],
                raw: Mapping[str, Any]) -> RequestValidationError:
    """A 422 in FastAPI's shape (``{"detail": [{type, loc, msg, input}]}``) from errors already
    located in the foreign body ``raw``."""
    detail: list[dict[str, Any]] = []
    for loc, kind, message in errors:
        if kind == "value_error" and not message.startswith("Value error, "):
            message = f"Value error, {message}"  # pydantic's wording of a validator's error
        detail.append({"type": kind, "loc": ("body", *loc), "msg": message,
                       "input": value_at(raw, loc)})
    return RequestValidationError(detail)


def native_campaign(data: Mapping[str, Any],
                    field_of: Callable[[str | None], str | None] = lambda path: path,
                    ) -> CampaignCreate:
    """The native create body a dialect built, validated; its first error is an
    InvalidInput naming the field (``field_of`` turns the native path into the dialect's)."""
    try:
        return CampaignCreate.model_validate(data)
    except ValidationError as exc:
        error = dict(exc.errors()[0])
        path = field_of(error_field(error))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InvalidInput(f"{path}: {message}" if path else message, field=path) from None
