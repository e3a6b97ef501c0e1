"""Streamed CSV import of contacts into a contact list.

The file is read once, row by row, and written in batches through the same staged merge as
every other contact write (``services.contacts.ContactStager``), so a million-row file is never
held in memory. Two stages:

* ``read_batches`` (pure, no database): encoding and delimiter detection, header mapping, per-row
  validation and phone parsing, de-duplication; yields batches of staged rows + rejections.
* ``import_csv``: merges each batch into ``contacts`` and the list, and totals the report.
  Parsing batch k+1 (Python, holds the GIL) overlaps the merge of batch k (one SQL statement,
  during which the driver releases the GIL), so the import uses two cores.

Throughput (benchmarks/bench_import.py, 1,000,000 messy rows, 2 vCPUs): ~50,000 rows/s on
SQLite and PostgreSQL, peak RSS ~230 MB; parsing is ~12 us a row, the merge ~15 us.

Row numbers are spreadsheet rows: 1-based, the header is row 1, the first data row is row 2,
a blank line is a row, a quoted cell spanning several lines is one row.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import queue
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from ringwise.api.schemas.contacts import (
    CONSENT_FIELDS,
    EMAIL_PATTERN,
    TEXT_FIELDS,
    RowRejection,
    normalize_consent_field,
    normalize_text_field,
)
from ringwise.core.phones import InvalidPhone, parse_e164
from ringwise.db.models import ContactList
from ringwise.errors import InvalidInput
from ringwise.services.contacts import ContactStager, StagedRow, new_ids
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned

# Rows per merge statement. PostgreSQL works ~15% less per row in bigger statements; SQLite's
# batches stay smaller because its import also holds a 64 MB page cache (peak < 300 MB).
BATCH_ROWS = {"postgresql": 50_000, "sqlite": 20_000}
MAX_REPORTED_REJECTIONS = 1_000
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 64 * 1024
_CHUNK = 1 << 20

# Header aliases, compared after ``_norm`` (lower case, letters and digits only).
ALIASES: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "phonenumber", "phoneno", "mobile", "mobilephone", "mobilenumber",
              "mobileno", "cell", "cellphone", "cellular", "cellnumber", "telephone",
              "telephonenumber", "tel", "number", "msisdn", "contactnumber", "primaryphone"),
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "email": ("email", "emailaddress", "mail"),
    "company": ("company", "companyname", "organization", "organisation", "org", "business",
                "employer", "account", "accountname"),
    "job_title": ("jobtitle", "title", "position", "role"),
    "address": ("address", "streetaddress", "street", "address1", "addressline1"),
    "city": ("city", "town", "locality"),
    "state": ("state", "province", "region", "stateprovince", "stateorprovince"),
    "country": ("country", "countrycode", "countryname"),
    "postal_code": ("postalcode", "zip", "zipcode", "postcode", "postal"),
    "timezone": ("timezone", "tz", "zone", "tzname"),
    "utm_source": ("utmsource",),
    "utm_medium": ("utmmedium",),
    "utm_campaign": ("utmcampaign",),
    "utm_term": ("utmterm",),
    "utm_content": ("utmcontent",),
    # Narrow on purpose: a loose "Consent: yes" or date-only column stays a custom field
    # instead of having every row rejected.
    "consent_basis": ("consentbasis", "consenttype"),
    "consent_at": ("consentat", "consentedat", "consenttimestamp"),
    "registry_scrubbed_at": ("registryscrubbedat", "scrubbedat", "dncscrubbedat",
                             "lastscrubbedat"),
}
_FULL_NAME = ("name", "fullname", "contactname", "contact")
FIELDS = ("phone", *TEXT_FIELDS, *CONSENT_FIELDS)
_FIELD_INDEX = {name: i for i, name in enumerate(TEXT_FIELDS)}
TEXT_FIELDS_LIST = list(TEXT_FIELDS)


def _norm(header: str) -> str:
    return "".join(ch for ch in header.casefold() if ch.isalnum())


def custom_key(header: str) -> str:
    """'Lead Source' -> 'lead_source': extra columns become snake_case custom field keys."""
    key = re.sub(r"[^\w]+", "_", unicodedata.normalize("NFKC", header).strip().lower())
    return key.strip("_")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    default_region: str = "US"
    # Ringwise field (or "custom_fields.<key>") -> the file's header; None/"" skips the field.
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    delimiter: str | None = None  # sniffed when None


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    phone: int
    fields: tuple[tuple[int, int], ...]  # (position in TEXT_FIELDS, column)
    custom: tuple[tuple[str, int], ...]  # (custom field key, column)
    full_name: int | None  # split into first/last when those have no column
    columns: dict[str, str]  # field -> header, for the report
    consent: tuple[tuple[str, int], ...] = ()  # (one of CONSENT_FIELDS, column)


def plan_columns(header: list[str], mapping: Mapping[str, str | None]) -> ColumnPlan:
    """Match the header row to fields: explicit mapping first, then aliases; the rest are
    custom fields. An unknown mapping key or a header the file lacks is an InvalidInput."""
    names = [h.strip().lstrip("\ufeff") for h in header]
    by_norm: dict[str, int] = {}
    for col, name in enumerate(names):
        by_norm.setdefault(_norm(name), col)
    used: set[int] = set()
    chosen: dict[str, int] = {}
    skipped: set[str] = set()
    custom: list[tuple[str, int]] = []
    for target, source in mapping.items():
        is_custom = target.startswith("custom_fields.") and len(target) > 14
        if target not in FIELDS and not is_custom:
            raise InvalidInput(
                f"mapping: '{target}' is not a contact field (use one of {', '.join(FIELDS)} "
                f"or custom_fields.<key>)", field=f"mapping.{target}")
        if not source:
            skipped.add(target)
            continue
        found = by_norm.get(_norm(source))
        if found is None:
            raise InvalidInput(f"mapping: the file has no column '{source}' (columns: "
                               f"{', '.join(names)})", field=f"mapping.{target}")
        used.add(found)
        if is_custom:
            custom.append((target[14:], found))
        else:
            chosen[target] = found
    for name, aliases in ALIASES.items():
        if name in chosen or name in skipped:
            continue
        for alias in aliases:
            found = by_norm.get(alias)
            if found is not None and found not in used:
                chosen[name] = found
                used.add(found)
                break
    full_name: int | None = None
    if "first_name" not in chosen and "last_name" not in chosen:
        for alias in _FULL_NAME:
            found = by_norm.get(alias)
            if found is not None and found not in used:
                full_name = found
                used.add(found)
                break
    if "phone" not in chosen:
        raise InvalidInput(
            "no phone column: name it phone/mobile/cell/telephone or map it "
            f"(columns: {', '.join(names) or 'none'})", field="mapping.phone")
    keys = {key for key, _ in custom}
    for col, name in enumerate(names):
        if col in used:
            continue
        key = custom_key(name) or f"column_{col + 1}"
        base, n = key, 2
        while key in keys:
            key, n = f"{base}_{n}", n + 1
        keys.add(key)
        custom.append((key, col))
    columns = {f: names[c] for f, c in chosen.items()}
    columns.update({f"custom_fields.{k}": names[c] for k, c in custom})
    if full_name is not None:
        columns["first_name+last_name"] = names[full_name]
    return ColumnPlan(
        phone=chosen.pop("phone"),
        fields=tuple((_FIELD_INDEX[f], c) for f, c in chosen.items() if f in _FIELD_INDEX),
        custom=tuple(custom), full_name=full_name, columns=columns,
        consent=tuple((f, c) for f, c in chosen.items() if f in CONSENT_FIELDS),
    )


# --- bytes -> text -> records ------------------------------------------------------------------

def detect_encoding(stream: IO[bytes]) -> str:
    """'utf-8-sig' with a BOM ('utf-16' with a UTF-16 one), else 'utf-8' if the whole file
    decodes, else cp1252 (Excel on Windows), else latin-1 (every byte decodes). Reads the file
    once (twice if it is not UTF-8); rewinds it."""
    return _scan(stream)[0]


def _scan(stream: IO[bytes]) -> tuple[str, bool]:
    """(encoding, whether the text may hold NUL characters: then rows are checked for them)."""
    start = stream.tell()
    head = stream.read(3)
    stream.seek(start)
    if head == codecs.BOM_UTF8:
        candidates: tuple[str, ...] = ("utf-8-sig", "cp1252")
    elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        candidates = ("utf-16",)  # Excel's "Unicode text"
    else:
        candidates = ("utf-8", "cp1252")
    nul = False
    try:
        for encoding in candidates:
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := stream.read(_CHUNK):
                    decoder.decode(chunk)
                    nul = nul or b"\x00" in chunk
                decoder.decode(b"", final=True)
                return encoding, nul
            except UnicodeDecodeError:
                stream.seek(start)
        return "latin-1", nul
    finally:
        stream.seek(start)


def sniff_delimiter(sample: str) -> str:
    """The candidate that splits the first lines into the most consistent number (> 1) of
    columns; ',' when none does."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and len(sample) >= _SNIFF_CHARS:
        lines = lines[:-1]  # likely cut in the middle
    text = "".join(lines)
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        rows = rows[:50]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


