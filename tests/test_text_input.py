"""Text a stranger types: files where text is expected, NUL and other control
characters, unpaired surrogates, over-long hidden fields. Each is refused with a clear
message and a 4xx, on SQLite and PostgreSQL alike, and nothing typed is lost."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from ssp.visits.models import Visit
from tests.conftest import Browser

CONTROL = ["\x00", "\x07", "\x1b", "\x7f"]


def test_a_file_where_text_is_expected_is_a_400_without_an_account(app, browser):
    browser.get("/sign-in")
    response = browser.client.post(
        "/sign-in",
        data={
            "csrf_token": browser.token,
            "username": (io.BytesIO(b"x" * 50), "somefile.txt"),
            "password": "whatever",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "file" in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("character", CONTROL)
def test_control_characters_at_sign_in_are_refused_not_a_500(app, browser, character):
    response = browser.post("/sign-in", {"username": f"desk{character}1", "password": "x" * 12})
    assert response.status_code == 422
    assert "control character" in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["\ud800AB", "AB\udfff", "\x00AB"])
def test_odd_characters_in_the_json_search_are_not_a_500(app, signed_in, text):
    desk: Browser = signed_in("front_desk")
    desk.get("/")
    body = json.dumps({"q": text})  # ASCII escapes: the server sees a lone surrogate
    response = desk.client.post(
        "/api/participants/search",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": desk.token},
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.get_json() == {"matches": []}


def test_a_nul_in_the_search_box_never_lists_everyone(app, factory, signed_in):
    for n in range(3):
        factory.participant(f"LIST{n:04d}")
    desk: Browser = signed_in("front_desk")
    response = desk.get("/participants/find?code=%00")
    assert response.status_code in (400, 422)
    assert "LIST0001" not in response.get_data(as_text=True)
    response = desk.post("/participants/find", {"code": "LI\x00"})
    assert response.status_code in (400, 422)
    assert "LIST0001" not in response.get_data(as_text=True)


@pytest.mark.parametrize("character", CONTROL)
def test_a_site_name_with_a_control_character_is_refused(app, signed_in, character):
    admin: Browser = signed_in("admin")
    response = admin.post("/admin/sites/new", {"name": f"Van{character}2", "kind": "mobile"})
    assert response.status_code == 422
    assert "control character" in response.get_data(as_text=True)


def _visit_form(browser, url):
    page = browser.get(url).get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        data[name] = chosen.group(1) if chosen else ""
    data.pop("save", None)
    return data


def test_a_nul_in_the_visit_forms_referral_note_keeps_the_typed_visit(app, factory, signed_in):
    site = factory.site("Main site")
    item = factory.supply_item("Syringe 1 mL", "syringe", "syringe")
    person = factory.participant("NULL0001", site_id=site)
    desk: Browser = signed_in("front_desk")
    url = f"/participants/{person}/visits/new"
    data = _visit_form(desk, url)
    data.update(
        {f"item_{item}": "30", "referral_category": "moud", "referral_note": "call\x00 back"}
    )
    response = desk.post(url, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "control character" in page
    assert re.search(rf'name="item_{item}"[^>]*value="30"|value="30"[^>]*name="item_{item}"', page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_an_over_long_submission_key_is_refused(app, factory, signed_in):
    site = factory.site("Main site")
    factory.supply_item("Syringe 1 mL", "syringe", "syringe")
    person = factory.participant("LONG0001", site_id=site)
    desk: Browser = signed_in("front_desk")
    url = f"/participants/{person}/visits/new"
    data = _visit_form(desk, url)
    data["submission_key"] = "k" * 65
    response = desk.post(url, data)
    assert response.status_code in (400, 422)
