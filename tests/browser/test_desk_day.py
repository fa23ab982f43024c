"""The desk's day in a real browser: the form in the order people work (key presses
counted), follow-up answers from Save and from any box (Alt+A), no box hidden under the
sticky save bar, every error after one save, the day's list and a walk-in corrected from
it, and the day's pages on a phone (nothing scrolls sideways, a compact header)."""

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


def _open_follow_up(live) -> int:
    from ssp.extensions import db
    from ssp.referrals.models import FollowUp, FollowUpStatus

    with live.app.app_context():
        return db.session.scalar(
            select(FollowUp.id).where(FollowUp.status == FollowUpStatus.OPEN).limit(1)
        )


def _walk_in_with_errors(page, live) -> None:
    page.goto(live.url + "/visits/walk-in")
    page.fill("#item_1", "-3")
    page.fill("#syringes_collected", "999999")
    with page.expect_navigation():
        page.click("#save")
    assert "things to fix" in page.content()


@pytest.mark.parametrize(
    "path",
    [
        "/visits/today",
        "/visits/1",
        "/",
        "/referrals",
        "/follow-ups/{follow_up}",
        "/participants/{person}/visits/new",
        "the visit form with errors",
    ],
)
def test_the_day_pages_fit_a_phone(live, browser, path):
    """At 390 px nothing scrolls sideways (the page, or a table inside its wrapper: the
    manager's month on the home page is stacked as cards) and the header stays compact."""
    from tests.browser.test_front_desk import phone_problems

    person = _with_follow_ups(live, f"PHON{len(path):04d}", 2)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live.url, "boss1")
    if path == "the visit form with errors":
        _walk_in_with_errors(page, live)
    else:
        page.goto(live.url + path.format(follow_up=_open_follow_up(live), person=person))
        assert page.url.endswith(path.format(follow_up=_open_follow_up(live), person=person))
    problems = phone_problems(page)
    context.close()
    assert problems == [], (path, problems)


def test_the_home_page_buttons_line_up_on_a_phone(live, browser):
    """Buttons that wrap onto a line of their own start at the left edge, not indented."""
    _with_follow_ups(live, "LINE0707", 1, days_ago=30)  # so the follow-ups button shows
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live.url, "boss1")
    boxes = page.eval_on_selector_all(
        "main p.actions > .button",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {text: e.textContent.trim(), left: r.left, top: r.top}; })",
    )
    context.close()
    assert len(boxes) >= 3, boxes
    edge = boxes[0]["left"]
    starts = [box for n, box in enumerate(boxes) if n == 0 or box["top"] > boxes[n - 1]["top"]]
    assert len(starts) >= 2, boxes  # they do wrap at this width
    assert [round(box["left"] - edge) for box in starts] == [0] * len(starts), starts


# --- the save bar, the follow-up answers and the phone ----------------------------------

ANSWER_CATEGORIES = ("hiv_care", "moud", "housing")


def _with_follow_ups(live, code: str, count: int, *, days_ago: int = 10) -> int:
    """A participant with ``count`` open follow-ups from referrals made ``days_ago`` days
    back (something to ask today); returns the participant's id."""
    from ssp.extensions import db
    from ssp.participants.services import enrol
    from ssp.referrals import services as referrals
    from ssp.staff.models import User

    with live.app.app_context():
        desk = db.session.scalar(select(User).where(User.username == "desk1"))
        person = enrol(code=code, site_id=desk.site_id, confirm_distinct=True)
        for category in ANSWER_CATEGORIES[:count]:
            referrals.make_referral(
                participant_id=person.id,
                user=desk,
                site_id=desk.site_id,
                category=category,
                partner_id=None,
                made_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago),
            )
        db.session.commit()
        return person.id


WHERE_FOCUS_IS = """() => {
  const el = document.activeElement, bar = document.querySelector('.form-actions');
  const box = el.getBoundingClientRect(), top = bar.getBoundingClientRect().top;
  return {name: el.id || el.name || el.tagName, inBar: bar.contains(el),
          top: box.top, bottom: box.bottom, barTop: top, barHeight: bar.offsetHeight};
}"""


