"""Keeping the worklist honest (issue 16, items 6 and 8): follow-ups nobody could reach
close on their own, last seen and days overdue, one count for the menu and the home page,
no "got in?" on the referral's day, the follow-up page's referral details, and the
referrals list for managers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from ssp import timeutil
from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.referrals.models import FollowUp, FollowUpStatus, Referral, ReferralStatus
from tests.referrals.test_referrals import _browser, _today


@pytest.fixture
def world(app, factory):
    """Two sites, two partners, three participants, a front-desk user and a manager."""
    app.config["VISIT_BACKDATE_DAYS"] = 100_000  # visits from months back
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "clinic": factory.partner("Bridge Clinic", ["moud", "hcv_treatment"]),
        "housing": factory.partner("Safe Homes", ["housing"], contact=None),
        "syringe": factory.supply_item(),
    }
    ids["ana"] = factory.participant("ANNA1111", site_id=ids["main"])
    ids["jo"] = factory.participant("JOSE0190", site_id=ids["van"])
    ids["ma"] = factory.participant("MAPH0687", site_id=ids["main"])
    ids["desk"] = factory.user("desk1", "front_desk", site_id=ids["main"])
    ids["manager"] = factory.user("boss1", "manager", site_id=ids["main"])
    return ids


def _day(day: dt.date) -> str:
    """A day as the English pages write it ("Nov 14, 2026")."""
    return f"{day:%b} {day.day}, {day:%Y}"


def _noon(app, days_ago: int) -> dt.datetime:
    """Noon in the program's time zone, ``days_ago`` days before today, in UTC."""
    with app.app_context():
        day = timeutil.program_today() - dt.timedelta(days=days_ago)
        local = dt.datetime.combine(day, dt.time(12), tzinfo=timeutil.program_zone())
    return local.astimezone(dt.UTC)


def _referral(app, factory, world, who: str, *, days_ago: int, **kwargs) -> int:
    """A referral made ``days_ago`` days back; its follow-up is due 7 days after."""
    return factory.referral(world[who], user_id=world["desk"], now=_noon(app, days_ago), **kwargs)


def _follow_up_of(app, referral_id: int) -> FollowUp:
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.referral_id == referral_id))
        db.session.expunge(follow_up)
        return follow_up


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        for event in events:
            db.session.expunge(event)
        return events


# --- closing follow-ups nobody could reach ---------------------------------------------


