"""The manager's home: the month so far against the same point last month (figures
checked against hand-computed ones), reports due, and what the front desk sees."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ssp.dashboard.figures import month_so_far, reports_due

ZONE = ZoneInfo("America/Los_Angeles")  # the test app's TIMEZONE (the default)


def _at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=ZONE).astimezone(dt.UTC)


@pytest.fixture
def program(app, factory):
    app.config["VISIT_BACKDATE_DAYS"] = 100_000  # visits placed on fixed past days
    ids = {
        "site": factory.site("Main site"),
        "syringe": factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe"),
        "naloxone": factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit"),
        "pads": factory.supply_item("Alcohol pad", "injection", "pad"),
    }
    ids["user"] = factory.user("boss1", "manager", site_id=ids["site"])
    ids["a"] = factory.participant("AAAA1111", site_id=ids["site"])
    ids["b"] = factory.participant("BBBB2222", site_id=ids["site"])
    return ids


def test_the_month_so_far_against_the_same_point_last_month(app, factory, program):
    p = program

    def visit(person, day, hour=12, **kwargs):
        return factory.visit(
            person, user_id=p["user"], site_id=p["site"], occurred_at=_at(day, hour), **kwargs
        )

    # November, up to the 20th at noon: 3 visits by 2 people (one walk-in), 30 syringes,
    # 12 collected, 2 kits (one used on someone), 1 referral.
    visit(p["a"], "2026-11-03", items={p["syringe"]: 10, p["pads"]: 50}, syringes_collected=12)
    visit(p["a"], "2026-11-19", items={p["naloxone"]: 2}, reasons={p["naloxone"]: "used"})
    visit(None, "2026-11-20", hour=9, items={p["syringe"]: 20})
    visit(p["b"], "2026-11-20", hour=15, items={p["syringe"]: 500})  # after "now"
    factory.referral(p["a"], user_id=p["user"], now=_at("2026-11-19"))
    # October up to the 20th at noon: 1 visit, 5 syringes; later in October: not counted.
    visit(p["b"], "2026-10-20", hour=8, items={p["syringe"]: 5}, syringes_collected=3)
    visit(p["b"], "2026-10-25", items={p["syringe"]: 700})
    voided = visit(p["a"], "2026-11-04", items={p["syringe"]: 900})
    with app.app_context():
        from ssp.extensions import db
        from ssp.visits.models import Visit

        db.session.get(Visit, voided).voided_at = _at("2026-11-04", 13)
        db.session.commit()
        figures = {
            f.label: (f.now, f.before, f.change) for f in month_so_far(_at("2026-11-20", 12))
        }
    assert figures == {
        "People served (with a code)": (1, 1, "same"),
        "Visits": (3, 1, "+2"),
        "Syringes handed out": (30, 5, "+25"),
        "Used syringes collected": (12, 3, "+9"),
        "Naloxone kits": (2, 0, "+2"),
        "Overdose reversals reported": (1, 0, "+1"),
        "Referrals made": (1, 0, "+1"),
    }


def test_the_31st_compares_with_the_last_day_of_a_shorter_month(app, factory, program):
    p = program
    factory.visit(
        p["a"],
        user_id=p["user"],
        site_id=p["site"],
        occurred_at=_at("2026-02-28", 20),
        items={p["syringe"]: 7},
    )
    with app.app_context():
        figures = {f.label: f.before for f in month_so_far(_at("2026-03-31", 22))}
    assert figures["Syringes handed out"] == 7


def test_reports_due_are_the_complete_months_without_an_archived_report(app, factory):
    factory.profiles()
    with app.app_context():
        due = reports_due(dt.date(2026, 12, 2))
    keys = {(d.month.key, d.profile_name) for d in due}
    assert ("2026-11", "standard") in keys and ("2026-09", "standard") in keys
    assert not any(key == "2026-12" for key, _ in keys)  # this month is not complete


def test_managers_see_the_month(app, signed_in, program):
    manager = signed_in("manager", "boss2")
    page = manager.get("/").get_data(as_text=True)
    assert "This month so far" in page and "Follow-ups overdue now" in page


def test_the_desk_does_not_see_the_month(app, signed_in, program):
    desk = signed_in("front_desk", "desk9")
    page = desk.get("/").get_data(as_text=True)
    assert "This month so far" not in page
