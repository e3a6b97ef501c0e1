"""Scheduled messages: plan one row per contact and message, send each when it falls due.

A campaign run's ``messages[]`` (``core.messages``) are texts (SMS through the messaging
provider) or e-mails (through the workspace's SMTP server) sent to every contact of the
campaign at a contact-local date and time. :class:`MessageRunner` is a results-worker runner:

**Planning.** For a campaign that is ``running`` (or ``completed``: its calls are done, its
messages still go), every (contact, message) pair gets a ``MessageSend`` row with the
instant it falls due (``core.messages.send_instant``: the send time in each of the contact's
zones, inside the legal floor for texts, before the run ends) or, when there is none, a
closed status (``expired``, ``skipped``). Rows are written in keyset batches of
:data:`PLAN_BATCH` contacts, each its own transaction; the unique (contact, run, message) key
makes two planners harmless. A runner looks at the active campaigns every
:data:`PLAN_CHECK` and plans those new to it or changed: after a settings change (the
campaign's ``updated_at``), rows planned before it and not sent yet are worked out again;
added contacts get their rows. A message time already past when a campaign starts is sent
at once if its run has not ended.

**Sending.** A claim takes due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and moves
them one lease ahead in ``sending``. Each is then checked again at the moment of sending, with
no transaction open during the provider call:

* the campaign was canceled -> ``canceled``; the message left the schedule -> ``canceled``;
* the number is on the do-not-call or the campaign's suppression list -> ``blocked``
  (``dnc-listed``; for e-mail too: an opt-out means "stop contacting me");
* a telemarketing text without prior express written consent -> ``blocked`` (``no-consent``,
  47 CFR 64.1200(a)(2)); a telemarketing text also gets the opt-out notice;
* outside the legal floor now (the floor or the zones changed) -> back to ``scheduled`` at
  the next legal instant, or ``expired`` when the run ends first.

A provider or SMTP failure that may pass is tried again after :data:`RETRY_DELAY`, up to
:data:`MAX_TRIES` tries; otherwise the row is ``failed`` with the error. A runner that dies
mid-send leaves its lease to run out and the row is taken again (at least once: the
simulated provider answers a retried request with the same message id, and the try counts).
Only the runner that holds the lease records the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ringwise.clock import Clock
from ringwise.core.caller_id import (
    Callee,
    callee_from_e164,
    canonical_order,
    choose_from_ordered,
    rotation_for,
)
from ringwise.core.messages import MessageSlot, message_slots, send_instant
from ringwise.core.templates import render
from ringwise.db.engine import Database
from ringwise.db.models import (
    Assistant,
    Campaign,
    CampaignContact,
    CampaignCounters,
    MessageSend,
    PhoneNumber,
    Workspace,
)
from ringwise.dialer.compliance import CONSENTED
from ringwise.dialer.plans import CampaignPlan, callee_zones, compile_plan, owned
from ringwise.dialer.sql_store import (
    campaign_view,
    number_view,
    target_of,
    target_query,
    workspace_view,
)
from ringwise.dialer.store import Target
from ringwise.ids import new_id
from ringwise.notify.email import EmailError, build_message, send_email, smtp_settings
from ringwise.services.dnc import listed_phones
from ringwise.telephony.messaging import SmsError, SmsRequest, SmsSender

log = logging.getLogger("ringwise.messages")

LEASE: Final = timedelta(minutes=5)
RETRY_DELAY: Final = timedelta(minutes=5)
MAX_TRIES: Final = 3
PLAN_BATCH: Final = 2_000
PLAN_CHECK: Final = timedelta(seconds=30)  # how often campaigns are looked at for (re)planning
ACTIVE: Final = ("running", "completed")  # campaigns whose messages are planned and sent
_CLAIMABLE: Final = (*ACTIVE, "canceled")  # canceled: its rows are closed as canceled
_REPLANNED: Final = ("scheduled", "skipped", "expired")  # statuses a settings change revisits
OPT_OUT_NOTICE: Final = "Reply STOP to opt out."


@dataclass(frozen=True, slots=True)
class _Job:
    id: str
    campaign_id: str
    campaign_contact_id: str
    run_index: int
    message_index: int
    channel: str
    attempts: int  # with this try
    lease_until: datetime


@dataclass(slots=True)
class _Context:
    """What sending a campaign's messages needs, read once per campaign per pass."""

    campaign: Campaign
    plan: CampaignPlan | None
    plan_error: str | None
    slots: Mapping[tuple[int, int], MessageSlot]
    workspace: Workspace
    numbers: tuple[Any, ...]  # NumberView


