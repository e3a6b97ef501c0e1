"""Campaigns: who to call, from which numbers, when, how often, and what the agent does.

A campaign's settings are grouped in sections (caller_id, schedule, retry, voicemail, memory,
analysis, report_schedule, options), each a strict model stored whole as its ``model_dump``
in the campaign's JSON column of the same name. The union of the five reference APIs' settings
is expressible here; docs/field-mapping.md maps every foreign field to its native place.

Validation that needs only the request is done here (ranges, formats, cross-field rules, with
``FieldError`` naming the exact sub-field); validation that needs the database (ownership of
referenced ids, number providers, workspace defaults) is done by ``services.campaigns``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ringwise.api.schemas.assistants import AssistantFieldChecks
from ringwise.api.schemas.common import Out, Strict
from ringwise.api.schemas.contacts import MAX_BULK, ContactInput
from ringwise.api.schemas.shared import (
    AnalysisSettings,
    CleanStrict,
    SpeechSettings,
    VoiceSettings,
    check_metadata,
    check_template,
)
from ringwise.api.schemas.stats import StatsSummary
from ringwise.core import retry as retry_core
from ringwise.core.campaign_lifecycle import CampaignStatus
from ringwise.core.hours import TimeSlot, check_slots, format_hhmm, parse_hhmm
from ringwise.core.messages import Channel as MessageChannelLiteral
from ringwise.core.timezones import check_timezone
from ringwise.errors import FieldError

Channel = Literal["simulated", "twilio", "vobiz"]
CallerIdMode = Literal["fixed", "pool", "local_presence", "dial_plan"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MessageChannel = MessageChannelLiteral  # the one list, in core.messages
VoicemailAction = Literal["hang_up", "leave_message"]
ReportFrequency = Literal["daily", "weekly", "monthly"]
ReportRange = Literal["cumulative", "today_so_far", "previous_day", "previous_week",
                      "previous_month"]

MAX_RUNS = 366
MAX_MESSAGES = 100
MAX_POOL = 1_000
MAX_LISTS = 100
MAX_RECIPIENTS = 50
MAX_CONCURRENCY = 200
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s.,;]+")
_ID_HELP = "Must be one of this workspace's; another workspace's id is 'not found'"


def _hhmm(value: str | None) -> str | None:
    return None if value is None else format_hhmm(parse_hhmm(value))


def _weekday(value: object) -> Weekday:
    if isinstance(value, str):
        key = value.strip().lower()[:3]
        if key in WEEKDAYS and (len(value.strip()) == 3 or value.strip().lower() in _DAY_NAMES):
            return key
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{value} is ambiguous (0 is Monday in some APIs and Sunday in "
                         "others); write the day's name: mon, tue, wed, thu, fri, sat, sun")
    raise ValueError(f"{value!r} is not a day of the week (mon, tue, wed, thu, fri, sat, sun)")


_DAY_NAMES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


# --- contacts -------------------------------------------------------------------------------

class AssistantOverrides(AssistantFieldChecks):
    """Per-contact changes to the campaign's assistant for this campaign's calls."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"first_message": "Hola {{first_name}}, soy Ava.", "language": "es-ES",
         "variables": {"plan": "Premium"}},
    ]})

    system_prompt: str | None = Field(default=None, max_length=100_000)
    persona: str | None = Field(default=None, max_length=10_000)
    first_message: str | None = Field(default=None, max_length=5_000)
    returning_greeting: str | None = Field(default=None, max_length=5_000)
    voicemail_message: str | None = Field(default=None, max_length=5_000)
    campaign_context: str | None = Field(default=None, max_length=50_000)
    language: str | None = Field(default=None, max_length=35)
    voice: VoiceSettings | None = None
    speech_settings: SpeechSettings | None = None
    variables: dict[str, str | int | float | bool | None] | None = Field(
        default=None, description="Extra values for this contact's templates")


class CampaignContactInput(ContactInput):
    """A contact given inline: created or updated by phone (like POST /v1/contacts/bulk),
    plus what applies to it in this campaign only."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone": "+14155550100", "first_name": "Ann",
        "campaign_metadata": {"ticket": "T-1001"},
        "assistant_overrides": {"first_message": "Hi Ann, about ticket T-1001."},
    }]})

    assistant_overrides: AssistantOverrides | None = None
    campaign_metadata: dict[str, Any] | None = Field(
        default=None, examples=[{"ticket": "T-1001"}],
        description="Data about this contact in this campaign only (the contact's own "
                    "`metadata` is shared by every campaign)")

    @field_validator("campaign_metadata")
    @classmethod
    def _size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_metadata(value)



# --- caller id --------------------------------------------------------------------------------

class DialPlanEntry(Strict):
    """One caller number and the contacts it calls (Vapi's dialPlan entry)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone_number_id": "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f",
        "contacts": [{"phone": "+14155550100", "first_name": "Ann"}],
    }]})

    phone_number_id: str = Field(min_length=1, max_length=64, description=_ID_HELP,
                                 examples=["9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"])
    contact_ids: list[str] = Field(default_factory=list, max_length=MAX_BULK,
                                   description="Existing contacts this number calls")
    contact_list_ids: list[str] = Field(default_factory=list, max_length=MAX_LISTS,
                                        description="Every member of these lists")
    contacts: list[CampaignContactInput] = Field(
        default_factory=list, max_length=MAX_BULK,
        description="Contacts given inline (created or updated by phone)")


