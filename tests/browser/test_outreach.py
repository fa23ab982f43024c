"""The outreach screen offline, in Chromium: contacts recorded with no network (a reload
included) wait sealed in the outbox and are saved exactly once when the network returns;
a repeated batch and a sync cut halfway save nothing twice; no code typed is kept in
plain text on the phone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import CHROMIUM, SCREENSHOTS, start_server
from tests.browser.test_front_desk import AXE, serious_accessibility_problems, sign_in

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

CODES = ["PLAIN0909", "QUIET1234"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from start_server(tmp_path_factory.mktemp("outreach"))


@pytest.fixture
def phone(browser, live):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live.url, "desk1")
    yield context, page
    context.close()


def _visits(live) -> int:
    from ssp.extensions import db
    from ssp.visits.models import Visit

    with live.app.app_context():
        return db.session.scalar(select(func.count()).select_from(Visit))


def _distinct_keys(live) -> int:
    from ssp.extensions import db
    from ssp.visits.models import Visit

    with live.app.app_context():
        return db.session.scalar(select(func.count(func.distinct(Visit.submission_key))))


def _open(page, url):
    page.goto(url + "/outreach/")
    page.wait_for_function(
        "() => document.getElementById('outreach-status').textContent !== 'Getting ready…'"
    )
    page.evaluate("() => navigator.serviceWorker.ready")
    # The worker installed (its cache filled) while the page loaded.
    page.wait_for_function(
        "async () => { const names = await caches.keys();"
        " return names.length > 0 && (await (await caches.open(names[0])).keys()).length >= 5; }"
    )


def _record(page, code: str | None = None, taps: int = 1) -> None:
    if code:
        page.fill("#code", code)
    plus_ten = page.locator('#quick-items [data-step="10"]').first
    for _ in range(taps):
        plus_ten.click()
    page.click("#save-contact")
    page.wait_for_function("() => document.getElementById('code').value === ''")


def _waiting(page) -> int:
    return page.evaluate(
        """() => new Promise(resolve => {
            const open = indexedDB.open('ssp-outreach', 1);
            open.onsuccess = () => {
              const rows = open.result.transaction('outbox').objectStore('outbox').getAll();
              rows.onsuccess = () => resolve(rows.result.filter(r => r.state === 'queued').length);
            };
          })"""
    )


def _outbox_rows(page) -> list:
    return page.evaluate(
        """() => new Promise(resolve => {
            const open = indexedDB.open('ssp-outreach', 1);
            open.onsuccess = () => {
              const rows = open.result.transaction('outbox').objectStore('outbox').getAll();
              rows.onsuccess = () => resolve(rows.result);
            };
          })"""
    )


def _everything_kept(page) -> str:
    """IndexedDB, localStorage and the service worker's cache, as one text."""
    stored = page.evaluate(
        """async () => {
            const local = JSON.stringify(Object.assign({}, localStorage));
            let cached = '';
            for (const name of await caches.keys()) {
              const cache = await caches.open(name);
              for (const request of await cache.keys()) {
                cached += await (await cache.match(request)).text();
              }
            }
            return local + cached;
          }"""
    )
    return stored + json.dumps(_outbox_rows(page))


def test_twenty_five_contacts_offline_a_reload_between_saved_exactly_once(live, phone):
    context, page = phone
    before = _visits(live)
    _open(page, live.url)
    context.set_offline(True)
    for n in range(20):
        _record(page, CODES[n % 2] if n < 2 else None)
    assert _waiting(page) == 20
    page.reload()  # offline: the service worker answers
    page.wait_for_function(
        "() => document.getElementById('outreach-status').textContent.startsWith('Offline')"
    )
    for _ in range(5):
        _record(page)
    assert _waiting(page) == 25
    assert page.locator('[data-tally="contacts"]').inner_text() == "25"
    # Nothing typed is kept in plain text: not in IndexedDB, localStorage or the cache.
    kept = _everything_kept(page)
    for code in CODES:
        assert code not in kept and code.lower() not in kept
    sealed = _outbox_rows(page)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / "outreach-phone.png"), full_page=True)

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => document.getElementById('outbox-count').textContent === 'Nothing waiting.'",
        timeout=30_000,
    )
    assert _visits(live) == before + 25
    assert _distinct_keys(live) == _visits(live)

    # The same batch sent again saves nothing new.
    token = page.evaluate("() => JSON.parse(localStorage.getItem('ssp-outreach-setup')).csrf_token")
    answers = page.evaluate(
        """async ([envelopes, token]) => {
            const response = await fetch('/outreach/api/sync', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
              body: JSON.stringify({contacts: envelopes})});
            return (await response.json()).results.map(r => r.status);
          }""",
        [[row["envelope"] for row in sealed[:50]], token],
    )
    assert set(answers) == {"already_saved"}
    assert _visits(live) == before + 25


def test_a_sync_cut_halfway_resumes_without_doubles(live, browser):
    # Playwright cannot intercept what passes through a service worker: this test cuts
    # the network itself, so it runs without one.
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    page = context.new_page()
    sign_in(page, live.url, "desk1")
    page.goto(live.url + "/outreach/")
    page.wait_for_function(
        "() => document.getElementById('outreach-status').textContent === 'Ready.'"
    )
    context.set_offline(True)
    for _ in range(6):
        _record(page)
    before = _visits(live)
    cut = {"done": False}

    def drop_the_answer(route):
        if not cut["done"]:
            cut["done"] = True
            route.fetch()  # the server saves the batch...
            route.abort("connectionreset")  # ...and the phone never hears back
        else:
            route.continue_()

    page.route("**/outreach/api/sync", drop_the_answer)
    context.set_offline(False)  # the page sends on its own when the network returns
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => document.getElementById('outreach-status').textContent.startsWith('No connection')",
        timeout=30_000,
    )
    assert cut["done"] and _visits(live) == before + 6
    assert _waiting(page) == 6  # the phone did not hear back: it keeps them
    page.click("#send-now")
    page.wait_for_function(
        "() => document.getElementById('outbox-count').textContent === 'Nothing waiting.'",
        timeout=30_000,
    )
    assert _visits(live) == before + 6
    assert _distinct_keys(live) == _visits(live)


@pytest.mark.skipif(not Path(AXE).exists(), reason="axe-core is not installed (npm)")
def test_the_outreach_screen_fits_a_phone_and_has_no_serious_accessibility_problems(live, browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True
    )
    page = context.new_page()
    sign_in(page, live.url, "desk1")
    _open(page, live.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    serious = serious_accessibility_problems(page)
    context.close()
    assert serious == []
