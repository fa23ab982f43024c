"""Passkeys in Chromium, with its virtual authenticator (CDP WebAuthn): a manager whose
role needs two-step sign-in adds a passkey instead of an app, then signs in with the
password and the passkey, and with the passkey alone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import start_server
from tests.conftest import PASSWORD


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from start_server(
        tmp_path_factory.mktemp("passkeys"), REQUIRE_TWO_STEP_ROLES=["admin", "manager"]
    )


def _page_with_authenticator(browser, *, verified: bool):
    """A fresh context and page whose browser has a platform authenticator (fingerprint
    or PIN) that ``verified`` says the person passes."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": verified,
            }
        },
    )
    return context, page


@pytest.fixture
def page(browser):
    context, page = _page_with_authenticator(browser, verified=True)
    yield page
    context.close()


def _password(page, url: str) -> None:
    page.goto(url + "/sign-in")
    page.fill("#username", "boss1")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _sign_out(page) -> None:
    with page.expect_navigation():
        page.click("text=Sign out")


def test_a_passkey_is_the_second_step_and_signs_in_on_its_own(server, page):
    # WebAuthn needs a secure context: plain HTTP is one only on localhost (never an IP).
    url = server.url.replace("127.0.0.1", "localhost")
    _password(page, url)
    assert page.url.endswith("/account/two-step")  # the role needs a second step first
    page.fill("#passkey-name", "Desk laptop")
    with page.expect_navigation(url=url + "/account"):
        page.click("text=Add a passkey")
    assert "Desk laptop" in page.content() and "Passkey added" in page.content()

    _sign_out(page)
    _password(page, url)
    assert page.url.endswith("/sign-in/second-step")
    with page.expect_navigation(url=url + "/"):
        page.click("text=Use a passkey")
    assert 'class="who">boss1 ' in page.content()

    _sign_out(page)
    page.goto(url + "/sign-in")
    with page.expect_navigation(url=url + "/"):
        page.click("text=Sign in with a passkey")
    assert 'class="who">boss1 ' in page.content()

    from sqlalchemy import select

    from ssp.audit import AuditEvent
    from ssp.extensions import db

    with server.app.app_context():
        steps = [
            (detail or {}).get("second_step")
            for detail in db.session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "sign_in")
            )
        ]
    assert steps[-2:] == ["passkey", "passkey"]


def test_a_cancelled_passkey_says_so_and_signs_nobody_in(server, browser):
    url = server.url.replace("127.0.0.1", "localhost")
    # An authenticator that holds no passkey for this site: the browser finds none.
    context, page = _page_with_authenticator(browser, verified=False)
    page.goto(url + "/sign-in")
    page.click("text=Sign in with a passkey")
    page.wait_for_function(
        "() => document.getElementById('passkey-status').textContent.includes('not')",
        timeout=70_000,
    )
    assert page.url.endswith("/sign-in")
    context.close()