@dataclass(slots=True)
class Batch:
    columns: tuple[str, ...]  # of the staged rows: only the fields the file has
    rows: list[StagedRow]
    rejections: list[RowRejection]
    data_rows: int  # non-blank data rows read for this batch
    duplicates: int  # rows whose phone appeared earlier in the file
    repeated: int  # staged rows whose phone was written by an earlier batch
    bytes_read: int


@dataclass(slots=True)
class FileInfo:
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: dict[str, str] = field(default_factory=dict)


def _tell(stream: IO[bytes]) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0


def read_batches(stream: IO[bytes], options: ImportOptions, info: FileInfo | None = None,
                 batch_rows: int = 20_000) -> Iterator[Batch]:
    """Parse and validate the file into batches of staged rows (distinct phones per batch).
    ``info`` is filled in with what was detected once the header has been read."""
    info = info if info is not None else FileInfo()
    info.encoding, nul = _scan(stream)
    text = io.TextIOWrapper(stream, encoding=info.encoding, newline="")
    try:
        sample = text.read(_SNIFF_CHARS)
        info.delimiter = options.delimiter or sniff_delimiter(sample)
        text.seek(0)
        reader = csv.reader(text, delimiter=info.delimiter)
        yield from _batches(reader, stream, options, info, batch_rows, nul)
    except csv.Error as exc:
        raise InvalidInput(f"the file is not valid CSV: {exc}", field="file") from None
    finally:
        text.detach()  # leave the caller's stream open


