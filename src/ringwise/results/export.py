"""Exports of a campaign's calls with their analysis: CSV and JSON Lines, streamed.

Used by ``GET /v1/campaigns/{id}/calls/export`` and by scheduled e-mail reports. Stable API:

* :func:`iter_csv` ``(db, workspace_id, campaign_id, *, filters=None,
  chunk_bytes=CHUNK_BYTES) -> ExportStream`` and :func:`iter_jsonl` (same, plus
  ``include_transcript``): the file as UTF-8 ``bytes`` chunks of about ``chunk_bytes``.
  ``filters`` (:class:`ExportFilters`) are checked when called (``InvalidInput`` naming the
  field, before any byte is produced); the database is read only once iteration starts, in
  one read transaction held until the last chunk (or ``close()``), so the file is one
  consistent snapshot. A campaign that is not the workspace's raises ``NotFound`` at the
  first ``next()``: check ownership first when a response must not have started. The
  returned :class:`ExportStream` counts the calls written so far in ``rows``.
* :func:`count_rows`: how many calls an export with these filters has (its own
  transaction: calls ended in between may differ from a later export).
* :func:`iter_records`: the same calls as decoded JSON-Lines objects (dicts), for code that
  renders them itself.
* :func:`export_layout`: the CSV columns of a campaign.

Rows are the campaign's calls matching the filters, oldest first by ``(created_at, id)``.
``created_after`` is inclusive and ``created_before`` exclusive, as in ``GET /v1/calls``.

CSV columns: :data:`BASE_COLUMNS`, :data:`ANALYSIS_COLUMNS`, then ``tag:<name>`` for each tag
and ``data:<key>`` for each structured-data key of the campaign's analysis settings (its
assistant's when the campaign has none), in the settings' order. A tag column is
``true``/``false`` for an analyzed call and empty otherwise. Tags or keys found in stored
results but no longer in the settings get no column of their own (the header is written
before any call is read, and stays the same for every file of a campaign version); such tags
still appear in ``tags``, and the JSON Lines export has the whole stored analysis.
``tags`` joins the call's tags with ``;`` (a tag name holding ``;`` is ambiguous there; its
own column is not). Instants are UTC ISO 8601 with milliseconds (truncated) and ``Z``
(``2026-03-02T15:00:00.000Z``; on SQLite a value stored without microseconds, which the
application never writes, comes out without them), formatted by the database. Floats are
Python's shortest repr (``181.0``, ``0.042``) on both engines. Booleans are
``true``/``false``, missing values empty, a structured-data list or object compact JSON.
Every text cell taken from the stored analysis (``summary``, ``callback_requested``: the
callee's words, like "tomorrow at 10 am", ``analyzer``, ``tags`` and string structured-data
values) is written with a leading ``'`` when it starts with ``=``, ``+``, ``-``, ``@``, tab
or carriage return, so a spreadsheet never runs a callee's words as a formula (OWASP CSV
injection); the call's own columns (E.164 numbers start with ``+``) and the JSON Lines
export are never altered.

JSON Lines: one object per call with the same call fields, ``analysis`` nested exactly as
stored (spliced from the database's JSON text, not re-encoded; key order may differ between
SQLite and PostgreSQL) and, with ``include_transcript``, ``transcript`` as stored.

Memory stays flat whatever the campaign's size: Core selects of only the needed columns
(no ORM objects), a server-side cursor on PostgreSQL (``stream_results``; SQLite's cursor
steps through the rows by itself), ``yield_per`` rows fetched at a time and one small text
buffer per chunk. On SQLite the read transaction keeps the WAL from being checkpointed past
it until the export ends; writers are not blocked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, String, Text, cast, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import type_coerce

from ringwise.core.call_states import CALL_OUTCOMES, CALL_STATUSES
from ringwise.db.engine import Database
from ringwise.db.models import Assistant, Call, Campaign
from ringwise.errors import InvalidInput, NotFound
from ringwise.ids import is_uuid

CHUNK_BYTES: Final = 64 * 1024  # about what each yielded chunk holds
YIELD_PER: Final = 2_000  # rows fetched from the cursor at a time
_SLICE: Final = 32  # rows written between two chunk-size checks (at most)

BASE_COLUMNS: Final = (
    "call_id", "campaign_id", "contact_id", "attempt", "to_number", "from_number", "status",
    "outcome", "ended_reason", "answered_by", "started_at", "answered_at", "ended_at",
    "duration_seconds", "cost", "analysis_status")
ANALYSIS_COLUMNS: Final = ("summary", "sentiment", "score", "success", "opted_out",
                           "callback_requested", "analyzer", "tags")
ANALYSIS_STATUSES: Final = ("pending", "done", "failed", "skipped")
FORMATS: Final = ("csv", "jsonl")

_FORMULA_START: Final = frozenset("=+-@\t\r")
# Compact, and UTF-8 rather than \u escapes: the file is UTF-8 anyway, and smaller.
_ENCODE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads: Final = json.loads


# --- filters and columns ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ExportFilters:
    """Which calls of the campaign: those of ``GET /v1/calls`` plus ``analysis_status``.
    ``created_after`` is inclusive, ``created_before`` exclusive; both need a time zone."""

    status: str | None = None
    outcome: str | None = None
    contact_id: str | None = None
    analysis_status: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def validate(self) -> None:
        """``InvalidInput`` naming the first bad field (the query parameter's name)."""
        for name, value, allowed in (("status", self.status, CALL_STATUSES),
                                     ("outcome", self.outcome, CALL_OUTCOMES),
                                     ("analysis_status", self.analysis_status,
                                      ANALYSIS_STATUSES)):
            if value is not None and value not in allowed:
                raise InvalidInput(f"{name}: must be one of {' | '.join(allowed)}", field=name)
        if self.contact_id is not None and "\x00" in self.contact_id:
            raise InvalidInput("contact_id: cannot contain the NUL character",
                               field="contact_id")
        for name, instant in (("created_after", self.created_after),
                              ("created_before", self.created_before)):
            if instant is not None and instant.tzinfo is None:
                raise InvalidInput(
                    f"{name}: give a time zone offset (like 2026-03-02T15:00:00Z)", field=name)
        if self.created_after is not None and self.created_before is not None \
                and self.created_before <= self.created_after:
            raise InvalidInput("created_before: must be after created_after",
                               field="created_before")


@dataclass(frozen=True, slots=True)
class ExportLayout:
    """The campaign's tag names and structured-data keys, in its settings' order."""

    tags: tuple[str, ...] = ()
    data_keys: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV header."""
        return (*BASE_COLUMNS, *ANALYSIS_COLUMNS, *(f"tag:{t}" for t in self.tags),
                *(f"data:{k}" for k in self.data_keys))


def layout_of(analysis_settings: Mapping[str, Any] | None) -> ExportLayout:
    """The columns of analysis settings (``AnalysisSettings`` as stored); entries without a
    name or key are skipped rather than failing an export."""
    settings = analysis_settings or {}
    tags = tuple(str(t["name"]) for t in settings.get("tags") or ()
                 if isinstance(t, Mapping) and t.get("name"))
    keys = tuple(str(f["key"]) for f in settings.get("structured_data_schema") or ()
                 if isinstance(f, Mapping) and f.get("key"))
    return ExportLayout(tuple(dict.fromkeys(tags)), tuple(dict.fromkeys(keys)))


def _layout(conn: Connection, workspace_id: str, campaign_id: str) -> ExportLayout:
    """The campaign's columns; NotFound for another workspace's or an unknown campaign."""
    found = None
    if is_uuid(campaign_id):  # anything else cannot exist (and NUL breaks PostgreSQL)
        found = conn.execute(select(Campaign.analysis, Campaign.assistant_id).where(
            Campaign.id == campaign_id, Campaign.workspace_id == workspace_id)).first()
    if found is None:
        raise NotFound(f"campaign '{campaign_id}' not found", field="campaign_id")
    settings, assistant_id = found
    if settings is None and assistant_id is not None:
        # No settings of its own: its calls are analyzed with the assistant's (as the
        # analysis runner does for calls without a settings snapshot).
        settings = conn.scalar(select(Assistant.analysis).where(Assistant.id == assistant_id))
    return layout_of(settings)


def export_layout(db: Database, workspace_id: str, campaign_id: str) -> ExportLayout:
    """The CSV columns of the campaign's export, as of now."""
    with db.reading() as session:
        return _layout(session.connection(), workspace_id, campaign_id)


# --- the query -------------------------------------------------------------------------------
#
# The database formats every cell it can (instants, texts, NULLs; JSON-quoting for JSON
# Lines), so Python only joins strings for most rows: the csv and json modules cost several
# microseconds per row, more than reading it. Only the two floats are formatted in Python
# (repr), so both engines write the same digits.

def _instant(column: Any, dialect: str) -> ColumnElement[str]:
    """An instant as ``2026-03-02T15:00:00.123Z`` text (NULL stays NULL). Milliseconds are
    truncated, as by ``datetime.isoformat(timespec="milliseconds")``."""
    if dialect == "postgresql":
        return type_coerce(func.to_char(func.timezone("UTC", column),
                                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), String)
    # SQLite holds UTCDateTime as naive UTC text, "2026-03-02 15:00:00.123456" (SQLAlchemy
    # always writes the microseconds; a value written without them comes out without).
    raw = type_coerce(column, String)
    return type_coerce(func.substr(raw, 1, 10) + literal("T") + func.substr(raw, 12, 12)
                       + literal("Z"), String)


def _json_text(column: Any, dialect: str) -> ColumnElement[str]:
    """A JSON column as its text: parsed (CSV) or spliced (JSON Lines) only where needed."""
    if dialect == "postgresql":
        return cast(column, Text)
    return type_coerce(column, String)  # SQLite stores the JSON text as it is


def _csv_text(value: Any) -> ColumnElement[str]:
    return type_coerce(func.coalesce(value, literal("")), String)


def _json_string(value: Any, dialect: str) -> ColumnElement[str]:
    """Text as a JSON string literal, NULL as ``null``."""
    if dialect == "postgresql":
        return type_coerce(func.coalesce(cast(func.to_json(value), Text), literal("null")),
                           String)
    return type_coerce(func.json_quote(value), String)


def _query(dialect: str, workspace_id: str, campaign_id: str, filters: ExportFilters, *,
           json_lines: bool, transcript: bool = False) -> Select[Any]:
    """Columns: the first 13 base columns as ready cells (CSV text, or JSON literals),
    duration_seconds and cost as floats, analysis_status as a cell, the analysis JSON text,
    then (JSON Lines with transcripts) the transcript JSON text."""
    def cell(value: Any) -> ColumnElement[str]:
        return _json_string(value, dialect) if json_lines else _csv_text(value)

    attempt = type_coerce(cast(Call.attempt, String), String)  # the same digits everywhere
    columns: list[Any] = [
        cell(Call.id), cell(Call.campaign_id), cell(Call.contact_id),
        attempt if json_lines else _csv_text(attempt), cell(Call.to_number),
        cell(Call.from_number), cell(Call.status), cell(Call.outcome),
        cell(Call.ended_reason), cell(Call.answered_by),
        cell(_instant(Call.started_at, dialect)), cell(_instant(Call.answered_at, dialect)),
        cell(_instant(Call.ended_at, dialect)), Call.duration_seconds, Call.cost,
        cell(Call.analysis_status), _json_text(Call.analysis, dialect)]
    if transcript:
        columns.append(_json_text(Call.transcript, dialect))
    return _where(select(*columns), workspace_id, campaign_id, filters) \
        .order_by(Call.created_at, Call.id)


def _where(query: Select[Any], workspace_id: str, campaign_id: str,
           filters: ExportFilters) -> Select[Any]:
    query = query.where(Call.workspace_id == workspace_id, Call.campaign_id == campaign_id)
    if filters.status is not None:
        query = query.where(Call.status == filters.status)
    if filters.outcome is not None:
        query = query.where(Call.outcome == filters.outcome)
    if filters.contact_id is not None:
        query = query.where(Call.contact_id == filters.contact_id)
    if filters.analysis_status is not None:
        query = query.where(Call.analysis_status == filters.analysis_status)
    if filters.created_after is not None:
        query = query.where(Call.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Call.created_at < filters.created_before)
    return query


def _checked(filters: ExportFilters | None, chunk_bytes: int = CHUNK_BYTES) -> ExportFilters:
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be at least 1")
    filters = filters or ExportFilters()
    filters.validate()
    return filters


def count_rows(db: Database, workspace_id: str, campaign_id: str, *,
               filters: ExportFilters | None = None) -> int:
    """How many calls an export with ``filters`` would have now. NotFound for a campaign
    that is not the workspace's, InvalidInput for bad filters."""
    filters = _checked(filters)
    with db.reading() as session:
        conn = session.connection()
        _layout(conn, workspace_id, campaign_id)
        query = _where(select(func.count()).select_from(Call), workspace_id, campaign_id,
                       filters)
        return int(conn.scalar(query) or 0)


def _batches(conn: Connection, query: Select[Any]) -> Iterator[Sequence[Sequence[Any]]]:
    result = conn.execute(query.execution_options(stream_results=True, yield_per=YIELD_PER))
    try:
        yield from result.partitions()
    finally:
        result.close()


# --- the streams -----------------------------------------------------------------------------

def _step(chunk_bytes: int) -> int:
    """Rows written between two size checks: a chunk overshoots ``chunk_bytes`` by at most
    that many rows (a few hundred bytes each without transcripts)."""
    return max(1, min(_SLICE, chunk_bytes // 512))


class ExportStream(Iterator[bytes]):
    """The chunks of one export. ``rows``: calls written so far (all of them once the
    stream is exhausted). ``close()`` ends the read transaction early (a client gone)."""

    def __init__(self, produce: Callable[[ExportStream], Generator[bytes]]) -> None:
        self.rows = 0
        self._chunks = produce(self)

    def __iter__(self) -> ExportStream:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()


def iter_csv(db: Database, workspace_id: str, campaign_id: str, *,
             filters: ExportFilters | None = None,
             chunk_bytes: int = CHUNK_BYTES) -> ExportStream:
    """The campaign's calls as CSV (UTF-8, RFC 4180: CRLF line ends, quotes where needed),
    header first; an export without calls is the header alone. See the module's notes."""
    filters = _checked(filters, chunk_bytes)

    def produce(stream: ExportStream) -> Generator[bytes]:
        with db.reading() as session:
            conn = session.connection()
            layout = _layout(conn, workspace_id, campaign_id)
            yield from _chunks(
                conn, _query(db.dialect, workspace_id, campaign_id, filters, json_lines=False),
                _csv_line(layout), stream, chunk_bytes,
                first=",".join(map(_quote, layout.columns)) + "\r\n")

    return ExportStream(produce)


def iter_jsonl(db: Database, workspace_id: str, campaign_id: str, *,
               filters: ExportFilters | None = None, include_transcript: bool = False,
               chunk_bytes: int = CHUNK_BYTES) -> ExportStream:
    """The campaign's calls as JSON Lines (UTF-8, one object and ``\\n`` per call); an
    export without calls is empty. See the module's notes."""
    filters = _checked(filters, chunk_bytes)

    def produce(stream: ExportStream) -> Generator[bytes]:
        with db.reading() as session:
            conn = session.connection()
            _layout(conn, workspace_id, campaign_id)
            yield from _chunks(
                conn, _query(db.dialect, workspace_id, campaign_id, filters, json_lines=True,
                             transcript=include_transcript),
                _jsonl_line(include_transcript), stream, chunk_bytes, first="")

    return ExportStream(produce)


def _chunks(conn: Connection, query: Select[Any], line: Callable[[Sequence[Any]], str],
            stream: ExportStream, chunk_bytes: int, *, first: str) -> Iterator[bytes]:
    """Lines joined into chunks of about ``chunk_bytes`` (counted in characters)."""
    parts = [first] if first else []
    size = len(first)
    step = _step(chunk_bytes)
    for batch in _batches(conn, query):
        for start in range(0, len(batch), step):
            part = batch[start:start + step]
            text = "".join(map(line, part))
            parts.append(text)
            size += len(text)
            stream.rows += len(part)
            if size >= chunk_bytes:
                yield "".join(parts).encode()
                parts.clear()
                size = 0
    if parts:
        yield "".join(parts).encode()


def _csv_line(layout: ExportLayout) -> Callable[[Sequence[Any]], str]:
    """A row of the query -> one CSV line. Most calls are not analyzed (no answer,
    voicemail, busy): their analysis columns are one constant string."""
    tags = layout.tags
    keys = layout.data_keys
    empty = "," * (len(ANALYSIS_COLUMNS) + len(tags) + len(keys)) + "\r\n"
    analysis_statuses = frozenset(("", *ANALYSIS_STATUSES))

    def line(row: Sequence[Any]) -> str:
        head = ",".join(row[:13])
        # The dialer writes these (UUIDs, E.164 numbers, fixed vocabularies): quoting is
        # never needed in practice, but a value that would need it is quoted all the same.
        if head.count(",") != 12 or '"' in head or "\n" in head or "\r" in head:
            head = ",".join(map(_quote, row[:13]))
        duration, cost, status = row[13], row[14], row[15]
        if status not in analysis_statuses:
            status = _quote(status)
        head = (f"{head},{'' if duration is None else repr(duration)},"
                f"{'' if cost is None else repr(cost)},{status}")
        raw = row[16]
        analysis = _loads(raw) if raw is not None else None
        if not isinstance(analysis, dict):  # SQL NULL, JSON null (or anything but a result)
            return head + empty
        # Shapes as AnalysisRunner stores them (result_json); anything else reads as empty
        # rather than breaking a download half-way.
        found = analysis.get("tags")
        found = [str(t) for t in found] if isinstance(found, list) else []
        have = set(found)
        data = analysis.get("structured_data")
        if not isinstance(data, dict):
            data = {}
        cells = [_cell(analysis.get("summary")), _cell(analysis.get("sentiment")),
                 _cell(analysis.get("score")), _cell(analysis.get("success")),
                 _cell(analysis.get("opted_out")), _cell(analysis.get("callback_requested")),
                 _cell(analysis.get("analyzer")), _cell(";".join(found)),
                 *["true" if t in have else "false" for t in tags],
                 *[_cell(data.get(k)) for k in keys]]
        return f"{head},{','.join(cells)}\r\n"

    return line


def _quote(text: str) -> str:
    """A CSV field, RFC 4180: quoted when it holds a comma, a quote or a line break."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _cell(value: Any) -> str:
    """A value of the stored analysis as a CSV field. Text (it comes from the conversation)
    never starts a spreadsheet formula (OWASP CSV injection): a leading ``'`` is added."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _quote("'" + value if value and value[0] in _FORMULA_START else value)
    if isinstance(value, int | float):
        return repr(value)
    return _quote(_ENCODE(value))  # a list or an object: compact JSON


def _jsonl_line(transcript: bool) -> Callable[[Sequence[Any]], str]:
    keys = (*BASE_COLUMNS, "analysis", *(("transcript",) if transcript else ()))
    template = "{" + ",".join(f'"{key}":%s' for key in keys) + "}\n"

    # The stored JSON texts go in as they are: valid JSON on both engines (PostgreSQL's jsonb
    # output, or json.dumps on SQLite), never holding a raw newline.
    def line(row: Sequence[Any]) -> str:
        duration, cost = row[13], row[14]
        return template % (*row[:13], "null" if duration is None else repr(duration),
                           "null" if cost is None else repr(cost), row[15], row[16] or "null")

    def line_with_transcript(row: Sequence[Any]) -> str:
        duration, cost = row[13], row[14]
        return template % (*row[:13], "null" if duration is None else repr(duration),
                           "null" if cost is None else repr(cost), row[15], row[16] or "null",
                           row[17] or "null")

    return line_with_transcript if transcript else line


def iter_records(db: Database, workspace_id: str, campaign_id: str, *,
                 filters: ExportFilters | None = None,
                 include_transcript: bool = False) -> Iterator[dict[str, Any]]:
    """The JSON Lines objects, decoded, oldest first, read like the exports (one read
    transaction, flat memory). Filters are checked when called, as by the exports."""
    stream = iter_jsonl(db, workspace_id, campaign_id, filters=filters,
                        include_transcript=include_transcript)

    def decoded() -> Iterator[dict[str, Any]]:
        for chunk in stream:
            for text in chunk.split(b"\n")[:-1]:  # chunks end with a whole line
                record: dict[str, Any] = _loads(text)
                yield record

    return decoded()


__all__ = [
    "ANALYSIS_COLUMNS", "ANALYSIS_STATUSES", "BASE_COLUMNS", "CHUNK_BYTES", "FORMATS",
    "ExportFilters", "ExportLayout", "ExportStream", "count_rows", "export_layout",
    "iter_csv", "iter_jsonl", "iter_records", "layout_of",
]
