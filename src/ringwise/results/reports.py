"""Scheduled e-mail reports: claim a due report, build its CSV, send it, log the delivery.

A report (``db.models.Report``) holds a validated ``ReportSchedule``; its time zone is the
campaign schedule's, else the workspace's (:func:`report_zone`). :class:`ReportRunner` is a
results-worker runner (``run_due`` / ``next_due``), and its :meth:`ReportRunner.send_now`
serves ``POST /v1/campaigns/{id}/reports/{report_id}/send-now``.

Claiming follows ``analysis_jobs``: a short transaction pushes ``next_send_at`` one lease
ahead and records the ``lease_owner`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's
write transactions are serialised), so two runners never send the same report; the CSV is
built and the e-mail sent with no transaction open; a new transaction records the
:class:`~ringwise.db.models.ReportDelivery`, the ``report.sent`` event (when sent) and the
next send instant. A runner that dies mid-send leaves the lease to run out, and the report
is taken again.

The lease hides the period being sent, so a claim works it out from the delivery log:

* the last scheduled delivery failed and ``next_send_at`` is still before the send instant
  that follows its period: a retry of that period (:data:`RETRY_DELAY` after a retryable
  failure, up to :data:`MAX_TRIES` tries in all);
* otherwise the latest send instant at or before now, unless the log already has it (or,
  after a lease ran out, it precedes the report's last change, ``updated_at``): a worker
  that was down for a week sends one report, for the latest period, not seven.

Every try is logged as its own delivery (``failed`` ones say whether another try follows).
A non-retryable failure, or the last try, moves on to the next period. A workspace without
SMTP settings fails at once with :data:`NO_SMTP` (not retryable: nothing changes by itself).

What a report covers: ``report_range(date_range, zone, at, campaign.started_at)`` as of its
scheduled instant (``send_now``: as of now). With ``run_client_ids`` that range is
intersected with each named run's dates (``results.stats.run_range``); the pieces are merged
into disjoint intervals, oldest first, and the CSV is the export of each interval
(``results.export.iter_csv``) one after the other under a single header, so the rows stay
oldest first and no call appears twice. The delivery's ``range_start`` / ``range_end`` are
then the hull of the pieces (calls in the gaps between runs are not in the file). A run id
no longer in the campaign's schedule covers nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Final, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringwise.clock import Clock
from ringwise.core.report_schedule import (
    ReportTiming,
    next_send_at,
    report_period_label,
    report_range,
)
from ringwise.db.engine import Database
from ringwise.db.models import Campaign, Report, ReportDelivery, Workspace
from ringwise.errors import Conflict, InvalidInput, NotFound, RingwiseError
from ringwise.ids import is_uuid, new_id
from ringwise.notify.email import (
    NO_SMTP,
    Attachment,
    EmailError,
    SendReceipt,
    SmtpSettings,
    build_message,
    send_email,
    smtp_settings,
)
from ringwise.results import export, outbox
from ringwise.results.records import iso
from ringwise.results.stats import run_range

log = logging.getLogger("ringwise.reports")

LEASE: Final = timedelta(minutes=5)
RETRY_DELAY: Final = timedelta(minutes=5)
MAX_TRIES: Final = 3  # per period, the first one included
# ReportSchedule.filters keys: the export's call filters. The period comes from date_range,
# so created_after / created_before are not filters here.
REPORT_FILTERS: Final = ("status", "outcome", "analysis_status", "contact_id")
_MAX_PERIOD: Final = timedelta(days=32)  # no timing goes longer without a send instant
_PROBE_DATE: Final = datetime(2026, 1, 1, tzinfo=UTC)  # a Date header for address checks

Trigger = Literal["schedule", "send_now"]
Interval = tuple[datetime | None, datetime]
SendFn = Callable[[SmtpSettings, EmailMessage], SendReceipt]


# --- rules shared with the API (services.reports) ----------------------------------------------

def report_zone(session: Session, campaign: Campaign) -> str:
    """The campaign schedule's zone, else the workspace's (``stats_zone``'s rule)."""
    zone = (campaign.schedule or {}).get("timezone")
    if zone:
        return str(zone)
    workspace = session.get(Workspace, campaign.workspace_id)
    return workspace.timezone if workspace is not None else "UTC"


def report_filters(filters: Mapping[str, Any], prefix: str = "") -> export.ExportFilters:
    """A schedule's ``filters`` as export filters; InvalidInput naming ``filters.<key>``."""
    values: dict[str, str] = {}
    for key, value in filters.items():
        field = f"{prefix}filters.{key}"
        if key not in REPORT_FILTERS:
            hint = (" (the report's date_range sets the period)"
                    if key in ("created_after", "created_before") else "")
            raise InvalidInput(f"{field}: unknown filter{hint}; the filters are "
                               f"{', '.join(REPORT_FILTERS)}", field=field)
        if not isinstance(value, str):
            raise InvalidInput(f"{field}: must be a string", field=field)
        values[key] = value
    filters_ = export.ExportFilters(
        status=values.get("status"), outcome=values.get("outcome"),
        analysis_status=values.get("analysis_status"), contact_id=values.get("contact_id"))
    try:
        filters_.validate()
    except InvalidInput as exc:
        field = f"{prefix}filters.{exc.field}" if exc.field else f"{prefix}filters"
        raise InvalidInput(f"{prefix}filters.{exc.message}", field=field) from None
    return filters_


def check_recipients(recipients: Sequence[str], prefix: str = "") -> None:
    """Refuse addresses the sender would refuse (the same parser, without sending)."""
    probe = SmtpSettings(host="localhost", from_address="reports@ringwise.invalid")
    for index, address in enumerate(recipients):
        try:
            build_message(probe, [address], "-", "-", now=_PROBE_DATE)
        except ValueError as exc:
            field = f"{prefix}recipients[{index}]"
            message = str(exc).replace("to[0] ", "")
            raise InvalidInput(f"{field}: {message}", field=field) from None


def is_send_instant(timing: ReportTiming, instant: datetime) -> bool:
    return next_send_at(timing, instant - timedelta(microseconds=1)) == instant


def latest_send(timing: ReportTiming, at: datetime) -> datetime | None:
    """The last send instant at or before ``at`` (None if none in the last 32 days)."""
    instant = next_send_at(timing, at - _MAX_PERIOD)
    if instant > at:
        return None
    while (following := next_send_at(timing, instant)) <= at:
        instant = following
    return instant


def covered_intervals(start: datetime | None, end: datetime,
                      runs: Iterable[Mapping[str, Any]], run_client_ids: Sequence[str],
                      zone: str) -> list[Interval]:
    """``[start, end)``, or its intersection with the named runs' dates as disjoint
    intervals, oldest first (empty when nothing is covered)."""
    if not run_client_ids:
        return [(start, end)] if start is None or start < end else []
    wanted = set(run_client_ids)
    pieces: list[tuple[datetime, datetime]] = []
    for run in runs:
        if run.get("client_run_id") not in wanted:
            continue
        run_start, run_end = run_range(run, zone)
        low = run_start if start is None else max(start, run_start)
        high = min(end, run_end)
        if low < high:
            pieces.append((low, high))
    pieces.sort()
    merged: list[Interval] = []
    for low, high in pieces:
        if merged and low <= merged[-1][1]:  # overlapping or adjacent runs: one interval
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def slug(text: str, fallback: str = "campaign") -> str:
    """"Spring renewals (2026)" -> "spring-renewals-2026": safe in a file name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return cleaned[:60].rstrip("-") or fallback


# --- the work ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Job:
    """One sending, with everything read in the claim's transaction."""

    report_id: str
    workspace_id: str
    campaign_id: str
    campaign_name: str
    campaign_started_at: datetime | None
    runs: tuple[Mapping[str, Any], ...]
    schedule: Mapping[str, Any]
    zone: str
    smtp: Mapping[str, Any] | None
    trigger: Trigger
    at: datetime  # the instant the report is "as of": its scheduled instant, or now
    scheduled_for: datetime | None
    attempt: int
    owner: str
    # send_now: the report's next_send_at and updated_at before its lease, to restore.
    restore: tuple[datetime | None, datetime] | None = None


@dataclass(frozen=True, slots=True)
class _Built:
    content: bytes
    rows: int
    range_start: datetime | None
    range_end: datetime
    label: str
    filename: str
    subject: str
    text: str


@dataclass(slots=True)
class _Totals:
    calls: int = 0
    connected: int = 0
    voicemail: int = 0
    success: int = 0
    sentiment_sum: float = 0.0
    analyzed: int = 0


def _totals(content: bytes) -> _Totals:
    """The body's totals, read back from the CSV rows that go out (so they always agree)."""
    totals = _Totals()
    for row in csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")):
        totals.calls += 1
        totals.connected += row.get("outcome") == "answered"
        totals.voicemail += row.get("outcome") == "voicemail"
        totals.success += row.get("success") == "true"
        if row.get("sentiment"):
            try:
                totals.sentiment_sum += float(row["sentiment"])
                totals.analyzed += 1
            except ValueError:
                pass
    return totals


class ReportRunner:
    """Sends due reports. ``send`` delivers one message (tests may replace it)."""

    def __init__(self, db: Database, clock: Clock, *, worker_id: str,
                 send: SendFn = send_email, lease: timedelta = LEASE) -> None:
        if lease <= timedelta(0):
            raise ValueError("lease must be positive")
        self.db = db
        self.clock = clock
        self.worker_id = worker_id
        self.send = send
        self.lease = lease
        self._pg = db.dialect == "postgresql"

    # -- Runner protocol ---------------------------------------------------------------------

    def run_due(self, limit: int = 10) -> int:
        """Send up to ``limit`` due reports, one claim each (a lease per report: a slow SMTP
        server cannot make the last of a batch outlive its lease); how many were tried."""
        done = 0
        while done < limit:
            job = self._claim()
            if job is None:
                break
            self._process(job)
            done += 1
        return done

    def next_due(self) -> datetime | None:
        with self.db.reading() as session:
            value: datetime | None = session.scalar(
                select(Report.next_send_at).where(Report.enabled.is_(True),
                                                  Report.next_send_at.is_not(None))
                .order_by(Report.next_send_at).limit(1))
        return value

    # -- send now ----------------------------------------------------------------------------

    def send_now(self, report_id: str, workspace_id: str) -> ReportDelivery:
        """Send the report now, covering its range as of now, in one try; the delivery
        (``failed`` with the error when the e-mail could not be sent). NotFound for another
        workspace's report; Conflict (``report_busy``) while a runner is sending it. The
        schedule is unchanged."""
        at = self.clock.now()
        owner = self.worker_id
        with self.db.transaction() as session:
            query = select(Report).where(Report.id == report_id,
                                         Report.workspace_id == workspace_id)
            if self._pg:
                query = query.with_for_update()
            report = session.scalars(query).first() if is_uuid(report_id) else None
            if report is None:
                raise NotFound(f"report '{report_id}' not found", field="report_id")
            if _leased(report, at):
                raise Conflict("the report is being sent right now; try again in a few "
                               "minutes", code="report_busy", field="report_id")
            job = self._job(session, report, at, "send_now", None, 1, owner,
                            restore=(report.next_send_at, report.updated_at))
            if job is None:
                raise NotFound(f"report '{report_id}' not found", field="report_id")
            # Hold the lease like a runner: the scheduler leaves the report alone meanwhile.
            report.lease_owner = owner
            report.next_send_at = at + self.lease
        delivery = self._process(job)
        if delivery is None:  # deleted while it was being sent
            raise NotFound(f"report '{report_id}' not found", field="report_id")
        return delivery

    # -- claiming ----------------------------------------------------------------------------

    def _claim(self) -> _Job | None:
        at = self.clock.now()
        query = (select(Report).where(Report.enabled.is_(True), Report.next_send_at <= at)
                 .order_by(Report.next_send_at, Report.id).limit(1))
        if self._pg:
            query = query.with_for_update(skip_locked=True)
        with self.db.transaction() as session:
            # Reports found to have nothing due are re-timed and the next one is looked at.
            for _ in range(100):
                report = session.scalars(query).first()
                if report is None:
                    return None
                job = self._plan(session, report, at)
                if job is not None:
                    report.lease_owner = self.worker_id
                    report.next_send_at = at + self.lease
                    return job
        return None

    def _plan(self, session: Session, report: Report, at: datetime) -> _Job | None:
        """The period a due report sends now; None (and the report re-timed) if none."""
        campaign = session.get(Campaign, report.campaign_id)
        if campaign is None:
            report.next_send_at = None
            return None
        zone = report_zone(session, campaign)
        try:
            timing = ReportTiming.from_schedule(report.schedule, zone)
        except ValueError as exc:
            log.warning("report %s has an unusable schedule (%s); not sending it",
                        report.id, exc)
            report.next_send_at = None
            report.lease_owner = None
            return None
        due = report.next_send_at
        if due is None:  # not due (the claim's query only finds set ones)
            return None
        last = session.scalars(
            select(ReportDelivery).where(ReportDelivery.report_id == report.id,
                                         ReportDelivery.trigger == "schedule")
            .order_by(ReportDelivery.created_at.desc(), ReportDelivery.id.desc())
            .limit(1)).first()
        if last is not None and last.status == "failed" and last.scheduled_for is not None \
                and due < next_send_at(timing, last.scheduled_for):
            tries = session.scalar(select(func.count()).select_from(ReportDelivery).where(
                ReportDelivery.report_id == report.id, ReportDelivery.trigger == "schedule",
                ReportDelivery.scheduled_for == last.scheduled_for)) or 0
            if tries < MAX_TRIES:
                return self._job_or_stop(session, report, last.scheduled_for,
                                         last.scheduled_for, tries + 1)
        period = latest_send(timing, at)
        handled = last.scheduled_for if last is not None else None
        # Off the timing, ``due`` is a lease that ran out (or an abandoned retry): the period
        # must not be one handled already, nor one from before the report's last change.
        stale = not is_send_instant(timing, due) and period is not None \
            and period < report.updated_at
        if period is None or stale or (handled is not None and period <= handled):
            report.next_send_at = next_send_at(timing, at)
            report.lease_owner = None
            return None
        return self._job_or_stop(session, report, period, period, 1)

    def _job_or_stop(self, session: Session, report: Report, at: datetime,
                     scheduled_for: datetime, attempt: int) -> _Job | None:
        job = self._job(session, report, at, "schedule", scheduled_for, attempt,
                        self.worker_id)
        if job is None:  # its campaign or workspace is gone (cascades are on the way)
            report.next_send_at = None
        return job

    def _job(self, session: Session, report: Report, at: datetime, trigger: Trigger,
             scheduled_for: datetime | None, attempt: int, owner: str, *,
             restore: tuple[datetime | None, datetime] | None = None) -> _Job | None:
        campaign = session.get(Campaign, report.campaign_id)
        workspace = session.get(Workspace, report.workspace_id)
        if campaign is None or workspace is None:
            return None
        return _Job(
            report_id=report.id, workspace_id=report.workspace_id, campaign_id=campaign.id,
            campaign_name=campaign.name, campaign_started_at=campaign.started_at,
            runs=tuple((campaign.schedule or {}).get("runs") or ()),
            schedule=dict(report.schedule), zone=report_zone(session, campaign),
            smtp=dict(workspace.email) if workspace.email else None, trigger=trigger, at=at,
            scheduled_for=scheduled_for, attempt=attempt, owner=owner, restore=restore)

    # -- building and sending ----------------------------------------------------------------

    def _process(self, job: _Job) -> ReportDelivery | None:
        built: _Built | None = None
        receipt: SendReceipt | None = None
        error: EmailError | None = None
        try:
            settings = smtp_settings(job.smtp)  # before the export: no server, no work
            built = self._build(job)
            message = build_message(settings, list(job.schedule.get("recipients") or ()),
                                    built.subject, built.text,
                                    [Attachment(built.filename, built.content)],
                                    now=self.clock.now())
            receipt = self.send(settings, message)
        except EmailError as exc:
            error = exc
        except (ValueError, RingwiseError) as exc:  # stored settings the sender refuses
            error = EmailError(getattr(exc, "message", None) or str(exc), retryable=False)
        except Exception as exc:  # a database hiccup while exporting: try again later
            log.exception("report %s could not be built", job.report_id)
            error = EmailError(f"internal error while building the report "
                               f"({type(exc).__name__})", retryable=True)
        if error is not None:
            log.warning("report %s (%s, try %d) failed: %s", job.report_id, job.trigger,
                        job.attempt, error.message)
        return self._finish(job, built, receipt, error)

    def _build(self, job: _Job) -> _Built:
        schedule = job.schedule
        start, end, intervals, label = _coverage(job)
        run_ids = [str(r) for r in schedule.get("run_client_ids") or ()]
        filters = report_filters(schedule.get("filters") or {})
        content, rows = self._csv(job, intervals, filters)
        totals = _totals(content)
        filename = f"{slug(job.campaign_name)}-{slug(label, 'report')}.csv"
        name = str(schedule.get("name") or "Report")
        subject = " ".join(f"{name}: {job.campaign_name}, {label}".split())
        return _Built(content=content, rows=rows, range_start=start, range_end=end,
                      label=label, filename=filename, subject=subject,
                      text=_body(job, name, label, run_ids, totals, filename))

    def _csv(self, job: _Job, intervals: Sequence[Interval],
             filters: export.ExportFilters) -> tuple[bytes, int]:
        """One CSV over the intervals: the first export whole, the others without their
        header (the intervals are disjoint and ordered, so the rows stay oldest first)."""
        if not intervals:
            layout = export.export_layout(self.db, job.workspace_id, job.campaign_id)
            buffer = io.StringIO()
            csv.writer(buffer).writerow(layout.columns)
            return buffer.getvalue().encode(), 0
        parts: list[bytes] = []
        rows = 0
        for index, (low, high) in enumerate(intervals):
            stream = export.iter_csv(
                self.db, job.workspace_id, job.campaign_id,
                filters=export.ExportFilters(
                    status=filters.status, outcome=filters.outcome,
                    contact_id=filters.contact_id, analysis_status=filters.analysis_status,
                    created_after=low, created_before=high))
            data = b"".join(stream)
            rows += stream.rows
            if index == 0:
                parts.append(data)
                continue
            # Written back with the export's own csv.writer settings: the same bytes.
            buffer = io.StringIO()
            records = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
            next(records, None)
            csv.writer(buffer).writerows(records)
            parts.append(buffer.getvalue().encode())
        return b"".join(parts), rows

    # -- recording -----------------------------------------------------------------------------

    def _finish(self, job: _Job, built: _Built | None, receipt: SendReceipt | None,
                error: EmailError | None) -> ReportDelivery | None:
        at = self.clock.now()
        with self.db.transaction() as session:
            report = session.get(Report, job.report_id, with_for_update=self._pg)
            if report is None:
                return None  # deleted meanwhile (its deliveries went with it)
            retry = (error is not None and error.retryable and job.trigger == "schedule"
                     and job.attempt < MAX_TRIES)
            message = _error_text(job, error, receipt, retry, at)
            if built is not None:
                range_start, range_end = built.range_start, built.range_end
            else:
                range_start, range_end = _coverage(job)[:2]
            delivery = ReportDelivery(
                id=new_id(), workspace_id=job.workspace_id, report_id=job.report_id,
                trigger=job.trigger, scheduled_for=job.scheduled_for,
                range_start=range_start, range_end=range_end,
                status="failed" if error is not None else "sent",
                rows=built.rows if built else 0,
                recipients=list(receipt.accepted) if receipt is not None
                else [str(r) for r in job.schedule.get("recipients") or ()],
                error=message, created_at=at)
            session.add(delivery)
            session.flush()
            if error is None and built is not None:
                outbox.emit(session.connection(), job.workspace_id, "report.sent", {
                    "report_id": job.report_id, "campaign_id": job.campaign_id,
                    "delivery_id": delivery.id, "trigger": job.trigger, "rows": built.rows,
                    "recipients": delivery.recipients,
                    "period": {"label": built.label, "range_start": iso(built.range_start),
                               "range_end": iso(built.range_end)},
                    "scheduled_for": iso(job.scheduled_for)}, at)
            if report.lease_owner == job.owner:  # else the lease ran out: the new owner rules
                report.lease_owner = None
                report.next_send_at = self._next(session, report, job, at, retry)
        return delivery

    def _next(self, session: Session, report: Report, job: _Job, at: datetime,
              retry: bool) -> datetime | None:
        if job.trigger == "send_now" and job.restore is not None:
            before, updated_at = job.restore
            if report.updated_at == updated_at and (before is not None or not report.enabled):
                return before  # unchanged meanwhile: the schedule goes on as it was
        if not report.enabled:
            return None
        if retry:
            return at + RETRY_DELAY
        campaign = session.get(Campaign, report.campaign_id)
        if campaign is None:
            return None
        try:
            timing = ReportTiming.from_schedule(report.schedule, report_zone(session, campaign))
        except ValueError:
            return None
        return next_send_at(timing, at)


def _coverage(job: _Job) -> tuple[datetime | None, datetime, list[Interval], str]:
    """(range start, range end, the intervals exported, the period's label). The range is
    the hull of the intervals when runs narrow it (see the module's notes)."""
    start, end = report_range(str(job.schedule.get("date_range") or "cumulative"), job.zone,
                              job.at, job.campaign_started_at)
    label = report_period_label(start, end, job.zone)
    run_ids = [str(r) for r in job.schedule.get("run_client_ids") or ()]
    intervals = covered_intervals(start, end, job.runs, run_ids, job.zone)
    if intervals:
        start, end = intervals[0][0], intervals[-1][1]
    return start, end, intervals, label


def _error_text(job: _Job, error: EmailError | None, receipt: SendReceipt | None,
                retry: bool, at: datetime) -> str | None:
    """The delivery's ``error``: the failure and what happens next, or refused recipients
    of a message that went out."""
    if error is None:
        if receipt is None or not receipt.refused:
            return None
        return "some recipients were refused: " + "; ".join(
            f"{address} ({code} {reply})".strip()
            for address, (code, reply) in receipt.refused.items())
    if job.trigger != "schedule" or not error.retryable:
        return error.message  # plain: nothing is tried again, the message says it all
    then = f"trying again at {iso(at + RETRY_DELAY)}" if retry else \
        "giving up on this period"
    return f"{error.message} (try {job.attempt} of {MAX_TRIES}; {then})"


def _leased(report: Report, at: datetime) -> bool:
    return report.lease_owner is not None and report.next_send_at is not None \
        and report.next_send_at > at


def _body(job: _Job, name: str, label: str, run_ids: Sequence[str], totals: _Totals,
          filename: str) -> str:
    lines = [f"{name} for campaign \"{job.campaign_name}\"",
             f"Period: {label} ({job.zone})"]
    if run_ids:
        lines.append(f"Runs: {', '.join(run_ids)}")
    filters = job.schedule.get("filters") or {}
    if filters:
        lines.append("Filters: " + ", ".join(f"{k}={v}" for k, v in sorted(filters.items())))
    average = (f"{totals.sentiment_sum / totals.analyzed:.2f}" if totals.analyzed
               else "n/a (no analyzed calls)")
    lines += ["", f"Calls: {totals.calls}",
              f"Connected (answered by a person): {totals.connected}",
              f"Voicemail: {totals.voicemail}", f"Success: {totals.success}",
              f"Average sentiment: {average}", "",
              f"The attached {filename} lists every call of the period, with its analysis.",
              ""]
    return "\n".join(lines)


def new_worker_id(prefix: str = "api") -> str:
    """A lease owner name for a one-off runner (send-now from the API)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


__all__ = ["LEASE", "MAX_TRIES", "NO_SMTP", "REPORT_FILTERS", "RETRY_DELAY", "ReportRunner",
           "check_recipients", "covered_intervals", "latest_send", "new_worker_id",
           "report_filters", "report_zone", "smtp_settings"]
