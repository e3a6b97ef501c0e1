"""Scheduled e-mail reports of a campaign: create, list, change, delete, send now, and the
campaign's own report (its ``report_schedule``) kept in step with the campaign.

Services flush but never commit (the route's transaction does). Sending is the results
worker's job (``results.reports.ReportRunner``); ``send_now`` runs the same logic at once.

A report's timing is in the campaign schedule's zone, else the workspace's. A report made from
the campaign's ``report_schedule`` (source ``campaign``) follows the campaign
(:func:`sync_campaign_report`): through this API only ``enabled`` changes on it, and it is
deleted by clearing the campaign's ``report_schedule``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringwise.api.errors import error_field
from ringwise.api.schemas.campaigns import ReportSchedule
from ringwise.api.schemas.reports import ReportUpdate
from ringwise.clock import Clock
from ringwise.core.report_schedule import ReportTiming, next_send_at
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, Report, ReportDelivery
from ringwise.errors import Conflict, InvalidInput, NotFound, RingwiseError
from ringwise.ids import is_uuid, new_id
from ringwise.results.reports import (
    NO_SMTP,
    RETRY_DELAY,
    ReportRunner,
    check_recipients,
    is_send_instant,
    new_worker_id,
    report_filters,
    report_zone,
)
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate

_TIMING: Final = frozenset({"frequency", "weekday", "day_of_month", "time"})
_NULLABLE: Final = frozenset({"weekday", "day_of_month"})


class EmailNotConfigured(Conflict):
    """Send-now without SMTP settings (409): the delivery is recorded as failed."""

    code = "email_not_configured"


class EmailFailed(RingwiseError):
    """Send-now whose e-mail the SMTP server did not take (502): recorded as failed."""

    status_code = 502
    code = "email_failed"


# --- checks ------------------------------------------------------------------------------------

def check_schedule(session: Session, campaign: Campaign, schedule: ReportSchedule,
                   prefix: str = "") -> ReportTiming:
    """What the schema cannot check alone: run ids of the campaign's schedule, filters the
    export knows, addresses the sender takes, a usable send time. InvalidInput naming the
    field (under ``prefix``, e.g. ``report_schedule.``). The report's timing."""
    known = {run.get("client_run_id") for run in (campaign.schedule or {}).get("runs") or ()}
    for index, run_id in enumerate(schedule.run_client_ids):
        if run_id not in known:
            field = f"{prefix}run_client_ids[{index}]"
            raise InvalidInput(f"{field}: '{run_id}' is not the client_run_id of any of the "
                               "campaign's schedule.runs", field=field)
    report_filters(schedule.filters, prefix)
    check_recipients(schedule.recipients, prefix)
    try:
        return ReportTiming.from_schedule(schedule.model_dump(mode="json"),
                                          report_zone(session, campaign))
    except ValueError as exc:
        raise InvalidInput(f"{prefix}time: {exc}", field=f"{prefix}time") from None


def _validated(data: dict[str, Any]) -> ReportSchedule:
    """A merged schedule (stored + PATCH) checked whole; a 422 naming the field."""
    try:
        return ReportSchedule.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = error_field(dict(error))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InvalidInput(f"{path}: {message}" if path else message, field=path) from None


def _leased(report: Report, at: datetime) -> bool:
    return report.lease_owner is not None and report.next_send_at is not None \
        and report.next_send_at > at


def _retime(report: Report, timing: ReportTiming, at: datetime) -> None:
    """Recompute next_send_at, unless a send is under way: the runner finishing it computes
    the next instant from the settings as they are then."""
    if not _leased(report, at):
        report.next_send_at = next_send_at(timing, at) if report.enabled else None


# --- CRUD --------------------------------------------------------------------------------------

def _campaign(ctx: Ctx, campaign_id: str) -> Campaign:
    return get_owned(ctx, Campaign, campaign_id, "campaign_id")


def zone_of(ctx: Ctx, report: Report) -> str:
    """The zone of the report's timing (its campaign is in the session already)."""
    campaign = ctx.session.get(Campaign, report.campaign_id)
    return report_zone(ctx.session, campaign) if campaign is not None else "UTC"