def _batches(reader: Iterator[list[str]], stream: IO[bytes], options: ImportOptions,
             info: FileInfo, batch_rows: int, check_nul: bool) -> Iterator[Batch]:
    # The hot loop of a million-row import: everything it needs is precomputed here.
    row_number = 0
    header: list[str] | None = None
    for record in reader:
        row_number += 1
        if any(cell.strip() for cell in record):
            header = record
            break
    if header is None:
        raise InvalidInput("the file has no header row", field="file")
    plan = plan_columns(header, options.mapping)
    info.columns = plan.columns
    region = options.default_region.upper()
    phone_col, custom, full_name = plan.phone, plan.custom, plan.full_name

    # Only the fields the file maps are staged: (field name, slot in the staged values).
    names = [TEXT_FIELDS_LIST[pos] for pos, _ in plan.fields]
    if full_name is not None:
        names += ["first_name", "last_name"]
    names += [name for name, _ in plan.consent]
    slot = {name: i for i, name in enumerate(names)}
    columns = ("idx", "id", "phone", *names, "custom_fields")
    # Plain fields need only a length check; e-mail and time zone have their own rules.
    plain = tuple((slot[TEXT_FIELDS_LIST[pos]], col, TEXT_FIELDS_LIST[pos],
                   TEXT_FIELDS[TEXT_FIELDS_LIST[pos]]) for pos, col in plan.fields
                  if TEXT_FIELDS_LIST[pos] not in ("email", "timezone"))
    special = tuple((slot[TEXT_FIELDS_LIST[pos]], col, TEXT_FIELDS_LIST[pos])
                    for pos, col in plan.fields if TEXT_FIELDS_LIST[pos] in ("email", "timezone"))
    # Consent fields are typed: a basis from a closed set, instants with an offset.
    typed = tuple((slot[name], col, name) for name, col in plan.consent)
    name_slots = (slot["first_name"], slot["last_name"]) if full_name is not None else (0, 0)
    used = [phone_col, *(c for _, c in plan.fields), *(c for _, c in custom),
            *(c for _, c in plan.consent)]
    if full_name is not None:
        used.append(full_name)
    width_needed = max(used) + 1
    width = len(names)
    seen: set[int] = set()  # phones of earlier batches, as integers (compact)
    zones: dict[str, str | None] = {}  # time zone text -> error (None: fine)
    email_ok = EMAIL_PATTERN.fullmatch
    parse = parse_e164

    # The batch being built: e164 -> [row number, values, custom dict]
    pending: dict[str, list[Any]] = {}
    rejections: list[RowRejection] = []
    data_rows = duplicates = repeated = 0

    def flush() -> Batch:
        nonlocal pending, rejections, data_rows, duplicates, repeated
        ids = new_ids(len(pending))
        rows: list[StagedRow] = [
            (entry[0], ids[i], e164, *entry[1], _json_object(entry[2]) if entry[2] else None)
            for i, (e164, entry) in enumerate(pending.items())
        ]
        seen.update([int(e164[1:]) for e164 in pending])
        batch = Batch(columns, rows, rejections, data_rows, duplicates, repeated,
                      _tell(stream))
        pending, rejections = {}, []
        data_rows = duplicates = repeated = 0
        return batch

    for record in reader:
        row_number += 1
        if len(record) < width_needed:
            if not any(cell.strip() for cell in record):
                continue  # blank line
            record = record + [""] * (width_needed - len(record))
        raw_phone = record[phone_col]
        if (not raw_phone or raw_phone.isspace()) and not any(c.strip() for c in record):
            continue  # blank line
        data_rows += 1
        try:
            e164 = parse(raw_phone, region)
        except InvalidPhone as exc:
            rejections.append(RowRejection(index=row_number, field="phone", reason=str(exc)))
            continue
        values: list[Any] = [None] * width
        bad: RowRejection | None = None
        for i, col, name, limit in plain:
            value = record[col].strip()
            if value:
                if len(value) > limit:
                    bad = RowRejection(index=row_number, field=name,
                                       reason=_problem(name, value) or "too long")
                    break
                values[i] = value
        if bad is None:
            for i, col, name in special:
                value = record[col].strip()
                if value:
                    if name == "email":
                        error = (None if len(value) <= 320 and email_ok(value)
                                 else _problem(name, value))
                    else:  # time zones repeat: remember the verdicts
                        error = zones.get(value, "")
                        if error == "":
                            error = zones[value] = _problem(name, value)
                            if len(zones) > 10_000:
                                zones.clear()
                    if error is not None:
                        bad = RowRejection(index=row_number, field=name, reason=error)
                        break
                    values[i] = value
        if bad is None:
            for i, col, name in typed:
                value = record[col]
                if value and not value.isspace():
                    try:
                        values[i] = normalize_consent_field(name, value)
                    except ValueError as exc:
                        bad = RowRejection(index=row_number, field=name, reason=str(exc))
                        break
        if bad is not None:
            rejections.append(bad)
            continue
        if full_name is not None:
            first, _, last = record[full_name].strip().partition(" ")
            values[name_slots[0]] = first[:255] or None
            values[name_slots[1]] = last.strip()[:255] or None
        extra = {key: value for key, col in custom if (value := record[col].strip())}
        if check_nul:
            bad = _nul_in(row_number, names, values, extra)
            if bad is not None:
                rejections.append(bad)
                continue
        entry = pending.get(e164)
        if entry is not None:
            duplicates += 1
            _merge_row(entry, values, extra)
            continue
        if int(e164[1:]) in seen:
            duplicates += 1
            repeated += 1
        pending[e164] = [row_number, values, extra]
        if len(pending) >= batch_rows:
            yield flush()
    if pending or rejections or data_rows:
        yield flush()


