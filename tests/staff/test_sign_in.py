"""Signing in and out: right and wrong passwords, inactive and locked accounts, sessions."""

from __future__ import annotations

from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.staff.models import User
from tests.conftest import PASSWORD, Browser, who

FAILED = "That username and password do not match an active account."


def _actions(app) -> list[str]:
    from ssp.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sign_in_page_is_public_and_every_other_page_is_not(client):
    assert client.get("/sign-in").status_code == 200
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/admin/users")
    assert client.get("/").status_code == 302


def test_sign_in_with_right_password(app, browser, factory):
    factory.user("desk1", "front_desk")
    response = browser.sign_in("desk1")
    assert response.status_code == 200
    assert who("desk1") in response.get_data(as_text=True)
    assert _actions(app)[-1] == "sign_in"
    with app.app_context():
        from ssp.extensions import db

        user = db.session.scalar(select(User).where(User.username == "desk1"))
        assert user.last_login_at is not None


def test_username_is_case_insensitive(browser, factory):
    factory.user("desk1", "front_desk")
    assert who("desk1") in browser.sign_in("  DESK1 ").get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_answer(app, browser, factory):
    factory.user("desk1", "front_desk")
    wrong = browser.sign_in("desk1", "not the password at all")
    unknown = browser.sign_in("nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert FAILED in wrong.get_data(as_text=True)
    assert FAILED in unknown.get_data(as_text=True)
    assert _actions(app)[-2:] == ["sign_in_failed", "sign_in_failed"]


def test_inactive_user_cannot_sign_in(app, browser, factory):
    factory.user("gone", "front_desk", active=False)
    response = browser.sign_in("gone")
    assert response.status_code == 401
    assert FAILED in response.get_data(as_text=True)
    assert browser.client.get("/").status_code == 302


def test_no_password_is_written_to_the_audit_trail(app, browser, factory):
    factory.user("desk1", "front_desk")
    browser.sign_in("desk1", "typed-secret-password")
    browser.sign_in("typed-secret-in-username", "whatever-password")
    browser.sign_in("desk1")
    with app.app_context():
        from ssp.extensions import db

        details = [repr(e.detail) for e in db.session.scalars(select(AuditEvent))]
    assert not any("typed-secret" in d or PASSWORD in d for d in details)


def _from(app, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def _details(app) -> list[tuple[str, dict]]:
    from ssp.extensions import db

    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)
        ).all()
        return [(action, detail or {}) for action, detail in rows]


def test_wrong_passwords_stop_one_address_not_the_account_and_an_admin_lifts_it(app, factory):
    app.config["LOGIN_MAX_FAILURES"] = 3
    factory.user("desk1", "front_desk")
    guesser = _from(app, "203.0.113.9")
    for _ in range(3):
        guesser.sign_in("desk1", "wrong password 123")
    # That address is stopped: even the right password is refused, with the same message.
    response = guesser.sign_in("desk1")
    assert response.status_code == 401 and "do not match" in response.get_data(as_text=True)
    # The person at their own desk signs in as usual.
    desk = _from(app, "192.0.2.20")
    assert who("desk1") in desk.sign_in("desk1").get_data(as_text=True)

    factory.user("boss", "admin")
    admin = Browser(app.test_client())
    admin.sign_in("boss")
    with app.app_context():
        from ssp.extensions import db

        user_id = db.session.scalar(select(User.id).where(User.username == "desk1"))
    assert "stopped 1 address" in admin.get("/admin/users").get_data(as_text=True)
    assert admin.post(f"/admin/users/{user_id}/unlock").status_code == 302
    assert who("desk1") in guesser.sign_in("desk1").get_data(as_text=True)
    assert "user_unlocked" in _actions(app)


def test_guesses_from_many_addresses_stay_slow_but_the_usual_desk_signs_in(app, factory):
    app.config["LOGIN_ACCOUNT_FAILURES_PER_HOUR"] = 4
    factory.user("desk1", "front_desk")
    usual = _from(app, "192.0.2.20")
    usual.sign_in("desk1")
    usual.sign_out()
    for n in range(4):  # one guess each from four addresses: none is stopped on its own
        _from(app, f"203.0.113.{n}").sign_in("desk1", "wrong password 123")
    # A fifth new address is refused even with the right password ...
    assert _from(app, "203.0.113.99").sign_in("desk1").status_code == 401
    # ... while the desk the account signs in from is not.
    assert who("desk1") in usual.sign_in("desk1").get_data(as_text=True)
    reasons = [d.get("reason") for a, d in _details(app) if a == "sign_in_failed"]
    assert reasons[-1] == "account_rate"


