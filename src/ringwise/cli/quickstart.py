"""``ringwise quickstart``: start the embedded stack and walk a newcomer through a first campaign.

Every step is a real HTTP request to the running server, printed as the ``curl`` command that
does the same, so the walkthrough doubles as API documentation a person can replay.
"""

from __future__ import annotations

import json
import shlex
import socket
import threading
import time
from dataclasses import replace
from typing import Any

import httpx
import typer
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from ringwise.cli.common import DatabaseOption, console, fail, settings_for
from ringwise.cli.serve import prepare_database
from ringwise.clock import SystemClock
from ringwise.db.engine import Database
from ringwise.services import workspaces

WORKSPACE_NAME = "Quickstart"


def register(app: typer.Typer) -> None:
    app.command()(quickstart)


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


class Walkthrough:
    """Sends the requests and shows each one as a curl command and a short answer."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.key = key
        self.http = httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30)
        self.step = 0

    def call(self, title: str, method: str, path: str, body: dict[str, Any] | None = None,
             show: tuple[str, ...] = ("id",)) -> Any:
        self.step += 1
        console.rule(f"[bold]{self.step}. {title}")
        curl = f'curl -s -X {method} {self.base_url}{path} -H "X-API-Key: $RW_KEY"'
        if body is not None:
            curl += " -H 'Content-Type: application/json' -d " + shlex.quote(json.dumps(body))
        console.print(Syntax(curl, "bash", word_wrap=True))
        response = self.http.request(method, path, json=body)
        if response.status_code >= 400:
            console.print(f"[red]{response.status_code}[/] {response.text}")
            raise fail(f"step {self.step} ({title}) failed; see the error above")
        data = response.json()
        summary = {k: data.get(k) for k in show} if isinstance(data, dict) else data
        console.print(f"[green]{response.status_code}[/] " + json.dumps(summary, default=str))
        return data


def run_walkthrough(base_url: str, key: str) -> dict[str, Any]:
    """The first campaign, step by step. Returns the final campaign as the API shows it."""
    w = Walkthrough(base_url, key)
    assistant = w.call("Create an assistant", "POST", "/v1/assistants", {
        "name": "Renewal reminder",
        "system_prompt": "You are Sam from Acme Insurance. Remind the customer their policy "
                         "renews soon and offer to book a review. Be brief and polite.",
        "first_message": "Hi {{first_name}}, this is Sam from Acme Insurance. Do you have a "
                         "minute to talk about your policy renewal?",
        "voicemail_message": "Hi {{first_name}}, Sam from Acme Insurance. Please call us back "
                             "about your renewal.",
    }, show=("id", "name"))
    numbers = [
        w.call(f"Add a caller number in {label}", "POST", "/v1/phone-numbers",
               {"number": number, "provider": "simulated", "label": label},
               show=("id", "number", "region", "area_code"))
        for number, label in (("+12125550100", "New York"), ("+13125550100", "Chicago"),
                              ("+14155550100", "San Francisco"))
    ]
    contacts = w.call("Add contacts (upsert by phone)", "POST", "/v1/contacts/bulk", {"contacts": [
        {"phone": "+1 (646) 555-0101", "first_name": "Ada", "last_name": "Lovelace"},
        {"phone": "+1 773 555 0102", "first_name": "Grace", "last_name": "Hopper"},
        {"phone": "+14155550103", "first_name": "Alan", "last_name": "Turing",
         "custom_fields": {"policy": "HOME-1234"}},
        {"phone": "+1 206 555 0104", "first_name": "Katherine", "last_name": "Johnson"},
        {"phone": "not a phone", "first_name": "Typo"},
    ]}, show=("created", "updated", "rejected"))
    contact_ids = [c for c in contacts["contact_ids"] if c]
    contact_list = w.call("Create a contact list", "POST", "/v1/contact-lists",
                          {"name": "Renewals March"}, show=("id", "name"))
    w.call("Put the contacts in the list", "POST",
           f"/v1/contact-lists/{contact_list['id']}/contacts",
           {"contact_ids": contact_ids}, show=("added", "contact_count"))
    campaign = w.call("Create the campaign (a draft)", "POST", "/v1/campaigns", {
        "name": "Policy renewals",
        "assistant_id": assistant["id"],
        "caller_id": {"mode": "local_presence",
                      "phone_number_ids": [n["id"] for n in numbers]},
        "schedule": {"days": ["mon", "tue", "wed", "thu", "fri"],
                     "call_hours": {"start_time": "09:00", "end_time": "17:00"}},
        "retry": {"delays_minutes": [60, 240], "retry_on": ["no-answer", "busy", "voicemail"]},
        "concurrency_limit": 5,
        "priority": 60,
        "analysis": {"scoring_criteria": "Score 0-100 by willingness to book a review",
                     "tags": [{"name": "Interested", "description": "Wants a review"}]},
        "contact_list_ids": [contact_list["id"]],
    }, show=("id", "status"))
    w.call("Start it", "POST", f"/v1/campaigns/{campaign['id']}/start", show=("id", "status"))
    return dict(w.call("Look at it, with live counters", "GET",
                       f"/v1/campaigns/{campaign['id']}", show=("status", "counts")))


def quickstart(
    port: int = typer.Option(8000, help="Port to serve on (the next free one if taken)"),
    exit_after: bool = typer.Option(False, "--exit", help="Stop after the walkthrough"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Start Ringwise on the embedded defaults and walk through a first campaign."""
    import uvicorn

    from ringwise.api.app import create_app

    settings = settings_for(database_url)
    prepare_database(settings)
    db = Database(settings.database_url)
    now = SystemClock().now()
    # A fresh workspace per run, so the walkthrough can be replayed on the same database.
    workspace_name = f"{WORKSPACE_NAME} {now:%Y-%m-%d %H:%M:%S}"
    with db.transaction() as session:
        workspace = workspaces.create_workspace(session, workspace_name, now)
        secret = workspaces.create_key(session, workspace.id, "quickstart", now).secret

    host = settings.host
    bound = _free_port(host, port)
    settings = replace(settings, port=bound)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db=db), host=host, port=bound,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise fail(f"the server could not start on {host}:{bound}")
        time.sleep(0.05)
    base_url = f"http://{host}:{bound}"
    console.print(Panel.fit(
        f"Ringwise is running at [bold]{base_url}[/] on {settings.database_url}\n"
        f"Workspace [bold]{workspace_name}[/] and its API key:\n"
        f"[bold green]{secret}[/]\n\nexport RW_KEY={secret}",
        title="Ringwise quick start",
    ))
    try:
        campaign = run_walkthrough(base_url, secret)
        table = Table("what", "value", title="Your first campaign")
        table.add_row("campaign", f"{campaign.get('name')} ({campaign.get('id')})")
        table.add_row("status", str(campaign.get("status")))
        for name, value in (campaign.get("counts") or {}).items():
            table.add_row(name.replace("_", " "), str(value))
        console.print(table)
        console.print(
            "\nThe campaign is running with its contacts pending: placing the calls is the "
            "dialer's job, the next milestone of this project.")
        console.print(
            f"\nNext: browse the API at [bold]{base_url}/docs[/] (Authorize with the key "
            f"above), list your campaigns with\n  curl -s {base_url}/v1/campaigns "
            "-H \"X-API-Key: $RW_KEY\"\nor import a CSV: "
            "ringwise import contacts.csv --list <list id>"
        )
        if exit_after:
            return
        console.print("\nServing until you press Ctrl-C.")
        while thread.is_alive():
            thread.join(timeout=0.5)
    except KeyboardInterrupt:
        console.print("\nStopping.")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()