class CallerId(Strict):
    """Which of the workspace's numbers the calls come from.

    - ``fixed``: every call from ``phone_number_ids[0]`` (exactly one id; may be left empty
      while the campaign is a draft).
    - ``pool``: rotate over ``phone_number_ids`` (empty: all the workspace's numbers of the
      campaign's channel, decided at dial time).
    - ``local_presence``: per contact, the pool number closest to the callee (same area code,
      else same state / country); empty pool as for ``pool``.
    - ``dial_plan``: each entry's number calls that entry's contacts; contacts are added through
      the entries (and ``POST /contacts`` with ``phone_number_id``).
    """

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"mode": "fixed", "phone_number_ids": ["9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"]},
        {"mode": "local_presence", "phone_number_ids": []},
    ]})

    mode: CallerIdMode = Field(default="fixed", examples=["local_presence"])
    phone_number_ids: list[str] = Field(default_factory=list, max_length=MAX_POOL,
                                        description=_ID_HELP)
    dial_plan: list[DialPlanEntry] = Field(default_factory=list, max_length=MAX_POOL)

    @model_validator(mode="after")
    def _shape(self) -> CallerId:
        ids = self.phone_number_ids
        for index, phone_id in enumerate(ids):
            if phone_id in ids[:index]:
                raise FieldError(f"phone_number_ids[{index}]", f"'{phone_id}' is listed twice")
        if self.mode == "fixed" and len(ids) > 1:
            raise FieldError("phone_number_ids", "mode 'fixed' takes exactly one number; use "
                                                 "'pool' or 'local_presence' for several")
        if self.mode == "dial_plan":
            if ids:
                raise FieldError("phone_number_ids", "a dial plan names its numbers in its "
                                                     "entries; leave phone_number_ids empty")
            if not self.dial_plan:
                raise FieldError("dial_plan", "mode 'dial_plan' needs at least one entry")
            seen: dict[str, int] = {}
            for index, entry in enumerate(self.dial_plan):
                if entry.phone_number_id in seen:
                    first = seen[entry.phone_number_id]
                    raise FieldError(f"dial_plan[{index}].phone_number_id",
                                     f"number already used by dial_plan[{first}]; merge the "
                                     "two entries")
                seen[entry.phone_number_id] = index
        elif self.dial_plan:
            raise FieldError("dial_plan", f"dial_plan is only used with mode 'dial_plan', "
                                          f"not '{self.mode}'")
        return self

    def referenced_numbers(self) -> list[tuple[str, str]]:
        """(field, phone number id) of every number referenced."""
        if self.mode == "dial_plan":
            return [(f"caller_id.dial_plan[{i}].phone_number_id", e.phone_number_id)
                    for i, e in enumerate(self.dial_plan)]
        return [(f"caller_id.phone_number_ids[{i}]", p)
                for i, p in enumerate(self.phone_number_ids)]

    def stored(self) -> dict[str, Any]:
        """The JSON column's form: the dial plan keeps only its numbers (which contact each
        number calls is the campaign contact's ``caller_number_id``)."""
        return {"mode": self.mode, "phone_number_ids": list(self.phone_number_ids),
                "dial_plan": [{"phone_number_id": e.phone_number_id} for e in self.dial_plan]}


# --- schedule --------------------------------------------------------------------------------

