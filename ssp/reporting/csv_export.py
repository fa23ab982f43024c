"""The report's figures as a CSV a program or health department can load, suppressed
exactly as in the PDF.

UTF-8 (no byte-order mark), ``\\r\\n`` line ends as RFC 4180 has them (so a carriage
return inside a cell is quoted too), quoted only where needed. The first line is the
header and every other line has the same columns, so ``csv.DictReader``, pandas, R or a
database ``COPY`` load it as it is; there are no comment lines and no blank lines.

Columns::

    period, section, table, row, column, value, status, measure, row_type, counted_as, note

- ``period``: the period key (``2026-10``, ``2026-Q3``, ``FY2027``...).
- ``section``, ``table``, ``row``, ``column``: as printed, in the report's language (the
  ``language`` metadata line); the summary table's section is "At a glance" (in Spanish
  "Resumen"). Everything a program reads to load the file stays the same in every
  language: the header, the ``#metadata`` section and its names, ``value`` (a bare
  integer), and the codes of ``status``, ``measure`` and ``row_type``.
- One line per printed figure. Words printed in a table (the "Counted as" column, "—" for
  a rate with nothing to divide by, "none distributed") are not figures and get no line;
  a row's "Counted as" word goes into its figures' ``counted_as``. Chart bars repeat the
  "Monthly figures" table and get no lines of their own.
- ``value``: a bare integer (no thousands separators, no "%") when ``status`` is
  ``shown``; empty otherwise.
- ``status``, one of:

  - ``shown``: the figure as printed;
  - ``small``: printed as ``<T``, a count from 1 to T−1 (T is the ``suppression_threshold``
    metadata line);
  - ``hidden``: printed as ``*``, hidden so that a small count cannot be worked out;
  - ``corrected``: printed as ``†``, a figure that changed by fewer than T since an
    earlier version of this report; the earlier version's figure stands;
  - ``withheld``: the whole table is left out. The table gets one line with ``row``,
    ``column`` and ``value`` empty and the reason in ``note``.

- ``measure``: ``count``; ``percent`` (a share, printed "45%": ``value`` is 45);
  ``per_100`` (printed "50" in a "per 100" row: ``value`` is 50). Rates are worked out
  from two shown counts, so a rate is never shown beside a hidden part. Add up only
  ``count`` lines.
- ``row_type``: ``detail``, ``subtotal`` (a category row that adds up the rows under it)
  or ``total``; adding ``detail`` lines and a ``total`` line counts the same thing twice.
- ``counted_as``: what the figure counts (visits, unduplicated people, kits...): the row's
  "Counted as" word where the table has one, else the table's unit.
- ``note``: why a table is withheld; the text of a metadata line.

Metadata (program, funder, profile, period label, parameters including
``suppression_threshold``, ``language`` (the code of the language the words are in:
``en``, ``es``) and ``generated_on``, the symbols note, the figures sha256,
and the audit trail's head: ``audit_trail_head_event``, the newest event's id, empty when
nothing was recorded yet, and ``audit_trail_head_sha256``, its hash) follow the header
as ordinary lines with ``section`` ``#metadata``, the name in ``row``, the text in
``note``, and ``value`` and ``status`` empty: a loader keeps them or drops them with
``section <> '#metadata'``. Nothing in the file depends on the clock beyond the
document's generation date, so the same data on the same day gives the same bytes as
long as nothing was audited in between (the head moves with every event recorded).

Every text cell (period, section, table, row and column labels, counted_as, note) goes
through :func:`ssp.csvsafe.spreadsheet_safe`, like the ledger and audit CSVs: a site
named ``=HYPERLINK(...)`` arrives as the text ``'=HYPERLINK(...)``, never as a formula.
"""

from __future__ import annotations

import csv
import io
import re

from ssp.csvsafe import spreadsheet_safe
from ssp.i18n import _l
from ssp.reporting.document import COUNTED_AS, ReportDocument, Row, Table, status_of
from ssp.reporting.wording import written_in

COLUMNS = [
    "period",
    "section",
    "table",
    "row",
    "column",
    "value",
    "status",
    "measure",
    "row_type",
    "counted_as",
    "note",
]
FIGURE_STATUSES = ("shown", "small", "hidden", "corrected", "withheld")
MEASURES = ("count", "percent", "per_100")
GLANCE_SECTION = _l("At a glance")  # a label for people: in the report's language
METADATA_SECTION = "#metadata"  # a code: the same in every language

