"""The streamed CSV import: detection, mapping, row numbers, batching and the upsert."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ringwise.api.schemas.contacts import RowRejection
from ringwise.cli import app as cli_app
from ringwise.clock import ManualClock
from ringwise.db.engine import Database
from ringwise.db.models import Contact, ContactList, ContactListMember, Workspace
from ringwise.errors import InvalidInput
from ringwise.ids import new_id
from ringwise.services.context import Ctx
from ringwise.services.csv_import import (
    ImportOptions,
    ImportReport,
    custom_key,
    detect_encoding,
    import_csv,
    plan_columns,
    read_batches,
    sniff_delimiter,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


# --- pure parts ------------------------------------------------------------------------------

def test_header_aliases_and_custom_fields() -> None:
    plan = plan_columns(["Cell Phone", "FIRST_NAME", "Surname", "e-mail", "ZIP code", "TZ",
                         "Organisation", "Job Title", "Lead Source", "", "lead source"], {})
    assert plan.columns == {
        "phone": "Cell Phone", "first_name": "FIRST_NAME", "last_name": "Surname",
        "email": "e-mail", "postal_code": "ZIP code", "timezone": "TZ",
        "company": "Organisation", "job_title": "Job Title",
        "custom_fields.lead_source": "Lead Source", "custom_fields.column_10": "",
        "custom_fields.lead_source_2": "lead source",
    }


def test_explicit_mapping_wins_and_can_skip() -> None:
    plan = plan_columns(["phone", "Mobile", "Email", "Src"],
                        {"phone": "mobile", "email": None, "custom_fields.origin": "src"})
    assert plan.columns["phone"] == "Mobile"
    assert "email" not in plan.columns and plan.columns["custom_fields.email"] == "Email"
    assert plan.columns["custom_fields.origin"] == "Src"
    assert plan.columns["custom_fields.phone"] == "phone"


def test_mapping_errors_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_columns(["a", "b"], {})
    assert caught.value.field == "mapping.phone" and "a, b" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        plan_columns(["phone"], {"favourite_colour": "phone"})
    assert caught.value.field == "mapping.favourite_colour"


def test_custom_key() -> None:
    assert custom_key(" Lead Source ") == "lead_source"
    assert custom_key("Coût (€)") == "coût"
    assert custom_key("###") == ""


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_sniff_delimiter(delimiter: str) -> None:
    rows = [["phone", "name", "notes"], ["+12125550100", "Ann", "a, b; c | d\te"],
            ["+12125550101", "Bob", ""]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    assert sniff_delimiter(out.getvalue()) == delimiter


def test_sniff_defaults_to_comma_for_one_column() -> None:
    assert sniff_delimiter("phone\n+12125550100\n") == ","


@pytest.mark.parametrize(("name", "encoding"), [
    ("bom_semicolon.csv", "utf-8-sig"), ("cp1252_tab.csv", "cp1252"),
    ("pipe_full_name.csv", "utf-8"), ("utf16_bom.csv", "utf-16"),
])
def test_detect_encoding(name: str, encoding: str) -> None:
    with (FIXTURES / name).open("rb") as stream:
        stream.seek(0)
        assert detect_encoding(stream) == encoding
        assert stream.tell() == 0


def test_latin1_fallback() -> None:
    # 0x81 is undefined in cp1252 and invalid in UTF-8
    assert detect_encoding(io.BytesIO(b"phone,name\n+12125550100,\x81x\n")) == "latin-1"


def test_row_numbers_are_spreadsheet_rows() -> None:
    data = b'\n\nphone,notes\n\n555,"line one\nline two"\n+12125550100,x\n\n  ,  \nabc,y\n'
    (batch,) = list(read_batches(io.BytesIO(data), ImportOptions()))
    # the header is on row 3 (two blank rows above it); the quoted two-line cell is one row
    assert [(r.index, r.field) for r in batch.rejections] == [(5, "phone"), (9, "phone")]
    assert batch.data_rows == 3
    assert [row[0] for row in batch.rows] == [6]


def test_duplicates_within_and_across_batches() -> None:
    lines = ["phone,first_name,last_name,tag"]
    lines += ["+12125550100,Ann,Lee,a", "+12125550101,Bob,,", "2125550100,,Leigh,b",
              "+12125550102,Cy,,", "(212) 555-0101,Robert,,c"]
    found = list(read_batches(io.BytesIO("\n".join(lines).encode()), ImportOptions(),
                              batch_rows=3))
    assert [len(b.rows) for b in found] == [3, 1]
    assert [b.duplicates for b in found] == [1, 1]
    assert [b.repeated for b in found] == [0, 1]  # Robert's row comes after Bob's batch
    first = dict(zip(found[0].columns, found[0].rows[0], strict=True))
    assert first["phone"] == "+12125550100"
    # same batch: merged, the later row's non-empty values win, custom fields merge
    assert (first["first_name"], first["last_name"]) == ("Ann", "Leigh")
    assert first["custom_fields"] == '{"tag":"b"}'
    assert found[0].columns == ("idx", "id", "phone", "first_name", "last_name",
                                "custom_fields")


def test_full_name_column_is_split() -> None:
    (batch,) = list(read_batches((FIXTURES / "pipe_full_name.csv").open("rb"), ImportOptions()))
    ada, grace = (dict(zip(batch.columns, row, strict=True)) for row in batch.rows)
    assert (ada["phone"], ada["first_name"], ada["last_name"]) == (
        "+12125550104", "Ada", "Lovelace")
    assert (ada["company"], ada["job_title"], ada["postal_code"], ada["utm_source"]) == (
        "Analytical Engines", "Countess", "10003", "newsletter")
    assert (grace["company"], grace["job_title"]) == (None, "Rear Admiral")


# --- writing ---------------------------------------------------------------------------------

@pytest.fixture
def ctx_factory(db: Database, clock: ManualClock) -> Iterator[tuple[Database, str, str]]:
    """(db, workspace id, list id)."""
    now = clock.now()
    with db.transaction() as session:
        workspace = Workspace(id=new_id(), name="Acme", created_at=now, updated_at=now)
        session.add(workspace)
        session.flush()
        contact_list = ContactList(id=new_id(), workspace_id=workspace.id, name="L",
                                   created_at=now, updated_at=now)
        session.add(contact_list)
    yield db, workspace.id, contact_list.id


def run_import(db: Database, workspace_id: str, list_id: str, data: bytes,
               clock: ManualClock, **kwargs: Any) -> ImportReport:
    with db.transaction() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        ctx = Ctx(session=session, workspace=workspace, now=clock.now())
        return import_csv(ctx, io.BytesIO(data), list_id, **kwargs)


def test_import_upserts_into_existing_contacts(ctx_factory: tuple[Database, str, str],
                                               clock: ManualClock) -> None:
    db, workspace_id, list_id = ctx_factory
    first = b"phone,first_name,last_name,email,source\n+12125550100,Ann,Lee,a@x.io,web\n"
    run_import(db, workspace_id, list_id, first, clock)
    second = (b"phone,first_name,last_name,email,plan\n"
              b"212-555-0100,,Leigh,,gold\n+12125550199,New,,,\n")
    report = run_import(db, workspace_id, list_id, second, clock)
    assert (report.created, report.updated, report.duplicates) == (1, 1, 0)
    with db.reading() as session:
        ann = session.scalar(select(Contact).where(Contact.phone == "+12125550100"))
        assert ann is not None
        assert (ann.first_name, ann.last_name, ann.email) == ("Ann", "Leigh", "a@x.io")
        assert ann.custom_fields == {"source": "web", "plan": "gold"}
        members = session.scalar(select(func.count()).where(
            ContactListMember.list_id == list_id))
        assert members == 2


def test_import_five_thousand_rows_in_batches(ctx_factory: tuple[Database, str, str],
                                              clock: ManualClock) -> None:
    db, workspace_id, list_id = ctx_factory
    lines = ["Phone Number,First Name,Zip"]
    for i in range(5_000):
        phone = "oops" if i % 500 == 7 else f"+1415555{i % 4_800:04d}"  # 200 repeats
        lines.append(f"{phone},Name {i},{10000 + i}")
    rejected: list[RowRejection] = []
    progress: list[tuple[int, int]] = []
    report = run_import(db, workspace_id, list_id, "\n".join(lines).encode(), clock,
                        batch_rows=1_000, on_reject=rejected.append,
                        on_progress=lambda b, r: progress.append((b, r)))
    assert report.rows == 5_000 and report.rejected == 10
    assert report.created + report.duplicates == 4_990
    assert report.updated == 0
    assert [r.index for r in rejected][:2] == [9, 509]
    assert progress[-1][1] == 5_000 and len(progress) >= 5
    with db.reading() as session:
        count = session.scalar(select(func.count()).select_from(Contact))
        assert count == report.created
        last = session.scalar(select(Contact).where(Contact.phone == "+14155550001"))
        assert last is not None and last.first_name == "Name 4801"  # the later row won


def test_failed_import_writes_nothing(ctx_factory: tuple[Database, str, str],
                                      clock: ManualClock) -> None:
    db, workspace_id, list_id = ctx_factory
    good = "\n".join(["phone"] + [f"+1415555{i:04d}" for i in range(300)])
    data = (good + '\n"' + "x" * 200_000 + '"\n').encode()
    with pytest.raises(InvalidInput):
        run_import(db, workspace_id, list_id, data, clock, batch_rows=100)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_cli_import(ctx_factory: tuple[Database, str, str], tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    db, _, list_id = ctx_factory
    monkeypatch.setenv("RINGWISE_DATABASE_URL", db.url)
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(cli_app, [
        "import", str(FIXTURES / "bom_semicolon.csv"), "--list", list_id,
        "--map", "email=", "--rejects", str(rejects)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    with rejects.open(encoding="utf-8") as f:
        assert list(csv.reader(f)) == [
            ["row", "field", "reason"], ["5", "phone", "'not a phone' is not a phone number "
                                                       "(not a number)"]]
    with db.reading() as session:
        phones = set(session.scalars(select(Contact.phone)))
    assert phones == {"+12125550100", "+14155550101", "+34600123456", "+442079460958"}
    missing = CliRunner().invoke(cli_app, ["import", str(FIXTURES / "pipe_full_name.csv"),
                                           "--list", "nope"])
    assert missing.exit_code == 1 and "no contact list" in missing.output


def test_import_leaves_connection_settings_as_they_were(
        ctx_factory: tuple[Database, str, str], clock: ManualClock) -> None:
    """The import tunes its connection (SQLite page cache) and undoes that before it returns,
    and the rows it wrote satisfy every foreign key."""
    db, workspace_id, list_id = ctx_factory
    data = b"phone\n+12125550100\n+12125550101\n"
    with db.transaction() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        connection = session.connection()
        setting = ("PRAGMA cache_size" if db.dialect == "sqlite"
                   else "SELECT current_setting('work_mem')")
        before = connection.exec_driver_sql(setting).scalar_one()
        ctx = Ctx(session=session, workspace=workspace, now=clock.now())
        report = import_csv(ctx, io.BytesIO(data), list_id)
        assert report.created == 2
        assert connection.exec_driver_sql(setting).scalar_one() == before
    with db.reading() as session:
        orphans = session.scalar(
            select(func.count()).select_from(ContactListMember)
            .outerjoin(Contact, Contact.id == ContactListMember.contact_id)
            .where(Contact.id.is_(None)))
        assert orphans == 0
        assert session.scalar(select(func.count()).where(
            ContactListMember.list_id == list_id)) == 2
