"""The simulator / forecaster: run a campaign on virtual time before any real call.

A scenario (``docs/simulator.md``, ``examples/``) holds the JSON bodies the API takes -- the
workspace ``settings``, an ``assistant``, ``phone_numbers``, the ``campaign`` -- plus contacts
(inline and/or a CSV file), a ``dnc`` list, a ``carrier`` model and the ``launch_at`` instant.

One code path, twice over:

* **the input** goes through the API's own schemas and services: the scenario is validated
  by the request models (``WorkspaceSettingsUpdate``, ``AssistantCreate``,
  ``PhoneNumberCreate``, ``CampaignCreate``, per-row ``ContactInput``), then loaded into a
  throw-away SQLite database by the services the routes call (contact upsert, CSV import,
  campaign create, ``apply_action(start)`` at ``launch_at``). A bad field is a
  :class:`ScenarioError` naming it (``campaign.retry.delays_minutes[0]``);
* **the dialing** is the real :class:`~ringwise.dialer.engine.Dialer`, driven by
  :func:`~ringwise.dialer.driver.drive` on a :class:`~ringwise.clock.ManualClock` against a
  :class:`~ringwise.telephony.simulated.SimulatedCarrier`. The prepared workspace, campaign,
  numbers and contacts are read back through the SQL store's port and copied into a
  :class:`~ringwise.dialer.memory_store.MemoryDialerStore` (speed); nothing of the dialing
  logic is repeated here.

Determinism: the database invents random ids, so the copy renames what reaches the carrier
or the output -- campaign contact ``i`` (in the order the campaign holds them) gets a fixed
id, a contact's id is a UUID derived from its phone -- and a call's id is derived from those
(``plans.call_id_for``). Same scenario and seed: the same calls, byte for byte.

Metrics (see ``docs/simulator.md`` for the definitions) are computed from the call log the
store keeps, plus the spans during which contacts were due: the dialer's store calls are
observed (not changed) by :class:`DemandRecorder`.
"""

from __future__ import annotations

import copy
import gc
import json
import tempfile
import uuid
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

from pydantic import AwareDatetime, Field, ValidationError

from ringwise.api.errors import error_field
from ringwise.api.schemas.assistants import AssistantCreate
from ringwise.api.schemas.campaigns import CampaignCreate
from ringwise.api.schemas.common import Strict
from ringwise.api.schemas.contact_lists import ContactListCreate
from ringwise.api.schemas.contacts import MAX_BULK, ContactBulkCreate
from ringwise.api.schemas.phone_numbers import PhoneNumberCreate
from ringwise.api.schemas.settings import WorkspaceSettingsUpdate
from ringwise.clock import ManualClock
from ringwise.core import pacing
from ringwise.core.call_states import CALL_OUTCOMES, CallOutcome
from ringwise.core.phones import InvalidPhone, parse_e164
from ringwise.db.engine import Database
from ringwise.db.migrate import upgrade
from ringwise.db.models import Workspace
from ringwise.dialer.driver import drive
from ringwise.dialer.engine import Dialer
from ringwise.dialer.memory_store import CallRow, CampaignRow, ContactRow, MemoryDialerStore
from ringwise.dialer.plans import CampaignPlan, compile_plan, uuid5_text
from ringwise.dialer.preflight import Preflight, Rejection, Verdict, check, iso, summarize
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.dialer.store import (
    AttemptEnd,
    CallChange,
    CallView,
    CampaignView,
    ClaimDecider,
    ClaimDecision,
    ClaimInput,
    NewCall,
    NumberView,
    ScheduleChange,
    Scheduled,
    Target,
    WorkspaceView,
)
from ringwise.errors import RingwiseError
from ringwise.services import assistants, campaigns, contact_lists, contacts, phone_numbers
from ringwise.services import workspaces as workspaces_service
from ringwise.services.context import Ctx
from ringwise.services.csv_import import ImportOptions, import_csv
from ringwise.telephony.callee import ModelError
from ringwise.telephony.simulated import CarrierModel, SimulatedCarrier

__all__ = ["DemandRecorder", "Prepared", "Scenario", "ScenarioError", "Simulation",
           "load_scenario", "prepare", "run", "simulate"]

