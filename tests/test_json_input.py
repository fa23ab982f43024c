"""JSON a stranger sends: every string in any JSON body (values and keys, however deep)
goes through the one text rule (ssp/textinput.py), so a NUL, a control character, a lone
surrogate or an absurdly long string is a 400 with the rule's message, never a 500, on
SQLite and PostgreSQL alike, before any view or database sees it."""

from __future__ import annotations

import base64
import json

import pytest

from ssp.textinput import JSON_TEXT_MAX
from tests.conftest import Browser

HOSTILE = ["a\x00b", "a\ud800b", "a\udfffb", "a\x1bb", "x" * (JSON_TEXT_MAX + 1)]


def _passkey_answer(browser: Browser, credential_id: str) -> str:
    """The browser's answer to a fresh sign-in challenge, naming ``credential_id``."""
    browser.get("/sign-in")
    options = browser.client.post(
        "/sign-in/passkey/options", headers={"X-CSRFToken": browser.token}
    )
    assert options.status_code == 200, options.get_data(as_text=True)
    challenge = options.get_json()["challenge"]
    client_data = json.dumps({"type": "webauthn.get", "challenge": challenge})
    encoded = base64.urlsafe_b64encode(client_data.encode()).decode().rstrip("=")
    # json.dumps writes ASCII escapes: the server decodes "\ud800" into a lone surrogate.
    return json.dumps(
        {"credential": {"id": credential_id, "response": {"clientDataJSON": encoded}}}
    )


def _post_json(browser: Browser, url: str, body: str):
    return browser.client.post(
        url, data=body, content_type="application/json", headers={"X-CSRFToken": browser.token}
    )


@pytest.mark.parametrize("credential_id", HOSTILE)
def test_a_hostile_passkey_id_at_sign_in_is_a_400_without_an_account(app, browser, credential_id):
    response = _post_json(browser, "/sign-in/passkey", _passkey_answer(browser, credential_id))
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert "control character" in error or f"longer than {JSON_TEXT_MAX:,}" in error


def test_an_ordinary_unknown_passkey_is_still_refused_as_unknown(app, browser):
    response = _post_json(browser, "/sign-in/passkey", _passkey_answer(browser, "abc-DEF_123"))
    assert response.status_code == 401
    assert "not registered" in response.get_json()["error"]


def _bodies(text: str) -> list[str]:
    """JSON bodies holding ``text`` as a value, deep in a list, and as a key."""
    return [
        json.dumps({"q": text}),
        json.dumps({"contacts": [{"key": "abcdefgh", "epk": {"x": [1, text]}}]}),
        json.dumps({"credential": {text: "value"}}),
        json.dumps([text]),
    ]


def _post_routes(app) -> list[tuple[str, bool]]:
    """Every POST address of the app, with 1 for each variable part, and whether its view
    checks its JSON itself (item by item)."""
    return sorted(
        {
            (
                "/".join("1" if piece.startswith("<") else piece for piece in rule.rule.split("/")),
                getattr(app.view_functions[rule.endpoint], "checks_own_json", False),
            )
            for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or ())
        }
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_every_post_address_refuses_hostile_json_strings_in_one_place(app, signed_in, text):
    admin: Browser = signed_in("admin")
    admin.get("/")
    checked_by_the_view = []
    for url, checks_own_json in _post_routes(app):
        for body in _bodies(text):
            response = _post_json(admin, url, body)
            if checks_own_json:  # the outreach sync: each contact is answered on its own
                assert response.status_code in (200, 400), (url, body[:80])
                answers = (response.get_json() or {}).get("results", [])
                assert all(a["status"] == "refused" for a in answers), (url, answers)
                checked_by_the_view.append(url)
                continue
            assert response.status_code == 400, (url, body[:80], response.status_code)
            assert response.is_json and response.get_json()["error"], url
    assert set(checked_by_the_view) == {"/outreach/api/sync"}


def test_json_nested_too_deep_is_a_400_not_a_500(app, browser):
    browser.get("/sign-in")
    response = _post_json(browser, "/sign-in/passkey", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400


@pytest.mark.parametrize("text", ["\ud800AB", "AB\x00"])
def test_the_json_search_refuses_odd_characters_with_the_rules_message(app, signed_in, text):
    desk: Browser = signed_in("front_desk")
    desk.get("/")
    response = _post_json(desk, "/api/participants/search", json.dumps({"q": text}))
    assert response.status_code == 400
    assert "control character" in response.get_json()["error"]


def test_tabs_and_newlines_in_json_are_left_to_the_view(app, signed_in):
    """The JSON rule is the multi-line one: a view decides whether its field is one line."""
    desk: Browser = signed_in("front_desk")
    desk.get("/")
    response = _post_json(desk, "/api/participants/search", json.dumps({"q": "MA\tPH"}))
    assert response.status_code in (200, 400)
    assert response.status_code != 500


def test_a_form_sent_as_json_with_objects_or_lists_for_fields_is_a_400(app, factory):
    """WTForms takes a JSON body as form data: an object or a nested list where a field's
    text belongs (or a body that is not an object) is refused on every form of every
    role, never handed to a check as a dict."""
    from tests.test_access import ROLES, _url, _world

    _world(factory)
    bodies = [
        {"code": {"a": 1}, "name": {"a": 1}, "username": [["x"]], "q": ["x"], "contacts": {}},
        [1, 2],
        "just text",
    ]
    for role in ROLES:
        browser = Browser(app.test_client())
        browser.sign_in(role.replace("_", ""))
        browser.get("/")
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint == "staff.sign_out":
                continue
            for body in bodies:
                response = _post_json(browser, _url(app, rule), json.dumps(body))
                assert response.status_code < 500, (rule.endpoint, role, body)
