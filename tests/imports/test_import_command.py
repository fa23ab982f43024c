"""`ssp import run`: the sample spreadsheets imported from the command line; the monthly
report afterwards adds up to what the spreadsheet itself adds up to; a second import,
or an overlapping file, adds nothing twice; a bad file is refused row by row and writes
nothing; an import undone leaves the database as it was."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from ssp.imports.models import ImportBatch
from ssp.participants.models import Participant
from ssp.referrals.models import FollowUp, Referral
from ssp.supplies.models import StockMovement
from ssp.visits.models import Service, Visit, VisitItem, VisitService
from tests.imports.conftest import (
    BAD_LOG,
    OVERLAPPING_LOG,
    TALLY,
    TALLY_MAPS,
    TALLY_XLSX,
    VISIT_LOG,
    VISIT_LOG_XLSX,
    import_command,
    tally_totals,
    visit_log_totals,
)
from tests.reporting.test_report_files import _exact_profile


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Visit, VisitItem, VisitService, Participant, Referral, StockMovement)
        }


def _report_rows(app, period: str) -> dict[tuple[str, str, str], str]:
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period=period, funder="exact", user_id=None)
        db.session.commit()
    return {
        (row["table"], row["row"], row["column"]): row["value"]
        for row in csv.DictReader(io.StringIO(made.csv))
    }


def _month_label(month: str) -> str:
    return dt.date.fromisoformat(f"{month}-01").strftime("%B %Y")


def _figures(rows, month: str) -> dict[str, int]:
    """The report's figures the spreadsheets can be checked against."""
    label = _month_label(month)
    keys = {
        "visits": ("Visits", "All visits", "Visits"),
        "people": ("People", "People served", "Count"),
        "syringes": ("At a glance", "Syringes distributed", label),
        "syringes_collected": ("At a glance", "Used syringes collected", label),
        "naloxone": ("Overdose response", "Naloxone kits distributed", "Count"),
        "reversals": ("Overdose response", "Overdose reversals reported", "Count"),
        "referrals": ("Referrals by type", "All referrals", "Made this month"),
    }
    return {name: int(rows[key].replace(",", "")) for name, key in keys.items() if key in rows}


@pytest.mark.parametrize("path", [VISIT_LOG, VISIT_LOG_XLSX], ids=["csv", "xlsx"])
def test_a_visit_log_imports_and_the_report_adds_up_to_it(app, program, path):
    result = import_command(app, path)
    assert result.exit_code == 0, result.output
    expected = visit_log_totals()
    assert "Imported batch 1:" in result.output
    total_visits = sum(month["visits"] for month in expected.values())
    assert f"{total_visits:,} visits" in result.output
    counts = _counts(app)
    assert counts["visits"] == total_visits
    assert counts["stock_movements"] == 0  # history does not move today's stock
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    _exact_profile(app)
    for month, totals in expected.items():
        figures = _figures(_report_rows(app, month), month)
        wanted = ("visits", "people", "syringes", "syringes_collected", "naloxone")
        assert figures == {
            **{name: totals[name] for name in wanted},
            "reversals": totals["reversals"],
            "referrals": totals["referrals"],
        }, month


def test_the_command_line_preview_lists_the_months_and_writes_nothing(app, program):
    result = import_command(app, VISIT_LOG, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written." in result.output
    for month, totals in visit_log_totals().items():
        line = next(line for line in result.output.splitlines() if line.strip().startswith(month))
        assert line.split()[1:4] == [
            f"{totals['visits']:,}",
            f"{totals['people']:,}",
            f"{totals.get('anonymous', 0):,}",
        ]
    assert _counts(app)["visits"] == 0


def test_an_unmapped_column_stops_the_import_and_names_it(app, program):
    result = import_command(app, VISIT_LOG, maps=())
    assert result.exit_code == 1
    assert "Column “Staff” is not mapped" in result.output
    assert "Column “Notes” is not mapped" in result.output
    assert _counts(app)["visits"] == 0


def test_a_second_import_of_the_same_file_adds_nothing(app, program):
    assert import_command(app, VISIT_LOG).exit_code == 0
    before = _counts(app)
    again = import_command(app, VISIT_LOG)
    assert again.exit_code == 1
    assert "Already imported (left as they are): " in again.output
    assert "Nothing to import" in again.output
    # The same rows in the other format are the same rows.
    xlsx = import_command(app, VISIT_LOG_XLSX)
    assert xlsx.exit_code == 1 and "Nothing to import" in xlsx.output
    assert _counts(app) == before


def test_an_overlapping_file_adds_only_its_new_rows(app, program):
    assert import_command(app, VISIT_LOG).exit_code == 0
    before = _counts(app)
    overlapping = import_command(app, OVERLAPPING_LOG)
    assert overlapping.exit_code == 0, overlapping.output
    with OVERLAPPING_LOG.open() as handle:
        april = sum(1 for row in csv.DictReader(handle) if row["Date"].startswith("4/"))
        handle.seek(0)
        rows = sum(1 for _ in csv.DictReader(handle))
    assert f"Already imported (left as they are): {rows - april:,} rows." in overlapping.output
    assert _counts(app)["visits"] == before["visits"] + april


@pytest.mark.parametrize("path", [TALLY, TALLY_XLSX], ids=["csv", "xlsx"])
def test_a_daily_tally_imports_as_anonymous_contacts(app, program, path):
    result = import_command(app, path, "--shape", "tally", maps=TALLY_MAPS)
    assert result.exit_code == 0, result.output
    expected = tally_totals()
    closed = sum(month["closed"] for month in expected.values())
    assert f"Lines with 0 contacts and nothing else: {closed:,}." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Visit.participant_id))) == 0
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
    _exact_profile(app)
    for month, totals in expected.items():
        figures = _figures(_report_rows(app, month), month)
        for name in ("visits", "syringes", "syringes_collected", "naloxone"):
            assert figures[name] == totals[name], (month, name)
        assert figures["people"] == 0  # contacts without codes are no one's visits


