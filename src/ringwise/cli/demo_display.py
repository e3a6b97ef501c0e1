"""The quick start's live view of a running campaign, and its results table.

Everything is read straight from the database, cheaply: the campaign's row with its
``campaign_counters`` (one row), and one ``GROUP BY`` over its ``campaign_contacts`` by
resolved time zones and state for the per-zone progress. On a terminal the view is a
``rich`` Live panel refreshed about four times a second; elsewhere (CI, a pipe) it is one
plain progress line every few seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Final
from zoneinfo import ZoneInfo

from rich.console import Console, Group, RenderableType
from rich.constrain import Constrain
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from sqlalchemy import case, func, select

from ringwise.clock import Clock
from ringwise.db.engine import Database
from ringwise.db.models import Call, Campaign, CampaignContact, CampaignCounters

FINAL_STATUSES: Final = ("completed", "canceled")
# Calls by outcome, as campaign_counters counts them, in the order shown.
OUTCOMES: Final[tuple[tuple[str, str, str], ...]] = (
    ("answered", "calls_answered", "green"),
    ("voicemail", "calls_voicemail", "cyan"),
    ("no-answer", "calls_no_answer", "yellow"),
    ("busy", "calls_busy", "magenta"),
    ("failed", "calls_failed", "red"),
)
HOME_ZONE: Final = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class DemoZone:
    """One US time zone of the demo: where its contacts live and how they are recognised."""

    label: str
    zone: str  # the IANA zone whose local time is shown
    area_codes: tuple[str, ...]  # real area codes of the zone (only 555-01xx numbers are made)
    weight: int  # percent of the generated contacts
    matches: frozenset[str] = field(default_factory=frozenset)  # more IANA zones counted here

    def holds(self, zones: str) -> bool:
        first = zones.split(",", 1)[0]
        return first == self.zone or first in self.matches


# Arizona keeps standard time all year: in summer it is on Pacific time, in winter on
# Mountain time, so it gets its own row. Alaska's 907 resolves to Adak and Anchorage (the
# calling window is the intersection of the two).
US_ZONES: Final[tuple[DemoZone, ...]] = (
    DemoZone("Eastern", "America/New_York", ("212", "305", "617", "404", "215", "202"), 38,
             frozenset({"America/Detroit", "America/Indiana/Indianapolis",
                        "America/Kentucky/Louisville"})),
    DemoZone("Central", "America/Chicago", ("312", "214", "713", "612", "504"), 26),
    DemoZone("Mountain", "America/Denver", ("303", "801", "505"), 7,
             frozenset({"America/Boise"})),
    DemoZone("Arizona", "America/Phoenix", ("602", "520"), 5),
    DemoZone("Pacific", "America/Los_Angeles", ("415", "206", "213", "503", "702"), 16),
    DemoZone("Alaska", "America/Anchorage", ("907",), 4,
             frozenset({"America/Adak", "America/Juneau", "America/Sitka", "America/Nome",
                        "America/Yakutat", "America/Metlakatla"})),
    DemoZone("Hawaii", "Pacific/Honolulu", ("808",), 4),
)
UNSCHEDULED: Final = "(being scheduled)"


@dataclass(frozen=True, slots=True)
class CallHours:
    """The campaign's daily window, contact-local, on the given ISO weekdays (1 = Monday)."""

    start: clock_time
    end: clock_time
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    def is_open(self, local: datetime) -> bool:
        return local.isoweekday() in self.weekdays and self.start <= local.time() < self.end


@dataclass(frozen=True, slots=True)
class ZoneProgress:
    label: str
    zone: str | None  # IANA zone of the local time shown (None: not a known zone)
    total: int
    finished: int  # done or skipped: nothing more will happen
    active: int  # on a call now
    retrying: int  # pending after at least one attempt
    # The contacts' resolved zones: a contact may be called when its window is open in all of
    # them (Alaska's 907 is Adak and Anchorage). Empty: the shown zone alone.
    zone_sets: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime  # virtual time
    status: str
    in_flight: int
    limit: int
    attempts: int
    outcomes: Mapping[str, int]
    contacts_total: int
    done: int
    skipped: int
    active: int
    retrying: int
    zones: tuple[ZoneProgress, ...]

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def fresh(self) -> int:
        """Contacts not called yet."""
        return max(self.contacts_total - self.done - self.skipped - self.active
                   - self.retrying, 0)


