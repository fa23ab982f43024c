"""How a report writes for its reader: the language it is written in, and its numbers,
months and days in that language's way.

A report is built and rendered in one language (:func:`written_in`): its funder
profile's, else that of whoever makes it. What it keeps for machines stays the same in
every language: the release's cell keys and printed texts (``1,234``, ``45%``, ``<11``,
as the archive holds them), the CSV's columns and codes. The writers for people turn a
printed figure into the reader's way (:func:`figure`: ``1.234``, ``45 %``) only when
they print it.

Outside an application (a document rendered on its own, as some tests do) everything is
written in English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from babel import Locale, dates, numbers
from flask import has_app_context

ENGLISH = "en"


def reader_locale() -> Locale:
    """The locale being written in (English outside an application)."""
    if has_app_context():
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None:
            return locale
    return Locale.parse(ENGLISH)


def writing_language() -> str:
    """The language being written in, as a code ("en", "es")."""
    return reader_locale().language


@contextmanager
def written_in(language: str | None) -> Iterator[None]:
    """Write everything inside in ``language``; None (or a language the app does not
    speak) keeps the language already in force."""
    if not language or not has_app_context():
        yield
        return
    from ssp.i18n import force_locale, supported

    code = supported(language)
    if code is None:
        yield
        return
    with force_locale(code):
        yield


# --- numbers ------------------------------------------------------------------------------


def number(value: int | float) -> str:
    """A count as the reader writes it (12,345 / 12.345)."""
    if has_app_context():
        from ssp.i18n import format_number

        return format_number(value)
    return numbers.format_decimal(value, locale=ENGLISH)


def percent(value: int) -> str:
    """A whole percentage as the reader writes it (45% / 45 %)."""
    return numbers.format_percent(value / 100, locale=reader_locale())


def decimal_symbol() -> str:
    """The reader's decimal point ("." / ",")."""
    return numbers.get_decimal_symbol(reader_locale())


# A figure as the release prints it: "1,234", "45%", "<11", "12†" (never localized).
_FIGURE = re.compile(r"(<?)(\d{1,3}(?:,\d{3})+|\d+)(%?)(†?)")


def figure(text: str) -> str:
    """A printed cell in the reader's way: "1,234" is "1.234" in Spanish, "45%" is
    "45 %"; a symbol ("*", "†", "—") or a word is left as it is."""
    match = _FIGURE.fullmatch(text)
    if not match:
        return text
    less, digits, per_cent, dagger = match.groups()
    value = int(digits.replace(",", ""))
    return f"{less}{percent(value) if per_cent else number(value)}{dagger}"


# --- months and days ----------------------------------------------------------------------


def month_label(year: int, month: int) -> str:
    """A month in full ("October 2026" / "octubre de 2026")."""
    return dates.format_skeleton("yMMMM", dt.date(year, month, 1), locale=reader_locale())


def month_short(year: int, month: int) -> str:
    """A month for a chart's axis or a narrow column ("Oct 26" / "oct 26")."""
    abbreviated = reader_locale().months["format"]["abbreviated"][month]
    return f"{abbreviated} {year % 100:02d}"


def parse_month_short(text: str) -> tuple[int, int] | None:
    """(year, month) of a :func:`month_short` label; None when it is not one."""
    name, _, year = text.strip().rpartition(" ")
    if not (year.isdigit() and len(year) == 2):
        return None
    names = reader_locale().months["format"]["abbreviated"]
    found = next((n for n, abbreviated in names.items() if abbreviated == name), None)
    return None if found is None else (2000 + int(year), found)


def month_name(month: int) -> str:
    """A month's name on its own, capitalized ("July" / "Julio")."""
    name = reader_locale().months["stand-alone"]["wide"][month]
    return name[:1].upper() + name[1:]


def day(value: dt.date) -> str:
    """A day as the reader writes it ("Dec 4, 2026" / "4 dic 2026")."""
    if has_app_context():
        from ssp.i18n import format_day

        return format_day(value)
    return dates.format_date(value, "medium", locale=ENGLISH)


def day_range(start: dt.date, end: dt.date) -> str:
    """From one day to another, as :func:`day` writes them ("Oct 1 – 31, 2026" /
    "1–31 oct 2026"; Babel puts thin spaces around the dash)."""
    return dates.format_interval(start, end, "yMMMd", locale=reader_locale())


# --- labels that stay the same for machines -----------------------------------------------


def english_label(member: Any) -> str:
    """An enum member's label in English: the key a report's figures keep in every
    language (the archive's releases are audited together whatever language each was
    written in)."""
    # By class and value: members of two string enums with one value are equal.
    return _english_label(type(member), member.value)


@cache
def _english_label(kind: type, value: str) -> str:
    member = kind(value)
    if not has_app_context():
        return str(member.label)
    from ssp.i18n import force_locale

    with force_locale(ENGLISH):
        return str(member.label)


class LabelMap(Mapping[str, str]):
    """Keys and their labels; a label is read in the language of the moment each time it
    is asked for, so the mapping can be a module constant and still reads as plain
    strings (``.lazy(key)``: the label looked up when shown, for form choices)."""

    def __init__(self, labels: Mapping[str, Any]) -> None:
        self._labels = dict(labels)

    def __getitem__(self, key: str) -> str:
        return str(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def lazy(self, key: str) -> Any:
        """The label as marked (looked up when it is shown)."""
        return self._labels[key]


class LabelPairs(Sequence[tuple[str, str]]):
    """(key, label) pairs, each label read in the language of the moment."""

    def __init__(self, pairs: Sequence[tuple[str, Any]]) -> None:
        self._pairs = tuple(pairs)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [(key, str(label)) for key, label in self._pairs[index]]
        key, label = self._pairs[index]
        return key, str(label)

    def __len__(self) -> int:
        return len(self._pairs)
