"""``ringwise quickstart``: the demo. A whole campaign on the embedded stack, in accelerated time.

One process runs the API server (uvicorn, in a thread) and a dialer worker (another thread)
that share ONE :class:`~ringwise.clock.ScaledClock`, running ``--speed`` times faster than
real time, on the simulated carrier (journaled next to a SQLite database, so calls survive a
restart). Every object is created through the real HTTP API, each request echoed as a one-line
``curl`` command: a workspace's concurrency limit, an assistant, a pool of caller numbers in
several area codes, 500 contacts across the US time zones (one bulk request), a contact list
and a campaign with local presence, contact-local calling hours and retries. The campaign is
started and watched live (:mod:`ringwise.cli.demo_display`) until it completes; then come a
results table and the URLs to look at next.

When the virtual clock starts: at 08:50 New York time on the next weekday that is no state
holiday (after the last virtual day an earlier run used on the same database, so the simulated
world never goes back in time). Every US zone's 09:00-20:00 window then comes up on that same
virtual day, from New York's at 13:00 or 14:00 UTC to Hawaii's at 19:00 UTC, and retries fit
in before the windows close.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ringwise.cli.common import DatabaseOption, console, fail, plain_errors, settings_for
from ringwise.cli.demo_display import (
    US_ZONES,
    CallHours,
    CampaignStalled,
    DemoZone,
    read_results,
    results_table,
    watch,
)
from ringwise.cli.demo_receiver import DemoReceiver
from ringwise.cli.serve import prepare_database
from ringwise.clock import ScaledClock, SystemClock
from ringwise.core.compliance.rules_us import US_STATE_RULES
from ringwise.db.engine import Database
from ringwise.db.models import AnalysisJob, WebhookDelivery, Worker
from ringwise.dialer.engine import Dialer
from ringwise.dialer.sql_store import SqlDialerStore
from ringwise.dialer.worker import DialerWorker
from ringwise.results import stats
from ringwise.results.runtime import make_results_worker
from ringwise.services import workspaces
from ringwise.settings import Settings
from ringwise.telephony.port import TelephonyProvider
from ringwise.telephony.simulated import SimulatedCarrier

WORKSPACE_NAME: Final = "Quickstart"
DEFAULT_SPEED: Final = 600.0
DEFAULT_CONTACTS: Final = 500
MAX_CONTACTS: Final = 1_000  # 99 fictional 555-01xx numbers per area code
CONTACT_SEED: Final = 20_260_302
CARRIER_SEED: Final = 7
CONCURRENCY: Final = 20
CALL_HOURS: Final = CallHours(clock_time(9), clock_time(20))
RETRY_DELAYS_MINUTES: Final = (30, 120)
HOME_ZONE: Final = ZoneInfo("America/New_York")
VIRTUAL_START: Final = clock_time(8, 50)  # New York time, ten virtual minutes before 09:00
DEADLINE: Final = timedelta(days=7)  # virtual: a demo campaign still running then is stuck
# The pool of caller numbers: local presence picks the one nearest the callee.
CALLER_NUMBERS: Final[tuple[tuple[str, str], ...]] = (
    ("+12125550100", "New York"), ("+13055550100", "Miami"), ("+13125550100", "Chicago"),
    ("+17135550100", "Houston"), ("+13035550100", "Denver"), ("+16025550100", "Phoenix"),
    ("+14155550100", "San Francisco"), ("+12065550100", "Seattle"),
    ("+19075550100", "Anchorage"), ("+18085550100", "Honolulu"),
)
FIRST_NAMES: Final = (
    "Ada", "Grace", "Alan", "Katherine", "Maria", "James", "Aiko", "Mohammed", "Sofia", "Liam",
    "Olivia", "Noah", "Emma", "Mateo", "Ava", "Elijah", "Mia", "Lucas", "Amelia", "Ethan",
    "Harper", "Diego", "Evelyn", "Kai", "Zoe", "Omar", "Chloe", "Hiro", "Priya", "Daniel",
    "Leilani", "Samuel", "Nora", "Jamal", "Ines", "Wei", "Fatima", "Carlos", "Hannah", "Malia",
    "Isaac", "Ruth", "Tomas", "Layla", "Benjamin", "Keanu", "Rosa", "Arjun", "Clara", "Yusuf",
)
LAST_NAMES: Final = (
    "Lovelace", "Hopper", "Turing", "Johnson", "Garcia", "Smith", "Tanaka", "Khan", "Rossi",
    "Nguyen", "Brown", "Martinez", "Kim", "Lopez", "Wilson", "Anderson", "Thomas", "Moore",
    "Jackson", "Lee", "Perez", "White", "Harris", "Clark", "Lewis", "Young", "Walker", "Hall",
    "Allen", "Wright", "Kealoha", "Patel", "Okafor", "Cohen", "Silva", "Murphy", "Rivera",
    "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Torres", "Nakamura",
    "Parker", "Collins", "Stewart", "Morales", "Reyes",
)
# How the generated phones are written: the API normalises them all to E.164.
PHONE_FORMATS: Final = ("+1{a}555{n}", "+1 ({a}) 555-{n}", "{a}-555-{n}", "+1 {a} 555 {n}")


# What the post-call analysis extracts from each answered call of the demo.
DEMO_ANALYSIS: Final[dict[str, Any]] = {
    "scoring_criteria": "Score 0-100: how ready the customer is to review their renewal",
    "tags": [{"name": "Interested", "description": "Wants to review the renewal"},
             {"name": "Call back", "description": "Asked to be called back later"},
             {"name": "Not interested", "description": "Declined"},
             {"name": "Opt-out", "description": "Asked not to be called again"}],
    "structured_data_schema": [
        {"key": "callback_time", "description": "When to call back, in their words",
         "type": "string"}],
}
RESULTS_SETTLE_S: Final = 60.0  # real seconds to wait for the last analyses and deliveries


def register(app: typer.Typer) -> None:
    app.command()(quickstart)


# --- the demo's world --------------------------------------------------------------------------

def demo_contacts(count: int, seed: int = CONTACT_SEED,
                  zones: Sequence[DemoZone] = US_ZONES) -> list[dict[str, Any]]:
    """``count`` contacts spread over ``zones`` by weight (largest remainder), each with a
    distinct fictional number (555-0101 to 555-0199) in one of its zone's real area codes, a
    first and last name and a policy number. Deterministic for a given seed."""
    if not 1 <= count <= MAX_CONTACTS:
        raise ValueError(f"the demo makes 1 to {MAX_CONTACTS} contacts, not {count}")
    rng = random.Random(seed)
    total_weight = sum(z.weight for z in zones)
    exact = [count * z.weight / total_weight for z in zones]
    per_zone = [int(share) for share in exact]
    by_remainder = sorted(range(len(zones)), key=lambda i: (per_zone[i] - exact[i], i))
    for index in by_remainder[:count - sum(per_zone)]:
        per_zone[index] += 1
    suffixes: dict[str, list[int]] = {}
    contacts: list[dict[str, Any]] = []
    for zone, wanted in zip(zones, per_zone, strict=True):
        if wanted > 99 * len(zone.area_codes):
            raise ValueError(f"{zone.label} has room for {99 * len(zone.area_codes)} contacts")
        for index in range(wanted):
            area = zone.area_codes[index % len(zone.area_codes)]
            pool = suffixes.setdefault(area, rng.sample(range(101, 200), 99))
            number = f"{pool.pop():04d}"
            layout = PHONE_FORMATS[len(contacts) % len(PHONE_FORMATS)]
            contacts.append({
                "phone": layout.format(a=area, n=number),
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "custom_fields": {"policy": f"HOME-{rng.randrange(10_000, 100_000)}"},
            })
    rng.shuffle(contacts)
    return contacts


def virtual_start(after: datetime) -> datetime:
    """08:50 New York time on the first ordinary weekday whose 08:50 is after ``after``: no
    state's legal floor closes that day for a holiday, so the demo ends the same day."""
    day = after.astimezone(HOME_ZONE).date()
    while True:
        start = datetime.combine(day, VIRTUAL_START, tzinfo=HOME_ZONE)
        if day.isoweekday() <= 5 and start > after and not any(
                rule.holidays is not None and not rule.slots_on(day)
                for rule in US_STATE_RULES.values()):
            return start.astimezone(UTC)
        day += timedelta(days=1)


