"""The drug-alert pages in Chromium with axe-core: the list, the form (also with its
errors), a draft, an approved alert, and the desk's header showing it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.test_front_desk import AXE, serious_accessibility_problems, sign_in
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not Path(AXE).exists(), reason="axe-core is not installed (npm)"),
]


@pytest.fixture(scope="module")
def alert_ids(live_server):
    """A draft and an approved alert (drafted by boss1, approved by boss2)."""
    from sqlalchemy import select

    from ssp.drugchecking import alerts
    from ssp.extensions import db
    from ssp.staff import services as staff
    from ssp.staff.models import User
    from ssp.timeutil import program_today

    with live_server.app.app_context():
        boss = db.session.scalar(select(User).where(User.username == "boss1"))
        other = staff.create_user(
            username="boss2", password=PASSWORD, role="manager", site_id=boss.site_id
        )
        today = program_today()
        values = {
            "found": "Xylazine",
            "sold_as": "Fentanyl",
            "area": "all areas",
            "since": today - dt.timedelta(days=2),
            "expires_on": today + dt.timedelta(days=14),
            "advice": list(alerts.default_advice("Xylazine")),
        }
        approved = alerts.draft_alert(boss, **values)
        alerts.approve(approved, other)
        draft = alerts.draft_alert(boss, **{**values, "found": "Benzodiazepines"})
        ids = {"approved": approved.id, "draft": draft.id}
        db.session.commit()
    return ids


def _form_with_errors(page, url: str) -> None:
    page.goto(f"{url}/drug-checking/alerts/new")
    page.fill("#found", "")
    page.fill("#expires_on", "2000-01-01")
    with page.expect_navigation():
        page.click("#submit")
    assert "to fix before saving" in page.content()


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("boss1", "/drug-checking/alerts/"),
        ("boss1", "/drug-checking/alerts/new"),
        ("boss1", "the alert form with errors"),
        ("boss1", "/drug-checking/alerts/{draft}"),
        ("boss2", "/drug-checking/alerts/{draft}"),  # with the Approve button
        ("boss1", "/drug-checking/alerts/{draft}/edit"),
        ("boss1", "/drug-checking/alerts/{approved}"),
        ("desk1", "/drug-checking/alerts/{approved}"),
        ("desk1", "/"),  # the header with the alert
    ],
)
def test_no_serious_accessibility_problems_on_the_alert_pages(
    live_server, browser, alert_ids, who, path
):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server.url, who)
    if path == "the alert form with errors":
        _form_with_errors(page, live_server.url)
    else:
        page.goto(live_server.url + path.format(**alert_ids))
        assert page.url == live_server.url + path.format(**alert_ids)
    if path == "/":
        assert page.locator(".drug-alert-banner").count() == 1
    serious = serious_accessibility_problems(page)
    context.close()
    assert serious == [], (who, path, serious)
