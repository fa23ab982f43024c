"""Render a report document as a PDF with reportlab.

Takes a ``ReportDocument`` (plain, already-suppressed data) and returns bytes. It imports
nothing of Flask or the database. Output is deterministic: reportlab's invariant mode
fixes the file's creation date and ID, and only the generation day (never the time) is
printed, so the same data and parameters on the same day give byte-identical files.
Only the standard PDF fonts are used: nothing is fetched or embedded.
"""

from __future__ import annotations

import io
import re

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from ssp.reporting.document import Chart, ReportDocument, Section, Table

NUMBER = re.compile(r"^[<*]?[\d,.]*%?$|^[*—]$")
BRAND = colors.HexColor("#0f5b5c")
LIGHT = colors.HexColor("#e8f2f2")
RULE = colors.HexColor("#c9d1d5")
MUTED = colors.HexColor("#59636b")
BAR = colors.HexColor("#2f7f80")

_styles = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle(
        "title",
        parent=_styles["Title"],
        alignment=TA_LEFT,
        fontSize=22,
        leading=27,
        textColor=BRAND,
        spaceAfter=4,
    ),
    "subtitle": ParagraphStyle(
        "subtitle", parent=_styles["Normal"], fontSize=13, leading=17, spaceAfter=2
    ),
    "meta": ParagraphStyle(
        "meta", parent=_styles["Normal"], fontSize=10, leading=14, textColor=MUTED
    ),
    "h1": ParagraphStyle(
        "h1",
        parent=_styles["Heading1"],
        fontSize=15,
        leading=19,
        textColor=BRAND,
        spaceBefore=6,
        spaceAfter=4,
    ),
    "h2": ParagraphStyle(
        "h2", parent=_styles["Heading3"], fontSize=11, leading=14, spaceBefore=8, spaceAfter=3
    ),
    "body": ParagraphStyle("body", parent=_styles["Normal"], fontSize=9.5, leading=13),
    "note": ParagraphStyle(
        "note", parent=_styles["Normal"], fontSize=8.5, leading=11, textColor=MUTED, spaceBefore=2
    ),
    "cell": ParagraphStyle("cell", parent=_styles["Normal"], fontSize=9, leading=11),
    "cell_bold": ParagraphStyle(
        "cell_bold", parent=_styles["Normal"], fontSize=9, leading=11, fontName="Helvetica-Bold"
    ),
    "mono": ParagraphStyle(
        "mono", parent=_styles["Normal"], fontName="Courier", fontSize=8, leading=10
    ),
}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(_escape(text), STYLES[style])


def _footer_text(document: ReportDocument) -> str:
    t = document.threshold
    return (
        f"De-identified aggregate data. Counts from 1 to {t - 1} are shown as <{t}; "
        f"* marks a cell hidden so that a small count cannot be worked out."
    )


