"""A funder profile picks the report's language: the PDF, its accessible HTML twin and
the CSV's words are written in it (fixed text, periods, months, days and numbers), the
files say which language they are in, and what machines read stays the same in every
language (the CSV's columns and codes, the release's cells that the archive audits
together). Spanish is read back from real files (pypdf for the PDF), with the phrases of
the Spanish catalogue."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from ssp.extensions import db
from ssp.reporting.models import FunderProfile, Report
from tests.reporting.test_report_files import _pdf_text

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9"}


def _profile(app, name="exacto", language="es", **values):
    """A threshold-2 profile (the fixture's hand-made figures print as they are)."""
    from ssp.reporting.funders import SECTIONS, create_profile

    app.config["MIN_SUPPRESSION_THRESHOLD"] = 2
    with app.app_context():
        create_profile(
            name=name,
            funder_name="Test funder",
            grant_number="G-42",
            program_name="Harbor SSP",
            sections=list(SECTIONS),
            threshold=2,
            language=language,
            **values,
        )
        db.session.commit()


def _generate(app, funder, period="2026-10"):
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period=period, funder=funder, user_id=None)
        db.session.commit()
        return made.pdf, made.csv, made.document, made.report.id


def _rows(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text)))


def test_a_spanish_profile_makes_a_spanish_pdf(app, program):
    _profile(app)
    data, _, document, _ = _generate(app, "exacto")
    text = _pdf_text(data)
    cover = text.split("Resumen")[0]
    assert cover.startswith("Harbor SSP\nInforme mensual para Test funder")
    for line in (
        "Programa Harbor SSP",
        "Financiador Test funder",
        "Subvención o contrato G-42",
        # Babel's month and range of days (its thin spaces read back as spaces).
        "Período del informe octubre de 2026 (1–31 oct 2026, hora de America/Los_Angeles)",
    ):
        assert line in cover, line
    assert re.search(r"Generado \d{1,2} [a-z]{3,4} \d{4}", cover)
    for phrase in (
        "Personas atendidas",
        "Visitas (incluidas las anónimas)",
        "Jeringas entregadas",
        "Derivaciones por tipo",
        "Acerca de este informe",
        "Supresión por tabla",
        "Idioma\nEspañol (es)",
        "sha256 de las cifras",
        "Página 1 de",
    ):
        assert phrase in text, phrase
    # The period's words, and those every page prints, are Spanish too.
    flat = " ".join(text.split())
    assert "Seguimientos vencidos al cierre del mes" in flat
    assert "Personas únicas atendidas este mes, según lo que decidieron compartir." in flat
    assert "Datos agregados desidentificados." in flat
    for english in ("At a glance", "People served", "Page 1 of", "Reporting period", "October"):
        assert english not in text, english
    reader = PdfReader(io.BytesIO(data))
    assert reader.trailer["/Root"]["/Lang"] == "es"
    assert reader.metadata.title == "Harbor SSP: informe de octubre de 2026 para Test funder"
    assert document.language == "es" and document.parameters["language"] == "es"


def test_the_profile_language_wins_over_the_makers(app, program):
    """The command (and a page) may speak English: the profile says Spanish; without a
    language, the report is in the maker's."""
    _profile(app)
    _profile(app, name="whoever", language=None)
    assert "Resumen" in _pdf_text(_generate(app, "exacto")[0])
    english = _pdf_text(_generate(app, "whoever")[0])
    assert "At a glance" in english and "Resumen" not in english
    with app.test_request_context(headers={"Accept-Language": "es"}):
        from ssp.reporting import services

        settings = services.settings_for(services.find_profile("whoever"))
        assert services.report_language(settings) == "es"
        period = services.check_period("2026-10")
        assert services.build_report(period, settings).glance.title == "Resumen"


def test_ssp_report_writes_a_spanish_pdf_and_csv(app, program, tmp_path):
    from tests.reporting.test_report_files import _cli_env
    from tests.test_cli import run

    _profile(app)
    out, csv_path = tmp_path / "informe.pdf", tmp_path / "informe.csv"
    result = run(
        ["report", "--period", "2026-10", "--funder", "exacto", "--out", str(out)]
        + ["--csv", str(csv_path)],
        **_cli_env(app),
    )
    assert result.exit_code == 0, result.output
    assert "Informe mensual para Test funder" in _pdf_text(out.read_bytes())
    metadata = {r["row"]: r["note"] for r in _rows(csv_path.read_text())}
    assert metadata["language"] == "es"


