"""Admin > Import, as a manager uses it: upload, map the columns, preview, import with a
progress page, see the batch, undo it; refusals on the page, never a 500."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.imports.models import ImportBatch, ImportMapping, ImportUpload
from ssp.participants.models import Participant
from ssp.visits.models import Visit
from tests.imports.conftest import BAD_LOG, TALLY_XLSX, VISIT_LOG, visit_log_totals


def _upload(browser, path, **fields):
    data = {"shape": "visits", "mapping": "", **fields}
    data["file"] = (io.BytesIO(path.read_bytes()), path.name)
    return browser.post(
        "/admin/imports/", data, content_type="multipart/form-data", follow_redirects=False
    )


def _mapping_values(page: str) -> dict[str, str]:
    """The form as the page shows it: each select's chosen option, each box's value."""
    values = {}
    for name, body in re.findall(
        r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = chosen.group(1) if chosen else ""
    for name in ("site_id", "date_order"):
        match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
        if match:
            chosen = re.search(
                r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', match.group(1)
            )
            values[name] = next((g for g in chosen.groups() if g is not None), "") if chosen else ""
    return values


def _column(page: str, header: str) -> str:
    """The form name of the select for ``header``."""
    index = re.search(
        rf'<th scope="row" data-label="Column" id="header-(\d+)">{re.escape(header)}</th>', page
    )
    return f"column_{index.group(1)}"


def _option(page: str, label: str) -> str:
    return re.search(rf'<option value="([^"]+)"[^>]*>{re.escape(label)}</option>', page).group(1)


def _wait(browser, url: str, timeout: float = 60.0):
    """Follow the progress page until it stops refreshing; the page it ends on."""
    deadline = time.monotonic() + timeout
    while True:
        response = browser.get(url)
        if response.status_code == 302:
            return browser.get(response.headers["Location"])
        page = response.get_data(as_text=True)
        if 'http-equiv="refresh"' not in page:
            assert "The preview of this file is not ready." not in page, page[page.find("<main") :]
            return response
        assert "<progress" in page
        assert time.monotonic() < deadline, "the job never finished"
        time.sleep(0.05)


def _map_visit_log(browser, upload_location: str, **extra):
    page = browser.get(upload_location).get_data(as_text=True)
    assert "(not shown)" in page  # codes are never echoed back
    values = _mapping_values(page)
    values[_column(page, "Staff")] = "ignore"
    values[_column(page, "Notes")] = "ignore"
    pads = _column(page, "Alcohol Pads (boxes)")
    values[pads] = _option(page, "Handed out: Alcohol pad")
    values[pads.replace("column_", "unit_")] = "packs"
    values.update(extra)
    return browser.post(upload_location, values, follow_redirects=False)


def test_a_manager_imports_a_visit_log_through_the_page(app, program, browser):
    browser.sign_in("mgr")
    uploaded = _upload(browser, VISIT_LOG)
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    mapping_url = uploaded.headers["Location"]
    posted = _map_visit_log(browser, mapping_url, save_as="Sign-in sheet")
    assert posted.status_code == 302, posted.get_data(as_text=True)[:3000]
    preview = _wait(browser, posted.headers["Location"]).get_data(as_text=True)
    expected = visit_log_totals()
    total = sum(month["visits"] for month in expected.values())
    assert "Nothing has been written yet." in preview
    assert f"Import {total:,} visits" in preview
    for month, totals in expected.items():
        shown = dt.date.fromisoformat(f"{month}-01").strftime("%b %Y")  # "Jan 2025"
        row = re.search(
            rf'<th scope="row" data-label="Month">{shown}</th>(.*?)</tr>', preview, re.S
        )
        cells = re.findall(r'<td data-label="[^"]+">([^<]*)</td>', row.group(1))
        assert cells[:3] == [
            f"{totals['visits']:,}",
            f"{totals['people']:,}",
            f"{totals.get('anonymous', 0):,}",
        ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
        assert db.session.scalar(select(ImportMapping.name)) == "Sign-in sheet"
        upload_id = db.session.scalar(select(ImportUpload.id))
    started = browser.post(f"/admin/imports/uploads/{upload_id}/import", {}, follow_redirects=False)
    assert started.status_code == 302
    batch_page = _wait(browser, started.headers["Location"]).get_data(as_text=True)
    assert "Import #1: visit-log-2025-q1.csv" in batch_page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == total
        batch = db.session.get(ImportBatch, 1)
        assert (batch.source, batch.mapping_name, batch.visits) == ("page", "Sign-in sheet", total)
        # The file held codes: it is not kept once it is in.
        assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import_completed"))
        assert event.detail["visits"] == total and event.detail["source"] == "page"
    # Undo, confirmed.
    refused = browser.post("/admin/imports/batches/1", {})
    assert refused.status_code == 422 and "Tick the box to confirm." in refused.get_data(
        as_text=True
    )
    undone = browser.post("/admin/imports/batches/1", {"confirm": "y"}, follow_redirects=True)
    assert f"Import 1 undone: {total:,} visits" in undone.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0


def test_a_saved_mapping_is_reused_next_month(app, program, browser):
    browser.sign_in("mgr")
    uploaded = _upload(browser, VISIT_LOG)
    _map_visit_log(browser, uploaded.headers["Location"], save_as="Sign-in sheet")
    with app.app_context():
        mapping_id = db.session.scalar(select(ImportMapping.id))
    again = _upload(browser, VISIT_LOG, mapping=str(mapping_id))
    page = browser.get(again.headers["Location"]).get_data(as_text=True)
    values = _mapping_values(page)
    assert values[_column(page, "Staff")] == "ignore"
    pads = _column(page, "Alcohol Pads (boxes)")
    assert values[pads.replace("column_", "unit_")] == "packs"


def test_an_unmapped_column_is_shown_on_the_form(app, program, browser):
    browser.sign_in("mgr")
    uploaded = _upload(browser, VISIT_LOG)
    page = browser.get(uploaded.headers["Location"]).get_data(as_text=True)
    response = browser.post(uploaded.headers["Location"], _mapping_values(page))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "columns still to map" in text
    assert "Choose what this column holds, or leave it out." in text


def test_a_bad_file_shows_each_refused_row_and_cannot_be_imported_as_is(app, program, browser):
    browser.sign_in("mgr")
    uploaded = _upload(browser, BAD_LOG)
    posted = _map_visit_log(browser, uploaded.headers["Location"])
    preview = _wait(browser, posted.headers["Location"]).get_data(as_text=True)
    assert (
        '<td data-label="Row">6</td><td data-label="Why">“Syringes Given” holds a formula'
        in preview
    )
    assert "The date Jan 1, 2099 is in the future." in preview
    with app.app_context():
        upload_id = db.session.scalar(select(ImportUpload.id))
    refused = browser.post(f"/admin/imports/uploads/{upload_id}/import", {}, follow_redirects=True)
    assert "8 rows are refused" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_files_that_are_not_spreadsheets_are_refused_on_the_form(app, program, browser):
    browser.sign_in("mgr")
    for name, content, words in [
        ("notes.xls", b"\xd0\xcf\x11\xe0old excel", "Save the spreadsheet as .xlsx or .csv"),
        ("photo.xlsx", b"PK\x03\x04not really a zip", "The spreadsheet cannot be read"),
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b",,\n,,\n", "The file has no rows."),
        ("binary.csv", b"\x00\x01\x02" * 100, "This is not a CSV or XLSX file."),
        ("twice.csv", b"Date,date\n2025-01-01,x\n", "Two columns are called"),
    ]:
        response = browser.post(
            "/admin/imports/",
            {"shape": "visits", "mapping": "", "file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, name
        assert words in response.get_data(as_text=True), name
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_a_file_part_is_still_refused_everywhere_else(app, program, browser):
    browser.sign_in("mgr")
    response = browser.post(
        "/sites/new",
        {"name": "x", "file": (io.BytesIO(b"x"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_a_front_desk_cannot_import(app, program, factory, browser):
    factory.user("desk", role="front_desk", site_id=program.main_street)
    browser.sign_in("desk")
    assert browser.get("/admin/imports/").status_code == 403
    assert _upload(browser, TALLY_XLSX).status_code == 403


def test_a_near_duplicate_shown_in_the_preview_is_an_audited_view(app, program, browser, factory):
    from tests.imports.conftest import VISIT_LOG as log

    with log.open() as handle:
        first_code = next(row.split(",")[1] for row in handle.readlines()[1:] if row.split(",")[1])
    close = ("Z" if first_code[0] != "Z" else "Y") + first_code[1:]  # one letter changed
    enrolled = factory.participant(close, site_id=program.main_street)
    browser.sign_in("mgr")
    uploaded = _upload(browser, log)
    posted = _map_visit_log(browser, uploaded.headers["Location"])
    preview = _wait(browser, posted.headers["Location"]).get_data(as_text=True)
    assert (
        f'<span class="code">{first_code}</span> is close to <span class="code">{close}</span>'
        in preview
    )
    with app.app_context():
        shown = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participants_shown")
        ).all()
        assert any(
            event.detail["endpoint"] == "imports.show_upload"
            and enrolled in event.detail["participants"]
            for event in shown
        )
        upload_id = db.session.scalar(select(ImportUpload.id))
    # Importing needs the near-duplicates confirmed.
    refused = browser.post(f"/admin/imports/uploads/{upload_id}/import", {}, follow_redirects=True)
    assert "Check the near-duplicate codes" in refused.get_data(as_text=True)
    started = browser.post(
        f"/admin/imports/uploads/{upload_id}/import",
        {"near_duplicates_checked": "y"},
        follow_redirects=False,
    )
    _wait(browser, started.headers["Location"])
    with app.app_context():
        batch = db.session.get(ImportBatch, 1)
        assert batch is not None and batch.visits == sum(
            month["visits"] for month in visit_log_totals().values()
        )
