"""The report as funders get it: the PDF parsed back, the CSV, the archive, the Reports
page, the command line, and the promise that nothing points at a person."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ssp.extensions import db
from ssp.reporting.models import Report
from tests.conftest import Browser

MARKERS = (
    "MARKAAA1",
    "MARKBBB2",
    "MARKCCC3",
    "MARKDDD4",
    "MARKER-CONTACT",
    "MARKER-NOTE",
    "MARKER-REASON",
    "MARKER-VOID",
    "markeruser",
)

# The standard profile's glance line for people served in the fixture's October, in the CSV.
GLANCE_PEOPLE_LINE = "\n2026-10,At a glance,At a glance,People served,October 2026,,small,count,"


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _exact_profile(app):
    """A profile with threshold 2, so the hand-computed numbers print as they are."""
    from ssp.reporting.funders import SECTIONS, create_profile

    app.config["MIN_SUPPRESSION_THRESHOLD"] = 2
    with app.app_context():
        create_profile(
            name="exact",
            funder_name="Test funder",
            grant_number="G-42",
            program_name="Harbor SSP",
            sections=list(SECTIONS),
            threshold=2,
        )
        db.session.commit()


def _generate(app, month="2026-10", funder="standard"):
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(month=month, funder=funder, user_id=None)
        db.session.commit()
        return made.pdf, made.csv, made.report.id


def _first(text: str, label: str) -> str:
    """The first figure after a row label (the glance prints earlier periods beside it)."""
    return _row(text, label).split()[0]


def _row(text: str, label: str) -> str:
    """The rest of the line after a row label in extracted PDF text."""
    # pypdf puts each cell on its own line; right-aligned numbers start with a space.
    match = re.search(rf"^{re.escape(label)} ([<*\d].*)$", text.replace("\n ", " "), re.M)
    assert match, label
    return match.group(1)


def test_the_pdf_has_every_section_and_the_right_numbers(app, program):
    _exact_profile(app)
    pdf, _, _ = _generate(app, funder="exact")
    text = _pdf_text(pdf)
    for title in (
        "Harbor SSP",
        "Monthly report to Test funder",
        "October 2026",
        "Grant or contract G-42",
        "At a glance",
        "Program summary",
        "Supplies",
        "Overdose response",
        "Testing and services",
        "Referrals and follow-ups",
        "People served by age",
        "Trends over 12 months",
        "About this report",
        "Figures sha256",
    ):
        assert title in text, title
    assert _first(text, "People served") == "2"
    assert _first(text, "Visits (including anonymous walk-ins)") == "5"
    assert _first(text, "Syringes distributed") == "80"
    assert _first(text, "Used syringes collected") == "40"
    assert _first(text, "Naloxone kits distributed") == "2"
    assert _row(text, "Anonymous walk-in visits") == "<2"
    assert _row(text, "Main site") == "3"
    # One small column total (a single referral made and completed): the breakdown of a
    # total that prints as "<2" is withheld, never shown beside it.
    assert "Withheld. Too few people" in text.split("Referrals by type")[1][:200]
    assert "Page 1 of" in text
    assert re.search(r"Generated \w{3} \d+, 2026", text)
    assert not re.search(r"\d{1,2}:\d{2}", text.split("About this report")[0])  # no times


def test_standard_profile_suppresses_small_counts(app, program):
    pdf, csv_text, _ = _generate(app)
    text = _pdf_text(pdf)
    assert _first(text, "People served") == "<11"
    assert "Withheld. Too few people" in text.split("Visits by site")[1][:200]
    assert "Counts from 1 to 10 are shown as <11" in text
    assert csv_text.splitlines()[0] == (
        "period,section,table,row,column,value,status,measure,row_type,counted_as,note"
    )
    values = {
        (r["table"], r["row"], r["column"]): (r["value"], r["status"])
        for r in csv.DictReader(io.StringIO(csv_text))
        if r["section"] != "#metadata"
    }
    assert values[("At a glance", "Syringes distributed", "October 2026")] == ("80", "shown")
    assert values[("At a glance", "People served", "October 2026")] == ("", "small")
    assert values[("Visits by site", "", "")] == ("", "withheld")


def test_nothing_points_at_a_person(app, program):
    _exact_profile(app)
    for funder in ("standard", "exact", "california-ssp", "sharp"):
        pdf, csv_text, _ = _generate(app, funder=funder)
        text = _pdf_text(pdf) + csv_text
        for marker in MARKERS:
            assert marker.lower() not in text.lower(), (funder, marker)
        assert marker_free(pdf)


def marker_free(pdf: bytes) -> bool:
    """The raw PDF bytes hold no marker either (metadata included)."""
    return not any(marker.encode() in pdf for marker in MARKERS)


def _generate_document(app, month="2026-10", funder="standard"):
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(month=month, funder=funder, user_id=None)
        db.session.commit()
        return made.pdf, made.document, made.report.id


def test_same_data_same_day_same_bytes(app, program):
    """The same data on the same day gives the same file but for the audit trail's head,
    which the first report's own audit row moves on: the second report, printed with the
    first one's head, is the first file byte for byte."""
    from ssp.audit import AuditEvent
    from ssp.reporting.pdf import render_pdf

    first, first_document, first_id = _generate_document(app)
    second, second_document, second_id = _generate_document(app)
    with app.app_context():
        own_row = db.session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "report_generated", AuditEvent.object_id == first_id
            )
        )
    assert second_document.trail_head.event_id == own_row  # the one event in between
    assert first != second
    assert render_pdf(replace(second_document, trail_head=first_document.trail_head)) == first
    with app.app_context():
        one, two = db.session.get(Report, first_id), db.session.get(Report, second_id)
        assert one.sha256 == hashlib.sha256(first).hexdigest()
        assert two.sha256 == hashlib.sha256(second).hexdigest()
        assert one.parameters["figures_sha256"] == two.parameters["figures_sha256"]
        assert Path(one.path).name == "2026-10_standard.pdf"
        assert Path(two.path).name == "2026-10_standard-2.pdf"
        assert Path(one.path).read_bytes() == first
        assert one.parameters["figures_sha256"] in _pdf_text(first).replace("\n", "")