class ScheduledMessage(Strict):
    """A text message sent to every contact of the run at a contact-local time."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "send_date": "2026-03-10", "send_time": "10:00", "channel": "sms",
        "body": "Hi {{first_name}}, a reminder that your renewal is due this week.",
    }]})

    send_date: date = Field(examples=["2026-03-10"], description="Within the run's dates")
    send_time: str = Field(examples=["10:00"], description="HH:MM, contact-local")
    channel: MessageChannel = Field(default="sms")
    subject: str | None = Field(default=None, max_length=255, description="E-mail only")
    body: str = Field(min_length=1, max_length=5_000, description="Template, like an "
                                                                  "assistant's first_message")

    @field_validator("send_time")
    @classmethod
    def _time(cls, value: str) -> str | None:
        return _hhmm(value)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        check_template(value)
        return value

    @model_validator(mode="after")
    def _subject(self) -> ScheduledMessage:
        if self.subject is not None and self.channel != "email":
            raise FieldError("subject", "only e-mail messages have a subject")
        return self


class Run(Strict):
    """A date range with a daily calling window (Kayse's run)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "client_run_id": "run-1", "start_date": "2026-03-09", "end_date": "2026-03-13",
        "start_time": "09:00", "end_time": "17:00",
    }]})

    client_run_id: str | None = Field(default=None, min_length=1, max_length=255,
                                      examples=["run-1"],
                                      description="Your id for the run; unique per campaign")
    start_date: date = Field(examples=["2026-03-09"])
    end_date: date = Field(examples=["2026-03-13"], description="Inclusive, >= start_date")
    start_time: str | None = Field(default=None, examples=["09:00"],
                                   description="HH:MM contact-local; required for calling "
                                               "runs unless the campaign uses business hours")
    end_time: str | None = Field(default=None, examples=["17:00"])
    messaging_only: bool = Field(default=False,
                                 description="Only sends `messages`; places no calls")
    selected_days: list[date] = Field(default_factory=list, max_length=MAX_RUNS,
                                      description="Only these dates of the range (empty: all)")
    messages: list[ScheduledMessage] = Field(default_factory=list, max_length=MAX_MESSAGES)

    @field_validator("start_time", "end_time")
    @classmethod
    def _times(cls, value: str | None) -> str | None:
        return _hhmm(value)

    @model_validator(mode="after")
    def _consistent(self) -> Run:
        if self.end_date < self.start_date:
            raise FieldError("end_date", "end_date must not be before start_date")
        if self.messaging_only:
            for name in ("start_time", "end_time"):
                if getattr(self, name) is not None:
                    raise FieldError(name, "a messaging-only run places no calls, so it has "
                                           "no calling times")
        elif (self.start_time is None) != (self.end_time is None):
            missing = "end_time" if self.end_time is None else "start_time"
            raise FieldError(missing, "give both start_time and end_time, or neither")
        if self.start_time and self.end_time and \
                parse_hhmm(self.end_time) <= parse_hhmm(self.start_time):
            raise FieldError("end_time", "end_time must be after start_time")
        for index, day in enumerate(self.selected_days):
            if not self.start_date <= day <= self.end_date:
                raise FieldError(f"selected_days[{index}]",
                                 f"{day} is outside the run ({self.start_date} to "
                                 f"{self.end_date})")
            if day in self.selected_days[:index]:
                raise FieldError(f"selected_days[{index}]", f"{day} is listed twice")
        for index, message in enumerate(self.messages):
            if not self.start_date <= message.send_date <= self.end_date:
                raise FieldError(f"messages[{index}].send_date",
                                 f"{message.send_date} is outside the run")
        return self

    @property
    def has_times(self) -> bool:
        return self.start_time is not None


_SCHEDULE_EXAMPLE: dict[str, Any] = {
    "timezone": "America/New_York",
    "start_at": "2026-03-09T13:00:00Z",
    "end_at": "2026-03-31T23:00:00Z",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "call_hours": {"start_time": "09:00", "end_time": "17:00"},
}