class _NumberedCanvas(Canvas):
    """A canvas that writes "Page n of N" and the footer once every page is known."""

    def __init__(self, *args, footer: str = "", header: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.footer = footer
        self.header = header
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        width, _ = letter
        self.saveState()
        self.setStrokeColor(RULE)
        self.line(0.75 * inch, 0.75 * inch, width - 0.75 * inch, 0.75 * inch)
        self.setFont("Helvetica", 7.5)
        self.setFillColor(MUTED)
        self.drawString(0.75 * inch, 0.58 * inch, self.footer)
        self.drawString(0.75 * inch, 0.45 * inch, self.header)
        self.drawRightString(
            width - 0.75 * inch, 0.45 * inch, f"Page {self._pageNumber} of {total}"
        )
        self.restoreState()


def _table(table: Table) -> list:
    if table.withheld:
        heading = _p(table.title, "h2")
        return [KeepTogether([heading, _p(f"Withheld. {table.withheld}", "body")])]
    header = [_p("", "cell")] + [_p(c, "cell_bold") for c in table.columns]
    data = [header]
    styles = [
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, BRAND),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]
    for index, row in enumerate(table.rows, start=1):
        style = "cell_bold" if row.total or row.group else "cell"
        label = row.label if not row.group else row.label
        data.append([_p(label, style)] + [_p(cell, style) for cell in row.cells])
        if row.total:
            styles.append(("LINEABOVE", (0, index), (-1, index), 0.8, colors.black))
        if row.group:
            styles.append(("BACKGROUND", (0, index), (-1, index), LIGHT))
    # Columns of numbers align right, header included; words ("Counted as") stay left.
    numeric = {
        col
        for col in range(1, len(table.columns) + 1)
        if all(NUMBER.match(row.cells[col - 1]) for row in table.rows if row.cells[col - 1])
    }
    for row_index in range(len(data)):
        for col in numeric:
            paragraph = data[row_index][col]
            paragraph.style = ParagraphStyle("right", parent=paragraph.style, alignment=2)
    width = 6.9 * inch
    numbers = len(table.columns)
    if numbers > 6:
        first = 1.4 * inch
        rest = (width - first) / numbers
    else:
        rest = min(1.35 * inch, (width * 0.55) / max(numbers, 1))
        first = width - rest * numbers
    pdf_table = PdfTable(data, colWidths=[first] + [rest] * numbers, repeatRows=1)
    pdf_table.setStyle(TableStyle(styles))
    shown_unit = table.unit not in ("See each row", table.title, *table.columns)
    parts = [_p(f"{table.title}  ({table.unit})" if shown_unit else table.title, "h2"), pdf_table]
    if table.note:
        parts.append(_p(table.note, "note"))
    return [KeepTogether(parts)] if len(table.rows) < 25 else parts


def _chart(chart: Chart) -> Drawing:
    width, height = 3.3 * inch, 2.1 * inch
    drawing = Drawing(width, height)
    drawing.add(
        String(
            0,
            height - 10,
            f"{chart.title} ({chart.unit.lower()})",
            fontName="Helvetica-Bold",
            fontSize=8,
        )
    )
    bars = VerticalBarChart()
    bars.x, bars.y = 30, 40
    bars.width, bars.height = width - 36, height - 62
    values = [v if v is not None else 0 for v in chart.values]
    bars.data = [values]
    bars.categoryAxis.categoryNames = chart.labels
    bars.categoryAxis.labels.fontSize = 5.5
    bars.categoryAxis.labels.angle = 60
    bars.categoryAxis.labels.boxAnchor = "e"
    bars.categoryAxis.labels.dy = -3
    bars.valueAxis.valueMin = 0
    bars.valueAxis.labels.fontSize = 6
    top = max(values) if values and max(values) > 0 else 1
    bars.valueAxis.valueMax = top * 1.15
    bars.valueAxis.valueStep = _nice_step(top)
    bars.valueAxis.labelTextFormat = "{:,.0f}".format
    bars.bars[0].fillColor = BAR
    bars.bars[0].strokeColor = None
    drawing.add(bars)
    hidden = [chart.labels[i] for i, v in enumerate(chart.values) if v is None]
    if hidden:
        drawing.add(
            String(
                0,
                1,
                "Left blank (small count): " + ", ".join(hidden),
                fontName="Helvetica",
                fontSize=5.5,
                fillColor=MUTED,
            )
        )
    return drawing


def _nice_step(top: int) -> float:
    raw = top / 4
    magnitude = 10 ** max(len(str(int(raw))) - 1, 0)
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return max(factor * magnitude, 1)
    return magnitude * 10


