"""Wallet cards: the code as text and QR code, the program's name, nothing else."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.extensions import db


def test_a_sheet_of_cards_holds_the_code_and_the_program_name_only(app, factory, signed_in):
    app.config["PROGRAM_NAME"] = "Harbor Harm Reduction Program"
    participant = factory.participant("MAPH0687", birth_year=1987, zip3="191")
    desk = signed_in("front_desk")
    page = desk.get(f"/participants/{participant}").get_data(as_text=True)
    assert f"/participants/{participant}/card.pdf" in page
    response = desk.get(f"/participants/{participant}/card.pdf?copies=4")
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    words = reader.pages[0].extract_text().split()
    assert words.count("MAPH0687") == 4
    assert set(words) == {"MAPH0687", "Harbor", "Harm", "Reduction", "Program"}
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "participant_card_printed")
        )
        assert event.object_id == participant and event.detail == {"copies": 4}


def test_card_copies_are_checked(factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    for bad in ("0", "11", "x", "²", "-1"):
        assert desk.get(f"/participants/{participant}/card.pdf?copies={bad}").status_code == 400
    assert desk.get("/participants/999/card.pdf").status_code == 404


def test_a_scanner_typing_the_code_and_enter_lands_on_the_participant(factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    # A USB scanner types the QR's content into the focused search box and presses Enter.
    response = desk.post("/participants/find", {"code": "MAPH0687"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/participants/{participant}"