class Schedule(Strict):
    """When calls may be placed. All conditions hold together (their intersection), in the
    callee's local time, and the legal calling hours are applied on top at dial time.

    - ``start_at`` / ``end_at``: absolute instants bounding the campaign; or ``local_start_at``,
      a wall-clock time reached separately in each contact's own zone.
    - ``runs``: date ranges with their own daily window (then every calling day is in a run).
    - ``days``: allowed weekdays, by name (numbers are refused: APIs disagree on 0).
    - Daily window, by precedence: ``business_hours`` (or the workspace's, with
      ``use_workspace_business_hours``) replace run times and ``call_hours``; else each run's
      times; else ``call_hours``; else the whole legal day.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_SCHEDULE_EXAMPLE]})

    timezone: str | None = Field(
        default=None, examples=["America/New_York"],
        description="IANA zone for contacts whose own zone is unknown, and for reports; "
                    "defaults to the workspace's")
    start_at: AwareDatetime | None = Field(default=None, examples=["2026-03-09T13:00:00Z"],
                                           description="First instant calls may be placed")
    end_at: AwareDatetime | None = Field(default=None, examples=["2026-03-31T23:00:00Z"],
                                         description="No call starts at or after this instant")
    local_start_at: str | None = Field(
        default=None, examples=["2026-03-09T09:00"],
        description="Naive 'YYYY-MM-DDTHH:MM' in each contact's own zone; "
                    "exclusive with start_at")
    runs: list[Run] = Field(default_factory=list, max_length=MAX_RUNS)
    days: list[Weekday] | None = Field(default=None, examples=[["mon", "tue", "wed"]],
                                       description="Allowed weekdays (mon..sun); null: all")
    call_hours: TimeSlot | None = Field(default=None, description="Daily window, contact-local")
    use_workspace_business_hours: bool = Field(
        default=False, description="Follow the workspace's default business hours")
    business_hours: list[TimeSlot] | None = Field(
        default=None, max_length=24,
        examples=[[{"start_time": "09:00", "end_time": "12:00"},
                   {"start_time": "13:00", "end_time": "17:00"}]],
        description="Daily slots inside 08:00-21:00, not overlapping")
    stagger_seconds: int = Field(default=0, ge=0, le=3_600, examples=[2],
                                 description="Minimum gap between this campaign's call starts")
    retry_window_minutes: int | None = Field(
        default=None, ge=1, le=10_080, examples=[60],
        description="A due call not placed within this long (no capacity) is dropped "
                    "instead of waiting; null: it waits")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("start_at", "end_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:  # year 1 at a positive offset: before datetime.min in UTC
            raise ValueError("is out of range") from None

    @field_validator("local_start_at")
    @classmethod
    def _naive(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a date and time like '2026-03-09T09:00'") \
                from None
        if parsed.tzinfo is not None:
            raise ValueError("local_start_at is wall-clock time in each contact's zone; give "
                             "it without an offset, or use start_at for an absolute instant")
        if not 1 < parsed.year < 9999:  # a wall time in any zone must still be a datetime
            raise ValueError("local_start_at must be between the years 2 and 9998")
        return parsed.isoformat(timespec="minutes" if parsed.second == 0 else "seconds")

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        days: list[Weekday] = []
        for index, item in enumerate(value):
            try:
                days.append(_weekday(item))
            except ValueError as exc:
                raise FieldError(f"[{index}]", str(exc)) from None
        return [d for d in WEEKDAYS if d in days]  # canonical order, no repeats

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        if self.start_at and self.local_start_at:
            raise FieldError("local_start_at", "give start_at (an instant) or local_start_at "
                                               "(per-contact wall time), not both")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise FieldError("end_at", "end_at must be after start_at")
        if self.local_start_at and self.end_at:
            local = datetime.fromisoformat(self.local_start_at)
            if self.end_at <= local.replace(tzinfo=UTC) - _MAX_OFFSET:
                raise FieldError("end_at", "end_at is before local_start_at in every zone")
        if self.days is not None and not self.days:
            raise FieldError("days", "at least one day is needed (null allows every day)")
        uses_business = self.uses_business_hours
        if self.business_hours is not None:
            if not self.business_hours:
                raise FieldError("business_hours", "give at least one slot, or null")
            check_slots(self.business_hours, "business_hours")
            if self.use_workspace_business_hours:
                raise FieldError("use_workspace_business_hours",
                                 "give business_hours or use the workspace's, not both")
        if self.call_hours is not None:
            if uses_business:
                raise FieldError("call_hours", "business hours replace call_hours; give one")
            if any(r.has_times for r in self.runs):
                raise FieldError("call_hours", "runs set their own daily times; call_hours "
                                               "only fills in for runs without times")
        seen: dict[str, int] = {}
        for index, run in enumerate(self.runs):
            if run.client_run_id is not None:
                if run.client_run_id in seen:
                    raise FieldError(f"runs[{index}].client_run_id",
                                     f"'{run.client_run_id}' is already runs"
                                     f"[{seen[run.client_run_id]}]'s id")
                seen[run.client_run_id] = index
            if not run.messaging_only and not run.has_times and not uses_business \
                    and self.call_hours is None:
                raise FieldError(f"runs[{index}].start_time",
                                 "a calling run needs start_time and end_time (or campaign "
                                 "business_hours / call_hours)")
        return self

    @property
    def uses_business_hours(self) -> bool:
        return self.business_hours is not None or self.use_workspace_business_hours

    @property
    def messaging_only(self) -> bool:
        """True when every run only sends messages: nothing is ever dialed."""
        return bool(self.runs) and all(r.messaging_only for r in self.runs)


_MAX_OFFSET = datetime(2000, 1, 1, 14, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)


# --- retry, voicemail, memory ---------------------------------------------------------------

class RetrySettings(Strict):
    """Retries of unanswered calls. Every attempt counts toward ``max_attempts``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"auto_retry": True, "delays_minutes": [60, 240],
         "retry_on": ["no-answer", "busy", "voicemail", "failed"], "max_attempts": 3},
        {"delays_minutes": "[30,120]", "relative_to": "first_attempt"},
    ]})

    auto_retry: bool = Field(default=True, description="false: one attempt per contact")
    delays_minutes: list[int] = Field(
        default_factory=lambda: list(retry_core.DEFAULT_DELAYS), examples=[[60, 240]],
        description="Minutes before each retry, 1..43200, as a list or a string like "
                    "\"[30,120]\"; past the list the last delay repeats")
    relative_to: retry_core.DelayBasis = Field(
        default="previous_attempt",
        description="previous_attempt: each delay counts from the end of the attempt before; "
                    "first_attempt: each is an offset from the first attempt (increasing)")
    retry_on: list[retry_core.RetryOutcome] = Field(
        default_factory=lambda: list(retry_core.RETRYABLE_OUTCOMES), min_length=1,
        description="Outcomes that are retried")
    max_attempts: int | None = Field(
        default=None, ge=1, le=retry_core.MAX_ATTEMPTS, examples=[3],
        description="Attempts in all, first call included; default len(delays_minutes) + 1, "
                    "or 1 when auto_retry is false")

    @field_validator("delays_minutes", mode="before")
    @classmethod
    def _delays(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            try:
                return list(retry_core.parse_delays(value))
            except retry_core.RetryDelayError as exc:
                if exc.index is not None:
                    raise FieldError(f"[{exc.index}]", exc.message) from None
                raise ValueError(exc.message) from None
        return value

    @field_validator("retry_on")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return [o for o in retry_core.RETRYABLE_OUTCOMES if o in value]

    @model_validator(mode="after")
    def _attempts(self) -> RetrySettings:
        if self.relative_to == "first_attempt":
            try:
                retry_core.check_increasing(self.delays_minutes)
            except retry_core.RetryDelayError as exc:
                raise FieldError(f"delays_minutes[{exc.index}]", exc.message) from None
        if not self.auto_retry:
            if self.max_attempts not in (None, 1):
                raise FieldError("max_attempts", "auto_retry is false, so there is one "
                                                 "attempt; drop max_attempts or enable retries")
            self.max_attempts = 1
        elif self.max_attempts is None:
            self.max_attempts = len(self.delays_minutes) + 1
        elif self.max_attempts > 1 and not self.delays_minutes:
            raise FieldError("delays_minutes", "retries need at least one delay")
        return self

    def policy(self) -> retry_core.RetryPolicy:
        return retry_core.RetryPolicy(
            auto_retry=self.auto_retry, delays_minutes=tuple(self.delays_minutes),
            retry_on=frozenset(self.retry_on), max_attempts=self.max_attempts or 1,
            relative_to=self.relative_to)


class VoicemailSettings(Strict):
    """Answering-machine detection (AMD) and what to do when a machine answers."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"detection_enabled": True, "detection_timeout_seconds": 30, "action": "leave_message",
         "message": "Hi {{first_name}}, this is Ava from Acme. Please call us back."},
    ]})

    detection_enabled: bool = Field(default=True)
    detection_timeout_seconds: int | None = Field(
        default=None, ge=3, le=60, examples=[30],
        description="Seconds AMD may listen before deciding, 3-60; null: provider default")
    action: VoicemailAction = Field(default="hang_up",
                                    description="hang_up | leave_message")
    message: str | None = Field(
        default=None, max_length=5_000,
        description="Template left on the machine; null: the assistant's voicemail_message")

    @field_validator("message")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return check_template(value)


class MemorySettings(Strict):
    """What the agent remembers of earlier calls with the same contact."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"use_returning_greeting": True,
         "returning_greeting": "Hi {{first_name}}, Ava again from Acme.",
         "use_short_term_summaries": True, "short_term_summaries_limit": 3},
    ]})

    use_returning_greeting: bool = Field(default=False, description="Greet a contact reached "
                                                                    "before differently")
    returning_greeting: str | None = Field(
        default=None, max_length=5_000,
        description="Template; null: the assistant's returning_greeting")
    use_short_term_summaries: bool = Field(
        default=False, description="Give the agent summaries of the contact's last calls")
    short_term_summaries_limit: int | None = Field(default=None, ge=1, le=1000, examples=[3],
                                                   description="How many summaries, 1-1000")

    @field_validator("returning_greeting")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return check_template(value)