def _latest_virtual_instant(db: Database) -> datetime | None:
    """The last instant any dialer on this database saw: its workers' heartbeats."""
    with db.reading() as session:
        latest: datetime | None = session.scalar(select(func.max(Worker.heartbeat_at)))
    return latest


def _carrier_for(database_url: str) -> tuple[TelephonyProvider, Path | None]:
    """The simulated carrier; journaled next to a SQLite file, so a call placed before a
    restart is still known to it after (the dialer then reconciles, never redials)."""
    try:
        from ringwise.telephony.journal import JournaledCarrier
    except ImportError:  # pragma: no cover - the journal ships with the dialer
        return SimulatedCarrier(seed=CARRIER_SEED), None
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return SimulatedCarrier(seed=CARRIER_SEED), None
    path = Path(url.database + ".quickstart-carrier.jsonl")
    try:
        return JournaledCarrier(path, seed=CARRIER_SEED), path
    except ValueError as exc:  # written by another version's carrier model: start afresh
        aside = path.with_name(f"{path.name}.{int(time.time())}.old")
        path.rename(aside)
        console.print(f"[yellow]The carrier journal could not be replayed ({escape(str(exc))});"
                      f" moved it to {aside} and started a new one.[/]")
        return JournaledCarrier(path, seed=CARRIER_SEED), path


