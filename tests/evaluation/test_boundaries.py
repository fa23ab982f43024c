"""Weeks and months of the program's time zone (America/Los_Angeles) at local midnight
and across the new year, as the export writes them: 31 December 2025 is in ISO week
2026-W01 but in the month 2025-12; 28 December 2025 (a Sunday) is in 2025-W52."""

from __future__ import annotations

import datetime as dt

import pytest

from ssp.evaluation.records import iso_week, month_of
from tests.evaluation.conftest import at, page_export

# UTC time -> (the day there, ISO week, month). Midnight there is 08:00 UTC in winter.
TIMES = {
    "2025-12-29 07:30": ("2025-12-28", "2025-W52", "2025-12"),  # Sunday 23:30
    "2025-12-29 08:30": ("2025-12-29", "2026-W01", "2025-12"),  # Monday 00:30
    "2026-01-01 07:30": ("2025-12-31", "2026-W01", "2025-12"),  # New Year's Eve 23:30
    "2026-01-01 08:30": ("2026-01-01", "2026-W01", "2026-01"),  # New Year's Day 00:30
}


@pytest.mark.parametrize(
    ("day", "week", "month"),
    [
        ("2025-12-28", "2025-W52", "2025-12"),
        ("2025-12-29", "2026-W01", "2025-12"),
        ("2026-12-31", "2026-W53", "2026-12"),
        ("2027-01-01", "2026-W53", "2027-01"),
        ("2027-01-04", "2027-W01", "2027-01"),
    ],
)
def test_iso_weeks_and_months_of_days(day, week, month):
    assert (iso_week(dt.date.fromisoformat(day)), month_of(dt.date.fromisoformat(day))) == (
        week,
        month,
    )


@pytest.fixture
def new_year(app, factory):
    """Two people at each of the four times, so that no group is too small with k = 2."""
    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    app.config["EXPORT_MIN_GROUP_SIZE"] = 2
    site = factory.site("Harbor")
    user = factory.user("nightshift", "manager", site_id=site)
    item = factory.supply_item()
    people = [factory.participant(code) for code in ("NYEA0001", "NYEB0002")]
    for number, when in enumerate(TIMES):
        for person in people:
            factory.visit(
                person,
                user_id=user,
                site_id=site,
                occurred_at=at(when),
                items={item: number + 1},  # which time a row is, by its syringes
            )


@pytest.mark.parametrize("granularity", ["week", "month"])
def test_the_export_puts_each_visit_in_its_local_week_and_month(new_year, signed_in, granularity):
    export = page_export(
        signed_in("manager"),
        period="",
        first_day="2025-12-01",
        last_day="2026-01-31",
        granularity=granularity,
        location="site",
        attributes=[],
    )
    assert export.metadata["rows_coarsened"] == export.metadata["rows_left_out"] == 0
    found = {(r["period"], int(r["supplies_syringe"])) for r in export.rows}
    column = 1 if granularity == "week" else 2
    expected = {(facts[column], number + 1) for number, facts in enumerate(TIMES.values())}
    assert found == expected
    assert len(export.rows) == 8


def test_a_period_ends_at_local_midnight(new_year, signed_in):
    browser = signed_in("manager")
    december = page_export(browser, period="2025-12", attributes=[], location="site")
    january = page_export(browser, period="2026-01", attributes=[], location="site")
    # Three of the four times are still 2025 there; New Year's Day 00:30 is January.
    assert sorted(int(r["supplies_syringe"]) for r in december.rows) == [1, 1, 2, 2, 3, 3]
    assert sorted(int(r["supplies_syringe"]) for r in january.rows) == [4, 4]
