"""Contacts: the one upsert every writer shares (API bulk, CSV import, campaign inline contacts),
and the single-contact reads and writes.

Upsert semantics, identical everywhere: contacts are keyed by (workspace, E.164 phone); a
non-empty incoming field overwrites, an absent or empty one keeps the stored value;
``custom_fields`` and ``metadata`` merge key by key (top level; keys sent as null or "" are
ignored). Rows are written set-based: loaded into a temporary staging table (COPY on
PostgreSQL, executemany on SQLite) and merged with one ``INSERT ... SELECT ... ON CONFLICT``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringwise.api.schemas.contacts import (
    CONSENT_FIELDS,
    INSTANT_FIELDS,
    TEXT_FIELDS,
    ContactInput,
    ContactUpdate,
    RowRejection,
    compact_mapping,
)
from ringwise.core.phones import InvalidPhone, parse_e164
from ringwise.db.models import Contact, ContactList, ContactListMember
from ringwise.db.types import UTCDateTime
from ringwise.errors import Conflict, InvalidInput
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate

STAGE = "rw_contact_stage"
# A staged row: (idx, proposed id, e164, *TEXT_FIELDS values, *CONSENT_FIELDS values,
# custom_fields json, metadata json); the instants of CONSENT_FIELDS as aware datetimes.
STAGE_COLUMNS: tuple[str, ...] = ("idx", "id", "phone", *TEXT_FIELDS, *CONSENT_FIELDS,
                                  "custom_fields", "metadata")
# Columns merged as "non-empty overwrites, empty keeps".
_MERGED_FIELDS: tuple[str, ...] = (*TEXT_FIELDS, *CONSENT_FIELDS)
StagedRow = tuple[Any, ...]
_CHUNK = 5_000  # ids per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(slots=True)
class UpsertResult:
    contact_ids: list[str | None]  # aligned with the input rows; None for a rejected row
    rejected: list[RowRejection]
    created: int
    updated: int
    duplicates: int = 0  # rows whose phone appeared earlier in the same call
    # e164 -> contact id of every written contact, for callers that key by phone.
    ids_by_phone: dict[str, str] = field(default_factory=dict)


# --- ids -------------------------------------------------------------------------------------

_sequence_lock = threading.Lock()
_sequence = 0


def new_ids(count: int) -> list[str]:
    """``count`` new ids: time-ordered UUIDs (version 7, RFC 9562) instead of random ones, so
    a bulk write appends to the primary-key and membership indexes instead of scattering
    across them (3-4x faster inserts at a million rows), and ~10x cheaper to make than
    ``str(uuid.uuid4())``. Layout: 48 bits of Unix milliseconds, version 7, a 26-bit
    process-wide sequence (order within a millisecond, split around the variant bits), 48
    random bits."""
    global _sequence
    with _sequence_lock:
        start, _sequence = _sequence, _sequence + count
    ms = f"{time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF:012x}"
    head = f"{ms[:8]}-{ms[8:]}-7"
    rand = os.urandom(6 * count).hex()
    out = []
    for i in range(count):
        seq = (start + i) & 0x3FF_FFFF
        out.append(f"{head}{seq >> 14:03x}-{0x8000 | seq & 0x3FFF:04x}-{rand[12 * i:12 * i + 12]}")
    return out


def dump_json(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# --- the staged merge ------------------------------------------------------------------------

def _sqlite_json_merge(col: str) -> str:
    # Top-level merge (PostgreSQL's jsonb ||): json_patch would merge nested objects too.
    # json_each loses the JSON-ness of nested values across the UNION, hence json(...) again.
    value = ("CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
             "WHEN 'null' THEN 'null' ELSE value END")
    return (
        f"CASE WHEN excluded.{col} IS NULL THEN contacts.{col} "
        f"WHEN contacts.{col} IS NULL OR json_type(contacts.{col}) <> 'object' "
        f"THEN excluded.{col} ELSE (SELECT json_group_object(key, CASE WHEN type IN "
        f"('object','array','true','false','null') THEN json(vj) ELSE value END) FROM ("
        f"SELECT key, value, type, {value} AS vj FROM json_each(contacts.{col}) "
        f"WHERE key NOT IN (SELECT key FROM json_each(excluded.{col})) "
        f"UNION ALL SELECT key, value, type, {value} FROM json_each(excluded.{col}))) END"
    )


def _pg_json_merge(col: str) -> str:
    return (
        f"CASE WHEN excluded.{col} IS NULL THEN contacts.{col} "
        f"WHEN contacts.{col} IS NULL OR jsonb_typeof(contacts.{col}) <> 'object' "
        f"THEN excluded.{col} ELSE contacts.{col} || excluded.{col} END"
    )


def _merge_sql(dialect: str) -> str:
    merge = _pg_json_merge if dialect == "postgresql" else _sqlite_json_merge
    cols = ", ".join(_MERGED_FIELDS)
    sets = [f"{f} = COALESCE(excluded.{f}, contacts.{f})" for f in _MERGED_FIELDS]
    sets += [f"{c} = {merge(c)}" for c in ("custom_fields", "metadata")]
    sets.append("updated_at = excluded.updated_at")
    return (
        f"INSERT INTO contacts (id, workspace_id, phone, {cols}, custom_fields, metadata, "
        f"created_at, updated_at) "
        f"SELECT id, :ws, phone, {cols}, custom_fields, metadata, :now, :now FROM {STAGE} "
        f"WHERE true "  # SQLite: without a WHERE, ON CONFLICT would parse as a join's ON
        f"ON CONFLICT (workspace_id, phone) DO UPDATE SET {', '.join(sets)}"
    )


class ContactStager:
    """A temporary staging table of prepared contact rows, merged into ``contacts`` in one
    statement. Rows staged together must have distinct phones (PostgreSQL refuses to update
    one row twice in a statement); the same phone in a later batch simply updates again."""

    def __init__(self, session: Session, workspace_id: str) -> None:
        self.session = session
        self.workspace_id = workspace_id
        conn = session.connection()
        self.dialect = conn.dialect.name
        self.dbapi: Any = conn.connection.dbapi_connection
        if self.dialect == "postgresql":
            cols = ", ".join([*(f"{f} text" for f in TEXT_FIELDS), "consent_basis text",
                              *(f"{f} timestamptz" for f in INSTANT_FIELDS)])
            ddl = (f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (idx integer, id varchar(36), "
                   f"phone varchar(16), {cols}, custom_fields jsonb, metadata jsonb) "
                   f"ON COMMIT DROP")
        else:
            cols = ", ".join(f"{f} TEXT" for f in _MERGED_FIELDS)
            ddl = (f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (idx INTEGER, id TEXT, "
                   f"phone TEXT, {cols}, custom_fields TEXT, metadata TEXT)")
        self._exec(ddl)
        self._exec(f"DELETE FROM {STAGE}")
        # Instants are staged as the contacts column stores them (SQLite: UTC text).
        self._store_instant = UTCDateTime().dialect_impl(conn.dialect).bind_processor(
            conn.dialect)
        self._merge_sql = _merge_sql(self.dialect)
        self._joined = (f"FROM {STAGE} s JOIN contacts c ON c.workspace_id = :ws "
                        f"AND c.phone = s.phone")

    def _exec(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.session.execute(text(sql), params or {})

    def stage(self, rows: Sequence[StagedRow],
              columns: Sequence[str] = STAGE_COLUMNS) -> None:
        """Load rows (tuples of ``columns``, a subset of STAGE_COLUMNS; the rest are NULL)."""
        if not rows:
            return
        instants = [i for i, name in enumerate(columns) if name in INSTANT_FIELDS]
        if instants and self._store_instant is not None:
            rows = [self._instants_stored(row, instants) for row in rows]
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            with self.dbapi.cursor() as cur, cur.copy(
                    f"COPY {STAGE} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.dbapi.executemany(f"INSERT INTO {STAGE} ({names}) VALUES ({marks})", rows)

    def _instants_stored(self, row: StagedRow, positions: Sequence[int]) -> StagedRow:
        assert self._store_instant is not None
        values = list(row)
        for i in positions:
            if values[i] is not None:
                values[i] = self._store_instant(values[i])
        return tuple(values)

    def merge(self, now: Any, list_id: str | None = None) -> int:
        """Merge the staged rows into ``contacts`` (and add them to ``list_id``); the number
        of contacts created. Clears the staging table."""
        params = {"ws": self.workspace_id, "now": now, "list": list_id}
        if self.dialect == "postgresql":
            # One statement, no join back: RETURNING feeds the list, xmax = 0 marks an insert.
            # A contact created by this statement cannot be a member yet: a plain insert,
            # cheaper than ON CONFLICT's speculative one, which only existing contacts need.
            members = ("new_members AS (INSERT INTO contact_list_members (list_id, contact_id) "
                       "SELECT :list, id FROM up WHERE created), "
                       "old_members AS (INSERT INTO contact_list_members (list_id, contact_id) "
                       "SELECT :list, id FROM up WHERE NOT created ON CONFLICT DO NOTHING) "
                       if list_id is not None else "")
            sql = (f"WITH up AS ({self._merge_sql} RETURNING id, (xmax = 0) AS created)"
                   f"{', ' if members else ' '}{members}"
                   f"SELECT count(*) FILTER (WHERE created) FROM up")
            created = int(self.session.execute(self._text(sql), params).scalar_one())
        else:
            self.session.execute(self._text(self._merge_sql), params)
            created = int(self._exec(f"SELECT count(*) {self._joined} WHERE c.id = s.id",
                                     params).scalar_one())
            if list_id is not None:
                self._exec(f"INSERT INTO contact_list_members (list_id, contact_id) "
                           f"SELECT :list, c.id {self._joined} WHERE true "
                           f"ON CONFLICT DO NOTHING", params)
        self.clear()
        return created

    def merge_returning_ids(self, now: Any) -> list[tuple[str, str, bool]]:
        """``merge`` that reports (phone, contact id, created) for every staged row."""
        params = {"ws": self.workspace_id, "now": now}
        if self.dialect == "postgresql":
            sql = f"{self._merge_sql} RETURNING phone, id, (xmax = 0)"
            rows = [(p, i, bool(c)) for p, i, c in
                    self.session.execute(self._text(sql), params)]
        else:
            self.session.execute(self._text(self._merge_sql), params)
            rows = [(p, i, i == proposed) for p, i, proposed in
                    self._exec(f"SELECT s.phone, c.id, s.id {self._joined}", params)]
        self.clear()
        return rows

    @staticmethod
    def _text(sql: str) -> Any:
        return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))

    def clear(self) -> None:
        self._exec(f"DELETE FROM {STAGE}")


# --- the shared upsert -----------------------------------------------------------------------

def _merge_into(earlier: dict[str, Any], later: dict[str, Any]) -> None:
    """Upsert semantics inside one batch: the later row's non-empty values win."""
    for key, value in later.items():
        if value is None:
            continue
        if key in ("custom_fields", "metadata") and earlier.get(key):
            earlier[key] = {**earlier[key], **value}
        else:
            earlier[key] = value