def _json_object(values: dict[str, str]) -> str:
    """JSON text of a dict of strings; ~3x cheaper than json.dumps for these small objects."""
    return "{" + ",".join([f"{_quote(k)}:{_quote(v)}" for k, v in values.items()]) + "}"


_quote = json.encoder.encode_basestring


def _nul_in(row: int, names: list[str], values: list[Any],
            extra: dict[str, str]) -> RowRejection | None:
    """A NUL character anywhere in the row (only looked for when the file has NUL bytes)."""
    for name, value in zip(names, values, strict=True):
        if isinstance(value, str) and "\x00" in value:
            return RowRejection(index=row, field=name, reason=NUL_REASON)
    for key, value in extra.items():
        if "\x00" in value:
            return RowRejection(index=row, field=f"custom_fields.{key}", reason=NUL_REASON)
    return None


NUL_REASON = "text cannot contain the NUL character (\\u0000)"


def _problem(name: str, value: str) -> str | None:
    try:
        normalize_text_field(name, value)
    except ValueError as exc:
        return str(exc)
    return None


def _merge_row(entry: list[Any], values: list[Any], extra: dict[str, str] | None) -> None:
    """A later row with the same phone: its non-empty values win, custom fields merge."""
    current = entry[1]
    for i, value in enumerate(values):
        if value is not None:
            current[i] = value
    if extra:
        entry[2] = {**entry[2], **extra} if entry[2] else extra


