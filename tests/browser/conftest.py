"""Browser tests: the real app served by waitress on a free loopback port, driven by
Playwright in Debian's Chromium (no browser download: `apt-get install chromium`).

Without Chromium these tests are skipped; CI installs it and refuses to run without it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@dataclass
class LiveServer:
    """A running server and the app behind it."""

    url: str
    app: object


def _serve(app) -> tuple[LiveServer, object, threading.Thread]:
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="ssp-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{server.effective_port}", app), server, thread


def _stop(server, thread) -> None:
    """Let the request threads finish, then close the server's sockets in its own loop's
    thread (closing them from here while its select() waits on them made that thread fail
    with "Bad file descriptor"), so the loop ends with nothing left to watch."""

    def close_everything() -> None:
        for channel in list(server._map.values()):
            channel.close()

    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(close_everything)
    thread.join(timeout=5)


def start_server(tmp_path, **config) -> Iterator[LiveServer]:
    """Serve a fresh app on SQLite (whatever SSP_TEST_DATABASE_URL says: the browser
    tests own their database) and seed what every scenario needs."""
    from ssp import create_app
    from ssp.extensions import db
    from tests.conftest import app_config

    database = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=database, **config))
    with app.app_context():
        db.create_all()
        _seed()
        db.session.commit()
    live, server, thread = _serve(app)
    try:
        yield live
    finally:
        _stop(server, thread)
        with app.app_context():
            db.engine.dispose()


def _seed() -> None:
    from ssp.drugchecking.services import load_default_lists
    from ssp.referrals import services as referrals
    from ssp.reporting.funders import load_default_profiles
    from ssp.staff import services as staff
    from ssp.supplies.services import load_default_catalogue
    from tests.conftest import PASSWORD

    load_default_catalogue()
    load_default_profiles()
    load_default_lists()
    site = staff.create_site(name="Main site")
    for username, role in (("desk1", "front_desk"), ("boss1", "manager")):
        staff.create_user(username=username, password=PASSWORD, role=role, site_id=site.id)
    referrals.create_partner(
        name="Bridge Clinic", categories=["moud", "hiv_care"], contact="Intake line"
    )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The app, served for the whole module."""
    yield from start_server(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page, desktop-sized."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


SCREENSHOTS = os.environ.get("SSP_SCREENSHOTS")  # a folder: save README pictures there