# --- report schedule, options ---------------------------------------------------------------

class ReportSchedule(Strict):
    """A CSV report of the campaign's calls e-mailed on a schedule (Kayse)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Weekly Campaign Report", "run_client_ids": ["run-1"], "frequency": "weekly",
        "weekday": 2, "time": "09:30", "recipients": ["reports@firm.com"], "format": "csv",
        "date_range": "cumulative", "filters": {},
    }]})

    name: str = Field(min_length=1, max_length=255, examples=["Weekly Campaign Report"])
    run_client_ids: list[str] = Field(
        default_factory=list, examples=[["run-1"]],
        description="Runs the report covers, by schedule.runs[].client_run_id; empty: all")
    frequency: ReportFrequency = Field(examples=["weekly"])
    weekday: int | None = Field(default=None, ge=0, le=6, examples=[2],
                                description="Weekly only: 0 Sunday, 1 Monday ... 6 Saturday")
    day_of_month: int | None = Field(default=None, ge=1, le=31, examples=[1],
                                     description="Monthly only, 1-31; in shorter months, "
                                                 "the last day")
    time: str = Field(examples=["09:30"], description="HH:MM in the schedule's timezone")
    recipients: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS,
                                  examples=[["reports@firm.com"]])
    format: Literal["csv"] = "csv"
    date_range: ReportRange = Field(default="cumulative")
    filters: dict[str, Any] = Field(default_factory=dict, examples=[{}])

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str | None:
        return _hhmm(value)

    @field_validator("recipients")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        cleaned: list[str] = []
        for index, address in enumerate(value):
            address = address.strip()
            if not _EMAIL.fullmatch(address):
                raise FieldError(f"[{index}]", f"'{address}' is not an e-mail address")
            cleaned.append(address)
        return cleaned

    @model_validator(mode="after")
    def _frequency(self) -> ReportSchedule:
        if self.frequency == "weekly" and self.weekday is None:
            raise FieldError("weekday", "a weekly report needs weekday (0 Sunday ... "
                                        "6 Saturday)")
        if self.frequency != "weekly" and self.weekday is not None:
            raise FieldError("weekday", "weekday is only used by weekly reports")
        if self.frequency == "monthly" and self.day_of_month is None:
            raise FieldError("day_of_month", "a monthly report needs day_of_month (1-31)")
        if self.frequency != "monthly" and self.day_of_month is not None:
            raise FieldError("day_of_month", "day_of_month is only used by monthly reports")
        return self


class CampaignOptions(Strict):
    """Flags carried for integrations (Kayse); Ringwise records them and reports them back."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"on_behalf_of_clients": False, "calls_scheduled_externally": False,
         "self_healing_disabled": False, "form_id": "42"},
    ]})

    on_behalf_of_clients: bool = Field(default=False, description="Calls made on behalf of "
                                                                  "your clients (Kayse is_obo)")
    calls_scheduled_externally: bool = Field(
        default=False, description="Another system decides when each contact is called")
    self_healing_disabled: bool = Field(default=False,
                                        description="Do not enrich or repair contact data")
    form_id: str | None = Field(default=None, max_length=255, examples=["42"],
                                description="An external form linked to the campaign")

    @field_validator("form_id", mode="before")
    @classmethod
    def _form(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value




class ContactSources(CleanStrict):
    """Ways to add contacts; duplicates (within the request or already in the campaign) are
    ignored and counted."""

    contact_ids: list[str] = Field(default_factory=list, max_length=MAX_BULK,
                                   description=f"Existing contacts, <= 10,000. {_ID_HELP}")
    contact_list_ids: list[str] = Field(default_factory=list, max_length=MAX_LISTS,
                                        description="Every current member of these lists")
    contacts: list[CampaignContactInput] = Field(
        default_factory=list, max_length=MAX_BULK,
        description="Inline contacts, <= 10,000, created or updated by phone")

    @property
    def has_contacts(self) -> bool:
        return bool(self.contact_ids or self.contact_list_ids or self.contacts)


class CampaignContactsAdd(ContactSources):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"contact_ids": ["0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11"],
         "contacts": [{"phone": "+14155550100", "first_name": "Ann"}]},
    ]})

    phone_number_id: str | None = Field(
        default=None, description="Dial-plan campaigns: the plan's number that calls these "
                                  "contacts (required then, refused otherwise)")

    @model_validator(mode="after")
    def _some(self) -> CampaignContactsAdd:
        if not self.has_contacts:
            raise FieldError("contact_ids", "give contact_ids, contact_list_ids or contacts")
        return self