def _row_values(row: ContactInput) -> dict[str, Any]:
    values: dict[str, Any] = {f: getattr(row, f) for f in _MERGED_FIELDS}
    values["custom_fields"] = compact_mapping(row.custom_fields)
    values["metadata"] = compact_mapping(row.metadata)
    return values


def upsert_contacts(ctx: Ctx, rows: Sequence[ContactInput],
                    default_region: str | None = None) -> UpsertResult:
    """Create or update contacts by phone, set-based (10,000 rows in well under a second).

    ``default_region`` (else the workspace's) is used for numbers written without +country.
    A row whose phone does not parse is reported in ``rejected`` (index, field, reason) and
    the others are written. Never commits: the caller's transaction does.
    """
    region = (default_region or ctx.workspace.default_region or "US").upper()
    rejected: list[RowRejection] = []
    phones: list[str | None] = []
    merged: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for index, row in enumerate(rows):
        try:
            e164 = parse_e164(row.phone, region)
        except InvalidPhone as exc:
            rejected.append(RowRejection(index=index, field="phone", reason=str(exc)))
            phones.append(None)
            continue
        phones.append(e164)
        values = _row_values(row)
        if e164 in merged:
            duplicates += 1
            _merge_into(merged[e164], values)
        else:
            merged[e164] = values
    if not merged:
        return UpsertResult([None] * len(rows), rejected, 0, 0, duplicates)

    staged: list[StagedRow] = []
    for idx, ((e164, values), proposed) in enumerate(
            zip(merged.items(), new_ids(len(merged)), strict=True)):
        staged.append((idx, proposed, e164, *(values[f] for f in _MERGED_FIELDS),
                       dump_json(values["custom_fields"]), dump_json(values["metadata"])))
    stager = ContactStager(ctx.session, ctx.workspace_id)
    stager.stage(staged)
    ids_by_phone: dict[str, str] = {}
    created = 0
    for phone, contact_id, was_created in stager.merge_returning_ids(ctx.now):
        ids_by_phone[phone] = contact_id
        created += was_created
    # The session may hold stale Contact objects for rows just merged in SQL.
    ctx.session.expire_all()
    return UpsertResult(
        contact_ids=[None if p is None else ids_by_phone[p] for p in phones],
        rejected=rejected, created=created, updated=len(merged) - created,
        duplicates=duplicates, ids_by_phone=ids_by_phone,
    )