def test_a_bad_file_is_refused_row_by_row_and_writes_nothing(app, program):
    result = import_command(app, BAD_LOG)
    assert result.exit_code == 1, result.output
    output = result.output
    assert "Refused: 8 rows." in output
    for row, words in {
        3: "“Syringes Given”: “twenty” is not a whole number.",
        4: "No site is called “Nowhere Clinic”",
        5: "The date Jan 1, 2099 is in the future.",
        6: "“Syringes Given” holds a formula (=B2*2)",
        7: "“Used Syringes Returned”: -5 is negative.",
        8: "“for a friend's party” is not a naloxone reason",
        9: "The code: A code has only letters A to Z and digits 0 to 9.",
        10: "A referral needs the participant's code.",
    }.items():
        assert f"row {row}: {words}" in output, row
    assert "Nothing was written. 8 rows are refused" in output
    assert _counts(app)["visits"] == 0
    # Asked to, the good row goes in alone.
    left_out = import_command(app, BAD_LOG, "--leave-out-refused")
    assert left_out.exit_code == 0, left_out.output
    assert _counts(app)["visits"] == 1
    with app.app_context():
        batch = db.session.get(ImportBatch, 1)
        assert (batch.rows_read, batch.rows_imported, batch.rows_left_out) == (9, 1, 8)


def test_stock_moves_only_when_asked(app, program):
    result = import_command(app, VISIT_LOG, "--move-stock")
    assert result.exit_code == 0, result.output
    with app.app_context():
        handed_out = db.session.scalar(select(func.sum(VisitItem.quantity)))
        moved = db.session.scalar(select(func.sum(StockMovement.delta)))
    assert moved == -handed_out


def test_an_undone_import_leaves_the_database_as_it_was(app, program, factory):
    before = _counts(app)
    assert import_command(app, VISIT_LOG).exit_code == 0
    # Someone enrolled by the import comes back and is seen at the desk.
    with app.app_context():
        participant = db.session.scalars(
            select(Participant).where(Participant.import_batch_id == 1)
        ).first()
        code, participant_id = participant.code, participant.id
    factory.visit(participant_id, user_id=program.manager, site_id=program.main_street)
    undo = app.test_cli_runner().invoke(args=["import", "undo", "1", "--as", "mgr", "--yes"])
    assert undo.exit_code == 0, undo.output
    assert "kept 1 who has other records" in undo.output
    after = _counts(app)
    assert after["visits"] == before["visits"] + 1  # the desk's visit stays
    assert after["participants"] == before["participants"] + 1  # and so does that person
    assert after["referrals"] == before["referrals"]
    with app.app_context():
        assert db.session.scalar(select(Participant.code)) == code
        assert db.session.get(ImportBatch, 1).undone
        assert db.session.scalar(select(func.count()).select_from(VisitService)) == 0
    # The rows are free again: the file imports afresh.
    again = import_command(app, VISIT_LOG)
    assert again.exit_code == 0, again.output
    assert _counts(app)["visits"] == before["visits"] + 1 + sum(
        m["visits"] for m in visit_log_totals().values()
    )


def test_services_and_packs_are_counted_as_the_file_says(app, program):
    assert import_command(app, VISIT_LOG).exit_code == 0
    expected = visit_log_totals()
    with app.app_context():
        from ssp.supplies.models import SupplyItem

        pads = db.session.scalar(select(SupplyItem.id).where(SupplyItem.name == "Alcohol pad"))
        pad_units = db.session.scalar(
            select(func.sum(VisitItem.quantity)).where(VisitItem.supply_item_id == pads)
        )
        hiv = db.session.scalar(
            select(func.sum(VisitService.count)).where(VisitService.service == Service.HIV_TEST)
        )
    assert pad_units == sum(m["alcohol_pads"] for m in expected.values())
    assert hiv == sum(m["hiv_tests"] for m in expected.values())
