"""One behaviour for every store: the same seeded campaign gives the same call log on the
in-memory store (the simulator's), SQLite and PostgreSQL.

Method names matching proves nothing; this runs the real dialer on each adapter and compares
every call (id, numbers, attempt, instants, outcome, reason) and every contact's final state.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import (
    Call,
    Campaign,
    CampaignContact,
    CampaignCounters,
    ComplianceLog,
    Contact,
    DncEntry,
    PhoneNumber,
    Workspace,
)
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import MemoryDialerStore
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.dialer.store import DialerStore
from ringwise.telephony.simulated import SimulatedCarrier
from tests.dialer.test_dialer_properties import HORIZON, World, build, worlds


def load_sql(db: Database, memory: MemoryDialerStore, at: datetime) -> None:
    """Copy the (not yet run) memory store's world into the SQL tables, ids unchanged."""
    campaigns = memory.campaigns(["running"])
    with db.transaction() as session:
        for workspace in memory.workspaces({c.workspace_id for c in campaigns}).values():
            session.add(Workspace(id=workspace.id, name="Acme", timezone=workspace.timezone,
                                  default_region="US", business_hours=None,
                                  concurrency_limit=workspace.concurrency_limit,
                                  concurrency_rate=workspace.concurrency_rate,
                                  campaigns_enabled=True, created_at=at, updated_at=at))
            session.flush()
            for number in memory.numbers(workspace.id):
                session.add(PhoneNumber(id=number.id, workspace_id=workspace.id,
                                        number=number.e164, provider=number.provider,
                                        cps_limit=number.cps_limit, country=number.country,
                                        region=number.region, area_code=number.area_code,
                                        created_at=at, updated_at=at))
        session.flush()
        contacts: dict[str, str] = {}
        for view in campaigns:
            session.add(Campaign(
                id=view.id, workspace_id=view.workspace_id, name=view.id, status=view.status,
                priority=view.priority, concurrency_limit=view.concurrency_limit,
                never_ending=view.never_ending, opening_message=view.opening_message,
                caller_id=dict(view.caller_id), schedule=dict(view.schedule),
                retry=dict(view.retry), voicemail=dict(view.voicemail), memory={},
                options={}, created_at=at, updated_at=view.updated_at,
                started_at=view.started_at))
            rows = memory.contact_rows(view.id)
            session.add(CampaignCounters(campaign_id=view.id, contacts_total=len(rows),
                                         contacts_pending=len(rows)))
            session.flush()
            for row in rows:
                if row.contact_id not in contacts:
                    contacts[row.contact_id] = row.phone
                    session.add(Contact(id=row.contact_id, workspace_id=row.workspace_id,
                                        phone=row.phone, timezone=row.contact_timezone,
                                        first_name=row.contact_id, created_at=at,
                                        updated_at=at))
                    session.flush()
                session.add(CampaignContact(id=row.id, workspace_id=row.workspace_id,
                                            campaign_id=view.id, contact_id=row.contact_id,
                                            state="pending", attempts=0, created_at=at,
                                            updated_at=at))
        session.flush()


def run_on(store: DialerStore, world: World, done_ids: list[str]) -> None:
    clock = ManualClock(world.base)
    carrier = SimulatedCarrier(seed=world.seed)
    dialer = Dialer(store, carrier, clock, worker_id="w")

    def finished() -> bool:
        return not store.campaigns(["running", "scheduled"])

    drive(dialer, clock, carrier, until=world.base + HORIZON, done=finished)
    done_ids.extend(c.id for c in store.campaigns(["completed"]))


def sql_log(db: Database) -> list[tuple[object, ...]]:
    with db.reading() as session:
        calls = session.scalars(select(Call).order_by(Call.created_at, Call.id)).all()
        return [(c.id, c.from_number, c.to_number, c.attempt, c.status, c.outcome,
                 c.ended_reason, c.answered_by, c.started_at, c.ringing_at, c.answered_at,
                 c.ended_at) for c in calls]


def memory_log(store: MemoryDialerStore) -> list[tuple[object, ...]]:
    return [(c.id, c.from_number, c.to_number, c.attempt, c.state.status, c.state.outcome,
             c.state.ended_reason, c.state.answered_by, c.state.dialing_at,
             c.state.ringing_at, c.state.answered_at, c.state.ended_at)
            for c in store.call_rows()]


@pytest.mark.parametrize("seed", [3])
def test_memory_and_sql_stores_give_the_same_call_log(db: Database, seed: int) -> None:
    @settings(max_examples=2, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(worlds())
    def check(world: World) -> None:
        world = World(world.base, world.workspace_limit, world.rate, world.cps,
                      world.contacts, world.campaigns, seed)
        memory, _, _ = build(world)
        _reset(db)
        load_sql(db, memory, world.base - timedelta(hours=1))
        memory_done: list[str] = []
        sql_done: list[str] = []
        run_on(memory, world, memory_done)
        run_on(SqlDialerStore(db), world, sql_done)
        assert sql_log(db) == memory_log(memory)
        assert sorted(sql_done) == sorted(memory_done)
        with db.reading() as session:  # the same compliance log, decision for decision
            stored_log = sorted(
                (r.campaign_contact_id, r.call_id or "", r.decision, r.reason or "", r.rules,
                 r.at, tuple(sorted(r.local_times.items())))
                for r in session.scalars(select(ComplianceLog)))
        assert stored_log == sorted(
            (r.target_id, r.call_id or "", r.decision, r.reason or "", r.rules, r.at,
             tuple(sorted(r.local_times))) for r in memory.audit_rows())
        with db.reading() as session:
            for view in memory.campaigns(["completed", "running", "scheduled"]):
                stored = {r.id: (r.state, r.outcome, r.attempts, r.ended_reason)
                          for r in session.scalars(select(CampaignContact).where(
                              CampaignContact.campaign_id == view.id))}
                assert stored == {r.id: (r.state, r.outcome, r.attempts, r.ended_reason)
                                  for r in memory.contact_rows(view.id)}

    check()


def _reset(db: Database) -> None:
    with db.transaction() as session:
        for model in (ComplianceLog, DncEntry, Call, CampaignContact, CampaignCounters,
                      Campaign, Contact, PhoneNumber, Workspace):
            session.query(model).delete()

