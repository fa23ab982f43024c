"""An approved alert as a one-page flyer to print and put up: large type, what was found
in what, where and since when, the program's advice as bullets, and a QR code to the
program's public page when one is configured (``ALERT_PUBLIC_URL``).

Takes a ``FlyerContent`` (plain values, already in words: ``alerts.flyer_content`` makes
it in the language chosen on the print form) and returns PDF bytes; it imports nothing of
Flask or the database.
Text is set in the DejaVu Sans the reports embed (``ssp.reporting.pdf``), so any name
prints; the content is shrunk, never split, if it would not fit one page. Output is
deterministic (reportlab's invariant mode).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import KeepInFrame, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ssp.reporting.pdf import BRAND, FONT, FONT_BOLD, MUTED, printable

PAGE_SIZES = {"letter": letter, "a4": A4}
MARGIN = 0.7 * inch
QR_SIZE = 1.9 * inch
ALERT_RED = colors.HexColor("#a4161a")


@dataclass(frozen=True)
class FlyerContent:
    """Everything a flyer prints, already in words."""

    title: str  # "Drug checking alert"
    headline: str  # "Xylazine found in fentanyl"
    lines: tuple[tuple[str, str], ...]  # ("Where", "All areas"), ("Since", "1 December 2026")
    advice_heading: str  # "What to do"
    advice: tuple[str, ...]
    footer: tuple[str, ...]  # issued by, runs until
    url: str | None  # the QR code's target; None prints no code
    scan: str  # "Scan for more:"
    author: str  # the program, in the PDF's properties
    issued: dt.date
    language: str = "en"  # the PDF's language, for screen readers


def _style(name: str, size: float, bold: bool = False, **values) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.22,
        **values,
    )


STYLES = {
    "title": _style("title", 40, True, textColor=ALERT_RED, spaceAfter=14),
    "headline": _style("headline", 32, True, spaceAfter=16),
    "line": _style("line", 22, spaceAfter=6),
    "heading": _style("heading", 24, True, textColor=BRAND, spaceBefore=18, spaceAfter=8),
    "advice": _style(
        "advice",
        20,
        leftIndent=28,
        bulletIndent=4,
        bulletFontName=FONT,
        bulletFontSize=20,
        spaceAfter=8,
    ),
    "footer": _style("footer", 13, textColor=MUTED, spaceAfter=2),
    "scan": _style("scan", 13, textColor=MUTED),
    "url": _style("url", 15, True, wordWrap="CJK"),
}


def _escape(text: str) -> str:
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        QR_SIZE,
        QR_SIZE,
        transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    return drawing


def render_flyer(content: FlyerContent, page_size: str = "letter") -> bytes:
    """The flyer as PDF bytes, on one page of ``page_size`` ("letter" or "a4")."""
    size = PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=size,
        invariant=1,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{content.title}: {content.headline}",
        author=content.author,
        subject=content.title,
        creator="ssp",
        producer="ssp",
        lang=content.language,
    )
    flow: list = [
        Paragraph(_escape(content.title), STYLES["title"]),
        Paragraph(_escape(content.headline), STYLES["headline"]),
    ]
    for label, value in content.lines:
        flow.append(Paragraph(f"<b>{_escape(label)}:</b> {_escape(value)}", STYLES["line"]))
    flow.append(Paragraph(_escape(content.advice_heading), STYLES["heading"]))
    for line in content.advice:
        flow.append(Paragraph(_escape(line), STYLES["advice"], bulletText="•"))
    flow.append(Spacer(1, 18))
    footer = [Paragraph(_escape(line), STYLES["footer"]) for line in content.footer]
    if content.url:
        footer += [
            Spacer(1, 8),
            Paragraph(_escape(content.scan), STYLES["scan"]),
            Paragraph(_escape(content.url), STYLES["url"]),
        ]
        table = Table(
            [[footer, _qr(content.url)]],
            colWidths=[template.width - QR_SIZE - 12, QR_SIZE + 12],
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ]
            )
        )
        flow.append(table)
    else:
        flow += footer
    # One page whatever the lengths: shrink the whole flyer rather than split it.
    template.build([KeepInFrame(template.width, template.height, flow, mode="shrink")])
    return buffer.getvalue()
