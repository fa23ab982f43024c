"""Cells a spreadsheet would run as a formula, made inert (CSV or formula injection).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets when the file is opened; a site named
``=HYPERLINK(...)`` would otherwise become a live link. Such a cell is prefixed with an
apostrophe, which spreadsheets read as "this is text". Numbers are left alone, so a
negative stock movement stays a number. Every CSV the program writes (the stock ledger,
the audit trail, the funder report) passes its cells through ``spreadsheet_safe``.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """``cell`` with an apostrophe in front when it is text a spreadsheet would run."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
