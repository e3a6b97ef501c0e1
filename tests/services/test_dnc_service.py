"""services.dnc for the dialer: listed_phones, record_opt_out; and the in-memory matcher
agreeing with the database lookup. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ringwise.api.schemas.dnc import DncEntryInput
from ringwise.clock import ManualClock
from ringwise.core.compliance.dnc import DncMatcher
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, DncEntry, Workspace
from ringwise.errors import InvalidInput, NotFound
from ringwise.ids import new_id
from ringwise.services import dnc
from ringwise.services.context import Ctx
from tests.conftest import make_workspace


def add_campaign(db: Database, clock: ManualClock, workspace_id: str) -> str:
    campaign_id = new_id()
    with db.transaction() as session:
        session.add(Campaign(
            id=campaign_id, workspace_id=workspace_id, name="C", status="draft",
            caller_id={"mode": "fixed", "phone_number_ids": []}, schedule={}, retry={},
            voicemail={}, memory={}, options={}, created_at=clock.now(),
            updated_at=clock.now()))
    return campaign_id


def add(db: Database, clock: ManualClock, workspace_id: str, campaign_id: str | None,
        *patterns: str) -> None:
    with db.transaction() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        ctx = Ctx(session=session, workspace=workspace, now=clock.now())
        result = dnc.add_entries(ctx, campaign_id, [DncEntryInput(pattern=p) for p in patterns])
        assert result.rejected == []


def count(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(DncEntry)) or 0)


def test_listed_phones_reads_the_workspace_and_the_given_campaigns(
        db: Database, clock: ManualClock, workspace: tuple[str, str]) -> None:
    ws = workspace[0]
    spring, autumn = add_campaign(db, clock, ws), add_campaign(db, clock, ws)
    add(db, clock, ws, None, "+12125550100", "646*")
    add(db, clock, ws, spring, "+13125550100", "212*")
    add(db, clock, ws, autumn, "+14155550100")
    other_ws, _ = make_workspace(db, clock, "Globex")
    foreign = add_campaign(db, clock, other_ws)
    add(db, clock, other_ws, None, "+17185550100")
    add(db, clock, other_ws, foreign, "+17185550101")
    phones = ["+12125550100", "+12125550199", "+16465550100", "+13125550100",
              "+14155550100", "+17185550100", "+17185550101", "+19175550100"]
    with db.reading() as session:
        assert dnc.listed_phones(session, ws, [], phones) == {
            "+12125550100": "+12125550100", "+16465550100": "+1646*"}
        assert dnc.listed_phones(session, ws, [spring], phones) == {
            "+12125550100": "+12125550100", "+12125550199": "+1212*",
            "+16465550100": "+1646*", "+13125550100": "+13125550100"}
        assert dnc.listed_phones(session, ws, [spring, autumn], phones)["+14155550100"] == \
            "+14155550100"
        # another workspace's campaign id matches nothing: every lookup is workspace-scoped
        assert "+17185550101" not in dnc.listed_phones(session, ws, [foreign], phones)
        assert dnc.listed_phones(session, other_ws, [foreign], phones) == {
            "+17185550100": "+17185550100", "+17185550101": "+17185550101"}
        assert dnc.listed_phones(session, ws, [spring], []) == {}
        with pytest.raises(ValueError, match=r"E\.164"):
            dnc.listed_phones(session, ws, [], ["2125550100"])


def test_listed_phones_batches_many_numbers(db: Database, clock: ManualClock,
                                            workspace: tuple[str, str]) -> None:
    ws = workspace[0]
    add(db, clock, ws, None, "+12125550000", "+12125557999", "646*")
    phones = [f"+1212555{i:04d}" for i in range(8_000)] + ["+16465550100"]
    with db.reading() as session:
        campaign_ids = [new_id() for _ in range(50)]
        assert dnc.listed_phones(session, ws, campaign_ids, phones) == {
            "+12125550000": "+12125550000", "+12125557999": "+12125557999",
            "+16465550100": "+1646*"}


def test_record_opt_out(db: Database, clock: ManualClock, workspace: tuple[str, str]) -> None:
    ws = workspace[0]
    campaign = add_campaign(db, clock, ws)
    with db.transaction() as session:
        listed = dnc.record_opt_out(session, ws, "+1 212 555 0100", campaign_id=campaign,
                                    at=clock.now())
        assert listed.created
        entry = listed.entry
        assert (entry.pattern, entry.kind, entry.source, entry.campaign_id) == (
            "+12125550100", "number", "opt_out", None)
        assert entry.reason == f"opted out during campaign {campaign}"
    with db.transaction() as session:
        again = dnc.record_opt_out(session, ws, "+12125550100", source="call",
                                   reason="said stop", at=clock.now() + timedelta(hours=1))
        assert not again.created and again.entry.id == entry.id
        assert again.entry.source == "opt_out"  # the first record stands
        # on the workspace's list: every campaign honours it at once
        assert dnc.listed_phones(session, ws, [], ["+12125550100"]) == {
            "+12125550100": "+12125550100"}
    assert count(db) == 1


def test_record_opt_out_errors(db: Database, clock: ManualClock,
                               workspace: tuple[str, str]) -> None:
    ws = workspace[0]
    other_ws, _ = make_workspace(db, clock, "Globex")
    foreign = add_campaign(db, clock, other_ws)
    with db.transaction() as session:
        with pytest.raises(NotFound) as caught:
            dnc.record_opt_out(session, ws, "+12125550100", campaign_id=foreign,
                               at=clock.now())
        assert caught.value.field == "campaign_id"
        with pytest.raises(NotFound) as caught:
            dnc.record_opt_out(session, new_id(), "+12125550100", at=clock.now())
        assert caught.value.field == "workspace_id"
        with pytest.raises(InvalidInput) as invalid:
            dnc.record_opt_out(session, ws, "555", at=clock.now())
        assert invalid.value.field == "phone"
        with pytest.raises(InvalidInput) as invalid:
            dnc.record_opt_out(session, ws, "+12125550100", source="email", at=clock.now())
        assert invalid.value.field == "source"
    assert count(db) == 0


def test_the_partial_unique_indexes(db: Database, clock: ManualClock,
                                    workspace: tuple[str, str]) -> None:
    """One pattern once per list, whatever the writer (the workspace list's NULL campaign
    included)."""
    from sqlalchemy.exc import IntegrityError

    ws = workspace[0]
    campaign = add_campaign(db, clock, ws)

    def insert(campaign_id: str | None) -> None:
        with db.transaction() as session:
            session.add(DncEntry(id=new_id(), workspace_id=ws, campaign_id=campaign_id,
                                 pattern="+12125550100", kind="number", source="api",
                                 created_at=clock.now()))

    insert(None)
    insert(campaign)
    for campaign_id in (None, campaign):
        with pytest.raises(IntegrityError):
            insert(campaign_id)
    assert count(db) == 2
    with db.transaction() as session:  # a campaign's list goes with the campaign
        session.delete(session.get(Campaign, campaign))
    assert count(db) == 1


def test_service_import_streams_batches(db: Database, clock: ManualClock,
                                        workspace: tuple[str, str]) -> None:
    data = "phone,reason\n" + "".join(f"+1212555{i:04d},r{i}\n" for i in range(25))
    with db.transaction() as session:
        ws = session.get(Workspace, workspace[0])
        assert ws is not None
        ctx = Ctx(session=session, workspace=ws, now=clock.now())
        report = dnc.import_csv(ctx, None, io.BytesIO(data.encode()), batch_size=7)
    assert (report.rows, report.added, report.rejected) == (25, 25, 0)
    assert count(db) == 25


numbers = st.builds(lambda a, n: f"+1{a}555{n:04d}", st.sampled_from(["212", "646", "312"]),
                    st.integers(0, 30))
patterns = st.one_of(numbers, st.sampled_from(["212*", "646*", "+1312*"]))


def test_matcher_agrees_with_the_database(db: Database, clock: ManualClock,
                                          workspace: tuple[str, str]) -> None:
    """The simulator's DncMatcher and the dialer's listed_phones give the same answers."""
    ws = workspace[0]

    @settings(max_examples=15, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(patterns, max_size=6, unique=True), st.lists(numbers, max_size=8))
    def check(listed: list[str], phones: list[str]) -> None:
        with db.transaction() as session:
            session.execute(DncEntry.__table__.delete())
            workspace_row = session.get(Workspace, ws)
            assert workspace_row is not None
            ctx = Ctx(session=session, workspace=workspace_row, now=clock.now())
            if listed:
                dnc.add_entries(ctx, None, [DncEntryInput(pattern=p) for p in listed])
            found = dnc.listed_phones(session, ws, [], phones)
        matcher = DncMatcher(listed)
        assert found == {p: m for p in phones if (m := matcher.match(p)) is not None}

    check()