# --- single contacts -------------------------------------------------------------------------

def get_contact(ctx: Ctx, contact_id: str, field: str | None = None) -> Contact:
    return get_owned(ctx, Contact, contact_id, field)


def owned_contact_ids(ctx: Ctx, ids: Sequence[str], field: str) -> list[str]:
    """The distinct ids, in order, after checking each is one of this workspace's contacts;
    NotFound names ``field[i]`` of the first that is not (another workspace's id included)."""
    from ringwise.errors import NotFound

    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found.update(ctx.session.scalars(select(Contact.id).where(
            Contact.workspace_id == ctx.workspace_id, Contact.id.in_(chunk))))
    if len(found) != len(wanted):
        for index, contact_id in enumerate(ids):
            if contact_id not in found:
                raise NotFound(f"contact '{contact_id}' not found", field=f"{field}[{index}]")
    return wanted


def update_contact(ctx: Ctx, contact_id: str, body: ContactUpdate,
                   default_region: str | None = None) -> Contact:
    contact = get_contact(ctx, contact_id, "contact_id")
    changes = body.model_dump(exclude_unset=True)
    if "phone" in changes:
        phone = changes.pop("phone")
        if phone is None:
            raise InvalidInput("phone cannot be removed", field="phone")
        region = (default_region or ctx.workspace.default_region or "US").upper()
        try:
            e164 = parse_e164(phone, region)
        except InvalidPhone as exc:
            raise InvalidInput(f"phone: {exc}", field="phone") from None
        if e164 != contact.phone:
            taken = ctx.session.scalar(select(Contact.id).where(
                Contact.workspace_id == ctx.workspace_id, Contact.phone == e164))
            if taken is not None:
                raise Conflict(f"another contact ({taken}) has phone {e164}", field="phone")
            contact.phone = e164
    for name in ("custom_fields", "metadata"):
        if name not in changes:
            continue
        incoming = changes.pop(name)
        attr = "metadata_" if name == "metadata" else name
        if incoming is None:
            setattr(contact, attr, None)
            continue
        current = dict(getattr(contact, attr) or {})
        for key, value in incoming.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        setattr(contact, attr, current or None)
    for name, value in changes.items():
        setattr(contact, name, value)
    contact.updated_at = ctx.now
    try:
        ctx.session.flush()
    except IntegrityError:
        raise Conflict(f"another contact has phone {contact.phone}", field="phone") from None
    return contact