DEFAULT_HORIZON_DAYS: Final = 30.0
MAX_HORIZON_DAYS: Final = 366.0
WORKER_ID: Final = "simulator"
_CONTACT_IDS: Final = uuid.UUID("2d0b8f8e-5d55-4a4e-9a0c-6f3b1d8e7a21")
_US_PER_HOUR: Final = 3_600_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_FINISHED: Final = ("completed", "canceled")


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; ``field`` is the path of the culprit in the
    scenario file (``campaign.retry.delays_minutes[0]``), None for the file as a whole."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


# --- the scenario file -----------------------------------------------------------------------

class ScenarioFile(Strict):
    """A scenario file's top level. Sections are the API's own request models."""

    name: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    launch_at: AwareDatetime
    horizon_days: float = Field(default=DEFAULT_HORIZON_DAYS, gt=0, le=MAX_HORIZON_DAYS)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    settings: WorkspaceSettingsUpdate = Field(default_factory=WorkspaceSettingsUpdate)
    assistant: AssistantCreate | None = None
    phone_numbers: list[PhoneNumberCreate] = Field(default_factory=list, max_length=1_000)
    campaign: CampaignCreate
    contacts: list[dict[str, Any]] = Field(default_factory=list)
    contacts_csv: str | None = Field(default=None, min_length=1)
    csv_mapping: dict[str, str | None] = Field(default_factory=dict)
    dnc: list[str] = Field(default_factory=list)
    carrier: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario; ``raw_campaign`` is the campaign body as written (numbers are
    referenced by their phone number there, and become ids once created)."""

    file: ScenarioFile
    raw_campaign: Mapping[str, Any]
    carrier: CarrierModel
    base_dir: Path
    path: Path | None = None

    @property
    def launch_at(self) -> datetime:
        return self.file.launch_at.astimezone(UTC)

    @property
    def name(self) -> str:
        if self.file.name:
            return self.file.name
        return self.path.name if self.path is not None else "scenario"


def parse_scenario(data: Any, base_dir: Path | None = None,
                   path: Path | None = None) -> Scenario:
    """Validate a scenario's JSON value; ScenarioError names the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(None, "a scenario must be a JSON object")
    try:
        file = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(None, exc) from None
    try:
        carrier = CarrierModel.from_dict(file.carrier)
    except ModelError as exc:
        raise ScenarioError(f"carrier.{exc.field}", exc.detail) from None
    return Scenario(file, dict(data["campaign"]), carrier, base_dir or Path.cwd(), path)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file (relative paths in it are relative to its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(None, f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(None, f"{path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(None, f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} "
                                  f"column {exc.colno}") from None
    return parse_scenario(data, path.parent, path)


def _validation_error(section: str | None, exc: ValidationError) -> ScenarioError:
    error = dict(exc.errors()[0])
    path = error_field(error)
    if section:
        path = section if not path else (
            f"{section}{path}" if path.startswith("[") else f"{section}.{path}")
    if error.get("type") == "missing":
        message = "this field is required"
    else:
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return ScenarioError(path, message)


def _service_error(section: str, exc: RingwiseError) -> ScenarioError:
    """A service's error, its field placed under the scenario section it came from."""
    field_name, message = exc.field, exc.message
    if field_name and message.startswith(f"{field_name}: "):
        message = message[len(field_name) + 2:]
    if not field_name:
        return ScenarioError(section, message)
    joined = f"{section}{field_name}" if field_name.startswith("[") \
        else f"{section}.{field_name}"
    return ScenarioError(joined, message)


# --- preparing: the scenario through the API's services ------------------------------------

@dataclass(frozen=True, slots=True)
class InputCounts:
    """What became of the input rows before the campaign held them."""

    rows: int = 0  # contact rows read, every source
    invalid: int = 0  # rejected on input (a phone that does not parse, or another field)
    duplicate: int = 0  # a phone already in an earlier row
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class Prepared:
    """A scenario loaded through the services: what the dialer's store port reads back, and
    the launch-time preflight. ``targets`` are the campaign's contacts, renamed for
    determinism (see the module doc) and with their zones resolved, DNC ones excluded."""

    scenario: Scenario
    launch_at: datetime
    workspace: WorkspaceView
    campaign: CampaignView
    numbers: tuple[NumberView, ...]
    plan: CampaignPlan
    targets: tuple[Target, ...]
    inputs: InputCounts
    preflight: Preflight
    dnc_excluded: int
    not_ready: ScenarioError | None = None  # why starting would fail (preflight only)


def contact_id_for(phone: str) -> str:
    """A contact's id in the simulation: derived from its E.164 phone (stable across runs and
    across edits of the rest of the scenario)."""
    return uuid5_text(_CONTACT_IDS, phone)


def target_id_for(index: int) -> str:
    """The id of the campaign's ``index``-th contact: ordered like the index."""
    return f"00000000-0000-4000-8000-{index:012x}"


@contextmanager
def _scratch_database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="ringwise-sim-") as folder:
        url = f"sqlite:///{Path(folder) / 'scenario.db'}"
        upgrade(url)
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


def prepare(scenario: Scenario, *, contacts_csv: Path | None = None,
            start: bool = True) -> Prepared:
    """Load ``scenario`` through the services (starting the campaign at ``launch_at`` when
    ``start``; otherwise only checking that it could start), and read it back."""
    launch = scenario.launch_at
    dnc = _dnc(scenario)
    with _scratch_database() as db:
        with db.transaction() as session:
            workspace = workspaces_service.create_workspace(
                session, scenario.name[:255] or "Simulation", launch)
            ctx = Ctx(session=session, workspace=workspace, now=launch)
            campaign_id, inputs, not_ready = _load(ctx, scenario, contacts_csv, start)
            workspace_id = workspace.id
        sql = SqlDialerStore(db)
        view = next(v for v in sql.campaigns(("draft", "scheduled", "running"))
                    if v.id == campaign_id)
        workspace_view = sql.workspaces([workspace_id])[workspace_id]
        numbers = tuple(sql.numbers(workspace_id))
        loaded = sql.unscheduled(campaign_id, max(view.contacts_total, 1))
    try:
        plan = compile_plan(view, workspace_view)
    except (ValueError, KeyError) as exc:
        head, sep, rest = str(exc).partition(": ")
        raise ScenarioError(f"campaign.{head}" if sep else "campaign",
                            rest if sep else str(exc)) from None
    verdicts = [check(plan, target, launch, dnc) for target in loaded]
    report = summarize(verdicts, launch, invalid=inputs.invalid, duplicate=inputs.duplicate,
                       rejections=inputs.rejections)
    # Launched now and not staggered: the dialer's first tick would schedule every contact
    # exactly as the preflight just did, so the targets come scheduled.
    scheduled = view.status == "running" and not plan.stagger_seconds
    targets = tuple(_renamed(v, index, scheduled) for index, v in enumerate(
        v for v in verdicts if v.reason != "dnc"))
    counters_free = replace(view, contacts_total=0, contacts_pending=0, contacts_active=0,
                            in_flight=0)
    return Prepared(scenario, launch, workspace_view, counters_free, numbers, plan, targets,
                    inputs, report, report.skipped["dnc"], not_ready)


def _renamed(verdict: Verdict, index: int, scheduled: bool) -> Target:
    target = verdict.target
    if scheduled and verdict.reason is None:
        return replace(target, id=target_id_for(index), contact_id=contact_id_for(target.phone),
                       zones=verdict.zones, due_at=verdict.first_at,
                       window_end=verdict.window_end)
    return replace(target, id=target_id_for(index), contact_id=contact_id_for(target.phone),
                   zones=verdict.zones or None)


def _dnc(scenario: Scenario) -> frozenset[str]:
    """The scenario's do-not-call numbers in E.164 (national ones in the workspace's
    default region, as contacts are read)."""
    region = scenario.file.settings.default_region or "US"
    numbers: set[str] = set()
    for index, text in enumerate(scenario.file.dnc):
        try:
            numbers.add(parse_e164(text, region))
        except InvalidPhone as exc:
            raise ScenarioError(f"dnc[{index}]", str(exc)) from None
    return frozenset(numbers)


def _load(ctx: Ctx, scenario: Scenario, contacts_csv: Path | None,
          start: bool) -> tuple[str, InputCounts, ScenarioError | None]:
    """Everything the API would be asked, in order; the campaign's id and the input counts."""
    file = scenario.file
    _apply_settings(ctx.workspace, file.settings, ctx.now)
    assistant = assistants.create_assistant(
        ctx, file.assistant or AssistantCreate(name="Simulated assistant"))
    refs: dict[str, str] = {}
    for index, number_body in enumerate(file.phone_numbers):
        try:
            number = phone_numbers.create_phone_number(ctx, number_body)
        except RingwiseError as exc:
            raise _service_error(f"phone_numbers[{index}]", exc) from None
        refs[number_body.number] = number.id
        refs[number.number] = number.id
    rows, invalid, rejections, list_id = _load_contacts(ctx, scenario, contacts_csv)
    raw = _campaign_body(scenario, assistant.id, refs, list_id)
    try:
        body = CampaignCreate.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error("campaign", exc) from None
    rows += len(body.contacts) + sum(len(e.contacts) for e in body.caller_id.dial_plan)
    try:
        campaign, added = campaigns.create_campaign(ctx, body)
    except RingwiseError as exc:
        raise _service_error("campaign", exc) from None
    not_ready: ScenarioError | None = None
    try:
        if start and campaign.status == "draft":
            campaigns.apply_action(ctx, campaign.id, "start")
        elif not start:
            campaigns.check_startable(ctx, campaign)
    except RingwiseError as exc:
        error = _service_error("campaign", exc)
        if start:
            raise error from None
        not_ready = error
    duplicate = max(rows - invalid - added.contacts_total, 0)
    return campaign.id, InputCounts(rows, invalid, duplicate, tuple(rejections)), not_ready


def _apply_settings(workspace: Workspace, body: WorkspaceSettingsUpdate, now: datetime) -> None:
    """What ``PATCH /v1/settings`` does with a validated body."""
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is None and name != "business_hours":
            continue
        setattr(workspace, name, value)
    workspace.updated_at = now


def _campaign_body(scenario: Scenario, assistant_id: str, refs: Mapping[str, str],
                   list_id: str | None) -> dict[str, Any]:
    """The campaign body as written, with its number references (phone numbers as written
    in ``phone_numbers``, or their E.164 form) turned into the created numbers' ids, the
    scenario's assistant when it names none, and the scenario's contacts (as a list)."""
    raw = copy.deepcopy(dict(scenario.raw_campaign))
    if raw.get("assistant_id") is None:
        raw["assistant_id"] = assistant_id
    caller = raw.get("caller_id")
    if isinstance(caller, dict):
        ids = caller.get("phone_number_ids")
        if isinstance(ids, list):
            caller["phone_number_ids"] = [refs.get(i, i) if isinstance(i, str) else i
                                          for i in ids]
        for entry in caller.get("dial_plan") or ():
            if isinstance(entry, dict) and isinstance(entry.get("phone_number_id"), str):
                entry["phone_number_id"] = refs.get(entry["phone_number_id"],
                                                    entry["phone_number_id"])
    if list_id is not None:
        if isinstance(caller, dict) and caller.get("mode") == "dial_plan":
            raise ScenarioError("contacts", "a dial-plan campaign takes its contacts in "
                                            "campaign.caller_id.dial_plan[i].contacts")
        raw["contact_list_ids"] = [*(raw.get("contact_list_ids") or ()), list_id]
    return dict(raw)


def _load_contacts(ctx: Ctx, scenario: Scenario, contacts_csv: Path | None
                   ) -> tuple[int, int, list[Rejection], str | None]:
    """The scenario's contacts (inline ``contacts``, then the CSV file) upserted and put in
    one contact list, as ``POST /v1/contacts/bulk`` and the CSV import do: a bad row is
    rejected and counted, the others are written. (rows, invalid, examples, list id)."""
    file = scenario.file
    csv_path = contacts_csv
    if csv_path is None and file.contacts_csv is not None:
        csv_path = scenario.base_dir / file.contacts_csv
        if not csv_path.is_file():
            raise ScenarioError("contacts_csv", f"no such file: {csv_path}")
    if not file.contacts and csv_path is None:
        return 0, 0, [], None
    contact_list = contact_lists.create_list(ctx, ContactListCreate(name="Scenario contacts"))
    rows = invalid = 0
    inline: list[tuple[int, Rejection]] = []
    for start in range(0, len(file.contacts), MAX_BULK):
        chunk = file.contacts[start:start + MAX_BULK]
        rows += len(chunk)
        try:
            body = ContactBulkCreate.model_validate({"contacts": chunk})
        except ValidationError as exc:
            raise _validation_error("contacts", exc) from None
        for index, rejection in body.invalid_rows.items():
            inline.append((start + index, Rejection(f"contacts[{start + index}]",
                                                    rejection.field, rejection.reason)))
        result = contacts.upsert_contacts(ctx, body.contacts)
        for rejection in result.rejected:
            where = start + body.positions[rejection.index]
            inline.append((where, Rejection(f"contacts[{where}]", rejection.field,
                                            rejection.reason)))
        invalid += len(body.invalid_rows) + len(result.rejected)
        ids = [i for i in result.contact_ids if i is not None]
        if ids:
            contact_lists.add_contacts(ctx, contact_list.id, ids)
    rejections = [rejection for _, rejection in sorted(inline, key=lambda r: r[0])]
    if csv_path is not None:
        options = ImportOptions(default_region=ctx.workspace.default_region or "US",
                                mapping=file.csv_mapping)
        try:
            with csv_path.open("rb") as stream:
                report = import_csv(ctx, stream, contact_list.id, options)
        except OSError as exc:
            raise ScenarioError("contacts_csv", f"cannot read {csv_path}: "
                                                f"{exc.strerror or exc}") from None
        except RingwiseError as exc:
            key = (exc.field or "").removeprefix("mapping.")
            path = f"csv_mapping.{key}" if key in file.csv_mapping else "contacts_csv"
            raise ScenarioError(path, exc.message.removeprefix("mapping: ")) from None
        rows += report.rows
        invalid += report.rejected
        rejections += [Rejection(f"{csv_path.name} row {r.index}", r.field, r.reason)
                       for r in report.rejections]
    return rows, invalid, rejections, contact_list.id


# --- observing the dialer's store ------------------------------------------------------------

class _DecisionSpy:
    """Passes a claim through to the dialer's decider, keeping its decision."""

    def __init__(self, decider: ClaimDecider) -> None:
        self._decider = decider
        self.decision: ClaimDecision | None = None

    def wanted(self, claim: ClaimInput) -> Mapping[str, int]:
        return self._decider.wanted(claim)

    def decide(self, claim: ClaimInput, due: Mapping[str, Sequence[Target]]) -> ClaimDecision:
        self.decision = self._decider.decide(claim, due)
        return self.decision


class DemandRecorder:
    """A :class:`~ringwise.dialer.store.DialerStore` that forwards every call to ``inner``
    unchanged and records the spans during which each contact was **due and dialable**:
    from its ``due_at`` until it was claimed, rescheduled or closed, and never past the end
    of its calling window (``window_end``). The slot-utilization metric's denominator."""

    def __init__(self, inner: MemoryDialerStore) -> None:
        self.inner = inner
        self._open: dict[str, tuple[datetime, datetime]] = {}
        self.spans: list[tuple[int, int]] = []  # [start, end) in microseconds since 1970

    # bookkeeping
    def _start(self, change: Scheduled, at: datetime) -> None:
        self._stop(change.target_id, at)
        self._open[change.target_id] = (change.due_at, change.window_end)

    def _stop(self, target_id: str, at: datetime) -> None:
        span = self._open.pop(target_id, None)
        if span is None:
            return
        start, window_end = span
        end = min(at, window_end)
        if end > start:
            self.spans.append((_us(start), _us(end)))

    def _schedule(self, changes: Sequence[ScheduleChange], at: datetime) -> None:
        for change in changes:
            if isinstance(change, Scheduled):
                self._start(change, at)
            else:
                self._stop(change.target_id, at)

    def scheduled_already(self, targets: Sequence[Target], at: datetime) -> None:
        """Contacts loaded scheduled (due from ``due_at``), as if scheduled at ``at``."""
        for target in targets:
            if target.due_at is not None and target.window_end is not None:
                self._start(Scheduled(target.id, target.zones or (), target.due_at,
                                      target.window_end), at)

    def finish(self, at: datetime) -> None:
        """Close every span still open (the simulation stopped at ``at``)."""
        for target_id in list(self._open):
            self._stop(target_id, at)

    # the DialerStore port
    def heartbeat(self, worker_id: str, at: datetime) -> None:
        self.inner.heartbeat(worker_id, at)

    def campaigns(self, statuses: Collection[str]) -> list[CampaignView]:
        return self.inner.campaigns(statuses)

    def workspaces(self, ids: Collection[str]) -> dict[str, WorkspaceView]:
        return self.inner.workspaces(ids)

    def numbers(self, workspace_id: str) -> list[NumberView]:
        return self.inner.numbers(workspace_id)

    def set_campaign_status(self, campaign_id: str, expect: str, status: str, at: datetime,
                            ended_reason: str | None = None) -> bool:
        return self.inner.set_campaign_status(campaign_id, expect, status, at, ended_reason)

    def close_pending(self, campaign_id: str, outcome: CallOutcome, reason: str,
                      at: datetime) -> int:
        closed = self.inner.close_pending(campaign_id, outcome, reason, at)
        self.finish(at)  # one campaign per scenario: every waiting contact was closed
        return closed

    def unscheduled(self, campaign_id: str, limit: int) -> list[Target]:
        return self.inner.unscheduled(campaign_id, limit)

    def save_schedule(self, changes: Sequence[ScheduleChange], at: datetime) -> None:
        self.inner.save_schedule(changes, at)
        self._schedule(changes, at)

    def claim(self, workspace_id: str, at: datetime, worker_id: str,
              decider: ClaimDecider) -> list[NewCall]:
        spy = _DecisionSpy(decider)
        calls = self.inner.claim(workspace_id, at, worker_id, spy)
        if spy.decision is not None:
            self._schedule(spy.decision.schedule, at)
        for call in calls:
            self._stop(call.target_id, at)
        return calls

    def calls(self, call_ids: Collection[str]) -> dict[str, CallView]:
        return self.inner.calls(call_ids)

    def save_calls(self, changes: Sequence[CallChange], ends: Sequence[AttemptEnd],
                   at: datetime) -> None:
        self.inner.save_calls(changes, ends, at)
        for end in ends:
            if end.retry is not None:
                self._start(end.retry, at)

    def orphaned_calls(self, at: datetime, stale_before: datetime, worker_id: str,
                       limit: int, *, include_own: bool = False) -> list[CallView]:
        return self.inner.orphaned_calls(at, stale_before, worker_id, limit,
                                         include_own=include_own)

    def next_due(self, after: datetime) -> datetime | None:
        return self.inner.next_due(after)


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(microseconds=1)


# --- running ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Simulation:
    """A finished run: the summary (plain JSON values) and the call log."""

    summary: dict[str, Any]
    calls: tuple[CallRow, ...]
    contacts: Mapping[str, ContactRow] = field(repr=False)  # by campaign contact id

    def call_lines(self) -> Iterator[str]:
        """One JSON object per attempt, in placing order (``docs/simulator.md``)."""
        for call in self.calls:
            contact = self.contacts[call.campaign_contact_id]
            state = call.state
            row = {
                "call_id": call.id,
                "contact_id": call.contact_id,
                "phone": call.to_number,
                "attempt": call.attempt,
                "caller_id": call.from_number,
                "timezone": ",".join(contact.zones or ()),
                "placed_at": iso(call.created_at),
                "answered_at": iso(state.answered_at),
                "ended_at": iso(state.ended_at),
                "outcome": state.outcome,
            }
            yield json.dumps(row, separators=(",", ":"))

    def write_calls(self, out: IO[str]) -> int:
        count = 0
        for line in self.call_lines():
            out.write(line + "\n")
            count += 1
        return count


def run(prepared: Prepared, *, seed: int | None = None,
        horizon_days: float | None = None) -> Simulation:
    """Drive the real dialer over the prepared campaign until it completes or the horizon."""
    scenario = prepared.scenario
    seed = scenario.file.seed if seed is None else seed
    days = scenario.file.horizon_days if horizon_days is None else horizon_days
    launch = prepared.launch_at
    until = launch + timedelta(days=days)
    memory = MemoryDialerStore()
    memory.keep_audit = False  # the forecast reports counts; a log of every dial costs time
    memory.add_workspace(prepared.workspace)
    for number in prepared.numbers:
        memory.add_number(number)
    campaign_id = prepared.campaign.id
    memory.add_campaign(prepared.campaign)
    memory.add_contacts(campaign_id, prepared.targets)
    store = DemandRecorder(memory)
    store.scheduled_already(prepared.targets, launch)
    clock = ManualClock(launch)
    carrier = SimulatedCarrier(scenario.carrier, seed=seed)
    # The forecast counts outcomes: no transcripts, no cost estimates (they cost time).
    dialer = Dialer(store, carrier, clock, worker_id=WORKER_ID, conversations=False)

    def finished() -> bool:
        return memory.campaign_status(campaign_id) in _FINISHED

    # The run allocates millions of small objects and frees nearly all by reference counting
    # (a 100,000-contact week leaves ~10,000 objects in cycles): the cyclic collector's
    # passes over a heap this size cost ~6% of the run for nothing. Off during the run,
    # one collection after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = drive(dialer, clock, carrier, until=until, done=finished)
    finally:
        if collecting:
            gc.enable()
    store.finish(result.stopped_at)
    calls = tuple(memory.call_rows())
    contact_rows = {row.id: row for row in memory.contact_rows(campaign_id)}
    summary = _summary(prepared, seed=seed, until=until, stop_reason=result.reason,
                       stopped_at=result.stopped_at, ticks=result.ticks, calls=calls,
                       contact_rows=contact_rows, spans=store.spans,
                       completed=memory.campaign_row(campaign_id))
    return Simulation(summary, calls, contact_rows)


def simulate(scenario: Scenario, *, contacts_csv: Path | None = None, seed: int | None = None,
             horizon_days: float | None = None) -> Simulation:
    """:func:`prepare` then :func:`run`."""
    return run(prepare(scenario, contacts_csv=contacts_csv), seed=seed,
               horizon_days=horizon_days)


# --- the summary -----------------------------------------------------------------------------

_STOP_REASONS: Final = {"done": "completed", "until": "horizon", "idle": "idle"}


def slot_limit(workspace: WorkspaceView, campaign: CampaignView) -> int:
    """Calls the campaign may have in flight: the workspace's capacity
    (``concurrency_limit * concurrency_rate%``), capped by the campaign's own limit."""
    capacity = pacing.workspace_capacity(workspace.concurrency_limit,
                                         workspace.concurrency_rate)
    own = campaign.concurrency_limit
    return min(capacity, own) if own > 0 else capacity


def _summary(prepared: Prepared, *, seed: int, until: datetime, stop_reason: str,
             stopped_at: datetime, ticks: int, calls: Sequence[CallRow],
             contact_rows: Mapping[str, ContactRow], spans: list[tuple[int, int]],
             completed: CampaignRow) -> dict[str, Any]:
    attempts = len(calls)
    outcomes: Counter[str] = Counter({o: 0 for o in CALL_OUTCOMES
                                      if o not in ("expired", "blocked")})
    reasons: Counter[str] = Counter()
    per_hour: Counter[str] = Counter()
    per_number: Counter[str] = Counter()
    in_flight_at_stop = 0
    last_end: datetime | None = None
    for call in calls:
        state = call.state
        if state.outcome is None:
            in_flight_at_stop += 1
        else:
            outcomes[state.outcome] += 1
            reasons[state.ended_reason or "none"] += 1
            if state.ended_at is not None and (last_end is None or state.ended_at > last_end):
                last_end = state.ended_at
        per_hour[call.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")] += 1
        per_number[call.from_number] += 1
    connects = outcomes["answered"]
    limit = slot_limit(prepared.workspace, prepared.campaign)
    capacity = _capacity(calls, spans, _us(stopped_at), limit)
    launch = prepared.launch_at
    completed_at: datetime | None = completed.completed_at
    return {
        "scenario": prepared.scenario.name,
        "seed": seed,
        "launch_at": iso(launch),
        "horizon_at": iso(until),
        "stopped_at": iso(stopped_at),
        "stop_reason": _STOP_REASONS.get(stop_reason, stop_reason),
        "completed_at": iso(completed_at),
        "campaign_status": completed.view.status,
        "campaign_ended_reason": completed.ended_reason,
        "hours_to_complete": None if completed_at is None
        else round((completed_at - launch).total_seconds() / 3600, 3),
        "last_call_ended_at": iso(last_end),
        "attempts": attempts,
        "outcomes": dict(sorted(outcomes.items())),
        "in_flight_at_stop": in_flight_at_stop,
        "connects": connects,
        "connect_rate": round(connects / attempts, 4) if attempts else None,
        "ended_reasons": dict(sorted(reasons.items())),
        "contacts": _contacts(prepared, contact_rows),
        "capacity": capacity,
        "attempts_per_hour": dict(sorted(per_hour.items())),
        "peak_attempts_per_hour": max(per_hour.values(), default=0),
        "attempts_by_caller_id": dict(sorted(per_number.items())),
        "preflight": prepared.preflight.to_dict(),
        "ticks": ticks,
    }


def _contacts(prepared: Prepared, rows: Mapping[str, ContactRow]) -> dict[str, Any]:
    by_state: Counter[str] = Counter({"pending": 0, "active": 0, "done": 0, "skipped": 0})
    why: dict[str, Counter[str]] = {}
    reached = 0
    for row in rows.values():
        by_state[row.state] += 1
        if row.state == "done" and row.outcome == "answered":
            reached += 1
            continue
        if row.state == "pending":
            reason = "pending-at-stop"
        elif row.state == "active":
            reason = "on-a-call-at-stop"
        else:
            reason = row.ended_reason or row.state
        last = row.outcome if row.attempts else "never-called"
        if row.state == "skipped" and row.attempts == 0:
            last = "never-called"
        why.setdefault(reason, Counter())[last or "never-called"] += 1
    inputs = prepared.inputs
    return {
        "input_rows": inputs.rows,
        "not_loaded": {"invalid": inputs.invalid, "duplicate": inputs.duplicate,
                       "dnc": prepared.dnc_excluded},
        "loaded": len(rows),
        "reached": reached,
        "left": len(rows) - reached,
        "by_state": dict(by_state),
        "left_why": {reason: dict(sorted(last.items())) for reason, last in sorted(why.items())},
    }


def _capacity(calls: Sequence[CallRow], spans: Sequence[tuple[int, int]], stop_us: int,
              limit: int) -> dict[str, Any]:
    """Peak concurrency, busy slot-time, demand time and slot utilization (definitions in
    ``docs/simulator.md``), by one sweep over call starts / ends and the union of the spans
    during which some contact was due and dialable."""
    events: list[tuple[int, int, int]] = []  # (instant, call delta, demand delta)
    for call in calls:
        start = _us(call.created_at)
        ended = call.state.ended_at
        end = _us(ended) if ended is not None else stop_us
        if end > start:  # a call refused at placing never held a slot
            events.append((start, 1, 0))
            events.append((end, -1, 0))
    for start, end in _union(spans):
        events.append((start, 0, 1))
        events.append((end, 0, -1))
    events.sort()  # at one instant: ends before starts, as the dialer frees then claims
    in_flight = demand = peak = 0
    busy = busy_in_demand = demand_time = 0
    previous: int | None = None
    for instant, call_delta, demand_delta in events:
        if previous is not None and instant > previous:
            elapsed = instant - previous
            busy += in_flight * elapsed
            if demand:
                demand_time += elapsed
                busy_in_demand += in_flight * elapsed
        previous = instant
        in_flight += call_delta
        demand += demand_delta
        peak = max(peak, in_flight)
    utilization = (round(busy_in_demand / (limit * demand_time), 4)
                   if limit and demand_time else None)
    return {
        "slot_limit": limit,
        "peak_concurrency": peak,
        "busy_slot_hours": round(busy / _US_PER_HOUR, 3),
        "demand_hours": round(demand_time / _US_PER_HOUR, 3),
        "slot_utilization": utilization,
    }


def _union(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def preflight_summary(prepared: Prepared) -> dict[str, Any]:
    """The ``--preflight`` answer: the launch-time preflight, and whether the campaign could
    start at all (``ready``; ``not_ready`` names the setting when not)."""
    not_ready = prepared.not_ready
    return {
        "scenario": prepared.scenario.name,
        "launch_at": iso(prepared.launch_at),
        **prepared.preflight.to_dict(),
        "input_rows": prepared.inputs.rows,
        "ready": not_ready is None,
        "not_ready": None if not_ready is None
        else {"field": not_ready.field, "message": not_ready.message},
    }
