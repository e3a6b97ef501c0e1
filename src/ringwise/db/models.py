"""Storage models. Every row that a user owns carries ``workspace_id``; queries always filter on it.

Campaign settings are stored as validated JSON documents, one column per settings section: they
are read whole, per campaign, and never filtered on, while everything the dialer scans per
contact (state, next eligible instant) is a real indexed column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ringwise.db.types import JSONDoc, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(36)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDoc}


def _ws_fk() -> Mapped[str]:
    return mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    default_region: Mapped[str] = mapped_column(String(2), default="US")
    business_hours: Mapped[list[dict[str, str]] | None] = mapped_column(JSONDoc, nullable=True)
    concurrency_limit: Mapped[int] = mapped_column(Integer, default=10)
    concurrency_rate: Mapped[int] = mapped_column(Integer, default=100)
    campaigns_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Compliance settings (api.schemas.settings.ComplianceSettings), only the keys the
    # workspace set; services.compliance_settings.settings_of fills in the defaults.
    compliance: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    # Results settings (api.schemas.settings): the analyzer, call pricing, the SMTP server of
    # scheduled reports. Only the keys the workspace set; defaults are filled in on reading.
    results: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    email: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    # Defaults the /compat dialects use where a foreign API is silent (docs/compat.md).
    compat: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    name: Mapped[str] = mapped_column(String(255), default="")
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first response to a POST sent with an Idempotency-Key, kept 24 h."""

    __tablename__ = "idempotency_keys"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1024))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Assistant(Base):
    __tablename__ = "assistants"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="assistant")
    system_prompt: Mapped[str | None] = mapped_column(Text)
    persona: Mapped[str | None] = mapped_column(Text)
    first_message: Mapped[str | None] = mapped_column(Text)
    returning_greeting: Mapped[str | None] = mapped_column(Text)
    voicemail_message: Mapped[str | None] = mapped_column(Text)
    campaign_context: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35), default="en-US")
    voice: Mapped[dict[str, Any] | None]
    speech_settings: Mapped[dict[str, Any] | None]
    analysis: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDoc)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    number: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(16), default="simulated")
    label: Mapped[str | None] = mapped_column(String(255))
    cps_limit: Mapped[float] = mapped_column(Float, default=1.0)
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(8))
    area_code: Mapped[str | None] = mapped_column(String(8))
    timezones: Mapped[list[str] | None] = mapped_column(JSONDoc)
    # Dial starts of the last second or so (ISO instants): its calls-per-second limit.
    recent_starts: Mapped[list[str] | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "phone"),
        # GET /v1/contacts pages newest first: without this, every page sorts the workspace.
        Index("ix_contacts_workspace_created", "workspace_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # No index of its own: both composite indexes lead with workspace_id, and one index fewer
    # per row is measurable in million-row imports.
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(16))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    company: Mapped[str | None] = mapped_column(String(255))
    job_title: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(1024))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    utm_source: Mapped[str | None] = mapped_column(String(255))
    utm_medium: Mapped[str | None] = mapped_column(String(255))
    utm_campaign: Mapped[str | None] = mapped_column(String(255))
    utm_term: Mapped[str | None] = mapped_column(String(255))
    utm_content: Mapped[str | None] = mapped_column(String(255))
    custom_fields: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDoc)
    # Consent to be called: express_written | express | existing_business_relationship | none
    consent_basis: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    # When the number was last scrubbed against a national do-not-call registry.
    registry_scrubbed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactList(Base):
    __tablename__ = "contact_lists"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactListMember(Base):
    __tablename__ = "contact_list_members"

    list_id: Mapped[str] = mapped_column(
        ID, ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[str] = mapped_column(
        ID, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    assistant_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("assistants.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=50)
    concurrency_limit: Mapped[int] = mapped_column(Integer, default=0)
    never_ending: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_start: Mapped[bool] = mapped_column(Boolean, default=False)
    # Telemarketing: calls need recorded consent and the identity / opt-out opening.
    telemarketing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Debt collection (CFPB Regulation F): its call-frequency limits apply.
    regulation_f: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    opening_message: Mapped[str | None] = mapped_column(Text)
    campaign_context: Mapped[str | None] = mapped_column(Text)
    # Settings sections, each validated by its pydantic schema before it is stored.
    caller_id: Mapped[dict[str, Any]]
    schedule: Mapped[dict[str, Any]]
    retry: Mapped[dict[str, Any]]
    voicemail: Mapped[dict[str, Any]]
    speech_settings: Mapped[dict[str, Any] | None]
    memory: Mapped[dict[str, Any]]
    analysis: Mapped[dict[str, Any] | None]
    report_schedule: Mapped[dict[str, Any] | None]
    options: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDoc)
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class CampaignCounters(Base):
    """Live per-campaign counters, updated in the same transaction as the change they count, so
    reading a campaign's progress never scans its contacts or calls."""

    __tablename__ = "campaign_counters"

    campaign_id: Mapped[str] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    contacts_total: Mapped[int] = mapped_column(Integer, default=0)
    contacts_pending: Mapped[int] = mapped_column(Integer, default=0)
    contacts_active: Mapped[int] = mapped_column(Integer, default=0)
    contacts_done: Mapped[int] = mapped_column(Integer, default=0)
    contacts_skipped: Mapped[int] = mapped_column(Integer, default=0)
    calls_total: Mapped[int] = mapped_column(Integer, default=0)
    calls_queued: Mapped[int] = mapped_column(Integer, default=0)
    calls_in_progress: Mapped[int] = mapped_column(Integer, default=0)
    calls_ended: Mapped[int] = mapped_column(Integer, default=0)
    calls_answered: Mapped[int] = mapped_column(Integer, default=0)
    calls_voicemail: Mapped[int] = mapped_column(Integer, default=0)
    calls_no_answer: Mapped[int] = mapped_column(Integer, default=0)
    calls_busy: Mapped[int] = mapped_column(Integer, default=0)
    calls_failed: Mapped[int] = mapped_column(Integer, default=0)


class CampaignContact(Base):
    """One contact's membership in one campaign: its state, attempts and next eligible instant."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        # (due_at, id) is the claim order: with id in the index a LIMIT stops early even when
        # thousands of contacts share one due instant (a window opening).
        Index("ix_campaign_contacts_due", "campaign_id", "state", "next_eligible_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    campaign_id: Mapped[str] = mapped_column(ID, ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(
        ID, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_eligible_at: Mapped[datetime | None]  # due: may be dialed from then on
    window_end: Mapped[datetime | None]  # until the window of next_eligible_at closes
    timezones: Mapped[str | None] = mapped_column(String(512))  # resolved zones, comma-joined
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    caller_number_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    assistant_overrides: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDoc)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("campaign_contact_id", "attempt"),
        Index("ix_calls_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_calls_campaign_status", "campaign_id", "status"),
        # A campaign's calls in order (exports, reports).
        Index("ix_calls_campaign_created", "campaign_id", "created_at", "id"),
        Index("ix_calls_status_lease", "status", "lease_owner"),
        Index("ix_calls_workspace_phone_created", "workspace_id", "to_number", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    campaign_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    campaign_contact_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("campaign_contacts.id", ondelete="CASCADE")
    )
    contact_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    assistant_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("assistants.id", ondelete="SET NULL")
    )
    phone_number_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    outcome: Mapped[str | None] = mapped_column(String(16))
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    answered_by: Mapped[str | None] = mapped_column(String(32))
    from_number: Mapped[str | None] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_call_id: Mapped[str | None] = mapped_column(String(128))
    lease_owner: Mapped[str | None] = mapped_column(String(64))  # the worker handling it
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]  # dialing
    ringing_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    transcript: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDoc)
    recording_url: Mapped[str | None] = mapped_column(String(2048))
    analysis: Mapped[dict[str, Any] | None]
    # pending (queued for analysis) | done | failed (gave up) | skipped (nothing to analyze)
    analysis_status: Mapped[str | None] = mapped_column(String(16))
    analyzed_at: Mapped[datetime | None]
    # The campaign and assistant settings the call was placed with (call_settings).
    settings_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("call_settings.id", ondelete="SET NULL"))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDoc)


class Worker(Base):
    """A dialer process; calls leased to a worker whose heartbeat is stale are reconciled by
    another."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)


class DncEntry(Base):
    """One pattern of a do-not-call list: the workspace's list (``campaign_id`` NULL) or a
    campaign's suppression list. ``pattern`` is an E.164 number ("+12125550100") or a prefix
    wildcard ("+1212*", "+4420*"); see ``core.compliance.dnc``. The dialer asks for
    ``pattern IN candidate_patterns(phone)``, served by ``ix_dnc_entries_workspace_pattern``."""

    __tablename__ = "dnc_entries"
    __table_args__ = (
        # One pattern once per list. Two partial indexes, because NULLs are distinct in a
        # plain unique index (the workspace list would accept duplicates).
        Index("uq_dnc_entries_workspace_list", "workspace_id", "pattern", unique=True,
              sqlite_where=text("campaign_id IS NULL"),
              postgresql_where=text("campaign_id IS NULL")),
        Index("uq_dnc_entries_campaign_list", "campaign_id", "pattern", unique=True,
              sqlite_where=text("campaign_id IS NOT NULL"),
              postgresql_where=text("campaign_id IS NOT NULL")),
        Index("ix_dnc_entries_workspace_pattern", "workspace_id", "pattern"),
        # Listing one list newest first (cursor pagination).
        Index("ix_dnc_entries_list_created", "workspace_id", "campaign_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # No index of its own: the composite indexes lead with workspace_id.
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    campaign_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE"))
    pattern: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))  # number | area_code
    source: Mapped[str] = mapped_column(String(16))  # api | csv | opt_out | call
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class ComplianceLog(Base):
    """One dial-time compliance decision (dialed, blocked, deferred) and what it was based
    on: the record a regulator or a court asks for, kept for years.

    ``call_id`` is deliberately not a foreign key: blocked and deferred decisions have no
    call, the log row may be written before the call row in the dialer's transaction, and
    calls (transcripts, recordings: personal data) may be purged by retention long before the
    5-year record must go; a SET NULL key would then erase the link the record exists for."""

    __tablename__ = "compliance_log"
    __table_args__ = (
        Index("ix_compliance_log_campaign_at", "campaign_id", "at"),
        Index("ix_compliance_log_call_id", "call_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    # Kept when the campaign or the contact is deleted (the record must outlive them: five
    # years): the links become NULL, the phone, instant and decision stay.
    campaign_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="SET NULL"))
    # Indexed: deleting a contact reaches here through its campaign contacts.
    campaign_contact_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("campaign_contacts.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[str | None] = mapped_column(ID)
    phone: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(16))  # dialed | blocked | deferred
    reason: Mapped[str | None] = mapped_column(String(64))
    rules: Mapped[str] = mapped_column(String(255))  # rule keys applied: "us-federal+us-fl"
    local_times: Mapped[dict[str, Any]] = mapped_column(JSONDoc)  # zone -> ISO local time
    details: Mapped[dict[str, Any] | None]


# --- results (migration 0004) ---------------------------------------------------------------

class CallSettings(Base):
    """A snapshot of a campaign's settings and its assistant as calls were placed with them:
    one row per campaign version (``id`` is derived from the campaign id and its
    ``updated_at``), shared by all the calls of that version."""

    __tablename__ = "call_settings"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    campaign_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    captured_at: Mapped[datetime]
    campaign: Mapped[dict[str, Any]]
    assistant: Mapped[dict[str, Any] | None]


class AnalysisJob(Base):
    """Post-call analysis still to do for one call, written in the transaction that ends it,
    so an analysis is never lost to a crash; retried with backoff until it gives up."""

    __tablename__ = "analysis_jobs"
    __table_args__ = (Index("ix_analysis_jobs_due", "status", "next_attempt_at"),)

    call_id: Mapped[str] = mapped_column(
        ID, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignStatsHourly(Base):
    """A campaign's call results per UTC hour of the call's start, updated in the transaction
    that ends or analyzes a call: statistics (per campaign, per run, by hour) are sums over a
    few hundred rows, never a scan of the calls."""

    __tablename__ = "campaign_stats_hourly"

    campaign_id: Mapped[str] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)  # ended calls
    answered: Mapped[int] = mapped_column(Integer, default=0)
    voicemail: Mapped[int] = mapped_column(Integer, default=0)
    no_answer: Mapped[int] = mapped_column(Integer, default=0)
    busy: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    other: Mapped[int] = mapped_column(Integer, default=0)  # canceled, expired
    talk_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    analyzed: Mapped[int] = mapped_column(Integer, default=0)
    success: Mapped[int] = mapped_column(Integer, default=0)
    opted_out: Mapped[int] = mapped_column(Integer, default=0)
    sentiment_sum: Mapped[float] = mapped_column(Float, default=0.0)
    score_sum: Mapped[int] = mapped_column(Integer, default=0)


class CampaignTagHourly(Base):
    """How many analyzed calls got each tag, per UTC hour of the call's start."""

    __tablename__ = "campaign_tag_hourly"

    campaign_id: Mapped[str] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_workspace_created",
                            "workspace_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(255))
    events: Mapped[list[str]] = mapped_column(JSONDoc)  # event types; empty: all
    # [{"secret": "whsec_...", "expires_at": ISO | null}], newest first: signing uses all
    # unexpired ones, so a receiver can switch secrets without missing a delivery.
    secrets: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookEvent(Base):
    """An event, written in the same transaction as its cause (the outbox)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_workspace_created",
                            "workspace_id", "created_at", "id"),
                      # the retention purge takes the oldest events first (migration 0006)
                      Index("ix_webhook_events_created", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # msg_<uuid hex>
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event to one endpoint: pending until delivered, failed after the retry schedule,
    cancelled when its endpoint is disabled or deleted."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    event_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str] = mapped_column(
        ID, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookAttempt(Base):
    """One HTTP request of a delivery: the delivery log."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_at", "delivery_id", "at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        ID, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | gone | rejected
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    response_snippet: Mapped[str | None] = mapped_column(Text)


class Report(Base):
    """A scheduled e-mail report of one campaign's calls (a ``ReportSchedule``)."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_due", "enabled", "next_send_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    campaign_id: Mapped[str] = mapped_column(
        ID, ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    schedule: Mapped[dict[str, Any]]  # the validated ReportSchedule
    source: Mapped[str] = mapped_column(String(16), default="api")  # campaign | api
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_send_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReportDelivery(Base):
    """One sending of a report: the delivery log."""

    __tablename__ = "report_deliveries"
    __table_args__ = (Index("ix_report_deliveries_report_created",
                            "report_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    report_id: Mapped[str] = mapped_column(ID, ForeignKey("reports.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | send_now
    scheduled_for: Mapped[datetime | None]
    range_start: Mapped[datetime | None]
    range_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # sent | failed
    rows: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[list[str]] = mapped_column(JSONDoc)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


# --- compatible endpoints (migration 0005) ----------------------------------------------------

class CompatId(Base):
    """The integer id a foreign API (Kayse) shows for a native object: ``id`` is that
    integer, allocated once per (system, kind, native id)."""

    __tablename__ = "compat_ids"
    __table_args__ = (UniqueConstraint("system", "kind", "native_id"),
                      Index("ix_compat_ids_workspace", "workspace_id", "system", "kind"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))  # campaign | contact_list | assistant | ...
    native_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]


# --- scheduled messages (migration 0006) ------------------------------------------------------

class MessageSend(Base):
    """One scheduled message (a run's ``messages[]`` entry) to one contact of a campaign.

    Planned when the campaign runs, with the instant it falls due in the contact's own zone;
    sent by the results worker. ``status``: scheduled | sending | sent | failed | blocked |
    skipped | expired | canceled (see ``results.messages``)."""

    __tablename__ = "message_sends"
    __table_args__ = (
        UniqueConstraint("campaign_contact_id", "run_index", "message_index"),
        Index("ix_message_sends_due", "status", "due_at"),
        Index("ix_message_sends_campaign_created", "campaign_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = _ws_fk()
    campaign_id: Mapped[str] = mapped_column(ID, ForeignKey("campaigns.id", ondelete="CASCADE"))
    campaign_contact_id: Mapped[str] = mapped_column(
        ID, ForeignKey("campaign_contacts.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ID, ForeignKey("contacts.id", ondelete="CASCADE"),
                                            index=True)
    run_index: Mapped[int] = mapped_column(Integer)
    message_index: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    reason: Mapped[str | None] = mapped_column(String(64))  # why blocked / skipped / ...
    due_at: Mapped[datetime | None]  # when it may be sent (contact-local send time, legal)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    from_address: Mapped[str | None] = mapped_column(String(320))  # a number or an e-mail
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)  # as sent (rendered)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