def create_report(ctx: Ctx, campaign_id: str, body: ReportSchedule) -> Report:
    campaign = _campaign(ctx, campaign_id)
    timing = check_schedule(ctx.session, campaign, body)
    report = Report(id=new_id(), workspace_id=ctx.workspace_id, campaign_id=campaign.id,
                    schedule=body.model_dump(mode="json"), source="api", enabled=True,
                    next_send_at=next_send_at(timing, ctx.now), created_at=ctx.now,
                    updated_at=ctx.now)
    ctx.session.add(report)
    ctx.session.flush()
    return report


def list_reports(ctx: Ctx, campaign_id: str, *, limit: int = 50,
                 cursor: str | None = None) -> tuple[str, Page[Report]]:
    """The reports, newest first, and the zone of their timing."""
    campaign = _campaign(ctx, campaign_id)
    query = select(Report).where(Report.workspace_id == ctx.workspace_id,
                                 Report.campaign_id == campaign.id)
    return report_zone(ctx.session, campaign), paginate(
        ctx.session, query, Report.created_at, Report.id, limit, cursor)


def get_report(ctx: Ctx, campaign_id: str, report_id: str, *,
               lock: bool = False) -> tuple[Campaign, Report]:
    """The campaign's report; NotFound naming campaign_id or report_id."""
    campaign = _campaign(ctx, campaign_id)
    report = None
    if is_uuid(report_id):
        query = select(Report).where(Report.id == report_id,
                                     Report.workspace_id == ctx.workspace_id,
                                     Report.campaign_id == campaign.id)
        if lock:  # FOR UPDATE on PostgreSQL (a runner finishing a send updates it too)
            query = query.with_for_update()
        report = ctx.session.scalars(query).first()
    if report is None:
        raise NotFound(f"report '{report_id}' not found", field="report_id")
    return campaign, report


def update_report(ctx: Ctx, campaign_id: str, report_id: str, body: ReportUpdate) -> Report:
    campaign, report = get_report(ctx, campaign_id, report_id, lock=True)
    sent = body.model_fields_set - {"enabled"}
    if report.source == "campaign" and sent:
        field = sorted(sent)[0]
        raise Conflict(f"{field}: this report is the campaign's report_schedule; change it "
                       "with PATCH /v1/campaigns/{id} (report_schedule), or only enable / "
                       "disable it here", code="managed_by_campaign", field=field)
    data = dict(report.schedule)
    for name in sorted(sent):
        value = getattr(body, name)
        if value is None and name not in _NULLABLE:
            raise InvalidInput(f"{name}: cannot be null", field=name)
        data[name] = value
    if "frequency" in sent:
        # Switching frequency: the day field of the old one goes, unless sent explicitly.
        if body.frequency != "weekly" and "weekday" not in sent:
            data.pop("weekday", None)
        if body.frequency != "monthly" and "day_of_month" not in sent:
            data.pop("day_of_month", None)
    schedule = _validated(data)
    timing = check_schedule(ctx.session, campaign, schedule)
    stored = schedule.model_dump(mode="json")
    retime = bool(sent & _TIMING) and any(
        stored.get(name) != report.schedule.get(name) for name in _TIMING)
    if "enabled" in body.model_fields_set:
        if body.enabled is None:
            raise InvalidInput("enabled: cannot be null", field="enabled")
        retime = retime or body.enabled != report.enabled
        report.enabled = body.enabled
    if stored != report.schedule or "enabled" in body.model_fields_set:
        report.schedule = stored
        report.updated_at = ctx.now
    if retime:
        _retime(report, timing, ctx.now)
    ctx.session.flush()
    return report


def delete_report(ctx: Ctx, campaign_id: str, report_id: str) -> None:
    _, report = get_report(ctx, campaign_id, report_id, lock=True)
    if report.source == "campaign":
        raise Conflict("this report is the campaign's report_schedule: set it to null with "
                       "PATCH /v1/campaigns/{id}, or disable it here with "
                       '{"enabled": false}', code="managed_by_campaign", field="report_id")
    ctx.session.delete(report)  # its deliveries go with it (ON DELETE CASCADE)
    ctx.session.flush()


