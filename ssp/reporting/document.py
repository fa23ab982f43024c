"""The report as plain data: already-suppressed tables and chart series, ready to print.

The PDF and CSV writers read only these dataclasses; they never see the database, a
participant or a raw small count. Nothing here reads the database.

A document is written in one language (``language``): its titles, labels and notes are
words of that language. Its cells keep figures as the archive prints them ("1,234",
"45%", "<11") in every language; the writers for people localize them when they print
(:func:`ssp.reporting.wording.figure`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ssp.i18n import _, _l
from ssp.reporting.wording import LabelMap

TRAIL_HEAD_NOTE = _l(
    "The audit trail head is the newest event in the program's audit trail when this "
    "report was made. Each event's hash covers every event before it, so the program can "
    "show that its trail up to that event has not been changed since. It moves whenever "
    "anything is recorded, so the same report made again later prints a later head."
)
# Words the writers recognise in a table (in the document's language: compare with str()).
SEE_EACH_ROW = _l("See each row")  # a table's unit when each row says what it counts
COUNTED_AS = _l("Counted as")  # the column that says it
FIGURES_SHA256 = _l("Figures sha256")
AUDIT_TRAIL_SHA256 = _l("Audit trail sha256")
# The parameters' names as the appendix prints them (the CSV keeps the keys).
PARAMETER_NAMES = LabelMap(
    {
        "profile": _l("Profile"),
        "funder": _l("Funder"),
        "grant_number": _l("Grant number"),
        "period": _l("Period"),
        "first_month": _l("First month"),
        "last_month": _l("Last month"),
        "fiscal_year_start": _l("Fiscal year start"),
        "contact": _l("Contact"),
        "time_zone": _l("Time zone"),
        "suppression_threshold": _l("Suppression threshold"),
        "sections": _l("Sections"),
        "language": _l("Language"),
        "generated_on": _l("Generated on"),
        "software": _l("Software"),
    }
)


def parameter_lines(parameters: dict[str, str]) -> list[tuple[str, str]]:
    """The parameters as the appendix prints them: (name in words, value)."""
    from ssp.i18n import language_name

    lines = []
    for key, value in parameters.items():
        name = PARAMETER_NAMES.get(key) or key.replace("_", " ").capitalize()
        if key == "language" and value:
            value = f"{language_name(value)} ({value})"
        elif key == "sections" and value:
            from ssp.reporting.funders import SECTIONS

            value = ", ".join(str(SECTIONS.get(part) or part) for part in value.split(", "))
        lines.append((name, value))
    return lines


def status_of(text: str) -> str:
    """What a printed figure is, read from how it prints: "small" (<T), "hidden" (*),
    "corrected" (†), "shown" (a number), or "text" ("—", "none distributed", a unit).
    A month reprinted as first published has the status it had then."""
    if text.startswith("<"):
        return "small"
    if text == "*":
        return "hidden"
    if text == "†":
        return "corrected"
    if text[:1].isdigit():
        return "shown"
    return "text"


@dataclass
class Row:
    """One printed row: a label and its cells as text (suppressed cells already hidden)."""

    label: str
    cells: list[str]
    total: bool = False
    group: bool = False  # a category heading row inside a longer table
    # Per cell: "shown", "small" (<T), "hidden" (*), "corrected" (†), or "text" (a word,
    # a unit, a blank: not a figure).
    statuses: list[str] = field(default_factory=list)
    # Per cell: "count", "percent" or "per_100" (what kind of number it is, whatever
    # language the labels are in); empty: read from the labels (a hand-made row).
    measures: list[str] = field(default_factory=list)


@dataclass
class Table:
    """A printed table. ``unit`` says what every number in it counts."""

    key: str
    title: str
    unit: str
    columns: list[str]
    rows: list[Row]
    note: str | None = None
    primary_suppressed: int = 0
    complementary_suppressed: int = 0
    withheld: str | None = None  # why the whole table is left out


@dataclass
class Chart:
    """A monthly series drawn as bars; None marks a suppressed month."""

    key: str
    title: str
    unit: str
    labels: list[str]
    values: list[int | None]


@dataclass
class Section:
    """A titled part of the report."""

    key: str
    title: str
    intro: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class ReportDocument:
    """Everything the PDF and the CSV print."""

    program_name: str
    funder_name: str
    grant_number: str | None
    profile_name: str
    period_key: str
    period_label: str
    generated_on: dt.date
    threshold: int
    time_zone: str
    glance: Table
    sections: list[Section]
    no_activity: bool
    parameters: dict[str, str] = field(default_factory=dict)
    narrative: list[tuple[str, str]] = field(default_factory=list)  # (heading, text)
    audit: Any = None  # the disclosure audit's record (ssp.reporting.disclosure.AuditResult)
    release_snapshot: dict[str, Any] | None = None  # what the archive keeps of the release
    # The audit trail's newest event before this report (ssp.audit.ChainHead: event_id,
    # hash), printed in the appendix; not part of figures_sha256, which stays the same
    # for the same figures whatever was audited since. None: not printed.
    trail_head: Any = None
    # The language the words are written in ("en", "es"); the writers print in it.
    language: str = "en"

    def title(self) -> str:
        """The report's title, as the PDF's metadata and the HTML twin's <title> give it."""
        return _(
            "%(program)s: %(period)s report to %(funder)s",
            program=self.program_name,
            period=self.period_label,
            funder=self.funder_name,
        )

    def symbols_note(self) -> str:
        """What "<T", "*" and (where printed) "†" mean, in one sentence each."""
        t = self.threshold
        text = _(
            "Counts from 1 to %(most)s are shown as <%(threshold)s; "
            "* marks a cell hidden so that a small count cannot be worked out.",
            most=t - 1,
            threshold=t,
        )
        if any("†" in cell for table in self.tables() for row in table.rows for cell in row.cells):
            text += " " + _(
                "† marks a figure that changed by fewer than %(threshold)s since an earlier "
                "version of this report: the earlier version's figure stands, and the change "
                "is too small to show separately.",
                threshold=t,
            )
        return text

    def trail_head_lines(self) -> list[tuple[str, str]]:
        """The appendix's lines for the audit trail's head, as (label, text): the event
        and its sha256 (labelled :data:`AUDIT_TRAIL_SHA256`); none when the head was not
        read (a hand-made document)."""
        head = self.trail_head
        if head is None:
            return []
        if head.event_id is None:
            return [(_("Audit trail head"), _("no event recorded yet"))]
        return [
            (_("Audit trail head"), _("event #%(event)s", event=head.event_id)),
            (str(AUDIT_TRAIL_SHA256), head.hash),
        ]

    def tables(self) -> list[Table]:
        """Every table, the summary first, in print order."""
        return [self.glance] + [t for s in self.sections for t in s.tables]

    def figures_sha256(self) -> str:
        """sha256 of the published figures and parameters (not of raw counts: a hash of
        the small numbers could be reversed by trying the few possible values)."""
        published = {
            "parameters": self.parameters,
            "narrative": self.narrative,
            "tables": [asdict(t) for t in self.tables()],
            "charts": [asdict(c) for s in self.sections for c in s.charts],
        }
        text = json.dumps(published, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
