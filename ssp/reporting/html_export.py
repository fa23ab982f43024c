"""The report as one self-contained, accessible HTML file: the screen-reader twin of the PDF.

reportlab cannot tag a PDF for assistive technology, so the same release is offered as
an HTML5 document that needs nothing else: one inline ``<style>``, no script, no image,
no font, no link to anything outside the file (only ``#`` links inside it). Tables have
captions and header cells with scopes; every symbol a cell can print ("<11", "*", "†",
"—") carries its meaning in words for a screen reader; charts are data tables (with
decorative CSS bars hidden from assistive technology); the cover, the narrative, the
symbols note, the audit's counts, the figures' sha256 and the audit trail's head are
all there.

Like the PDF and CSV writers it reads only the ``ReportDocument`` (already suppressed);
it uses its own Jinja environment (autoescaped, strict) rather than the app's, so the
file cannot pick up anything of a request: no CSRF token, no URL, no user. The same
document gives the same text. It is written in the document's language (``<html lang>``,
its fixed words, numbers and days).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ssp import resource_dir
from ssp.i18n import _, install_in_templates
from ssp.reporting.document import (
    AUDIT_TRAIL_SHA256,
    FIGURES_SHA256,
    SEE_EACH_ROW,
    TRAIL_HEAD_NOTE,
    Chart,
    ReportDocument,
    Row,
    Table,
    parameter_lines,
    status_of,
)
from ssp.reporting.periods import Month
from ssp.reporting.wording import day, figure, number, parse_month_short, written_in

TEMPLATE = "reporting/standalone.html"

# Cells that hold a figure (or a symbol standing for one) align right, as in the PDF.
NUMBER = re.compile(r"^[<*†]?[\d,.]*%?$|^[*†—]$")


@dataclass(frozen=True)
class Cell:
    """One printed cell: the text as printed, and what a screen reader says instead of
    a symbol (None: the text says it)."""

    text: str
    spoken: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class HtmlRow:
    label: str
    cells: list[Cell]
    total: bool
    group: bool


@dataclass(frozen=True)
class HtmlTable:
    """A table ready to print: ``id`` for its heading, ``caption`` its title and unit."""

    id: str
    title: str
    caption: str
    columns: list[Cell]
    numeric: list[bool]
    rows: list[HtmlRow]
    note: str | None
    withheld: str | None
    kind: str = "figures"  # the table's class: "figures" (the report's) or "appendix"


@dataclass(frozen=True)
class Bar:
    label: Cell
    value: Cell
    width: int | None  # percent of the chart's largest value; None: not shown


@dataclass(frozen=True)
class HtmlChart:
    id: str
    title: str
    caption: str
    unit: str
    bars: list[Bar]


def spoken(text: str, status: str, threshold: int) -> str | None:
    """What a cell means in words, where its printed text is a symbol."""
    if status == "small" or (status != "text" and text.startswith("<")):
        return _("fewer than %(threshold)s", threshold=text[1:] or threshold)
    if status == "hidden" or text == "*":
        return _("hidden to protect a small count")
    if status == "corrected" or text == "†":
        return _(
            "changed by fewer than %(threshold)s since an earlier version", threshold=threshold
        )
    if text == "—":
        return _("not applicable")
    return None


def _month_in_words(label: str) -> str | None:
    found = parse_month_short(label)
    return None if found is None else Month(*found).label


def month_words(label: str) -> str | None:
    """A short month label ("Sep 26", "Jul 26 to Sep 26") in words ("September 2026"),
    so a screen reader does not read it as a day; None when it is not one."""
    single = _month_in_words(label)
    if single is not None:
        return single
    # A run of months, joined as the periods join them ("%(first)s to %(last)s").
    joined = _("%(first)s to %(last)s", first="\x00", last="\x01")
    head, _first, rest = joined.partition("\x00")
    middle, _last, tail = rest.partition("\x01")
    match = re.fullmatch(f"{re.escape(head)}(.+?){re.escape(middle)}(.+){re.escape(tail)}", label)
    if not middle or match is None:
        return None
    first, last = (_month_in_words(part) for part in match.groups())
    if first is None or last is None:
        return None
    return _("%(first)s to %(last)s", first=first, last=last)


def _label(text: str) -> Cell:
    return Cell(text, month_words(text))


class _Ids:
    """Unique, plain ``id`` values for headings (keys come from the builder, but an id is
    never trusted to be unique or clean)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, prefix: str, key: str) -> str:
        base = f"{prefix}-" + (re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-") or "x")
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}-{n}", n + 1
        self.used.add(candidate)
        return candidate


def _caption(title: str, unit: str, columns: list[str]) -> str:
    shown_unit = unit and unit not in (str(SEE_EACH_ROW), title, *columns)
    return f"{title} ({unit})" if shown_unit else title


def _row(row: Row, numeric: list[bool], threshold: int) -> HtmlRow:
    statuses = row.statuses or [status_of(text) for text in row.cells]
    cells = [
        Cell(figure(text), spoken(text, status, threshold), is_number)
        for text, status, is_number in zip(row.cells, statuses, numeric, strict=False)
    ]
    return HtmlRow(row.label, cells, row.total, row.group)


