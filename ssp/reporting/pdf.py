"""Render a report document as a PDF with reportlab.

Takes a ``ReportDocument`` (plain, already-suppressed data) and returns bytes. It reads
nothing of the database. It prints in the document's language (its fixed words, numbers
and days; the PDF's ``/Lang`` and the appendix's parameters name it). Output is
deterministic: reportlab's invariant mode
fixes the file's ID, the creation date is the generation day (never a time), and only
that day is printed, so the same data and parameters on the same day give byte-identical
files, as long as nothing was audited in between: the appendix prints the audit trail's
head (its newest event), which moves with every event recorded (the report's own
included).

Every piece of text is set in DejaVu Sans, shipped in ``ssp/reporting/fonts`` (with its
licence) and embedded as a subset, so names print in Latin, Greek, Cyrillic and the other
scripts the font covers without depending on a system font (and every character Spanish
needs, ¿ ¡ ñ and the accents, and the narrow and thin spaces Babel puts in numbers, times
and ranges of days). A character the font lacks
(or right-to-left text, which reportlab cannot lay out) prints as ``PLACEHOLDER``, never
as the font's empty box.

Layout rules: columns are sized from their content in the font and size they print in,
so a figure never wraps or overflows; a table too wide for the page repeats its label
column in two or more stacked parts; a heading always has its content below it on the
same page.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
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

from ssp.i18n import _
from ssp.reporting.document import (
    AUDIT_TRAIL_SHA256,
    FIGURES_SHA256,
    SEE_EACH_ROW,
    TRAIL_HEAD_NOTE,
    Chart,
    ReportDocument,
    Row,
    Section,
    Table,
    parameter_lines,
)
from ssp.reporting.wording import day, day_range, decimal_symbol, figure, number, written_in

# --- fonts and the characters they can print ----------------------------------------------

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
PLACEHOLDER = "?"  # printed for each character the font cannot show


def _register_fonts() -> frozenset[int]:
    faces = []
    for name in (FONT, FONT_BOLD):
        try:
            font = pdfmetrics.getFont(name)
        except KeyError:
            font = TTFont(name, str(FONT_DIR / f"{name}.ttf"))
            pdfmetrics.registerFont(font)
        faces.append(font)
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )
    # A character prints only if both weights have it (a row can turn bold).
    covered = set(faces[0].face.charToGlyph)
    for font in faces[1:]:
        covered &= set(font.face.charToGlyph)
    return frozenset(covered)


_COVERED = _register_fonts()
_KEPT = frozenset("\n\r\t")
_RIGHT_TO_LEFT = frozenset(("R", "AL"))


def printable(text: str) -> str:
    """The text as it prints: composed (NFC), with every character the embedded font
    cannot show, and right-to-left letters (reportlab would set them in the wrong order
    and unjoined), replaced by ``PLACEHOLDER``."""
    text = unicodedata.normalize("NFC", text)
    return "".join(
        ch
        if ch in _KEPT
        or (ord(ch) in _COVERED and unicodedata.bidirectional(ch) not in _RIGHT_TO_LEFT)
        else PLACEHOLDER
        for ch in text
    )


def text_width(text: str, bold: bool = False, size: float = 8) -> float:
    """How wide the text prints, in points."""
    return pdfmetrics.stringWidth(printable(text), FONT_BOLD if bold else FONT, size)


# --- styles -------------------------------------------------------------------------------

NUMBER = re.compile(r"^[<*]?[\d,.]*%?†?$|^[*—†]$")
BRAND = colors.HexColor("#0f5b5c")
LIGHT = colors.HexColor("#e8f2f2")
RULE = colors.HexColor("#c9d1d5")
MUTED = colors.HexColor("#59636b")
BAR = colors.HexColor("#2f7f80")

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 0.8 * inch
WIDTH = PAGE_WIDTH - 2 * MARGIN  # the frame's width (6.9 inches)
CELL_SIZE = 8
CELL_PAD = 5  # left and right padding of every table cell
HEADER_CAP = 1.2 * inch  # a column header wraps between words beyond this
TEXT_CAP = 1.3 * inch  # a cell of words ("Needle-and-syringe units") wraps beyond this
LABEL_LEAST = 1.5 * inch  # the label column is never narrower, if its labels need it
LABEL_LIKED = 2.8 * inch  # and would like its longest label in full, up to this
MIN_FIGURE_COLUMN = 0.55 * inch
SLACK = 1.0  # points kept free in a cell so rounding never wraps a figure
LONG_TABLE = 25  # rows: a longer table may break across pages


def _style(name: str, **values) -> ParagraphStyle:
    base = {"fontName": FONT, "fontSize": 9, "leading": 12.5}
    return ParagraphStyle(name, **{**base, **values})


STYLES = {
    "title": _style(
        "title", fontName=FONT_BOLD, fontSize=20, leading=25, textColor=BRAND, spaceAfter=2
    ),
    "subtitle": _style("subtitle", fontSize=12, leading=16, spaceAfter=8),
    "notice": _style("notice", fontName=FONT_BOLD, fontSize=10.5, leading=14, spaceBefore=6),
    "cover": _style("cover", fontSize=9, leading=12),
    "h1": _style(
        "h1",
        fontName=FONT_BOLD,
        fontSize=14,
        leading=18,
        textColor=BRAND,
        spaceBefore=10,
        spaceAfter=4,
        keepWithNext=1,
    ),
    "h2": _style(
        "h2",
        fontName=FONT_BOLD,
        fontSize=10,
        leading=13,
        spaceBefore=9,
        spaceAfter=3,
        keepWithNext=1,
    ),
    "body": _style("body"),
    "note": _style("note", fontSize=7.5, leading=10, textColor=MUTED, spaceBefore=2),
    "cell": _style("cell", fontSize=CELL_SIZE, leading=10),
    "cell_bold": _style("cell_bold", fontName=FONT_BOLD, fontSize=CELL_SIZE, leading=10),
    "hash": _style("hash", fontSize=7, leading=9),
}
for _name in ("cell", "cell_bold"):
    STYLES[_name + "_right"] = ParagraphStyle(
        _name + "_right", parent=STYLES[_name], alignment=TA_RIGHT
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(_escape(printable(text)), STYLES[style])


def _heading(text: str, style: str, keep_with_next: bool = True) -> Paragraph:
    paragraph = _p(text, style)
    if not keep_with_next:
        paragraph.keepWithNext = 0  # it is kept with its table another way
    return paragraph


def _footer_text(document: ReportDocument) -> str:
    t = document.threshold
    return _(
        "De-identified aggregate data. Counts from 1 to %(most)s are shown as "
        "<%(threshold)s; * marks a cell hidden so that a small count cannot be worked out.",
        most=t - 1,
        threshold=t,
    )


class _NumberedCanvas(Canvas):
    """A canvas that writes "Page n of N" and the footer once every page is known, and
    dates the file by the generation day."""

    def __init__(
        self, *args, footer: str = "", header: str = "", day: dt.date | None = None, **kwargs
    ) -> None:
        # The page preamble names a font too: make it ours, so no standard font is used.
        kwargs.update(initialFontName=FONT, initialFontSize=9, initialLeading=12)
        super().__init__(*args, **kwargs)
        self.footer = footer
        self.header = header
        self._pages: list[dict] = []
        if day is not None:
            stamp = f"D:{day:%Y%m%d}"  # a day with no time: the PDF date format allows it
            self.setDateFormatter(lambda *_: stamp)

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
        size = 7
        self.saveState()
        self.setStrokeColor(RULE)
        self.line(MARGIN, 0.78 * inch, PAGE_WIDTH - MARGIN, 0.78 * inch)
        self.setFont(FONT, size)
        self.setFillColor(MUTED)
        y = 0.64 * inch
        for line in simpleSplit(printable(self.footer), FONT, size, WIDTH):
            self.drawString(MARGIN, y, line)
            y -= size + 2
        page = _("Page %(page)s of %(pages)s", page=self._pageNumber, pages=total)
        header_room = WIDTH - pdfmetrics.stringWidth(page, FONT, size) - 12
        header = simpleSplit(printable(self.header), FONT, size, header_room)
        self.drawString(MARGIN, y - 2, header[0] if header else "")
        self.drawRightString(PAGE_WIDTH - MARGIN, y - 2, page)
        self.restoreState()


# --- tables -------------------------------------------------------------------------------


def _is_figure(row: Row, index: int) -> bool:
    """Whether a cell holds a figure (never wrapped) rather than words."""
    cell = row.cells[index]
    if row.statuses and index < len(row.statuses):
        return row.statuses[index] != "text" or bool(NUMBER.match(cell) and cell)
    return bool(cell) and bool(NUMBER.match(cell))


def _longest_word(text: str, bold: bool) -> float:
    return max((text_width(word, bold, CELL_SIZE) for word in text.split()), default=0.0)


@dataclass
class Part:
    """One printed piece of a table: the data columns it holds and every column's width
    (the label column first)."""

    columns: list[int]
    widths: list[float]


@dataclass
class _Column:
    least: float  # its figures in full and its longest word: never narrower
    liked: float  # its words up to a cap as well: as wide as it would like

    @property
    def give(self) -> float:
        return self.liked - self.least


def numeric_columns(table: Table) -> set[int]:
    """Data columns (0-based) whose cells are mostly figures: they align right."""
    found = set()
    for index in range(len(table.columns)):
        figures = sum(1 for row in table.rows if _is_figure(row, index))
        words = sum(1 for row in table.rows if row.cells[index] and not _is_figure(row, index))
        if figures and figures >= words:
            found.add(index)
    return found


def _data_column(table: Table, index: int) -> _Column:
    header = table.columns[index]
    # A short header ("Oct 26", "October 2026") stays on one line: a table splits rather
    # than squeeze it; a long one wraps between words beyond the cap.
    full = text_width(header, True, CELL_SIZE)
    least = full if full <= HEADER_CAP else _longest_word(header, True)
    liked = min(full, HEADER_CAP)
    figures = False
    for row in table.rows:
        bold = row.total or row.group
        cell = figure(row.cells[index])  # as it prints, in the reader's way
        if _is_figure(row, index):
            figures = True
            least = max(least, text_width(cell, bold, CELL_SIZE))
        elif cell:
            least = max(least, _longest_word(cell, bold))
            liked = max(liked, min(text_width(cell, bold, CELL_SIZE), TEXT_CAP))
    extra = 2 * CELL_PAD + SLACK
    liked = max(liked, least) + extra
    if figures:
        liked = max(liked, MIN_FIGURE_COLUMN)
    return _Column(least + extra, liked)


def _label_column(table: Table) -> _Column:
    least = liked = 0.0
    for row in table.rows:
        bold = row.total or row.group
        full = text_width(row.label, bold, CELL_SIZE)
        least = max(least, _longest_word(row.label, bold), min(full, LABEL_LEAST))
        liked = max(liked, min(full, LABEL_LIKED))
    extra = 2 * CELL_PAD + SLACK
    return _Column(least + extra, max(liked, least) + extra)


def _fit(label: _Column, columns: list[_Column], width: float) -> list[float] | None:
    """Widths for the label column and these data columns in ``width``, or None if even
    their least widths do not fit. Columns get what they would like while there is room
    (the label column takes the rest); beyond that, each gives up part of its wish."""
    if label.liked + sum(c.liked for c in columns) <= width:
        return [width - sum(c.liked for c in columns)] + [c.liked for c in columns]
    least = label.least + sum(c.least for c in columns)
    if least > width:
        return None
    room, wishes = width - least, label.give + sum(c.give for c in columns)
    share = room / wishes if wishes else 0.0
    data = [c.least + c.give * share for c in columns]
    return [width - sum(data)] + data


def layout(table: Table, width: float = WIDTH) -> list[Part]:
    """How the table prints: one part if its columns fit beside the labels, otherwise
    the fewest parts (columns shared out evenly, in order, each repeating the labels)
    that do. No figure is ever narrower than its column."""
    data = [_data_column(table, i) for i in range(len(table.columns))]
    label = _label_column(table)
    count = len(data)
    for parts in range(1, count + 1):
        size = -(-count // parts)
        chunks = [list(range(i, min(i + size, count))) for i in range(0, count, size)]
        fitted = [_fit(label, [data[i] for i in chunk], width) for chunk in chunks]
        if all(f is not None for f in fitted):
            return [Part(c, f) for c, f in zip(chunks, fitted, strict=True)]
    # Not even one column fits beside the labels (never in practice): print at least widths.
    return [Part([i], [label.least, data[i].least]) for i in range(count)] or [Part([], [width])]


def _grid(rows: list, widths: list[float], styles: list, repeat: int = 0) -> PdfTable:
    """A reportlab table set in the embedded font (its own default is Helvetica)."""
    grid = PdfTable(rows, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
    grid.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *styles]))
    return grid


def _table_part(table: Table, part: Part, numeric: set[int]) -> PdfTable:
    header = [_p("", "cell")] + [
        _p(table.columns[i], "cell_bold_right" if i in numeric else "cell_bold")
        for i in part.columns
    ]
    data = [header]
    styles = [
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, BRAND),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("VALIGN", (0, 1), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]
    for index, row in enumerate(table.rows, start=1):
        style = "cell_bold" if row.total or row.group else "cell"
        data.append(
            [_p(row.label, style)]
            + [
                _p(figure(row.cells[i]), style + "_right" if i in numeric else style)
                for i in part.columns
            ]
        )
        if row.total:
            styles.append(("LINEABOVE", (0, index), (-1, index), 0.8, colors.black))
        if row.group:
            styles.append(("BACKGROUND", (0, index), (-1, index), LIGHT))
    return _grid(data, part.widths, styles, repeat=1)


def _word(word: str) -> str:
    return word.lower().removesuffix("s")


def with_unit(title: str, unit: str) -> str:
    """The title followed by what its figures count, in brackets, less the words the
    title already says: "Visits", never "Visits (visits)"; "People served
    (unduplicated)", not "(unduplicated people)"."""
    if unit in ("", str(SEE_EACH_ROW)):
        return title
    said = {_word(w) for w in re.findall(r"[\w-]+", title)}
    words = unit.split()
    while words and _word(words[-1].strip(";,")) in said:
        words.pop()
    if not words:
        return title
    shown = " ".join(words)
    return f"{title} ({shown[:1].lower() + shown[1:]})"