def test_the_csv_keeps_its_codes_and_translates_its_words(app, program):
    from ssp.reporting.csv_export import COLUMNS, FIGURE_STATUSES, MEASURES

    _profile(app)
    _profile(app, name="exact", language="en")
    _, spanish, _, _ = _generate(app, "exacto")
    _, english, _, _ = _generate(app, "exact")
    assert spanish.splitlines()[0] == english.splitlines()[0] == ",".join(COLUMNS)
    rows, english_rows = _rows(spanish), _rows(english)
    assert len(rows) == len(english_rows)
    metadata = {r["row"]: r["note"] for r in rows if r["section"] == "#metadata"}
    english_metadata = [r["row"] for r in english_rows if r["section"] == "#metadata"]
    assert list(metadata) == english_metadata  # the same names, in the same order
    assert metadata["language"] == "es" and metadata["period"] == "2026-10"
    assert metadata["period_label"] == "octubre de 2026"
    assert metadata["symbols"].startswith("Las cifras de 1 a 1 se muestran como <2")
    figures = [r for r in rows if r["section"] != "#metadata"]
    assert {r["status"] for r in figures} <= set(FIGURE_STATUSES)
    assert {r["measure"] for r in figures if r["status"] != "withheld"} <= set(MEASURES)
    shown = [r for r in figures if r["status"] != "withheld"]
    assert {r["row_type"] for r in shown} <= {"detail", "subtotal", "total"}
    # The words are Spanish; the figures and their codes are those of the English file.
    served = next(
        r for r in figures if r["table"] == "Resumen" and r["row"] == "Personas atendidas"
    )
    assert (served["section"], served["column"], served["counted_as"]) == (
        "Resumen",
        "octubre de 2026",
        "Personas únicas",
    )
    assert [(r["value"], r["status"], r["measure"], r["row_type"]) for r in figures] == [
        (r["value"], r["status"], r["measure"], r["row_type"])
        for r in english_rows
        if r["section"] != "#metadata"
    ]
    per_100 = [r for r in figures if "por cada 100" in r["row"]]
    assert per_100 and {r["measure"] for r in per_100} == {"per_100"}


def test_reports_in_two_languages_are_audited_as_one_archive(app, program):
    """The release's cells are keyed the same in every language, so a Spanish report is
    audited with the English ones already archived (and prints the same figures)."""
    _profile(app, name="exact", language="en")
    _profile(app)
    *_, english, english_id = _generate(app, "exact")
    *_, spanish, spanish_id = _generate(app, "exacto")
    with app.app_context():
        first, second = (db.session.get(Report, i) for i in (english_id, spanish_id))
        assert set(first.release["cells"]) == set(second.release["cells"])
        assert english_id in second.audit["audited_with_reports"]

    # The same figures (words such as what each row counts are in each language).
    def figures(document):
        return [
            [c for c, status in zip(r.cells, r.statuses, strict=True) if status != "text"]
            for r in document.glance.rows
        ]

    assert figures(english) == figures(spanish)
    assert any(":" in key and "Used on someone" in key for key in first.release["cells"])


def test_numbers_and_days_print_the_readers_way(app):
    """A figure of the release ("12,345", "45%") prints as Spanish writes it; a chart's
    bars and axis too. Babel's non-breaking and narrow spaces, and every letter Spanish
    needs, are in the embedded font."""
    from ssp.reporting import pdf
    from ssp.reporting.html_export import render_html
    from tests.reporting.test_report_pdf import _document

    hand_made = _document(
        narrative=[("Actividades", "¿Qué hicimos? ¡Mucho! Año de señales: 6:44\u202fp.\u00a0m.")]
    )
    glance = dataclasses.replace(
        hand_made.glance,
        rows=[*hand_made.glance.rows, hand_made.glance.rows[0].__class__("Tasa", ["45%"])],
    )
    spanish = dataclasses.replace(hand_made, glance=glance, language="es")
    with app.app_context():
        text = _pdf_text(pdf.render_pdf(spanish))
        html = render_html(spanish)
    assert "12.000" in text and "1.234.567" in text and "12,000" not in text
    flat = " ".join(text.split())  # the non-breaking space reads back as a space
    assert "Tasa 45 %" in flat
    assert "¿Qué hicimos? ¡Mucho! Año de señales: 6:44 p. m." in flat
    assert "?Qu" not in text  # no character fell back to the placeholder
    for character in "¿¡ñáéíóú\u202f\u00a0\u2009":
        assert pdf.printable(character) == character, hex(ord(character))
    assert '<html lang="es">' in html
    assert "12.000" in html and "Página" not in html
    assert "Acerca de este informe" in html and "Parámetros" in html


