"""The audit trail is a hash chain: `ssp audit verify` names the first event changed,
removed or reordered behind the app's back (raw SQL, with the triggers dropped), on the
real database; concurrent writers never fork it; the migration hashes the events that
were already there; every funder report prints the head as it stood before the report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from ssp.audit import (
    GENESIS,
    POSTGRESQL_TRIGGERS,
    SQLITE_TRIGGERS,
    AuditEvent,
    canonical,
    event_hash,
    record,
    verify_chain,
)
from ssp.extensions import db
from tests.conftest import (
    SECRET,
    app_config,
    on_postgresql,
    scratch_postgresql_database,
)
from tests.test_cli import FAST, run


def _env(app) -> dict[str, str]:
    return {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SSP_REPORTS_DIR": app.config["REPORTS_DIR"],
        **FAST,
    }


def _verify(app, *args: str):
    with app.app_context():
        db.engine.dispose()  # the command opens its own connections
    return run(["audit", "verify", *args], **_env(app))


def _events(app, count: int = 6) -> list[int]:
    """Record ``count`` varied events; returns their ids."""
    ids = []
    with app.app_context():
        for n in range(count):
            event = record(
                f"thing_{n % 3}",
                object_type="thing" if n % 2 else None,
                object_id=n,
                detail={"z": [n, "é"], "a": {"nested": n}} if n % 2 == 0 else None,
                remote_addr="10.0.0.1" if n % 2 else "",
            )
            ids.append(event.id)
        db.session.commit()
    return ids


@contextmanager
def _without_triggers(app):
    """Raw SQL as someone with the database's password would run it: the triggers that
    forbid UPDATE and DELETE dropped, and put back afterwards."""
    with app.app_context():
        dialect = db.engine.dialect.name
        with db.engine.begin() as conn:
            if dialect == "sqlite":
                conn.execute(text("DROP TRIGGER audit_events_no_update"))
                conn.execute(text("DROP TRIGGER audit_events_no_delete"))
            else:
                conn.execute(text("DROP TRIGGER audit_events_immutable ON audit_events"))
        try:
            with db.engine.begin() as conn:
                yield conn
        finally:
            with db.engine.begin() as conn:
                for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
                    conn.execute(text(statement))
            db.engine.dispose()


def _row(conn, event_id: int) -> dict:
    """A row as stored (the detail as its JSON text, to be written back as it was)."""
    return dict(
        conn.execute(
            text(
                "SELECT occurred_at, user_id, action, object_type, object_id, "
                "CAST(detail AS TEXT) AS detail, remote_addr, prev_hash, hash "
                "FROM audit_events WHERE id = :id"
            ),
            {"id": event_id},
        )
        .mappings()
        .one()
    )


# --- an intact trail ------------------------------------------------------------------


def test_an_intact_trail_verifies_with_its_head(app):
    empty = _verify(app)
    assert empty.exit_code == 0 and "empty" in empty.output
    ids = _events(app)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    with app.app_context():
        head = db.session.get(AuditEvent, ids[-1])
        first = db.session.get(AuditEvent, ids[0])
        assert first.prev_hash == GENESIS
        assert head.hash == event_hash(
            head.prev_hash,
            occurred_at=head.occurred_at,
            user_id=head.user_id,
            action=head.action,
            object_type=head.object_type,
            object_id=head.object_id,
            detail=head.detail,
            remote_addr=head.remote_addr,
        )
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert result.output.strip() == (
        f"The audit trail is intact: {total} events, head {head.hash[:16]} (event #{head.id})."
    )
    # The head printed earlier (in a report) is still there.
    again = _verify(app, "--head", head.hash[:20])
    assert again.exit_code == 0 and f"Event #{head.id} carries the head" in again.output
    unknown = _verify(app, "--head", "ab" * 10)
    assert unknown.exit_code == 1 and "no event carries the head" in unknown.output
    bad = _verify(app, "--head", "not a hash")
    assert bad.exit_code == 2 and "hexadecimal" in bad.output


def test_the_canonical_form_sorts_keys_and_keeps_null_apart_from_empty():
    when = dt.datetime(2026, 12, 2, 13, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    one = canonical(GENESIS, when, 3, "act", None, 7, {"b": 1, "a": {"d": 2, "c": 3}}, "")
    assert one == (
        b'["ssp-audit-v1","' + GENESIS.encode() + b'","2026-12-02T21:00:00.000005Z",'
        b'3,"act",null,7,{"a":{"c":3,"d":2},"b":1},""]'
    )
    other = canonical(GENESIS, when, 3, "act", "", 7, {"a": {"c": 3, "d": 2}, "b": 1}, None)
    assert other != one  # null and "" swapped places: a different event


def test_what_is_hashed_is_what_is_kept(app):
    """A time in another zone, tuples and number keys in the detail: hashed as the
    database hands them back, so the trail still verifies."""
    with app.app_context():
        record(
            "odd_values",
            detail={"pair": (1, 2), "by_id": {5: "five"}, "text": "naïve ✓", "f": 0.1},
            occurred_at=dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        )
        record("naive_time", occurred_at=dt.datetime(2026, 7, 1, 4, 30))  # taken as UTC
        db.session.commit()
        verification = verify_chain()
    assert verification.intact and verification.events == 2


# --- tampering, each named ------------------------------------------------------------


def test_an_edited_event_is_named(app):
    ids = _events(app)
    target = ids[3]
    with _without_triggers(app) as conn:
        conn.execute(
            text("UPDATE audit_events SET action = 'nothing_happened' WHERE id = :id"),
            {"id": target},
        )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"Event #{target} was changed after it was recorded" in result.output
    assert f"up to event #{ids[2]}" in result.output


def test_an_edited_detail_or_time_is_named(app):
    ids = _events(app)
    with _without_triggers(app) as conn:
        conn.execute(
            text("UPDATE audit_events SET detail = :detail WHERE id = :id"),
            {"id": ids[0], "detail": '{"a": {"nested": 1}, "z": [0, "é"]}'},
        )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"Event #{ids[0]} was changed after it was recorded" in result.output
    assert "it is the first event" in result.output


def test_a_removed_event_is_named_by_the_one_after_it(app):
    ids = _events(app)
    with _without_triggers(app) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    result = _verify(app)
    assert result.exit_code == 1
    assert f"An event before #{ids[3]} is missing (or events were reordered)" in result.output


def test_two_events_with_their_contents_swapped_are_named(app):
    ids = _events(app)
    one, two = ids[1], ids[4]
    columns = ("occurred_at", "user_id", "action", "object_type", "object_id", "detail")
    with _without_triggers(app) as conn:
        first, second = _row(conn, one), _row(conn, two)
        for event_id, values in ((one, second), (two, first)):
            conn.execute(
                text(
                    "UPDATE audit_events SET "
                    + ", ".join(f"{c} = :{c}" for c in columns)
                    + " WHERE id = :id"
                ),
                {"id": event_id, **{c: values[c] for c in columns}},
            )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"Event #{one} was changed after it was recorded" in result.output


def test_two_whole_events_swapped_hashes_and_all_are_named_as_reordered(app):
    ids = _events(app)
    one, two = ids[1], ids[2]
    columns = (
        "occurred_at",
        "user_id",
        "action",
        "object_type",
        "object_id",
        "detail",
        "remote_addr",
        "prev_hash",
        "hash",
    )
    with _without_triggers(app) as conn:
        first, second = _row(conn, one), _row(conn, two)
        set_all = ", ".join(f"{c} = :{c}" for c in columns)
        # prev_hash is unique: move one row out of the way first.
        conn.execute(
            text("UPDATE audit_events SET prev_hash = 'moving' WHERE id = :id"), {"id": one}
        )
        conn.execute(
            text(f"UPDATE audit_events SET {set_all} WHERE id = :id"),  # noqa: S608
            {"id": two, **{c: first[c] for c in columns}},
        )
        conn.execute(
            text(f"UPDATE audit_events SET {set_all} WHERE id = :id"),  # noqa: S608
            {"id": one, **{c: second[c] for c in columns}},
        )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"An event before #{one} is missing (or events were reordered)" in result.output


def test_the_triggers_still_refuse_changes(app):
    ids = _events(app, 2)
    with app.app_context():
        for statement in ("UPDATE audit_events SET hash = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == len(ids)


# --- concurrent writers ---------------------------------------------------------------


def test_concurrent_writers_never_fork_the_chain_and_ids_follow_it(app, factory):
    factory.site()  # some events of its own first
    threads, each = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def write(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(each):
                    record("concurrent", object_id=n * 100 + i)
                    db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors
    with app.app_context():
        verification = verify_chain()
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        distinct = db.session.scalar(select(func.count(func.distinct(AuditEvent.prev_hash))))
    assert verification.intact, verification.problem
    assert verification.events == total and total >= threads * each
    assert distinct == total  # one successor per event: no fork


# --- the migration hashes what was there ----------------------------------------------


@contextmanager
def _scratch_database(kind: str, tmp_path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    with scratch_postgresql_database() as url:
        yield url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_hashes_the_events_already_recorded(kind, tmp_path):
    from flask_migrate import downgrade, upgrade

    from ssp import create_app

    if kind == "postgresql" and not on_postgresql():
        pytest.skip("set SSP_TEST_DATABASE_URL to a PostgreSQL database to run this")
    with _scratch_database(kind, tmp_path) as url:
        app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
        with app.app_context():
            directory = app.extensions["migrate"].directory
            upgrade(directory=directory, revision="b7e2c4d9a130")
            with db.engine.begin() as conn:
                for n in range(2_500):  # more than one batch of the backfill
                    conn.execute(
                        text(
                            "INSERT INTO audit_events (occurred_at, action, object_type, "
                            "object_id, detail, remote_addr) VALUES (:at, :action, 'thing', "
                            ":n, :detail, :addr)"
                        ),
                        {
                            "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
                            + dt.timedelta(minutes=n, microseconds=n),
                            "action": f"old_{n % 4}",
                            "n": n,
                            "detail": '{"b": 2, "a": [1, "x"]}' if n % 3 else None,
                            "addr": "10.0.0.9" if n % 2 else None,
                        },
                    )
            upgrade(directory=directory, revision="d4e8a1f2c3b5")
            verification = verify_chain()
            assert verification.intact, verification.problem
            assert verification.events == 2_500
            record("after_the_migration")
            db.session.commit()
            assert verify_chain().events == 2_501
            # The triggers are back.
            with pytest.raises(DatabaseError):
                db.session.execute(text("UPDATE audit_events SET action = 'x'"))
            db.session.rollback()
            with pytest.raises(DatabaseError):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()
            # And down again: the columns go, the triggers stay.
            downgrade(directory=directory, revision="b7e2c4d9a130")
            with pytest.raises(DatabaseError):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()
            db.engine.dispose()


# --- the head in every report ---------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_every_report_prints_the_head_as_it_stood_before_the_report(app, factory, tmp_path):
    from ssp.reporting.html_export import render_html
    from ssp.reporting.models import Report
    from ssp.timeutil import program_today

    factory.profiles()
    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    factory.visit(factory.participant(), user_id=user, site_id=site)
    with app.app_context():
        period = program_today().strftime("%Y-%m")
    pdf_path, csv_path = tmp_path / "report.pdf", tmp_path / "report.csv"
    with app.app_context():
        db.engine.dispose()
    made = run(
        ["report", "--period", period, "--out", str(pdf_path), "--csv", str(csv_path)],
        **_env(app),
    )
    assert made.exit_code == 0, made.output

    with app.app_context():
        report = db.session.scalar(select(Report))
        own = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "report_generated", AuditEvent.object_id == report.id
            )
        )
        before = db.session.scalar(
            select(AuditEvent).where(AuditEvent.id < own.id).order_by(AuditEvent.id.desc())
        )
        assert own.prev_hash == before.hash  # nothing came in between here
    printed = _pdf_text(pdf_path.read_bytes()).replace("\n", " ")
    event = re.search(r"Audit trail head event #(\d+)", printed)
    sha = re.search(r"Audit trail sha256 ([0-9a-f]{64})", printed)
    assert event and sha, printed[-1500:]
    assert (int(event.group(1)), sha.group(1)) == (before.id, before.hash)
    assert "The audit trail head is the newest event" in printed
    assert Path(report.path).read_bytes() == pdf_path.read_bytes()  # the archived copy too

    metadata = {
        row["row"]: row["note"]
        for row in csv.DictReader(io.StringIO(csv_path.read_text()))
        if row["section"] == "#metadata"
    }
    assert metadata["audit_trail_head_event"] == str(before.id)
    assert metadata["audit_trail_head_sha256"] == before.hash

    # The HTML twin of a preview prints the head of the moment it is made.
    from ssp.reporting import services

    with app.app_context():
        settings = services.settings_for(services.find_profile("standard"))
        document = services.build_report(services.check_period(period), settings)
        db.session.rollback()
        newest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    html = render_html(document)
    assert f"event #{newest.id}" in html and f"<code>{newest.hash}</code>" in html

    # And the printed head is what `ssp audit verify --head` looks for.
    checked = _verify(app, "--head", sha.group(1))
    assert checked.exit_code == 0, checked.output
    assert f"Event #{before.id} carries the head" in checked.output