def _table(table: Table, lead: list | None = None) -> list:
    """The table's flowables, its heading kept with it (and ``lead``, a section's
    heading and introduction, kept with both)."""
    lead = lead or []
    if table.withheld:
        heading = _p(table.title, "h2")
        withheld = _("Withheld. %(reason)s", reason=table.withheld)
        return [KeepTogether([*lead, heading, _p(withheld, "body")])]
    shown_unit = table.unit not in (table.title, *table.columns)
    title = with_unit(table.title, table.unit) if shown_unit else table.title
    numeric = numeric_columns(table)
    parts: list = []
    for index, part in enumerate(layout(table)):
        if index:
            parts.append(Spacer(1, 8))
        parts.append(_table_part(table, part, numeric))
    if table.note:
        parts.append(_p(table.note, "note"))
    if len(table.rows) < LONG_TABLE:
        return [KeepTogether([*lead, _p(title, "h2"), *parts])]
    # A long table may break across pages: start it only where its heading, header row
    # and a few rows fit, so the heading never stands alone at a page's foot.
    for flowable in lead:
        flowable.keepWithNext = 0
    return [
        CondPageBreak(1.9 * inch + 0.5 * inch * bool(lead)),
        *lead,
        _heading(title, "h2", False),
        *parts,
    ]