class CampaignContactsAdded(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"added": 2, "duplicates": 1, "contacts_total": 12}]})

    added: int = Field(examples=[2], description="Contacts newly in the campaign")
    duplicates: int = Field(examples=[1], description="Ignored: repeated in the request or "
                                                      "already in the campaign")
    contacts_total: int = Field(examples=[12])


# --- campaign -------------------------------------------------------------------------------

_CREATE_EXAMPLE: dict[str, Any] = {
    "name": "Spring renewals",
    "description": "Policies renewing before April",
    "assistant_id": "6a1f0c9e-2b7d-4d3a-8f5e-1c2b3a4d5e6f",
    "channel": "twilio",
    "caller_id": {"mode": "local_presence", "phone_number_ids": [
        "9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f", "1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6"]},
    "schedule": _SCHEDULE_EXAMPLE,
    "retry": {"auto_retry": True, "delays_minutes": [60, 240],
              "retry_on": ["no-answer", "busy", "voicemail"]},
    "concurrency_limit": 5,
    "priority": 60,
    "voicemail": {"detection_timeout_seconds": 30, "action": "leave_message"},
    "opening_message": "Hi {{first_name}}, this is Ava from Acme Insurance.",
    "memory": {"use_returning_greeting": True},
    "analysis": {"scoring_criteria": "Score 0-100 based on renewal intent",
                 "tags": [{"name": "Interested", "description": "Wants to renew"}]},
    "metadata": {"owner": "renewals-team"},
    "contacts": [{"phone": "+14155550100", "first_name": "Ann",
                  "custom_fields": {"policy": "P-1"}}],
}


class _Settings(CleanStrict):
    """Validators shared by every body carrying settings (fields declared by each)."""

    @field_validator("opening_message", check_fields=False)
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return check_template(value)

    @field_validator("metadata", check_fields=False)
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_metadata(value)


