"""Each person picks the language they read ssp in: in their account (kept on the
account, so it follows them to every desk), or on a signed-out page (a cookie on this
browser); otherwise the browser's language, then the program's LANGUAGE."""

from __future__ import annotations

import re

from sqlalchemy import select

from ssp.extensions import db
from ssp.i18n import LANGUAGE_COOKIE
from ssp.staff.models import User
from tests.conftest import Browser
from tests.i18n.spanish import spanish

SPANISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:300]
    return match.group(1)


def _saved_language(app, username: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.language).where(User.username == username))


def _browser(app, headers: dict[str, str]) -> Browser:
    client = app.test_client()
    client.environ_base.update(headers)
    return Browser(client)


def _set_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(LANGUAGE_COOKIE)]
    assert len(cookies) == 1, response.headers
    return cookies[0]


# --- Account → Language ---------------------------------------------------------------


def test_the_account_page_offers_each_language_by_its_own_name(signed_in):
    page = signed_in("front_desk").get("/account").get_data(as_text=True)
    assert "<h2>Language</h2>" in page
    assert '<option selected value="">Your browser&#39;s choice</option>' in page
    assert '<option lang="en" value="en">English</option>' in page
    assert '<option lang="es" value="es">Español</option>' in page


def test_picking_spanish_in_the_account_makes_the_next_page_spanish(app, signed_in):
    desk = signed_in("front_desk", "desk1")
    desk.client.environ_base.update(ENGLISH_BROWSER)
    response = desk.post("/account/language", {"language": "es"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert _saved_language(app, "desk1") == "es"
    page = desk.get("/account")
    assert _lang(page) == "es"
    assert '<option lang="es" selected value="es">Español</option>' in page.get_data(as_text=True)
    assert _lang(desk.get("/")) == "es"
    # Back to the browser's choice: the English browser speaks again.
    desk.post("/account/language", {"language": ""})
    assert _saved_language(app, "desk1") is None
    assert _lang(desk.get("/")) == "en"


def test_a_spanish_browser_gets_spanish_when_the_account_has_no_choice(app, factory):
    factory.user("desk1", "front_desk")
    desk = _browser(app, SPANISH_BROWSER)
    assert _lang(desk.sign_in("desk1")) == "es"
    assert _saved_language(app, "desk1") is None
    assert _lang(_browser(app, ENGLISH_BROWSER).sign_in("desk1")) == "en"


def test_the_account_choice_beats_the_browser(app, factory):
    factory.user("desk1", "front_desk")
    desk = _browser(app, SPANISH_BROWSER)
    desk.sign_in("desk1")
    assert desk.post("/account/language", {"language": "en"}).status_code == 302
    assert _lang(desk.get("/")) == "en"
    assert _lang(desk.get("/account")) == "en"


def test_a_language_the_app_does_not_speak_is_refused(app, signed_in):
    desk = signed_in("front_desk", "desk1")
    desk.post("/account/language", {"language": "es"})
    for wrong in ("fr", "es_MX", "en-US", "x" * 16, "../es"):
        response = desk.post("/account/language", {"language": wrong})
        assert response.status_code == 422, wrong
        # the person reads Spanish now: the refusal says so in Spanish
        assert spanish("That language is not offered. Choose one of: %(languages)s.").split("%")[
            0
        ] in response.get_data(as_text=True)
        assert _saved_language(app, "desk1") == "es"  # unchanged


def test_the_account_language_form_needs_its_csrf_token(app, signed_in):
    desk = signed_in("front_desk", "desk1")
    assert desk.post("/account/language", {"language": "es"}, csrf=False).status_code == 400
    assert _saved_language(app, "desk1") is None


# --- the switch on signed-out pages ---------------------------------------------------


def test_the_sign_in_page_has_a_button_for_each_language(app, signed_in):
    page = Browser(app.test_client()).get("/sign-in").get_data(as_text=True)
    switch = page[page.index('class="inline language-switch"') :]
    switch = switch[: switch.index("</form>")]
    assert 'name="csrf_token"' in switch and 'name="next" value="/sign-in"' in switch
    assert 'value="en" lang="en"' in switch and ">English</button>" in switch
    assert 'value="es" lang="es"' in switch and ">Español</button>" in switch
    # Signed in, the account page is where the language is changed.
    assert "language-switch" not in signed_in("front_desk").get("/").get_data(as_text=True)


def test_the_cookie_beats_the_browser_on_signed_out_pages(app):
    visitor = _browser(app, ENGLISH_BROWSER)
    assert _lang(visitor.get("/sign-in")) == "en"
    response = visitor.post("/language", {"language": "es", "next": "/sign-in?next=%2Fvisits"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Fvisits"
    cookie = _set_cookie(response)
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=es;")
    assert "Max-Age=31536000" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here (localhost)
    assert _lang(visitor.get("/sign-in")) == "es"
    # An error page is a signed-out page too.
    assert _lang(visitor.get("/no-such-page")) == "es"


def test_the_cookie_is_secure_over_https(app):
    visitor = Browser(app.test_client())
    visitor.get("/sign-in", base_url="https://localhost")
    response = visitor.post(
        "/language",
        {"language": "es", "next": "/sign-in"},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},  # Flask-WTF's check over HTTPS
    )
    assert response.status_code == 302
    assert "Secure" in _set_cookie(response)


def test_the_switch_saves_a_signed_in_persons_choice(app, signed_in):
    desk = signed_in("front_desk", "desk1")
    response = desk.post("/language", {"language": "es", "next": "/account"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert _saved_language(app, "desk1") == "es"


def test_the_switch_goes_back_only_to_pages_of_this_app(app):
    visitor = Browser(app.test_client())
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/sign-in",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
    ):
        response = visitor.post("/language", {"language": "es", "next": elsewhere})
        assert response.status_code == 302, elsewhere
        assert response.headers["Location"] == "/", elsewhere
        _set_cookie(response)  # the choice is still kept


def test_the_switch_refuses_a_language_it_does_not_speak(app):
    visitor = Browser(app.test_client())
    response = visitor.post("/language", {"language": "fr", "next": "/sign-in"})
    assert response.status_code == 422
    assert "That language is not offered." in response.get_data(as_text=True)
    assert not [c for c in response.headers.getlist("Set-Cookie") if LANGUAGE_COOKIE in c]


def test_the_switch_needs_its_csrf_token(app):
    visitor = Browser(app.test_client())
    visitor.get("/sign-in")
    response = visitor.post("/language", {"language": "es", "next": "/"}, csrf=False)
    assert response.status_code == 400
    assert not [c for c in response.headers.getlist("Set-Cookie") if LANGUAGE_COOKIE in c]


def test_a_cookie_for_a_language_the_app_does_not_speak_is_ignored(app):
    client = app.test_client()
    client.environ_base.update(SPANISH_BROWSER)
    client.set_cookie(LANGUAGE_COOKIE, "klingon")
    assert _lang(client.get("/sign-in")) == "es"


def test_the_switch_refuses_junk_with_the_same_clear_message(app):
    visitor = Browser(app.test_client())
    for junk in ("x" * 300, "es\x00", "ES", "es-MX"):
        response = visitor.post("/language", {"language": junk, "next": "/sign-in"})
        assert response.status_code == 422, repr(junk)
        assert "That language is not offered." in response.get_data(as_text=True)