# --- charts -------------------------------------------------------------------------------


def _category_label(label: str) -> str:
    """A month's label on two short lines ("Oct" over "26"), readable without tilting."""
    return label.replace(" ", "\n", 1)


def _chart(chart: Chart) -> Drawing:
    width, height = 3.35 * inch, 2.2 * inch
    drawing = Drawing(width, height)
    drawing.initialFontName, drawing.initialFontSize = FONT, 7  # not Helvetica, even unused
    drawing.add(
        String(
            0,
            height - 10,
            printable(with_unit(chart.title, chart.unit)),
            fontName=FONT_BOLD,
            fontSize=8.5,
        )
    )
    values = [v if v is not None else 0 for v in chart.values]
    top = max(values) if values and max(values) > 0 else 1
    step = _nice_step(top)
    ticks = [step * n for n in range(int(top * 1.18 // step) + 2)]
    axis_room = max(pdfmetrics.stringWidth(_axis_label(t), FONT, 7) for t in ticks) + 6
    bars = VerticalBarChart()
    bars.x, bars.y = axis_room, 30
    bars.width, bars.height = width - axis_room - 4, height - 56
    bars.data = [values]
    bars.categoryAxis.categoryNames = [printable(_category_label(label)) for label in chart.labels]
    bars.categoryAxis.labels.fontName = FONT
    bars.categoryAxis.labels.fontSize = 6.5
    bars.categoryAxis.labels.leading = 7.5
    bars.categoryAxis.labels.boxAnchor = "n"
    bars.categoryAxis.labels.dy = -3
    bars.categoryAxis.strokeColor = MUTED
    bars.valueAxis.valueMin = 0
    bars.valueAxis.valueMax = top * 1.18
    bars.valueAxis.valueStep = step
    bars.valueAxis.labels.fontName = FONT
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.labelTextFormat = _axis_label
    bars.valueAxis.strokeColor = MUTED
    bars.valueAxis.visibleGrid = True
    bars.valueAxis.gridStrokeColor = RULE
    bars.valueAxis.gridStrokeWidth = 0.3
    bars.bars[0].fillColor = BAR
    bars.bars[0].strokeColor = None
    bars.barLabelFormat = "values"  # the figure over each bar; a blank month stays blank
    label_size = 6 if len(values) > 8 else 7
    bars.barLabelArray = [_bar_labels(chart.values, bars.width / max(len(values), 1), label_size)]
    bars.barLabels.fontName = FONT
    bars.barLabels.fontSize = label_size
    bars.barLabels.boxAnchor = "s"
    bars.barLabels.nudge = 2
    drawing.add(bars)
    hidden = [chart.labels[i] for i, v in enumerate(chart.values) if v is None]
    if hidden:
        drawing.add(
            String(
                0,
                1,
                printable(_("Left blank (small count): %(months)s", months=", ".join(hidden))),
                fontName=FONT,
                fontSize=6,
                fillColor=MUTED,
            )
        )
    return drawing


def _axis_label(value: float) -> str:
    """A value axis tick as the reader writes it ("1,000" / "1.000")."""
    return printable(number(round(value)))


def _bar_labels(values: list[int | None], slot: float, size: float) -> list[str]:
    """The figure over each bar ("12,345"), shortened ("12.3k") when the full figures
    would run into each other; a blank month stays blank."""
    full = ["" if v is None else printable(number(v)) for v in values]
    if max((pdfmetrics.stringWidth(t, FONT, size) for t in full), default=0) <= slot - 2:
        return full
    return ["" if v is None else _compact(v) for v in values]


def _compact(value: int) -> str:
    """A figure in three significant digits: 1.23k, 45.6k, 1M (with the reader's decimal
    point: 1,23k in Spanish)."""
    scaled, shown = float(value), str(value)
    for suffix in ("", "k", "M"):
        if float(shown) < 1000:
            return shown.replace(".", decimal_symbol()) + suffix
        scaled /= 1000
        shown = f"{scaled:.3g}"
    return shown.replace(".", decimal_symbol()) + "B"


def _nice_step(top: int) -> float:
    raw = top / 4
    magnitude = 10 ** max(len(str(int(raw))) - 1, 0)
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return max(factor * magnitude, 1)
    return magnitude * 10


def _charts(charts: list[Chart]) -> PdfTable:
    pairs = [charts[i : i + 2] for i in range(0, len(charts), 2)]
    return _grid(
        [[_chart(c) for c in pair] + [""] * (2 - len(pair)) for pair in pairs],
        [WIDTH / 2, WIDTH / 2],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
        ],
    )


def _section(section: Section) -> list:
    lead = [_p(section.title, "h1"), _p(section.intro)]
    flow: list = []
    tables = list(section.tables)
    if section.charts:
        flow.append(KeepTogether([*lead, Spacer(1, 4), _charts(section.charts)]))
    elif tables:
        flow += _table(tables.pop(0), lead)
    else:
        flow.append(KeepTogether(lead))
    for table in tables:
        flow += _table(table)
    return flow


# --- the cover and the document -----------------------------------------------------------


def _date_range(document: ReportDocument) -> str | None:
    """The period's first and last days ("October 1 – 31, 2026"), from its months."""
    first = document.parameters.get("first_month") or document.period_key
    last = document.parameters.get("last_month") or document.period_key
    try:
        start = dt.date.fromisoformat(f"{first}-01")
        end_month = dt.date.fromisoformat(f"{last}-01")
    except ValueError:
        return None
    end = end_month.replace(day=calendar.monthrange(end_month.year, end_month.month)[1])
    return day_range(start, end)


def _is_month(document: ReportDocument) -> bool:
    first = document.parameters.get("first_month")
    return first is None or first == document.parameters.get("last_month")


def cover_lines(document: ReportDocument) -> list[tuple[str, str]]:
    """The cover block: what the report is, for whom, when, and whom to ask."""
    period = document.period_label
    days = _date_range(document)
    if days:
        period = _(
            "%(period)s (%(days)s, %(zone)s time)",
            period=period,
            days=days,
            zone=document.time_zone,
        )
    lines = [(_("Program"), document.program_name), (_("Funder"), document.funder_name)]
    if document.grant_number:
        lines.append((_("Grant or contract"), document.grant_number))
    lines.append((_("Reporting period"), period))
    contact = (document.parameters.get("contact") or "").strip()
    if contact:
        lines.append((_("Contact"), contact))
    lines.append((_("Generated"), day(document.generated_on)))
    return lines


def _cover(document: ReportDocument) -> list:
    if _is_month(document):
        addressed = _("Monthly report to %(funder)s", funder=document.funder_name)
    else:
        addressed = _("Report to %(funder)s", funder=document.funder_name)
    # One paragraph a line (label in bold, then the value), so the text reads back in
    # order: "Grant or contract G-42".
    rows = [
        [
            Paragraph(
                f"<b>{_escape(printable(label))}</b> {_escape(printable(value))}", STYLES["cover"]
            )
        ]
        for label, value in cover_lines(document)
    ]
    block = _grid(
        rows,
        [WIDTH],
        [
            ("BACKGROUND", (0, 0), (-1, -1), LIGHT),
            ("LINEBEFORE", (0, 0), (0, -1), 2.5, BRAND),
            ("LEFTPADDING", (0, 0), (-1, -1), 10),
            ("TOPPADDING", (0, 0), (-1, 0), 7),
            ("BOTTOMPADDING", (0, -1), (-1, -1), 7),
            ("TOPPADDING", (0, 1), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -2), 1),
        ],
    )
    return [
        _p(document.program_name, "title"),
        _p(addressed, "subtitle"),
        block,
        Spacer(1, 10),
    ]


def _narrative(document: ReportDocument) -> list:
    """The period's narrative, each part under its heading, a paragraph per line."""
    flow: list = []
    for heading, text in getattr(document, "narrative", None) or []:
        paragraphs = [_p(line) for line in text.splitlines() if line.strip()]
        if paragraphs:
            lead = [] if flow else [_p(_("Narrative"), "h1")]
            flow += [KeepTogether([*lead, _p(heading, "h2"), paragraphs[0]]), *paragraphs[1:]]
    return flow


def metadata(document: ReportDocument) -> dict[str, str]:
    """The PDF's document information (the program is the author), and its language."""
    return {
        "title": document.title(),
        "author": document.program_name,
        "subject": _("De-identified aggregate report, %(period)s", period=document.period_label),
        "creator": "ssp",
        "producer": "ssp",
        "lang": document.language,
    }


def render_pdf(document: ReportDocument) -> bytes:
    """The report as PDF bytes (same document, same bytes), in the document's language."""
    with written_in(document.language):
        return _render_pdf(document)


def _render_pdf(document: ReportDocument) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        invariant=1,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=0.75 * inch,
        bottomMargin=1.05 * inch,
        **metadata(document),
    )
    footer = _footer_text(document)
    header = f"{document.program_name} · {document.period_label}"

    flow: list = _cover(document)
    if document.no_activity:
        flow.append(
            _p(_("No visits were recorded this month. Every figure below is zero."), "notice")
        )
    flow += _table(document.glance)
    flow.append(
        _p(
            _(
                "All figures are aggregates of de-identified records: no name, code or other "
                "identifier of any person is held in this report. Dates are given by month "
                "only."
            )
            + " "
            + document.symbols_note(),
            "note",
        )
    )
    for section in document.sections:
        flow += _section(section)
    flow += _narrative(document)

    appendix = Table(
        "appendix",
        _("Suppression by table"),
        _("Cells"),
        [_("Small counts hidden"), _("Further cells hidden"), _("Withheld")],
        [_appendix_row(t) for t in document.tables()],
    )
    flow += [PageBreak(), _p(_("About this report"), "h1"), _p(_audit_text(document))]
    flow += _table(appendix)
    flow += [KeepTogether([_p(_("Parameters"), "h2"), _parameters(document)])]
    flow.append(
        _p(
            _(
                "The sha256 is computed over the published (suppressed) figures and the "
                "parameters above. Regenerating the report from the same data and parameters "
                "gives the same value, so any figure can be checked against the program's "
                "records."
            ),
            "note",
        )
    )
    if document.trail_head is not None:
        flow.append(_p(str(TRAIL_HEAD_NOTE), "note"))
    template.build(
        flow,
        canvasmaker=lambda *args, **kwargs: _NumberedCanvas(
            *args, footer=footer, header=header, day=document.generated_on, **kwargs
        ),
    )
    return buffer.getvalue()


