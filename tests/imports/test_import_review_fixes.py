"""What an outside review of the import found, each as a test: stock and corrections of
imported visits, enrolment months, codes shown without an audit row, odd cells and
tally lines, formulas on a reordered workbook, undo across batches, keys that survive an
empty new column, and a conflicting import on either database."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.participants.models import Participant
from ssp.supplies.models import StockMovement
from ssp.visits.models import Visit
from tests.imports.conftest import VISIT_LOG, import_command
from tests.visits.test_record_visit import _form


def _write_csv(path, header, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_correcting_an_imported_visit_moves_no_stock(app, program, browser):
    assert import_command(app, VISIT_LOG).exit_code == 0
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.participant_id.is_not(None)))
        visit_id, participant_id = visit.id, visit.participant_id
    browser.sign_in("mgr")
    data = _form(browser, f"/visits/{visit_id}/edit")
    data["syringes_collected"] = "7"
    response = browser.post(f"/visits/{visit_id}/edit", data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 0
        assert db.session.get(Visit, visit_id).syringes_collected == 7
    del participant_id


def test_the_front_desk_cannot_correct_an_imported_visit(app, program, factory, browser):
    factory.user("desk", role="front_desk", site_id=program.main_street)
    assert import_command(app, VISIT_LOG).exit_code == 0
    with app.app_context():
        visit_id = db.session.scalar(
            select(Visit.id).where(Visit.site_id == program.main_street).limit(1)
        )
    browser.sign_in("desk")
    assert browser.get(f"/visits/{visit_id}/edit").status_code == 403


def test_participants_are_enrolled_at_their_first_imported_visit(app, program):
    assert import_command(app, VISIT_LOG).exit_code == 0
    with app.app_context():
        rows = db.session.execute(
            select(Participant.id, Participant.created_at, func.min(Visit.occurred_at))
            .join(Visit, Visit.participant_id == Participant.id)
            .group_by(Participant.id, Participant.created_at)
        ).all()
    assert rows and all(created == first for _, created, first in rows)


def test_the_mapping_page_audits_codes_it_shows_from_an_unrecognised_column(
    app, program, browser, factory, tmp_path
):
    enrolled = factory.participant("QWRT0101", site_id=program.main_street)
    path = _write_csv(
        tmp_path / "ppt.csv",
        ["Date", "PPT #", "Site", "Syringes"],
        [["2025-01-02", "QWRT0101", "Main Street", "10"]],
    )
    browser.sign_in("mgr")
    uploaded = browser.post(
        "/admin/imports/",
        {"shape": "visits", "mapping": "", "file": (io.BytesIO(path.read_bytes()), "ppt.csv")},
        content_type="multipart/form-data",
    )
    page = browser.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "QWRT0101" in page  # the column was not recognised as codes
    with app.app_context():
        shown = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participants_shown")
        ).all()
    assert any(
        e.detail["endpoint"] == "imports.mapping" and enrolled in e.detail["participants"]
        for e in shown
    )


@pytest.mark.parametrize("cell", ["²", "½", "1e3", "0x10", "1 2"])
def test_odd_digits_are_refused_rows_not_errors(app, program, tmp_path, cell):
    path = _write_csv(
        tmp_path / "odd.csv",
        ["Date", "Code", "Site", "Syringes"],
        [["2025-01-02", "ABCD1234", "Main Street", cell]],
    )
    result = import_command(app, path, "--map", "Syringes=Syringe 1 mL 27G 1/2 in", maps=())
    assert result.exit_code == 1, result.output
    assert "row 2: “Syringes”" in result.output and "is not a whole number" in result.output


def test_tally_lines_with_a_blank_count_and_repeated_lines(app, program, tmp_path):
    path = _write_csv(
        tmp_path / "tally.csv",
        ["Date", "Site", "Contacts", "Syringes Out"],
        [
            ["2025-04-01", "Main Street", "", ""],  # closed: nothing at all
            ["2025-04-02", "Main Street", "", "500"],  # counts, but how many contacts?
            ["2025-04-03", "Main Street", "12", "240"],
            ["2025-04-03", "Main Street", "12", "240"],  # the same line twice
        ],
    )
    result = import_command(app, path, "--shape", "tally", maps=())
    assert result.exit_code == 1, result.output
    assert "Lines with 0 contacts and nothing else: 1." in result.output
    assert "row 3: “Contacts” is blank: how many contacts?" in result.output
    assert "row 5: The same as row 4: a tally has one line per day and site." in result.output
    left_out = import_command(app, path, "--shape", "tally", "--leave-out-refused", maps=())
    assert left_out.exit_code == 0, left_out.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 12


def test_a_formula_is_found_when_the_first_tab_is_not_sheet1(app, program, tmp_path):
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["nothing here"])
    visits = workbook.create_sheet("Visits", 0)  # the first tab, stored as sheet2.xml
    visits.append(["Date", "Code", "Site", "Syringes"])
    visits.append([dt.date(2025, 1, 2), "ABCD1234", "Main Street", "=5*2"])
    path = tmp_path / "reordered.xlsx"
    workbook.save(path)
    result = import_command(app, path, "--map", "Syringes=Syringe 1 mL 27G 1/2 in", maps=())
    assert result.exit_code == 1, result.output
    assert "row 2: “Syringes” holds a formula (=5*2)" in result.output


def test_undoing_two_imports_leaves_no_one_behind(app, program, tmp_path):
    header = ["Date", "Code", "Site", "Syringes"]
    first = _write_csv(
        tmp_path / "a.csv", header, [["2025-01-02", "ABCD1234", "Main Street", "10"]]
    )
    second = _write_csv(
        tmp_path / "b.csv", header, [["2025-02-02", "ABCD1234", "Main Street", "20"]]
    )
    maps = ("Syringes=Syringe 1 mL 27G 1/2 in",)
    assert import_command(app, first, maps=maps).exit_code == 0
    assert import_command(app, second, maps=maps).exit_code == 0
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import", "undo", "1", "--as", "mgr", "--yes"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
    assert runner.invoke(args=["import", "undo", "2", "--as", "mgr", "--yes"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_an_empty_column_added_to_next_months_mapping_keeps_the_rows_keys(app, program, tmp_path):
    rows = [["2025-01-02", "ABCD1234", "Main Street", "10"]]
    first = _write_csv(tmp_path / "a.csv", ["Date", "Code", "Site", "Syringes"], rows)
    assert import_command(app, first, maps=("Syringes=Syringe 1 mL 27G 1/2 in",)).exit_code == 0
    wider = _write_csv(
        tmp_path / "b.csv",
        ["Date", "Code", "Site", "Syringes", "Cookers"],
        [row + [""] for row in rows],
    )
    again = import_command(app, wider, maps=("Syringes=Syringe 1 mL 27G 1/2 in",))
    assert again.exit_code == 1 and "Already imported (left as they are): 1 row." in again.output


def test_rows_imported_between_the_preview_and_the_write_refuse_the_file(app, program):
    from ssp.imports import services
    from ssp.imports.models import ImportShape
    from ssp.imports.writer import Choices, ImportRefused
    from ssp.staff.models import User

    with app.app_context():
        loaded = services.load(VISIT_LOG.name, VISIT_LOG.read_bytes())
        mapping = services.mapping_for(loaded, ImportShape.VISITS)
        from ssp.imports.mapping import Column

        mapping.columns["Staff"] = mapping.columns["Notes"] = Column("ignore")
        mapping.columns["Alcohol Pads (boxes)"] = Column("ignore")
        planned = services.plan(loaded, mapping)
        # Another import writes one of the rows meanwhile.
        user = db.session.scalar(select(User).where(User.username == "mgr"))
        visit = planned.visits[5]
        db.session.add(
            Visit(
                site_id=visit.site_id,
                user_id=user.id,
                occurred_at=visit.occurred_at,
                kind=visit.kind,
                import_key=visit.key,
            )
        )
        db.session.commit()
        with pytest.raises(ImportRefused, match="imported meanwhile"):
            services.write(planned, user, Choices(), source="command line")
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 1
