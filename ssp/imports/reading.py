"""Reading a spreadsheet file: CSV (any common delimiter and encoding) or XLSX (the
first sheet), into its headers and its rows with their row numbers as the spreadsheet
shows them. XLSX is read with python-calamine (fast); when the sheet holds formulas,
openpyxl says which cells, because a formula's value is a cached copy that may be stale
and is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

from ssp.i18n import _


class FileProblem(ValueError):
    """A file that cannot be read at all; the message says why."""


@dataclass
class SheetRows:
    """A file's headers, its rows (row number, cells) and any formula cells."""

    headers: list[str]
    rows: list[tuple[int, list]]
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    # Rows with values beyond the last named column (they do not fit the headers).
    overflowing: set[int] = field(default_factory=set)


def sha256_of(content: bytes) -> str:
    """The file's sha256, as the import batch records it."""
    return hashlib.sha256(content).hexdigest()


def read_file(file_name: str, content: bytes) -> SheetRows:
    """The file's rows; ``FileProblem`` for a file that is not a readable CSV or XLSX."""
    if not content.strip():
        raise FileProblem(_("The file is empty."))
    suffix = PurePath(file_name).suffix.lower()
    if content[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(content)
    if suffix in (".xls", ".ods", ".numbers"):
        raise FileProblem(_("Save the spreadsheet as .xlsx or .csv, then import that file."))
    return _read_csv(content)


def _decoded(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem(_("The file is not text in a known encoding: save it as CSV (UTF-8)."))


def _read_csv(content: bytes) -> SheetRows:
    if b"\x00" in content[:4096]:
        raise FileProblem(_("This is not a CSV or XLSX file."))
    text = _decoded(content)
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        numbered = [(number, row) for number, row in enumerate(reader, start=1)]
    except csv.Error as error:
        raise FileProblem(_("The CSV cannot be read: %(error)s.", error=str(error))) from None
    return _split_header(numbered, {})


def _read_xlsx(content: bytes) -> SheetRows:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, IndexError, zipfile.BadZipFile):
        raise FileProblem(_("The spreadsheet cannot be read: save it again as .xlsx.")) from None
    numbered = [(number, list(row)) for number, row in enumerate(rows, start=1)]
    return _split_header(numbered, _formula_cells(content))


def _formula_cells(content: bytes) -> dict[tuple[int, int], str]:
    """(row number, column index) -> formula, for the first sheet's formula cells."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = sorted(
                name
                for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
            # Which file holds the first tab is in the workbook's relations (tabs keep their
            # file names when reordered): openpyxl reads those; this only asks whether any
            # sheet has a formula at all, to skip openpyxl's slower read when none has.
            if not any(b"<f" in archive.read(name) for name in sheets):
                return {}
    except (zipfile.BadZipFile, KeyError):
        return {}
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    found = {}
    for row in workbook.worksheets[0].iter_rows():
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                found[(cell.row, cell.column - 1)] = str(cell.value)
    workbook.close()
    return found


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _split_header(
    numbered: list[tuple[int, list]], formulas: dict[tuple[int, int], str]
) -> SheetRows:
    rows = [(number, row) for number, row in numbered if not all(_blank(c) for c in row)]
    if not rows:
        raise FileProblem(_("The file has no rows."))
    header = rows[0][1]
    headers = [str(cell).strip() if not _blank(cell) else "" for cell in header]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileProblem(_("The first row should hold the column names."))
    for index, name in enumerate(headers):
        if not name:
            raise FileProblem(
                _("Column %(number)s of the first row has no name.", number=index + 1)
            )
    seen: set[str] = set()
    for name in headers:
        if name.lower() in seen:
            raise FileProblem(_("Two columns are called “%(name)s”: rename one.", name=name))
        seen.add(name.lower())
    width = len(headers)
    body = []
    overflowing = set()
    for number, row in rows[1:]:
        body.append((number, list(row[:width]) + [None] * (width - len(row))))
        if any(not _blank(cell) for cell in row[width:]):
            overflowing.add(number)
    return SheetRows(headers, body, formulas, overflowing)
