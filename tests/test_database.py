"""SQLite writers: the writer queue (threads and processes take turns) and the read phase
of the visit form (it reads without the write lock, so other desks keep writing)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from ssp.database import WalCheckpointer, WriterQueue, reads_first
from ssp.extensions import db
from ssp.staff.models import Site
from ssp.visits.models import Visit
from tests.conftest import on_postgresql, statements_sent

sqlite_only = pytest.mark.skipif(on_postgresql(), reason="SQLite's locking")


def _database_path(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def _visit_form(browser, participant_id: int) -> dict[str, str]:
    page = browser.get(f"/participants/{participant_id}/visits/new").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    return {
        "submission_key": fields["submission_key"],
        "occurred_at": fields["occurred_at"],
        "site_id": fields.get("site_id", "1"),
        "kind": "fixed",
    }


@pytest.fixture
def desk(app, factory, browser):
    """A site, a syringe item, a participant and a signed-in front-desk user."""
    site = factory.site("Main site")
    factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe")
    participant = factory.participant("MAPH0687", site_id=site)
    factory.user("desk1", "front_desk", site_id=site)
    browser.sign_in("desk1")
    browser.participant_id = participant
    return browser


@sqlite_only
def test_the_visit_form_opens_and_checks_input_while_another_writer_holds_the_lock(app, desk):
    other = sqlite3.connect(_database_path(app), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another desk's write transaction, held open
    try:
        started = time.monotonic()
        form = _visit_form(desk, desk.participant_id)
        refused = desk.post(
            f"/participants/{desk.participant_id}/visits/new",
            data={**form, "syringes_collected": "-3"},
        )
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert refused.status_code == 422
    assert "Enter a whole number, 0 or more." in refused.get_data(as_text=True)
    assert waited < 5  # the busy timeout is 15 s: neither request queued for the lock
    saved = desk.post(
        f"/participants/{desk.participant_id}/visits/new", data={**form, "item_1": "10"}
    )
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 1


@sqlite_only
def test_pages_and_the_search_box_answer_while_another_writer_holds_the_lock(app, desk):
    other = sqlite3.connect(_database_path(app), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        pages = [desk.get(path).status_code for path in ("/", "/stock", "/follow-ups")]
        found = desk.post("/participants/find", data={"code": "MAPH"})
        typeahead = desk.client.post(
            "/api/participants/search", json={"q": "MAPH"}, headers={"X-CSRFToken": desk.token}
        )
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert pages == [200, 200, 200]
    assert found.status_code == 200 and "MAPH0687" in found.get_data(as_text=True)
    assert typeahead.get_json()["matches"][0]["code"] == "MAPH0687"
    assert waited < 5


@sqlite_only
def test_a_write_in_the_read_phase_is_refused(app, factory, signed_in):
    @app.post("/probe-read-phase")
    @reads_first
    def probe():
        db.session.add(Site(name="Written too early"))
        db.session.flush()
        return "written"

    browser = signed_in("admin")
    assert browser.post("/probe-read-phase").status_code == 500
    with app.app_context():
        assert db.session.scalar(select(Site).where(Site.name == "Written too early")) is None


def test_threads_take_turns_and_a_turn_is_reentrant(tmp_path):
    queue = WriterQueue(str(tmp_path / "db.sqlite3.writers"))
    order: list[str] = []
    queue.acquire()
    queue.acquire()  # a nested transaction in the same thread passes through

    def second_writer() -> None:
        queue.acquire()
        order.append("second writes")
        queue.release()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.2)
    order.append("first still writing")
    queue.release()
    time.sleep(0.1)
    order.append("first ended its inner transaction")
    queue.release()
    thread.join(timeout=5)
    assert order == [
        "first still writing",
        "first ended its inner transaction",
        "second writes",
    ]


def test_a_writer_gives_up_like_sqlite_when_another_process_never_lets_go(tmp_path):
    lock_path = str(tmp_path / "db.sqlite3.writers")
    with subprocess.Popen(  # noqa: S603 (this interpreter, our own script)
        [sys.executable, "-c", CHILD, lock_path, str(tmp_path / "done")],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout.readline().strip() == "holding"  # for 0.5 s
        queue = WriterQueue(lock_path, timeout=0.1)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            queue.acquire()
        assert time.monotonic() - started < 0.4
        child.wait(timeout=10)
        queue.acquire()  # the failed attempt left the queue usable
        queue.release()


CHILD = """
import sys, time
from pathlib import Path
from ssp.database import WriterQueue
queue = WriterQueue(sys.argv[1])
queue.acquire()
print("holding", flush=True)
time.sleep(0.5)
Path(sys.argv[2]).write_text("done")
queue.release()
"""


def test_processes_take_turns(tmp_path):
    lock_path = str(tmp_path / "db.sqlite3.writers")
    marker = tmp_path / "child-done"
    with subprocess.Popen(  # noqa: S603 (this interpreter, our own script)
        [sys.executable, "-c", CHILD, lock_path, str(marker)],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout.readline().strip() == "holding"
        queue = WriterQueue(lock_path)
        queue.acquire()
        try:
            assert marker.read_text() == "done"  # the child's turn ended before ours began
        finally:
            queue.release()


def test_the_server_checkpoints_the_log_in_the_background_not_in_a_save(tmp_path):
    path = tmp_path / "wal.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # as the app's connections are meanwhile
    writer.execute("CREATE TABLE t (x TEXT)")
    writer.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 2000)  # 2 MB of log
    before = path.stat().st_size
    with WalCheckpointer(str(path), interval=0.05):
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            automatic = connection.execute(text("PRAGMA wal_autocheckpoint")).scalar()
        engine.dispose()
        deadline = time.monotonic() + 5
        while path.stat().st_size < before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
    writer.close()
    assert automatic == 0  # the app's connections leave it to the checkpointer
    assert path.stat().st_size >= before + 1_000_000  # the log went into the database file
    assert not WalCheckpointer.running


def test_no_checkpointer_for_a_database_it_cannot_open_and_no_stray_file(tmp_path):
    missing = tmp_path / "not-here.sqlite3"
    with WalCheckpointer(str(missing), interval=0.05):
        assert not WalCheckpointer.running  # SQLite keeps checkpointing in saves
    assert not missing.exists()


@sqlite_only
def test_an_audited_page_writes_its_audit_row_alone_then_reads_without_the_lock(app, desk):
    with statements_sent(app, words=2) as statements:
        page = desk.get(f"/participants/{desk.participant_id}")
    assert page.status_code == 200
    write = statements.index("BEGIN IMMEDIATE")
    end = statements.index("COMMIT", write)
    # The audit row, nothing else: the chain's newest hash is read under the lock, then
    # the row goes in.
    assert statements[write + 1 : end] == ["SELECT AUDIT_EVENTS.HASH", "INSERT INTO"]
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert "BEGIN" in statements[end + 1 :]  # the page itself is read without the lock


@sqlite_only
def test_signing_in_checks_the_password_before_taking_the_write_lock(app, factory, client):
    from tests.conftest import PASSWORD, Browser

    factory.user("desk2", "front_desk")
    browser = Browser(client)
    browser.get("/sign-in")
    with statements_sent(app, words=3) as statements:
        response = browser.post("/sign-in", data={"username": "desk2", "password": PASSWORD})
    assert response.status_code == 302
    write = statements.index("BEGIN IMMEDIATE")
    # Looked up (and the password checked) before the write transaction began.
    assert any(s.startswith("SELECT USERS.ID") for s in statements[:write])
    assert statements[0] == "BEGIN"
    assert "UPDATE USERS SET" in statements[write:]  # the counts, under the lock
