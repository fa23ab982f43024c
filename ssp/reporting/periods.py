"""Report periods: a month, a calendar quarter, a calendar year, a fiscal year, a year
to date. Each is a run of whole months; its key names it in the archive and on the
command line.

    2026-10       October 2026
    2026-Q3       July to September 2026 (calendar quarters)
    2026          January to December 2026
    FY2027        the fiscal year that ends in 2027 (its first month is the profile's)
    2026-10-YTD   the fiscal year to date, through October 2026

A fiscal year starting in January is the calendar year; "year to date" follows the
profile's fiscal year. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ssp.i18n import _, _l
from ssp.reporting.wording import LabelMap, month_label, month_short
from ssp.timeutil import day_start

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
FISCAL_YEAR = "fiscal_year"
YEAR_TO_DATE = "year_to_date"
KINDS = (MONTH, QUARTER, YEAR, FISCAL_YEAR, YEAR_TO_DATE)
KIND_LABELS = LabelMap(
    {
        MONTH: _l("Month"),
        QUARTER: _l("Quarter"),
        YEAR: _l("Calendar year"),
        FISCAL_YEAR: _l("Fiscal year"),
        YEAR_TO_DATE: _l("Fiscal year to date"),
    }
)
HELP = _l(
    "Give the period as 2026-10 (a month), 2026-Q3 (a quarter), 2026 (a calendar year), "
    "FY2027 (a fiscal year, named by the year it ends in) or 2026-10-YTD (the fiscal year "
    "to date through that month)."
)
KEY_LENGTH = 16  # the archive's column width


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """A month from 'YYYY-MM'; ValueError when malformed."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ValueError(_("Give the month as YYYY-MM, for example 2026-10."))
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def key(self) -> str:
        """'YYYY-MM'."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """'October 2026' (in the language being written)."""
        return month_label(self.year, self.month)

    @property
    def short_label(self) -> str:
        """'Oct 26', for chart axes."""
        return month_short(self.year, self.month)

    def shifted(self, months: int) -> Month:
        """The month ``months`` later (negative: earlier)."""
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> dt.date:
        """The first day of the month."""
        return dt.date(self.year, self.month, 1)

    # A month is also a report period of one month.
    kind = MONTH

    @property
    def first(self) -> Month:
        """The period's first month (itself)."""
        return self

    @property
    def last(self) -> Month:
        """The period's last month (itself)."""
        return self

    @property
    def length(self) -> int:
        """How many months the period spans."""
        return 1

    def months(self) -> list[Month]:
        """The months of the period."""
        return [self]

    @property
    def end_day(self) -> dt.date:
        """The first day after the period (exclusive end)."""
        return self.shifted(1).first_day

    def start(self, zone: ZoneInfo) -> dt.datetime:
        """Midnight at the start of the period in the program's zone, in UTC."""
        return day_start(self.first_day, zone)

    def end(self, zone: ZoneInfo) -> dt.datetime:
        """Midnight after the period's last day in the program's zone, in UTC."""
        return day_start(self.end_day, zone)

    def previous(self) -> Month:
        """The period just before."""
        return self.shifted(-1)

    def a_year_earlier(self) -> Month:
        """The same period a year earlier."""
        return self.shifted(-12)

    @property
    def noun(self) -> str:
        """How the report's text calls the period."""
        return "month"


@dataclass(frozen=True, order=True)
class Span:
    """A run of whole months reported together (a quarter, a year, a year to date)."""

    kind: str
    first: Month
    length: int
    key: str

    @property
    def label(self) -> str:
        """'Q3 2026', 'Fiscal year 2027 (July 2026 to June 2027)' (in the language being
        written)."""
        first, last = self.first, self.last
        if self.kind == QUARTER:
            return _("Q%(quarter)s %(year)s", quarter=_quarter(first), year=first.year)
        if self.kind == FISCAL_YEAR:
            return _(
                "Fiscal year %(year)s (%(first)s to %(last)s)",
                year=last.year,
                first=first.label,
                last=last.label,
            )
        if self.kind == YEAR_TO_DATE:
            return _("Year to date (%(first)s to %(last)s)", first=first.label, last=last.label)
        return f"{first.year}"

    @property
    def last(self) -> Month:
        """The period's last month."""
        return self.first.shifted(self.length - 1)

    def months(self) -> list[Month]:
        """The months of the period."""
        return [self.first.shifted(n) for n in range(self.length)]

    @property
    def year(self) -> int:
        """The year of the last month (for ages reached)."""
        return self.last.year

    @property
    def month(self) -> int:
        """The last month's number."""
        return self.last.month

    @property
    def first_day(self) -> dt.date:
        """The first day of the period."""
        return self.first.first_day

    @property
    def end_day(self) -> dt.date:
        """The first day after the period (exclusive end)."""
        return self.last.end_day

    def start(self, zone: ZoneInfo) -> dt.datetime:
        """Midnight at the start of the period in the program's zone, in UTC."""
        return day_start(self.first_day, zone)

    def end(self, zone: ZoneInfo) -> dt.datetime:
        """Midnight after the period's last day in the program's zone, in UTC."""
        return day_start(self.end_day, zone)

    @property
    def short_label(self) -> str:
        """A short label for a comparison column."""
        if self.kind == QUARTER:
            return self.label
        if self.kind == FISCAL_YEAR:
            return fiscal_year_short(self.last.year)
        if self.kind == YEAR_TO_DATE:
            return _(
                "%(first)s to %(last)s", first=self.first.short_label, last=self.last.short_label
            )
        return self.key

    def previous(self, fiscal_start: int = 1) -> Span:
        """The period just before (a year to date: the same months a year earlier)."""
        if self.kind == YEAR_TO_DATE:
            return self.a_year_earlier(fiscal_start)
        return _span(self.kind, self.first.shifted(-self.length), self.length, fiscal_start)

    def a_year_earlier(self, fiscal_start: int = 1) -> Span:
        """The same period a year earlier."""
        return _span(self.kind, self.first.shifted(-12), self.length, fiscal_start)

    @property
    def noun(self) -> str:
        """How the report's text calls the period."""
        return {QUARTER: "quarter", YEAR: "year", FISCAL_YEAR: "fiscal year"}.get(
            self.kind, "period"
        )


