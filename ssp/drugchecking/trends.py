"""What is rising: counts of samples and positive findings by what they were sold as and
by test, per week or month, and the signal rule.

The rule, stated as the trends page states it: a finding is a signal when, over the last
``DRUG_CHECK_SIGNAL_DAYS`` days (7), at least ``DRUG_CHECK_SIGNAL_MIN_POSITIVES`` (3)
samples sold as one thing tested positive for it, and its share of the samples tested
rose by at least ``DRUG_CHECK_SIGNAL_RISE`` (0.25, i.e. 25 percentage points) against the
four times as long before (the 28 days before). Voided results count nowhere; unclear
results count as tested, not positive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from flask import current_app
from sqlalchemy import case, func, select

from ssp.drugchecking.models import CheckTest, DrugCheck, Finding, Outcome, SoldAs
from ssp.extensions import db
from ssp.i18n import _, format_day, format_moment, format_number, ngettext
from ssp.timeutil import day_start, program_today

Counts = dict[tuple[int, int], tuple[int, int]]  # (sold_as id, test id) -> (positive, tested)


def counts(start: dt.datetime, end: dt.datetime) -> Counts:
    """Positive and tested samples per (sold as, test) checked in [start, end)."""
    positive = func.sum(case((Finding.outcome == Outcome.POSITIVE, 1), else_=0))
    rows = db.session.execute(
        select(DrugCheck.sold_as_id, Finding.test_id, positive, func.count())
        .join(Finding, Finding.check_id == DrugCheck.id)
        .where(
            DrugCheck.checked_at >= start,
            DrugCheck.checked_at < end,
            DrugCheck.voided_at.is_(None),
        )
        .group_by(DrugCheck.sold_as_id, Finding.test_id)
    )
    return {(sold_as, test): (int(pos or 0), int(tested)) for sold_as, test, pos, tested in rows}


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month of the program's days."""

    label: str
    first: dt.date
    last: dt.date

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Its first instant and the first instant after it, in UTC."""
        return day_start(self.first), day_start(self.last + dt.timedelta(days=1))


def periods(kind: str, count: int, today: dt.date | None = None) -> list[Period]:
    """The last ``count`` weeks or months, oldest first, the current one included."""
    today = today or program_today()
    found = []
    if kind == "week":
        monday = today - dt.timedelta(days=today.weekday())
        for back in range(count - 1, -1, -1):
            first = monday - dt.timedelta(weeks=back)
            label = _("Week of %(day)s", day=format_day(first))
            found.append(Period(label, first, first + dt.timedelta(days=6)))
        return found
    year, month = today.year, today.month
    months = []
    for _back in range(count):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    for year, month in reversed(months):
        first = dt.date(year, month, 1)
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        found.append(Period(format_moment(first, "month"), first, following - dt.timedelta(days=1)))
    return found


@dataclass(frozen=True)
class Line:
    """One (sold as, test) line of the trends table: its counts per period."""

    sold_as: str
    test: str
    finds: str
    cells: list[tuple[int, int]]


def table(kind: str = "week", count: int = 8, today: dt.date | None = None):
    """The periods and the lines with any sample tested in them."""
    chosen = periods(kind, count, today)
    per_period = [counts(*period.bounds) for period in chosen]
    keys = sorted({key for found in per_period for key in found})
    names = _names()
    lines = [
        Line(
            names.sold_as[sold_as],
            names.tests[test][0],
            names.tests[test][1],
            [found.get((sold_as, test), (0, 0)) for found in per_period],
        )
        for sold_as, test in keys
    ]
    lines.sort(key=lambda line: (line.sold_as, line.test))
    return chosen, lines


@dataclass(frozen=True)
class Signal:
    """A finding whose share rose past the rule's threshold."""

    sold_as_id: int
    test_id: int
    sold_as: str
    finds: str
    positive: int
    tested: int
    positive_before: int
    tested_before: int
    first: dt.date
    last: dt.date

    @property
    def share(self) -> float:
        return self.positive / self.tested if self.tested else 0.0

    @property
    def share_before(self) -> float:
        return self.positive_before / self.tested_before if self.tested_before else 0.0

    @property
    def sentence(self) -> str:
        """The signal in words, as the page and a drafted alert say it."""
        return signal_sentence(
            finds=self.finds,
            sold_as=self.sold_as,
            positive=self.positive,
            tested=self.tested,
            positive_before=self.positive_before,
            tested_before=self.tested_before,
            days=(self.last - self.first).days + 1,
        )

    @property
    def before_first(self) -> dt.date:
        days = (self.last - self.first).days + 1
        return self.first - dt.timedelta(days=4 * days)


