"""Two-step sign-in with an authenticator app, on a frozen clock: required roles set it up
before anything else, a right password then asks for the code, a code works once,
recovery codes work once each, sensitive pages ask for the code again, and an admin can
reset a lost phone."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from ssp import timeutil
from ssp.extensions import db
from tests.conftest import PASSWORD, Browser, who


@pytest.fixture
def required(app):
    app.config["REQUIRE_TWO_STEP_ROLES"] = ["admin", "manager"]


def _code(secret: str, clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def _set_up(browser: Browser, clock) -> tuple[str, list[str]]:
    """Scan (read the key off the page), type the first code; returns the secret and the
    recovery codes shown."""
    page = browser.get("/account/two-step").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page  # drawn here, no outside service
    secret = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1)
    secret = secret.replace(" ", "")
    shown = browser.post("/account/two-step", {"code": _code(secret, clock)})
    assert shown.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.get_data(True))
    assert len(codes) == 10
    return secret, codes


def test_a_manager_sets_it_up_before_anything_else_then_signs_in_with_a_code(
    app, factory, clock, required
):
    factory.user("lead", "manager")
    lead = Browser(app.test_client())
    page = lead.sign_in("lead").get_data(as_text=True)
    assert "Your role needs two-step sign-in" in page
    assert lead.client.get("/reports/").headers["Location"] == "/account/two-step"
    wrong = lead.post("/account/two-step", {"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    secret, _ = _set_up(lead, clock)
    assert lead.client.get("/").status_code == 200  # set up: the app opens
    with app.app_context():
        from ssp.staff.models import User

        stored = db.session.scalar(select(User.totp_secret).where(User.username == "lead"))
    assert secret not in stored  # sealed in the database

    lead.sign_out()
    clock.advance(seconds=30)
    after_password = lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
    assert after_password.headers["Location"] == "/sign-in/second-step"
    assert lead.client.get("/").status_code == 302  # the password alone signs nobody in
    lead.get("/sign-in/second-step")
    refused = lead.post("/sign-in/second-step", {"code": "123456"})
    assert refused.status_code == 401
    code = _code(secret, clock)
    signed = lead.post("/sign-in/second-step", {"code": code}, follow_redirects=True)
    assert who("lead") in signed.get_data(as_text=True)

    # The same code cannot be used again, even within its 30 seconds.
    lead.sign_out()
    lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
    lead.get("/sign-in/second-step")
    again = lead.post("/sign-in/second-step", {"code": code})
    assert again.status_code == 401 and "already used" in again.get_data(as_text=True)


def test_recovery_codes_work_once_each(app, factory, clock, required):
    factory.user("lead", "manager")
    lead = Browser(app.test_client())
    lead.sign_in("lead")
    _, codes = _set_up(lead, clock)
    lead.sign_out()
    for attempt, expected in ((codes[0], 302), (codes[0].upper(), 401)):
        lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
        lead.get("/sign-in/second-step")
        answer = lead.post("/sign-in/second-step", {"code": attempt})
        assert answer.status_code == expected, attempt
        if expected == 302:
            assert "9 are left" in lead.get("/").get_data(as_text=True)
            lead.sign_out()


def test_the_second_step_waits_five_minutes_at_most(app, factory, clock, required):
    factory.user("lead", "manager")
    lead = Browser(app.test_client())
    lead.sign_in("lead")
    secret, _ = _set_up(lead, clock)
    lead.sign_out()
    lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
    lead.get("/sign-in/second-step")
    clock.advance(minutes=6)
    late = lead.post("/sign-in/second-step", {"code": _code(secret, clock)})
    assert late.headers["Location"] == "/sign-in"


def test_sensitive_pages_ask_for_the_code_too(app, factory, clock, required):
    factory.user("root1", "admin")
    admin = Browser(app.test_client())
    admin.sign_in("root1")
    secret, _ = _set_up(admin, clock)
    clock.advance(minutes=11)
    assert admin.client.get("/admin/users").headers["Location"].startswith("/account/confirm")
    page = admin.get("/account/confirm?next=/admin/users").get_data(as_text=True)
    assert "authenticator app" in page
    no_code = admin.post("/account/confirm?next=/admin/users", {"password": PASSWORD})
    assert no_code.status_code == 422
    right = admin.post(
        "/account/confirm?next=/admin/users", {"password": PASSWORD, "code": _code(secret, clock)}
    )
    assert right.headers["Location"] == "/admin/users"


def test_an_admin_resets_a_lost_phone_and_the_person_sets_it_up_again(
    app, factory, clock, required, signed_in
):
    user_id = factory.user("lead", "manager")
    lead = Browser(app.test_client())
    lead.sign_in("lead")
    _set_up(lead, clock)
    assert lead.client.get("/").status_code == 200
    app.config["REQUIRE_TWO_STEP_ROLES"] = ["manager"]  # the admin here has no second step
    admin = signed_in("admin")
    assert "Two-step sign-in: on since" in admin.get(f"/admin/users/{user_id}").get_data(True)
    admin.post(f"/admin/users/{user_id}/two-step/reset")
    assert lead.client.get("/").status_code == 302  # their sessions ended
    page = lead.sign_in("lead").get_data(as_text=True)
    assert "Set up two-step sign-in" in page  # no code asked: set it up again
    from ssp.audit import AuditEvent

    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "two_step_reset" in actions and "two_step_enabled" in actions


def test_front_desk_may_turn_it_on_and_off(app, factory, clock, required):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    assert desk.client.get("/").status_code == 200  # not required for front desk
    assert "Set up two-step sign-in" in desk.get("/account").get_data(as_text=True)
    _set_up(desk, clock)
    desk.post("/account/two-step/off", {"password": "not my password"})
    assert "<strong>On.</strong>" in desk.get("/account").get_data(as_text=True)
    desk.post("/account/two-step/off", {"password": PASSWORD})
    assert "<strong>Off.</strong>" in desk.get("/account").get_data(as_text=True)
    desk.sign_out()
    assert who("desk1") in desk.sign_in("desk1").get_data(as_text=True)


def test_a_right_password_does_not_reset_the_count_of_wrong_codes(app, factory, clock, required):
    app.config["LOGIN_MAX_FAILURES"] = 3
    factory.user("lead", "manager")
    lead = Browser(app.test_client())
    lead.sign_in("lead")
    secret, _ = _set_up(lead, clock)
    lead.sign_out()
    clock.advance(seconds=60)
    for _ in range(3):  # a wrong code, then the password typed again, three times
        lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
        lead.get("/sign-in/second-step")
        assert lead.post("/sign-in/second-step", {"code": "000000"}).status_code == 401
    # The address is stopped now: the password stage refuses it, right code or not.
    stopped = lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
    assert stopped.status_code == 401


def test_a_forgotten_open_session_cannot_add_a_second_step(app, factory, clock):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    clock.advance(minutes=11)
    assert desk.client.get("/account/two-step").headers["Location"].startswith("/account/confirm")
    desk.get("/account")
    answer = desk.client.post(
        "/account/passkeys/options", headers={"X-CSRFToken": desk.token}, json={}
    )
    # (the test client's host is localhost, where passkeys are offered)
    assert answer.status_code == 403
    assert answer.get_json()["confirm"].startswith("/account/confirm")


def test_the_passkey_endpoints_refuse_what_is_not_a_json_object(app, factory, clock):
    factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    desk.get("/account")
    for url in ("/sign-in/passkey", "/account/confirm/passkey"):
        for body in ([1], "x", 5, True, {"credential": {"id": "abc"}}, {"credential": [1]}):
            answer = desk.client.post(url, json=body, headers={"X-CSRFToken": desk.token})
            assert answer.status_code in (400, 401), (url, body, answer.status_code)
            assert answer.get_json()["error"]


def test_a_wait_for_the_second_step_ends_when_the_password_is_reset(
    app, factory, clock, required, signed_in
):
    user_id = factory.user("lead", "manager")
    lead = Browser(app.test_client())
    lead.sign_in("lead")
    secret, _ = _set_up(lead, clock)
    lead.sign_out()
    clock.advance(seconds=60)
    lead.post("/sign-in", {"username": "lead", "password": PASSWORD})
    lead.get("/sign-in/second-step")
    app.config["REQUIRE_TWO_STEP_ROLES"] = ["manager"]
    admin = signed_in("admin")
    admin.post(f"/admin/users/{user_id}/password", {"password": "kettle orbit velvet"})
    late = lead.post("/sign-in/second-step", {"code": _code(secret, clock)})
    assert late.headers["Location"] == "/sign-in"


def test_an_admins_reset_removes_passkeys_and_challenges_are_used_once(app, factory):
    import base64
    import json

    from ssp.staff import passkeys, two_step
    from ssp.staff.models import User

    user_id = factory.user("lead", "manager")
    with app.test_request_context("/", base_url="http://localhost"):
        user = db.session.get(User, user_id)
        db.session.add(
            passkeys.Passkey(
                user_id=user_id,
                credential_id="abc",
                public_key="def",
                sign_count=0,
                name="Lost phone",
                created_at=timeutil.utcnow(),
            )
        )
        db.session.flush()
        assert passkeys.has_any(user)
        two_step.turn_off(user, by_admin=True)
        db.session.flush()
        assert not passkeys.has_any(user)

        options = json.loads(passkeys.authentication_options("sign_in", None))
        client_data = json.dumps({"challenge": options["challenge"], "type": "webauthn.get"})
        answer = {
            "id": "abc",
            "response": {
                "clientDataJSON": base64.urlsafe_b64encode(client_data.encode()).decode(),
            },
        }
        assert passkeys._recall("sign_in", answer)[0]  # the first answer finds it
        with pytest.raises(passkeys.PasskeyError, match="expired or was used"):
            passkeys._recall("sign_in", answer)  # a replay finds nothing
        db.session.rollback()


def test_the_command_line_resets_a_lost_phone_when_no_admin_can_sign_in(
    app, factory, clock, required
):
    factory.user("root1", "admin")
    admin = Browser(app.test_client())
    admin.sign_in("root1")
    _set_up(admin, clock)
    result = app.test_cli_runner().invoke(args=["reset-two-step", "root1"])
    assert result.exit_code == 0 and "is reset" in result.output, result.output
    assert admin.client.get("/").status_code == 302  # the session ended
    assert "Set up two-step sign-in" in admin.sign_in("root1").get_data(as_text=True)
    unknown = app.test_cli_runner().invoke(args=["reset-two-step", "nobody"])
    assert unknown.exit_code != 0 and "no account called" in unknown.output


def test_generated_passwords_meet_a_longer_minimum(app, factory):
    factory.user("root1", "admin")
    app.config["PASSWORD_MIN_LENGTH"] = 30
    result = app.test_cli_runner().invoke(args=["reset-password", "root1"])
    assert result.exit_code == 0, result.output
    password = result.output.split("shown only this once: ")[1].split()[0]
    assert len(password) == 30
