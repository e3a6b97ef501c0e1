"""Do-not-call lists: the workspace's list (``campaign_id`` NULL) and each campaign's
suppression list, one table (``dnc_entries``).

Every write is idempotent: a pattern already on the list is reported, never duplicated (the
two partial unique indexes guarantee it under concurrency too; inserts are ``ON CONFLICT DO
NOTHING`` and the ids are read back). Services flush but never commit, like every other.

The dialer asks ``listed_phones`` (one indexed query for a whole batch of numbers); the
simulator keeps a ``core.compliance.dnc.DncMatcher`` with the same matching rules.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from sqlalchemy import ColumnElement, String, bindparam, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ringwise.api.schemas.contacts import RowRejection
from ringwise.api.schemas.dnc import DNC_SOURCES, MAX_REASON, DncEntryInput
from ringwise.core.compliance.dnc import (
    DncPattern,
    candidate_patterns,
    parse_pattern,
    search_prefix,
)
from ringwise.core.phones import InvalidPhone, parse_e164
from ringwise.db.models import Campaign, DncEntry, Workspace
from ringwise.errors import InvalidInput, NotFound
from ringwise.ids import is_uuid
from ringwise.services.contacts import new_ids
from ringwise.services.context import Ctx
from ringwise.services.csv_import import (
    ALIASES,
    DELIMITERS,
    MAX_REPORTED_REJECTIONS,
    detect_encoding,
    sniff_delimiter,
)
from ringwise.services.pagination import Page, paginate

PARAMS = 5_000  # bound parameters per statement: well under SQLite's limit
_WRITE_ROWS = PARAMS - 10  # patterns per insert + read-back (the read-back binds a few more)
IMPORT_BATCH = 5_000  # patterns written per statement pair by a CSV import
_SNIFF_CHARS = 64 * 1024
# CSV headers (compared lower case, letters and digits only) of the two columns read.
PHONE_HEADERS: tuple[str, ...] = (*ALIASES["phone"], "pattern", "numberpattern", "dnc",
                                  "donotcall", "areacode", "npa", "prefix")
REASON_HEADERS: tuple[str, ...] = ("reason", "note", "notes", "comment", "comments",
                                   "description", "dncreason")
_NUL_REASON = "text cannot contain the NUL character (\\u0000)"


@dataclass(slots=True)
class Listed:
    """An entry that is on the list, and whether this call put it there."""

    entry: DncEntry
    created: bool


@dataclass(slots=True)
class BulkResult:
    entry_ids: list[str | None]  # aligned with the input rows; None for a rejected row
    rejected: list[RowRejection]
    added: int
    already_listed: int
    duplicates: int


@dataclass(slots=True)
class CheckResult:
    phone: str  # E.164
    matches: list[DncEntry]

    @property
    def listed(self) -> bool:
        return bool(self.matches)


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    added: int = 0
    already_listed: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[RowRejection] = field(default_factory=list)
    rejections_truncated: bool = False
    encoding: str = "utf-8"
    delimiter: str = ","
    header: bool = True
    columns: dict[str, str] = field(default_factory=dict)


# --- scope -----------------------------------------------------------------------------------

def _owned_campaign(session: Session, workspace_id: str, campaign_id: str,
                    field: str = "campaign_id") -> str:
    """``campaign_id`` if it is one of the workspace's campaigns, else NotFound naming
    ``field`` (another workspace's campaign included)."""
    found = None
    if is_uuid(campaign_id):
        found = session.scalar(select(Campaign.id).where(
            Campaign.id == campaign_id, Campaign.workspace_id == workspace_id))
    if found is None:
        raise NotFound(f"campaign '{campaign_id}' not found", field=field)
    return campaign_id


def list_scope(ctx: Ctx, campaign_id: str | None) -> str | None:
    """None for the workspace's list; a campaign's id after checking it is the workspace's."""
    if campaign_id is None:
        return None
    return _owned_campaign(ctx.session, ctx.workspace_id, campaign_id)


def _on_list(campaign_id: str | None) -> ColumnElement[bool]:
    return DncEntry.campaign_id.is_(None) if campaign_id is None else \
        DncEntry.campaign_id == campaign_id


def _region(ctx: Ctx, default_region: str | None) -> str:
    return (default_region or ctx.workspace.default_region or "US").upper()


# --- the one writer --------------------------------------------------------------------------

def _write(session: Session, workspace_id: str, campaign_id: str | None,
           items: Sequence[tuple[DncPattern, str | None]], source: str,
           now: datetime) -> list[tuple[str, bool]]:
    """Put distinct patterns (with their reasons) on one list; for each, in order, (entry
    id, created). Existing entries are left as they are (reason and source included)."""
    if source not in DNC_SOURCES:
        raise ValueError(f"source must be one of {', '.join(DNC_SOURCES)}, not {source!r}")
    if not items:
        return []
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    proposed = new_ids(len(items))
    out: list[tuple[str, bool]] = []
    for start in range(0, len(items), _WRITE_ROWS):
        chunk = items[start:start + _WRITE_ROWS]
        ids = proposed[start:start + _WRITE_ROWS]
        rows = [{"id": entry_id, "workspace_id": workspace_id, "campaign_id": campaign_id,
                 "pattern": pattern.pattern, "kind": pattern.kind, "source": source,
                 "reason": reason, "created_at": now}
                for entry_id, (pattern, reason) in zip(ids, chunk, strict=True)]
        # Conflicts (already listed, or added by a concurrent request) are skipped; the ids
        # are read back below, so a skipped row reports the entry that is there.
        session.execute(insert(DncEntry).on_conflict_do_nothing(), rows)
        patterns = [p.pattern for p, _ in chunk]
        found: dict[str, str] = {pattern: entry_id for pattern, entry_id in session.execute(
            select(DncEntry.pattern, DncEntry.id).where(
                DncEntry.workspace_id == workspace_id, _on_list(campaign_id),
                DncEntry.pattern.in_(patterns)))}
        out += [(found[p], found[p] == i) for p, i in zip(patterns, ids, strict=True)]
    return out


def _parse(text: str, field_name: str, region: str) -> DncPattern:
    """``phone`` takes a number only; ``pattern`` a number or a wildcard. ValueError."""
    if field_name == "phone":
        if "*" in text:
            raise ValueError(f"'{text.strip()}' is a wildcard: send it as pattern, not phone")
        try:
            return DncPattern(parse_e164(text, region), "number")
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None
    return parse_pattern(text, region)


# --- API operations --------------------------------------------------------------------------

def add_entry(ctx: Ctx, campaign_id: str | None, body: DncEntryInput,
              default_region: str | None = None, *, source: str = "api") -> Listed:
    """Put one number or wildcard on the workspace's list (``campaign_id`` None) or on a
    campaign's suppression list; an entry already there is returned as it is."""
    scope = list_scope(ctx, campaign_id)
    try:
        pattern = _parse(body.text, body.field, _region(ctx, default_region))
    except ValueError as exc:
        raise InvalidInput(f"{body.field}: {exc}", field=body.field) from None
    ((entry_id, created),) = _write(ctx.session, ctx.workspace_id, scope,
                                    [(pattern, body.reason)], source, ctx.now)
    entry = ctx.session.get(DncEntry, entry_id)
    assert entry is not None
    return Listed(entry, created)


def add_entries(ctx: Ctx, campaign_id: str | None, rows: Sequence[DncEntryInput],
                default_region: str | None = None, *, source: str = "api") -> BulkResult:
    """Many entries at once. A row that does not parse is reported in ``rejected`` (index,
    field, reason) and the others are added; a pattern repeated in ``rows`` is added once
    (with the first row's reason) and counted in ``duplicates``."""
    scope = list_scope(ctx, campaign_id)
    region = _region(ctx, default_region)
    rejected: list[RowRejection] = []
    patterns: list[str | None] = []
    distinct: dict[str, tuple[DncPattern, str | None]] = {}
    duplicates = 0
    for index, row in enumerate(rows):
        try:
            pattern = _parse(row.text, row.field, region)
        except ValueError as exc:
            rejected.append(RowRejection(index=index, field=row.field, reason=str(exc)))
            patterns.append(None)
            continue
        patterns.append(pattern.pattern)
        if pattern.pattern in distinct:
            duplicates += 1
        else:
            distinct[pattern.pattern] = (pattern, row.reason)
    written = _write(ctx.session, ctx.workspace_id, scope, list(distinct.values()), source,
                     ctx.now)
    ids = {p: entry_id for p, (entry_id, _) in zip(distinct, written, strict=True)}
    added = sum(created for _, created in written)
    return BulkResult(entry_ids=[None if p is None else ids[p] for p in patterns],
                      rejected=rejected, added=added, already_listed=len(written) - added,
                      duplicates=duplicates)


def remove_entry(ctx: Ctx, campaign_id: str | None, entry_id: str) -> None:
    """Take an entry off its list. NotFound for an id of another list or workspace."""
    scope = list_scope(ctx, campaign_id)
    entry = ctx.session.get(DncEntry, entry_id) if is_uuid(entry_id) else None
    if entry is None or entry.workspace_id != ctx.workspace_id or entry.campaign_id != scope:
        raise NotFound(f"do-not-call entry '{entry_id}' not found", field="entry_id")
    ctx.session.delete(entry)
    ctx.session.flush()


def list_entries(ctx: Ctx, campaign_id: str | None, *, limit: int = 50,
                 cursor: str | None = None, search: str | None = None,
                 source: str | None = None, default_region: str | None = None
                 ) -> Page[DncEntry]:
    """One list's entries, newest first. ``search``: patterns starting with this number
    prefix ("212" in the US means "+1212"); ``source``: only entries added that way."""
    scope = list_scope(ctx, campaign_id)
    query = select(DncEntry).where(DncEntry.workspace_id == ctx.workspace_id, _on_list(scope))
    if search is not None and search.strip():
        try:
            prefix = search_prefix(search, _region(ctx, default_region))
        except ValueError as exc:
            raise InvalidInput(f"search: {exc}", field="search") from None
        query = query.where(DncEntry.pattern.startswith(prefix, autoescape=True))
    if source is not None:
        if source not in DNC_SOURCES:
            raise InvalidInput(f"source: must be one of {', '.join(DNC_SOURCES)}",
                               field="source")
        query = query.where(DncEntry.source == source)
    return paginate(ctx.session, query, DncEntry.created_at, DncEntry.id, limit, cursor)


def check(ctx: Ctx, phone: str, campaign_id: str | None = None,
          default_region: str | None = None) -> CheckResult:
    """Whether ``phone`` is on the workspace's list or (given a campaign) on that campaign's
    suppression list, with the matching entries, most specific first."""
    scope = list_scope(ctx, campaign_id)
    try:
        e164 = parse_e164(phone, _region(ctx, default_region))
    except InvalidPhone as exc:
        raise InvalidInput(f"phone: {exc}", field="phone") from None
    candidates = candidate_patterns(e164)
    lists: ColumnElement[bool] = DncEntry.campaign_id.is_(None)
    if scope is not None:
        lists = or_(lists, DncEntry.campaign_id == scope)
    entries = list(ctx.session.scalars(select(DncEntry).where(
        DncEntry.workspace_id == ctx.workspace_id, lists, DncEntry.pattern.in_(candidates))))
    rank = {p: i for i, p in enumerate(candidates)}
    entries.sort(key=lambda e: (e.campaign_id is not None, rank[e.pattern]))
    return CheckResult(e164, entries)


# --- for the dialer and call analysis ----------------------------------------------------------

def record_opt_out(session: Session, workspace_id: str, phone: str, *,
                   campaign_id: str | None = None, source: str = "opt_out",
                   reason: str | None = None, at: datetime) -> Listed:
    """Put ``phone`` on the workspace's do-not-call list now (idempotent): the callee asked
    not to be called again. The entry goes on the workspace's list, which every campaign
    honours (revocation of consent reaches the caller, not one campaign); ``campaign_id``
    names the campaign the request came from and is recorded in the default reason. Flushes,
    never commits. NotFound for an unknown workspace or another workspace's campaign,
    InvalidInput for a phone that does not parse."""
    workspace = session.get(Workspace, workspace_id) if is_uuid(workspace_id) else None
    if workspace is None:
        raise NotFound(f"workspace '{workspace_id}' not found", field="workspace_id")
    if campaign_id is not None:
        _owned_campaign(session, workspace_id, campaign_id)
    try:
        e164 = parse_e164(phone, workspace.default_region or "US")
    except InvalidPhone as exc:
        raise InvalidInput(f"phone: {exc}", field="phone") from None
    if source not in DNC_SOURCES:
        raise InvalidInput(f"source: must be one of {', '.join(DNC_SOURCES)}", field="source")
    if reason is None:
        reason = "opted out" + (f" during campaign {campaign_id}" if campaign_id else "")
    ((entry_id, created),) = _write(session, workspace_id, None,
                                    [(DncPattern(e164, "number"), reason[:MAX_REASON])],
                                    source, at)
    session.flush()
    entry = session.get(DncEntry, entry_id)
    assert entry is not None
    return Listed(entry, created)


def listed_phones(session: Session, workspace_id: str, campaign_ids: Collection[str],
                  phones: Collection[str]) -> dict[str, str]:
    """phone -> the most specific pattern listing it, for the E.164 ``phones`` that are on
    the workspace's list or on a suppression list of one of ``campaign_ids`` (phones that
    are not listed are absent). One query (``pattern IN candidate_patterns``) on the
    (workspace_id, pattern) index: on PostgreSQL for any number of phones (one array
    parameter), on SQLite per 5,000 bound parameters. Every id is filtered by
    ``workspace_id``, so another workspace's campaign id matches nothing. ValueError for a
    phone that is not E.164."""
    candidates = {phone: candidate_patterns(phone) for phone in dict.fromkeys(phones)}
    wanted = list(dict.fromkeys(p for group in candidates.values() for p in group))
    if not wanted:
        return {}
    campaigns = list(dict.fromkeys(campaign_ids))
    lists: ColumnElement[bool] = DncEntry.campaign_id.is_(None)
    if campaigns:
        lists = or_(lists, DncEntry.campaign_id.in_(campaigns))
    base = select(DncEntry.pattern).where(DncEntry.workspace_id == workspace_id, lists)
    found: set[str] = set()
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam("patterns", wanted, type_=postgresql.ARRAY(String))
        found.update(session.scalars(base.where(DncEntry.pattern == array.any_()).distinct()))
    else:
        room = max(PARAMS - len(campaigns) - 1, 100)
        for start in range(0, len(wanted), room):
            found.update(session.scalars(
                base.where(DncEntry.pattern.in_(wanted[start:start + room])).distinct()))
    if not found:
        return {}
    listed: dict[str, str] = {}
    for phone, group in candidates.items():
        for pattern in group:
            if pattern in found:
                listed[phone] = pattern
                break
    return listed


# --- CSV import ------------------------------------------------------------------------------

def _norm(header: str) -> str:
    return "".join(ch for ch in header.casefold() if ch.isalnum())


def _blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


def import_csv(ctx: Ctx, campaign_id: str | None, stream: IO[bytes], *,
               default_region: str | None = None, delimiter: str | None = None,
               batch_size: int = IMPORT_BATCH) -> ImportReport:
    """Add the numbers and wildcards of a CSV file to a list, streamed in batches, in the
    caller's transaction: a failure (a broken file, a crash) writes nothing. Rows that do
    not parse are reported with their spreadsheet row number (header = row 1) and skipped,
    so every valid number of the file is protected at once; fix and re-import the rejected
    rows (re-importing is harmless: entries already listed are counted, not duplicated).

    The phone column is found by its header: phone / number / pattern (or the usual phone
    headers: mobile, cell, telephone, ...); an optional reason column by reason / notes /
    comment. A file without a header row (the first cell is a number or wildcard) is read
    as numbers in its first column. Encoding and delimiter as in the contacts import."""
    scope = list_scope(ctx, campaign_id)
    region = _region(ctx, default_region)
    report = ImportReport()
    report.encoding = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=report.encoding, newline="")
    try:
        sample = text.read(_SNIFF_CHARS)
        if delimiter is not None and delimiter not in DELIMITERS:
            raise InvalidInput("delimiter must be one of , ; | or tab", field="delimiter")
        report.delimiter = delimiter or sniff_delimiter(sample)
        text.seek(0)
        records = enumerate(csv.reader(text, delimiter=report.delimiter), start=1)
        _import_records(ctx, scope, records, region, report, batch_size)
    except csv.Error as exc:
        raise InvalidInput(f"the file is not valid CSV: {exc}", field="file") from None
    finally:
        text.detach()  # leave the caller's stream open
    return report


