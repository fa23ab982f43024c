"""The PDF as a funder can sign and send it: metadata, the embedded font, names in any
script, columns that fit their figures, headings kept with their tables, charts, the
cover block. Real PDFs, parsed back with pypdf."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random

import pytest
from pypdf import PdfReader
from reportlab.graphics import renderPDF

from ssp.extensions import db
from ssp.reporting import pdf
from ssp.reporting.document import Chart, ReportDocument, Row, Section, Table
from tests.reporting.conftest import at
from tests.reporting.test_report_files import _exact_profile, _pdf_text, _row

NAME = "Café Łódź Αθήνα Київ 東京"  # Latin accents, Greek, Cyrillic, and CJK the font lacks
PRINTED = "Café Łódź Αθήνα Київ ??"


def _generate(app, funder="exact", month="2026-10"):
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(month=month, funder=funder, user_id=None)
        db.session.commit()
        return made.pdf, made.document


def _document(**changes) -> ReportDocument:
    """A hand-made document (no database): a wide trend table, many tables."""
    months = [f"{m} 26" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")] + [
        f"{m} 26" for m in ("Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    ]
    trend_rows = [
        Row("People served", [f"{1000 + 37 * i:,}" for i in range(12)]),
        Row("Visits", [f"{12_000 + 911 * i:,}" for i in range(12)]),
        Row("Syringes distributed", [f"{1_234_567 + 1_001 * i:,}" for i in range(12)]),
        Row("Naloxone kits distributed", ["<11", "*"] + [f"{40 + i}" for i in range(10)]),
    ]
    trends = Table("trends", "Monthly figures", "See each row", months, trend_rows)
    charts = [
        Chart("trend_visits", "Visits", "Visits", months, [100 * i for i in range(11)] + [None]),
        Chart(
            "trend_people",
            "People served",
            "Unduplicated people",
            months,
            [3_456 + i for i in range(12)],
        ),
    ]
    rng = random.Random(7)
    tables = []
    for number in range(24):
        rows = [Row(f"Row {r} of table {number}", [str(rng.randint(0, 999))]) for r in range(1, 3)]
        rows += [
            Row(f"Row {r} of table {number}", [str(rng.randint(0, 999))])
            for r in range(3, rng.choice((4, 6, 9, 14, 22, 31, 44)))
        ]
        tables.append(Table(f"t{number}", f"Table number {number}", "Visits", ["Visits"], rows))
    glance = Table("glance", "At a glance", "See each row", ["Count"], [Row("Visits", ["5"])])
    values = {
        "program_name": "Harbor SSP",
        "funder_name": "Test funder",
        "grant_number": "G-42",
        "profile_name": "made",
        "period_key": "2026-12",
        "period_label": "December 2026",
        "generated_on": dt.date(2027, 1, 2),
        "threshold": 11,
        "time_zone": "America/Los_Angeles",
        "glance": glance,
        "sections": [
            Section("trends", "Trends over 12 months", "Twelve months.", [trends], charts),
            Section("many", "Many tables", "Tables of every length.", tables),
        ],
        "no_activity": False,
        "parameters": {"profile": "made", "first_month": "2026-12", "last_month": "2026-12"},
    }
    return ReportDocument(**{**values, **changes})


# --- metadata and reproducibility ---------------------------------------------------------


def test_metadata_has_title_program_as_author_and_the_generation_day(app, program, monkeypatch):
    from ssp import timeutil

    _exact_profile(app)
    # 06:30 UTC on 2 December is still 1 December in Los Angeles.
    monkeypatch.setattr(timeutil, "utcnow", lambda: dt.datetime(2026, 12, 2, 6, 30, tzinfo=dt.UTC))
    data, document = _generate(app)
    info = PdfReader(io.BytesIO(data)).metadata
    assert info.title == "Harbor SSP: October 2026 report to Test funder"
    assert info.author == "Harbor SSP"
    assert info.creator == "ssp"
    assert "October 2026" in info.subject
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261201"  # a day, no time
    assert info.creation_date.date() == document.generated_on == dt.date(2026, 12, 1)
    # Same data, same day: the same bytes (creation date included), but for the audit
    # trail's head, which the first report's own audit row moved on.
    again, again_document = _generate(app)
    assert again_document.trail_head.event_id > document.trail_head.event_id
    assert pdf.render_pdf(dataclasses.replace(again_document, trail_head=document.trail_head)) == (
        data
    )
    assert pdf.render_pdf(document) == data


def test_the_creation_date_follows_the_generation_day():
    one = PdfReader(io.BytesIO(pdf.render_pdf(_document()))).metadata
    other = PdfReader(
        io.BytesIO(pdf.render_pdf(_document(generated_on=dt.date(2027, 2, 3))))
    ).metadata
    assert one.creation_date.date() == dt.date(2027, 1, 2)
    assert other.creation_date.date() == dt.date(2027, 2, 3)


# --- the font and the placeholder ---------------------------------------------------------


def _fonts(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_the_font_is_embedded_and_the_only_one(app, program):
    _exact_profile(app)
    data, _ = _generate(app)
    fonts = _fonts(data)
    assert fonts and all(name.split("+")[-1] in ("DejaVuSans", "DejaVuSans-Bold") for name in fonts)
    assert b"/FontFile2" in data  # the TrueType program itself travels in the file
    assert b"Helvetica" not in data and b"Courier" not in data
    assert (pdf.FONT_DIR / "LICENSE").read_text().count("Bitstream") >= 2


def test_names_print_in_any_script_the_font_has(app, program, factory):
    from ssp.reporting.funders import SECTIONS, create_profile

    app.config["MIN_SUPPRESSION_THRESHOLD"] = 2
    with app.app_context():
        create_profile(
            name="scripts",
            funder_name="Ταμείο Здоров'я",
            grant_number="Γ-42",
            program_name=NAME,
            sections=list(SECTIONS),
            threshold=2,
        )
        db.session.commit()
    site = factory.site(NAME)
    for day in ("2026-10-12 20:00", "2026-10-13 20:00"):
        factory.visit(
            None,
            user_id=program["user"],
            site_id=site,
            items={program["syringe"]: 1},
            occurred_at=at(day),
        )
    data, _ = _generate(app, funder="scripts")
    text = _pdf_text(data)
    assert PRINTED in text.split("\n")[0]  # the cover's title
    assert "Program " + PRINTED in text and "Funder Ταμείο Здоров'я" in text
    assert "Grant or contract Γ-42" in text
    assert _row(text, PRINTED) == "2"  # the site's row in "Visits by site"
    assert "東" not in text and "京" not in text
    assert "\ufffd" not in text  # the placeholder is a plain "?", not a black diamond
    # The metadata is text, not print: it keeps the name as typed.
    assert PdfReader(io.BytesIO(data)).metadata.author == NAME


def test_characters_the_font_lacks_become_the_placeholder():
    assert pdf.printable("Αθήνα Київ Ñandú") == "Αθήνα Київ Ñandú"
    assert pdf.printable("東京 site") == "?? site"
    assert pdf.printable("Cafe\u0301") == "Café"  # composed before printing
    assert pdf.printable("שלום") == "????"  # right-to-left: reportlab would reverse it
    assert pdf.printable("a\nb") == "a\nb"
    for ch in pdf.printable("東京 \U0001f600 \u0378"):
        assert ch == pdf.PLACEHOLDER or ord(ch) in pdf._COVERED


# --- columns --------------------------------------------------------------------------------


def _assert_figures_fit(table: Table) -> list[pdf.Part]:
    parts = pdf.layout(table)
    assert {i for part in parts for i in part.columns} == set(range(len(table.columns)))
    for part in parts:
        assert sum(part.widths) <= pdf.WIDTH + 0.01
        for row in table.rows:
            bold = row.total or row.group
            for width, index in zip(part.widths[1:], part.columns, strict=True):
                cell = row.cells[index]
                if pdf._is_figure(row, index):
                    room = width - 2 * pdf.CELL_PAD
                    assert pdf.text_width(cell, bold, pdf.CELL_SIZE) < room, (table.title, cell)
            for word in row.label.split():
                assert pdf.text_width(word, bold, pdf.CELL_SIZE) < part.widths[0]
    return parts


def test_no_figure_wraps_in_any_table_of_a_real_report(app, program):
    _exact_profile(app)
    for funder in ("exact", "standard", "california-ssp", "sharp"):
        _, document = _generate(app, funder=funder)
        for table in document.tables():
            _assert_figures_fit(table)


def test_a_wide_trend_table_splits_into_two_rows_of_months():
    document = _document()
    trends = document.sections[0].tables[0]
    parts = _assert_figures_fit(trends)
    assert [part.columns for part in parts] == [list(range(6)), list(range(6, 12))]
    text = " ".join(_pdf_text(pdf.render_pdf(document)).split())
    # Each part repeats the labels, and every figure prints whole, beside its label.
    assert text.count("Syringes distributed") == 2
    first = " ".join(f"{1_234_567 + 1_001 * i:,}" for i in range(6))
    assert "Jan 26 Feb 26 Mar 26 Apr 26 May 26 Jun 26 People served" in text
    assert f"Syringes distributed {first} Naloxone" in text
    assert "Naloxone kits distributed <11 * 40 41 42 43 Jul 26" in text
    assert "Naloxone kits distributed " + " ".join(str(40 + i) for i in range(4, 10)) in text


# --- headings -------------------------------------------------------------------------------


def _lines(data: bytes):
    """(page, y, font size, bold, text) of every piece of text, above the footer."""
    found = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages):

        def visit(text, cm, tm, font, size, number=number):
            if not text.strip() or font is None:
                return
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if y > 0.85 * 72:
                found.append((number, y, size, "Bold" in str(font["/BaseFont"]), text.strip()))

        page.extract_text(visitor_text=visit)
    return found


def test_a_heading_never_sits_alone_at_the_foot_of_a_page():
    data = pdf.render_pdf(_document())
    lines = _lines(data)
    headings = [line for line in lines if line[3] and line[2] >= 10]
    assert sum(1 for h in headings if h[4].startswith("Table number")) == 24
    pages = {h[0] for h in headings}
    assert len(pages) > 4
    for page, y, _, _, text in headings:
        below = [line for line in lines if line[0] == page and line[1] < y - 4]
        # Under every heading on its page: at least a header row and a row of figures.
        assert len(below) >= 3, (page, text)


def test_long_tables_break_across_pages_with_their_header_repeated():
    data = pdf.render_pdf(_document())
    text = _pdf_text(data)
    assert len(PdfReader(io.BytesIO(data)).pages) >= 8
    assert "Row 43 of table" in text or "Row 30 of table" in text


# --- charts and cover -----------------------------------------------------------------------


def _drawing_text(drawing) -> str:
    return _pdf_text(renderPDF.drawToString(drawing))


def test_charts_have_plain_titles_value_labels_and_axes():
    visits, people = _document().sections[0].charts
    text = _drawing_text(pdf._chart(visits))
    assert text.startswith("Visits") and "(visits)" not in text.lower()
    for label in ("100", "500", "900", "1k"):  # labels over the bars, short where crowded
        assert f"\n{label}\n" in text
    assert "1,000" in text  # the value axis
    assert "Jan\n26" in text and "Nov\n26" in text  # month labels, on two short lines
    assert "Left blank (small count): Dec 26" in text
    text = _drawing_text(pdf._chart(people))
    assert text.startswith("People served (unduplicated)")
    assert text.count("3.46k") == 10 and text.count("3.47k") == 2
    few = Chart("trend_kits", "Naloxone kits distributed", "Kits", ["Sep 26", "Oct 26"], [1234, 56])
    text = _drawing_text(pdf._chart(few))
    assert text.startswith("Naloxone kits distributed\n") and "1,234" in text and "56" in text
    assert pdf._compact(999_999) == "1M" and pdf._compact(12_345) == "12.3k"
    assert pdf.with_unit("Naloxone kits distributed", "Kits") == "Naloxone kits distributed"
    assert pdf.with_unit("Visits by site", "Visits") == "Visits by site"
    assert pdf.with_unit("Syringes distributed", "Needle-and-syringe units") == (
        "Syringes distributed (needle-and-syringe units)"
    )


def test_real_report_charts_have_no_doubled_units(app, program):
    _exact_profile(app)
    data, _ = _generate(app)
    text = _pdf_text(data)
    assert "Visits (visits)" not in text, text[text.index("Visits (visits)") - 200 :][:300]
    assert "People served (unduplicated)" in text


@pytest.mark.parametrize("contact", ["Dana Ruiz, reports@harbor.example, 555-0100", ""])
def test_the_cover_block(app, program, contact):
    _exact_profile(app)
    _, document = _generate(app)
    document = dataclasses.replace(document, parameters={**document.parameters, "contact": contact})
    text = _pdf_text(pdf.render_pdf(document))
    cover = text.split("At a glance")[0]
    assert cover.startswith("Harbor SSP\nMonthly report to Test funder")
    for line in (
        "Program Harbor SSP",
        "Funder Test funder",
        "Grant or contract G-42",
        # Babel's range of days (its thin spaces around the dash read back as spaces).
        "Reporting period October 2026 (Oct 1 – 31, 2026, America/Los_Angeles time)",
        f"Generated {document.generated_on:%b} {document.generated_on.day}, "
        f"{document.generated_on.year}",
    ):
        assert line in cover, line
    assert ("Contact " + contact in cover) == bool(contact)
    assert ("Contact" in cover) == bool(contact)


def test_the_narrative_prints_under_its_headings():
    if not any(f.name == "narrative" for f in dataclasses.fields(ReportDocument)):
        pytest.skip("documents carry no narrative")
    parts = [("Activities this period", "Outreach in Київ.\n\nA second paragraph."), ("Empty", "")]
    text = _pdf_text(pdf.render_pdf(_document(narrative=parts)))
    narrative = text.split("Narrative\n", 1)[1]
    assert narrative.startswith("Activities this period\nOutreach in Київ.\nA second paragraph.")
    assert "Empty" not in narrative.split("About this report")[0]