def _free_port(host: str, preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise fail("no free port to listen on")


# --- the requests, echoed as curl ------------------------------------------------------------

def abbreviate(value: Any, *, text_limit: int = 40, list_limit: int = 1) -> str:
    """JSON for a one-line echo: long strings cut, long lists shown by their first items."""
    if isinstance(value, Mapping):
        inner = ", ".join(f"{json.dumps(k)}: {abbreviate(v, text_limit=text_limit)}"
                          for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        if len(value) <= list_limit + 1:
            return "[" + ", ".join(abbreviate(v, text_limit=text_limit) for v in value) + "]"
        shown = [abbreviate(v, text_limit=text_limit) for v in value[:list_limit]]
        return "[" + ", ".join(shown) + f", …{len(value) - list_limit} more]"
    if isinstance(value, str) and len(value) > text_limit:
        return json.dumps(value[:text_limit - 1] + "…", ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


class Walkthrough:
    """Sends the requests, showing each as one line: the curl command, status and summary."""

    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60)
        self.step = 0

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None,
             show: Sequence[str] = ("id",)) -> Any:
        self.step += 1
        response = self.http.request(method, path, json=body)
        implied = method == "GET" or (method == "POST" and body is not None)
        curl = "curl -s" + ("" if implied else f" -X {method}")
        curl += f' "$RW_URL{path}" -H "X-API-Key: $RW_KEY"'
        if body is not None:
            curl += " -H 'Content-Type: application/json' -d " + shlex.quote(abbreviate(body))
        line = Text(f"{self.step:>2}. ", style="dim")
        if response.status_code >= 400:
            line.append(f"{response.status_code} ", style="bold red")
            line.append(curl)
            console.print(line, soft_wrap=True)
            console.print(f"[red]{escape(response.text)}[/]")
            raise fail(f"request {self.step} ({method} {path}) failed; see the error above")
        data = response.json()
        summary = {k: data.get(k) for k in show} if isinstance(data, dict) else data
        line.append(f"{response.status_code} ", style="bold green")
        line.append(curl, style="cyan")
        line.append("  → " + json.dumps(summary, default=str), style="dim")
        console.print(line, soft_wrap=True)
        return data


@dataclass(frozen=True, slots=True)
class DemoCampaign:
    id: str
    name: str
    contacts: int


def run_walkthrough(w: Walkthrough, contacts: Sequence[Mapping[str, Any]],
                    receiver: DemoReceiver | None = None) -> DemoCampaign:
    """Create everything through the API and start the campaign."""
    w.call("PATCH", "/v1/settings", {"concurrency_limit": CONCURRENCY},
           show=("name", "concurrency_limit"))
    if receiver is not None:
        endpoint = w.call("POST", "/v1/webhooks", {
            "url": receiver.url, "description": "The quick start's local receiver"},
            show=("id", "url"))
        receiver.secret = endpoint["secret"]
    assistant = w.call("POST", "/v1/assistants", {
        "name": "Renewal reminder",
        "system_prompt": "You are Sam from Acme Insurance. Remind the customer their policy "
                         "renews soon and offer to book a review. Be brief and polite.",
        "first_message": "Hi {{first_name}}, this is Sam from Acme Insurance. Do you have a "
                         "minute to talk about your policy renewal?",
        "voicemail_message": "Hi {{first_name}}, Sam from Acme Insurance. Please call us back "
                             "about your renewal.",
    }, show=("id", "name"))
    numbers = [w.call("POST", "/v1/phone-numbers",
                      {"number": number, "provider": "simulated", "label": label},
                      show=("id", "region", "area_code"))
               for number, label in CALLER_NUMBERS]
    added = w.call("POST", "/v1/contacts/bulk", {"contacts": list(contacts)},
                   show=("created", "updated", "rejected"))
    contact_ids = [c for c in added["contact_ids"] if c]
    contact_list = w.call("POST", "/v1/contact-lists", {"name": "Renewals, all US zones"},
                          show=("id", "name"))
    w.call("POST", f"/v1/contact-lists/{contact_list['id']}/contacts",
           {"contact_ids": contact_ids}, show=("added", "contact_count"))
    campaign = w.call("POST", "/v1/campaigns", {
        "name": "Policy renewals",
        "assistant_id": assistant["id"],
        "opening_message": "Hi {{first_name}}, this is Sam from Acme Insurance about your "
                           "policy renewal.",
        "caller_id": {"mode": "local_presence", "phone_number_ids": [n["id"] for n in numbers]},
        "schedule": {"timezone": "America/New_York",
                     "days": ["mon", "tue", "wed", "thu", "fri"],
                     "call_hours": {"start_time": f"{CALL_HOURS.start:%H:%M}",
                                    "end_time": f"{CALL_HOURS.end:%H:%M}"}},
        "retry": {"delays_minutes": list(RETRY_DELAYS_MINUTES),
                  "retry_on": ["no-answer", "busy", "voicemail"]},
        "voicemail": {"action": "leave_message"},
        "analysis": DEMO_ANALYSIS,
        "concurrency_limit": CONCURRENCY,
        "contact_list_ids": [contact_list["id"]],
    }, show=("id", "status"))
    w.call("POST", f"/v1/campaigns/{campaign['id']}/start", show=("id", "status"))
    return DemoCampaign(campaign["id"], campaign["name"], len(contact_ids))


# --- the embedded stack ----------------------------------------------------------------------

@contextmanager
def _embedded_stack(settings: Settings, db: Database, clock: ScaledClock
                    ) -> Iterator[tuple[str, threading.Thread, Path | None]]:
    """The API server and a dialer worker in this process, on one clock."""
    import uvicorn

    from ringwise.api.app import create_app

    host, port = settings.host, settings.port
    carrier, journal = _carrier_for(settings.database_url)
    worker_id = f"quickstart-{os.getpid()}"
    dialer = Dialer(SqlDialerStore(db), carrier, clock, worker_id=worker_id)
    worker = DialerWorker(dialer, poll_interval=0.1)
    results = make_results_worker(db, clock, settings, worker_id=worker_id, poll_interval=0.1)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db=db, clock=clock), host=host,
                                           port=port, log_level="warning"))
    server_thread = threading.Thread(target=server.run, name="ringwise-api", daemon=True)
    worker_thread: threading.Thread | None = None
    results_thread: threading.Thread | None = None
    try:
        server_thread.start()
        while not server.started:
            if not server_thread.is_alive():
                raise fail(f"the server could not start on {host}:{port}")
            time.sleep(0.05)
        worker_thread = worker.start_thread("ringwise-dialer")
        results_thread = results.start_thread()
        yield f"http://{host}:{port}", worker_thread, journal
    finally:
        worker.stop()
        results.stop()
        if worker_thread is not None:
            worker_thread.join(timeout=10)
        if results_thread is not None:
            results_thread.join(timeout=10)
        server.should_exit = True
        server_thread.join(timeout=10)
        close = getattr(carrier, "close", None)
        if callable(close):
            close()


