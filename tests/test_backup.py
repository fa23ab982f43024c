"""`ssp backup PATH`: a consistent, checked copy while the app runs; clear errors."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import threading

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from tests.conftest import SECRET, on_postgresql
from tests.test_cli import FAST, run


def _env(app) -> dict[str, str]:
    return {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }


def _visits(app) -> int:
    from ssp.visits.models import Visit

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Visit))


@pytest.mark.skipif(on_postgresql(), reason="the SQLite copy; PostgreSQL is tested below")
def test_sqlite_backup_under_writes_is_whole_and_checked(app, factory, tmp_path):
    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    item = factory.supply_item()
    participant = factory.participant()
    for _ in range(20):
        factory.visit(participant, user_id=user, site_id=site, items={item: 5})
    before = _visits(app)
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            factory.visit(participant, user_id=user, site_id=site, items={item: 1})

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        target = tmp_path / "copy.sqlite3"
        result = run(["backup", str(target)], **_env(app))
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "SQLite database" in result.output
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = copy.execute("SELECT count(*) FROM visits").fetchone()[0]
    finally:
        copy.close()
    assert before <= copied <= _visits(app)  # every visit saved before the backup began
    assert not list(tmp_path.glob(".partial-*"))


@pytest.mark.skipif(
    not on_postgresql() or shutil.which("pg_dump") is None,
    reason="needs the PostgreSQL test database and pg_dump",
)
def test_on_postgresql_backup_gives_the_pg_dump_command_and_fails(app, factory, tmp_path):
    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    factory.visit(factory.participant(), user_id=user, site_id=site)
    target = tmp_path / "copy.dump"
    result = run(["backup", str(target)], **_env(app))
    assert result.exit_code != 0 and not target.exists()  # ssp took no backup
    command = next(
        line.split("Back up:", 1)[1].strip()
        for line in result.output.splitlines()
        if "Back up:" in line
    )
    assert command.startswith("pg_dump --format=custom")
    assert "Restore:  pg_restore" in result.output
    # The printed command works as given and makes a restorable dump.
    subprocess.run(shlex.split(command), check=True, capture_output=True)  # noqa: S603
    listing = subprocess.run(
        ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True
    )
    assert "TABLE DATA public visits" in listing.stdout


def test_the_printed_pg_dump_command_never_holds_the_password(tmp_path):
    from ssp.backup import postgresql_instructions

    text = postgresql_instructions(
        "postgresql+psycopg://ssp:s3cr%40t@db.example:5432/ssp?sslpassword=k3y&sslmode=require",
        tmp_path / "copy.dump",
    )
    assert "s3cr" not in text and "k3y" not in text
    assert "postgresql://ssp@db.example:5432/ssp?sslmode=require" in text


@pytest.mark.skipif(on_postgresql(), reason="ssp makes SQLite backups only")
def test_backup_refuses_to_overwrite_or_write_nowhere(app, factory, tmp_path):
    existing = tmp_path / "exists.sqlite3"
    existing.write_bytes(b"keep me")
    result = run(["backup", str(existing)], **_env(app))
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_bytes() == b"keep me"
    result = run(["backup", str(tmp_path / "missing" / "copy.sqlite3")], **_env(app))
    assert result.exit_code == 1 and "does not exist" in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error:")


@pytest.mark.skipif(on_postgresql(), reason="restoring is for the SQLite file")
def test_restore_refuses_while_serving_then_puts_the_backup_back(app, factory, tmp_path):
    from tests.test_cli import _free_port, _ssp_executable, _wait_for

    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    participant = factory.participant()
    factory.visit(participant, user_id=user, site_id=site)
    copy = tmp_path / "copy.sqlite3"
    assert run(["backup", str(copy)], **_env(app)).exit_code == 0
    factory.visit(participant, user_id=user, site_id=site)  # after the backup
    assert _visits(app) == 2
    with app.app_context():
        db.engine.dispose()

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SSP_")}
    env.update(_env(app))
    port = _free_port()
    server = subprocess.Popen(
        [*_ssp_executable(), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", server)
        refused = run(["restore", str(copy)], **_env(app))
        assert refused.exit_code == 1 and "stop `ssp serve` first" in refused.output
        assert _visits(app) == 2
    finally:
        server.terminate()
        server.wait(timeout=10)
    with app.app_context():
        db.engine.dispose()  # the test's own pooled connection still reads the old file
    restored = run(["restore", str(copy)], **_env(app))
    assert restored.exit_code == 0, restored.output
    assert _visits(app) == 1  # as it was when the backup was taken
    bad = tmp_path / "not-a-database.sqlite3"
    bad.write_bytes(b"hello")
    refused = run(["restore", str(bad)], **_env(app))
    assert refused.exit_code == 1 and "not" in refused.output
