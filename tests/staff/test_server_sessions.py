"""Server-side sessions: a copied cookie dies with its session, at the idle limit, at
sign-out, when its owner signs out everywhere or changes their password, and when an
admin ends it; people see their sessions."""

from __future__ import annotations

from sqlalchemy import select

from ssp.extensions import db
from tests.conftest import PASSWORD, Browser, who


def _copy(app, browser: Browser) -> Browser:
    """Another browser holding the same cookie (a stolen or copied session)."""
    thief = app.test_client()
    thief.set_cookie("session", browser.client.get_cookie("session").value)
    return Browser(thief)


def _signed_in(app, username: str, agent: str = "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0"):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    browser = Browser(client)
    assert who(username) in browser.sign_in(username).get_data(as_text=True)
    return browser


def test_a_copied_cookie_dies_at_its_owners_idle_limit_even_if_the_copy_is_busy(
    app, factory, clock
):
    factory.user("desk1", "front_desk")
    desk = _signed_in(app, "desk1")
    thief = _copy(app, desk)
    assert thief.client.get("/").status_code == 200  # the copy works while the session lives
    clock.advance(minutes=16)
    # The copy's request finds the session idle: it ends, for both cookies.
    assert thief.client.get("/").status_code == 302
    assert desk.client.get("/").status_code == 302
    from ssp.staff.sessions import StaffSession

    with app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert row.end_reason == "idle" and row.ended_at is not None


def test_a_copied_cookie_dies_at_sign_out_and_a_new_sign_in_does_not_revive_it(app, factory):
    factory.user("desk1", "front_desk")
    desk = _signed_in(app, "desk1")
    thief = _copy(app, desk)
    desk.sign_out()
    assert thief.client.get("/").status_code == 302
    desk.sign_in("desk1")
    assert thief.client.get("/").status_code == 302
    assert desk.client.get("/").status_code == 200


def test_sign_out_everywhere_else_ends_the_others_and_keeps_this_one(app, factory):
    factory.user("desk1", "front_desk")
    laptop = _signed_in(app, "desk1", "Mozilla/5.0 (Macintosh; Mac OS X 14) Safari/605.1")
    phone = _signed_in(app, "desk1", "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile")
    thief = _copy(app, laptop)
    page = phone.get("/account").get_data(as_text=True)
    assert "Safari on macOS" in page and "Chrome on Android" in page and "This session" in page
    assert "Mozilla/5.0" not in page  # a few words, never the raw string
    answer = phone.post("/account/sessions/end-others", follow_redirects=True)
    assert "Signed out of 1 other session." in answer.get_data(as_text=True)
    assert laptop.client.get("/").status_code == 302 and thief.client.get("/").status_code == 302
    assert phone.client.get("/").status_code == 200
    assert "Ended by its owner" in phone.get("/account").get_data(as_text=True)


def test_one_other_session_can_be_ended_but_never_someone_elses(app, factory):
    from ssp.staff.sessions import StaffSession

    factory.user("desk1", "front_desk")
    factory.user("desk2", "front_desk")
    one = _signed_in(app, "desk1")
    two = _signed_in(app, "desk1")
    other = _signed_in(app, "desk2")
    with app.app_context():
        ids = {
            row.user.username: row.id
            for row in db.session.scalars(select(StaffSession).order_by(StaffSession.id))
        }
        first = db.session.scalars(select(StaffSession.id).order_by(StaffSession.id)).first()
    # desk2 cannot end desk1's session, whatever id it sends.
    other.post(f"/account/sessions/{first}/end")
    assert one.client.get("/").status_code == 200
    two.post(f"/account/sessions/{first}/end")
    assert one.client.get("/").status_code == 302 and two.client.get("/").status_code == 200
    assert other.client.get("/").status_code == 200 and ids["desk2"]


def test_a_password_change_ends_every_other_session(app, factory):
    factory.user("desk1", "front_desk")
    desk = _signed_in(app, "desk1")
    thief = _copy(app, desk)
    elsewhere = _signed_in(app, "desk1")
    changed = desk.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new phrase 9",
            "confirm": "a brand new phrase 9",
        },
    )
    assert changed.status_code == 302
    # The copy of this very session survives (it is this session) ...
    assert desk.client.get("/").status_code == 200 and thief.client.get("/").status_code == 200
    # ... every other session is over.
    assert elsewhere.client.get("/").status_code == 302


def test_an_admin_signs_a_person_out_everywhere(app, factory, signed_in):
    user_id = factory.user("desk1", "front_desk")
    desk = _signed_in(app, "desk1")
    admin = signed_in("admin")
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Open sessions: 1." in page
    answer = admin.post(f"/admin/users/{user_id}/sessions/end", follow_redirects=True)
    assert "desk1 is signed out everywhere (1 session ended)." in answer.get_data(as_text=True)
    assert desk.client.get("/").status_code == 302
    from ssp.audit import AuditEvent

    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "sessions_ended_by_admin" in actions


def test_the_cookie_holds_no_clock_and_a_forged_one_signs_nobody_in(app, factory):
    factory.user("desk1", "front_desk")
    desk = _signed_in(app, "desk1")
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(desk.client.get_cookie("session").value)
    assert not {"signed_in_at", "last_seen", "confirmed_at"} & set(data)
    forged = app.test_client()
    forged.set_cookie("session", serializer.dumps({**data, "_user_id": "not-a-session"}))
    assert forged.get("/").status_code == 302