def quickstart(
    port: int = typer.Option(8000, help="Port to serve on (the next free one if taken)"),
    speed: float = typer.Option(DEFAULT_SPEED, min=1.0, max=100_000.0,
                                help="Virtual seconds per real second (600: ten minutes a "
                                     "second)"),
    contacts: int = typer.Option(DEFAULT_CONTACTS, "--contacts", min=1, max=MAX_CONTACTS,
                                 help="How many demo contacts to call"),
    exit_after: bool = typer.Option(False, "--exit", help="Stop once the campaign is done "
                                                         "instead of serving until Ctrl-C"),
    database_url: str | None = DatabaseOption,
) -> None:
    """The demo: a campaign of simulated calls across US time zones, live, in accelerated time."""
    settings = settings_for(database_url)
    try:
        with plain_errors():
            prepare_database(settings)
        db = Database(settings.database_url)
        try:
            _run_demo(settings, db, port=port, speed=speed, contacts=contacts,
                      exit_after=exit_after)
        finally:
            db.dispose()
    except KeyboardInterrupt:
        console.print("\nStopped.")


def _run_demo(settings: Settings, db: Database, *, port: int, speed: float, contacts: int,
              exit_after: bool) -> None:
    real_now = SystemClock().now()
    latest = _latest_virtual_instant(db)
    clock = ScaledClock(speed, start=virtual_start(max(real_now, latest or real_now)))
    # A fresh workspace per run, so the demo can be replayed on the same database.
    workspace_name = f"{WORKSPACE_NAME} {real_now:%Y-%m-%d %H:%M:%S}"
    with db.transaction() as session:
        workspace = workspaces.create_workspace(session, workspace_name, clock.now())
        secret = workspaces.create_key(session, workspace.id, "quickstart", clock.now()).secret
    # The demo's webhook receiver listens on this machine: allow a loopback destination.
    settings = replace(settings, port=_free_port(settings.host, port),
                       webhooks_allow_private=True)
    receiver = DemoReceiver(clock)
    receiver.start()
    with _embedded_stack(settings, db, clock) as (base_url, worker_thread, journal):
        carrier = f"journaled in {journal}" if journal is not None else "in memory"
        console.print(Panel.fit(
            f"Ringwise is running at [bold]{base_url}[/] on {escape(settings.database_url)}, "
            f"with a dialer on a simulated carrier ({escape(carrier)}).\n"
            f"The clock runs [bold]{speed:g}x[/] real "
            f"time, from {clock.now().astimezone(HOME_ZONE):%a %Y-%m-%d %H:%M} New York time."
            f"\nWorkspace [bold]{escape(workspace_name)}[/]; its API key:\n"
            f"[bold green]{secret}[/]",
            title="Ringwise quick start"))
        console.print(f"export RW_URL={base_url} RW_KEY={secret}", soft_wrap=True)
        console.print("\n[bold]Setting up through the API[/] (each line is the curl command "
                      "that does the same; long bodies are abbreviated)")
        walkthrough = Walkthrough(base_url, secret)
        campaign: DemoCampaign | None = None
        try:
            campaign = run_walkthrough(walkthrough, demo_contacts(contacts), receiver)
            _dial(db, clock, campaign, speed=speed, worker_thread=worker_thread)
            _show_results(db, campaign, receiver)
            _next_steps(base_url, campaign.id, secret)
            campaign = None  # completed: nothing to pause on the way out
            if exit_after:
                return
            console.print(f"\nServing until you press Ctrl-C. The dialer keeps running at "
                          f"{speed:g}x: a campaign you start now is dialed at once.")
            while worker_thread.is_alive():
                worker_thread.join(timeout=0.5)
            raise fail("the dialer worker stopped")
        except KeyboardInterrupt:
            console.print("\nStopping.")
        finally:
            if campaign is not None:
                _pause(walkthrough, campaign)
            walkthrough.close()
            receiver.stop()