def _table(table: Table, ids: _Ids, threshold: int) -> HtmlTable:
    numeric = [
        all(NUMBER.match(row.cells[i]) for row in table.rows if i < len(row.cells) and row.cells[i])
        for i in range(len(table.columns))
    ]
    return HtmlTable(
        id=ids("table", table.key),
        title=table.title,
        caption=_caption(table.title, table.unit, table.columns),
        columns=[_label(c) for c in table.columns],
        numeric=numeric,
        rows=[] if table.withheld else [_row(r, numeric, threshold) for r in table.rows],
        note=table.note,
        withheld=table.withheld,
    )


def _chart(chart: Chart, ids: _Ids) -> HtmlChart:
    top = max((v for v in chart.values if v is not None), default=0)
    bars = []
    for label, value in zip(chart.labels, chart.values, strict=False):
        if value is None:
            bars.append(Bar(_label(label), Cell(_("left blank (small count)")), None))
        else:
            width = round(100 * value / top) if top > 0 else 0
            bars.append(Bar(_label(label), Cell(number(value), None, True), width))
    unit = chart.unit.lower()
    caption = chart.title if unit == chart.title.lower() else f"{chart.title} ({unit})"
    return HtmlChart(
        id=ids("chart", chart.key),
        title=chart.title,
        caption=_("%(chart)s, by month", chart=caption),
        unit=chart.unit,
        bars=bars,
    )


def _suppression_rows(document: ReportDocument) -> list[HtmlRow]:
    rows = []
    for table in document.tables():
        if table.withheld:
            texts = ["—", "—", _("yes")]
        else:
            texts = [str(table.primary_suppressed), str(table.complementary_suppressed), _("no")]
        cells = [
            Cell(figure(text), spoken(text, "text", document.threshold), numeric=i < 2)
            for i, text in enumerate(texts)
        ]
        rows.append(HtmlRow(table.title, cells, False, False))
    return rows


def _audit_counts(document: ReportDocument) -> list[tuple[str, str]]:
    """The audit's counts as (what, how many); nothing that varies between runs (no
    solver time), so the file stays reproducible."""
    audit = document.audit
    if audit is None:
        return []
    t = document.threshold
    counts = [
        (_("Figures audited in this release"), audit.cells),
        (_("Small counts shown as <%(threshold)s", threshold=t), audit.small),
        (_("Further cells hidden (*)"), audit.hidden),
        (_("Tables withheld"), len(audit.withheld)),
    ]
    frozen = getattr(audit, "frozen", 0)
    if frozen:
        counts.append((_("Months reprinted as first published"), frozen))
    overlapping = getattr(audit, "overlapping_reports", None)
    if overlapping is not None:
        counts.append((_("Archived reports audited with this one"), len(overlapping)))
    return [(label, number(value)) for label, value in counts]


def context(document: ReportDocument) -> dict:
    """What the template prints, worked out from the document alone."""
    ids = _Ids()
    t = document.threshold
    sections = []
    for section in document.sections:
        sections.append(
            {
                "id": ids("section", section.key),
                "title": section.title,
                "intro": section.intro,
                "charts": [_chart(c, ids) for c in section.charts],
                "tables": [_table(table, ids, t) for table in section.tables],
            }
        )
    widths = sorted(
        {
            bar.width
            for section in sections
            for chart in section["charts"]
            for bar in chart.bars
            if bar.width is not None
        }
    )
    generated = document.generated_on
    contact = document.parameters.get("contact") or ""
    audit = document.audit
    return {
        "title": document.title(),
        "language": document.language,
        "document": document,
        "generated": day(generated),
        "generated_iso": generated.isoformat(),
        "contact": contact,
        "symbols_note": document.symbols_note(),
        "glance": _table(document.glance, ids, t),
        "narrative": list(document.narrative),
        "narrative_id": ids("section", "narrative"),
        "sections": sections,
        "appendix_id": ids("section", "about"),
        "audit_counts": _audit_counts(document),
        "withheld": (
            list(audit.withheld)
            if audit is not None
            else [(table.title, table.withheld) for table in document.tables() if table.withheld]
        ),
        "suppression": HtmlTable(
            id=ids("table", "suppression"),
            title=_("Suppression by table"),
            caption=_("Suppression by table (cells)"),
            columns=[
                Cell(c)
                for c in (_("Small counts hidden"), _("Further cells hidden"), _("Withheld"))
            ],
            numeric=[True, True, False],
            rows=_suppression_rows(document),
            note=None,
            withheld=None,
            kind="appendix",
        ),
        "parameters": parameter_lines(document.parameters),
        "figures_sha256_name": str(FIGURES_SHA256),
        "figures_sha256": document.figures_sha256(),
        "trail_head": document.trail_head_lines(),
        "trail_head_hash_name": str(AUDIT_TRAIL_SHA256),
        "trail_head_note": str(TRAIL_HEAD_NOTE),
        "bar_widths": widths,
    }


@cache
def _environment() -> Environment:
    """A Jinja environment of our own: autoescaped always, strict about missing names,
    and without the app's globals (``url_for``, ``request``, ``csrf_token``); its words
    go through the same catalogue as the app's (in the language being written)."""
    environment = Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    install_in_templates(environment)
    return environment


def render_html(document: ReportDocument) -> str:
    """The report as one self-contained HTML5 document (same document, same text), in
    the document's language."""
    with written_in(document.language):
        return _environment().get_template(TEMPLATE).render(context(document))