@pytest.mark.parametrize(
    ("follow_ups", "width", "height"),
    [(0, 1366, 768), (1, 1366, 768), (3, 1366, 768), (3, 390, 844)],
)
def test_no_box_reached_with_tab_is_under_the_save_bar(live, browser, follow_ups, width, height):
    """Every stop from the form's first box to Save is in full view above the sticky
    save bar, at a laptop's 1366×768 with none, one and three follow-ups to answer, and
    on a phone."""
    person = _with_follow_ups(live, f"BARS{width % 100:02d}{follow_ups:02d}", follow_ups)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, live.url, "desk1")
    page.goto(f"{live.url}/participants/{person}/visits/new")
    settle(page)
    assert page.locator("select[name^=follow_up_]").count() == follow_ups
    page.focus("#site_id")  # the first box of the form
    hidden, stops = [], []
    for _ in range(200):
        spot = page.evaluate(WHERE_FOCUS_IS)
        stops.append(spot["name"])
        # (half a pixel of rounding either way is no box hidden)
        if not spot["inBar"] and (spot["top"] < -0.5 or spot["bottom"] > spot["barTop"] + 0.5):
            hidden.append(spot)
        if spot["name"] == "save":
            break
        page.keyboard.press("Tab")
    context.close()
    assert stops[-1] == "save", stops
    assert len(stops) > 30, stops  # every box was visited
    assert hidden == [], hidden


def test_the_scroll_padding_follows_the_save_bars_height(live, browser):
    """However tall the bar grows (a line that wraps, a larger text size), the room kept
    for it when a box scrolls into view is its real height and a little more."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live.url, "desk1")
    page.goto(live.url + "/visits/walk-in")
    room = (
        "() => parseFloat(getComputedStyle(document.documentElement).scrollPaddingBottom)"
        " - document.querySelector('.form-actions').offsetHeight"
    )
    # A function, not an expression: Playwright polls an expression with eval(), which
    # the app's Content-Security-Policy refuses whenever the first check is not yet true.
    page.wait_for_function(f"() => ({room})() === 12")  # .75rem over the bar
    page.evaluate("document.querySelector('.form-actions .help').style.fontSize = '3rem'")
    assert page.evaluate("document.querySelector('.form-actions').offsetHeight") > 200
    page.wait_for_function(f"() => ({room})() === 12")
    context.close()


def test_the_follow_up_answers_are_one_key_from_the_first_box(live, page):
    """From the first box (where the form opens), Alt+A goes to the first answer; Tab
    to the next; Enter on an answer saves. The shortcut works from any box."""
    from ssp.extensions import db
    from ssp.referrals.models import FollowUp

    person = _with_follow_ups(live, "KEYS0404", 3)
    sign_in(page, live.url, "desk1")
    page.goto(f"{live.url}/participants/{person}/visits/new")
    settle(page)
    first_box = page.evaluate("document.activeElement.id")
    assert first_box.startswith("item_")
    assert "Alt+A" in page.inner_text("#visit-form")  # the page says how
    answers = page.eval_on_selector_all("select[name^=follow_up_]", "els => els.map(e => e.name)")
    for box in ("syringes_collected", "referral_note", "secondary_reach", "kind"):
        page.focus(f"#{box}")
        page.keyboard.press("Alt+A")
        assert page.evaluate("document.activeElement.name") == answers[0], box

    page.focus(f"#{first_box}")
    page.fill(f"#{first_box}", "10")
    keys = Keys(page)
    keys.press("Alt+A")
    assert page.evaluate("document.activeElement.name") == answers[0]
    assert keys.count == 1  # from the first box to the first answer (it was 37 Tabs)
    keys.type("l")  # linked: they got in
    keys.press("Tab")
    assert page.evaluate("document.activeElement.name") == answers[1]
    keys.type("d")  # declined
    keys.press_and_wait("Enter")  # Enter on an answer saves
    assert "Visit saved." in page.content()
    assert keys.count == 5, keys.count  # Alt+A, L, Tab, D, Enter
    with live.app.app_context():
        outcomes = {
            follow_up.referral.category.value: follow_up.outcome and follow_up.outcome.value
            for follow_up in db.session.scalars(
                select(FollowUp).where(FollowUp.participant_id == person)
            )
        }
    assert outcomes == {"hiv_care": "linked", "moud": "declined", "housing": None}
