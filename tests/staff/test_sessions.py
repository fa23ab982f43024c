"""Sessions on shared desk computers: idle and absolute limits, the warning, a fresh
password before sensitive pages, admin-set passwords changed at first sign-in, cookies."""

from __future__ import annotations

from tests.conftest import PASSWORD, Browser, who


def test_idle_sessions_are_signed_out(app, factory, clock):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    clock.advance(minutes=14)
    assert desk.client.get("/").status_code == 200  # activity: the clock restarts
    clock.advance(minutes=14)
    assert desk.client.get("/").status_code == 200
    clock.advance(minutes=15, seconds=1)
    response = desk.client.get("/", follow_redirects=True)
    assert "signed out after 15 minutes without activity" in response.get_data(as_text=True)
    assert desk.client.get("/").status_code == 302  # and stays signed out


def test_sessions_end_after_their_lifetime_however_busy(app, factory, clock):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    for _ in range(12 * 6 + 1):  # busy all day: a request every ten minutes, past 12 hours
        clock.advance(minutes=10)
        response = desk.client.get("/")
    assert response.status_code == 302
    assert "time limit" in desk.client.get("/sign-in").get_data(as_text=True)


def test_keepalive_restarts_the_idle_clock_and_the_page_carries_the_warning(app, factory, clock):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    page = desk.sign_in("desk1").get_data(as_text=True)
    assert 'data-idle-seconds="900"' in page and 'id="idle-warning"' in page
    assert "/static/js/session.js" in page
    clock.advance(minutes=14)
    response = desk.client.post("/session/keepalive", headers={"X-CSRFToken": desk.token})
    assert response.get_json() == {"status": "ok", "idle_minutes": 15}
    clock.advance(minutes=14)
    assert desk.client.get("/").status_code == 200
    clock.advance(minutes=16)
    expired = desk.client.post("/session/keepalive", headers={"X-CSRFToken": desk.token})
    assert expired.status_code == 401


def test_sensitive_pages_ask_for_the_password_again(app, factory, clock):
    factory.user("root1", "admin")
    admin = Browser(app.test_client())
    admin.sign_in("root1")
    assert admin.client.get("/admin/users").status_code == 200  # just signed in
    clock.advance(minutes=11)
    response = admin.client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/confirm?next=/admin/users"
    admin.get("/account/confirm?next=/admin/users")
    wrong = admin.post("/account/confirm?next=/admin/users", {"password": "not it at all"})
    assert wrong.status_code == 422 and "That is not your password." in wrong.get_data(as_text=True)
    right = admin.post("/account/confirm?next=/admin/users", {"password": PASSWORD})
    assert right.headers["Location"] == "/admin/users"
    assert admin.client.get("/admin/users").status_code == 200
    clock.advance(minutes=11)
    user_id = factory.user("desk1", "front_desk")
    posted = admin.post(f"/admin/users/{user_id}/deactivate")
    assert posted.headers["Location"] == "/account/confirm?next=/admin/users"
    outside = admin.post("/account/confirm?next=https://elsewhere.example/", {"password": PASSWORD})
    assert outside.headers["Location"] == "/"


def test_a_password_set_by_an_admin_must_be_changed_at_first_sign_in(app, factory, signed_in):
    admin = signed_in("admin")
    admin.post(
        "/admin/users/new",
        {
            "username": "newdesk",
            "role": "front_desk",
            "site_id": "",
            "password": "set by the admin",
        },
    )
    desk = Browser(app.test_client())
    page = desk.sign_in("newdesk", "set by the admin")
    assert "Choose your own to continue." in page.get_data(as_text=True)
    assert desk.client.get("/").headers["Location"] == "/account/password"
    assert desk.client.get("/follow-ups").headers["Location"] == "/account/password"
    changed = desk.post(
        "/account/password",
        {
            "current_password": "set by the admin",
            "new_password": "my own secret phrase",
            "confirm": "my own secret phrase",
        },
    )
    assert changed.status_code == 302
    assert desk.client.get("/").status_code == 200
    assert who("newdesk") in desk.get("/").get_data(as_text=True)


def test_admin_reset_also_forces_a_change(app, factory, signed_in):
    user_id = factory.user("desk1", "front_desk")
    admin = signed_in("admin")
    admin.post(f"/admin/users/{user_id}/password", {"password": "temporary password"})
    desk = Browser(app.test_client())
    desk.sign_in("desk1", "temporary password")
    assert desk.client.get("/").headers["Location"] == "/account/password"


def test_session_cookie_flags(app, factory):
    factory.user("desk1", "front_desk")
    plain = Browser(app.test_client())
    response = plain.sign_in("desk1")
    del response
    https = app.test_client()
    page = https.get("/sign-in", base_url="https://localhost")
    import re

    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    ).group(1)
    signed = https.post(
        "/sign-in",
        base_url="https://localhost",
        data={"csrf_token": token, "username": "desk1", "password": PASSWORD},
    )
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    http = app.test_client()
    page = http.get("/sign-in")
    assert "Secure" not in page.headers.get("Set-Cookie", "")


def test_cli_printed_passwords_must_be_changed(app):
    from sqlalchemy import select

    from ssp.extensions import db
    from ssp.staff.models import User
    from tests.conftest import SECRET
    from tests.test_cli import FAST, run

    env = {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }
    assert run(["create-user", "printed", "--role", "manager"], **env).exit_code == 0
    assert (
        run(
            ["create-user", "chosen", "--role", "manager", "--password-stdin"],
            input=PASSWORD + "\n",
            **env,
        ).exit_code
        == 0
    )
    with app.app_context():
        flags = dict(db.session.execute(select(User.username, User.must_change_password)).all())
    assert flags == {"printed": True, "chosen": False}