def delete_contact(ctx: Ctx, contact_id: str) -> None:
    """Delete a contact; the cascade removes it from lists and campaigns, whose counters are
    adjusted first in the same transaction."""
    from ringwise.services.campaigns import release_contacts  # campaigns imports this module

    contact = get_contact(ctx, contact_id, "contact_id")
    release_contacts(ctx, [contact.id])
    ctx.session.delete(contact)
    ctx.session.flush()


def _search_terms(query: str) -> Iterable[Any]:
    """Every whitespace-separated term must match a name, the e-mail or the phone's digits."""
    for term in query.split():
        conditions = [Contact.first_name.icontains(term, autoescape=True),
                      Contact.last_name.icontains(term, autoescape=True),
                      Contact.email.icontains(term, autoescape=True)]
        digits = "".join(ch for ch in term if ch.isdigit())
        if digits and len(digits) >= len(term.strip("+()-. ")) // 2:
            conditions.append(Contact.phone.contains(digits, autoescape=True))
        yield or_(*conditions)


def list_contacts(ctx: Ctx, *, limit: int = 50, cursor: str | None = None,
                  search: str | None = None, list_id: str | None = None) -> Page[Contact]:
    query = select(Contact).where(Contact.workspace_id == ctx.workspace_id)
    if list_id is not None:
        get_owned(ctx, ContactList, list_id, "list_id")
        query = query.where(exists().where(and_(ContactListMember.list_id == list_id,
                                                ContactListMember.contact_id == Contact.id)))
    if search and search.strip():
        query = query.where(*_search_terms(search))
    return paginate(ctx.session, query, Contact.created_at, Contact.id, limit, cursor)
