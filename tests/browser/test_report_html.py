"""The accessible HTML twin of the report in a real browser: a manager downloads it from
the preview, opens the saved file from disk, and axe-core finds nothing wrong with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, LiveServer, start_server
from tests.browser.test_front_desk import AXE, sign_in

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not Path(AXE).exists(), reason="axe-core is not installed (npm)"),
]

HOSTILE = "<script>alert(1)</script>"


def _add_visits(app) -> str:
    """A month with enough people for some figures to show, some to print as "<11" and
    some to be hidden or withheld, at a site whose name is markup; returns its key."""
    from sqlalchemy import select

    from ssp.extensions import db
    from ssp.staff import services as staff
    from ssp.staff.models import User
    from ssp.supplies.models import SupplyItem
    from ssp.timeutil import program_today
    from tests.conftest import Factory

    factory = Factory(app)
    with app.app_context():
        hostile = staff.create_site(name=HOSTILE, kind="mobile").id
        main = staff.site_by_name("Main site").id
        user = db.session.scalar(select(User.id).where(User.username == "boss1"))
        items = {
            item.category: item.id
            for item in db.session.scalars(select(SupplyItem).order_by(SupplyItem.id))
        }
        db.session.commit()
        today = program_today()
    for day in range(1, 25):
        person = factory.participant(f"ABCD{day:02d}90")
        factory.visit(
            person,
            user_id=user,
            site_id=main if day <= 12 else hostile,
            kind="fixed" if day <= 12 else "mobile",
            items={items["syringe"]: 10 * day, **({items["naloxone"]: 1} if day <= 3 else {})},
            services={"hiv_test": 1} if day <= 4 else None,
            reasons={items["naloxone"]: "first_kit"},
        )
    return f"{today.year}-{today.month:02d}"


def _axe(page) -> tuple[list, set[str]]:
    """axe-core's violations (every impact, best practices included) and the rules that
    passed."""
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    violations = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
    ]
    return violations, {p["id"] for p in result["passes"]}


@pytest.fixture(scope="module")
def report_server(tmp_path_factory) -> Iterator[tuple[LiveServer, str]]:
    """The app, served with this month's visits."""
    for live in start_server(tmp_path_factory.mktemp("live")):
        yield live, _add_visits(live.app)


def test_the_html_report_has_no_accessibility_problems(report_server, browser, tmp_path):
    live, period = report_server
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, live.url, "boss1")
    page.goto(f"{live.url}/reports/preview?period={period}&funder=standard")
    with page.expect_download() as download_info:
        page.click("text=Download accessible HTML")
    download = download_info.value
    assert download.suggested_filename == f"{period}_standard.html"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    context.close()
    html = saved.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html

    # Opened from disk, as a funder would. The file's own Content-Security-Policy forbids
    # scripts; axe is one, injected for the test.
    context = browser.new_context(bypass_csp=True, java_script_enabled=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(saved.as_uri())
    assert page.title().endswith(" report to Program funders")
    assert page.locator("main table caption").count() >= 10
    violations, passes = _axe(page)
    context.close()
    assert violations == []
    assert "color-contrast" in passes and "th-has-data-cells" in passes
    assert dialogs == []
    assert requests == [saved.as_uri()]  # nothing fetched but the file itself


def test_every_symbol_and_notice_passes_too(browser):
    """A hand-made document with what a small program's month may not have: "†", "*",
    "—", a blank month, a narrative, the no-visits notice."""
    from ssp.reporting.html_export import render_html
    from tests.reporting.test_report_html import _document

    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_content(render_html(_document()))
    for width in (1280, 390):  # a desk and a phone
        page.set_viewport_size({"width": width, "height": 900})
        violations, passes = _axe(page)
        assert violations == [], width
        assert "color-contrast" in passes
    context.close()
