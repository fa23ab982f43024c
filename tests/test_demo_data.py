"""Synthetic demo data: `ssp seed-demo` and `ssp quickstart --demo`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from ssp.extensions import db
from ssp.visits.models import VisitItem
from tests.conftest import on_postgresql
from tests.test_cli import FAST, run


def _env(app) -> dict[str, str]:
    from tests.conftest import SECRET

    return {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }


def test_seed_demo_writes_a_consistent_program(app, factory):
    from ssp.participants.models import Participant
    from ssp.referrals.models import FollowUp, Referral
    from ssp.supplies.models import MovementReason, StockMovement
    from ssp.visits.models import Visit, VisitItem

    result = run(
        ["seed-demo", "--participants", "200", "--visits", "3000", "--months", "6", "--seed", "5"],
        **_env(app),
    )
    assert result.exit_code == 0, result.output
    assert "Added 200 participants, 3,000 visits" in result.output
    with app.app_context():
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Participant) == 200 and count(Visit) == 3000
        assert count(Referral) == count(FollowUp) > 0
        handed_out = db.session.scalar(
            select(func.sum(VisitItem.quantity))
            .join(Visit, Visit.id == VisitItem.visit_id)
            .where(Visit.voided_at.is_(None))
        )
        distributed = db.session.scalar(
            select(-func.sum(StockMovement.delta)).where(
                StockMovement.reason == MovementReason.DISTRIBUTION
            )
        )
        assert handed_out == distributed
        early = db.session.scalar(
            select(func.count())
            .select_from(Visit)
            .join(Participant, Participant.id == Visit.participant_id)
            .where(Visit.occurred_at < Participant.created_at)
        )
        assert early == 0
        assert (
            db.session.scalar(
                select(func.count()).select_from(Visit).where(Visit.participant_id.is_(None))
            )
            > 0
        )
    # The ids continue correctly afterwards (PostgreSQL sequences were moved on).
    factory.participant("ZZZZ9999")
    site = factory.site("Another site")
    assert site > 0


def test_seed_demo_refuses_bad_numbers(app):
    result = run(["seed-demo", "--visits", "-5"], **_env(app))
    assert result.exit_code == 2 and "-5 is not in the range" in result.output


def test_quickstart_demo_loads_a_small_program_once(tmp_path):
    from sqlalchemy import create_engine, text

    instance = tmp_path / "instance"
    first = run(
        ["quickstart", "--no-serve", "--demo", "--password-stdin"],
        input="kettle orbit velvet 42\n",
        SSP_INSTANCE_PATH=str(instance),
        **FAST,
    )
    assert first.exit_code == 0, first.output
    assert "Loaded demo data: 300 participants, 3,000 visits" in first.output
    second = run(["quickstart", "--no-serve", "--demo"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert "Keeping the existing visits" in second.output
    engine = create_engine(f"sqlite:///{instance / 'ssp.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM visits")).scalar() == 3000
    engine.dispose()


def _seeded_rows(seed_value: int) -> dict[str, list[tuple]]:
    """A small seed at a fixed time, every seeded table's rows as stored."""
    import datetime as dt

    from sqlalchemy import text

    from ssp.demo import seed

    seed(
        participants=60,
        visits=800,
        months=3,
        seed_value=seed_value,
        now=dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC),
    )
    tables = ["participants", "visits", "visit_items", "visit_services", "stock_movements"]
    tables += ["referrals", "referral_status_changes", "follow_ups"]
    return {
        name: [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {name} ORDER BY id"))]  # noqa: S608
        for name in tables
    }


def test_seed_gives_the_same_data_for_the_same_seed(app):
    from ssp.demo import seed

    with app.app_context():
        # Sites, staff and partners first, for good: PostgreSQL does not roll ids back.
        seed(participants=0, visits=0, months=1)
        db.session.commit()
        first = _seeded_rows(7)
        db.session.rollback()
        assert _seeded_rows(7) == first
        db.session.rollback()
        assert _seeded_rows(8) != first


def test_seeded_values_are_stored_as_sqlalchemy_stores_them(app):
    """Rows written through the driver hold exactly what SQLAlchemy would have written
    for the values it reads back (enum values, SQLite's datetime text, 0/1 booleans)."""
    from sqlalchemy import select, text

    from ssp.participants.models import Participant
    from ssp.referrals.models import FollowUp, Referral, ReferralStatusChange
    from ssp.supplies.models import StockMovement
    from ssp.visits.models import Visit, VisitItem, VisitService

    with app.app_context():
        _seeded_rows(3)
        dialect = db.session.get_bind().dialect
        models = [Participant, Visit, VisitItem, VisitService, StockMovement, Referral]
        models += [ReferralStatusChange, FollowUp]
        for model in models:
            table = model.__table__
            stored = db.session.execute(text(f"SELECT * FROM {table.name} ORDER BY id")).all()  # noqa: S608
            read = db.session.execute(select(table).order_by(table.c.id)).all()
            assert stored and len(stored) == len(read)
            for raw, value in zip(stored, read, strict=True):
                for column in table.columns:
                    impl = column.type.dialect_impl(dialect)
                    bind = impl.bind_processor(dialect) or (lambda v: v)
                    written = bind(value._mapping[column])
                    assert raw._mapping[column.name] == written, (table.name, column.name)
        # And the ORM reads them as the app does.
        visit = db.session.scalars(select(Visit).where(Visit.participant_id.is_not(None))).first()
        assert visit.items and visit.participant.created_at <= visit.occurred_at


needs_postgresql = pytest.mark.skipif(
    not on_postgresql(), reason="PostgreSQL's bulk load; SQLite checks each row as it goes"
)


def _role_may_skip_row_checks() -> bool:
    return bool(
        db.session.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )


def _basics_and_an_item_id() -> int:
    """Sites, staff and the catalogue, committed for good (PostgreSQL does not give ids
    back on a rollback); the id of a supply item."""
    from ssp.demo import seed
    from ssp.supplies.models import SupplyItem

    seed(participants=0, visits=0, months=1)
    db.session.commit()
    return db.session.scalar(select(SupplyItem.id))


def _orphans() -> int:
    return db.session.scalar(
        text(
            "SELECT count(*) FROM visit_items i WHERE NOT EXISTS"
            " (SELECT 1 FROM visits v WHERE v.id = i.visit_id)"
        )
    )


@needs_postgresql
def test_a_bulk_load_checks_every_foreign_key_and_refuses_a_row_pointing_nowhere(app):
    """On PostgreSQL the seed leaves out the row-by-row key checks (it runs as a role that
    may); the keys are then checked in bulk, so a row pointing nowhere still stops it."""
    from ssp.demo import VISIT_ITEMS, SeedError, _BulkWriter

    with app.app_context():
        if not _role_may_skip_row_checks():
            pytest.skip("the test database's role is not a superuser: keys are checked row by row")
        item_id = _basics_and_an_item_id()
        orphan = r"visit_items\.visit_id = \(987654321,\)"
        with pytest.raises(SeedError, match=orphan), _BulkWriter() as writer:
            writer.write(VISIT_ITEMS, [(987654321, 987654321, item_id, 1, None)])
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(VisitItem)) == 0