def check_report_runs(report: ReportSchedule | None, schedule: Schedule | None) -> None:
    if report is None:
        return
    known = {r.client_run_id for r in (schedule.runs if schedule else [])}
    for index, run_id in enumerate(report.run_client_ids):
        if run_id not in known:
            raise FieldError(f"report_schedule.run_client_ids[{index}]",
                             f"'{run_id}' is not the client_run_id of any of schedule.runs")


_TELEMARKETING = ("Telemarketing (a call that sells, or encourages a purchase): every contact "
                  "needs recorded consent (its consent_basis), and each call opens with who is "
                  "calling and how to opt out")
_REGULATION_F = ("Debt collection under CFPB Regulation F: its call-frequency limits apply "
                 "(at most 7 attempts in 7 days per debt)")


class CampaignSettings(_Settings):
    """Every setting of a campaign (a create body without its contacts)."""

    name: str = Field(min_length=1, max_length=255, examples=["Spring renewals"])
    description: str | None = Field(default=None, max_length=10_000)
    assistant_id: str | None = Field(
        default=None, max_length=64,
        description="The assistant (or workflow / squad) on the calls; optional in a draft, "
                    f"required to start. {_ID_HELP}")
    channel: Channel | None = Field(
        default=None, description="Telephony provider: simulated | twilio | vobiz; must be "
                                  "the provider of the caller numbers (null: taken from them)")
    caller_id: CallerId = Field(default_factory=CallerId)
    schedule: Schedule = Field(default_factory=Schedule)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    concurrency_limit: int = Field(default=0, ge=0, le=MAX_CONCURRENCY, examples=[5],
                                   description="Calls in flight at once, 1-200; 0: up to the "
                                               "workspace limit")
    priority: int = Field(default=50, ge=1, le=100, examples=[50],
                          description="1-100; higher is dialed first when capacity is short")
    never_ending: bool = Field(default=False, description="Do not complete when every contact "
                                                          "is done: new contacts may come")
    auto_start: bool = Field(default=False, description="Start right after creation")
    telemarketing: bool = Field(default=False, examples=[False], description=_TELEMARKETING)
    regulation_f: bool = Field(default=False, examples=[False], description=_REGULATION_F)
    voicemail: VoicemailSettings = Field(default_factory=VoicemailSettings)
    speech_settings: SpeechSettings | None = Field(
        default=None, description="Overrides the assistant's; null: the assistant's")
    opening_message: str | None = Field(
        default=None, max_length=5_000,
        description="Template of the first line; null: the assistant's first_message")
    campaign_context: str | None = Field(default=None, max_length=50_000,
                                         description="Background the agent may draw on")
    memory: MemorySettings = Field(default_factory=MemorySettings)
    analysis: AnalysisSettings | None = Field(
        default=None, description="Post-call analysis; null: the assistant's")
    report_schedule: ReportSchedule | None = None
    options: CampaignOptions = Field(default_factory=CampaignOptions)
    metadata: dict[str, Any] | None = Field(default=None, examples=[{"owner": "renewals-team"}])

    @model_validator(mode="after")
    def _cross(self) -> CampaignSettings:
        check_report_runs(self.report_schedule, self.schedule)
        return self


class CampaignCreate(CampaignSettings, ContactSources):
    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    @model_validator(mode="after")
    def _dial_plan_contacts(self) -> CampaignCreate:
        if self.caller_id.mode == "dial_plan":
            for name in ("contact_ids", "contact_list_ids", "contacts"):
                if getattr(self, name):
                    raise FieldError(name, "with a dial plan, contacts are given in the "
                                           "entries of caller_id.dial_plan")
        total = len(self.contacts) + sum(len(e.contacts) for e in self.caller_id.dial_plan)
        if total > MAX_BULK:
            raise FieldError("contacts", f"at most {MAX_BULK} inline contacts per request")
        return self


