"""The post-call analysis port: what an analyzer is given and what it must return.

An :class:`Analyzer` reads the transcript of a finished call together with the campaign's
analysis settings (the same shapes as ``api.schemas.shared.AnalysisSettings``: tags with a
name and a description, a structured-data schema of typed fields, scoring criteria) and
returns an :class:`AnalysisResult`. Whatever produced it (the offline keyword analyzer, an
LLM), a result goes through :func:`validate` before anyone trusts it: scores and sentiment in
range, only the campaign's tags, exactly the schema's keys with values of the declared types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Final, Literal, Protocol, get_args

from ringwise.core.call_states import AnsweredBy, CallOutcome
from ringwise.telephony.port import Turn

# The structured-data value types of ``api.schemas.shared.DataType``.
FieldType = Literal["string", "number", "integer", "boolean", "date"]
FIELD_TYPES: Final[tuple[FieldType, ...]] = get_args(FieldType)

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


class AnalysisError(Exception):
    """An analyzer failed, or produced a result that breaks the port's invariants."""


@dataclass(frozen=True, slots=True)
class TagDef:
    """A label the analysis may attach to a call (``TagDefinition``)."""

    name: str
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("tag name must not be empty")


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One value to extract from the conversation (``StructuredDataField``)."""

    key: str
    description: str | None = None
    type: FieldType = "string"

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("field key must not be empty")
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field '{self.key}': unknown type {self.type!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisRequest:
    """A finished call to analyze: its turns (``telephony.port.Turn``: speaker, text, offsets
    from the answer), how it ended, and the campaign's analysis settings.

    ``success_criteria``: what counts as a successful call, in words (None: the analyzer's
    default, an interested callee who did not opt out). ``language``: BCP-47 tag of the
    conversation, None if unknown."""

    turns: Sequence[Turn]
    outcome: CallOutcome | None = "answered"
    answered_by: AnsweredBy | None = None
    duration_s: float = 0.0
    tags: Sequence[TagDef] = ()
    fields: Sequence[FieldDef] = ()
    scoring_criteria: str | None = None
    success_criteria: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        # Stored as tuples: a request is immutable whatever sequences it was built from.
        object.__setattr__(self, "turns", tuple(self.turns))
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "fields", tuple(self.fields))
        if (isinstance(self.duration_s, bool) or not isinstance(self.duration_s, int | float)
                or not math.isfinite(self.duration_s) or self.duration_s < 0):
            raise ValueError(f"duration_s must be a finite number >= 0, got {self.duration_s!r}")
        folded = [tag.name.casefold() for tag in self.tags]
        if len(set(folded)) != len(folded):
            raise ValueError("tag names must be unique (case-insensitively)")
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError("structured data keys must be unique")

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(tag.name for tag in self.tags)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisResult:
    """What an analyzer concluded about one call.

    ``sentiment`` in [-1, 1] (the callee's), ``score`` in [0, 100] (against the scoring
    criteria), ``tags`` a subset of the request's tag names, ``structured`` one value per
    schema key (None: not found), ``callback_requested`` the time the callee asked to be
    called back, in their words. Not hashable (``structured`` is a read-only mapping)."""

    summary: str
    sentiment: float
    score: int
    tags: tuple[str, ...] = ()
    structured: Mapping[str, object | None] = field(
        default_factory=lambda: MappingProxyType({}))
    success: bool = False
    opted_out: bool = False
    callback_requested: str | None = None
    analyzer: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "structured", MappingProxyType(dict(self.structured)))


class Analyzer(Protocol):
    """Turns a finished call into an :class:`AnalysisResult`; raises :class:`AnalysisError`
    when it cannot. Implementations: ``analysis.offline.OfflineAnalyzer``, an LLM adapter."""

    @property
    def name(self) -> str:
        """Recorded in ``AnalysisResult.analyzer``, e.g. ``offline-v1``."""
        ...

    def analyze(self, request: AnalysisRequest) -> AnalysisResult: ...


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def is_iso_date(value: object) -> bool:
    """``YYYY-MM-DD`` naming a real day."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_value(spec: FieldDef, value: object) -> None:
    if value is None:
        return
    ok = {
        "string": isinstance(value, str),
        "number": _is_number(value),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "date": is_iso_date(value),
    }[spec.type]
    if not ok:
        expected = "an ISO date YYYY-MM-DD" if spec.type == "date" else f"a {spec.type}"
        raise AnalysisError(f"structured['{spec.key}'] must be {expected} or null, "
                            f"got {value!r}")


def validate(result: AnalysisResult, request: AnalysisRequest) -> AnalysisResult:
    """``result`` if it keeps the port's invariants for ``request``, else AnalysisError
    naming the first broken one."""
    if not isinstance(result.summary, str) or not result.summary.strip():
        raise AnalysisError("summary must be a non-empty string")
    if not _is_number(result.sentiment) or not -1.0 <= result.sentiment <= 1.0:
        raise AnalysisError(f"sentiment must be a number in [-1, 1], got {result.sentiment!r}")
    if (not isinstance(result.score, int) or isinstance(result.score, bool)
            or not 0 <= result.score <= 100):
        raise AnalysisError(f"score must be an integer in [0, 100], got {result.score!r}")
    allowed = set(request.tag_names)
    for tag in result.tags:
        if not isinstance(tag, str) or tag not in allowed:
            raise AnalysisError(f"tag {tag!r} is not one of the campaign's tags")
    if len(set(result.tags)) != len(result.tags):
        raise AnalysisError("tags must not repeat")
    keys, expected = set(result.structured), set(request.keys)
    if keys != expected:
        extra, missing = sorted(map(str, keys - expected)), sorted(expected - keys)
        parts = [f"unknown keys {extra}"] if extra else []
        parts += [f"missing keys {missing}"] if missing else []
        raise AnalysisError("structured data: " + "; ".join(parts))
    for spec in request.fields:
        _check_value(spec, result.structured[spec.key])
    for name in ("success", "opted_out"):
        if not isinstance(getattr(result, name), bool):
            raise AnalysisError(f"{name} must be a boolean, got {getattr(result, name)!r}")
    if result.success and result.opted_out:
        raise AnalysisError("a call whose callee opted out cannot be a success")
    callback = result.callback_requested
    if callback is not None and (not isinstance(callback, str) or not callback.strip()):
        raise AnalysisError(f"callback_requested must be null or a non-empty string, "
                            f"got {callback!r}")
    if not isinstance(result.analyzer, str) or not result.analyzer.strip():
        raise AnalysisError("analyzer must name the analyzer")
    return result
