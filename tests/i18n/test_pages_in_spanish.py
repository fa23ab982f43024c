"""Every page, for every role, in Spanish: no marked text without a translation, no
English word of the interface left on the page, and ``lang="es"``."""

from __future__ import annotations

import pytest

from ssp.i18n import recording_missing
from tests.conftest import Browser
from tests.i18n.spanish import english_left
from tests.test_access import ROLES, _url

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9,en;q=0.5"}
# Pages that are not HTML for people (they are checked for a status under 500 only).
NOT_PAGES = {"static", "outreach.service_worker", "dashboard.health"}
# The names this test's data is made of: the program's own words, shown as typed.
DATA_WORDS = {
    "sede", "centro", "jeringa", "clínica", "norte", "línea", "admisión", "programa", "puente",
    "admin", "manager", "frontdesk", "target",
    # the standard funder profiles' short names and a funder's own name
    "standard", "california", "ssp", "sharp", "department", "public", "health", "office", "aids",
}  # fmt: skip


def _world(factory) -> None:
    """One of everything with id 1, named in Spanish as a Spanish-speaking program would."""
    site = factory.site("Sede Centro")
    factory.user("target", "front_desk", site_id=site)
    factory.supply_item("Jeringa 1 mL 28G", unit="jeringa")
    factory.partner("Clínica Norte", contact="Línea de admisión 555-0100")
    factory.profiles()
    participant = factory.participant("MAPH0687", site_id=site)
    factory.visit(participant, user_id=1, site_id=site, items={1: 5})
    factory.referral(participant, user_id=1)
    for role in ROLES:
        factory.user(role.replace("_", ""), role, site_id=site)


def _report(problems: dict, what: str) -> None:
    """Fail with each English fragment once, and the first pages showing it."""
    if not problems:
        return
    found: dict[str, list] = {}
    for where, fragments in problems.items():
        for fragment in fragments:
            found.setdefault(fragment, []).append(where)
    lines = [
        f"{fragment!r}: {sorted(places, key=str)[:2]}" for fragment, places in sorted(found.items())
    ]
    pytest.fail(f"{what} ({len(lines)}):\n" + "\n".join(lines), pytrace=False)


@pytest.fixture
def spanish_browsers(app, factory):
    app.config["PROGRAM_NAME"] = "Programa Puente"
    app.config["LANGUAGE"] = "es"  # the lists and names ssp sets up are named in Spanish
    _world(factory)
    browsers = {}
    for role in (None, *ROLES):
        client = app.test_client()
        client.environ_base.update(SPANISH)
        browsers[role] = Browser(client)
        if role:
            browsers[role].sign_in(role.replace("_", ""))
    return browsers


def test_every_page_for_every_role_is_in_spanish(app, spanish_browsers):
    problems: dict[tuple[str, str | None], list[str]] = {}
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint not in NOT_PAGES
    ]
    with recording_missing() as missing:
        for rule in rules:
            url = _url(app, rule)
            for role, browser in spanish_browsers.items():
                with browser.client.get(url, follow_redirects=True) as response:
                    assert response.status_code < 500, (rule.endpoint, role)
                    if response.mimetype != "text/html":
                        continue
                    page = response.get_data(as_text=True)
                where = (rule.endpoint, role)
                if '<html lang="es"' not in page:
                    problems.setdefault(where, []).append('no <html lang="es">')
                left = english_left(page, DATA_WORDS)
                if left:
                    problems.setdefault(where, []).extend(left)
    assert sorted(missing) == [], "marked texts with no Spanish translation"
    _report(problems, "English left on Spanish pages")


def test_every_form_sent_empty_answers_in_spanish(app, spanish_browsers):
    """What an empty POST brings back (the form's own errors, a flash message after the
    redirect, an error page) is Spanish too."""
    problems: dict[tuple[str, str | None], list[str]] = {}
    rules = sorted(
        (r for r in app.url_map.iter_rules() if "POST" in r.methods),
        key=lambda r: r.endpoint == "staff.sign_out",
    )
    with recording_missing() as missing:
        for rule in rules:
            url = _url(app, rule)
            for role, browser in spanish_browsers.items():
                response = browser.post(url, {}, follow_redirects=True)
                assert response.status_code < 500, (rule.endpoint, role)
                if response.mimetype == "application/json":
                    answer = response.get_json()
                    said = [answer.get(key) for key in ("error", "message")]
                    left = english_left(" ".join(v for v in said if isinstance(v, str)))
                elif response.mimetype == "text/html":
                    left = english_left(response.get_data(as_text=True), DATA_WORDS)
                else:
                    continue
                if left:
                    problems.setdefault((rule.endpoint, role), []).extend(left)
    assert sorted(missing) == [], "marked texts with no Spanish translation"
    _report(problems, "English left in answers to Spanish forms")