class CampaignUpdate(_Settings):
    """PATCH, while the campaign is draft or paused: only the fields sent change; a section
    (caller_id, schedule, retry, ...) is replaced whole. null clears description, assistant_id
    (drafts only), channel, speech_settings, opening_message, campaign_context, analysis,
    report_schedule and metadata. Dial-plan entries may bring contacts (added, or moved to that
    entry's number)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"priority": 80, "retry": {"delays_minutes": [30, 120], "max_attempts": 3}},
    ]})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    assistant_id: str | None = Field(default=None, max_length=64)
    channel: Channel | None = None
    caller_id: CallerId | None = None
    schedule: Schedule | None = None
    retry: RetrySettings | None = None
    concurrency_limit: int | None = Field(default=None, ge=0, le=MAX_CONCURRENCY)
    priority: int | None = Field(default=None, ge=1, le=100)
    never_ending: bool | None = None
    telemarketing: bool | None = Field(default=None, examples=[True], description=_TELEMARKETING)
    regulation_f: bool | None = Field(default=None, examples=[False], description=_REGULATION_F)
    voicemail: VoicemailSettings | None = None
    speech_settings: SpeechSettings | None = None
    opening_message: str | None = Field(default=None, max_length=5_000)
    campaign_context: str | None = Field(default=None, max_length=50_000)
    memory: MemorySettings | None = None
    analysis: AnalysisSettings | None = None
    report_schedule: ReportSchedule | None = None
    options: CampaignOptions | None = None
    metadata: dict[str, Any] | None = None


class CampaignCounts(Out):
    """Live counters, kept in step with every change they count (no scan on read)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "contacts_total": 120, "contacts_pending": 80, "contacts_active": 5,
        "contacts_done": 30, "contacts_skipped": 5, "calls_total": 64, "calls_queued": 2,
        "calls_in_progress": 5, "calls_ended": 57, "calls_answered": 31,
        "calls_voicemail": 9, "calls_no_answer": 12, "calls_busy": 3, "calls_failed": 2,
    }]})

    contacts_total: int = 0
    contacts_pending: int = Field(default=0, description="Waiting for their next attempt")
    contacts_active: int = Field(default=0, description="On a call now")
    contacts_done: int = Field(default=0, description="Finished: reached, or out of attempts")
    contacts_skipped: int = Field(default=0, description="Never called (DNC, invalid, ...)")
    calls_total: int = 0
    calls_queued: int = 0
    calls_in_progress: int = 0
    calls_ended: int = 0
    calls_answered: int = 0
    calls_voicemail: int = 0
    calls_no_answer: int = 0
    calls_busy: int = 0
    calls_failed: int = 0


class CallerIdOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"mode": "fixed", "phone_number_ids": ["9c0d7e4a-1f2b-4c3d-8e5f-6a7b8c9d0e1f"],
         "dial_plan": []},
    ]})

    mode: CallerIdMode
    phone_number_ids: list[str] = Field(default_factory=list)
    dial_plan: list[dict[str, str]] = Field(
        default_factory=list, examples=[[{"phone_number_id": "9c0d7e4a-..."}]],
        description="The plan's numbers; each contact's number is its caller_number_id")


class CampaignOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        **{k: v for k, v in _CREATE_EXAMPLE.items() if k != "contacts"},
        "id": "3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8", "status": "draft",
        "allowed_actions": ["start", "cancel"], "ended_reason": None,
        "counts": CampaignCounts.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
        "started_at": None, "completed_at": None,
    }]})

    id: str = Field(examples=["3b0c6a2e-9d8f-4e7a-b1c2-d3e4f5a6b7c8"])
    name: str
    description: str | None = None
    status: CampaignStatus = Field(description="draft | scheduled | running | paused | "
                                               "completed | canceled")
    allowed_actions: list[str] = Field(default_factory=list, examples=[["start", "cancel"]],
                                       description="Lifecycle actions legal now")
    assistant_id: str | None = None
    channel: Channel | None = None
    caller_id: CallerIdOut
    schedule: Schedule
    retry: RetrySettings
    concurrency_limit: int
    priority: int
    never_ending: bool
    auto_start: bool
    telemarketing: bool = Field(default=False, examples=[False], description=_TELEMARKETING)
    regulation_f: bool = Field(default=False, examples=[False], description=_REGULATION_F)
    voicemail: VoicemailSettings
    speech_settings: SpeechSettings | None = None
    opening_message: str | None = None
    campaign_context: str | None = None
    memory: MemorySettings
    analysis: AnalysisSettings | None = None
    report_schedule: ReportSchedule | None = None
    options: CampaignOptions
    metadata: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("metadata_", "metadata"))
    ended_reason: str | None = None
    counts: CampaignCounts
    stats: StatsSummary | None = Field(
        default=None, description="Results of its ended calls; full detail at "
                                  "GET /v1/campaigns/{id}/stats")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class CampaignCreated(CampaignOut):
    contacts_added: int = Field(examples=[1], description="Contacts put in the campaign")
    duplicates_ignored: int = Field(examples=[0], description="Repeated contacts ignored")


class CampaignContactOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
        "contact_id": "0b6f3c51-8d0e-4c84-9a53-3f1d8a2e7c11", "phone": "+14155550100",
        "first_name": "Ann", "last_name": None, "state": "pending", "outcome": None,
        "attempts": 0, "next_eligible_at": None, "caller_number_id": None,
        "assistant_overrides": None, "metadata": None,
        "created_at": "2026-03-02T15:00:00Z", "updated_at": "2026-03-02T15:00:00Z",
    }]})

    id: str
    contact_id: str
    phone: str
    first_name: str | None = None
    last_name: str | None = None
    state: str = Field(description="pending | active | done | skipped")
    outcome: str | None = Field(default=None, description="Last attempt's outcome")
    attempts: int
    next_eligible_at: datetime | None = Field(
        default=None, description="Next instant it may be dialed (null: not yet computed, "
                                  "or terminal)")
    caller_number_id: str | None = None
    assistant_overrides: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
