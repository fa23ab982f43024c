"""Referrals and follow-ups: lifecycle, per-category delays, the banner, the worklist and its
time-zone edge, roles and bad input."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from ssp import timeutil
from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.referrals.models import (
    FollowUp,
    FollowUpStatus,
    Partner,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
)
from tests.conftest import Browser


@pytest.fixture
def world(app, factory):
    """Two sites, a partner, a participant, a front-desk user and a manager."""
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "clinic": factory.partner("Bridge Clinic", ["moud", "hcv_treatment"]),
        "housing": factory.partner("Safe Homes", ["housing"]),
        "syringe": factory.supply_item(),
    }
    ids["participant"] = factory.participant("MAPH0687", site_id=ids["main"])
    ids["desk"] = factory.user("desk1", "front_desk", site_id=ids["main"])
    ids["manager"] = factory.user("boss1", "manager", site_id=ids["main"])
    return ids


def _browser(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.sign_in(username).status_code == 200
    return browser


def _get(app, model, object_id):
    with app.app_context():
        obj = db.session.get(model, object_id)
        db.session.expunge(obj)
        return obj


def _today(app) -> dt.date:
    with app.app_context():
        return timeutil.program_today()


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- partners ----------------------------------------------------------------------


def test_partner_directory(app, signed_in):
    admin = signed_in("admin")
    response = admin.post(
        "/admin/partners/new",
        {
            "name": "Harbor Health",
            "categories": ["hiv_care", "prep"],
            "contact": "Walk-in Tue and Thu",
        },
        follow_redirects=True,
    )
    assert "Harbor Health added to the partner directory." in response.get_data(as_text=True)
    with app.app_context():
        partner = db.session.scalar(select(Partner))
        assert partner.categories == ["hiv_care", "prep"]
        partner_id = partner.id
    bad = admin.post("/admin/partners/new", {"name": "Nobody", "categories": []})
    assert bad.status_code == 422 and "Tick at least one category." in bad.get_data(as_text=True)
    bad = admin.post("/admin/partners/new", {"name": "harbor HEALTH", "categories": ["prep"]})
    assert "There is already a partner" in bad.get_data(as_text=True)
    bad = admin.post("/admin/partners/new", {"name": "X2", "categories": ["astrology"]})
    assert bad.status_code == 422
    admin.post(
        f"/admin/partners/{partner_id}",
        {"name": "Harbor Health Center", "categories": ["hiv_care"], "contact": ""},
    )
    admin.post(f"/admin/partners/{partner_id}/deactivate")
    partner = _get(app, Partner, partner_id)
    assert (partner.name, partner.categories, partner.contact, partner.active) == (
        "Harbor Health Center",
        ["hiv_care"],
        None,
        False,
    )
    assert _count(app, Partner) == 1


# --- referrals and their lifecycle ---------------------------------------------------


def test_referral_from_participant_page_creates_follow_up_with_category_delay(app, world):
    app.config["FOLLOW_UP_DAYS"] = {"moud": 3}
    desk = _browser(app, "desk1")
    page = desk.get(f"/participants/{world['participant']}/referrals/new").get_data(as_text=True)
    assert 'data-categories="moud hcv_treatment"' in page
    response = desk.post(
        f"/participants/{world['participant']}/referrals/new",
        {"category": "moud", "partner_id": str(world["clinic"]), "note": "Prefers mornings"},
    )
    assert response.status_code == 303
    desk.post(f"/participants/{world['participant']}/referrals/new", {"category": "housing"})
    with app.app_context():
        referrals = db.session.scalars(select(Referral).order_by(Referral.id)).all()
        today = timeutil.program_today()
        follow_ups = {f.referral.category.value: f for f in db.session.scalars(select(FollowUp))}
        assert [r.status for r in referrals] == [ReferralStatus.MADE, ReferralStatus.MADE]
        assert referrals[0].partner_id == world["clinic"] and referrals[0].site_id == world["main"]
        assert follow_ups["moud"].due_on == today + dt.timedelta(days=3)
        assert follow_ups["housing"].due_on == today + dt.timedelta(days=7)
        assert follow_ups["moud"].site_id == world["main"]
        assert [c.to_status for c in referrals[0].changes] == [ReferralStatus.MADE]


def test_status_moves_forward_and_only_managers_correct(app, world, factory):
    referral = factory.referral(world["participant"], user_id=world["desk"])
    desk = _browser(app, "desk1")
    page = desk.get(f"/referrals/{referral}").get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)"', page)
    assert options == ["accepted", "completed", "declined", "lost"]

    assert desk.post(f"/referrals/{referral}/status", {"status": "accepted"}).status_code == 303
    assert desk.post(f"/referrals/{referral}/status", {"status": "completed"}).status_code == 303
    refused = desk.post(f"/referrals/{referral}/status", {"status": "accepted"})
    assert refused.status_code == 422
    assert "cannot go from completed" in refused.get_data(as_text=True)
    assert _get(app, Referral, referral).status == ReferralStatus.COMPLETED
    assert _get(app, Referral, referral).closed_at is not None

    manager = _browser(app, "boss1")
    assert manager.post(f"/referrals/{referral}/status", {"status": "accepted"}).status_code == 303
    corrected = _get(app, Referral, referral)
    assert corrected.status == ReferralStatus.ACCEPTED and corrected.closed_at is None
    with app.app_context():
        history = db.session.scalars(
            select(ReferralStatusChange).order_by(ReferralStatusChange.id)
        ).all()
        assert [
            (h.from_status and h.from_status.value, h.to_status.value, h.correction, h.user_id)
            for h in history
        ] == [
            (None, "made", False, world["desk"]),
            ("made", "accepted", False, world["desk"]),
            ("accepted", "completed", False, world["desk"]),
            ("completed", "accepted", True, world["manager"]),
        ]
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "referral_status_changed")
            .order_by(AuditEvent.id)
        ).all()
        assert [e.detail["correction"] for e in events] == [False, False, True]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"category": "astrology"}, "category", "Not a valid choice"),
        (
            {"category": "housing", "partner_id": "{clinic}"},
            "partner_id",
            "Bridge Clinic does not take Housing referrals.",
        ),
        ({"category": "moud", "partner_id": "999"}, "partner_id", "Not a valid choice"),
        ({"category": "moud", "note": "x" * 201}, "note", "Field cannot be longer than 200"),
    ],
)
def test_bad_referral_input_writes_nothing(app, world, data, field, message):
    desk = _browser(app, "desk1")
    data = {k: v.format(**world) for k, v in data.items()}
    response = desk.post(f"/participants/{world['participant']}/referrals/new", data)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert error and message in error.group(1), (field, error and error.group(1))
    assert _count(app, Referral) == _count(app, FollowUp) == 0


def test_deactivated_partner_is_not_offered_but_stays_on_old_referrals(app, world, factory):
    referral = factory.referral(
        world["participant"], user_id=world["desk"], partner_id=world["clinic"]
    )
    with app.app_context():
        db.session.get(Partner, world["clinic"]).active = False
        db.session.commit()
    desk = _browser(app, "desk1")
    form = desk.get(f"/participants/{world['participant']}/referrals/new").get_data(as_text=True)
    assert "Bridge Clinic" not in form
    assert "Bridge Clinic (no longer in use)" in desk.get(f"/referrals/{referral}").get_data(
        as_text=True
    )
    refused = desk.post(
        f"/participants/{world['participant']}/referrals/new",
        {"category": "moud", "partner_id": str(world["clinic"])},
    )
    assert refused.status_code == 422


# --- follow-ups by hand ------------------------------------------------------------


def test_follow_up_by_hand_and_bad_dates(app, world):
    desk = _browser(app, "desk1")
    url = f"/participants/{world['participant']}/follow-ups/new"
    today = _today(app)
    past = desk.post(
        url,
        {
            "reason": "Bring ID documents",
            "due_on": (today - dt.timedelta(days=1)).isoformat(),
            "assigned_user_id": "",
        },
    )
    assert past.status_code == 422 and "cannot be in the past" in past.get_data(as_text=True)
    empty = desk.post(url, {"reason": "", "due_on": today.isoformat()})
    assert empty.status_code == 422
    bad_date = desk.post(url, {"reason": "ID", "due_on": "31/02/2026"})
    assert bad_date.status_code == 422 and "Not a valid date value" in bad_date.get_data(
        as_text=True
    )
    assert _count(app, FollowUp) == 0
    ok = desk.post(
        url,
        {
            "reason": "Bring ID documents",
            "due_on": today.isoformat(),
            "assigned_user_id": str(world["manager"]),
        },
    )
    assert ok.status_code == 303
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp))
        assert (
            follow_up.reason,
            follow_up.due_on,
            follow_up.assigned_user_id,
            follow_up.referral_id,
        ) == ("Bring ID documents", today, world["manager"], None)


# --- the banner at the desk ------------------------------------------------------------


def _visit_form(browser, url):
    page = browser.get(url).get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    data.update(
        {v: k for k, v in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"', page)}
    )
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        data[name] = chosen.group(1) if chosen else ""
    data.pop("save", None)
    return page, data


def test_banner_shows_for_a_returning_participant_and_goes_when_done(app, world, factory):
    referral = factory.referral(
        world["participant"],
        user_id=world["desk"],
        partner_id=world["clinic"],
        now=timeutil.utcnow() - dt.timedelta(days=10),  # on the referral's day it asks nothing
    )
    desk = _browser(app, "desk1")
    participant_page = desk.get(f"/participants/{world['participant']}").get_data(as_text=True)
    assert "1 follow-up to ask about" in participant_page
    assert re.search(
        r"MOUD referral made on \w+ \d+ to Bridge Clinic — ask whether they got "
        r"in\.",
        participant_page,
    )

    url = f"/participants/{world['participant']}/visits/new"
    page, data = _visit_form(desk, url)
    with app.app_context():
        follow_up_id = db.session.scalar(select(FollowUp.id))
    assert f'name="follow_up_{follow_up_id}"' in page and "ask whether they got in" in page
    data[f"follow_up_{follow_up_id}"] = "linked"
    data[f"item_{world['syringe']}"] = "10"
    assert desk.post(url, data).status_code == 303

    follow_up = _get(app, FollowUp, follow_up_id)
    assert follow_up.status == FollowUpStatus.DONE and follow_up.outcome.value == "linked"
    assert _get(app, Referral, referral).status == ReferralStatus.COMPLETED
    assert "follow-up to ask about" not in desk.get(
        f"/participants/{world['participant']}"
    ).get_data(as_text=True)


def test_banner_buttons_record_outcomes(app, world, factory):
    factory.referral(world["participant"], user_id=world["desk"])
    desk = _browser(app, "desk1")
    with app.app_context():
        follow_up_id = db.session.scalar(select(FollowUp.id))
    back = f"/participants/{world['participant']}"
    waiting = desk.post(f"/follow-ups/{follow_up_id}/outcome", {"outcome": "waiting", "next": back})
    assert waiting.status_code == 303 and waiting.headers["Location"] == back
    follow_up = _get(app, FollowUp, follow_up_id)
    assert follow_up.status == FollowUpStatus.OPEN
    assert follow_up.due_on == _today(app) + dt.timedelta(days=7)

    desk.post(f"/follow-ups/{follow_up_id}/outcome", {"outcome": "unreachable", "next": back})
    assert _get(app, FollowUp, follow_up_id).status == FollowUpStatus.UNREACHABLE
    again = desk.post(
        f"/follow-ups/{follow_up_id}/outcome",
        {"outcome": "linked", "next": back},
        follow_redirects=True,
    )
    assert "already closed" in again.get_data(as_text=True)
    outside = desk.post(
        f"/follow-ups/{follow_up_id}/outcome",
        {"outcome": "linked", "next": "https://elsewhere.example/"},
    )
    assert outside.headers["Location"] == back


def test_a_referral_made_on_the_visit_form_is_saved_with_the_visit(app, world):
    desk = _browser(app, "desk1")
    url = f"/participants/{world['participant']}/visits/new"
    _, data = _visit_form(desk, url)
    data.update(
        {"referral_category": "hcv_treatment", "referral_partner_id": str(world["housing"])}
    )
    bad = desk.post(url, data)
    assert bad.status_code == 422
    assert "Safe Homes does not take HCV treatment referrals." in bad.get_data(as_text=True)
    assert _count(app, Referral) == 0
    from ssp.visits.models import Visit

    assert _count(app, Visit) == 0  # the whole visit waits for the referral to be right

    data["referral_partner_id"] = str(world["clinic"])
    assert desk.post(url, data).status_code == 303
    with app.app_context():
        referral = db.session.scalar(select(Referral))
        visit = db.session.scalar(select(Visit))
        assert referral.visit_id == visit.id and referral.site_id == visit.site_id
    # Resubmitting the same form does not make a second referral.
    assert desk.post(url, data).status_code == 303
    assert _count(app, Referral) == 1 and _count(app, Visit) == 1


def test_walk_in_visits_offer_no_referral(app, world):
    desk = _browser(app, "desk1")
    assert "referral_category" not in desk.get("/visits/walk-in").get_data(as_text=True)


# --- the worklist ------------------------------------------------------------------


def _at(monkeypatch, utc: dt.datetime) -> None:
    monkeypatch.setattr(timeutil, "utcnow", lambda: utc)


def test_overdue_follows_midnight_in_the_program_time_zone(app, world, monkeypatch):
    from ssp.referrals import services
    from ssp.staff.models import User

    # 2026-11-23 is a Monday; Los Angeles is UTC-8 in November.
    made = dt.datetime(2026, 11, 16, 20, 0, tzinfo=dt.UTC)  # 12:00 in LA on the 16th
    with app.app_context():
        services.make_referral(
            participant_id=world["participant"],
            category="moud",
            partner_id=None,
            user=db.session.get(User, world["desk"]),
            now=made,
        )
        db.session.commit()
        assert db.session.scalar(select(FollowUp.due_on)) == dt.date(2026, 11, 23)
    _at(monkeypatch, dt.datetime(2026, 11, 24, 7, 59, tzinfo=dt.UTC))  # 23:59 on the 23rd
    desk = _browser(app, "desk1")  # signed in at that time, so the idle clock agrees
    page = desk.get("/follow-ups").get_data(as_text=True)
    assert re.search(r"<strong>0</strong> overdue", page)
    assert re.search(r"<strong>1</strong> due today", page)
    assert (
        "due today"
        in desk.get(f"/participants/{world['participant']}").get_data(as_text=True).lower()
    )

    _at(monkeypatch, dt.datetime(2026, 11, 24, 8, 1, tzinfo=dt.UTC))  # 00:01 on the 24th
    page = desk.get("/follow-ups").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> overdue", page)
    assert re.search(r"<strong>0</strong> due today", page)
    assert "Overdue since Nov 23, 2026" in desk.get(
        f"/participants/{world['participant']}"
    ).get_data(as_text=True)
    overdue = desk.get("/follow-ups?when=overdue").get_data(as_text=True)
    assert "MAPH0687" in overdue
    assert "MAPH0687" not in desk.get("/follow-ups?when=today").get_data(as_text=True)


def test_worklist_filters_sorting_and_paging(app, world, factory):
    other = factory.participant("JOSE0190", site_id=world["van"])
    third = factory.participant("ANNA1111")
    factory.referral(
        world["participant"], user_id=world["desk"], category="moud", site_id=world["main"]
    )
    factory.referral(other, user_id=world["desk"], category="housing", site_id=world["van"])
    desk = _browser(app, "desk1")
    today = _today(app)
    desk.post(
        f"/participants/{third}/follow-ups/new",
        {
            "reason": "Check wound",
            "due_on": (today + dt.timedelta(days=1)).isoformat(),
            "assigned_user_id": str(world["manager"]),
        },
    )

    def codes(query: str) -> list[str]:
        page = desk.get("/follow-ups" + query)
        assert page.status_code == 200, query
        return re.findall(
            r'class="code" href="/participants/\d+">(\w+)<', page.get_data(as_text=True)
        )

    assert codes("") == ["ANNA1111", "MAPH0687", "JOSE0190"]  # soonest due first
    assert codes("?sort=-due") == ["MAPH0687", "JOSE0190", "ANNA1111"]
    assert codes(f"?site={world['van']}") == ["JOSE0190"]
    assert codes("?category=housing") == ["JOSE0190"]
    assert codes("?category=none") == ["ANNA1111"]
    assert codes(f"?assignee={world['manager']}") == ["ANNA1111"]
    assert codes("?assignee=none") == ["MAPH0687", "JOSE0190"]
    assert codes("?assignee=me") == []
    assert codes("?when=upcoming&category=moud") == ["MAPH0687"]
    for bad in ("?when=someday", "?site=abc", "?category=astrology", "?sort=name", "?assignee=x"):
        assert desk.get("/follow-ups" + bad).status_code == 400, bad

    app.config["WORKLIST_PAGE_SIZE"] = 2
    assert codes("") == ["ANNA1111", "MAPH0687"]
    page_two = desk.get("/follow-ups?page=2").get_data(as_text=True)
    assert "Page 2 of 2 (3 follow-ups)" in page_two and "JOSE0190" in page_two
    assert codes("?page=99") == []


def test_dashboard_shows_the_sites_counts(app, world, factory):
    factory.referral(
        world["participant"],
        user_id=world["desk"],
        site_id=world["main"],
        now=timeutil.utcnow() - dt.timedelta(days=8),
    )
    desk = _browser(app, "desk1")
    home = desk.get("/").get_data(as_text=True)
    assert re.search(
        r"Follow-ups at Main site: <strong>1</strong> overdue, <strong>0</strong> due today", home
    )


def test_reschedule_reassign_and_cancel(app, world, factory):
    factory.referral(world["participant"], user_id=world["desk"])
    desk = _browser(app, "desk1")
    with app.app_context():
        follow_up_id = db.session.scalar(select(FollowUp.id))
    today = _today(app)
    past = desk.post(
        f"/follow-ups/{follow_up_id}",
        {"due_on": (today - dt.timedelta(days=3)).isoformat(), "assigned_user_id": ""},
    )
    assert past.status_code == 422
    later = (today + dt.timedelta(days=20)).isoformat()
    assert (
        desk.post(
            f"/follow-ups/{follow_up_id}", {"due_on": later, "assigned_user_id": str(world["desk"])}
        ).status_code
        == 303
    )
    follow_up = _get(app, FollowUp, follow_up_id)
    assert (follow_up.due_on.isoformat(), follow_up.assigned_user_id) == (later, world["desk"])
    assert desk.post(f"/follow-ups/{follow_up_id}/cancel").status_code == 303
    assert _get(app, FollowUp, follow_up_id).status == FollowUpStatus.CANCELLED
    assert "MAPH0687" not in desk.get("/follow-ups").get_data(as_text=True)


def test_merge_moves_referrals_and_follow_ups(app, world, factory):
    other = factory.participant("MAPH0678")
    factory.referral(other, user_id=world["desk"])
    manager = _browser(app, "boss1")
    manager.post(
        f"/participants/{world['participant']}/merge", {"other_code": "MAPH0678", "confirm": "y"}
    )
    with app.app_context():
        assert db.session.scalar(select(Referral.participant_id)) == world["participant"]
        assert db.session.scalar(select(FollowUp.participant_id)) == world["participant"]


def test_ending_a_referral_closes_its_open_follow_up(app, world, factory):
    referral = factory.referral(world["participant"], user_id=world["desk"])
    desk = _browser(app, "desk1")
    assert desk.post(f"/referrals/{referral}/status", {"status": "lost"}).status_code == 303
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp))
        assert (follow_up.status, follow_up.outcome.value) == (
            FollowUpStatus.UNREACHABLE,
            "unreachable",
        )
    assert "follow-up to ask about" not in desk.get(
        f"/participants/{world['participant']}"
    ).get_data(as_text=True)
