"""The manager's home: the month so far against the same point last month (figures
checked against hand-computed ones), reports due, and what the front desk sees."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from ssp.dashboard import figures
from ssp.dashboard.figures import month_so_far, reports_due
from tests.conftest import Browser

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


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _month_table(page: str) -> dict[str, tuple[str, ...]]:
    """The home page's month table as it reads: row heading -> the cells' text."""
    table = page[page.index('<table class="month-so-far">') :]
    table = table[: table.index("</table>")]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        heading = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if heading:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            rows[_text(heading.group(1))] = tuple(_text(cell) for cell in cells)
    return rows


def test_the_home_page_shows_the_month_so_far_as_counted_by_hand(
    app, factory, program, monkeypatch
):
    """The figures a manager reads on the home page, from visits made here and counted
    by hand (the unit test above checks month_so_far(); this checks what is printed)."""
    p = program

    def visit(person, day, hour=12, **kwargs):
        return factory.visit(
            person, user_id=p["user"], site_id=p["site"], occurred_at=_at(day, hour), **kwargs
        )

    # This month (November, up to the 20th at noon).
    visit(p["a"], "2026-11-02", items={p["syringe"]: 900, p["pads"]: 50}, syringes_collected=12)
    visit(p["b"], "2026-11-10", items={p["naloxone"]: 3}, reasons={p["naloxone"]: "used"})
    visit(p["a"], "2026-11-18", items={p["syringe"]: 140})
    visit(None, "2026-11-20", hour=11, items={p["syringe"]: 5})  # a walk-in: no person
    visit(p["b"], "2026-11-20", hour=13, items={p["syringe"]: 800})  # after "now"
    factory.referral(p["a"], user_id=p["user"], now=_at("2026-11-18"))
    factory.referral(p["b"], user_id=p["user"], now=_at("2026-11-10"), category="housing")
    # Last month up to the same point (the 20th at noon); the 25th is past it.
    visit(p["b"], "2026-10-01", hour=0, items={p["syringe"]: 300}, syringes_collected=30)
    visit(p["b"], "2026-10-20", hour=11, items={p["naloxone"]: 1}, reasons={p["naloxone"]: "lost"})
    visit(p["a"], "2026-10-25", items={p["syringe"]: 700})
    monkeypatch.setattr(figures, "utcnow", lambda: _at("2026-11-20", 12))

    home = Browser(app.test_client())
    home.sign_in("boss1")
    table = _month_table(home.get("/").get_data(as_text=True))
    # Each row: this month, the same point last month, the change.
    assert {label: cells for label, cells in table.items() if label in figures.LABELS.values()} == {
        "People served (with a code)": ("2", "1", "+1"),  # a and b; b
        "Visits": ("4", "2", "+2"),
        "Syringes handed out": ("1,045", "300", "+745"),  # 900 + 140 + 5
        "Used syringes collected": ("12", "30", "−18"),
        "Naloxone kits": ("3", "1", "+2"),
        "Overdose reversals reported": ("1", "0", "+1"),  # the visit with "used"
        "Referrals made": ("2", "0", "+2"),
    }


def test_each_follow_up_count_on_the_home_page_says_which_sites_it_counts(app, factory):
    """An admin whose default site is the main site: the button counts that site, the
    month table every site, and each says so; each number is the one its link shows."""
    main, van = factory.site("Main site"), factory.site("Van", "mobile")
    factory.user("admin1", "admin", site_id=main)
    factory.user("admin2", "admin")  # no default site
    desk = factory.user("desk1", "front_desk", site_id=main)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    for n in range(5):
        person = factory.participant(f"OVER{n:04d}")
        factory.referral(person, user_id=desk, now=long_ago, site_id=main if n < 2 else van)

    admin = Browser(app.test_client())
    admin.sign_in("admin1")
    home = admin.get("/").get_data(as_text=True)
    button = re.search(r'<a class="button" id="home-follow-ups" href="([^"]+)">(.*?)</a>', home)
    assert _text(button.group(2)) == "Follow-ups at Main site: 2 overdue, 0 due today"
    assert _month_table(home)["Follow-ups overdue now, all sites"][0] == "5"
    here = admin.get(button.group(1).replace("&amp;", "&")).get_data(as_text=True)
    everywhere = admin.get("/follow-ups").get_data(as_text=True)
    overdue = re.compile(r'class="count overdue"><strong>(\d+)</strong> overdue')
    assert overdue.search(here).group(1) == "2" and overdue.search(everywhere).group(1) == "5"

    admin = Browser(app.test_client())
    admin.sign_in("admin2")
    home = admin.get("/").get_data(as_text=True)
    button = re.search(r'id="home-follow-ups" href="[^"]+">(.*?)</a>', home)
    assert _text(button.group(1)) == "Follow-ups at all sites: 5 overdue, 0 due today"
    assert _month_table(home)["Follow-ups overdue now, all sites"][0] == "5"
