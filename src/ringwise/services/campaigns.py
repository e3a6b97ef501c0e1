"""Campaigns: create, change, start / pause / resume / cancel, and add contacts.

Services flush but never commit: the route's transaction commits only a successful request, so
a rejected request (a bad reference at contact 9,999) writes nothing. Every write path locks
the campaign row first (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction is already
exclusive), so concurrent requests on one campaign apply one after the other: the unique
(campaign, contact) pair and the live counters never race.

Contacts are inserted set-based (one executemany of plain rows), and the counters row is
bumped in the same transaction, so 10,000 contacts cost milliseconds, not one ORM object each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ringwise.api.errors import error_field
from ringwise.api.schemas.campaigns import (
    CallerId,
    CampaignContactInput,
    CampaignContactsAdd,
    CampaignCreate,
    CampaignSettings,
    CampaignUpdate,
    ContactSources,
    Schedule,
)
from ringwise.core import campaign_lifecycle as lifecycle
from ringwise.db.models import (
    Assistant,
    Campaign,
    CampaignContact,
    CampaignCounters,
    Contact,
    ContactList,
    ContactListMember,
    PhoneNumber,
)
from ringwise.db.types import UTCDateTime
from ringwise.errors import Conflict, InvalidInput, NotFound
from ringwise.ids import new_id
from ringwise.results import outbox
from ringwise.services import contacts as contacts_service
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, decode_cursor, encode_cursor, paginate
from ringwise.services.reports import sync_campaign_report

_CHUNK = 5_000  # ids per IN (...) list: well under SQLite's bound-parameter limit
# Settings that always hold a value: an explicit null in a PATCH is an error for these.
_NOT_NULL = frozenset({"name", "caller_id", "schedule", "retry", "concurrency_limit",
                       "priority", "never_ending", "telemarketing", "regulation_f",
                       "voicemail", "memory", "options"})
_SECTIONS = ("caller_id", "schedule", "retry", "voicemail", "speech_settings", "memory",
             "analysis", "report_schedule", "options")
TERMINAL_CONTACT_STATES = ("done", "skipped")
_ZERO_COUNTERS = {c.key: 0 for c in CampaignCounters.__table__.columns
                  if c.key != "campaign_id"}


@dataclass(slots=True)
class AddResult:
    added: int = 0
    duplicates: int = 0
    contacts_total: int = 0


@dataclass(slots=True)
class _Entry:
    """One contact about to join the campaign, and where in the request it came from."""

    contact_id: str
    source: str  # the request field, for error messages
    caller_number_id: str | None = None
    assistant_overrides: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class _Gathered:
    entries: dict[str, _Entry] = field(default_factory=dict)  # contact id -> first occurrence
    duplicates: int = 0


# --- reading --------------------------------------------------------------------------------

def _query(ctx: Ctx, campaign_id: str) -> Any:
    if "\x00" in campaign_id:  # PostgreSQL cannot even compare such text: no such campaign
        raise NotFound(f"campaign {campaign_id!r} not found")
    return select(Campaign).where(Campaign.id == campaign_id,
                                  Campaign.workspace_id == ctx.workspace_id)


def get_campaign(ctx: Ctx, campaign_id: str, field: str | None = None) -> Campaign:
    """The workspace's campaign, or NotFound (also for another workspace's id)."""
    campaign: Campaign | None = ctx.session.scalar(_query(ctx, campaign_id))
    if campaign is None:
        raise NotFound(f"campaign '{campaign_id}' not found", field=field)
    return campaign


def lock_campaign(ctx: Ctx, campaign_id: str) -> Campaign:
    """The campaign, row-locked for the rest of the transaction (fresh from the database)."""
    campaign: Campaign | None = ctx.session.scalar(
        _query(ctx, campaign_id).with_for_update()
        .execution_options(populate_existing=True))
    if campaign is None:
        raise NotFound(f"campaign '{campaign_id}' not found")
    return campaign


def get_counters(session: Session, campaign_id: str) -> CampaignCounters:
    """The campaign's live counters (all zero if its row is missing: never a read error)."""
    counters: CampaignCounters | None = session.execute(
        select(CampaignCounters).where(CampaignCounters.campaign_id == campaign_id)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    return counters or CampaignCounters(campaign_id=campaign_id, **_ZERO_COUNTERS)


def counters_for(session: Session, campaign_ids: Sequence[str]) -> dict[str, CampaignCounters]:
    if not campaign_ids:
        return {}
    rows = session.scalars(select(CampaignCounters)
                           .where(CampaignCounters.campaign_id.in_(list(campaign_ids))))
    return {c.campaign_id: c for c in rows}


def list_campaigns(ctx: Ctx, *, limit: int = 50, cursor: str | None = None,
                   search: str | None = None, status: str | None = None,
                   assistant_id: str | None = None) -> Page[Campaign]:
    for name, value in (("search", search), ("assistant_id", assistant_id)):
        if value is not None and "\x00" in value:
            raise InvalidInput(f"{name}: cannot contain the NUL character", field=name)
    query = select(Campaign).where(Campaign.workspace_id == ctx.workspace_id)
    if search and search.strip():
        text = search.strip()
        query = query.where(Campaign.name.icontains(text, autoescape=True)
                            | Campaign.description.icontains(text, autoescape=True))
    if status:
        query = query.where(Campaign.status == status)
    if assistant_id:
        query = query.where(Campaign.assistant_id == assistant_id)
    return paginate(ctx.session, query, Campaign.created_at, Campaign.id, limit, cursor)


# --- settings validation against the database -----------------------------------------------

def _resolve_settings(ctx: Ctx, settings: CampaignSettings) -> CampaignSettings:
    """Check every reference belongs to the workspace, and fill workspace defaults.

    Returns the settings with ``channel`` (from the numbers, when not given) and
    ``schedule.timezone`` filled in. Raises NotFound / InvalidInput naming the field.
    """
    if settings.assistant_id is not None:
        _owned_assistant(ctx, settings.assistant_id, "assistant_id")
    refs = settings.caller_id.referenced_numbers()
    numbers = _owned_numbers(ctx, refs)
    channel = settings.channel
    for (path, phone_id) in refs:
        provider = numbers[phone_id].provider
        if channel is None:
            channel = provider  # type: ignore[assignment]
        elif provider != channel:
            raise InvalidInput(
                f"{path}: {numbers[phone_id].number} is a {provider} number but the campaign's "
                f"channel is {channel}; every caller number must use the campaign's channel",
                field=path)
    schedule = settings.schedule
    if schedule.end_at is not None and schedule.end_at <= ctx.now:
        raise InvalidInput("schedule.end_at: is in the past; no call could be placed",
                           field="schedule.end_at")
    if schedule.use_workspace_business_hours and not ctx.workspace.business_hours:
        raise InvalidInput(
            "schedule.use_workspace_business_hours: the workspace has no business hours; set "
            "them with PATCH /v1/settings or give schedule.business_hours",
            field="schedule.use_workspace_business_hours")
    updates: dict[str, Any] = {}
    if channel != settings.channel:
        updates["channel"] = channel
    if schedule.timezone is None:
        updates["schedule"] = schedule.model_copy(update={"timezone": ctx.workspace.timezone})
    return settings.model_copy(update=updates) if updates else settings


def _owned_assistant(ctx: Ctx, assistant_id: str, field: str) -> Assistant:
    return get_owned(ctx, Assistant, assistant_id, field)


def _owned_numbers(ctx: Ctx, refs: Sequence[tuple[str, str]]) -> dict[str, PhoneNumber]:
    wanted = {phone_id for _, phone_id in refs}
    if not wanted:
        return {}
    found = {p.id: p for p in ctx.session.scalars(select(PhoneNumber).where(
        PhoneNumber.workspace_id == ctx.workspace_id, PhoneNumber.id.in_(wanted)))}
    for path, phone_id in refs:
        if phone_id not in found:
            raise NotFound(f"phone number '{phone_id}' not found", field=path)
    return found


def _revalidate(data: dict[str, Any]) -> CampaignSettings:
    """Validate merged settings (stored + patch) as a whole; a failure is a 422 naming the
    field, like a request body's."""
    try:
        return CampaignSettings.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = error_field(dict(error))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InvalidInput(f"{path}: {message}" if path else message, field=path) from None


def _settings_input(campaign: Campaign) -> dict[str, Any]:
    """A stored campaign's settings in request shape (for re-validation after a PATCH)."""
    data: dict[str, Any] = {name: getattr(campaign, name) for name in (
        "name", "description", "assistant_id", "channel", "concurrency_limit", "priority",
        "never_ending", "auto_start", "telemarketing", "regulation_f", "opening_message",
        "campaign_context", *_SECTIONS)}
    data["metadata"] = campaign.metadata_
    return {k: v for k, v in data.items() if v is not None}


def _apply_settings(campaign: Campaign, settings: CampaignSettings) -> None:
    for name in ("name", "description", "assistant_id", "channel", "concurrency_limit",
                 "priority", "never_ending", "auto_start", "telemarketing", "regulation_f",
                 "opening_message", "campaign_context"):
        setattr(campaign, name, getattr(settings, name))
    campaign.caller_id = settings.caller_id.stored()
    for name in _SECTIONS[1:]:
        value = getattr(settings, name)
        setattr(campaign, name, value.model_dump(mode="json") if value is not None else None)
    campaign.metadata_ = settings.metadata


# --- create ---------------------------------------------------------------------------------

def create_campaign(ctx: Ctx, body: CampaignCreate) -> tuple[Campaign, AddResult]:
    settings = _resolve_settings(ctx, CampaignSettings.model_validate(
        {name: getattr(body, name) for name in CampaignSettings.model_fields}))
    campaign = Campaign(id=new_id(), workspace_id=ctx.workspace_id, status="draft",
                        created_at=ctx.now, updated_at=ctx.now)
    _apply_settings(campaign, settings)
    gathered = _gather(ctx, body, body.caller_id)
    ctx.session.add(campaign)
    ctx.session.add(CampaignCounters(campaign_id=campaign.id, **_ZERO_COUNTERS))
    ctx.session.flush()
    # The Kayse report_schedule: its report exists from the same transaction on.
    sync_campaign_report(ctx.session, campaign, ctx.now)
    result = _insert(ctx, campaign, gathered, existing=set())
    if settings.auto_start:
        apply_action(ctx, campaign.id, "start")
    return campaign, result



# --- contacts -------------------------------------------------------------------------------

def _gather(ctx: Ctx, sources: ContactSources, caller_id: CallerId | None, *,
            caller_number_id: str | None = None) -> _Gathered:
    """Resolve every contact source of a request to contact ids (validating ownership and
    upserting inline contacts), first occurrence first, counting repeats."""
    groups: list[tuple[str, ContactSources | Any, str | None]] = [("", sources, caller_number_id)]
    if caller_id is not None and caller_id.mode == "dial_plan":
        groups = [(f"caller_id.dial_plan[{i}].", entry, entry.phone_number_id)
                  for i, entry in enumerate(caller_id.dial_plan)]
    gathered = _Gathered()
    inline: list[CampaignContactInput] = []
    inline_where: list[tuple[str, str | None]] = []
    for prefix, group, number_id in groups:
        for index, row in enumerate(group.contacts):
            inline.append(row)
            inline_where.append((f"{prefix}contacts[{index}]", number_id))
    contact_ids: dict[int, list[str]] = {}
    for position, (prefix, group, _) in enumerate(groups):
        if group.contact_ids:
            contacts_service.owned_contact_ids(ctx, group.contact_ids, f"{prefix}contact_ids")
            contact_ids[position] = group.contact_ids
    members = {position: _list_members(ctx, group.contact_list_ids, f"{prefix}contact_list_ids")
               for position, (prefix, group, _) in enumerate(groups) if group.contact_list_ids}
    upserted: list[str | None] = []
    if inline:
        result = contacts_service.upsert_contacts(ctx, inline)
        if result.rejected:
            bad = result.rejected[0]
            where = inline_where[bad.index][0]
            path = f"{where}.{bad.field}" if bad.field else where
            raise InvalidInput(f"{path}: {bad.reason}", field=path)
        upserted = result.contact_ids

    def take(contact_id: str, source: str, number_id: str | None,
             row: CampaignContactInput | None = None) -> None:
        first = gathered.entries.get(contact_id)
        if first is not None:
            if number_id != first.caller_number_id:
                raise InvalidInput(f"{source}: the same contact is already in {first.source}, "
                                   "called from another number", field=source)
            gathered.duplicates += 1
            if row is not None and first.assistant_overrides is None \
                    and first.metadata is None:
                _apply_row(first, row)  # an inline entry's own data beats a list membership
            return
        entry = _Entry(contact_id, source, number_id)
        if row is not None:
            _apply_row(entry, row)
        gathered.entries[contact_id] = entry

    cursor = 0
    for position, (prefix, group, number_id) in enumerate(groups):
        for index, contact_id in enumerate(contact_ids.get(position, ())):
            take(contact_id, f"{prefix}contact_ids[{index}]", number_id)
        for list_index, ids in members.get(position, []):
            for contact_id in ids:
                take(contact_id, f"{prefix}contact_list_ids[{list_index}]", number_id)
        for index, row in enumerate(group.contacts):
            upserted_id = upserted[cursor]
            cursor += 1
            assert upserted_id is not None  # rejected rows raised above
            take(upserted_id, f"{prefix}contacts[{index}]", number_id, row)
    return gathered


def _apply_row(entry: _Entry, row: CampaignContactInput) -> None:
    """An inline contact's per-campaign data (assistant overrides, metadata) on its entry."""
    if row.assistant_overrides is not None:
        entry.assistant_overrides = row.assistant_overrides.model_dump(mode="json",
                                                                       exclude_none=True)
    if row.campaign_metadata is not None:
        entry.metadata = row.campaign_metadata


def _list_members(ctx: Ctx, list_ids: Sequence[str],
                  field: str) -> list[tuple[int, list[str]]]:
    owned = set(ctx.session.scalars(select(ContactList.id).where(
        ContactList.workspace_id == ctx.workspace_id, ContactList.id.in_(set(list_ids)))))
    for index, list_id in enumerate(list_ids):
        if list_id not in owned:
            raise NotFound(f"contact list '{list_id}' not found", field=f"{field}[{index}]")
    members: list[tuple[int, list[str]]] = []
    for index, list_id in enumerate(list_ids):
        ids = list(ctx.session.scalars(
            select(ContactListMember.contact_id)
            .join(Contact, Contact.id == ContactListMember.contact_id)
            .where(ContactListMember.list_id == list_id,
                   Contact.workspace_id == ctx.workspace_id)
            .order_by(Contact.created_at, Contact.id)))
        members.append((index, ids))
    return members


def _already_in(ctx: Ctx, campaign_id: str, contact_ids: Iterable[str]) -> set[str]:
    wanted = list(contact_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(ctx.session.scalars(select(CampaignContact.contact_id).where(
            CampaignContact.campaign_id == campaign_id,
            CampaignContact.contact_id.in_(wanted[start:start + _CHUNK]))))
    return found


_CC_COLUMNS = ("id", "workspace_id", "campaign_id", "contact_id", "state", "attempts",
               "caller_number_id", "assistant_overrides", "metadata", "created_at",
               "updated_at")


def _bulk_insert(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert campaign_contacts rows (in ``_CC_COLUMNS`` order) through the DBAPI: COPY on
    PostgreSQL, one executemany on SQLite. The ORM's per-row bookkeeping (bind processing,
    JSON encoding of every null) would cost more than the database does for 10,000 rows."""
    conn = session.connection()
    dbapi: Any = conn.connection.dbapi_connection
    columns = ", ".join(_CC_COLUMNS)
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(
                f"COPY campaign_contacts ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(_CC_COLUMNS))
        dbapi.executemany(f"INSERT INTO campaign_contacts ({columns}) VALUES ({marks})", rows)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _insert(ctx: Ctx, campaign: Campaign, gathered: _Gathered,
            existing: set[str]) -> AddResult:
    fresh = [e for e in gathered.entries.values() if e.contact_id not in existing]
    if fresh:
        # The instant as the column type stores it on this database, computed once.
        dialect = ctx.session.get_bind().dialect
        process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        now = process(ctx.now) if process is not None else ctx.now
        rows = [
            (cc_id, ctx.workspace_id, campaign.id, e.contact_id, "pending", 0,
             e.caller_number_id, _json(e.assistant_overrides), _json(e.metadata), now, now)
            for e, cc_id in zip(fresh, contacts_service.new_ids(len(fresh)), strict=True)
        ]
        _bulk_insert(ctx.session, rows)
        ctx.session.execute(
            update(CampaignCounters).where(CampaignCounters.campaign_id == campaign.id)
            .values(contacts_total=CampaignCounters.contacts_total + len(rows),
                    contacts_pending=CampaignCounters.contacts_pending + len(rows))
            .execution_options(synchronize_session=False))
    total = ctx.session.scalar(select(CampaignCounters.contacts_total)
                               .where(CampaignCounters.campaign_id == campaign.id))
    return AddResult(added=len(fresh), duplicates=gathered.duplicates + len(existing),
                     contacts_total=int(total or 0))


def add_contacts(ctx: Ctx, campaign_id: str, body: CampaignContactsAdd) -> AddResult:
    campaign = lock_campaign(ctx, campaign_id)
    if campaign.status not in lifecycle.ACCEPTS_CONTACTS:
        raise Conflict(f"campaign is '{campaign.status}'; contacts can be added only to a "
                       "draft, scheduled, running or paused campaign",
                       code="invalid_state", field="status",
                       details={"status": campaign.status})
    plan_numbers = [e["phone_number_id"] for e in (campaign.caller_id or {}).get("dial_plan", [])]
    if campaign.caller_id.get("mode") == "dial_plan":
        if body.phone_number_id is None:
            raise InvalidInput("phone_number_id: this campaign dials from a dial plan; say which "
                               "of its numbers calls these contacts", field="phone_number_id")
        if body.phone_number_id not in plan_numbers:
            raise InvalidInput(f"phone_number_id: '{body.phone_number_id}' is not a number of "
                               "this campaign's dial plan", field="phone_number_id")
    elif body.phone_number_id is not None:
        raise InvalidInput("phone_number_id: only dial-plan campaigns assign a number per "
                           "contact", field="phone_number_id")
    gathered = _gather(ctx, body, None, caller_number_id=body.phone_number_id)
    existing = _already_in(ctx, campaign.id, gathered.entries)
    result = _insert(ctx, campaign, gathered, existing)
    campaign.updated_at = ctx.now
    ctx.session.flush()
    return result


def list_campaign_contacts(ctx: Ctx, campaign_id: str, *, limit: int = 50,
                           cursor: str | None = None,
                           state: str | None = None) -> Page[tuple[CampaignContact, Contact]]:
    """A campaign's contacts, newest first, with the contact's phone and name."""
    get_campaign(ctx, campaign_id, "campaign_id")
    from ringwise.services.pagination import MAX_LIMIT

    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    query = (select(CampaignContact, Contact)
             .join(Contact, Contact.id == CampaignContact.contact_id)
             .where(CampaignContact.campaign_id == campaign_id,
                    CampaignContact.workspace_id == ctx.workspace_id))
    if state:
        query = query.where(CampaignContact.state == state)
    if cursor:
        created, row_id = decode_cursor(cursor)
        query = query.where((CampaignContact.created_at < created)
                            | ((CampaignContact.created_at == created)
                               & (CampaignContact.id < row_id)))
    rows = [(cc, c) for cc, c in ctx.session.execute(
        query.order_by(CampaignContact.created_at.desc(), CampaignContact.id.desc())
        .limit(limit + 1))]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1][0].created_at, rows[-1][0].id)
    return Page(items=rows, next_cursor=next_cursor)


_STATE_COUNTERS = {"pending": "contacts_pending", "active": "contacts_active",
                   "done": "contacts_done", "skipped": "contacts_skipped"}


def release_contacts(ctx: Ctx, contact_ids: Sequence[str]) -> None:
    """Take contacts out of the counters of every campaign they belong to. Call it before
    deleting contacts: the database cascade removes their campaign rows but cannot know the
    counters, which must stay equal to the rows they count."""
    for start in range(0, len(contact_ids), _CHUNK):
        groups = ctx.session.execute(
            select(CampaignContact.campaign_id, CampaignContact.state, func.count())
            .where(CampaignContact.workspace_id == ctx.workspace_id,
                   CampaignContact.contact_id.in_(list(contact_ids[start:start + _CHUNK])))
            .group_by(CampaignContact.campaign_id, CampaignContact.state))
        for campaign_id, state, n in groups:
            values: dict[str, Any] = {"contacts_total": CampaignCounters.contacts_total - n}
            column = _STATE_COUNTERS.get(state)
            if column is not None:
                values[column] = getattr(CampaignCounters, column) - n
            ctx.session.execute(
                update(CampaignCounters).where(CampaignCounters.campaign_id == campaign_id)
                .values(**values).execution_options(synchronize_session=False))


# --- update ---------------------------------------------------------------------------------

def update_campaign(ctx: Ctx, campaign_id: str, body: CampaignUpdate) -> Campaign:
    campaign = lock_campaign(ctx, campaign_id)
    if campaign.status not in lifecycle.EDITABLE:
        raise Conflict(
            f"campaign is '{campaign.status}'; settings can change only while it is draft or "
            "paused" + (" (pause it first)" if campaign.status in ("scheduled", "running")
                        else ""),
            code="not_editable", field="status", details={"status": campaign.status})
    data = _settings_input(campaign)
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None:
            if name in _NOT_NULL:
                raise InvalidInput(f"{name}: cannot be null", field=name)
            if name == "assistant_id" and campaign.status != "draft":
                raise InvalidInput("assistant_id: a campaign that has started keeps an "
                                   "assistant; give another one instead", field=name)
            data.pop(name, None)
            continue
        data[name] = value
    if "caller_id" in body.model_fields_set and "channel" not in body.model_fields_set:
        data.pop("channel", None)  # new numbers: take the channel from them again
    settings = _resolve_settings(ctx, _revalidate(data))
    old_mode = campaign.caller_id.get("mode")
    _apply_settings(campaign, settings)
    ctx.session.flush()  # before any contact upsert: it expires the session's objects
    if body.caller_id is not None:
        _apply_dial_plan(ctx, campaign, body.caller_id, old_mode)
    campaign.updated_at = ctx.now
    ctx.session.flush()
    sync_campaign_report(ctx.session, campaign, ctx.now)
    return campaign


def _apply_dial_plan(ctx: Ctx, campaign: Campaign, caller_id: CallerId,
                     old_mode: str | None) -> None:
    if caller_id.mode != "dial_plan":
        if old_mode == "dial_plan":  # numbers no longer come from the plan
            ctx.session.execute(
                update(CampaignContact).where(CampaignContact.campaign_id == campaign.id)
                .values(caller_number_id=None).execution_options(synchronize_session=False))
        return
    sources = ContactSources()
    gathered = _gather(ctx, sources, caller_id)
    existing = _already_in(ctx, campaign.id, gathered.entries)
    for number_id in {e.caller_number_id for e in gathered.entries.values()}:
        moved = [cid for cid, e in gathered.entries.items()
                 if cid in existing and e.caller_number_id == number_id]
        for start in range(0, len(moved), _CHUNK):
            ctx.session.execute(
                update(CampaignContact)
                .where(CampaignContact.campaign_id == campaign.id,
                       CampaignContact.contact_id.in_(moved[start:start + _CHUNK]))
                .values(caller_number_id=number_id, updated_at=ctx.now)
                .execution_options(synchronize_session=False))
    _insert(ctx, campaign, gathered, existing)
    plan = [e.phone_number_id for e in caller_id.dial_plan]
    stranded = ctx.session.scalar(
        select(func.count()).select_from(CampaignContact).where(
            CampaignContact.campaign_id == campaign.id,
            CampaignContact.state.not_in(TERMINAL_CONTACT_STATES),
            CampaignContact.caller_number_id.is_(None)
            | CampaignContact.caller_number_id.not_in(plan)))
    if stranded:
        raise InvalidInput(
            f"caller_id.dial_plan: {stranded} contact(s) of this campaign would have no number "
            "in the dial plan; list them in an entry's contact_ids", field="caller_id.dial_plan")


# --- lifecycle ------------------------------------------------------------------------------

def _not_ready(message: str, field: str) -> Conflict:
    return Conflict(f"cannot start: {message}", code="not_ready", field=field)


def check_startable(ctx: Ctx, campaign: Campaign) -> None:
    """What a campaign needs before it may dial (or text); 409 ``not_ready`` naming the
    field."""
    if not ctx.workspace.campaigns_enabled:
        raise Conflict("campaigns are disabled for this workspace (PATCH /v1/settings "
                       "campaigns_enabled)", code="campaigns_disabled")
    schedule = Schedule.model_validate(campaign.schedule)
    settings = _revalidate(_settings_input(campaign))
    calls = not schedule.messaging_only
    texts = any(message.channel == "sms" for run in schedule.runs for message in run.messages)
    assistant = None
    if calls:
        if campaign.assistant_id is None:
            raise _not_ready("assistant_id is required to place calls", "assistant_id")
        assistant = _owned_assistant(ctx, campaign.assistant_id, "assistant_id")
    if calls or texts:
        # Calls, and texts, need a number of the workspace to come from.
        purpose = "to call from" if calls else "to send the texts from"
        refs = settings.caller_id.referenced_numbers()
        try:
            _owned_numbers(ctx, refs)
        except NotFound as exc:
            raise _not_ready(f"{exc.field}: {exc.message}", exc.field or "caller_id") from None
        mode = settings.caller_id.mode
        if mode == "fixed" and not refs:
            raise _not_ready(f"caller_id.phone_number_ids needs the number {purpose}",
                             "caller_id.phone_number_ids")
        if mode in ("pool", "local_presence") and not refs:
            query = select(func.count()).select_from(PhoneNumber).where(
                PhoneNumber.workspace_id == ctx.workspace_id)
            if campaign.channel:
                query = query.where(PhoneNumber.provider == campaign.channel)
            if not ctx.session.scalar(query):
                raise _not_ready("the workspace has no phone number"
                                 + (f" on {campaign.channel}" if campaign.channel else "")
                                 + f" {purpose}", "caller_id.phone_number_ids")
    if assistant is not None:
        voicemail = settings.voicemail
        if voicemail.detection_enabled and voicemail.action == "leave_message" \
                and not voicemail.message and not assistant.voicemail_message:
            raise _not_ready("voicemail.message is needed to leave a message (the assistant "
                             "has no voicemail_message)", "voicemail.message")
    if schedule.end_at is not None and schedule.end_at <= ctx.now:
        raise _not_ready("schedule.end_at has passed", "schedule.end_at")
    counters = get_counters(ctx.session, campaign.id)
    if counters.contacts_total == 0 and not campaign.never_ending:
        raise _not_ready("the campaign has no contacts (add some, or make it never_ending)",
                         "contacts")


def apply_action(ctx: Ctx, campaign_id: str, action: str) -> Campaign:
    """start | pause | resume | cancel. Illegal from the current state: 409
    ``invalid_transition`` naming it."""
    campaign = lock_campaign(ctx, campaign_id)
    if action not in lifecycle.API_ACTIONS:
        raise NotFound(f"'{action}' is not a campaign action")
    future = lifecycle.starts_in_future(ctx.now, lifecycle.schedule_start(campaign.schedule))
    new_status = lifecycle.transition(campaign.status, action, starts_in_future=future)
    if action == "start":
        check_startable(ctx, campaign)
    if new_status == "running" and campaign.started_at is None:
        campaign.started_at = ctx.now
    if new_status == "canceled":
        campaign.completed_at = ctx.now
        campaign.ended_reason = "canceled"
        _skip_pending(ctx, campaign.id)
    previous = campaign.status
    campaign.status = new_status
    campaign.updated_at = ctx.now
    ctx.session.flush()
    if new_status != previous:
        outbox.emit(ctx.session.connection(), ctx.workspace_id, "campaign.status_changed",
                    {"campaign_id": campaign.id, "from": previous, "to": new_status,
                     "ended_reason": campaign.ended_reason}, ctx.now)
    return campaign


def _skip_pending(ctx: Ctx, campaign_id: str) -> None:
    """A canceled campaign's waiting contacts end as skipped (outcome 'canceled'), so every
    contact still ends in exactly one terminal state; contacts on a call finish normally."""
    result = ctx.session.execute(
        update(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id, CampaignContact.state == "pending")
        .values(state="skipped", outcome="canceled", next_eligible_at=None,
                updated_at=ctx.now)
        .execution_options(synchronize_session=False))
    skipped = int(getattr(result, "rowcount", 0) or 0)
    if skipped:
        ctx.session.execute(
            update(CampaignCounters).where(CampaignCounters.campaign_id == campaign_id)
            .values(contacts_pending=CampaignCounters.contacts_pending - skipped,
                    contacts_skipped=CampaignCounters.contacts_skipped + skipped)
            .execution_options(synchronize_session=False))
