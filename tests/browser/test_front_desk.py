"""The front desk in a real browser, keyboard only: sign in, enrol with the code builder,
log a visit, find by part of a code, "same as last time" (key presses counted), the
follow-up banner, a manager's report download, the idle sign-out, phone-sized pages and
an accessibility check."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser.conftest import CHROMIUM, SCREENSHOTS, start_server
from tests.conftest import PASSWORD

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

CODE = "MAPH0687"


class Keys:
    """Presses keys on a page and counts them."""

    def __init__(self, page) -> None:
        self.page = page
        self.count = 0

    def type(self, text: str) -> None:
        for character in text:
            self.page.keyboard.press(character)
            self.count += 1

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1

    def press_and_wait(self, key: str) -> None:
        with self.page.expect_navigation():
            self.press(key)
        settle(self.page)


def settle(page) -> None:
    """Wait until the page has moved the focus to its autofocus element, as a person would
    wait to see the page before typing."""
    page.wait_for_function(
        "() => { const a = document.querySelector('[autofocus]');"
        " return !a || document.activeElement === a; }"
    )


def sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f'class="who">{username} ' in page.content()


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


# Whatever scrolls sideways on a phone: the page itself, or any element inside it (a
# table in its .table-wrap, say), whose content is wider than its box. Hidden text (the
# 1-pixel .visually-hidden, a stacked table's clipped heading row) and form controls (a
# long value scrolls inside its own box) do not count.
SIDEWAYS = """() => [...document.querySelectorAll('body *')].filter(e => {
  if (e.matches('input, select, textarea, .visually-hidden, .visually-hidden *')) return false;
  if (e.clientWidth <= 1) return false;  // clipped out of sight, as hidden headings are
  return e.scrollWidth > e.clientWidth + 1
    && ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX);
}).map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.scrollWidth}>${e.clientWidth}`)"""

PHONE_HEADER_LIMIT = 110  # px: the header leaves most of a phone's screen to the page


def phone_problems(page, width: int = 390) -> list:
    """What does not fit a phone ``width`` wide: the page wider than the screen, an element
    scrolling sideways inside its box, a header taller than PHONE_HEADER_LIMIT."""
    problems = []
    page_width = page.evaluate("document.documentElement.scrollWidth")
    if page_width > width:
        problems.append(("page wider than the screen", page_width))
    problems += [("scrolls sideways", found) for found in page.evaluate(SIDEWAYS)]
    header = page.evaluate("document.querySelector('.site-header').offsetHeight")
    if header >= PHONE_HEADER_LIMIT:
        problems.append(("header too tall", header))
    return problems


def test_enrol_log_find_and_same_as_last_time_without_a_mouse(live_server, page):
    url = live_server.url
    sign_in(page, url, "desk1")
    shot(page, "search")
    keys = Keys(page)

    # Enrol with the code builder: the answers are typed, Enter moves on.
    page.goto(url + "/participants/new")
    page.wait_for_function("() => document.activeElement.id === 'part-1'")
    for answer in ("Maria", "Philadelphia", "6", "1987"):
        keys.type(answer)
        keys.press("Enter")
    assert page.input_value("#code") == CODE
    keys.press_and_wait("Enter")
    assert re.search(r"/participants/\d+$", page.url)
    participant_url = page.url

    # First visit: "Log visit" has the focus; the first quantity box then has it.
    keys.press_and_wait("Enter")
    assert "/visits/new" in page.url
    assert page.evaluate("document.activeElement.id").startswith("item_")
    keys.type("20")
    shot(page, "visit-form")
    keys.press_and_wait("Enter")
    assert page.url.startswith(url + "/?saved=")
    assert "Visit saved." in page.content()
    assert "Saved:</strong> 20 " in page.content()
    assert page.evaluate("document.activeElement.id") == "code"  # ready for the next person

    # Find by part of the code: the typeahead lists it; arrow down and Enter open it.
    keys.type("APH06")
    page.wait_for_selector("#typeahead a")
    keys.press("ArrowDown")
    keys.press_and_wait("Enter")
    assert page.url == participant_url

    # A returning participant, counted from the search box to "saved".
    page.goto(url + "/")
    settle(page)
    returning = Keys(page)
    returning.type(CODE)
    returning.press_and_wait("Enter")  # straight to the participant
    assert page.url == participant_url
    returning.press_and_wait("Enter")  # "Same as last time" has the focus
    assert "same=1" in page.url and page.input_value("#item_1") == "20"
    returning.press_and_wait("Enter")  # "Save visit" has the focus
    assert "Visit saved." in page.content()
    print(f"\nkey presses for a returning participant: {returning.count}")
    assert returning.count < 15
    assert "2 visits" in page.goto(participant_url).text()


def test_same_as_last_time_with_naloxone_asks_the_reason_and_stays_quick(live_server, page):
    """A returning visit with a naloxone kit: the reason is not copied; its box has the
    focus, a first letter picks it, Enter on it saves, all within 15 key presses."""
    url = live_server.url
    sign_in(page, url, "desk1")
    page.goto(url + "/participants/new")
    page.fill("#code", "NALO0101")
    with page.expect_navigation():
        page.click("text=Enrol participant")
    participant_url = page.url
    page.goto(participant_url)
    with page.expect_navigation():
        page.click("text=Log visit")
    naloxone = page.locator("select.reason").first
    reason_id = naloxone.get_attribute("id")
    item_id = reason_id.replace("reason_", "item_")
    page.fill(f"#{item_id}", "1")
    naloxone.select_option("used")
    with page.expect_navigation():
        page.click("#save")
    assert "Visit saved." in page.content()

    page.goto(url + "/")
    settle(page)
    keys = Keys(page)
    keys.type("NALO0101")
    keys.press_and_wait("Enter")
    keys.press_and_wait("Enter")  # "Same as last time"
    assert page.input_value(f"#{item_id}") == "1"
    assert page.evaluate("document.activeElement.id") == reason_id
    assert page.input_value(f"#{reason_id}") == ""
    keys.type("l")  # this person lost the last kit: "Lost or stolen"
    assert page.input_value(f"#{reason_id}") == "lost"
    keys.press_and_wait("Enter")  # Enter on the select saves
    assert "Visit saved." in page.content()
    assert keys.count <= 15, keys.count


def _made_days_ago(live, participant_url: str, days: int) -> None:
    """Move the participant's referrals ``days`` back, as if made on an earlier day."""
    import datetime as dt

    from ssp.extensions import db
    from ssp.referrals.models import Referral

    participant_id = int(participant_url.rsplit("/", 1)[1])
    with live.app.app_context():
        for referral in db.session.query(Referral).filter_by(participant_id=participant_id):
            referral.made_at = referral.made_at - dt.timedelta(days=days)
        db.session.commit()


def test_the_follow_up_banner_is_answered_with_one_key(live_server, page):
    url = live_server.url
    sign_in(page, url, "desk1")
    page.goto(url + "/participants/new")
    page.fill("#code", "JOSE0190")
    with page.expect_navigation():
        page.click("text=Enrol participant")
    participant_url = page.url
    assert re.search(r"/participants/\d+$", participant_url)
    # Refer to MOUD on the visit form: only partners serving MOUD are offered.
    with page.expect_navigation():
        page.click("text=Log visit")
    page.select_option("#referral_category", "moud")
    options = page.eval_on_selector_all(
        "#referral_partner_id option:not([hidden])", "els => els.map(e => e.textContent)"
    )
    assert options == ["No particular partner", "Bridge Clinic"]
    with page.expect_navigation():
        page.click("#save")
    # Later the same day, the visit form asks nothing yet about a referral made today
    # (answering a follow-up from Save is in test_desk_day.py).
    page.goto(participant_url)
    page.wait_for_function("() => document.activeElement.textContent.includes('Same as')")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Same as last time
    assert "nothing to ask yet" in page.content()
    assert page.locator("select[name^=follow_up_]").count() == 0
    # The participant page says the same that day: nothing to ask, no answer buttons.
    page.goto(participant_url)
    assert "nothing to ask yet" in page.content()
    assert "ask whether they got in" not in page.content()
    assert page.locator("text=Got in / seen").count() == 0
    # A week later the participant page's banner asks, and answers with one click.
    _made_days_ago(live_server, participant_url, 7)
    page.goto(participant_url)
    assert "ask whether they got in" in page.content()
    assert "nothing to ask yet" not in page.content()
    with page.expect_navigation():
        page.click("text=Got in / seen")
    page.goto(participant_url)
    assert "follow-up to ask about" not in page.content()
    assert "Completed (linked to care)" in page.content()


def test_a_manager_downloads_the_monthly_report(live_server, page):
    url = live_server.url
    sign_in(page, url, "boss1")
    page.goto(url + "/reports")
    page.select_option("#funder", "standard")
    with page.expect_navigation():
        page.click("text=Preview the numbers")
    assert "report to Program funders" in page.content()
    with page.expect_navigation():
        page.click("text=Generate and archive PDF")
    with page.expect_download() as download_info:
        page.click("text=Download PDF")
    data = Path(download_info.value.path()).read_bytes()
    reader = PdfReader(io.BytesIO(data))
    assert data.startswith(b"%PDF") and "At a glance" in reader.pages[0].extract_text()
    if SCREENSHOTS:
        import subprocess

        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        pdf = Path(SCREENSHOTS) / "report.pdf"
        pdf.write_bytes(data)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "65",
                "-f",
                "1",
                "-l",
                "1",  # noqa: S607
                str(pdf),
                str(Path(SCREENSHOTS) / "report-page"),
            ],
            check=False,
        )


def test_idle_sign_out_with_a_warning(tmp_path, browser):
    # Six seconds of idleness allowed; the warning shows in the last two.
    for live in start_server(tmp_path, IDLE_TIMEOUT_MINUTES=0.1):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, live.url, "desk1")
        page.wait_for_selector("#idle-warning:not([hidden])", timeout=10_000)
        assert "you will be signed out in" in page.inner_text("#idle-warning")
        page.wait_for_url(re.compile(r"/sign-in"), timeout=10_000)
        page.goto(live.url + "/")
        assert page.url.startswith(live.url + "/sign-in")
        assert "without activity" in page.content() or "Sign in" in page.content()
        context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/participants/1",
        "/participants/1/visits/new",
        "/participants/new",
        "/follow-ups",
        "/stock",
        "/visits/today",
    ],
)
def test_phone_sized_pages_fit_the_screen(live_server, browser, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server.url, "desk1")
    page.goto(live_server.url + path)
    problems = phone_problems(page)
    assert problems == [], (path, problems)
    if path == "/participants/1/visits/new":
        shot(page, "visit-form-phone")
    context.close()


AXE = os.environ.get("AXE_CORE_JS") or str(
    Path(__file__).resolve().parents[2]
    / ".ci"
    / "node"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)


def serious_accessibility_problems(page) -> list:
    """axe-core's serious and critical findings on the page (rule, impact, first nodes);
    the page's context must bypass the CSP, which forbids the injected script."""
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def axe_pages(live_server):
    """What the accessibility pages show: an admin, a participant with a visit and a
    follow-up to answer (its referral made ten days ago); returns their ids."""
    import datetime as dt

    from sqlalchemy import select

    from ssp.extensions import db
    from ssp.participants.services import enrol
    from ssp.referrals import services as referrals
    from ssp.referrals.models import FollowUp
    from ssp.staff import services as staff
    from ssp.staff.models import User
    from ssp.supplies.models import SupplyItem
    from ssp.visits.models import VisitKind
    from ssp.visits.services import ItemLine, VisitDetails, record_visit

    with live_server.app.app_context():
        desk = db.session.scalar(select(User).where(User.username == "desk1"))
        staff.create_user(username="admin1", password=PASSWORD, role="admin", site_id=desk.site_id)
        person = enrol(code="AXES0808", site_id=desk.site_id, confirm_distinct=True)
        syringe = db.session.scalar(select(SupplyItem.id).order_by(SupplyItem.id))
        visit = record_visit(
            participant_id=person.id,
            details=VisitDetails(
                site_id=desk.site_id,
                kind=VisitKind.FIXED,
                occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                items=(ItemLine(syringe, 10, None),),
                services={},
                syringes_collected=4,
            ),
            user=desk,
        )
        referral = referrals.make_referral(
            participant_id=person.id,
            user=desk,
            site_id=desk.site_id,
            category="moud",
            partner_id=None,
            made_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
        )
        follow_up = db.session.scalar(
            select(FollowUp.id).where(FollowUp.referral_id == referral.id)
        )
        ids = {"person": person.id, "visit": visit.id, "follow_up": follow_up}
        db.session.commit()
    return ids


def _visit_form_with_errors(page, url: str, ids) -> None:
    page.goto(f"{url}/participants/{ids['person']}/visits/new")
    page.fill("#item_1", "-3")
    page.select_option("select[name^=follow_up_]", "linked")
    with page.expect_navigation():
        page.click("#save")
    assert "things to fix" in page.content() or "thing to fix" in page.content()


@pytest.mark.skipif(not Path(AXE).exists(), reason="axe-core is not installed (npm)")
@pytest.mark.parametrize(
    "path",
    [
        "/sign-in",
        "/",
        "/participants/new",
        "/participants/1",
        "/participants/1/visits/new",
        "/participants/{person}/visits/new",  # with a follow-up answer
        "the visit form with errors",
        "/visits/{visit}",
        "/follow-ups",
        "/follow-ups/{follow_up}",
        "/stock",
        "/stock/receive",
        "/stock/count",
        "/visits/today",
        "/referrals",
        "/outreach/review",
        "/account",
        "/admin",
        "/admin/audit",
        "/drug-checking/new",
        "/drug-checking/",
        "/drug-checking/lists",  # admins
    ],
)
def test_no_serious_accessibility_problems(live_server, browser, axe_pages, path):
    # The app's Content-Security-Policy forbids injected scripts; axe is one, for the test.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    if path != "/sign-in":
        admin = path.startswith("/admin") or path == "/drug-checking/lists"
        sign_in(page, live_server.url, "admin1" if admin else "boss1")
    if path == "the visit form with errors":
        _visit_form_with_errors(page, live_server.url, axe_pages)
    else:
        page.goto(live_server.url + path.format(**axe_pages))
        assert page.url == live_server.url + path.format(**axe_pages)
    if "{person}" in path or path == "the visit form with errors":
        assert page.locator(".follow-up-answers select").count() == 1
    serious = serious_accessibility_problems(page)
    context.close()
    assert serious == [], (path, serious)