def read_snapshot(db: Database, campaign_id: str, at: datetime,
                  zones: Sequence[DemoZone] = US_ZONES) -> Snapshot:
    """The campaign as it is now: two cheap queries."""
    with db.reading() as session:
        row = session.execute(
            select(Campaign.status, Campaign.concurrency_limit, CampaignCounters)
            .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
            .where(Campaign.id == campaign_id)).one()
        groups = session.execute(
            select(CampaignContact.timezones, CampaignContact.state,
                   case((CampaignContact.attempts > 0, 1), else_=0), func.count())
            .where(CampaignContact.campaign_id == campaign_id)
            .group_by(CampaignContact.timezones, CampaignContact.state,
                      case((CampaignContact.attempts > 0, 1), else_=0))).all()
    status, limit, counters = row
    per_zone: dict[str, list[int]] = {}  # label -> [total, finished, active, retrying]
    zone_of: dict[str, str | None] = {z.label: z.zone for z in zones}
    zone_sets: dict[str, set[tuple[str, ...]]] = {}
    for zone_names, state, attempted, count in groups:
        label = _label(zone_names, zones)
        if label not in zone_of:
            zone_of[label] = zone_names.split(",", 1)[0] if zone_names else None
        if zone_names:
            zone_sets.setdefault(label, set()).add(tuple(zone_names.split(",")))
        numbers = per_zone.setdefault(label, [0, 0, 0, 0])
        numbers[0] += count
        if state in ("done", "skipped"):
            numbers[1] += count
        elif state == "active":
            numbers[2] += count
        elif state == "pending" and attempted:
            numbers[3] += count
    ordered = [z.label for z in zones if z.label in per_zone]
    ordered += sorted(label for label in per_zone if label not in ordered)
    return Snapshot(
        at=at, status=status, in_flight=counters.calls_in_progress, limit=limit,
        attempts=counters.calls_total,
        outcomes={name: getattr(counters, column) for name, column, _ in OUTCOMES},
        contacts_total=counters.contacts_total, done=counters.contacts_done,
        skipped=counters.contacts_skipped, active=counters.contacts_active,
        retrying=sum(per_zone[label][3] for label in per_zone),
        zones=tuple(_progress(label, zone_of.get(label), per_zone[label],
                              zone_sets.get(label, set())) for label in ordered))


def _progress(label: str, zone: str | None, numbers: Sequence[int],
              zone_sets: set[tuple[str, ...]]) -> ZoneProgress:
    total, finished, active, retrying = numbers
    return ZoneProgress(label, zone, total, finished, active, retrying,
                        zone_sets=tuple(sorted(zone_sets)))


def _label(zone_names: str | None, zones: Sequence[DemoZone]) -> str:
    if not zone_names:
        return UNSCHEDULED
    for zone in zones:
        if zone.holds(zone_names):
            return zone.label
    return zone_names


# --- rendering -------------------------------------------------------------------------------

def _clock_line(at: datetime) -> str:
    home = at.astimezone(HOME_ZONE)
    return f"{home:%a %Y-%m-%d %H:%M} New York ({at:%H:%M} UTC)"


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def render(snap: Snapshot, *, hours: CallHours, speed: float, real_elapsed: float,
           title: str = "campaign", width: int = 110) -> RenderableType:
    """The live panel, ``width`` columns at most: clock, slots, outcomes, contacts, and one
    bar per zone."""
    bar_width = max(10, min(30, width - 58))
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    head.add_row("virtual time", f"{_clock_line(snap.at)}  ·  {speed:g}x  ·  "
                                 f"{_elapsed(real_elapsed)} real")
    gauge = Table.grid(padding=(0, 1))
    gauge.add_row(ProgressBar(total=max(snap.limit, 1), completed=min(snap.in_flight,
                                                                       max(snap.limit, 1)),
                              width=20, complete_style="green"),
                  Text(f"{snap.in_flight} / {snap.limit}"),
                  Text(f"   attempts so far {snap.attempts}", style="dim"))
    head.add_row("calls in flight", gauge)
    outcomes = Text()
    for name, _, style in OUTCOMES:
        outcomes.append(f"{name} ", style=style)
        outcomes.append(f"{snap.outcomes.get(name, 0)}  ", style="bold")
    head.add_row("call outcomes", outcomes)
    head.add_row("contacts", f"{snap.done + snap.skipped} finished of {snap.contacts_total}  ·  "
                             f"{snap.active} calling  ·  {snap.retrying} to retry  ·  "
                             f"{snap.fresh} not called yet")

    zones = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold dim")
    zones.add_column("zone", no_wrap=True)
    zones.add_column("local", no_wrap=True)
    zones.add_column("window", no_wrap=True)
    zones.add_column("progress", no_wrap=True)
    zones.add_column("finished", justify="right", no_wrap=True)
    zones.add_column("calling", justify="right", no_wrap=True)
    zones.add_column("retry", justify="right", no_wrap=True)
    for zone in snap.zones:
        local, window = "", Text("")
        if zone.zone is not None:
            when = snap.at.astimezone(ZoneInfo(zone.zone))
            local = f"{when:%H:%M}"
            window = _window(hours, snap.at, zone.zone_sets or ((zone.zone,),))
        zones.add_row(zone.label, local, window,
                      ProgressBar(total=max(zone.total, 1), completed=zone.finished,
                                  width=bar_width),
                      f"{zone.finished}/{zone.total}", str(zone.active or ""),
                      str(zone.retrying or ""))
    status_style = "green" if snap.status == "completed" else "yellow"
    panel = Panel(Group(head, Text(""), zones),
                  title=f"[bold]{escape(title)}[/] · [{status_style}]{snap.status}[/]",
                  subtitle=f"calling hours {hours.start:%H:%M}-{hours.end:%H:%M} "
                           "contact-local")
    return Constrain(panel, width)