def test_the_html_twin_is_in_the_profiles_language(app, program, signed_in):
    _profile(app)
    manager = signed_in("manager")
    html = manager.get("/reports/preview.html?period=2026-10&funder=exacto")
    assert html.status_code == 200
    body = html.get_data(as_text=True)
    assert '<html lang="es">' in body
    assert "<title>Harbor SSP: informe de octubre de 2026 para Test funder</title>" in body
    assert "Resumen" in body and "Personas atendidas" in body and "At a glance" not in body
    # A month's short label is read out in words, in Spanish.
    assert '<span class="sym" title="octubre de 2026" aria-hidden="true">oct 26</span>' in body
    # The preview page around it is in the manager's language; the report in Spanish.
    page = manager.get("/reports/preview?period=2026-10&funder=exacto").get_data(as_text=True)
    assert "Download accessible HTML" in page
    assert "This report is written in Español" in page
    assert "Personas atendidas" in page and "Resumen del programa" in page
    assert "Las cifras de 1 a 1 se muestran como &lt;2" in page


def test_admin_picks_a_profiles_report_language(app, signed_in):
    from ssp.audit import AuditEvent

    admin = signed_in("admin")
    page = admin.get("/admin/funder-profiles/new").get_data(as_text=True)
    select_box = page.split('name="language"')[1].split("</select>")[0]
    assert re.findall(r'<option[^>]*value="([^"]*)"', select_box) == ["", "en", "es"]
    assert "Language of whoever makes it" in select_box and "Español" in select_box
    values = {"name": "county", "funder_name": "County Health", "sections": ["summary"]}
    values["threshold"] = "11"
    refused = admin.post("/admin/funder-profiles/new", {**values, "language": "xx"})
    assert refused.status_code == 422
    assert "Choose a report language from the list." in refused.get_data(as_text=True)
    assert admin.post("/admin/funder-profiles/new", {**values, "language": "es"}).status_code == 303
    with app.app_context():
        county = db.session.scalar(select(FunderProfile).where(FunderProfile.name == "county"))
        assert county.language == "es"
        county_id = county.id
    listing = admin.get("/admin/funder-profiles").get_data(as_text=True)
    assert "Español" in listing
    edit = admin.get(f"/admin/funder-profiles/{county_id}").get_data(as_text=True)
    assert re.search(
        r'<option[^>]*selected[^>]*value="es"|<option[^>]*value="es"[^>]*selected', edit
    )
    assert (
        admin.post(f"/admin/funder-profiles/{county_id}", {**values, "language": ""}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(FunderProfile, county_id).language is None
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("funder_profile_%"))
        ).all()
        created = next(e for e in events if e.action == "funder_profile_created")
        updated = next(e for e in events if e.action == "funder_profile_updated")
        assert created.detail["language"] == "es"
        assert updated.detail["fields"] == ["language"]


def test_spanish_pages_of_the_reports_area(app, program, factory):
    """A manager who reads Spanish: the Reports page, a preview of a profile without a
    language (so the report is in Spanish too), and the profiles' page."""
    from tests.conftest import Browser

    factory.user("gestora", "manager")
    factory.user("admin1", "admin")
    client = app.test_client()
    client.environ_base.update(SPANISH)
    manager = Browser(client)
    manager.sign_in("gestora")
    index = manager.get("/reports").get_data(as_text=True)
    assert "Informes para financiadores" in index and "Año fiscal hasta la fecha" in index
    preview = manager.get("/reports/preview?period=2026-10&funder=standard").get_data(as_text=True)
    assert "Generar y archivar el PDF" in preview and "Resumen del programa" in preview
    assert "octubre de 2026" in preview
    # The report is in the page's language: nothing to point out.
    assert "Este informe está escrito en" not in preview