def _import_records(ctx: Ctx, scope: str | None, records: Iterator[tuple[int, list[str]]],
                    region: str, report: ImportReport, batch_size: int) -> None:
    first: tuple[int, list[str]] | None = None
    for number, record in records:
        if not _blank(record):
            first = (number, record)
            break
    if first is None:
        raise InvalidInput("the file is empty: no header row and no numbers", field="file")
    header = [cell.strip().lstrip("\ufeff") for cell in first[1]]
    normalized = [_norm(cell) for cell in header]
    phone_col = next((normalized.index(h) for h in PHONE_HEADERS if h in normalized), None)
    reason_col = next((normalized.index(h) for h in REASON_HEADERS if h in normalized), None)
    rows: Iterator[tuple[int, list[str]]] = records
    if phone_col is None:
        try:
            parse_pattern(header[0], region)
        except ValueError:
            raise InvalidInput(
                "no phone column: name it phone, number or pattern (columns: "
                f"{', '.join(header) or 'none'})", field="file") from None
        report.header = False
        phone_col, reason_col = 0, None
        rows = itertools.chain([first], records)  # the first row is data
    else:
        report.columns["phone"] = header[phone_col]
        if reason_col is not None:
            report.columns["reason"] = header[reason_col]
    width = max(phone_col, reason_col or 0) + 1

    seen: set[int] = set()  # patterns of the file so far, as integers (compact)
    batch: list[tuple[DncPattern, str | None]] = []

    def flush() -> None:
        written = _write(ctx.session, ctx.workspace_id, scope, batch, "csv", ctx.now)
        added = sum(created for _, created in written)
        report.added += added
        report.already_listed += len(written) - added
        batch.clear()

    def reject(row: int, field_name: str, reason: str) -> None:
        report.rejected += 1
        if len(report.rejections) < MAX_REPORTED_REJECTIONS:
            report.rejections.append(RowRejection(index=row, field=field_name, reason=reason))
        else:
            report.rejections_truncated = True

    for number, record in rows:
        if _blank(record):
            continue
        report.rows += 1
        if len(record) < width:
            record = record + [""] * (width - len(record))
        cell = record[phone_col]
        if not cell.strip():
            reject(number, "phone", "no phone number or pattern in this row")
            continue
        try:
            pattern = parse_pattern(cell, region)
        except ValueError as exc:
            reject(number, "phone", str(exc))
            continue
        reason = record[reason_col].strip() if reason_col is not None else None
        if reason:
            if len(reason) > MAX_REASON:
                reject(number, "reason", f"longer than {MAX_REASON} characters")
                continue
            if "\x00" in reason:
                reject(number, "reason", _NUL_REASON)
                continue
        key = -int(pattern.pattern[1:-1]) if pattern.is_wildcard else int(pattern.pattern[1:])
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        batch.append((pattern, reason or None))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