def _window(hours: CallHours, at: datetime, zone_sets: Sequence[Sequence[str]]) -> Text:
    """Whether the zone's calling window is open (in every zone of some contact's set), or
    how soon it opens today."""
    waits: list[timedelta] = []
    for zone_set in zone_sets:
        wait = timedelta(0)
        for name in zone_set:
            local = at.astimezone(ZoneInfo(name))
            if hours.is_open(local):
                continue
            if local.isoweekday() not in hours.weekdays or local.time() >= hours.end:
                break  # not again today
            opens = datetime.combine(local.date(), hours.start, tzinfo=local.tzinfo)
            wait = max(wait, opens - local)
        else:
            if wait == timedelta(0):
                return Text("open", style="green")
            waits.append(wait)
    if waits:
        minutes = math.ceil(min(waits).total_seconds() / 60)
        return Text(f"in {minutes // 60}:{minutes % 60:02d}", style="yellow")
    return Text("closed", style="dim")


def progress_line(snap: Snapshot) -> str:
    """One plain line for logs and pipes."""
    outcomes = " ".join(f"{name} {snap.outcomes.get(name, 0)}" for name, _, _ in OUTCOMES)
    zones = " ".join(f"{z.label} {z.finished}/{z.total}" for z in snap.zones)
    return (f"[{_clock_line(snap.at)}] {snap.status}: in flight {snap.in_flight}/{snap.limit}, "
            f"attempts {snap.attempts} ({outcomes}); finished {snap.done + snap.skipped}/"
            f"{snap.contacts_total}; {zones}")


class CampaignStalled(RuntimeError):
    """The campaign did not finish by the watch's virtual deadline, or the stack broke."""


def watch(db: Database, campaign_id: str, clock: Clock, console: Console, *,
          hours: CallHours, speed: float, deadline: datetime,
          health: Callable[[], str | None] = lambda: None, title: str = "campaign",
          refresh_per_second: float = 4.0, line_every: float = 3.0) -> Snapshot:
    """Show the campaign until it is completed or canceled; returns the last snapshot.

    Raises :class:`CampaignStalled` when the virtual clock passes ``deadline`` first, or when
    ``health()`` reports a problem (a message)."""
    started = time.monotonic()
    interval = 1.0 / refresh_per_second

    def snapshot() -> Snapshot:
        problem = health()
        if problem is not None:
            raise CampaignStalled(problem)
        snap = read_snapshot(db, campaign_id, clock.now())
        if not snap.finished and snap.at > deadline:
            raise CampaignStalled(f"the campaign is still {snap.status} at "
                                  f"{_clock_line(snap.at)}, past the demo's deadline")
        return snap

    def view(snap: Snapshot) -> RenderableType:
        return render(snap, hours=hours, speed=speed, real_elapsed=time.monotonic() - started,
                      title=title, width=min(console.width, 100))

    snap = snapshot()
    if console.is_terminal:
        with Live(view(snap), console=console, auto_refresh=False,
                  vertical_overflow="visible") as live:
            while not snap.finished:
                time.sleep(interval)
                snap = snapshot()
                live.update(view(snap), refresh=True)
        return snap
    console.print(progress_line(snap), soft_wrap=True)
    printed = time.monotonic()
    while not snap.finished:
        time.sleep(interval)
        snap = snapshot()
        if snap.finished or time.monotonic() - printed >= line_every:
            console.print(progress_line(snap), soft_wrap=True)
            printed = time.monotonic()
    return snap


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Results:
    name: str
    status: str
    contacts: int
    final_outcomes: Mapping[str, int]  # contacts by their last outcome ("" when never called)
    call_outcomes: Mapping[str, int]  # calls by outcome
    attempts: Mapping[int, int]  # contacts by number of attempts
    calls: int
    same_area_code: int  # calls whose caller number shares the callee's area code
    talk_seconds: float  # average of answered calls
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def reached(self) -> int:
        return self.final_outcomes.get("answered", 0)

    @property
    def virtual_duration(self) -> timedelta | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return self.completed_at - self.started_at


