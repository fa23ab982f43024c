"""The desk's day in a real browser: the form in the order people work (key presses
counted), follow-up answers from Save, every error after one save, the day's list and a
walk-in corrected from it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import CHROMIUM, start_server
from tests.browser.test_front_desk import Keys, settle, sign_in

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from start_server(tmp_path_factory.mktemp("day"))


def _item_id(live, name_part: str) -> int:
    from ssp.extensions import db
    from ssp.supplies.models import SupplyItem

    with live.app.app_context():
        return db.session.scalar(select(SupplyItem.id).where(SupplyItem.name.contains(name_part)))


def _enrol(page, url: str, code: str) -> str:
    page.goto(url + "/participants/new")
    page.fill("#code", code)
    with page.expect_navigation():
        page.click("text=Enrol participant")
    assert re.search(r"/participants/\d+$", page.url)
    return page.url


def _last_visit(live):
    from ssp.extensions import db
    from ssp.visits.models import Visit

    with live.app.app_context():
        visit = db.session.scalar(select(Visit).order_by(Visit.id.desc()))
        return {
            "participant_id": visit.participant_id,
            "collected": visit.syringes_collected,
            "items": {
                line.supply_item_id: (line.quantity, line.reason and line.reason.value)
                for line in visit.items
            },
            "services": {line.service.value: line.count for line in visit.services},
        }


def test_a_returning_visit_with_naloxone_and_collected_syringes_in_15_keys(live, page):
    url = live.url
    sign_in(page, url, "desk1")
    participant_url = _enrol(page, url, "NASL0202")
    nasal = _item_id(live, "nasal")
    with page.expect_navigation():
        page.click("text=Log visit")
    page.fill("#item_1", "20")
    page.fill(f"#item_{nasal}", "1")
    page.select_option(f"#reason_{nasal}", "used")
    with page.expect_navigation():
        page.click("#save")

    page.goto(url + "/")
    settle(page)
    keys = Keys(page)
    keys.type("NASL0202")
    keys.press_and_wait("Enter")  # the participant
    assert page.url == participant_url
    keys.press_and_wait("Enter")  # "Same as last time"
    assert page.evaluate("document.activeElement.id") == f"reason_{nasal}"
    keys.type("l")  # lost or stolen
    keys.press("Tab")  # to "Used syringes collected"
    assert page.evaluate("document.activeElement.id") == "syringes_collected"
    keys.type("15")
    keys.press_and_wait("Enter")
    assert "Visit saved." in page.content()
    assert "15 used syringes collected" in page.content()
    print(f"\nkey presses for a returning visit with naloxone and collected: {keys.count}")
    assert keys.count <= 15, keys.count
    saved = _last_visit(live)
    assert saved["collected"] == 15
    assert saved["items"][nasal] == (1, "lost")
    assert "overdose_reversal_reported" not in saved["services"]  # nothing copied as an event


def test_used_syringes_collected_comes_right_after_the_core_supplies(live, page):
    sign_in(page, live.url, "desk1")
    with page.expect_navigation():
        page.goto(live.url + "/visits/walk-in")
    order = page.eval_on_selector_all(
        "#visit-form input:not([type=hidden]), #visit-form select",
        "els => els.filter(e => e.tabIndex >= 0).map(e => e.id)",
    )
    position = order.index("syringes_collected")
    assert position < 12, order[:15]  # it was the 28th stop
    assert order.index("syringes_collected") < min(
        order.index(f"item_{_item_id(live, 'Alcohol')}"), order.index("secondary_reach")
    )


def test_a_follow_up_is_answered_from_save_with_two_keys(live, page):
    from ssp.extensions import db
    from ssp.participants.models import Participant
    from ssp.referrals import services as referrals
    from ssp.staff.models import User

    url = live.url
    sign_in(page, url, "desk1")
    participant_url = _enrol(page, url, "FOLL0303")
    with live.app.app_context():
        person = db.session.scalar(select(Participant).where(Participant.code == "FOLL0303"))
        desk = db.session.scalar(select(User).where(User.username == "desk1"))
        referrals.make_referral(
            participant_id=person.id,
            user=desk,
            site_id=desk.site_id,
            category="hiv_care",
            partner_id=None,
            note=None,
            made_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
        )
        db.session.commit()
    page.goto(participant_url)
    with page.expect_navigation():
        page.click("text=Log visit")
    page.fill("#item_1", "10")
    page.focus("#save")
    keys = Keys(page)
    keys.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.name")
    assert focused.startswith("follow_up_"), focused
    keys.type("l")  # linked: they got in
    keys.press_and_wait("Enter")  # Enter on the select saves
    assert keys.count == 3
    assert "Visit saved." in page.content()
    page.goto(participant_url)
    assert "follow-up to ask about" not in page.content()


def test_every_problem_is_shown_after_one_save_with_links_to_each_box(live, page):
    sign_in(page, live.url, "desk1")
    page.goto(live.url + "/visits/walk-in")
    nasal = _item_id(live, "nasal")
    page.fill("#item_1", "-3")
    page.fill("#syringes_collected", "999999")
    page.fill(f"#item_{nasal}", "1")  # and no reason chosen
    with page.expect_navigation():
        page.click("#save")
    summary = page.locator(".error-summary")
    assert "3 things to fix" in summary.inner_text()
    links = summary.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert set(links) == {"#item_1", "#syringes_collected", f"#reason_{nasal}"}
    assert page.evaluate("document.activeElement.className") == "error-summary"
    # What was typed is kept
    assert page.input_value("#syringes_collected") == "999999"
    assert page.input_value(f"#item_{nasal}") == "1"


def test_the_days_list_opens_a_walk_in_to_correct_it(live, page):
    url = live.url
    sign_in(page, url, "desk1")
    page.goto(url + "/visits/walk-in")
    page.fill("#item_1", "5")
    with page.expect_navigation():
        page.click("#save")
    assert "Saved (walk-in):" in page.content()
    with page.expect_navigation():
        page.click("text=Today's visits")
    assert "/visits/today" in page.url
    row = page.locator("tr", has_text="Walk-in").first
    assert "5 Syringe 1 mL" in row.inner_text()
    with page.expect_navigation():
        row.locator("text=Correct").click()
    page.fill("#item_1", "7")
    with page.expect_navigation():
        page.click("#save")
    assert "Visit corrected." in page.content()
    assert "7 × Syringe 1 mL" in page.content()


@pytest.mark.parametrize("path", ["/visits/today", "/visits/1", "/"])
def test_the_day_pages_fit_a_phone(live, browser, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live.url, "boss1")
    page.goto(live.url + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()