def _section(section: Section) -> list:
    flow: list = [CondPageBreak(2.2 * inch), _p(section.title, "h1"), _p(section.intro)]
    if section.charts:
        pairs = [section.charts[i : i + 2] for i in range(0, len(section.charts), 2)]
        grid = PdfTable(
            [[_chart(c) for c in pair] + [""] * (2 - len(pair)) for pair in pairs],
            colWidths=[3.45 * inch, 3.45 * inch],
        )
        grid.setStyle(
            TableStyle(
                [("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]
            )
        )
        flow += [Spacer(1, 4), grid]
    for table in section.tables:
        flow += _table(table)
    return flow


def render_pdf(document: ReportDocument) -> bytes:
    """The report as PDF bytes (same document, same bytes)."""
    buffer = io.BytesIO()
    title = f"{document.program_name}: {document.period_label} report to {document.funder_name}"
    template = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        invariant=1,
        title=title,
        author=document.program_name,
        subject="De-identified monthly report",
        creator="ssp",
        producer="ssp",
        leftMargin=0.8 * inch,
        rightMargin=0.8 * inch,
        topMargin=0.75 * inch,
        bottomMargin=1.0 * inch,
    )
    footer = _footer_text(document)
    header = f"{document.program_name} · {document.period_label}"

    flow: list = [
        _p(document.program_name, "title"),
        _p(f"Monthly report to {document.funder_name}", "subtitle"),
        _p(document.period_label, "subtitle"),
    ]
    meta = [f"Generated {document.generated_on.strftime('%-d %B %Y')}"]
    if document.grant_number:
        meta.insert(0, f"Grant or contract {document.grant_number}")
    flow += [_p(" · ".join(meta), "meta"), Spacer(1, 14)]
    if document.no_activity:
        flow.append(
            _p("No visits were recorded this month. Every figure below is zero.", "subtitle")
        )
    flow += _table(document.glance)
    flow.append(
        _p(
            "All figures are aggregates of de-identified records: no name, code or other "
            "identifier of any person is held in this report. Dates are given by month only. "
            + document.symbols_note(),
            "note",
        )
    )
    for section in document.sections:
        flow += _section(section)

    flow += [
        PageBreak(),
        _p("About this report", "h1"),
        _p(_audit_text(document)),
    ]
    appendix = Table(
        "appendix",
        "Suppression by table",
        "Cells",
        ["Small counts hidden", "Further cells hidden", "Withheld"],
        [_appendix_row(t) for t in document.tables()],
    )
    flow += _table(appendix)
    parameters = [
        [_p(key.replace("_", " ").capitalize(), "cell_bold"), _p(value, "cell")]
        for key, value in document.parameters.items()
    ]
    parameters.append([_p("Figures sha256", "cell_bold"), _p(document.figures_sha256(), "mono")])
    grid = PdfTable(parameters, colWidths=[1.8 * inch, 5.1 * inch])
    grid.setStyle(
        TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE)]
        )
    )
    flow += [
        _p("Parameters", "h2"),
        grid,
        _p(
            "The sha256 is computed over the published (suppressed) figures and the parameters "
            "above. Regenerating the report from the same data and parameters gives the same "
            "value, so any figure can be checked against the program's records.",
            "note",
        ),
    ]
    template.build(
        flow,
        canvasmaker=lambda *args, **kwargs: _NumberedCanvas(
            *args, footer=footer, header=header, **kwargs
        ),
    )
    return buffer.getvalue()


def _appendix_row(table: Table):
    from ssp.reporting.document import Row

    if table.withheld:
        return Row(table.title, ["—", "—", "yes"])
    return Row(
        table.title,
        [str(table.primary_suppressed), str(table.complementary_suppressed), "no"],
    )


def _audit_text(document: ReportDocument) -> str:
    """How the figures were protected, in words (no timing: the file stays reproducible)."""
    t = document.threshold
    text = (
        f"Every figure comes from one release, audited as a whole before anything was "
        f"written: counts of people and of events from 1 to {t - 1} are shown as <{t}; "
        "further cells (*) are hidden, in a fixed order that does not depend on their "
        "values, until an exact integer-programming audit finds that no small count can be "
        f"narrowed below half of 1 to {t - 1} by a reader who knows this method and holds "
        "every report archived before it. A table that cannot be protected that way is "
        "withheld with its reason. Months already reported are reprinted in the trends as "
        "first published, so a later report never shows a small correction to them."
    )
    withheld = [t.title for t in document.tables() if t.withheld]
    if withheld:
        text += " Withheld in this report: " + "; ".join(withheld) + "."
    return text