def test_sign_out_ends_the_session_and_a_copied_cookie_is_dead(app, browser, factory):
    factory.user("desk1", "front_desk")
    browser.sign_in("desk1")
    cookie = browser.client.get_cookie("session").value
    assert browser.client.get("/").status_code == 200

    browser.sign_out()
    assert browser.client.get("/").status_code == 302
    assert _actions(app)[-1] == "sign_out"

    # Replay the cookie from before sign-out in another client: it no longer signs anyone in.
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/").status_code == 302


def test_next_redirects_only_inside_the_app(browser, factory):
    factory.user("boss", "admin")
    browser.token = None
    browser.get("/sign-in")
    inside = browser.post("/sign-in?next=/admin/sites", {"username": "boss", "password": PASSWORD})
    assert inside.headers["Location"] == "/admin/sites"
    browser.sign_out()
    browser.get("/sign-in")
    outside = browser.post(
        "/sign-in?next=//evil.example/x", {"username": "boss", "password": PASSWORD}
    )
    assert outside.headers["Location"] == "/"


def test_sign_in_starts_a_new_session(browser, factory):
    factory.user("desk1", "front_desk")
    browser.get("/sign-in")
    with browser.client.session_transaction() as session:
        session["planted"] = "by someone else"
    browser.sign_in("desk1")
    with browser.client.session_transaction() as session:
        assert "planted" not in session


def test_a_post_without_csrf_token_is_refused(app, browser, factory):
    factory.user("desk1", "front_desk")
    response = browser.post("/sign-in", {"username": "desk1", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert browser.client.get("/").status_code == 302  # not signed in
    browser.sign_in("desk1")
    assert browser.post("/sign-out", csrf=False).status_code == 400
    assert browser.client.get("/").status_code == 200  # still signed in


def test_sign_in_is_throttled_per_address(tmp_path, app):
    from tests.conftest import make_app

    limited = make_app(
        tmp_path / "limited", RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="3 per minute"
    )
    browser = Browser(limited.test_client())
    browser.get("/sign-in")
    codes = [
        browser.post("/sign-in", {"username": "x", "password": "y" * 12}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    refused = browser.post("/sign-in", {}).get_data(as_text=True)
    assert "Too many attempts" in refused
    assert "per 1 minute" not in refused  # the limiter's own words are not for people
    spanish = browser.post("/sign-in", {}, headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="es"' in spanish and "minute" not in spanish
    with limited.app_context():
        from ssp.extensions import db

        db.engine.dispose()


def test_change_own_password(app, browser, factory):
    factory.user("desk1", "front_desk")
    browser.sign_in("desk1")
    bad = browser.post(
        "/account/password",
        {
            "current_password": "wrong password!!",
            "new_password": "another long password",
            "confirm": "another long password",
        },
    )
    assert bad.status_code == 422
    assert "The current password is not right." in bad.get_data(as_text=True)
    short = browser.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert "at least 12 characters" in short.get_data(as_text=True)
    good = browser.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "another long password",
            "confirm": "another long password",
        },
        follow_redirects=True,
    )
    assert "Your password is changed" in good.get_data(as_text=True)
    assert browser.client.get("/").status_code == 200  # this session carries on
    browser.sign_out()
    assert browser.sign_in("desk1").status_code == 401
    assert browser.sign_in("desk1", "another long password").status_code == 200


def test_a_stopped_address_may_try_again_when_its_time_is_up(app, factory):
    import datetime as dt

    from sqlalchemy import update

    from ssp.extensions import db
    from ssp.staff.throttle import SignInFailure

    app.config["LOGIN_MAX_FAILURES"] = 2
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1", "wrong password 123")
    desk.sign_in("desk1", "wrong password 123")
    assert desk.sign_in("desk1").status_code == 401  # stopped
    with app.app_context():
        db.session.execute(
            update(SignInFailure).values(
                failed_at=SignInFailure.failed_at - dt.timedelta(minutes=16)
            )
        )  # the lockout time has passed
        db.session.commit()
    assert desk.sign_in("desk1").status_code == 200
