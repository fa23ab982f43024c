"""Input that once caused 500s or silent mistakes: absurd ids, non-ASCII digits, dates at
the edge of the calendar, odd JSON, a failing write, bad settings."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, func, select

from ssp.extensions import db
from ssp.timeutil import program_today, utcnow

HUGE = "9" * 25


@pytest.fixture
def manager(app, factory, signed_in):
    factory.site("Main site")
    factory.supply_item()
    factory.participant("MAPH0687")
    return signed_in("manager")


@pytest.mark.parametrize(
    "url",
    [
        f"/participants/{HUGE}",
        f"/visits/{HUGE}",
        f"/referrals/{HUGE}",
        f"/follow-ups/{HUGE}",
        f"/participants/{2**31}",
        "/participants/0",
    ],
)
def test_absurd_ids_in_paths_are_404(manager, url):
    assert manager.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/follow-ups?site={HUGE}",
        f"/follow-ups?assignee={HUGE}",
        "/follow-ups?site=²",
        f"/follow-ups?page={HUGE}",
        f"/stock/movements?item={HUGE}",
        "/stock/movements?site=١",
        f"/stock/count?site={HUGE}",
        "/stock/movements?end=9999-12-31",
        "/stock/movements.csv?start=0001-01-01",
        f"/stock/movements?page={HUGE}",
    ],
)
def test_absurd_query_values_are_400(manager, url):
    with manager.client.get(url) as response:
        assert response.status_code == 400, url


def test_absurd_field_names_are_ignored(app, manager):
    page = manager.get("/participants/1/visits/new").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    data.update({"site_id": "1", "kind": "fixed", f"item_{HUGE}": "5", "item_²": "3"})
    assert manager.post("/participants/1/visits/new", data).status_code == 303
    with app.app_context():
        today = program_today()
    count = manager.post(
        "/stock/count?site=1", {"occurred_on": today.isoformat(), f"count_{HUGE}": "4"}
    )
    assert count.status_code in (303, 422)


def test_dates_at_the_edge_of_the_calendar_are_refused(app, manager):
    page = manager.get("/participants/1/visits/new").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    data.update({"site_id": "1", "kind": "fixed", "occurred_at": "9999-12-31T23:00"})
    response = manager.post("/participants/1/visits/new", data)
    assert response.status_code == 422
    assert "between 2000 and 2100" in response.get_data(as_text=True)
    follow_up = manager.post(
        "/participants/1/follow-ups/new", {"reason": "ID", "due_on": "9999-12-31"}
    )
    assert follow_up.status_code == 422


def test_search_api_with_odd_json(manager):
    manager.get("/")
    for body in ([1, 2], "text", 5, None, {"q": ["a"]}, {"q": 12345}):
        response = manager.client.post(
            "/api/participants/search", json=body, headers={"X-CSRFToken": manager.token}
        )
        assert response.status_code == 200, body


def test_a_failed_write_gives_the_friendly_page_and_keeps_no_note_in_the_log(app, manager, caplog):
    """A database error mid-write: the session is rolled back, the 500 page renders, and the
    logged error carries no parameters (no code, no note)."""

    from ssp.referrals.models import FollowUp

    with app.app_context():
        engine = db.engine
        today = program_today()

    def fail_follow_up_insert(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO follow_ups"):
            raise ValueError("simulated database failure")

    event.listen(engine, "before_cursor_execute", fail_follow_up_insert)
    try:
        response = manager.post(
            "/participants/1/follow-ups/new",
            {"reason": "MARKER-NOTE-7731", "due_on": today.isoformat()},
        )
    finally:
        event.remove(engine, "before_cursor_execute", fail_follow_up_insert)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "MARKER-NOTE-7731" not in caplog.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_a_non_duplicate_integrity_error_is_not_reported_as_saved(app, manager, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    import ssp.visits.desk as desk
    from ssp.visits.models import Visit

    def conflict(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("foreign key"))

    monkeypatch.setattr(desk, "record_outcome", conflict)
    monkeypatch.setattr(desk.services, "record_visit", conflict)
    page = manager.get("/participants/1/visits/new").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    data.update({"site_id": "1", "kind": "fixed", "item_1": "5"})
    response = manager.post("/participants/1/visits/new", data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "could not be saved" in body and "Visit saved." not in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_codes_stay_out_of_flash_cookies_and_page_titles(app, signed_in):
    desk = signed_in("front_desk")
    desk.post("/participants/new", {"code": "ZZQQ1122"})
    cookie = desk.client.get_cookie("session").value
    import base64
    import zlib

    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    text = zlib.decompress(raw).decode() if cookie.startswith(".") else raw.decode()
    assert "ZZQQ1122" not in text
    with app.app_context():
        from ssp.participants.models import Participant

        participant_id = db.session.scalar(select(Participant.id))
    for url in (
        f"/participants/{participant_id}",
        f"/participants/{participant_id}/visits/new",
        f"/participants/{participant_id}/edit",
        f"/participants/{participant_id}/referrals/new",
    ):
        title = re.search(r"<title>(.*?)</title>", desk.get(url).get_data(as_text=True), re.S)
        assert "ZZQQ1122" not in title.group(1), url


def test_a_backdated_count_corrects_the_books_as_they_stood(app, factory, signed_in):
    from ssp.staff.models import User
    from ssp.supplies import stock

    site = factory.site()
    item = factory.supply_item()
    participant = factory.participant()
    boss = signed_in("manager")
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager1"))
        now = utcnow()
        stock.receive(
            site_id=site,
            occurred_on=(now - dt.timedelta(days=5)).date(),
            lines=[stock.ReceiptLine(item, 100)],
            source=None,
            user=manager,
            now=now,
        )
        manager_id = manager.id
        db.session.commit()
    factory.visit(participant, user_id=manager_id, site_id=site, items={item: 30})
    three_days_ago = (utcnow() - dt.timedelta(days=3)).date().isoformat()
    response = boss.post(
        f"/stock/count?site={site}",
        {"occurred_on": three_days_ago, f"count_{item}": "100", f"reason_{item}": "count"},
    )
    assert response.status_code == 303
    with app.app_context():
        assert stock.on_hand(site, item) == 70  # nothing was missing three days ago


def test_a_referral_on_a_backdated_visit_counts_in_the_visits_month(app, factory, signed_in):
    from ssp.referrals.models import Referral
    from ssp.visits.models import Visit

    factory.site()
    participant = factory.participant()
    desk = signed_in("front_desk")
    page = desk.get(f"/participants/{participant}/visits/new").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    when = utcnow() - dt.timedelta(days=20)
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%dT%H:%M")
    data.update(
        {"site_id": "1", "kind": "fixed", "occurred_at": local, "referral_category": "moud"}
    )
    assert desk.post(f"/participants/{participant}/visits/new", data).status_code == 303
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        referral = db.session.scalar(select(Referral))
        assert referral.made_at == visit.occurred_at


def test_bad_settings_stop_the_app_with_a_clear_message(tmp_path):
    from ssp import create_app
    from ssp.config import ConfigError
    from tests.conftest import app_config

    with pytest.raises(ConfigError, match="not a time zone"):
        create_app(app_config(tmp_path, TIMEZONE="Mars/Base"))
    app = create_app({**app_config(tmp_path), "TESTING": False, "SECRET_KEY": 12345678901234567890})
    assert app.config["SECRET_KEY"] == "12345678901234567890"


def test_create_user_on_a_database_without_tables_is_one_line(tmp_path):
    from tests.test_cli import run

    result = run(
        ["create-user", "someone", "--role", "admin"],
        SSP_SECRET_KEY="x" * 20,
        SSP_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "run `ssp db upgrade`" in lines[0]
