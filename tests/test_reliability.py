"""No acknowledged visit is ever lost: the real server under several clients, and the real
server killed with SIGKILL in the middle of it (SQLite, the embedded default).

Small numbers here, so CI stays quick; the load benchmark runs the same shape for longer.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.conftest import PASSWORD, SECRET
from tests.test_cli import FAST, _free_port, _ssp_executable, _wait_for

pytestmark = pytest.mark.slow


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 after a save is the acknowledgement: keep it


class DeskClient:
    """One front-desk computer: signs in, then posts visits, each with its own key."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.acknowledged: list[str] = []
        self.failed: list[str] = []

    def _open(self, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            response = self.opener.open(self.base + path, body, timeout=20)
            return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def sign_in(self, username: str) -> None:
        _, page = self._open("/sign-in")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self._open(
            "/sign-in", {"csrf_token": token, "username": username, "password": PASSWORD}
        )
        assert status == 302, status
        _, form = self._open("/participants/1/visits/new")
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
        self.form = {
            "csrf_token": fields["csrf_token"],
            "occurred_at": fields["occurred_at"],
            "site_id": "1",
            "kind": "fixed",
            "item_1": "1",
        }

    def post_visit(self) -> bool:
        key = uuid.uuid4().hex
        try:
            status, _ = self._open(
                "/participants/1/visits/new", {**self.form, "submission_key": key}
            )
        except OSError:
            status = None  # the server went away: not acknowledged
        (self.acknowledged if status == 303 else self.failed).append(key)
        return status is not None


def _prepare(tmp_path) -> str:
    from ssp import create_app
    from ssp.extensions import db
    from ssp.participants import services as participants
    from ssp.staff import services as staff
    from ssp.supplies import services as supplies
    from tests.conftest import app_config, create_schema

    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        create_schema()
        site = staff.create_site(name="Main site")
        for n in range(8):
            staff.create_user(
                username=f"desk{n}", password=PASSWORD, role="front_desk", site_id=site.id
            )
        supplies.create_item(name="Syringe 1 mL 28G", category="syringe", unit="syringe")
        participants.enrol(code="MAPH0687", site_id=site.id, confirm_distinct=True)
        db.session.commit()
        db.engine.dispose()
    return url


def _start(url: str, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_")}
    env.update(
        SSP_SECRET_KEY=SECRET,
        SSP_SQLALCHEMY_DATABASE_URI=url,
        SSP_SIGN_IN_RATE_LIMIT="1000 per minute",
        **FAST,
    )
    process = subprocess.Popen(
        [*_ssp_executable(), "serve", "--port", str(port), "--threads", "8"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    return process


def _saved_keys(url: str) -> dict[str, int]:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return dict(
            connection.execute(
                "SELECT submission_key, count(*) FROM visits GROUP BY submission_key"
            ).fetchall()
        )
    finally:
        connection.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def test_every_acknowledged_visit_is_saved_exactly_once(tmp_path):
    url = _prepare(tmp_path)
    port = _free_port()
    server = _start(url, port)
    clients = [DeskClient(f"http://127.0.0.1:{port}") for _ in range(6)]
    try:
        for n, client in enumerate(clients):
            client.sign_in(f"desk{n}")

        def work(client):
            for _ in range(15):
                client.post_visit()

        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        _stop(server)
    acknowledged = [k for c in clients for k in c.acknowledged]
    failed = [k for c in clients for k in c.failed]
    saved = _saved_keys(url)
    assert len(acknowledged) == 90 and failed == []  # no "database is locked", no 500
    assert all(saved.get(key) == 1 for key in acknowledged)
    assert sum(saved.values()) == len(acknowledged)


def test_a_killed_server_loses_no_acknowledged_visit(tmp_path):
    url = _prepare(tmp_path)
    port = _free_port()
    server = _start(url, port)
    clients = [DeskClient(f"http://127.0.0.1:{port}") for _ in range(4)]
    for n, client in enumerate(clients):
        client.sign_in(f"desk{n}")
    stop = threading.Event()

    def work(client):
        while not stop.is_set() and client.post_visit():
            pass

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.send_signal(signal.SIGKILL)  # no shutdown, no flush: the power is gone
    server.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    acknowledged = [k for c in clients for k in c.acknowledged]
    assert len(acknowledged) > 0

    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
    restarted = _start(url, _free_port())  # comes back up on the same file
    try:
        saved = _saved_keys(url)
        assert all(saved.get(key) == 1 for key in acknowledged)
        assert all(count == 1 for count in saved.values())
    finally:
        _stop(restarted)
