"""Printable wallet cards: the participant's code as text and as a QR code, and nothing
else unless the program sets ``CARD_TITLE``.

A card is carried in a pocket: a program name ("... syringe services program") on it
could out the person carrying it to whoever finds it. So the card never prints
``PROGRAM_NAME``; it prints ``CARD_TITLE`` when the program chooses one (a short neutral
name), and no title at all by default.

A USB scanner reading the QR code types the code and Enter, which is exactly what the
search box needs to open the participant's record.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping
from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from ssp.i18n import _, current_language

CARD_WIDTH, CARD_HEIGHT = 3.5 * inch, 2.0 * inch  # a US business card
COLUMNS, ROWS = 2, 5
MAX_CARDS = COLUMNS * ROWS
BRAND = colors.HexColor("#0f5b5c")


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``width``."""
    while size > 6 and canvas.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def card_title(config: Mapping[str, Any]) -> str:
    """The title printed on cards: ``CARD_TITLE``, never ``PROGRAM_NAME``; "" for none.
    Composed (NFC), so an accent typed as a separate mark (n + ~) prints as one letter."""
    return unicodedata.normalize("NFC", " ".join(str(config.get("CARD_TITLE") or "").split()))


def _card(canvas: Canvas, x: float, y: float, code: str, title: str) -> None:
    canvas.setStrokeColor(colors.HexColor("#9aa5ab"))
    canvas.setDash(2, 3)  # a cutting guide
    canvas.rect(x, y, CARD_WIDTH, CARD_HEIGHT)
    canvas.setDash()
    qr_size = 1.5 * inch
    widget = QrCodeWidget(code, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        qr_size, qr_size, transform=[qr_size / (right - left), 0, 0, qr_size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    drawing.drawOn(canvas, x + CARD_WIDTH - qr_size - 0.15 * inch, y + 0.25 * inch)
    text_width = CARD_WIDTH - qr_size - 0.45 * inch
    if title:
        canvas.setFillColor(BRAND)
        size = _fit(canvas, title, "Helvetica-Bold", 10, text_width)
        canvas.setFont("Helvetica-Bold", size)
        canvas.drawString(x + 0.2 * inch, y + CARD_HEIGHT - 0.42 * inch, title)
    canvas.setFillColor(colors.black)
    size = _fit(canvas, code, "Courier-Bold", 18, text_width)
    canvas.setFont("Courier-Bold", size)
    canvas.drawString(x + 0.2 * inch, y + 0.75 * inch, code)


def render_cards(code: str, title: str = "", copies: int = 1) -> bytes:
    """A letter-size sheet with ``copies`` cards (1 to 10) for one code, as PDF bytes,
    each with ``title`` above the code ("" prints none; see ``card_title``). Its fixed
    words are in the current language: call it inside ``force_locale`` for another one.
    Helvetica (WinAnsi) prints every letter of English and Spanish, accents and ñ too."""
    copies = max(1, min(MAX_CARDS, copies))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=1, lang=current_language())
    canvas.setTitle(_("%(title)s: wallet card", title=title) if title else _("Wallet card"))
    canvas.setCreator("ssp")
    page_width, page_height = letter
    margin_x = (page_width - COLUMNS * CARD_WIDTH) / 2
    margin_y = (page_height - ROWS * CARD_HEIGHT) / 2
    for index in range(copies):
        column, row = index % COLUMNS, index // COLUMNS
        x = margin_x + column * CARD_WIDTH
        y = page_height - margin_y - (row + 1) * CARD_HEIGHT
        _card(canvas, x, y, code, title)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
