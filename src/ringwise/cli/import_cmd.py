"""``ringwise import FILE --list ID``: stream a CSV of contacts into a list, straight into the
database (no server needed), with a progress bar and an optional file of every rejected row."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ringwise.api.schemas.contacts import RowRejection, check_region
from ringwise.cli.common import DatabaseOption, console, fail, open_database, plain_errors
from ringwise.clock import SystemClock
from ringwise.db.models import ContactList, Workspace
from ringwise.services.context import Ctx
from ringwise.services.csv_import import DELIMITERS, ImportOptions, import_csv


def register(app: typer.Typer) -> None:
    app.command("import")(import_contacts)


def _mapping(pairs: list[str]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip():
            raise fail(f"--map expects field=Column (like phone=Mobile), not '{pair}'")
        mapping[field.strip()] = column.strip() or None
    return mapping


def import_contacts(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="The CSV file (UTF-8, UTF-16 with BOM or Windows-1252)"),
    list_id: str = typer.Option(..., "--list", "-l", help="Id of the contact list to fill"),
    default_region: str | None = typer.Option(
        None, "--default-region", "-r",
        help="Region for numbers without +country, like US (default: the workspace's)"),
    mapping: list[str] = typer.Option(
        [], "--map", "-m",
        help="field=Column, repeatable: --map phone=Mobile --map custom_fields.src=Source; "
             "field= (empty) skips a field"),
    delimiter: str | None = typer.Option(None, "--delimiter", "-d",
                                         help="One of , ; | or 'tab' (default: detected)"),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write every rejected row (row, field, reason) to this CSV"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Import contacts from a CSV file into a contact list (upsert by phone).

    Rows are numbered as a spreadsheet shows them: the header is row 1."""
    if delimiter is not None:
        delimiter = "\t" if delimiter.lower() in ("tab", "\\t") else delimiter
        if delimiter not in DELIMITERS:
            raise fail("--delimiter must be one of , ; | or tab")
    options_mapping = _mapping(mapping)
    total = file.stat().st_size
    rejects_file = rejects.open("w", encoding="utf-8", newline="") if rejects else None
    rejects_writer = csv.writer(rejects_file) if rejects_file else None
    if rejects_writer is not None:
        rejects_writer.writerow(["row", "field", "reason"])

    def on_reject(rejection: RowRejection) -> None:
        if rejects_writer is not None:
            rejects_writer.writerow([rejection.index, rejection.field or "", rejection.reason])

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                        TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn(),
                        console=console, transient=True)
    task = progress.add_task(f"Importing {file.name}", total=total, rows=0)

    def on_progress(bytes_read: int, rows: int) -> None:
        progress.update(task, completed=bytes_read, rows=rows)

    try:
        with plain_errors(), open_database(database_url) as db, db.transaction() as session, \
                file.open("rb") as stream, progress:
            contact_list = session.get(ContactList, list_id)
            if contact_list is None:
                raise fail(f"no contact list with id '{list_id}'")
            list_name = contact_list.name
            workspace = session.get(Workspace, contact_list.workspace_id)
            assert workspace is not None  # the foreign key guarantees it
            region = (check_region(default_region, "--default-region") if default_region
                      else workspace.default_region or "US")
            ctx = Ctx(session=session, workspace=workspace, now=SystemClock().now())
            options = ImportOptions(default_region=region, mapping=options_mapping,
                                    delimiter=delimiter)
            report = import_csv(ctx, stream, list_id, options, on_reject=on_reject,
                                on_progress=on_progress)
            progress.update(task, completed=total)
    finally:
        if rejects_file is not None:
            rejects_file.close()

    table = Table("rows", "created", "updated", "duplicates", "rejected")
    table.add_row(*(f"{n:,}" for n in (report.rows, report.created, report.updated,
                                        report.duplicates, report.rejected)))
    console.print(f"Imported [bold]{file.name}[/] into list [bold]{list_name}[/] "
                  f"({report.encoding}, delimiter {report.delimiter!r})")
    console.print(table)
    if report.rejections:
        shown = report.rejections[:10]
        for rejection in shown:
            console.print(f"  row {rejection.index}: {rejection.field}: {rejection.reason}")
        if report.rejected > len(shown):
            more = report.rejected - len(shown)
            hint = f" (all in {rejects})" if rejects else " (use --rejects FILE to see all)"
            console.print(f"  ... and {more:,} more{hint}")