def _dial(db: Database, clock: ScaledClock, campaign: DemoCampaign, *, speed: float,
          worker_thread: threading.Thread) -> None:
    """Watch the campaign to its end, then show its results."""
    retries = " then ".join(f"{m} min" for m in RETRY_DELAYS_MINUTES)
    console.print(f"\n[bold]Dialing {campaign.contacts} contacts[/] across {len(US_ZONES)} US "
                  f"zones, {CONCURRENCY} calls at a time, {CALL_HOURS.start:%H:%M}-"
                  f"{CALL_HOURS.end:%H:%M} contact-local on weekdays, retrying unanswered "
                  f"calls {retries} later\n")
    started = time.monotonic()

    def health() -> str | None:
        return None if worker_thread.is_alive() else "the dialer worker stopped"

    try:
        watch(db, campaign.id, clock, console, hours=CALL_HOURS, speed=speed,
              deadline=clock.now() + DEADLINE, health=health, title=campaign.name)
    except CampaignStalled as exc:
        raise fail(str(exc)) from None
    real_seconds = time.monotonic() - started
    console.print()
    console.print(results_table(read_results(db, campaign.id), real_seconds=real_seconds))


def _settled(db: Database) -> bool:
    """No analysis and no webhook delivery left to do."""
    with db.reading() as session:
        jobs = session.scalar(select(func.count()).select_from(AnalysisJob)
                              .where(AnalysisJob.status == "pending"))
        deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery)
                                    .where(WebhookDelivery.status == "pending"))
    return not jobs and not deliveries