@needs_postgresql
def test_after_a_bulk_load_the_transaction_checks_keys_row_by_row_again(app):
    """The checks are left out for the load only: what the same transaction writes next
    is refused at once when it points nowhere."""
    from ssp.demo import seed

    with app.app_context():
        result = seed(participants=20, visits=200, months=2, seed_value=4)
        assert result.visits == 200
        role = db.session.execute(text("SHOW session_replication_role")).scalar()
        assert role == "origin"
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "INSERT INTO visit_items (visit_id, supply_item_id, quantity)"
                    " VALUES (-5, -5, 1)"
                )
            )
        db.session.rollback()


@needs_postgresql
def test_a_batch_the_sending_thread_cannot_write_fails_the_load(app):
    """On PostgreSQL batches are sent by a second thread: what it meets reaches the caller."""
    from psycopg.errors import CheckViolation

    from ssp.demo import VISIT_ITEMS, _BulkWriter

    with app.app_context():
        item_id = _basics_and_an_item_id()
        with pytest.raises(CheckViolation, match="quantity_positive"), _BulkWriter() as writer:
            writer.write_batch({VISIT_ITEMS: [(1, 1, item_id, 0, None)]})  # no zero quantity
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(VisitItem)) == 0


@needs_postgresql
def test_a_failed_load_keeps_nothing_even_when_the_caller_commits(app, monkeypatch):
    """A batch refused mid-load reports its own error, the transaction is usable again
    and checks keys row by row, and a commit afterwards keeps none of the load."""
    from psycopg.errors import CheckViolation

    from ssp import demo
    from ssp.visits.models import Visit

    with app.app_context():
        demo.seed(participants=0, visits=0, months=1)
        db.session.commit()
        monkeypatch.setattr(demo, "SYRINGE_COUNTS", (0,))  # a zero quantity is refused
        with pytest.raises(CheckViolation):
            demo.seed(participants=10, visits=200, months=1)
        assert db.session.execute(text("SHOW session_replication_role")).scalar() == "origin"
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