# --- writing ---------------------------------------------------------------------------------

@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[RowRejection] = field(default_factory=list)
    rejections_truncated: bool = False
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        """Rows written: created + updated + duplicates (merged into an earlier row)."""
        return self.rows - self.rejected


ProgressCallback = Callable[[int, int], None]  # (bytes read, rows read)
RejectCallback = Callable[[RowRejection], None]


SQLITE_IMPORT_CACHE_KIB = 64 * 1024


def _bigger_sqlite_cache(ctx: Ctx) -> Callable[[], None] | None:
    """SQLite's default page cache (2 MB) makes the phone index's random inserts re-read pages
    from the OS at every batch once a list reaches a few 100k rows; 64 MB keeps a million-row
    index cached. Returns the undo (the connection goes back to the pool afterwards)."""
    connection = ctx.session.connection()
    if connection.dialect.name != "sqlite":
        return None
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")

    def restore() -> None:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")

    return restore


class _Merger(threading.Thread):
    """Runs each batch's merge statement while the caller's thread parses the next batch.

    The merge is one long statement during which the driver releases the GIL (SQLite's step,
    PostgreSQL's wait), so parsing and merging overlap. Staging (executemany / COPY) stays on
    the caller's thread, between merges: the connection is never used by both at once, and
    the GIL is not handed back and forth once per row."""

    def __init__(self, stager: ContactStager, now: datetime, list_id: str | None) -> None:
        super().__init__(name="ringwise-import-merge", daemon=True)
        self.stager = stager
        self.now = now
        self.list_id = list_id
        self.jobs: queue.Queue[tuple[int, int] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.created = 0
        self.updated = 0

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    staged, repeated = job
                    created = self.stager.merge(self.now, self.list_id)
                    self.created += created
                    self.updated += staged - created - repeated
            except BaseException as exc:
                self.error = exc
            finally:
                self.jobs.task_done()


def import_csv(ctx: Ctx, stream: IO[bytes], list_id: str | None,
               options: ImportOptions | None = None, *,
               on_reject: RejectCallback | None = None,
               on_progress: ProgressCallback | None = None,
               batch_rows: int | None = None) -> ImportReport:
    """Import ``stream`` (a seekable binary file) into the workspace, adding every imported
    contact to ``list_id``. One transaction (the caller's): all or nothing on a crash, while
    rows that fail validation are reported and skipped. Never commits."""
    options = options or ImportOptions(default_region=ctx.workspace.default_region or "US")
    if list_id is not None:
        contact_list = get_owned(ctx, ContactList, list_id, "list_id")
        contact_list.updated_at = ctx.now
    ctx.session.flush()
    batch_rows = batch_rows or BATCH_ROWS.get(ctx.session.get_bind().dialect.name, 20_000)
    report = ImportReport()
    info = FileInfo()
    merger = _Merger(ContactStager(ctx.session, ctx.workspace_id), ctx.now, list_id)
    restore = _bigger_sqlite_cache(ctx)
    merger.start()
    try:
        for batch in read_batches(stream, options, info, batch_rows):
            report.rows += batch.data_rows
            report.duplicates += batch.duplicates
            report.rejected += len(batch.rejections)
            for rejection in batch.rejections:
                if len(report.rejections) < MAX_REPORTED_REJECTIONS:
                    report.rejections.append(rejection)
                else:
                    report.rejections_truncated = True
                if on_reject is not None:
                    on_reject(rejection)
            if batch.rows:
                merger.jobs.join()  # the previous merge is done: the connection is ours
                if merger.error is not None:
                    break
                merger.stager.stage(batch.rows, batch.columns)
                merger.jobs.put((len(batch.rows), batch.repeated))
                batch.rows = []  # staged: free them while the next batch is read
            if on_progress is not None:
                on_progress(batch.bytes_read, report.rows)
    finally:
        merger.jobs.put(None)
        merger.join()
    if merger.error is not None:
        raise merger.error
    if restore is not None:  # not after a failure: the rollback undoes the settings anyway
        restore()
    report.created, report.updated = merger.created, merger.updated
    report.encoding, report.delimiter, report.columns = info.encoding, info.delimiter, info.columns
    ctx.session.expire_all()
    return report
