"""The front desk in Spanish in a real browser: a browser that asks for Spanish gets the
sign-in page in Spanish, signs in, enrols a participant, logs a visit and sees it saved,
with no English word of the interface on the way; axe-core checks the Spanish pages
(``lang="es"``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, start_server
from tests.browser.test_front_desk import AXE, serious_accessibility_problems
from tests.conftest import PASSWORD
from tests.i18n.spanish import english_left, spanish

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

# The seeded data's own names (the browser tests' seed names its site and partner in
# English).
DATA_WORDS = {"main", "site", "bridge", "clinic", "intake", "line", "desk"}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A Spanish-speaking program: its catalogue is set up in Spanish."""
    yield from start_server(
        tmp_path_factory.mktemp("spanish"), PROGRAM_NAME="Programa Puente", LANGUAGE="es"
    )


def _spanish_page(browser, **options):
    context = browser.new_context(
        locale="es-MX", viewport={"width": 1280, "height": 900}, **options
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _all_spanish(page) -> None:
    assert page.evaluate("document.documentElement.lang") == "es"
    left = english_left(
        page.content(), DATA_WORDS | {w.lower() for w in re.findall(r"\w+", page.url)}
    )
    assert left == [], (page.url, left)


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/sign-in")
    _all_spanish(page)
    assert spanish("Sign in") in page.locator("h1").inner_text()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f'class="who">{username} ' in page.content()


def test_a_visit_at_the_desk_in_spanish(live_server, browser):
    context, page = _spanish_page(browser)
    url = live_server.url
    _sign_in(page, url, "desk1")
    _all_spanish(page)

    page.goto(url + "/participants/new")
    _all_spanish(page)
    page.fill("#code", "ESPA0101")
    with page.expect_navigation():
        page.click("form button[type=submit].primary, form input[type=submit].primary")
    assert re.search(r"/participants/\d+$", page.url), page.url
    _all_spanish(page)

    with page.expect_navigation():
        page.click("a[href$='/visits/new']")
    _all_spanish(page)
    page.fill("#item_1", "20")
    with page.expect_navigation():
        page.click("#save")
    assert spanish("Visit saved.") in page.content()
    _all_spanish(page)
    context.close()


@pytest.mark.skipif(not Path(AXE).exists(), reason="axe-core is not installed (npm)")
@pytest.mark.parametrize("path", ["/sign-in", "/", "/participants/new", "/visits/today", "/stock"])
def test_spanish_pages_have_no_serious_accessibility_problems(live_server, browser, path):
    context, page = _spanish_page(browser, bypass_csp=True)
    if path != "/sign-in":
        _sign_in(page, live_server.url, "desk1")
    page.goto(live_server.url + path)
    assert page.evaluate("document.documentElement.lang") == "es"
    serious = serious_accessibility_problems(page)
    context.close()
    assert serious == [], (path, serious)
