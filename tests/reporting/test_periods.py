"""Report periods: months, quarters, calendar and fiscal years, the year to date, through
the parser, the page, the command line and the disclosure audit (a longer period must
not give away a small month by difference with the monthly reports)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from ssp.reporting.models import Report
from ssp.reporting.periods import Month, parse_period, recent_periods
from tests.conftest import Browser

UTC = dt.UTC


@pytest.mark.parametrize(
    ("key", "start", "first", "last", "label"),
    [
        ("2026-10", 7, "2026-10", "2026-10", "October 2026"),
        ("2026-q3", 7, "2026-07", "2026-09", "Q3 2026"),
        ("2026", 7, "2026-01", "2026-12", "2026"),
        ("FY2027", 7, "2026-07", "2027-06", "Fiscal year 2027 (July 2026 to June 2027)"),
        ("FY2027", 10, "2026-10", "2027-09", "Fiscal year 2027 (October 2026 to September 2027)"),
        ("FY2027", 1, "2027-01", "2027-12", "Fiscal year 2027 (January 2027 to December 2027)"),
        ("2026-10-YTD", 7, "2026-07", "2026-10", "Year to date (July 2026 to October 2026)"),
        ("2026-10-YTD", 10, "2026-10", "2026-10", "Year to date (October 2026 to October 2026)"),
        ("2026-10-YTD", 1, "2026-01", "2026-10", "Year to date (January 2026 to October 2026)"),
    ],
)
def test_periods_parse_to_their_months(key, start, first, last, label):
    period = parse_period(key, start)
    assert (period.first.key, period.last.key, period.label) == (first, last, label)
    assert parse_period(period.key, start) == period  # the key reads back
    assert len(period.months()) == period.length


@pytest.mark.parametrize(
    "bad", ["", "2026-13", "2026-Q0", "2026-Q5", "FY", "FY20x7", "1999", "26-10", "2026-10-ytdx"]
)
def test_bad_periods_are_refused_with_the_forms_named(bad):
    with pytest.raises(ValueError, match="Give the period as 2026-10"):
        parse_period(bad, 7)


def test_recent_quarters_and_years_are_complete_ones():
    through = Month(2026, 11)
    assert [p.key for p in recent_periods("quarter", through, 7, 2)] == ["2026-Q3", "2026-Q2"]
    assert [p.key for p in recent_periods("fiscal_year", through, 7, 2)] == ["FY2026", "FY2025"]
    assert [p.key for p in recent_periods("year", through, 7, 1)] == ["2025"]


def _visits(factory, ids, month: int, count: int, *, kits: int = 0, prefix: str = "Q"):
    for n in range(count):
        person = factory.participant(f"{prefix}{month:02d}{n:04d}")
        items = {ids["syringe"]: 10}
        if n < kits:
            items[ids["naloxone"]] = 1
        factory.visit(
            person,
            user_id=ids["user"],
            site_id=ids["main"],
            items=items,
            reasons={ids["naloxone"]: "first_kit"},
            occurred_at=dt.datetime(2026, month, 10, 18, tzinfo=UTC),
        )


@pytest.fixture
def quarter(app, factory):
    """July and August busy, September with three visits, all in the third quarter."""
    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    factory.profiles()
    ids = {
        "main": factory.site("Main site"),
        "syringe": factory.supply_item("Syringe 1 mL", "syringe", "syringe"),
        "naloxone": factory.supply_item("Naloxone nasal", "naloxone", "kit"),
    }
    ids["user"] = factory.user("boss", "manager", site_id=ids["main"])
    _visits(factory, ids, 7, 20, kits=15)
    _visits(factory, ids, 8, 20, kits=15)
    _visits(factory, ids, 9, 3, kits=2)
    return ids


def _generate(app, period: str, funder: str = "standard"):
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period=period, funder=funder, user_id=None)
        db.session.commit()
        return made.document


def _glance(document, label: str) -> list[str]:
    return next(row.cells for row in document.glance.rows if row.label == label)


def test_a_quarter_adds_up_its_months_and_compares_with_the_quarter_before(app, quarter):
    document = _generate(app, "2026-Q3")
    assert document.period_label == "Q3 2026"
    assert document.glance.columns[:3] == ["Q3 2026", "Q2 2026", "Q3 2025"]
    visits = _glance(document, "Visits (including anonymous walk-ins)")
    assert visits[:3] == ["43", "0", "0"]
    assert _glance(document, "Syringes distributed")[0] == "430"
    assert _glance(document, "People served")[0] == "43"
    # People by service model: each person once per model they were served in.
    kinds = next(t for s in document.sections for t in s.tables if t.key == "summary_kind_people")
    assert kinds.title == "People served by service model"
    assert len(kinds.rows) == 4 and kinds.rows[0].cells[0] in ("43", "*")
    # The trends start with the first month that had a visit.
    trends = next(t for s in document.sections for t in s.tables if t.key == "trends")
    assert trends.columns == ["Jul 26", "Aug 26", "Sep 26"]
    with app.app_context():
        row = db.session.scalar(select(Report))
        assert (row.period, row.first_month, row.last_month) == ("2026-Q3", "2026-07", "2026-09")


def test_a_quarter_does_not_give_away_a_small_month_by_difference(app, quarter):
    """July (20) and August (20) are archived exactly and September prints <11. A reader
    who subtracts them from the quarter must still be left with several values."""
    months = [_generate(app, key) for key in ("2026-07", "2026-08", "2026-09")]
    assert [_glance(m, "Visits (including anonymous walk-ins)")[0] for m in months] == [
        "20",
        "20",
        "<11",
    ]
    notes = [t.note or "" for s in months[2].sections for t in s.tables]
    assert any("quarterly and yearly reports show it" in note for note in notes)
    document = _generate(app, "2026-Q3")
    assert not any(
        "quarterly and yearly" in (t.note or "") for s in document.sections for t in s.tables
    )
    # Visits are events that happen to a person (supply units are not sensitive: the
    # September report prints its 30 syringes as they are).
    for label in ("Visits (including anonymous walk-ins)", "Visits by participants with a code"):
        printed = [
            cells[0]
            for table in [document.glance, *(t for s in document.sections for t in s.tables)]
            for row in table.rows
            if row.label == label
            for cells in [row.cells]
        ]
        assert printed or label != "Visits (including anonymous walk-ins)"
        for text in printed:
            assert not text[:1].isdigit(), f"{label}: September works out as {int(text) - 40}"
    assert len(document.audit.overlapping_reports) == 3  # audited with the monthly reports


def test_a_fiscal_year_follows_the_profiles_first_month(app, quarter):
    from ssp.reporting.funders import profile_by_name

    with app.app_context():
        profile_by_name("standard").fiscal_year_start = 10
        db.session.commit()
    document = _generate(app, "FY2026")
    assert document.period_label == "Fiscal year 2026 (October 2025 to September 2026)"
    assert _glance(document, "Visits (including anonymous walk-ins)")[0] == "43"
    ytd = _generate(app, "2026-08-YTD")
    assert ytd.period_label == "Year to date (October 2025 to August 2026)"
    # 40 beside the archived fiscal year's 43 would give September's 3 away.
    assert _glance(ytd, "Visits (including anonymous walk-ins)")[0] == "*"


def test_the_command_line_takes_every_period(app, quarter, tmp_path):
    runner = app.test_cli_runner()
    for period in ("2026-09", "2026-Q3", "2025", "FY2026", "2026-10-YTD"):
        result = runner.invoke(args=["report", "--period", period])
        assert result.exit_code == 0, result.output
        assert f"{period}_standard" in result.output
    old = runner.invoke(args=["report", "--month", "2026-08"])
    assert old.exit_code == 0, old.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 6


def test_the_reports_page_offers_each_kind_and_generating_twice_makes_one(app, quarter):
    manager = Browser(app.test_client())
    manager.sign_in("boss")
    page = manager.get("/reports").get_data(as_text=True)
    for group in ("Months", "Quarters", "Calendar years", "Fiscal years", "Year to date"):
        assert f'label="{group}"' in page
    preview = manager.get("/reports/preview?period=2026-Q3&funder=standard")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Q3 2026" in html
    key = html.split('name="request_key" type="hidden" value="')[1].split('"')[0]
    form = {"period": "2026-Q3", "funder": "standard", "request_key": key}
    first = manager.post("/reports/generate", form)
    second = manager.post("/reports/generate", form)
    assert first.status_code == second.status_code == 303
    assert "already archived" in manager.get("/reports").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 1


def test_a_profile_names_its_fiscal_year_and_contact(app, signed_in):
    admin = signed_in("admin")
    admin.post("/admin/funder-profiles/defaults")
    form = {
        "name": "federal",
        "funder_name": "Federal funder",
        "sections": ["summary"],
        "threshold": "11",
        "fiscal_year_start": "10",
        "contact": "Program manager, 555-0100",
    }
    assert admin.post("/admin/funder-profiles/new", form).status_code == 303
    bad = admin.post(
        "/admin/funder-profiles/new", {**form, "name": "f2", "fiscal_year_start": "13"}
    )
    assert bad.status_code == 422
    from ssp.reporting.funders import profile_by_name

    with app.app_context():
        profile = profile_by_name("federal")
        assert (profile.fiscal_year_start, profile.contact) == (10, "Program manager, 555-0100")


def test_trends_reprint_only_the_same_profiles_first_publication(app, quarter):
    """A profile with threshold 2 printed September's 3 visits exactly; the standard
    report (threshold 11) must not reprint that "3" in its trends."""
    from ssp.reporting.funders import SECTIONS, create_profile

    app.config["MIN_SUPPRESSION_THRESHOLD"] = 2
    with app.app_context():
        create_profile(name="exact", funder_name="Exact", sections=list(SECTIONS), threshold=2)
        db.session.commit()
    exact = _generate(app, "2026-09", funder="exact")
    assert _glance(exact, "Visits (including anonymous walk-ins)")[0] == "3"
    october = _generate(app, "2026-10")
    trends = next(t for s in october.sections for t in s.tables if t.key == "trends")
    visits = next(r for r in trends.rows if r.label == "Visits")
    september = visits.cells[trends.columns.index("Sep 26")]
    assert september == "<11"
