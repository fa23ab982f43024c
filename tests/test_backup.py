"""`ssp backup PATH`: a consistent, checked copy while the app runs, encrypted to the
configured age keys (plain only with --unencrypted); `ssp restore` opens it only with its
key file; `ssp backup-key`; clear errors, and nothing changed when anything is wrong."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from tests.conftest import SECRET, on_postgresql
from tests.test_cli import FAST, process_environ, run


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
        result = run(["backup", "--unencrypted", str(target)], **_env(app))
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "SQLite database, not encrypted" in result.output
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
    recipient = _new_key(tmp_path / "keys" / "backup.key")
    existing = tmp_path / "exists.sqlite3"
    existing.write_bytes(b"keep me")
    for options, env in (
        (["--unencrypted"], _env(app)),
        ([], {**_env(app), "SSP_BACKUP_RECIPIENTS": recipient}),
    ):
        result = run(["backup", *options, str(existing)], **env)
        assert result.exit_code == 1 and "already exists" in result.output
        assert existing.read_bytes() == b"keep me"
        result = run(["backup", *options, str(tmp_path / "missing" / "copy.sqlite3")], **env)
        assert result.exit_code == 1 and "does not exist" in result.output
        assert result.output.strip().splitlines()[-1].startswith("Error:")
    assert _leftovers(app, tmp_path) == []


@pytest.mark.skipif(on_postgresql(), reason="restoring is for the SQLite file")
def test_restore_refuses_while_serving_then_puts_the_backup_back(app, factory, tmp_path):
    from tests.test_cli import _free_port, _ssp_executable, _wait_for

    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    participant = factory.participant()
    factory.visit(participant, user_id=user, site_id=site)
    copy = tmp_path / "copy.sqlite3"
    assert run(["backup", "--unencrypted", str(copy)], **_env(app)).exit_code == 0
    factory.visit(participant, user_id=user, site_id=site)  # after the backup
    assert _visits(app) == 2
    with app.app_context():
        db.engine.dispose()

    env = process_environ(**_env(app))
    port = _free_port()
    server = subprocess.Popen(
        [*_ssp_executable(), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", server)
        refused = run(["restore", "--unencrypted", str(copy)], **_env(app))
        assert refused.exit_code == 1 and "stop `ssp serve` first" in refused.output
        assert _visits(app) == 2
    finally:
        server.terminate()
        server.wait(timeout=10)
    with app.app_context():
        db.engine.dispose()  # the test's own pooled connection still reads the old file
    restored = run(["restore", "--unencrypted", str(copy)], **_env(app))
    assert restored.exit_code == 0, restored.output
    assert _visits(app) == 1  # as it was when the backup was taken
    bad = tmp_path / "not-a-database.sqlite3"
    bad.write_bytes(b"hello")
    refused = run(["restore", "--unencrypted", str(bad)], **_env(app))
    assert refused.exit_code == 1 and "is not an ssp backup" in refused.output


# --- encrypted backups ------------------------------------------------------------------

CODE = "MARKZZZ9"  # a participant code planted in the database


def _new_key(path) -> str:
    """Make a key file with `ssp backup-key`; returns its public key (age1...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result = run(["backup-key", str(path)])
    assert result.exit_code == 0, result.output
    return re.search(r"age1[0-9a-z]{58}", result.output).group(0)


def _leftovers(app, *folders) -> list:
    """Temporary files left beside the database or in the folders (there must be none)."""
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    places = {database.parent, *folders}
    return sorted(p.name for folder in places for p in folder.glob(".partial-*"))


def _participants(app) -> int:
    from ssp.participants.models import Participant

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Participant))