def list_deliveries(ctx: Ctx, campaign_id: str, report_id: str, *, limit: int = 50,
                    cursor: str | None = None) -> Page[ReportDelivery]:
    """The delivery log, newest first."""
    _, report = get_report(ctx, campaign_id, report_id)
    query = select(ReportDelivery).where(ReportDelivery.workspace_id == ctx.workspace_id,
                                         ReportDelivery.report_id == report.id)
    return paginate(ctx.session, query, ReportDelivery.created_at, ReportDelivery.id, limit,
                    cursor)


def send_now(db: Database, clock: Clock, workspace_id: str, report_id: str) -> ReportDelivery:
    """Send the report at once through the runner's logic, in the runner's own
    transactions (the caller must hold no write transaction: on SQLite it would block
    them). The delivery when sent; a failure is recorded in the log and raised:
    EmailNotConfigured (409) without SMTP settings, EmailFailed (502) when the server
    did not take it, both with the delivery's id in ``details``."""
    runner = ReportRunner(db, clock, worker_id=new_worker_id())
    delivery = runner.send_now(report_id, workspace_id)
    if delivery.status == "sent":
        return delivery
    details = {"delivery_id": delivery.id, "status": delivery.status}
    if delivery.error == NO_SMTP:
        raise EmailNotConfigured(NO_SMTP, field="email", details=details)
    raise EmailFailed(f"the report was not sent: {delivery.error}", details=details)


# --- the campaign's own report -----------------------------------------------------------------

def sync_campaign_report(session: Session, campaign: Campaign, at: datetime) -> Report | None:
    """Make the campaign's source="campaign" report match its ``report_schedule``: created,
    updated (next_send_at recomputed when the timing changed) or deleted. Call it in the
    transaction that creates or changes the campaign, after the campaign row is flushed;
    InvalidInput naming ``report_schedule.<field>`` (a 422, the whole request rolls back).

    Also re-times the campaign's other reports whose next instant no longer falls on their
    timing (the schedule's timezone changed), except those due within the retry delay (a
    pending retry is left alone)."""
    existing = session.scalars(select(Report).where(
        Report.campaign_id == campaign.id, Report.source == "campaign")).first()
    wanted = campaign.report_schedule
    if wanted is None:
        if existing is not None:
            session.delete(existing)
        report = None
    else:
        try:
            schedule = _validated(dict(wanted))
        except InvalidInput as exc:  # stored by the campaign schema: not expected
            raise InvalidInput(f"report_schedule.{exc.message}",
                               field=f"report_schedule.{exc.field or ''}".rstrip(".")) \
                from None
        timing = check_schedule(session, campaign, schedule, "report_schedule.")
        stored = schedule.model_dump(mode="json")
        if existing is None:
            report = Report(id=new_id(), workspace_id=campaign.workspace_id,
                            campaign_id=campaign.id, schedule=stored, source="campaign",
                            enabled=True, next_send_at=next_send_at(timing, at),
                            created_at=at, updated_at=at)
            session.add(report)
        else:
            report = existing
            if stored != existing.schedule:
                timing_changed = any(stored.get(name) != existing.schedule.get(name)
                                     for name in _TIMING)
                existing.schedule = stored
                existing.updated_at = at
                if timing_changed:
                    _retime(existing, timing, at)
    session.flush()
    _retime_zone(session, campaign, at)
    return report


def _retime_zone(session: Session, campaign: Campaign, at: datetime) -> None:
    zone = report_zone(session, campaign)
    reports = session.scalars(select(Report).where(
        Report.campaign_id == campaign.id, Report.enabled.is_(True),
        Report.lease_owner.is_(None), Report.next_send_at > at + RETRY_DELAY)).all()
    for report in reports:
        try:
            timing = ReportTiming.from_schedule(report.schedule, zone)
        except ValueError:
            continue
        assert report.next_send_at is not None
        if not is_send_instant(timing, report.next_send_at):
            report.next_send_at = next_send_at(timing, at)
    session.flush()