def read_results(db: Database, campaign_id: str) -> Results:
    with db.reading() as session:
        campaign, counters = session.execute(
            select(Campaign, CampaignCounters)
            .join(CampaignCounters, CampaignCounters.campaign_id == Campaign.id)
            .where(Campaign.id == campaign_id)).one()
        finals = session.execute(
            select(func.coalesce(CampaignContact.outcome, ""), func.count())
            .where(CampaignContact.campaign_id == campaign_id)
            .group_by(CampaignContact.outcome)).all()
        attempts = session.execute(
            select(CampaignContact.attempts, func.count())
            .where(CampaignContact.campaign_id == campaign_id)
            .group_by(CampaignContact.attempts)).all()
        same_area = session.scalar(
            select(func.count()).select_from(Call)
            .where(Call.campaign_id == campaign_id,
                   func.substr(Call.from_number, 1, 5) == func.substr(Call.to_number, 1, 5)))
        talk = session.scalar(
            select(func.avg(Call.duration_seconds))
            .where(Call.campaign_id == campaign_id, Call.outcome == "answered"))
    return Results(
        name=campaign.name, status=campaign.status, contacts=counters.contacts_total,
        final_outcomes={outcome: count for outcome, count in finals},
        call_outcomes={name: getattr(counters, column) for name, column, _ in OUTCOMES},
        attempts={n: count for n, count in sorted(attempts)}, calls=counters.calls_total,
        same_area_code=int(same_area or 0), talk_seconds=float(talk or 0.0),
        started_at=campaign.started_at, completed_at=campaign.completed_at)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def results_table(results: Results, *, real_seconds: float) -> RenderableType:
    """The end-of-campaign summary: outcomes, attempts, connect rate and durations."""
    contacts, calls = results.contacts, results.calls
    table = Table(title=f"Results: {results.name} ({results.status})", title_style="bold",
                  title_justify="left", header_style="bold")
    table.add_column("outcome")
    table.add_column("contacts (last call)", justify="right")
    table.add_column("share", justify="right")
    table.add_column("calls", justify="right")
    known = {name for name, _, _ in OUTCOMES}
    for name, _, style in OUTCOMES:
        final = results.final_outcomes.get(name, 0)
        table.add_row(Text(name, style=style), str(final), _share(final, contacts),
                      str(results.call_outcomes.get(name, 0)))
    for name, count in sorted(results.final_outcomes.items()):
        if name not in known:
            table.add_row(name or "never called", str(count), _share(count, contacts), "")
    table.add_row(Text("total", style="bold"), str(contacts), "", str(calls), end_section=True)

    figures = Table.grid(padding=(0, 2))
    figures.add_column(style="bold", no_wrap=True)
    figures.add_column()
    spread = ", ".join(f"{count} with {n}" for n, count in results.attempts.items())
    mean = sum(n * c for n, c in results.attempts.items()) / contacts if contacts else 0.0
    figures.add_row("attempts per contact", f"{mean:.2f} on average ({spread})")
    figures.add_row("connect rate", f"{_share(results.reached, contacts)} of contacts reached "
                                    f"by a person; "
                                    f"{_share(results.call_outcomes.get('answered', 0), calls)}"
                                    " of calls answered")
    if results.talk_seconds:
        figures.add_row("average conversation", f"{results.talk_seconds:.0f} s")
    figures.add_row("local presence", f"{_share(results.same_area_code, calls)} of calls from "
                                      "a number in the callee's area code")
    virtual = results.virtual_duration
    figures.add_row("campaign duration",
                    f"{_duration(virtual) if virtual is not None else '-'} of virtual time, "
                    f"{_elapsed(real_seconds)} real")
    return Group(table, Text(""), figures)