def test_backup_key_is_private_never_overwritten_and_prints_the_public_key(tmp_path):
    from pyrage import x25519

    path = tmp_path / "ssp-backup.key"
    result = run(["backup-key", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = next(line for line in path.read_text().splitlines() if line.startswith("AGE-"))
    recipient = re.search(r'BACKUP_RECIPIENTS = \["(age1[0-9a-z]{58})"\]', result.output).group(1)
    assert str(x25519.Identity.from_str(secret).to_public()) == recipient
    assert secret not in result.output  # the secret half is only in the file
    assert "off the server" in result.output and "second copy" in result.output
    before = path.read_bytes()
    again = run(["backup-key", str(path)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert path.read_bytes() == before
    nowhere = run(["backup-key", str(tmp_path / "missing" / "k.key")])
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output
    assert "Traceback" not in again.output + nowhere.output


@pytest.mark.skipif(on_postgresql(), reason="ssp makes SQLite backups only")
def test_without_a_key_backup_refuses_and_says_how_to_make_one(app, tmp_path):
    target = tmp_path / "copy.age"
    result = run(["backup", str(target)], **_env(app))
    assert result.exit_code == 1 and not target.exists()
    assert "ssp backup-key" in result.output and "BACKUP_RECIPIENTS" in result.output
    assert "--unencrypted" in result.output
    assert _leftovers(app, tmp_path) == []


@pytest.mark.parametrize(
    "setting, says",
    [
        ("age1notakey", "is not an age public key"),
        ("AGE-SECRET-KEY-1QQQQ", "holds a secret key"),
        ("/nowhere/recipients.txt", "neither an age public key"),
    ],
)
def test_a_wrong_backup_recipients_setting_is_one_clear_line(app, tmp_path, setting, says):
    target = tmp_path / "copy.age"
    result = run(["backup", str(target)], **{**_env(app), "SSP_BACKUP_RECIPIENTS": setting})
    assert result.exit_code == 1 and says in result.output, result.output
    assert "Traceback" not in result.output and not target.exists()


@pytest.mark.skipif(on_postgresql(), reason="ssp makes SQLite backups only")
def test_an_encrypted_backup_hides_everything_and_opens_only_with_its_key(app, factory, tmp_path):
    import pyrage
    from pyrage import x25519

    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    participant = factory.participant(CODE)
    factory.visit(participant, user_id=user, site_id=site)
    keys = tmp_path / "offline"
    recipient = _new_key(keys / "backup.key")
    second = _new_key(keys / "second.key")  # two recipients: either key opens it
    recipients_file = tmp_path / "recipients.txt"
    recipients_file.write_text(f"# the program's backup keys\n{recipient}\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    target = backups / "ssp.sqlite3.age"
    env = {**_env(app), "SSP_BACKUP_RECIPIENTS": json.dumps([str(recipients_file), second])}
    result = run(["backup", str(target)], **env)
    assert result.exit_code == 0, result.output
    assert "encrypted to 2 keys" in result.output

    data = target.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert b"SQLite format 3" not in data
    assert CODE.encode() not in data and b"boss1" not in data
    assert _leftovers(app, tmp_path, backups) == []  # no plain copy anywhere
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(data, [x25519.Identity.generate()])

    factory.visit(participant, user_id=user, site_id=site)  # after the backup
    factory.participant("MARKYYY8")
    assert (_visits(app), _participants(app)) == (2, 2)
    with app.app_context():
        db.engine.dispose()
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    before = database.read_bytes()

    # Without a key file, or with the wrong one (or a public key): nothing changes.
    stranger = tmp_path / "stranger.key"
    _new_key(stranger)
    public_only = tmp_path / "public.txt"
    public_only.write_text(recipient + "\n")
    for options, says in (
        ([], "is encrypted: give the backup key file"),
        (["--unencrypted"], "is encrypted: give the backup key file"),
        (["--identity", str(stranger)], "does not open"),
        (["--identity", str(public_only)], "holds no backup key"),
    ):
        refused = run(["restore", *options, str(target)], **_env(app))
        assert refused.exit_code == 1 and says in refused.output, refused.output
        assert "Traceback" not in refused.output
        assert database.read_bytes() == before
        assert _leftovers(app, tmp_path) == []
    assert (_visits(app), _participants(app)) == (2, 2)

    # A damaged copy fails cleanly too.
    damaged = backups / "damaged.age"
    damaged.write_bytes(data[: len(data) // 2])
    refused = run(["restore", "--identity", str(keys / "backup.key"), str(damaged)], **_env(app))
    assert refused.exit_code == 1 and "damaged or incomplete" in refused.output
    assert database.read_bytes() == before and _leftovers(app, tmp_path) == []

    # Either key brings back the data as it was when the backup was taken.
    for key in ("backup.key", "second.key"):
        with app.app_context():
            db.engine.dispose()  # the test's pooled connections still read the old file
        restored = run(["restore", "--identity", str(keys / key), str(target)], **_env(app))
        assert restored.exit_code == 0, restored.output
        assert (_visits(app), _participants(app)) == (1, 1)
    assert _leftovers(app, tmp_path) == []


@pytest.mark.skipif(on_postgresql(), reason="ssp makes SQLite backups only")
def test_a_plain_backup_is_made_and_restored_only_with_unencrypted(app, factory, tmp_path):
    recipient = _new_key(tmp_path / "backup.key")
    factory.participant(CODE)
    target = tmp_path / "plain.sqlite3"
    # --unencrypted wins over configured keys: asked for on purpose.
    result = run(
        ["backup", "--unencrypted", str(target)],
        **{**_env(app), "SSP_BACKUP_RECIPIENTS": recipient},
    )
    assert result.exit_code == 0 and "not encrypted" in result.output, result.output
    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    factory.participant("MARKYYY8")
    with app.app_context():
        db.engine.dispose()
    refused = run(["restore", str(target)], **_env(app))
    assert refused.exit_code == 1 and "--unencrypted" in refused.output
    assert _participants(app) == 2
    with app.app_context():
        db.engine.dispose()
    refused = run(["restore", "--identity", str(tmp_path / "backup.key"), str(target)], **_env(app))
    assert refused.exit_code == 1 and "is not encrypted" in refused.output
    restored = run(["restore", "--unencrypted", str(target)], **_env(app))
    assert restored.exit_code == 0, restored.output
    assert _participants(app) == 1


def test_the_printed_pg_dump_command_encrypts_to_the_configured_keys(tmp_path):
    from ssp.backup import parse_recipients, postgresql_instructions

    recipient = _new_key(tmp_path / "backup.key")
    text = postgresql_instructions(
        "postgresql+psycopg://ssp:s3cr%40t@db.example:5432/ssp",
        tmp_path / "copy.dump.age",
        parse_recipients([recipient]),
    )
    dump = next(line for line in text.splitlines() if "Back up:" in line)
    restore = next(line for line in text.splitlines() if "Restore:" in line)
    assert "pg_dump --format=custom --dbname" in dump
    assert f"| age -r {recipient} --output {tmp_path / 'copy.dump.age'}" in dump
    assert "--file" not in dump  # no plain dump is written
    assert "age --decrypt --identity KEYFILE" in restore and "| pg_restore" in restore
    assert "s3cr" not in text
    plain = postgresql_instructions("postgresql://ssp@db.example/ssp", tmp_path / "c.dump")
    assert "not encrypted" in plain and "ssp backup-key" in plain


@pytest.mark.skipif(
    not on_postgresql() or shutil.which("pg_dump") is None,
    reason="needs the PostgreSQL test database and pg_dump",
)
def test_on_postgresql_with_keys_the_printed_commands_make_an_encrypted_dump(
    app, factory, tmp_path
):
    import pyrage

    from ssp.backup import parse_recipients, read_identities

    factory.participant(CODE)
    recipient = _new_key(tmp_path / "backup.key")
    target = tmp_path / "copy.dump.age"
    result = run(["backup", str(target)], **{**_env(app), "SSP_BACKUP_RECIPIENTS": recipient})
    assert result.exit_code == 2 and not target.exists()
    dump = next(
        line.split("Back up:", 1)[1].strip()
        for line in result.output.splitlines()
        if "Back up:" in line
    )
    pg_dump, age = (shlex.split(part) for part in dump.split(" | "))
    assert age[:3] == ["age", "-r", recipient]
    if shutil.which("age"):  # the pipeline exactly as printed
        subprocess.run(["bash", "-o", "pipefail", "-c", dump], check=True)
    else:  # pg_dump as printed, and pyrage for the age command: the same file format
        made = subprocess.run(pg_dump, check=True, capture_output=True)  # noqa: S603
        target.write_bytes(pyrage.encrypt(made.stdout, parse_recipients(recipient)))
    assert CODE.encode() not in target.read_bytes()
    plain = pyrage.decrypt(target.read_bytes(), read_identities(tmp_path / "backup.key"))
    assert plain.startswith(b"PGDMP")