@needs_postgresql
def test_an_error_in_the_load_body_keeps_none_of_its_rows(app):
    from ssp.demo import VISIT_ITEMS, _BulkWriter

    with app.app_context():
        item_id = _basics_and_an_item_id()
        with pytest.raises(RuntimeError), _BulkWriter() as writer:
            writer.write(VISIT_ITEMS, [(987654321, 987654321, item_id, 1, None)])
            raise RuntimeError("the caller fails mid-load")
        db.session.commit()
        assert _orphans() == 0


@needs_postgresql
def test_a_sender_failure_seen_on_leaving_still_puts_the_checks_back(app):
    from ssp.demo import _BulkWriter, _Table, seed

    with app.app_context():
        seed(participants=0, visits=0, months=1)
        db.session.commit()
        not_in_the_database = _Table(VisitItem, "visit_items", ("id", "no_such_column"))
        with pytest.raises(KeyError), _BulkWriter() as writer:
            writer.write_batch({not_in_the_database: [(1, 2)]})
        assert db.session.execute(text("SHOW session_replication_role")).scalar() == "origin"
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "INSERT INTO visit_items (id, visit_id, supply_item_id, quantity)"
                    " VALUES (777, -1, -1, 1)"
                )
            )
        db.session.rollback()


@needs_postgresql
def test_an_interrupted_wait_still_stops_the_sending_thread(app, monkeypatch):
    """Ctrl-C while waiting for the second thread: it is waited for again, then the load
    is rolled back, so it never writes on the connection after the seed has returned."""
    import threading

    from ssp.demo import seed

    join = threading.Thread.join
    interrupted = []

    def interrupted_once(thread, *args, **kwargs):
        if thread.name == "ssp-seed-writer" and not interrupted:
            interrupted.append(thread)
            raise KeyboardInterrupt
        return join(thread, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "join", interrupted_once)
    with app.app_context():
        with pytest.raises(KeyboardInterrupt):
            seed(participants=100, visits=60_000, months=2)
        assert interrupted and not interrupted[0].is_alive()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(VisitItem)) == 0


@needs_postgresql
def test_the_tables_a_load_points_at_cannot_change_until_it_commits(app):
    """Row-by-row checks lock the rows pointed at; the bulk check locks their tables, so
    no item can be deleted between the check and the commit."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from ssp.demo import seed
    from ssp.supplies.models import SupplyItem

    with app.app_context():
        if not _role_may_skip_row_checks():
            pytest.skip("the test database's role is not a superuser: keys are checked row by row")
        seed(participants=0, visits=0, months=1)
        db.session.commit()
        unused = db.session.scalar(select(func.max(SupplyItem.id)))
        seed(participants=5, visits=20, months=1)
        other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        try:
            with other.connect() as connection, pytest.raises(OperationalError, match="lock"):
                connection.execute(text("SET lock_timeout = '300ms'"))
                connection.execute(text("DELETE FROM supply_items WHERE id = :i"), {"i": unused})
        finally:
            other.dispose()
        db.session.rollback()