Period = Month | Span


def _quarter(first: Month) -> int:
    return (first.month - 1) // 3 + 1


def fiscal_year_short(ends_in: int) -> str:
    """A fiscal year's short name ("FY2027"; in Spanish "AF2027")."""
    return _("FY%(year)s", year=ends_in)


def _span(kind: str, first: Month, length: int, fiscal_start: int) -> Span:
    last = first.shifted(length - 1)
    if kind == QUARTER:
        return Span(kind, first, 3, f"{first.year}-Q{_quarter(first)}")
    if kind == YEAR:
        return Span(kind, first, 12, f"{first.year}")
    if kind == FISCAL_YEAR:
        return Span(kind, first, 12, f"FY{last.year}")
    if kind == YEAR_TO_DATE:
        return Span(kind, first, length, f"{last.key}-YTD")
    raise ValueError(f"unknown period kind {kind!r}")


def fiscal_year(ends_in: int, fiscal_start: int) -> Span:
    """The fiscal year that ends in ``ends_in``."""
    start_year = ends_in if fiscal_start == 1 else ends_in - 1
    return _span(FISCAL_YEAR, Month(start_year, fiscal_start), 12, fiscal_start)


def fiscal_year_of(month: Month, fiscal_start: int) -> Span:
    """The fiscal year a month falls in."""
    ends_in = month.year if fiscal_start == 1 or month.month < fiscal_start else month.year + 1
    return fiscal_year(ends_in, fiscal_start)


def year_to_date(through: Month, fiscal_start: int) -> Span:
    """The fiscal year to date, through ``through``."""
    first = fiscal_year_of(through, fiscal_start).first
    length = (through.year * 12 + through.month) - (first.year * 12 + first.month) + 1
    return _span(YEAR_TO_DATE, first, length, fiscal_start)


def parse_period(text: str, fiscal_start: int = 1) -> Period:
    """A period from its key; ValueError with :data:`HELP` when malformed."""
    text = (text or "").strip().upper()
    if len(text) > KEY_LENGTH:
        raise ValueError(str(HELP))
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        try:
            return Month.parse(text)
        except ValueError:
            raise ValueError(str(HELP)) from None
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, quarter = int(match.group(1)), int(match.group(2))
        return (
            _span(QUARTER, Month(year, 3 * quarter - 2), 3, fiscal_start)
            if year >= 2000
            else _bad()
        )
    if match := re.fullmatch(r"(\d{4})", text):
        year = int(match.group(1))
        return _span(YEAR, Month(year, 1), 12, fiscal_start) if year >= 2000 else _bad()
    if match := re.fullmatch(r"FY(\d{4})", text):
        year = int(match.group(1))
        return fiscal_year(year, fiscal_start) if year >= 2001 else _bad()
    if match := re.fullmatch(r"(\d{4}-\d{2})-YTD", text):
        try:
            return year_to_date(Month.parse(match.group(1)), fiscal_start)
        except ValueError:
            raise ValueError(str(HELP)) from None
    return _bad()


def _bad():
    raise ValueError(str(HELP))


def period_of_kind(kind: str, through: Month, fiscal_start: int) -> Period:
    """The latest period of ``kind`` whose last month is at most ``through``."""
    if kind == MONTH:
        return through
    if kind == QUARTER:
        last = through if through.month % 3 == 0 else through.shifted(-(through.month % 3))
        return _span(QUARTER, last.shifted(-2), 3, fiscal_start)
    if kind == YEAR:
        year = through.year if through.month == 12 else through.year - 1
        return _span(YEAR, Month(year, 1), 12, fiscal_start)
    if kind == FISCAL_YEAR:
        current = fiscal_year_of(through, fiscal_start)
        return current if current.last == through else current.previous(fiscal_start)
    if kind == YEAR_TO_DATE:
        return year_to_date(through, fiscal_start)
    raise ValueError(f"unknown period kind {kind!r}")


def recent_periods(kind: str, through: Month, fiscal_start: int, count: int) -> list[Period]:
    """The ``count`` latest complete periods of ``kind`` ending at most at ``through``."""
    found: list[Period] = []
    month = through
    while len(found) < count and month.year >= 2000:
        period = period_of_kind(kind, month, fiscal_start)
        if period not in found:
            found.append(period)
        month = period.first.shifted(-1) if kind != YEAR_TO_DATE else month.shifted(-1)
    return found


def span_of_key(key: str, fiscal_start: int = 1) -> tuple[str, str]:
    """The first and last month keys of a period key (for filtering the archive)."""
    period = parse_period(key, fiscal_start)
    return period.first.key, period.last.key