def _parameters(document: ReportDocument) -> PdfTable:
    items = parameter_lines(document.parameters)
    items.append((str(FIGURES_SHA256), document.figures_sha256()))
    items += document.trail_head_lines()
    hashes = (str(FIGURES_SHA256), str(AUDIT_TRAIL_SHA256))
    keys = max(text_width(key, True, CELL_SIZE) for key, _value in items) + 2 * CELL_PAD + SLACK
    rows = [
        [_p(key, "cell_bold"), _p(value, "hash" if key in hashes else "cell")]
        for key, value in items
    ]
    return _grid(
        rows,
        [keys, WIDTH - keys],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ],
    )


def _appendix_row(table: Table) -> Row:
    if table.withheld:
        return Row(table.title, ["—", "—", _("yes")])
    return Row(
        table.title,
        [str(table.primary_suppressed), str(table.complementary_suppressed), _("no")],
    )


def _audit_text(document: ReportDocument) -> str:
    """How the figures were protected, in words (no timing: the file stays reproducible)."""
    t = document.threshold
    text = _(
        "Every figure comes from one release, audited as a whole before anything was "
        "written: counts of people and of events from 1 to %(most)s are shown as "
        "<%(threshold)s; further cells (*) are hidden, in a fixed order that does not depend "
        "on their values, until an exact integer-programming audit finds that no small count "
        "can be narrowed below half of 1 to %(most)s by a reader who knows this method and "
        "holds every report archived before it. A table that cannot be protected that way is "
        "withheld with its reason. Months already reported are reprinted in the trends as "
        "first published, so a later report never shows a small correction to them.",
        most=t - 1,
        threshold=t,
    )
    withheld = [t.title for t in document.tables() if t.withheld]
    if withheld:
        text += " " + _("Withheld in this report: %(tables)s.", tables="; ".join(withheld))
    return text