_INTEGER = re.compile(r"\d+")


def render_csv(document: ReportDocument) -> str:
    """The document's figures as CSV text (see the module docstring for the format), its
    words in the document's language."""
    with written_in(document.language):
        return _render_csv(document)


def _render_csv(document: ReportDocument) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)

    def line(section, table, row, column, value, status, measure, row_type, counted_as, note):
        cells = [document.period_key, section, table, row, column]
        cells = [spreadsheet_safe(c) for c in cells]
        tail = [spreadsheet_safe(counted_as), spreadsheet_safe(note)]
        writer.writerow([*cells, value, status, measure, row_type, *tail])

    for name, text in _metadata(document):
        line(METADATA_SECTION, "", name, "", "", "", "", "", "", text)
    tables = [(str(GLANCE_SECTION), document.glance)] + [
        (section.title, table) for section in document.sections for table in section.tables
    ]
    for section_title, table in tables:
        if table.withheld:
            line(
                section_title,
                table.title,
                "",
                "",
                "",
                "withheld",
                "",
                "",
                table.unit,
                table.withheld,
            )
        for row in table.rows:
            for figure in _figures(table, row):
                line(section_title, table.title, row.label, *figure, "")
    return out.getvalue()


def _metadata(document: ReportDocument) -> list[tuple[str, str]]:
    """What a loader needs to read the figures, as (name, text) pairs in a fixed order."""
    parameters = {
        "profile": document.profile_name,
        "funder": document.funder_name,
        "grant_number": document.grant_number or "",
        "period": document.period_key,
        "time_zone": document.time_zone,
        "suppression_threshold": str(document.threshold),
        "language": document.language,
        "generated_on": document.generated_on.isoformat(),
        **{key: str(value) for key, value in document.parameters.items()},
    }
    return [
        ("program", document.program_name),
        ("period_label", document.period_label),
        *parameters.items(),
        ("symbols", document.symbols_note()),
        ("figures_sha256", document.figures_sha256()),
        *_trail_head(document),
    ]


def _trail_head(document: ReportDocument) -> list[tuple[str, str]]:
    """The audit trail's head as metadata lines (none when it was not read)."""
    head = document.trail_head
    if head is None:
        return []
    if head.event_id is None:
        return [("audit_trail_head_event", "")]
    return [("audit_trail_head_event", str(head.event_id)), ("audit_trail_head_sha256", head.hash)]


def _figures(table: Table, row: Row) -> list[tuple]:
    """(column, value, status, measure, row_type, counted_as) for each figure in a row."""
    statuses = row.statuses or [status_of(text) for text in row.cells]
    counted_as = table.unit
    if str(COUNTED_AS) in table.columns:
        at = table.columns.index(str(COUNTED_AS))
        if statuses[at] == "text" and row.cells[at].strip():
            counted_as = row.cells[at]
    row_type = "total" if row.total else "subtotal" if row.group else "detail"
    figures = []
    measures = row.measures or [None] * len(row.cells)
    for column, text, status, known in zip(
        table.columns, row.cells, statuses, measures, strict=True
    ):
        if status == "text":
            continue  # a word, a unit, a blank or a rate with nothing to divide by
        if status not in FIGURE_STATUSES or status == "withheld":
            raise ValueError(f"{table.title}: {row.label}: {column}: unknown status {status!r}")
        value = _integer(text, table, row, column) if status == "shown" else ""
        measure = known or _measure(row.label, column, text)
        figures.append((column, value, status, measure, row_type, counted_as))
    return figures


def _integer(text: str, table: Table, row: Row, column: str) -> int:
    """A shown figure as a bare integer: "1,234" is 1234, "45%" is 45."""
    bare = text.replace(",", "").removesuffix("%")
    if not _INTEGER.fullmatch(bare):
        raise ValueError(f"{table.title}: {row.label}: {column}: {text!r} is not a whole number")
    return int(bare)


def _measure(label: str, column: str, text: str) -> str:
    """What kind of number a cell is, from how it and its row and column are printed (a
    hidden rate prints "*" like a hidden count, so the labels decide), for a row that
    does not say (a hand-made one: the builder's rows carry their measures, whatever the
    language of their labels)."""
    names = f"{label} {column}".lower()
    if "per 100" in names:
        return "per_100"
    if text.endswith("%") or "%" in column or column.lower().split()[-1:] == ["rate"]:
        return "percent"
    return "count"