def test_profiles_shape_the_report(app, program):
    california, _, _ = _generate(app, funder="california-ssp")
    text = _pdf_text(california)
    assert "Referrals by type" in text and "Syringes out and in" in text
    assert "Overdose response" not in text and "People served by age" not in text
    sharp, _, _ = _generate(app, funder="sharp")
    text = _pdf_text(sharp)
    assert "Visits by service model" in text and "Naloxone kits by reason" in text
    assert "People served by race or ethnicity" in text and "Referrals by type" not in text


def test_a_month_with_no_visits_says_so(app, program):
    pdf, _, _ = _generate(app, month="2025-03")
    text = _pdf_text(pdf)
    assert "No visits were recorded this month." in text
    assert _first(text, "People served") == "0"


# --- the Reports page --------------------------------------------------------------


def test_manager_previews_generates_and_downloads(app, program):
    manager = Browser(app.test_client())
    manager.sign_in("markeruser")
    page = manager.get("/reports").get_data(as_text=True)
    assert "Funder reports" in page and 'value="standard"' in page
    preview = manager.get("/reports/preview?month=2026-10&funder=standard")
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert "October 2026: report to Program funders" in body and "&lt;11" in body
    assert not any(marker in body for marker in MARKERS if marker != "markeruser")
    csv_response = manager.get("/reports/preview.csv?month=2026-10&funder=standard")
    assert csv_response.mimetype == "text/csv" and GLANCE_PEOPLE_LINE in csv_response.get_data(
        as_text=True
    )

    response = manager.post("/reports/generate", {"period": "2026-10", "funder": "standard"})
    assert response.status_code == 303
    archive = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026-10_standard.pdf" in archive and "newest" in archive
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert report.user_id == program["user"]
    download = manager.get(f"/reports/{report.id}/download")
    assert download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == report.sha256
    assert "October 2026" in _pdf_text(download.data)

    manager.post("/reports/generate", {"period": "2026-10", "funder": "standard"})
    archive = manager.get("/reports").get_data(as_text=True)
    assert archive.count("earlier version") == 1


def test_a_tampered_archive_file_is_refused(app, program):
    _, _, report_id = _generate(app)
    with app.app_context():
        path = Path(db.session.get(Report, report_id).path)
    path.write_bytes(path.read_bytes() + b"%tampered")
    manager = Browser(app.test_client())
    manager.sign_in("markeruser")
    assert manager.get(f"/reports/{report_id}/download").status_code == 409
    path.unlink()
    assert manager.get(f"/reports/{report_id}/download").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=2031-01&funder=standard", "has not happened yet"),
        ("month=2026-13&funder=standard", "Give the period as 2026-10"),
        ("month=&funder=standard", "Give the period as 2026-10"),
        ("period=2026-Q5&funder=standard", "Give the period as 2026-10"),
        ("period=FY2031&funder=standard", "has not happened yet"),
        ("period=2027-01-YTD&funder=standard", "has not ended yet"),
        ("period=2026-Q3%00&funder=standard", "control character"),
        ("period=" + "9" * 200 + "&funder=standard", "Give the period as 2026-10"),
        ("month=2026-10&funder=nobody", "no funder profile called"),
    ],
)
def test_bad_report_requests_are_400_with_a_message(app, program, query, message):
    manager = Browser(app.test_client())
    manager.sign_in("markeruser")
    response = manager.get(f"/reports/preview?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    generated = manager.post(
        "/reports/generate",
        dict(parse_qsl(query, keep_blank_values=True)),
        follow_redirects=True,
    )
    assert message in generated.get_data(as_text=True) or generated.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Report)) is None


