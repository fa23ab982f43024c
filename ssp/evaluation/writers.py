"""The files of an evaluator export: the data (CSV or Parquet), its cover note (README.md
for people, metadata.json for programs) and the zip that holds the three.

The CSV is UTF-8 without a byte-order mark, ``\\r\\n`` line ends, one header line, and
every text cell passed through :func:`ssp.csvsafe.spreadsheet_safe`, so a site named
``=cmd`` arrives as the text ``'=cmd``, never as a formula. Counts are bare integers; a
row of an anonymous visit has an empty ``person``. The Parquet file has the same columns:
text as strings (``person`` null for an anonymous visit), counts as 64-bit integers. The
zip's entries carry the export's date, not its time.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ssp.csvsafe import spreadsheet_safe
from ssp.i18n import _, format_day, format_number

Cell = str | int | None


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """The rows as CSV (see the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else spreadsheet_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def parquet_bytes(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], integer_columns: set[str]
) -> bytes:
    """The rows as a Parquet file: ``integer_columns`` as int64, the others as strings."""
    import pyarrow as pa  # here, not at the top: `ssp --help` need not load it
    import pyarrow.parquet as pq

    columns = {
        name: pa.array(
            [row[index] for row in rows],
            type=pa.int64() if name in integer_columns else pa.string(),
        )
        for index, name in enumerate(header)
    }
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


@dataclass(frozen=True)
class CoverNote:
    """What the cover note says: the request, the method's figures, the columns."""

    program: str
    generated_on: str
    period: str
    first_day: str
    last_day: str
    time_zone: str
    unit: str
    asked: list[tuple[str, str]]  # (option, as chosen)
    k: int
    allowance_percent: int
    rows_read: int
    rows: int
    people: int
    anonymous_rows: int  # rows of anonymous visits in the file
    rows_coarsened: int
    rows_left_out: int
    anonymous_rows_left_out: int  # of the rows left out, those of anonymous visits
    steps: list[str]
    columns: list[tuple[str, str]]  # (name, meaning)
    data_file: str
    data_sha256: str

    def as_json(self) -> bytes:
        """metadata.json: the same facts, for a program."""
        facts = asdict(self)
        facts["asked"] = dict(self.asked)
        facts["columns"] = [{"name": n, "meaning": m} for n, m in self.columns]
        facts["method"] = _("k-anonymity: global recoding in a fixed order, then local suppression")
        return (json.dumps(facts, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def as_markdown(self) -> bytes:
        """README.md: the same facts, for a person, in the language spoken now."""
        k, n = self.k, format_number
        left_out = _(
            "- rows left out (still in a group smaller than %(k)s): %(rows)s",
            k=k,
            rows=n(self.rows_left_out),
        )
        if self.anonymous_rows_left_out:
            left_out = _(
                "- rows left out (still in a group smaller than %(k)s): %(rows)s (%(anonymous)s "
                "of them anonymous visits)",
                k=k,
                rows=n(self.rows_left_out),
                anonymous=n(self.anonymous_rows_left_out),
            )
        in_file = _(
            "- rows in this file: %(rows)s (%(people)s people)",
            rows=n(self.rows),
            people=n(self.people),
        )
        if self.anonymous_rows:
            in_file = _(
                "- rows in this file: %(rows)s (%(people)s people; %(anonymous)s anonymous visits)",
                rows=n(self.rows),
                people=n(self.people),
                anonymous=n(self.anonymous_rows),
            )
        lines = [
            "# " + _("Evaluator export: %(period)s", period=self.period),
            "",
            _(
                "From %(program)s, made on %(made)s. Visits from %(first)s to %(last)s (both "
                "included), days as in the time zone %(zone)s. %(unit)s. Voided visits are left "
                "out.",
                program=self.program,
                made=_day(self.generated_on),
                first=_day(self.first_day),
                last=_day(self.last_day),
                zone=self.time_zone,
                unit=self.unit,
            ),
            "",
            _(
                "Nobody is named in this file. `person` is a random number made for this export "
                "only: the same person has the same number on every row of this file, and a "
                "different one in any other export, so two exports cannot be joined. No code, "
                "name, note, staff name or other typed text is included."
            ),
            "",
            "## " + _("What was asked"),
            "",
            *[f"- {option}: {value}" for option, value in self.asked],
            "",
            "## " + _("Small groups (k-anonymity)"),
            "",
            _(
                "- k (smallest group): **%(k)s**: every combination of values in the file is "
                "shared by at least %(k)s different people among the rows with a `person`, and "
                "by at least %(k)s rows among the anonymous visits (empty `person`)",
                k=k,
            ),
            _("- rows before: %(rows)s", rows=n(self.rows_read)),
            in_file,
            _(
                "- rows coarsened (kept, with a value coarser than asked): %(rows)s",
                rows=n(self.rows_coarsened),
            ),
            left_out,
            "",
            _(
                "Method: each row's quasi-identifiers (the period, the site or site kind, the "
                "service model, the age band, gender, race or ethnicity, primary substance and "
                "injects, whichever are included) form its group, and since an empty `person` "
                "shows that a row is an anonymous visit, the rows with a `person` and the "
                "anonymous rows of one combination are two separate groups. A group of rows "
                "with a `person` must hold at least %(k)s different people (so one person's "
                "many visits are a group of one, and anonymous visits never make up the "
                "number); a group of anonymous visits must hold at least %(k)s rows. While more "
                "rows than %(percent)s%% of all rows (rounded down) are in smaller groups, one "
                "column is coarsened for every row, in this fixed order, skipping columns not "
                "included and levels already asked for: dates from weeks to months; sites to "
                "their kinds; age bands widened (under 35, 35 to 54, 55 and over); then primary "
                "substance, race or ethnicity, gender, injects and service model each replaced "
                "by “%(suppressed)s”; then the age band; then the site kind. Rows still in "
                "smaller groups are then left out. So a column never mixes detailed and "
                "coarsened values.",
                k=k,
                percent=self.allowance_percent,
                suppressed=_("Suppressed"),  # the value, as the file writes it
            ),
            "",
            _("Steps taken for this file:"),
            "",
            *(
                [f"{number}. {step}" for number, step in enumerate(self.steps, start=1)]
                or ["- " + _("none: the groups were large enough as asked")]
            ),
            "",
            "## " + _("Columns"),
            "",
            "| " + _("column") + " | " + _("meaning") + " |",
            "|---|---|",
            *[f"| `{name}` | {meaning} |" for name, meaning in self.columns],
            "",
            "## " + _("The file"),
            "",
            f"`{self.data_file}`, sha256 `{self.data_sha256}`.",
            "",
            _(
                "Please keep the file as the data-sharing agreement says, do not try to find "
                "out who anyone is, and do not link it with other data about people."
            ),
            "",
        ]
        return "\n".join(lines).encode("utf-8")


def _day(iso: str) -> str:
    """A day of the note (kept as YYYY-MM-DD) as the reader writes it."""
    return format_day(dt.date.fromisoformat(iso))


def package(data_file: str, data: bytes, note: CoverNote, day: dt.date) -> bytes:
    """The zip: the data file, README.md and metadata.json."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            ("README.md", note.as_markdown()),
            ("metadata.json", note.as_json()),
            (data_file, data),
        ):
            entry = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return out.getvalue()


def sha256(data: bytes) -> str:
    """The hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()