def test_a_follow_up_61_days_without_contact_closes_via_the_command(app, world, factory):
    # Due 61 days ago, last seen 100 days ago: 61 days without contact.
    factory.visit(
        world["ana"], user_id=world["desk"], site_id=world["main"], occurred_at=_noon(app, 100)
    )
    stale = _referral(app, factory, world, "ana", days_ago=68)
    # Due 60 days ago: not yet more than 60 days.
    boundary = _referral(app, factory, world, "ma", days_ago=67)
    # Due 61 days ago, but seen 10 days ago: in touch, it stays.
    seen = _referral(app, factory, world, "jo", days_ago=68)
    factory.visit(
        world["jo"], user_id=world["desk"], site_id=world["van"], occurred_at=_noon(app, 10)
    )
    assert _follow_up_of(app, stale).due_on == _today(app) - dt.timedelta(days=61)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["close-stale-follow-ups", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run, nothing changed: 1 follow-up with no contact" in dry.output
    assert _follow_up_of(app, stale).status == FollowUpStatus.OPEN

    first = runner.invoke(args=["close-stale-follow-ups"])
    assert first.exit_code == 0, first.output
    assert "Closed 1 follow-up as could not reach (no contact for more than 60 days)" in (
        first.output
    )
    closed = _follow_up_of(app, stale)
    assert (closed.status, closed.outcome.value, closed.closed_automatically) == (
        FollowUpStatus.UNREACHABLE,
        "unreachable",
        True,
    )
    assert closed.done_at is not None
    for other in (boundary, seen):
        assert _follow_up_of(app, other).status == FollowUpStatus.OPEN
    with app.app_context():  # the referral is left for a manager to decide
        assert db.session.get(Referral, stale).status == ReferralStatus.MADE

    [event] = _events(app, "follow_up_closed_automatically")
    assert (event.object_type, event.object_id, event.user_id) == ("follow_up", closed.id, None)
    assert event.detail["participant_id"] == world["ana"]
    assert event.detail["days_without_contact"] == 61
    assert event.detail["last_seen_on"] == (_today(app) - dt.timedelta(days=100)).isoformat()
    assert event.detail["status"] == "unreachable" and event.detail["close_after_days"] == 60

    second = runner.invoke(args=["close-stale-follow-ups"])
    assert second.exit_code == 0 and "Closed 0 follow-ups" in second.output
    assert len(_events(app, "follow_up_closed_automatically")) == 1

    # Its page says nobody tried; the month's report counts it as could not reach.
    manager = _browser(app, "boss1")
    page = manager.get(f"/follow-ups/{closed.id}").get_data(as_text=True)
    assert "Could not reach</strong>: closed automatically on" in page
    from ssp.reporting.metrics import referrals as referral_figures
    from ssp.reporting.periods import Month

    with app.app_context():
        today = timeutil.program_today()
        figures = referral_figures(Month(today.year, today.month), timeutil.program_zone())
    assert figures.follow_ups_unreachable == 1


def test_saving_closes_stale_follow_ups_but_spares_the_person_at_hand(app, world, factory):
    mine = _referral(app, factory, world, "ana", days_ago=90)
    theirs = _referral(app, factory, world, "jo", days_ago=90)
    desk = _browser(app, "desk1")
    follow_up = _follow_up_of(app, mine)
    response = desk.post(f"/follow-ups/{follow_up.id}/outcome", {"outcome": "waiting"})
    assert response.status_code == 303
    kept = _follow_up_of(app, mine)
    assert kept.status == FollowUpStatus.OPEN and kept.due_on > _today(app)
    assert _follow_up_of(app, theirs).status == FollowUpStatus.UNREACHABLE
    [event] = _events(app, "follow_up_closed_automatically")
    assert event.object_id == _follow_up_of(app, theirs).id
    assert event.user_id == world["desk"]  # whose save it rode along with


def test_visit_saves_look_for_stale_follow_ups_every_few_minutes(app, world, factory, monkeypatch):
    from ssp.referrals import services
    from tests.visits.test_record_visit import _form

    clock = [1000.0]
    monkeypatch.setattr(services, "_sweep_clock", lambda: clock[0])
    first = _referral(app, factory, world, "jo", days_ago=90)
    desk = _browser(app, "desk1")

    def save_visit() -> None:
        url = f"/participants/{world['ana']}/visits/new"
        data = _form(desk, url)
        data[f"item_{world['syringe']}"] = "10"
        assert desk.post(url, data).status_code == 303

    save_visit()  # the first save after start-up looks
    assert _follow_up_of(app, first).status == FollowUpStatus.UNREACHABLE
    second = _referral(app, factory, world, "ma", days_ago=90)
    clock[0] += services.SWEEP_EVERY_SECONDS - 1
    save_visit()  # too soon to look again
    assert _follow_up_of(app, second).status == FollowUpStatus.OPEN
    clock[0] += 1
    save_visit()
    assert _follow_up_of(app, second).status == FollowUpStatus.UNREACHABLE
    assert len(_events(app, "follow_up_closed_automatically")) == 2


def test_automatic_closing_can_be_turned_off_and_a_bad_setting_stops_the_app(
    app, world, factory, tmp_path
):
    from ssp.config import ConfigError
    from tests.conftest import make_app

    stale = _referral(app, factory, world, "ana", days_ago=90)
    app.config["FOLLOW_UP_CLOSE_AFTER_DAYS"] = 0
    result = app.test_cli_runner().invoke(args=["close-stale-follow-ups"])
    assert "no follow-up is closed automatically" in result.output
    assert _follow_up_of(app, stale).status == FollowUpStatus.OPEN
    with pytest.raises(ConfigError, match="FOLLOW_UP_CLOSE_AFTER_DAYS"):
        make_app(tmp_path / "bad", FOLLOW_UP_CLOSE_AFTER_DAYS="sixty")


# --- the worklist: last seen and days overdue ------------------------------------------


def _worklist_rows(browser, query: str = "") -> dict[str, tuple[str, str]]:
    page = browser.get("/follow-ups" + query).get_data(as_text=True)
    rows = re.findall(
        r'<td[^>]*class="num days-overdue">(.*?)</td>\s*'
        r'<td[^>]*><a class="code"[^>]*>(\w+)</a></td>'
        r'\s*<td[^>]*class="last-seen">(.*?)</td>',
        page,
        re.S,
    )
    return {code: (re.sub(r"<[^>]+>[^<]*</span>", "", days), seen) for days, code, seen in rows}


def test_the_worklist_shows_last_seen_and_days_overdue(app, world, factory):
    factory.visit(
        world["ana"], user_id=world["desk"], site_id=world["main"], occurred_at=_noon(app, 20)
    )
    factory.visit(
        world["ana"], user_id=world["desk"], site_id=world["main"], occurred_at=_noon(app, 30)
    )
    _referral(app, factory, world, "ana", days_ago=12)  # due 5 days ago
    _referral(app, factory, world, "jo", days_ago=0)  # due in 7 days, never visited
    desk = _browser(app, "desk1")
    last_visit = _day(_today(app) - dt.timedelta(days=20))
    assert _worklist_rows(desk) == {
        "ANNA1111": ("5", last_visit),
        "JOSE0190": ("—", "No visit yet"),
    }
    page = desk.get("/follow-ups").get_data(as_text=True)
    assert "after more than 60 days without contact" in page


# --- one count for the menu badge and the home page --------------------------------------


def _badge(page: str) -> int | None:
    match = re.search(r'<strong class="badge" id="follow-ups-due">(\d+)</strong>', page)
    return int(match.group(1)) if match else None


def _home_button(page: str) -> tuple[int, int]:
    match = re.search(
        r"Follow-ups at [^:<]+: <strong>(\d+)</strong> overdue, <strong>(\d+)</strong> due today",
        page,
    )
    return int(match.group(1)), int(match.group(2))


def test_the_menu_badge_and_the_home_button_count_the_same(app, world, factory):
    _referral(app, factory, world, "ana", days_ago=9, site_id=world["main"])  # overdue
    _referral(app, factory, world, "ma", days_ago=7, site_id=world["main"])  # due today
    _referral(app, factory, world, "ma", days_ago=1, site_id=world["main"])  # upcoming
    _referral(app, factory, world, "jo", days_ago=30, site_id=world["van"])  # another site
    desk = _browser(app, "desk1")
    home = desk.get("/").get_data(as_text=True)
    overdue, due_today = _home_button(home)
    assert (overdue, due_today) == (1, 1)
    assert _badge(home) == overdue + due_today == 2
    assert _badge(desk.get("/stock").get_data(as_text=True)) == 2  # on every page
    link = f'href="/follow-ups?site={world["main"]}"'
    assert home.count(link) == 2  # the menu and the button open the same list

    factory.user("root1", "admin")  # no site: every site
    admin = _browser(app, "root1")
    home = admin.get("/").get_data(as_text=True)
    assert _home_button(home) == (2, 1) and _badge(home) == 3

    with app.app_context():  # nothing to act on: no badge, the button says 0
        for follow_up in db.session.scalars(select(FollowUp)):
            follow_up.status = FollowUpStatus.CANCELLED
        db.session.commit()
    home = desk.get("/").get_data(as_text=True)
    assert _badge(home) is None and _home_button(home) == (0, 0)


# --- the banner on the visit form ------------------------------------------------------


def test_no_got_in_banner_on_the_day_the_referral_was_made(app, world, factory):
    desk = _browser(app, "desk1")
    made = desk.post(
        f"/participants/{world['ana']}/referrals/new",
        {"category": "moud", "partner_id": str(world["clinic"])},
    )
    assert made.status_code == 303
    form = desk.get(f"/participants/{world['ana']}/visits/new").get_data(as_text=True)
    assert "ask whether they got in" not in form
    assert "to ask about" not in form
    assert "MOUD referral made today to Bridge Clinic: nothing to ask yet" in form
    # The participant page says the same: no "got in?" buttons on the day itself.
    show = desk.get(f"/participants/{world['ana']}").get_data(as_text=True)
    assert "MOUD referral made today to Bridge Clinic: nothing to ask yet" in show
    assert "to ask about" not in show and "Got in / seen" not in show

    # A referral from another day is asked about, its answer just above Save.
    _referral(app, factory, world, "ana", days_ago=3, category="housing")
    form = desk.get(f"/participants/{world['ana']}/visits/new").get_data(as_text=True)
    assert "1 follow-up to ask about" in form
    assert "Housing referral made on" in form and "ask how the appointment went" in form
    assert "ask whether they got in" not in form
    assert "MOUD referral made today to Bridge Clinic: nothing to ask yet" in form
    answers = form[form.index('id="follow-up-answers"') : form.index('class="form-actions"')]
    assert answers.count("<select") == 1 and "Outcome of: Housing referral" in answers
    show = desk.get(f"/participants/{world['ana']}").get_data(as_text=True)
    assert "1 follow-up to ask about" in show and show.count("Got in / seen") == 1
    assert "MOUD referral made today to Bridge Clinic: nothing to ask yet" in show


# --- the follow-up page ----------------------------------------------------------------


def test_the_follow_up_page_shows_the_referrals_date_partner_and_note(app, world, factory):
    desk = _browser(app, "desk1")
    desk.post(
        f"/participants/{world['ana']}/referrals/new",
        {"category": "moud", "partner_id": str(world["clinic"]), "note": "Prefers mornings"},
    )
    with app.app_context():
        follow_up_id = db.session.scalar(select(FollowUp.id))
    page = desk.get(f"/follow-ups/{follow_up_id}").get_data(as_text=True)
    made = re.search(r'<dd class="referral-made">([^<]*)</dd>', page).group(1)
    assert made == _day(_today(app)) + " at Main site"
    partner = re.search(r'<dd class="referral-partner">(.*?)</dd>', page).group(1)
    assert partner.startswith("Bridge Clinic") and "Intake line 555-0100" in partner
    assert '<dd class="referral-note">Prefers mornings</dd>' in page
    assert "<dt>Last seen</dt><dd>No visit yet</dd>" in page


# --- the referrals list ----------------------------------------------------------------


def test_the_referrals_list_filters_and_pages(app, world, factory):
    old = _referral(
        app, factory, world, "ana", days_ago=40, partner_id=world["clinic"], site_id=world["main"]
    )
    housing = _referral(
        app,
        factory,
        world,
        "jo",
        days_ago=5,
        category="housing",
        partner_id=world["housing"],
        site_id=world["van"],
    )
    _referral(
        app, factory, world, "ma", days_ago=0, category="hcv_treatment", site_id=world["main"]
    )
    manager = _browser(app, "boss1")
    assert manager.post(f"/referrals/{old}/status", {"status": "completed"}).status_code == 303
    # A referral on a voided visit counts nowhere and is not listed.
    visit_id = factory.visit(world["ma"], user_id=world["desk"], site_id=world["main"])
    with app.app_context():
        from ssp.referrals import services
        from ssp.staff.models import User

        services.make_referral(
            participant_id=world["ma"],
            category="prep",
            partner_id=None,
            user=db.session.get(User, world["desk"]),
            visit_id=visit_id,
            site_id=world["main"],
        )
        db.session.commit()
    assert manager.post(f"/visits/{visit_id}/void", {"reason": "Entered twice"}).status_code == 303
    desk = _browser(app, "desk1")

    def rows(query: str = "") -> list[tuple[str, str]]:
        response = manager.get("/referrals" + query)
        assert response.status_code == 200, query
        return re.findall(
            r'class="code" href="/participants/\d+">(\w+)</a>.*?<td[^>]*class="num age">(\d+)</td>',
            response.get_data(as_text=True),
            re.S,
        )

    assert rows() == [("MAPH0687", "0"), ("JOSE0190", "5"), ("ANNA1111", "40")]
    assert rows("?sort=made") == [("ANNA1111", "40"), ("JOSE0190", "5"), ("MAPH0687", "0")]
    assert [code for code, _ in rows("?status=open")] == ["MAPH0687", "JOSE0190"]
    assert [code for code, _ in rows("?status=completed")] == ["ANNA1111"]
    assert [code for code, _ in rows(f"?partner={world['housing']}")] == ["JOSE0190"]
    assert [code for code, _ in rows("?partner=none")] == ["MAPH0687"]
    assert [code for code, _ in rows("?category=housing")] == ["JOSE0190"]
    assert [code for code, _ in rows(f"?site={world['main']}")] == ["MAPH0687", "ANNA1111"]
    today = _today(app)
    six_days = (today - dt.timedelta(days=6)).isoformat()
    five_days = (today - dt.timedelta(days=5)).isoformat()
    assert [code for code, _ in rows(f"?start={six_days}")] == ["MAPH0687", "JOSE0190"]
    assert [code for code, _ in rows(f"?start={six_days}&end={five_days}")] == ["JOSE0190"]
    assert [code for code, _ in rows(f"?end={five_days}&status=open")] == ["JOSE0190"]
    page = manager.get("/referrals?status=completed").get_data(as_text=True)
    assert "Completed (linked to care), " + _day(today) in page
    assert f'href="/referrals/{housing}"' in manager.get("/referrals").get_data(as_text=True)

    app.config["REFERRALS_PAGE_SIZE"] = 2
    assert [code for code, _ in rows()] == ["MAPH0687", "JOSE0190"]
    page_two = manager.get("/referrals?page=2").get_data(as_text=True)
    assert "Page 2 of 2 (3 referrals)" in page_two and "ANNA1111" in page_two

    for bad in (
        "?status=gone",
        "?partner=x",
        "?category=astrology",
        "?site=abc",
        "?start=2026-13-01",
        f"?start={five_days}&end={six_days}",
        "?sort=code",
        "?page=0",
    ):
        assert manager.get("/referrals" + bad).status_code == 400, bad
    assert desk.get("/referrals").status_code == 403

    # Showing the codes is audited, like every page that shows them.
    with app.app_context():
        shown = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participants_shown")
        ).all()
        listed = [e for e in shown if e.detail["endpoint"] == "referrals.referral_list"]
        assert listed and set(listed[0].detail["participants"]) == {
            world["ana"],
            world["jo"],
            world["ma"],
        }
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 4
