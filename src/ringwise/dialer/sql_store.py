"""The dialer's store on SQLAlchemy: SQLite and PostgreSQL through the same statements.

Claims serialise per workspace: on PostgreSQL the claiming transaction locks the workspace
row (``SELECT ... FOR UPDATE``) before it reads in-flight counts and number starts, and
fetches due contacts with ``FOR UPDATE SKIP LOCKED``; on SQLite every write transaction
already holds the database's write lock from ``BEGIN IMMEDIATE``. Counters change in the
same transaction as the rows they count, so concurrency limits hold across processes.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import (
    Integer,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from ringwise.core.call_states import CallState
from ringwise.core.compliance.dnc import candidate_patterns
from ringwise.core.costs import talk_seconds
from ringwise.db.engine import Database
from ringwise.db.models import (
    AnalysisJob,
    Assistant,
    Call,
    CallSettings,
    Campaign,
    CampaignContact,
    CampaignCounters,
    ComplianceLog,
    Contact,
    DncEntry,
    PhoneNumber,
    Worker,
    Workspace,
)
from ringwise.db.types import UTCDateTime
from ringwise.dialer.plans import DEFAULT_SUMMARIES, uuid5_text
from ringwise.dialer.store import (
    HISTORY_SPAN,
    AttemptEnd,
    AuditRecord,
    CallChange,
    CallView,
    CampaignView,
    ClaimDecider,
    ClaimInput,
    Closed,
    NewCall,
    NumberView,
    ScheduleChange,
    Scheduled,
    Target,
    WorkspaceView,
)
from ringwise.ids import new_id
from ringwise.results import outbox
from ringwise.results.records import (
    assistant_snapshot,
    cost_per_minute,
    iso,
    settings_snapshot,
    transcript_json,
)
from ringwise.results.stats_writer import EndedCall, add_ended

CC: Final = cast(Table, CampaignContact.__table__)
CALLS: Final = cast(Table, Call.__table__)
COUNTERS: Final = cast(Table, CampaignCounters.__table__)
LOG: Final = cast(Table, ComplianceLog.__table__)
SNAPSHOTS: Final = cast(Table, CallSettings.__table__)
JOBS: Final = cast(Table, AnalysisJob.__table__)
_SNAPSHOT_IDS: Final = uuid.UUID("0c4f3b8e-6a21-4d7f-9b55-3e1d2a8c7f90")
_PARAMS: Final = 900  # bound values per IN list: well under SQLite's limit

# Outcome -> the counter of calls that ended so.
OUTCOME_COUNTERS: Final[Mapping[str, str]] = {
    "answered": "calls_answered", "voicemail": "calls_voicemail",
    "no-answer": "calls_no_answer", "busy": "calls_busy", "failed": "calls_failed",
}
# (campaign id, how many) pairs of a claim, as a table for the LATERAL due scan.
_WANTED: Final = func.unnest(
    bindparam("cids", type_=postgresql.ARRAY(String)),
    bindparam("ns", type_=postgresql.ARRAY(Integer))).table_valued("cid", "n").render_derived(
    name="wanted")
_VARIABLE_COLUMNS: Final = ("first_name", "last_name", "email", "company", "job_title", "city",
                            "state", "country", "postal_code")


def _zones(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(z for z in text.split(",") if z)


class SqlDialerStore:
    """:class:`~ringwise.dialer.store.DialerStore` on a :class:`~ringwise.db.engine.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = db.dialect == "postgresql"
        self._snapshots_saved: set[str] = set()  # settings snapshots known to be stored

    # --- workers ---------------------------------------------------------------------------

    def heartbeat(self, worker_id: str, at: datetime) -> None:
        table = cast(Table, Worker.__table__)
        dialect_insert = postgresql.insert if self._pg else sqlite.insert
        stmt = dialect_insert(table).values(id=worker_id, started_at=at, heartbeat_at=at)
        stmt = stmt.on_conflict_do_update(index_elements=["id"],
                                          set_={"heartbeat_at": stmt.excluded.heartbeat_at})
        with self.db.transaction() as session:
            session.execute(stmt)

    # --- campaigns -------------------------------------------------------------------------

    def campaigns(self, statuses: Collection[str]) -> list[CampaignView]:
        query = (
            select(Campaign, CampaignCounters, Assistant.first_message,
                   Assistant.voicemail_message, Assistant.returning_greeting)
            .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
            .outerjoin(Assistant, Assistant.id == Campaign.assistant_id)
            .where(Campaign.status.in_(list(statuses)))
            .order_by(Campaign.id))
        with self.db.reading() as session:
            rows = session.execute(query).all()
        return [campaign_view(c, k, first, voicemail, returning)
                for c, k, first, voicemail, returning in rows]

    def workspaces(self, ids: Collection[str]) -> dict[str, WorkspaceView]:
        with self.db.reading() as session:
            rows = session.scalars(select(Workspace).where(Workspace.id.in_(list(ids)))).all()
        return {w.id: workspace_view(w) for w in rows}

    def numbers(self, workspace_id: str) -> list[NumberView]:
        with self.db.reading() as session:
            rows = session.scalars(
                select(PhoneNumber).where(PhoneNumber.workspace_id == workspace_id)
                .order_by(PhoneNumber.number, PhoneNumber.id)).all()
        return [number_view(n) for n in rows]

    def set_campaign_status(self, campaign_id: str, expect: str, status: str, at: datetime,
                            ended_reason: str | None = None) -> bool:
        values: dict[str, Any] = {"status": status}
        if status == "running":
            values["started_at"] = func.coalesce(Campaign.started_at, at)
        if status in ("completed", "canceled"):
            values["completed_at"] = at
            values["ended_reason"] = ended_reason
        with self.db.transaction() as session:
            row = session.execute(
                update(Campaign).where(Campaign.id == campaign_id, Campaign.status == expect)
                .values(**values).returning(Campaign.workspace_id)
                .execution_options(synchronize_session=False)).first()
            if row is None:
                return False
            outbox.emit(session.connection(), row.workspace_id, "campaign.status_changed",
                        {"campaign_id": campaign_id, "from": expect, "to": status,
                         "ended_reason": ended_reason}, at)
            return True

    def close_pending(self, campaign_id: str, outcome: str, reason: str, at: datetime) -> int:
        with self.db.transaction() as session:
            result = session.execute(
                update(CampaignContact)
                .where(CampaignContact.campaign_id == campaign_id,
                       CampaignContact.state == "pending")
                .values(state="skipped", outcome=outcome, ended_reason=reason,
                        next_eligible_at=None, window_end=None, updated_at=at)
                .execution_options(synchronize_session=False))
            closed = int(getattr(result, "rowcount", 0) or 0)
            if closed:
                _bump(session.connection(), campaign_id,
                      {"contacts_pending": -closed, "contacts_skipped": closed})
            return closed

    # --- scheduling ------------------------------------------------------------------------

    def unscheduled(self, campaign_id: str, limit: int) -> list[Target]:
        query = (target_query()
                 .where(CampaignContact.campaign_id == campaign_id,
                        CampaignContact.state == "pending",
                        CampaignContact.next_eligible_at.is_(None))
                 .order_by(CampaignContact.id).limit(limit))
        with self.db.reading() as session:
            return [target_of(row) for row in session.execute(query).mappings()]

    def save_schedule(self, changes: Sequence[ScheduleChange], at: datetime) -> None:
        if not changes:
            return
        with self.db.transaction() as session:
            conn = session.connection()
            _write_schedule(conn, changes, at)
            _write_audit(conn, None, (), changes, {}, at)

    def next_due(self, after: datetime) -> datetime | None:
        query = (select(func.min(CampaignContact.next_eligible_at))
                 .join(Campaign, Campaign.id == CampaignContact.campaign_id)
                 .where(Campaign.status == "running", CampaignContact.state == "pending",
                        CampaignContact.next_eligible_at > after))
        with self.db.reading() as session:
            value: datetime | None = session.scalar(query)
        return value

    # --- claiming --------------------------------------------------------------------------

    def claim(self, workspace_id: str, at: datetime, worker_id: str,
              decider: ClaimDecider) -> list[NewCall]:
        with self.db.transaction() as session:
            conn = session.connection()
            lock = select(Workspace).where(Workspace.id == workspace_id)
            if self._pg:
                lock = lock.with_for_update()
            workspace = session.scalars(lock).one_or_none()
            if workspace is None:
                return []
            rows = session.execute(
                select(Campaign, CampaignCounters, Assistant.first_message,
                       Assistant.voicemail_message, Assistant.returning_greeting)
                .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
                .outerjoin(Assistant, Assistant.id == Campaign.assistant_id)
                .where(Campaign.workspace_id == workspace_id, Campaign.status == "running")
                .order_by(Campaign.id)).all()
            in_flight = session.scalar(
                select(func.coalesce(func.sum(CampaignCounters.calls_in_progress), 0))
                .join(Campaign, Campaign.id == CampaignCounters.campaign_id)
                .where(Campaign.workspace_id == workspace_id)) or 0
            numbers = session.scalars(
                select(PhoneNumber).where(PhoneNumber.workspace_id == workspace_id)
                .order_by(PhoneNumber.number, PhoneNumber.id)).all()
            claim = ClaimInput(
                at=at, workspace=workspace_view(workspace),
                campaigns=tuple(campaign_view(c, k, f, v, r) for c, k, f, v, r in rows),
                workspace_in_flight=int(in_flight),
                numbers=tuple(number_view(n) for n in numbers))
            wanted = decider.wanted(claim)
            due = self._due(session, {c: n for c, n in wanted.items() if n > 0}, at)
            due = _with_dial_facts(session, workspace_id, due, at)
            due = _with_summaries(session, claim.campaigns, due)
            decision = decider.decide(claim, due)
            snapshots = self._snapshots(session, [c for c, *_ in rows], decision.calls, at)
            _write_claims(conn, decision.calls, workspace_id, worker_id, at, snapshots)
            if decision.calls:
                outbox.emit_many(conn, workspace_id, [
                    ("call.started", _started_data(call)) for call in decision.calls], at)
            _write_schedule(conn, decision.schedule, at)
            _write_audit(conn, workspace_id, decision.audit, decision.schedule, due, at)
            if decision.number_starts:
                numbers_table = cast(Table, PhoneNumber.__table__)
                conn.execute(
                    update(numbers_table).where(numbers_table.c.id == bindparam("b_id"))
                    .values(recent_starts=bindparam("b_starts")),
                    [{"b_id": number_id, "b_starts": [s.isoformat() for s in starts]}
                     for number_id, starts in decision.number_starts.items()])
        self._snapshots_saved.update(snapshots.values())  # committed
        return list(decision.calls)

    def _snapshots(self, session: Session, campaigns: Sequence[Campaign],
                   calls: Sequence[NewCall], at: datetime) -> dict[str, str]:
        """The settings snapshot of each campaign dialing in this claim (its id per campaign
        id), written once per campaign version: one read of the assistants and one insert
        for all the campaigns new to this process."""
        dialing = {c.campaign_id for c in calls}
        ids: dict[str, str] = {}
        new: list[Campaign] = []
        for campaign in campaigns:
            if campaign.id not in dialing:
                continue
            version = f"{campaign.id}@{campaign.updated_at.isoformat()}"
            ids[campaign.id] = uuid5_text(_SNAPSHOT_IDS, version)
            if ids[campaign.id] not in self._snapshots_saved:
                new.append(campaign)
        if not new:
            return ids
        wanted = {c.assistant_id for c in new if c.assistant_id}
        assistants = {a.id: a for a in session.scalars(
            select(Assistant).where(Assistant.id.in_(wanted)))} if wanted else {}
        rows = []
        for campaign in new:
            assistant = assistants.get(campaign.assistant_id or "")
            rows.append({"id": ids[campaign.id], "workspace_id": campaign.workspace_id,
                         "campaign_id": campaign.id, "captured_at": at,
                         "campaign": settings_snapshot(campaign),
                         "assistant": None if assistant is None
                         else assistant_snapshot(assistant)})
        stmt = (postgresql.insert if self._pg else sqlite.insert)(SNAPSHOTS).values(rows)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))
        return ids

    def _due(self, session: Session, wanted: Mapping[str, int],
             at: datetime) -> dict[str, list[Target]]:
        """Each campaign's first ``wanted`` due contacts by ``(due_at, id)``. PostgreSQL: one
        statement for all campaigns (a LATERAL scan per campaign, skipping locked rows);
        SQLite, in process, one indexed query per campaign."""
        due: dict[str, list[Target]] = {c: [] for c in wanted}
        if not wanted:
            return due
        if self._pg:
            inner = (target_query()
                     .where(CampaignContact.campaign_id == _WANTED.c.cid,
                            CampaignContact.state == "pending",
                            CampaignContact.next_eligible_at <= at)
                     .order_by(CampaignContact.next_eligible_at, CampaignContact.id)
                     .limit(_WANTED.c.n)
                     .with_for_update(skip_locked=True, of=CampaignContact)
                     .lateral("due"))
            query = select(inner).select_from(_WANTED.join(inner, true()))
            params = {"cids": list(wanted), "ns": list(wanted.values())}
            for row in session.execute(query, params).mappings():
                due[row["campaign_id"]].append(target_of(row))
            return due
        for campaign_id, count in wanted.items():
            query = (target_query()
                     .where(CampaignContact.campaign_id == campaign_id,
                            CampaignContact.state == "pending",
                            CampaignContact.next_eligible_at <= at)
                     .order_by(CampaignContact.next_eligible_at, CampaignContact.id)
                     .limit(count))
            due[campaign_id] = [target_of(row) for row in session.execute(query).mappings()]
        return due

    # --- calls -----------------------------------------------------------------------------

    def calls(self, call_ids: Collection[str]) -> dict[str, CallView]:
        ids = list(call_ids)
        found: dict[str, CallView] = {}
        with self.db.reading() as session:
            for start in range(0, len(ids), 500):
                query = _call_query().where(Call.id.in_(ids[start:start + 500]))
                for row in session.execute(query).mappings():
                    found[row["id"]] = _call_view(row)
        return found

    def save_calls(self, changes: Sequence[CallChange], ends: Sequence[AttemptEnd],
                   at: datetime) -> None:
        if not changes:
            return
        end_of = {end.target_id: end for end in ends}
        with self.db.transaction() as session:
            conn = session.connection()
            ongoing = [c for c in changes if not c.state.is_ended]
            if ongoing:
                conn.execute(
                    update(CALLS).where(CALLS.c.id == bindparam("b_id"),
                                        CALLS.c.status != "ended")
                    .values(_call_values(bindparams=True)),
                    [_call_params(c, at) for c in ongoing])
            deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            finished: list[AttemptEnd] = []
            ended: list[tuple[CallChange, Any]] = []
            for change in changes:
                if not change.state.is_ended:
                    continue
                row = conn.execute(
                    update(CALLS).where(CALLS.c.id == change.call_id, CALLS.c.status != "ended")
                    .values(**_call_dict(change, at))
                    .returning(CALLS.c.campaign_contact_id, CALLS.c.campaign_id,
                               CALLS.c.workspace_id, CALLS.c.contact_id, CALLS.c.attempt,
                               CALLS.c.started_at, CALLS.c.created_at)).first()
                if row is None:
                    continue  # already ended: the first ending stands
                ended.append((change, row))
                end = end_of.get(row.campaign_contact_id)
                if end is None:
                    raise ValueError(f"call {change.call_id} ended without an AttemptEnd")
                counts = deltas[row.campaign_id]
                counts["calls_in_progress"] -= 1
                counts["calls_ended"] += 1
                outcome_counter = OUTCOME_COUNTERS.get(change.state.outcome or "")
                if outcome_counter:
                    counts[outcome_counter] += 1
                counts["contacts_active"] -= 1
                if end.retry is not None:
                    counts["contacts_pending"] += 1
                else:
                    counts["contacts_done" if end.final_state == "done"
                           else "contacts_skipped"] += 1
                finished.append(end)
            _write_ends(conn, finished, at)
            for campaign_id, counts in deltas.items():
                _bump(conn, campaign_id, counts)
            _write_results(conn, ended, {e.target_id: e for e in finished}, at)

    def orphaned_calls(self, at: datetime, stale_before: datetime, worker_id: str,
                       limit: int, *, include_own: bool = False) -> list[CallView]:
        alive = select(Worker.id).where(Worker.heartbeat_at >= stale_before)
        if include_own:
            alive = alive.where(Worker.id != worker_id)
        query = (_call_query()
                 .where(Call.status != "ended",
                        or_(Call.lease_owner.is_(None), Call.lease_owner.not_in(alive)))
                 .order_by(Call.created_at, Call.id).limit(limit))
        with self.db.reading() as session:  # the usual answer is none: no write lock for it
            if session.execute(query.with_only_columns(Call.id)).first() is None:
                return []
        if self._pg:
            query = query.with_for_update(skip_locked=True, of=Call)
        with self.db.transaction() as session:
            rows = list(session.execute(query).mappings())
            if rows:
                session.execute(update(Call).where(Call.id.in_([r["id"] for r in rows]))
                                .values(lease_owner=worker_id)
                                .execution_options(synchronize_session=False))
        return [_call_view(row) for row in rows]


# --- row shapes (also used by the preflight route, which reads the same rows) -------------

def campaign_view(c: Campaign, k: CampaignCounters, first_message: str | None,
                   voicemail_message: str | None,
                   returning_greeting: str | None = None) -> CampaignView:
    return CampaignView(
        id=c.id, workspace_id=c.workspace_id, status=c.status, priority=c.priority,
        concurrency_limit=c.concurrency_limit, never_ending=c.never_ending, channel=c.channel,
        assistant_id=c.assistant_id, schedule=c.schedule or {}, retry=c.retry or {},
        caller_id=c.caller_id or {}, voicemail=c.voicemail or {},
        opening_message=c.opening_message, first_message=first_message,
        voicemail_message=voicemail_message, updated_at=c.updated_at, started_at=c.started_at,
        contacts_total=k.contacts_total, contacts_pending=k.contacts_pending,
        contacts_active=k.contacts_active, in_flight=k.calls_in_progress,
        telemarketing=c.telemarketing, regulation_f=c.regulation_f, memory=c.memory or {},
        returning_greeting=returning_greeting)


def workspace_view(w: Workspace) -> WorkspaceView:
    hours = tuple(w.business_hours) if w.business_hours else None
    return WorkspaceView(w.id, w.timezone, hours, w.concurrency_limit, w.concurrency_rate,
                         w.name, w.compliance, cost_per_minute(w.results))


def number_view(n: PhoneNumber) -> NumberView:
    starts = tuple(datetime.fromisoformat(s) for s in n.recent_starts or ())
    return NumberView(n.id, n.workspace_id, n.number, n.provider, n.country, n.region,
                      n.area_code, n.cps_limit, starts)


def template_variables(row: RowMapping) -> dict[str, Any]:
    """What a template may name: the contact's fields, ``custom_fields.<key>`` and
    ``metadata.<key>``: the contact's metadata, overlaid by its metadata in this campaign.
    (The custom fields are also given flat, as they always were.)"""
    custom = row["custom_fields"] or {}
    variables: dict[str, Any] = dict(custom)
    for name in _VARIABLE_COLUMNS:
        if row[name] is not None:
            variables[name] = row[name]
    variables["custom_fields"] = custom
    variables["metadata"] = {**(row["contact_metadata"] or {}),
                             **(row["campaign_metadata"] or {})}
    return variables


def target_query() -> Any:
    return (select(CampaignContact.id, CampaignContact.campaign_id, CampaignContact.contact_id,
                   Contact.phone, Contact.timezone.label("contact_timezone"),
                   CampaignContact.timezones, CampaignContact.attempts,
                   CampaignContact.next_eligible_at, CampaignContact.window_end,
                   CampaignContact.caller_number_id, CampaignContact.first_attempt_at,
                   Contact.custom_fields, Contact.consent_basis, Contact.registry_scrubbed_at,
                   Contact.metadata_.label("contact_metadata"),
                   CampaignContact.metadata_.label("campaign_metadata"),
                   *(getattr(Contact, name) for name in _VARIABLE_COLUMNS))
            .join(Contact, Contact.id == CampaignContact.contact_id))


def target_of(row: RowMapping) -> Target:
    variables = template_variables(row)
    return Target(
        id=row["id"], campaign_id=row["campaign_id"], contact_id=row["contact_id"],
        phone=row["phone"], contact_timezone=row["contact_timezone"],
        zones=_zones(row["timezones"]), attempts=row["attempts"],
        due_at=row["next_eligible_at"], window_end=row["window_end"],
        caller_number_id=row["caller_number_id"], first_attempt_at=row["first_attempt_at"],
        variables=variables, address_state=row["state"], address_country=row["country"],
        consent_basis=row["consent_basis"], registry_scrubbed_at=row["registry_scrubbed_at"])


def _call_query() -> Any:
    return (select(Call.id, Call.workspace_id, Call.campaign_id, Call.campaign_contact_id,
                   Call.attempt, Call.provider_call_id, Call.lease_owner, Call.status,
                   Call.outcome, Call.ended_reason, Call.answered_by, Call.started_at,
                   Call.ringing_at, Call.answered_at, Call.ended_at,
                   CampaignContact.first_attempt_at, CampaignContact.timezones,
                   Contact.phone, Contact.state.label("address_state"),
                   Contact.country.label("address_country"))
            .join(CampaignContact, CampaignContact.id == Call.campaign_contact_id)
            .join(Contact, Contact.id == CampaignContact.contact_id))


def _call_view(row: RowMapping) -> CallView:
    state = CallState(status=row["status"], outcome=row["outcome"],
                      ended_reason=row["ended_reason"], answered_by=row["answered_by"],
                      dialing_at=row["started_at"], ringing_at=row["ringing_at"],
                      answered_at=row["answered_at"], ended_at=row["ended_at"])
    return CallView(row["id"], row["workspace_id"], row["campaign_id"],
                    row["campaign_contact_id"], row["attempt"], row["provider_call_id"],
                    row["lease_owner"], state, row["first_attempt_at"],
                    _zones(row["timezones"]) or (), row["phone"], row["address_state"],
                    row["address_country"])


# --- writes ----------------------------------------------------------------------------------

_STATE_COLUMNS: Final = ("status", "outcome", "ended_reason", "answered_by", "started_at",
                         "ringing_at", "answered_at", "ended_at", "duration_seconds",
                         "updated_at")


def _call_dict(change: CallChange, at: datetime) -> dict[str, Any]:
    s = change.state
    duration = None
    if s.answered_at is not None and s.ended_at is not None:
        duration = round((s.ended_at - s.answered_at).total_seconds(), 3)
    values: dict[str, Any] = {
        "status": s.status, "outcome": s.outcome, "ended_reason": s.ended_reason,
        "answered_by": s.answered_by, "started_at": s.dialing_at, "ringing_at": s.ringing_at,
        "answered_at": s.answered_at, "ended_at": s.ended_at, "duration_seconds": duration,
        "updated_at": at}
    if change.provider_call_id is not None:
        values["provider_call_id"] = change.provider_call_id
    if change.transcript is not None:
        values["transcript"] = transcript_json(change.transcript)
    if change.cost is not None:
        values["cost"] = change.cost
    if s.is_ended and s.outcome == "answered":
        values["analysis_status"] = "pending"  # its job is written in the same transaction
    return values


def _call_values(*, bindparams: bool) -> dict[str, Any]:
    values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in _STATE_COLUMNS}
    values["provider_call_id"] = func.coalesce(bindparam("b_provider_call_id"),
                                               CALLS.c.provider_call_id)
    return values


def _call_params(change: CallChange, at: datetime) -> dict[str, Any]:
    values = _call_dict(change, at)
    params = {f"b_{name}": values[name] for name in _STATE_COLUMNS}
    params["b_provider_call_id"] = change.provider_call_id
    params["b_id"] = change.call_id
    return params


_CALL_COLUMNS: Final = (
    "id", "workspace_id", "campaign_id", "campaign_contact_id", "contact_id", "assistant_id",
    "phone_number_id", "attempt", "status", "from_number", "to_number", "provider",
    "lease_owner", "created_at", "updated_at", "started_at", "settings_id")


def cast_ids(ids: list[str]) -> Any:
    """A list of ids as one PostgreSQL array parameter (not one placeholder per id)."""
    return bindparam("ids", ids, type_=postgresql.ARRAY(String))


def _stored_instant(conn: Connection, at: datetime) -> Any:
    """``at`` as the UTCDateTime column stores it on this database (for driver-level rows)."""
    process = UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(at) if process is not None else at


def _copy_rows(conn: Connection, table: str, columns: Sequence[str],
               rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert through the driver, in the session's transaction: COPY on PostgreSQL, one
    executemany on SQLite. Compiling a multi-row INSERT in SQLAlchemy cost more than the
    database's work for a claim of 2,000 calls."""
    dbapi: Any = conn.connection.dbapi_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        dbapi.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _write_claims(conn: Connection, calls: Sequence[NewCall], workspace_id: str,
                  worker_id: str, at: datetime, snapshots: Mapping[str, str]) -> None:
    if not calls:
        return
    instant = _stored_instant(conn, at)
    rows = [
        (c.request.call_id, workspace_id, c.campaign_id, c.target_id, c.contact_id,
         c.assistant_id, c.phone_number_id, c.attempt, "dialing", c.request.from_number,
         c.request.to_number, c.provider, worker_id, instant, instant, instant,
         snapshots.get(c.campaign_id))
        for c in calls]
    _copy_rows(conn, "calls", _CALL_COLUMNS, rows)
    for start in range(0, len(calls), 1_000):
        chunk = [c.target_id for c in calls[start:start + 1_000]]
        # Claimed contacts were scheduled, so their zones are stored; attempt = attempts + 1.
        conn.execute(
            update(CC).where(CC.c.id == any_(cast_ids(chunk)) if conn.dialect.name == "postgresql"
                             else CC.c.id.in_(chunk))
            .values(state="active", attempts=CC.c.attempts + 1,
                    first_attempt_at=func.coalesce(CC.c.first_attempt_at, at),
                    last_attempt_at=at, next_eligible_at=None, window_end=None,
                    updated_at=at))
    per_campaign: dict[str, int] = defaultdict(int)
    for c in calls:
        per_campaign[c.campaign_id] += 1
    # One statement for every campaign of the claim (a pipeline on PostgreSQL).
    conn.execute(
        update(COUNTERS).where(COUNTERS.c.campaign_id == bindparam("b_id"))
        .values(contacts_pending=COUNTERS.c.contacts_pending - bindparam("b_n"),
                contacts_active=COUNTERS.c.contacts_active + bindparam("b_n"),
                calls_total=COUNTERS.c.calls_total + bindparam("b_n"),
                calls_in_progress=COUNTERS.c.calls_in_progress + bindparam("b_n")),
        [{"b_id": campaign_id, "b_n": count} for campaign_id, count in per_campaign.items()])


def _write_schedule(conn: Connection, changes: Sequence[ScheduleChange], at: datetime) -> None:
    scheduled = [c for c in changes if isinstance(c, Scheduled)]
    closed = [c for c in changes if isinstance(c, Closed)]
    if scheduled:
        conn.execute(
            update(CC).where(CC.c.id == bindparam("b_id"), CC.c.state == "pending")
            .values(next_eligible_at=bindparam("b_due"), window_end=bindparam("b_end"),
                    timezones=bindparam("b_zones"), updated_at=at),
            [{"b_id": c.target_id, "b_due": c.due_at, "b_end": c.window_end,
              "b_zones": ",".join(c.zones)} for c in scheduled])
    deltas: dict[str, int] = defaultdict(int)
    for change in closed:
        row = conn.execute(
            update(CC).where(CC.c.id == change.target_id, CC.c.state == "pending")
            .values(state="skipped", outcome=change.outcome, ended_reason=change.reason,
                    next_eligible_at=None, window_end=None, updated_at=at)
            .returning(CC.c.campaign_id)).first()
        if row is not None:
            deltas[row.campaign_id] += 1
    for campaign_id, count in deltas.items():
        _bump(conn, campaign_id, {"contacts_pending": -count, "contacts_skipped": count})


def _write_ends(conn: Connection, ends: Sequence[AttemptEnd], at: datetime) -> None:
    _write_opt_outs(conn, [e for e in ends if e.opt_out is not None], at)
    retries = [e for e in ends if e.retry is not None]
    finals = [e for e in ends if e.retry is None]
    if retries:
        conn.execute(
            update(CC).where(CC.c.id == bindparam("b_id"))
            .values(state="pending", outcome=bindparam("b_outcome"),
                    next_eligible_at=bindparam("b_due"), window_end=bindparam("b_end"),
                    timezones=bindparam("b_zones"), updated_at=at),
            [{"b_id": e.target_id, "b_outcome": e.outcome, "b_due": e.retry.due_at,
              "b_end": e.retry.window_end, "b_zones": ",".join(e.retry.zones)}
             for e in retries if e.retry is not None])
    if finals:
        conn.execute(
            update(CC).where(CC.c.id == bindparam("b_id"))
            .values(state=bindparam("b_state"), outcome=bindparam("b_outcome"),
                    ended_reason=bindparam("b_reason"), next_eligible_at=None,
                    window_end=None, updated_at=at),
            [{"b_id": e.target_id, "b_state": e.final_state, "b_outcome": e.outcome,
              "b_reason": e.reason} for e in finals])


def _bump(conn: Connection, campaign_id: str, deltas: Mapping[str, int]) -> None:
    values = {name: COUNTERS.c[name] + delta for name, delta in deltas.items() if delta}
    if values:
        conn.execute(update(COUNTERS).where(COUNTERS.c.campaign_id == campaign_id)
                     .values(values))



# --- compliance ------------------------------------------------------------------------------

def _with_dial_facts(session: Session, workspace_id: str, due: Mapping[str, list[Target]],
                     at: datetime) -> dict[str, list[Target]]:
    """The due contacts with what the compliance gate needs, read in the claim's
    transaction: the do-not-call entry matching each phone (the workspace's list, or the
    contact's campaign's suppression list) and the phone's recent calls in the workspace."""
    phones = list(dict.fromkeys(t.phone for targets in due.values() for t in targets))
    if not phones:
        return dict(due)
    patterns = {phone: candidate_patterns(phone) for phone in phones}
    wanted = list(dict.fromkeys(p for group in patterns.values() for p in group))
    listed: dict[str | None, set[str]] = defaultdict(set)  # campaign id (None: all) -> patterns
    campaign_ids = [c for c, targets in due.items() if targets]
    entries = select(DncEntry.campaign_id, DncEntry.pattern).where(
        DncEntry.workspace_id == workspace_id,
        or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id.in_(campaign_ids)))
    for chunk in _chunks(session, wanted):
        for row in session.execute(entries.where(DncEntry.pattern == any_(chunk))
                                   if isinstance(chunk, BindParameter)
                                   else entries.where(DncEntry.pattern.in_(chunk))):
            listed[row.campaign_id].add(row.pattern)
    calls: dict[str, list[datetime]] = defaultdict(list)
    talks: dict[str, list[datetime]] = defaultdict(list)
    busy: set[str] = set()
    history = select(Call.to_number, Call.created_at, Call.answered_at, Call.outcome,
                     Call.status).where(
        Call.workspace_id == workspace_id, Call.created_at > at - HISTORY_SPAN)
    for chunk in _chunks(session, phones):
        if isinstance(chunk, BindParameter):
            # Driven from the phones, one probe of (workspace, phone, created_at) each: with
            # "= ANY($1)" the planner's generic plan scans the workspace's recent calls.
            wanted_phones = func.unnest(chunk).table_valued("phone").render_derived(
                name="wanted_phones")
            query = history.join_from(wanted_phones, Call,
                                      Call.to_number == wanted_phones.c.phone)
        else:
            query = history.where(Call.to_number.in_(chunk))
        for phone, started, answered, outcome, status in session.execute(query):
            calls[phone].append(started)
            if status != "ended":
                busy.add(phone)
            if outcome == "answered" and answered is not None:
                talks[phone].append(answered)
    everywhere = listed.get(None, set())
    out: dict[str, list[Target]] = {}
    for campaign_id, targets in due.items():
        own = listed.get(campaign_id, set())
        facts: list[Target] = []
        for t in targets:
            dnc = next((p for p in patterns[t.phone] if p in everywhere or p in own), None) \
                if everywhere or own else None
            if dnc is None and t.phone not in calls:  # the usual case: nothing to add
                facts.append(t)
                continue
            facts.append(replace(t, dnc=dnc, recent_calls=tuple(sorted(calls.get(t.phone, ()))),
                                 conversations=tuple(sorted(talks.get(t.phone, ()))),
                                 on_a_call=t.phone in busy))
        out[campaign_id] = facts
    return out


def _chunks(session: Session, values: list[str]) -> list[Any]:
    """``values`` as one array parameter on PostgreSQL, else as IN lists SQLite accepts."""
    if session.get_bind().dialect.name == "postgresql":
        return [bindparam("values", values, type_=postgresql.ARRAY(String))]
    return [values[start:start + _PARAMS] for start in range(0, len(values), _PARAMS)]


def _write_audit(conn: Connection, workspace_id: str | None, records: Sequence[AuditRecord],
                 changes: Sequence[ScheduleChange], due: Mapping[str, Sequence[Target]],
                 at: datetime) -> None:
    """The compliance log: the decision's dials and deferrals, and every contact blocked
    (with the gate's record, or a bare one naming the reason)."""
    rows = list(records)
    bare = [c for c in changes if isinstance(c, Closed) and c.outcome == "blocked"]
    rows += [c.audit for c in bare if c.audit is not None]
    missing = [c for c in bare if c.audit is None]
    workspaces: dict[str, str] = {}
    if missing:
        query = (select(CampaignContact.id, CampaignContact.campaign_id, Contact.phone,
                        Contact.workspace_id)
                 .join(Contact, Contact.id == CampaignContact.contact_id)
                 .where(CampaignContact.id.in_([c.target_id for c in missing])))
        found = {row.id: row for row in conn.execute(query)}
        for change in missing:
            row = found.get(change.target_id)
            if row is not None:
                rows.append(AuditRecord(row.id, row.campaign_id, row.phone, at, "blocked",
                                        change.reason, "", ()))
                workspaces[row.campaign_id] = row.workspace_id
    if not rows:
        return
    # Through the driver (COPY on PostgreSQL): a claim logs as many decisions as it dials.
    instants: dict[datetime, Any] = {}
    _copy_rows(conn, "compliance_log", _LOG_COLUMNS, [
        (new_id(), workspace_id or workspaces[r.campaign_id], r.campaign_id, r.target_id,
         r.call_id, r.phone,
         instants.get(r.at) or instants.setdefault(r.at, _stored_instant(conn, r.at)),
         r.decision, r.reason, r.rules,
         json.dumps(dict(r.local_times), separators=(",", ":")))
        for r in rows])


_LOG_COLUMNS: Final = ("id", "workspace_id", "campaign_id", "campaign_contact_id", "call_id",
                       "phone", "at", "decision", "reason", "rules", "local_times")


def _write_opt_outs(conn: Connection, ends: Sequence[AttemptEnd], at: datetime) -> None:
    """Numbers that asked not to be called join the workspace's do-not-call list in the
    transaction that ends their call."""
    if not ends:
        return
    owners = dict(conn.execute(select(Campaign.id, Campaign.workspace_id).where(
        Campaign.id.in_({e.campaign_id for e in ends}))).all())
    for end in ends:
        workspace_id = owners.get(end.campaign_id)
        if workspace_id is None or end.opt_out is None:
            continue
        exists = conn.execute(select(DncEntry.id).where(
            DncEntry.workspace_id == workspace_id, DncEntry.campaign_id.is_(None),
            DncEntry.pattern == end.opt_out)).first()
        if exists is None:
            conn.execute(insert(DncEntry).values(
                id=new_id(), workspace_id=workspace_id, campaign_id=None,
                pattern=end.opt_out, kind="number", source="opt_out",
                reason="asked not to be called during a call", created_at=at))


# --- results ---------------------------------------------------------------------------------

def _started_data(call: NewCall) -> dict[str, Any]:
    return {"call_id": call.request.call_id, "campaign_id": call.campaign_id,
            "contact_id": call.contact_id, "attempt": call.attempt,
            "from_number": call.request.from_number, "to_number": call.request.to_number,
            "started_at": iso(call.request.placed_at)}


def _write_results(conn: Connection, ended: Sequence[tuple[CallChange, Any]],
                   finished: Mapping[str, AttemptEnd], at: datetime) -> None:
    """What follows a call's end, in the transaction that ends it: the hourly statistics,
    the analysis job of an answered call, and the events (call.ended, contact.opted_out)."""
    if not ended:
        return
    stats: list[EndedCall] = []
    jobs: list[dict[str, Any]] = []
    events: dict[str, list[tuple[outbox.EventType, Mapping[str, Any]]]] = defaultdict(list)
    for change, row in ended:
        state = change.state
        talk = talk_seconds(state)
        started = row.started_at or state.dialing_at or row.created_at
        if row.campaign_id is not None:
            stats.append(EndedCall(row.campaign_id, started, state.outcome or "failed", talk,
                                   change.cost or 0.0))
        if state.outcome == "answered":
            jobs.append({"call_id": change.call_id, "workspace_id": row.workspace_id,
                         "status": "pending", "attempts": 0, "next_attempt_at": at,
                         "created_at": at, "updated_at": at})
        events[row.workspace_id].append(("call.ended", {
            "call_id": change.call_id, "campaign_id": row.campaign_id,
            "contact_id": row.contact_id, "attempt": row.attempt, "status": state.status,
            "outcome": state.outcome, "ended_reason": state.ended_reason,
            "answered_by": state.answered_by, "started_at": iso(started),
            "answered_at": iso(state.answered_at), "ended_at": iso(state.ended_at),
            "duration_seconds": round(talk, 3) if state.answered_at else None,
            "cost": change.cost}))
        end = finished.get(row.campaign_contact_id)
        if end is not None and end.opt_out is not None:
            events[row.workspace_id].append(("contact.opted_out", {
                "phone": end.opt_out, "contact_id": row.contact_id,
                "campaign_id": row.campaign_id, "call_id": change.call_id,
                "source": "call"}))
    add_ended(conn, stats)
    if jobs:
        conn.execute(insert(JOBS), jobs)
    for workspace_id, workspace_events in events.items():
        outbox.emit_many(conn, workspace_id, workspace_events, at)


def _with_summaries(session: Session, campaigns: Sequence[CampaignView],
                    due: dict[str, list[Target]]) -> dict[str, list[Target]]:
    """For campaigns that give the agent short-term memory: each due contact's last call
    summaries, newest first (any campaign of the workspace)."""
    limits = {v.id: int(v.memory.get("short_term_summaries_limit") or DEFAULT_SUMMARIES)
              for v in campaigns if v.memory.get("use_short_term_summaries")}
    wanted = [t for cid in limits for t in due.get(cid, ())]
    if not wanted:
        return due
    contact_ids = list({t.contact_id for t in wanted})
    found: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(contact_ids), _PARAMS):
        rows = session.execute(
            select(Call.contact_id, Call.analysis)
            .where(Call.contact_id.in_(contact_ids[start:start + _PARAMS]),
                   Call.analysis_status == "done")
            .order_by(Call.contact_id, Call.ended_at.desc(), Call.id.desc()))
        for contact_id, analysis in rows:
            summary = (analysis or {}).get("summary")
            if summary and contact_id is not None:
                found[contact_id].append(str(summary))
    limit_of = max(limits.values())
    return {cid: [replace(t, summaries=tuple(found.get(t.contact_id, ())[:limit_of]))
                  if cid in limits and t.contact_id in found else t for t in targets]
            for cid, targets in due.items()}
