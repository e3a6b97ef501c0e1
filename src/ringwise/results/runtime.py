"""Assembling the results worker a process runs beside its dialer."""

from __future__ import annotations

from datetime import timedelta

from ringwise.clock import Clock
from ringwise.db.engine import Database
from ringwise.notify.webhook_sender import WebhookSender
from ringwise.results import analysis_jobs, messages, reports, webhook_dispatch
from ringwise.results.analysis_jobs import AnalysisRunner
from ringwise.results.messages import MessageRunner
from ringwise.results.reports import ReportRunner
from ringwise.results.retention import WebhookLogPurger
from ringwise.results.webhook_dispatch import WebhookDispatcher
from ringwise.results.worker import ResultsWorker, Runner
from ringwise.settings import Settings
from ringwise.telephony.messaging import SimulatedSms, SmsSender


def make_results_worker(db: Database, clock: Clock, settings: Settings, *, worker_id: str,
                        poll_interval: float = 0.5,
                        sms: SmsSender | None = None) -> ResultsWorker:
    """Analysis jobs, webhook deliveries, scheduled reports and scheduled messages, on
    ``clock``. Texts go through ``sms`` (default: the simulated provider, like calls)."""
    # Leases are clock time, but an LLM answer or an HTTP request takes real time: on an
    # accelerated clock they are stretched so work in flight is not taken over twice.
    speed = max(1.0, float(getattr(clock, "speed", 1.0)))

    def stretched(lease: timedelta) -> timedelta:
        return lease * speed

    sender = WebhookSender(allow_private=settings.webhooks_allow_private, clock=clock)
    dispatcher = WebhookDispatcher(db, clock, sender, worker_id=worker_id,
                                   lease=stretched(webhook_dispatch.LEASE))
    runners: list[Runner] = [
        AnalysisRunner(db, clock, worker_id=worker_id,
                       lease=stretched(analysis_jobs.LEASE)),
        dispatcher,
        ReportRunner(db, clock, worker_id=worker_id, lease=stretched(reports.LEASE)),
        MessageRunner(db, clock, sms or SimulatedSms(), worker_id=worker_id,
                      lease=stretched(messages.LEASE)),
        WebhookLogPurger(db, clock, retention=timedelta(days=settings.webhook_retention_days)
                         if settings.webhook_retention_days else None),
    ]
    return ResultsWorker(runners, clock, poll_interval=poll_interval,
                         on_stop=[dispatcher.close, sender.close])
