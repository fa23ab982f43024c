"""Printable wallet cards: the participant's code as text and as a QR code, and the
program's name. Nothing else is printed on a card.

A USB scanner reading the QR code types the code and Enter, which is exactly what the
search box needs to open the participant's record.
"""

from __future__ import annotations

import io

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

CARD_WIDTH, CARD_HEIGHT = 3.5 * inch, 2.0 * inch  # a US business card
COLUMNS, ROWS = 2, 5
MAX_CARDS = COLUMNS * ROWS
BRAND = colors.HexColor("#0f5b5c")


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``width``."""
    while size > 6 and canvas.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _card(canvas: Canvas, x: float, y: float, code: str, program_name: str) -> None:
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
    canvas.setFillColor(BRAND)
    size = _fit(canvas, program_name, "Helvetica-Bold", 10, text_width)
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawString(x + 0.2 * inch, y + CARD_HEIGHT - 0.42 * inch, program_name)
    canvas.setFillColor(colors.black)
    size = _fit(canvas, code, "Courier-Bold", 18, text_width)
    canvas.setFont("Courier-Bold", size)
    canvas.drawString(x + 0.2 * inch, y + 0.75 * inch, code)


def render_cards(code: str, program_name: str, copies: int = 1) -> bytes:
    """A letter-size sheet with ``copies`` cards (1 to 10) for one code, as PDF bytes."""
    copies = max(1, min(MAX_CARDS, copies))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=1)
    canvas.setTitle(f"{program_name}: participant card")
    canvas.setCreator("ssp")
    page_width, page_height = letter
    margin_x = (page_width - COLUMNS * CARD_WIDTH) / 2
    margin_y = (page_height - ROWS * CARD_HEIGHT) / 2
    for index in range(copies):
        column, row = index % COLUMNS, index // COLUMNS
        x = margin_x + column * CARD_WIDTH
        y = page_height - margin_y - (row + 1) * CARD_HEIGHT
        _card(canvas, x, y, code, program_name)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