def test_front_desk_cannot_reach_reports(app, program, factory):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    for url in (
        "/reports",
        "/reports/preview?month=2026-10&funder=standard",
        "/reports/preview.csv?month=2026-10&funder=standard",
    ):
        assert desk.get(url).status_code == 403
    assert (
        desk.post("/reports/generate", {"period": "2026-10", "funder": "standard"}).status_code
        == 403
    )


def test_admin_manages_funder_profiles(app, signed_in):
    admin = signed_in("admin")
    page = admin.get("/admin/funder-profiles").get_data(as_text=True)
    assert "Create the three standard profiles" in page
    admin.post("/admin/funder-profiles/defaults")
    page = admin.get("/admin/funder-profiles").get_data(as_text=True)
    assert "california-ssp" in page and "sharp" in page and "standard" in page
    bad = admin.post(
        "/admin/funder-profiles/new",
        {"name": "Bad Name!", "funder_name": "X", "sections": ["summary"], "threshold": "1"},
    )
    assert bad.status_code == 422
    below = admin.post(
        "/admin/funder-profiles/new",
        {"name": "low", "funder_name": "Low", "sections": ["summary"], "threshold": "5"},
    )
    assert below.status_code == 422
    assert "minimum threshold is 11" in below.get_data(as_text=True)
    app.config["MIN_SUPPRESSION_THRESHOLD"] = 5
    ok = admin.post(
        "/admin/funder-profiles/new",
        {
            "name": "county",
            "funder_name": "County Health",
            "grant_number": "C-9",
            "sections": ["summary", "overdose"],
            "threshold": "5",
        },
    )
    assert ok.status_code == 303
    again = admin.post(
        "/admin/funder-profiles/new",
        {"name": "county", "funder_name": "Other", "sections": ["summary"], "threshold": "5"},
    )
    assert again.status_code == 422
    assert "There is already a profile called" in again.get_data(as_text=True)
    from ssp.reporting.funders import profile_by_name

    with app.app_context():
        county = profile_by_name("county")
        assert (county.sections, county.threshold, county.grant_number) == (
            ["summary", "overdose"],
            5,
            "C-9",
        )
        county_id = county.id
    admin.post(f"/admin/funder-profiles/{county_id}/deactivate")
    assert 'value="county"' not in admin.get("/reports").get_data(as_text=True)


# --- the command line ----------------------------------------------------------------


def _cli_env(app):
    from tests.conftest import SECRET
    from tests.test_cli import FAST

    return {
        "SSP_SECRET_KEY": SECRET,
        "SSP_TIMEZONE": "America/Los_Angeles",
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SSP_REPORTS_DIR": app.config["REPORTS_DIR"],
        **FAST,
    }


def test_ssp_report_writes_pdf_and_csv(app, program, tmp_path):
    from tests.test_cli import run

    out, csv_path = tmp_path / "out" / "october.pdf", tmp_path / "out" / "october.csv"
    out.parent.mkdir()
    result = run(
        ["report", "--month", "2026-10", "--out", str(out), "--csv", str(csv_path)], **_cli_env(app)
    )
    assert result.exit_code == 0, result.output
    assert "Archived" in result.output and "2026-10_standard.pdf" in result.output
    assert out.read_bytes().startswith(b"%PDF") and "People served" in _pdf_text(out.read_bytes())
    assert GLANCE_PEOPLE_LINE in csv_path.read_text()
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert report.user_id is None
        assert Path(report.path).read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2031-02"], "has not happened yet"),
        (["--month", "10/2026"], "Give the period as 2026-10"),
        (["--period", "FY20x7"], "Give the period as 2026-10"),
        (["--period", "2027-Q1"], "has not happened yet"),
        (["--period", "2026-10", "--month", "2026-10"], "once"),
        ([], "Give the period to report"),
        (["--month", "2026-10", "--funder", "nobody"], "no funder profile called 'nobody'"),
        (["--month", "2026-10", "--out", "/nonexistent-folder/x.pdf"], "does not exist"),
        (["--month", "2026-10", "--csv", "/proc/x.csv"], "Could not write the output"),
        (["--month", "2026-10", "--csv", "/"], "is a directory"),
    ],
)
def test_ssp_report_bad_input(app, program, args, message):
    from tests.test_cli import run

    result = run(["report", *args], **_cli_env(app))
    assert result.exit_code != 0
    assert message in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error:")
    with app.app_context():
        assert db.session.scalar(select(Report)) is None
    assert (
        not list(Path(app.config["REPORTS_DIR"]).glob("*.pdf"))
        if Path(app.config["REPORTS_DIR"]).exists()
        else True
    )


def test_generation_date_is_the_program_day(app, program, monkeypatch):
    from ssp import timeutil

    # 06:30 UTC on 2 December is still 1 December in Los Angeles.
    monkeypatch.setattr(timeutil, "utcnow", lambda: dt.datetime(2026, 12, 2, 6, 30, tzinfo=dt.UTC))
    pdf, _, _ = _generate(app)
    assert "Generated Dec 1, 2026" in _pdf_text(pdf)