class MessageRunner:
    def __init__(self, db: Database, clock: Clock, sms: SmsSender, *, worker_id: str,
                 lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.sms = sms
        self.worker_id = worker_id
        self.lease = lease
        self._pg = db.dialect == "postgresql"
        self._planned: dict[str, tuple[datetime, int]] = {}  # campaign -> (updated_at, total)
        self._next_check: datetime | None = None

    # --- the runner protocol ---------------------------------------------------------------

    def run_due(self, limit: int = 50) -> int:
        at = self.clock.now()
        work = 0
        if self._next_check is None or at >= self._next_check:
            work += self.plan()
            self._next_check = at + PLAN_CHECK
        jobs = self._claim(limit)
        contexts = {campaign_id: self._context(campaign_id)
                    for campaign_id in dict.fromkeys(job.campaign_id for job in jobs)}
        targets, listed = self._facts(jobs, contexts)
        for job in jobs:
            self._send(job, contexts[job.campaign_id], targets.get(job.campaign_contact_id),
                       listed)
        return work + len(jobs)

    def _facts(self, jobs: Sequence[_Job], contexts: Mapping[str, _Context | None],
               ) -> tuple[dict[str, Target], dict[tuple[str, str], str]]:
        """The claimed batch's contacts, and their do-not-call matches by (campaign, phone),
        read in one transaction just before sending."""
        if not jobs:
            return {}, {}
        with self.db.reading() as session:
            targets = {row["id"]: target_of(row) for row in session.execute(
                target_query().where(CampaignContact.id.in_(
                    {job.campaign_contact_id for job in jobs}))).mappings()}
            listed: dict[tuple[str, str], str] = {}
            for campaign_id, context in contexts.items():
                phones = {t.phone for t in targets.values() if t.campaign_id == campaign_id}
                if context is None or not phones:
                    continue
                # Per campaign: a suppression list covers its own campaign only.
                for phone, pattern in listed_phones(session, context.campaign.workspace_id,
                                                    [campaign_id], phones).items():
                    listed[(campaign_id, phone)] = pattern
        return targets, listed

    def next_due(self) -> datetime | None:
        with self.db.reading() as session:
            due: datetime | None = session.scalar(
                select(func.min(MessageSend.due_at))
                .join(Campaign, Campaign.id == MessageSend.campaign_id)
                .where(MessageSend.status.in_(("scheduled", "sending")),
                       Campaign.status.in_(_CLAIMABLE)))
        return due  # planning needs no wake-up: the worker polls more often than PLAN_CHECK

    # --- planning --------------------------------------------------------------------------

    def plan(self) -> int:
        """Plan the campaigns that are new to this runner or changed since; rows written."""
        with self.db.reading() as session:
            rows = session.execute(
                select(Campaign.id, Campaign.updated_at, CampaignCounters.contacts_total)
                .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
                .where(Campaign.status.in_(ACTIVE))).all()
        changed = {campaign_id: (updated_at, total) for campaign_id, updated_at, total in rows
                   if self._planned.get(campaign_id) != (updated_at, total)}
        if not changed:
            return 0
        # Most campaigns have no messages: their schedules alone say so, cheaply.
        ids = list(changed)
        schedules: dict[str, Mapping[str, Any] | None] = {}
        with self.db.reading() as session:
            for start in range(0, len(ids), 500):  # bound parameters per statement
                schedules.update((campaign_id, schedule) for campaign_id, schedule in
                                 session.execute(select(Campaign.id, Campaign.schedule).where(
                                     Campaign.id.in_(ids[start:start + 500]))))
        written = 0
        for campaign_id, marker in changed.items():
            complete = True
            if _has_messages(schedules.get(campaign_id)):
                count, complete = self._plan_campaign(campaign_id)
                written += count
            if complete:  # else looked at again at the next check
                self._planned[campaign_id] = marker
        return written

    def _plan_campaign(self, campaign_id: str) -> tuple[int, bool]:
        """Rows written, and whether every batch was this runner's to write."""
        context = self._context(campaign_id)
        if context is None or not context.slots:
            return 0, True
        if context.plan is None:
            log.warning("campaign %s: messages not planned, its settings are unusable (%s)",
                        campaign_id, context.plan_error)
            return 0, True
        at = self.clock.now()
        # Rows planned before the settings last changed, and not sent nor closed by a
        # check at sending, are worked out again.
        with self.db.transaction() as session:
            session.execute(delete(MessageSend).where(
                MessageSend.campaign_id == campaign_id, MessageSend.status.in_(_REPLANNED),
                MessageSend.created_at < context.campaign.updated_at))
        written, complete = 0, True
        for slot in context.slots.values():
            after = ""
            while True:
                with self.db.reading() as session:
                    targets = [target_of(row) for row in session.execute(
                        target_query().where(
                            CampaignContact.campaign_id == campaign_id,
                            CampaignContact.id > after,
                            ~exists().where(
                                MessageSend.campaign_contact_id == CampaignContact.id,
                                MessageSend.run_index == slot.run_index,
                                MessageSend.message_index == slot.message_index))
                        .order_by(CampaignContact.id).limit(PLAN_BATCH)).mappings()]
                if not targets:
                    break
                after = targets[-1].id
                rows = [self._planned_row(context, slot, target, at) for target in targets]
                try:
                    with self.db.transaction() as session:
                        session.execute(insert(MessageSend), rows)
                    written += len(rows)
                except IntegrityError:  # another runner planned some of them first
                    log.info("campaign %s: messages planned by another worker", campaign_id)
                    complete = False
        return written, complete

    def _planned_row(self, context: _Context, slot: MessageSlot, target: Target,
                     at: datetime) -> dict[str, Any]:
        assert context.plan is not None
        row: dict[str, Any] = {
            "id": new_id(), "workspace_id": context.campaign.workspace_id,
            "campaign_id": target.campaign_id, "campaign_contact_id": target.id,
            "contact_id": target.contact_id, "run_index": slot.run_index,
            "message_index": slot.message_index, "channel": slot.channel,
            "status": "scheduled", "reason": None, "due_at": None, "attempts": 0,
            "to_address": _to_address(slot, target), "created_at": at, "updated_at": at}
        if row["to_address"] is None:
            row.update(status="skipped", reason="no-email-address")
            return row
        zones = callee_zones(target)
        if not zones:
            row.update(status="skipped", reason="unknown-timezone")
            return row
        floor = context.plan.floor_of(target) if slot.channel == "sms" else None
        due = send_instant(slot, zones, at, floor)
        if due is None:
            row.update(status="expired", reason=_expired_reason(slot))
        else:
            row["due_at"] = due
        return row

    # --- sending ---------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[_Job]:
        at = self.clock.now()
        until = at + self.lease
        query = (select(MessageSend)
                 .join(Campaign, Campaign.id == MessageSend.campaign_id)
                 .where(MessageSend.status.in_(("scheduled", "sending")),
                        MessageSend.due_at <= at, Campaign.status.in_(_CLAIMABLE))
                 .order_by(MessageSend.due_at, MessageSend.id).limit(limit))
        if self._pg:
            query = query.with_for_update(skip_locked=True, of=MessageSend)
        jobs: list[_Job] = []
        with self.db.transaction() as session:
            for row in session.scalars(query).all():
                row.attempts += 1
                if row.status == "sending" and row.attempts > MAX_TRIES:
                    row.status, row.due_at, row.lease_owner = "failed", None, None
                    row.reason = "interrupted"
                    row.error = (f"the worker sending it stopped {MAX_TRIES} times; not "
                                 "tried again")
                    row.updated_at = at
                    continue
                row.status, row.lease_owner, row.lease_until = "sending", self.worker_id, until
                row.due_at, row.updated_at = until, at
                jobs.append(_Job(row.id, row.campaign_id, row.campaign_contact_id,
                                 row.run_index, row.message_index, row.channel, row.attempts,
                                 until))
        return jobs

    def _context(self, campaign_id: str) -> _Context | None:
        with self.db.reading() as session:
            found = session.execute(
                select(Campaign, CampaignCounters, Assistant.first_message,
                       Assistant.voicemail_message, Assistant.returning_greeting)
                .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
                .outerjoin(Assistant, Assistant.id == Campaign.assistant_id)
                .where(Campaign.id == campaign_id)).first()
            if found is None:
                return None
            campaign, counters, first, voicemail, returning = found
            workspace = session.get(Workspace, campaign.workspace_id)
            assert workspace is not None
            numbers = tuple(number_view(n) for n in session.scalars(
                select(PhoneNumber).where(PhoneNumber.workspace_id == workspace.id)
                .order_by(PhoneNumber.number, PhoneNumber.id)))
            session.expunge_all()
        plan: CampaignPlan | None = None
        error: str | None = None
        try:
            plan = compile_plan(campaign_view(campaign, counters, first, voicemail, returning),
                                workspace_view(workspace))
            slots = {slot.key: slot for slot in message_slots(campaign.schedule or {})}
        except (ValueError, KeyError, TypeError) as exc:
            error, slots = str(exc), {}
        return _Context(campaign, plan, error, slots, workspace, numbers)

    def _send(self, job: _Job, context: _Context | None, target: Target | None,
              listed: Mapping[tuple[str, str], str]) -> None:
        at = self.clock.now()
        if context is None or target is None:
            return  # the campaign, or the contact's place in it, is gone, and its rows too
        slot = context.slots.get((job.run_index, job.message_index))
        if context.campaign.status == "canceled":
            self._finish(job, status="canceled", reason="campaign-canceled")
            return
        if slot is None or slot.channel != job.channel or context.plan is None:
            self._finish(job, status="canceled", reason="removed-from-schedule",
                         error=context.plan_error)
            return
        pattern = listed.get((job.campaign_id, target.phone))
        if pattern is not None:
            self._finish(job, status="blocked", reason="dnc-listed",
                         error=f"matches the do-not-call entry {pattern}")
            return
        telemarketing = context.campaign.telemarketing
        if slot.channel == "sms" and telemarketing and target.consent_basis not in CONSENTED:
            self._finish(job, status="blocked", reason="no-consent")
            return
        # Still inside the legal floor and the run? (The floor or the zones may have changed.)
        floor = context.plan.floor_of(target) if slot.channel == "sms" else None
        due = send_instant(slot, callee_zones(target), at, floor)
        if due is None:
            self._finish(job, status="expired", reason=_expired_reason(slot))
            return
        if due > at:
            self._finish(job, status="scheduled", due_at=due, attempts=job.attempts - 1)
            return
        if slot.channel == "sms":
            self._send_sms(job, context, slot, target, telemarketing)
        else:
            self._send_email(job, context, slot, target)

    def _send_sms(self, job: _Job, context: _Context, slot: MessageSlot, target: Target,
                  telemarketing: bool) -> None:
        assert context.plan is not None
        plan = context.plan
        usable = plan.usable_numbers(context.numbers)
        callee = callee_from_e164(target.phone) if plan.caller_mode == "local_presence" \
            else Callee(target.phone)
        choice = choose_from_ordered(plan.caller_mode, canonical_order(owned(n) for n in usable),
                                     callee, rotation=rotation_for(target.id, 1),
                                     assigned_number_id=target.caller_number_id)
        if choice.number is None:
            self._finish(job, status="failed", reason="no-number",
                         error="the campaign has no phone number to send the text from "
                               "(caller_id)")
            return
        body = render(slot.body, target.variables).strip()
        if telemarketing and "STOP" not in body.upper():
            body = f"{body} {OPT_OUT_NOTICE}"
        sent = {"from_address": choice.number.e164, "to_address": target.phone, "body": body}
        try:
            receipt = self.sms.send_sms(SmsRequest(job.id, choice.number.e164, target.phone,
                                                   body))
        except SmsError as exc:
            self._failed(job, exc.message, exc.retryable, sent)
            return
        self._finish(job, status="sent", provider_message_id=receipt.provider_message_id,
                     sent_at=self.clock.now(), **sent)

    def _send_email(self, job: _Job, context: _Context, slot: MessageSlot,
                    target: Target) -> None:
        to = _to_address(slot, target)
        if to is None:
            self._finish(job, status="skipped", reason="no-email-address")
            return
        subject = " ".join(render(slot.subject or context.campaign.name,
                                  target.variables).split())
        body = render(slot.body, target.variables)
        sent = {"to_address": to, "subject": subject, "body": body}
        try:
            settings = smtp_settings(context.workspace.email)
            sent["from_address"] = settings.from_address
            message = build_message(settings, [to], subject, body, now=self.clock.now())
            receipt = send_email(settings, message)
        except EmailError as exc:
            self._failed(job, exc.message, exc.retryable, sent)
            return
        except ValueError as exc:  # an address the message cannot carry
            self._failed(job, str(exc), False, sent)
            return
        self._finish(job, status="sent", provider_message_id=receipt.message_id,
                     sent_at=self.clock.now(), **sent)

    def _failed(self, job: _Job, error: str, retryable: bool, sent: dict[str, Any]) -> None:
        if retryable and job.attempts < MAX_TRIES:
            self._finish(job, status="scheduled", error=error,
                         due_at=self.clock.now() + RETRY_DELAY, **sent)
        else:
            self._finish(job, status="failed", reason="provider-error", error=error, **sent)

    def _finish(self, job: _Job, **values: Any) -> None:
        """Record a job's outcome, if this runner still holds its lease."""
        values.setdefault("due_at", None)
        values.update(lease_owner=None, lease_until=None, updated_at=self.clock.now())
        with self.db.transaction() as session:
            done = session.execute(
                update(MessageSend).where(MessageSend.id == job.id,
                                          MessageSend.status == "sending",
                                          MessageSend.lease_owner == self.worker_id,
                                          MessageSend.lease_until == job.lease_until)
                .values(**values).execution_options(synchronize_session=False))
            if not done.rowcount:  # type: ignore[attr-defined]
                log.warning("message %s: the lease ran out before its outcome (%s) was "
                            "recorded; another worker has it", job.id, values.get("status"))


def _has_messages(schedule: Mapping[str, Any] | None) -> bool:
    return any(run.get("messages") for run in (schedule or {}).get("runs") or ())


def _to_address(slot: MessageSlot, target: Target) -> str | None:
    if slot.channel == "sms":
        return target.phone
    email = target.variables.get("email")
    return email if isinstance(email, str) and email.strip() else None


def _expired_reason(slot: MessageSlot) -> str:
    return "no-legal-time-in-run" if slot.channel == "sms" else "run-ended"