def signal_sentence(
    *,
    finds: str,
    sold_as: str,
    positive: int,
    tested: int,
    positive_before: int,
    tested_before: int,
    days: int,
) -> str:
    """A signal in words, in the language spoken now: Xylazine positive in 3 of 4 samples
    sold as fentanyl in the last 7 days, up from 1 of 8 in the 28 days before."""
    values = {
        "finds": finds,
        "sold_as": sold_as.lower(),
        "positive": format_number(positive),
        "tested": format_number(tested),
        "days": format_number(days),
    }
    if not tested_before:
        return ngettext(
            "%(finds)s positive in %(positive)s of %(tested)s sample sold as %(sold_as)s in "
            "the last %(days)s days, none tested in the days before.",
            "%(finds)s positive in %(positive)s of %(tested)s samples sold as %(sold_as)s in "
            "the last %(days)s days, none tested in the days before.",
            tested,
            **values,
        )
    return ngettext(
        "%(finds)s positive in %(positive)s of %(tested)s sample sold as %(sold_as)s in the "
        "last %(days)s days, up from %(positive_before)s of %(tested_before)s in the "
        "%(days_before)s days before.",
        "%(finds)s positive in %(positive)s of %(tested)s samples sold as %(sold_as)s in the "
        "last %(days)s days, up from %(positive_before)s of %(tested_before)s in the "
        "%(days_before)s days before.",
        tested,
        positive_before=format_number(positive_before),
        tested_before=format_number(tested_before),
        days_before=format_number(4 * days),
        **values,
    )


def signals(today: dt.date | None = None) -> list[Signal]:
    """Every (sold as, test) that meets the signal rule today."""
    config = current_app.config
    days = config["DRUG_CHECK_SIGNAL_DAYS"]
    today = today or program_today()
    first = today - dt.timedelta(days=days - 1)
    before_first = first - dt.timedelta(days=4 * days)
    now = counts(day_start(first), day_start(today + dt.timedelta(days=1)))
    before = counts(day_start(before_first), day_start(first))
    names = _names()
    found = []
    for (sold_as, test), (positive, tested) in now.items():
        positive_before, tested_before = before.get((sold_as, test), (0, 0))
        signal = Signal(
            sold_as,
            test,
            names.sold_as[sold_as],
            names.tests[test][1],
            positive,
            tested,
            positive_before,
            tested_before,
            first,
            today,
        )
        # Exact fractions: 7 of 10 against 9 of 20 is a rise of exactly 25 points, which
        # floating point would make 24.999...
        rise = Fraction(positive, tested) - (
            Fraction(positive_before, tested_before) if tested_before else 0
        )
        if positive >= config["DRUG_CHECK_SIGNAL_MIN_POSITIVES"] and rise >= Fraction(
            str(config["DRUG_CHECK_SIGNAL_RISE"])
        ):
            found.append(signal)
    return sorted(found, key=lambda s: (-(s.share - s.share_before), s.sold_as, s.finds))


@dataclass
class _Names:
    sold_as: dict[int, str]
    tests: dict[int, tuple[str, str]]


def _names() -> _Names:
    return _Names(
        dict(db.session.execute(select(SoldAs.id, SoldAs.name)).all()),
        {
            test_id: (name, finds)
            for test_id, name, finds in db.session.execute(
                select(CheckTest.id, CheckTest.name, CheckTest.finds)
            )
        },
    )