def _show_results(db: Database, campaign: DemoCampaign, receiver: DemoReceiver) -> None:
    """After the last call: its analysis, statistics and webhook events, once settled."""
    deadline = time.monotonic() + RESULTS_SETTLE_S
    while not _settled(db) and time.monotonic() < deadline:
        time.sleep(0.1)
    with db.reading() as session:
        totals = stats.totals(session, [campaign.id])[campaign.id]
        tags = stats.tag_counts(session, campaign.id)
    figures = Table.grid(padding=(0, 2))
    figures.add_column(style="bold", no_wrap=True)
    figures.add_column()
    figures.add_row("analyzed calls", f"{totals.analyzed} of {totals.answered} answered "
                                      "(offline analyzer)")
    figures.add_row("successful", f"{totals.success} "
                                  f"({totals.rate(totals.success, totals.answered) or 0:.1f}% "
                                  "of answered calls)")
    sentiment = totals.average_sentiment
    figures.add_row("average sentiment", "-" if sentiment is None else f"{sentiment:+.2f}")
    figures.add_row("tags", ", ".join(f"{tag} {n}" for tag, n in tags) or "-")
    figures.add_row("estimated cost", f"{totals.cost:.2f} USD")
    received = ", ".join(f"{name} {n}" for name, n in sorted(receiver.events.items()))
    figures.add_row("webhooks", f"{sum(receiver.events.values())} events received and "
                                f"signature-checked ({received or 'none'}); "
                                f"{receiver.bad_signatures} bad signatures")
    console.print()
    console.print(Text("After the calls", style="bold"))
    console.print(figures)


def _pause(walkthrough: Walkthrough, campaign: DemoCampaign) -> None:
    """Stopped mid-campaign: pause it, so the dialer of a later run leaves it alone."""
    with suppress(httpx.HTTPError):
        response = walkthrough.http.post(f"/v1/campaigns/{campaign.id}/pause", timeout=5)
        if response.status_code < 400:
            console.print(f"Paused campaign {campaign.id}; POST /v1/campaigns/{campaign.id}/"
                          "resume picks it up again.", soft_wrap=True)


def _next_steps(base_url: str, campaign_id: str, key: str) -> None:
    auth = '-H "X-API-Key: $RW_KEY"'
    lines = (
        ("the API docs (Authorize with the key)", f"{base_url}/docs"),
        ("the campaign and its counters", f'curl -s "$RW_URL/v1/campaigns/{campaign_id}" {auth}'),
        ("its calls", f'curl -s "$RW_URL/v1/calls?campaign_id={campaign_id}&limit=20" {auth}'),
        ("each contact's state and outcome",
         f'curl -s "$RW_URL/v1/campaigns/{campaign_id}/contacts" {auth}'),
        ("its statistics", f'curl -s "$RW_URL/v1/campaigns/{campaign_id}/stats" {auth}'),
        ("its calls with their analysis, as CSV",
         f'curl -s "$RW_URL/v1/campaigns/{campaign_id}/calls/export?format=csv" {auth}'),
    )
    console.print("\n[bold]Look next[/]", soft_wrap=True)
    console.print(f"  export RW_URL={base_url} RW_KEY={key}", soft_wrap=True)
    width = max(len(label) for label, _ in lines) + 1
    for label, value in lines:
        console.print(f"  {label + ':':<{width}} [cyan]{escape(value)}[/]", soft_wrap=True)
