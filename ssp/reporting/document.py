"""The report as plain data: already-suppressed tables and chart series, ready to print.

The PDF and CSV writers read only these dataclasses; they never see the database, a
participant or a raw small count. Nothing here imports Flask or SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

TRAIL_HEAD_NOTE = (
    "The audit trail head is the newest event in the program's audit trail when this "
    "report was made. Each event's hash covers every event before it, so the program can "
    "show that its trail up to that event has not been changed since. It moves whenever "
    "anything is recorded, so the same report made again later prints a later head."
)


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

    def symbols_note(self) -> str:
        """What "<T", "*" and (where printed) "†" mean, in one sentence each."""
        t = self.threshold
        text = (
            f"Counts from 1 to {t - 1} are shown as <{t}; "
            "* marks a cell hidden so that a small count cannot be worked out."
        )
        if any("†" in cell for table in self.tables() for row in table.rows for cell in row.cells):
            text += (
                f" † marks a figure that changed by fewer than {t} since an earlier version "
                "of this report: the earlier version's figure stands, and the change is too "
                "small to show separately."
            )
        return text

    def trail_head_lines(self) -> list[tuple[str, str]]:
        """The appendix's lines for the audit trail's head, as (label, text): the event
        and its sha256; none when the head was not read (a hand-made document)."""
        head = self.trail_head
        if head is None:
            return []
        if head.event_id is None:
            return [("Audit trail head", "no event recorded yet")]
        return [("Audit trail head", f"event #{head.event_id}"), ("Audit trail sha256", head.hash)]

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
