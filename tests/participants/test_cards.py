"""Wallet cards: the code as text and QR code, a title only if the program sets one, and
never the program's name unless CARD_TITLE says so."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.extensions import db


def _card(desk, participant: int, copies: int = 1) -> tuple[list[str], str]:
    """The words printed on a sheet of cards, and the PDF's title."""
    response = desk.get(f"/participants/{participant}/card.pdf?copies={copies}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text().split(), str(reader.metadata.title)


def test_a_sheet_of_cards_holds_the_code_and_nothing_else_by_default(app, factory, signed_in):
    app.config["PROGRAM_NAME"] = "Harbor Harm Reduction Program"
    participant = factory.participant("MAPH0687", birth_year=1987, zip3="191")
    desk = signed_in("front_desk")
    page = desk.get(f"/participants/{participant}").get_data(as_text=True)
    assert f"/participants/{participant}/card.pdf" in page
    response = desk.get(f"/participants/{participant}/card.pdf?copies=4")
    assert response.headers["Cache-Control"] == "no-store"
    words, title = _card(desk, participant, 4)
    assert words == ["MAPH0687"] * 4
    # Not in the file's own title either: whoever opens the PDF sees no program.
    assert "Harbor" not in title and "Harbor" not in response.data.decode("latin-1")
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "participant_card_printed")
        )
        assert event.object_id == participant and event.detail == {"copies": 4}


def test_the_default_program_name_is_not_printed_either(app, factory, signed_in):
    from ssp.config import Defaults

    assert Defaults.CARD_TITLE == "" and app.config["CARD_TITLE"] == ""
    participant = factory.participant("MAPH0687")
    words, title = _card(signed_in("front_desk"), participant)
    assert words == ["MAPH0687"]
    assert "Syringe" not in title and "program" not in title.lower()


def test_a_card_prints_the_title_the_program_chose(app, factory, signed_in):
    app.config["PROGRAM_NAME"] = "Harbor Harm Reduction Program"
    app.config["CARD_TITLE"] = "  Harbor   Wellness "
    participant = factory.participant("MAPH0687")
    words, title = _card(signed_in("front_desk"), participant, 2)
    assert words == ["Harbor", "Wellness", "MAPH0687"] * 2
    assert title == "Harbor Wellness: wallet card"
    # Only when CARD_TITLE says so does the card carry the program's name.
    app.config["CARD_TITLE"] = app.config["PROGRAM_NAME"]
    words, _ = _card(signed_in("front_desk", "desk2"), participant)
    assert words == ["Harbor", "Harm", "Reduction", "Program", "MAPH0687"]


def test_card_copies_are_checked(factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    for bad in ("0", "11", "x", "²", "-1"):
        response = desk.get(f"/participants/{participant}/card.pdf?copies={bad}")
        assert response.status_code == 422 and "Print 1 to 10 cards" in response.get_data(
            as_text=True
        )
    assert desk.get("/participants/999/card.pdf").status_code == 404


def test_a_scanner_typing_the_code_and_enter_lands_on_the_participant(factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    # A USB scanner types the QR's content into the focused search box and presses Enter.
    response = desk.post("/participants/find", {"code": "MAPH0687"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/participants/{participant}"


SPANISH_BROWSER = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}


def test_a_card_title_with_spanish_accents_and_enye_prints_as_written(app, factory, signed_in):
    # Typed with separate accent marks (n + ~), as some keyboards and files give them.
    app.config["CARD_TITLE"] = "Salud del Año, Niñez y Acción ¿Sí? ¡Ú!".replace("ñ", "n\u0303")
    participant = factory.participant("MAPH0687")
    words, title = _card(signed_in("front_desk"), participant)
    assert words == ["Salud", "del", "Año,", "Niñez", "y", "Acción", "¿Sí?", "¡Ú!", "MAPH0687"]
    assert title == "Salud del Año, Niñez y Acción ¿Sí? ¡Ú!: wallet card"


def test_the_print_form_offers_each_language_with_the_pages_own_first(factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    page = desk.get(f"/participants/{participant}").get_data(as_text=True)
    assert 'name="language"' in page
    assert '<option value="en" lang="en" selected>English</option>' in page
    assert '<option value="es" lang="es">Español</option>' in page
    spanish_page = desk.get(f"/participants/{participant}", headers=SPANISH_BROWSER)
    assert '<option value="es" lang="es" selected>Español</option>' in spanish_page.get_data(
        as_text=True
    )


def test_a_card_language_the_app_does_not_speak_is_refused(factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    nul = desk.get(f"/participants/{participant}/card.pdf?copies=1&language=en\x00")
    assert nul.status_code == 400  # the text rule refuses a NUL before any view runs
    for bad in ("xx", "fr", "ES", "es_MX", "../es"):
        response = desk.get(f"/participants/{participant}/card.pdf?copies=1&language={bad}")
        assert response.status_code == 422, bad
        assert "Choose the card&#39;s language from the list." in response.get_data(as_text=True)


# The Spanish of "Wallet card" and "%(title)s: wallet card" from the Spanish catalogue.
def test_a_card_prints_in_the_language_chosen_on_its_print_form(app, factory, signed_in):
    app.config["CARD_TITLE"] = "Salud Año"
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    url = f"/participants/{participant}/card.pdf?copies=1"

    response = desk.get(f"{url}&language=es")
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == "Salud Año: tarjeta de bolsillo"
    assert reader.trailer["/Root"]["/Lang"] == "es"  # for screen readers
    assert reader.pages[0].extract_text().split() == ["Salud", "Año", "MAPH0687"]
    app.config["CARD_TITLE"] = ""
    assert PdfReader(io.BytesIO(desk.get(f"{url}&language=es").data)).metadata.title == (
        "Tarjeta de bolsillo"
    )
    # Chosen, the language wins over the page's; not chosen, the card speaks the page's.
    spanish_page = desk.get(f"{url}&language=en", headers=SPANISH_BROWSER)
    assert PdfReader(io.BytesIO(spanish_page.data)).metadata.title == "Wallet card"
    spanish_default = desk.get(url, headers=SPANISH_BROWSER)
    assert PdfReader(io.BytesIO(spanish_default.data)).metadata.title == "Tarjeta de bolsillo"
    assert PdfReader(io.BytesIO(desk.get(url).data)).metadata.title == "Wallet card"
