"""The report's tables as CSV, suppressed exactly as in the PDF, for funders who load numbers.

One row per printed cell (long format): section, table, what it counts, row, column, value.
"""

from __future__ import annotations

import csv
import io

from ssp.reporting.document import ReportDocument

COLUMNS = ["period", "section", "table", "counted_as", "row", "column", "value"]


def render_csv(document: ReportDocument) -> str:
    """The document's tables and chart series as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    sections = [("summary", document.glance, None)] + [
        (section.key, table, section) for section in document.sections for table in section.tables
    ]
    for section_key, table, _ in sections:
        if table.withheld:
            writer.writerow(
                [document.period_key, section_key, table.title, table.unit, "", "", "withheld"]
            )
        for row in table.rows:
            for column, value in zip(table.columns, row.cells, strict=True):
                if value == "":
                    continue
                writer.writerow(
                    [
                        document.period_key,
                        section_key,
                        table.title,
                        table.unit,
                        row.label,
                        column,
                        value,
                    ]
                )
    writer.writerow([])
    writer.writerow(["# " + document.symbols_note()])
    writer.writerow(["# Figures sha256", document.figures_sha256()])
    return out.getvalue()
