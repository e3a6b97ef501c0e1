"""The compliance log: every dial-time decision of the dialer (dialed, blocked, deferred), what
it was based on, and the rules behind it. Read-only here; the dialer writes the rows in the
transaction that makes the decision (``dialer.sql_store._write_audit``).

Rule keys are explained from the tables in ``core.compliance`` (title and legal source), so a
record shows the text of the rule as this version of Ringwise knows it. A key this version does
not know (a rule renamed or removed since the record was written) keeps its key, without a
title or source.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import and_, or_, select

from ringwise.core.compliance.rules_us import US_FEDERAL, US_STATE_RULES
from ringwise.core.compliance.rules_world import COUNTRY_RULES
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, ComplianceLog
from ringwise.dialer.compliance import REGULATION_F
from ringwise.services.calls import get_call
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate

WORKSPACE_SOURCE: Final = "workspace setting"
EXPORT_PAGE: Final = 1_000  # rows read per query (and sent per chunk) by the CSV export
CSV_COLUMNS: Final = ("at", "decision", "reason", "phone", "call_id", "campaign_contact_id",
                      "rules", "local_times")
_WORKSPACE_CAP: Final = re.compile(r"workspace-(\d+)")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule (or frequency cap) key with its title and source; both None when unknown."""

    key: str
    title: str | None = None
    source: str | None = None


def _rule_table() -> dict[str, RuleInfo]:
    table: dict[str, RuleInfo] = {}
    for rule in (US_FEDERAL, *US_STATE_RULES.values(), *COUNTRY_RULES.values()):
        table[rule.key] = RuleInfo(rule.key, rule.title, rule.source)
    # The workspace's own floors (dialer.compliance compiles them under these keys). Their
    # hours are whatever the settings said when the record was written: not repeated here.
    table["workspace-default"] = RuleInfo(
        "workspace-default",
        "Workspace default floor: calling hours where no built-in legal rule applies",
        WORKSPACE_SOURCE)
    table["workspace-stricter"] = RuleInfo(
        "workspace-stricter", "Workspace stricter floor: calling hours applied to every call",
        WORKSPACE_SOURCE)
    return table


def _cap_table() -> dict[str, RuleInfo]:
    table: dict[str, RuleInfo] = {}
    for rule in (US_FEDERAL, *US_STATE_RULES.values(), *COUNTRY_RULES.values()):
        for cap in rule.caps:
            table[cap.key] = RuleInfo(cap.key, cap.title, cap.source)
    regf = REGULATION_F
    table["regulation-f"] = RuleInfo(
        "regulation-f",
        f"Regulation F: at most {regf.max_calls} call attempts in {regf.window.days} days, "
        f"none within {regf.quiet_after_conversation.days} days after a conversation",
        "12 CFR 1006.14(b)(2)")
    return table


RULES: Final[Mapping[str, RuleInfo]] = _rule_table()
CAPS: Final[Mapping[str, RuleInfo]] = _cap_table()


def rule_keys(rules: str | None) -> list[str]:
    """The stored "us-federal+us-fl" as ["us-federal", "us-fl"] ([] when none were recorded:
    a contact blocked before its rules were worked out, like an unknown time zone)."""
    return [key for key in (rules or "").split("+") if key]


def rule_info(key: str) -> RuleInfo:
    return RULES.get(key) or RuleInfo(key)


def cap_info(reason: str | None) -> RuleInfo | None:
    """The frequency cap a ``cap:KEY`` reason names (None for any other reason)."""
    if reason is None or not reason.startswith("cap:"):
        return None
    key = reason.removeprefix("cap:")
    known = CAPS.get(key)
    if known is not None:
        return known
    workspace_cap = _WORKSPACE_CAP.fullmatch(key)
    if workspace_cap is not None:
        return RuleInfo(key, f"Workspace frequency cap #{int(workspace_cap.group(1)) + 1}",
                        WORKSPACE_SOURCE)
    return RuleInfo(key)


def local_times_of(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """zone -> callee-local ISO time, sorted by zone (the same order on every engine)."""
    times = stored or {}
    return {zone: str(times[zone]) for zone in sorted(times)}


# --- reading ---------------------------------------------------------------------------------

def call_records(ctx: Ctx, call_id: str) -> list[ComplianceLog]:
    """The compliance records of the workspace's call, oldest first; NotFound for an unknown
    call or another workspace's. A call placed before the log existed has none."""
    call = get_call(ctx, call_id)
    query = (select(ComplianceLog)
             .where(ComplianceLog.workspace_id == ctx.workspace_id,
                    ComplianceLog.call_id == call.id)
             .order_by(ComplianceLog.at, ComplianceLog.id))
    return list(ctx.session.scalars(query))


def owned_campaign(ctx: Ctx, campaign_id: str) -> Campaign:
    """The workspace's campaign, or NotFound naming ``campaign_id``."""
    return get_owned(ctx, Campaign, campaign_id, "campaign_id")


def campaign_records(ctx: Ctx, campaign_id: str, *, decision: str | None = None,
                     limit: int = 50, cursor: str | None = None) -> Page[ComplianceLog]:
    """A page of the campaign's compliance log, newest first (cursor over ``(at, id)``)."""
    campaign = owned_campaign(ctx, campaign_id)
    query = select(ComplianceLog).where(ComplianceLog.workspace_id == ctx.workspace_id,
                                        ComplianceLog.campaign_id == campaign.id)
    if decision is not None:
        query = query.where(ComplianceLog.decision == decision)
    return paginate(ctx.session, query, ComplianceLog.at, ComplianceLog.id, limit, cursor)


def export_csv(db: Database, workspace_id: str, campaign_id: str, *,
               decision: str | None = None, page_size: int = EXPORT_PAGE) -> Iterator[str]:
    """The campaign's log as CSV text, oldest first: the header, then one chunk per page of
    ``page_size`` rows. Each page is one short read transaction, continuing after the last
    row sent (keyset on ``(at, id)``), so memory stays flat and no transaction is held open
    while the client reads. Check the campaign is the workspace's before calling this."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quotes where needed, CRLF line ends

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield take()
    columns = (ComplianceLog.id, ComplianceLog.at, ComplianceLog.decision, ComplianceLog.reason,
               ComplianceLog.phone, ComplianceLog.call_id, ComplianceLog.campaign_contact_id,
               ComplianceLog.rules, ComplianceLog.local_times)
    base = select(*columns).where(ComplianceLog.workspace_id == workspace_id,
                                  ComplianceLog.campaign_id == campaign_id)
    if decision is not None:
        base = base.where(ComplianceLog.decision == decision)
    after: tuple[datetime, str] | None = None
    while True:
        query = base
        if after is not None:
            query = query.where(or_(ComplianceLog.at > after[0],
                                    and_(ComplianceLog.at == after[0],
                                         ComplianceLog.id > after[1])))
        query = query.order_by(ComplianceLog.at, ComplianceLog.id).limit(page_size)
        with db.reading() as session:
            rows = session.execute(query).all()
        # Every value is written by the dialer (E.164 numbers, fixed reasons, rule keys, zone
        # names): none can start a spreadsheet formula, so cells are written as they are.
        for row in rows:
            writer.writerow((
                utc_iso(row.at), row.decision, row.reason or "", row.phone, row.call_id or "",
                row.campaign_contact_id or "", row.rules or "",
                "; ".join(f"{zone}={time}"
                          for zone, time in local_times_of(row.local_times).items())))
        if rows:
            yield take()
        if len(rows) < page_size:
            return
        after = (rows[-1].at, rows[-1].id)


def utc_iso(instant: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z``: ``2026-03-02T15:00:00.000Z``."""
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"
