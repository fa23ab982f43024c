"""The migrations build exactly the models' schema, and downgrade cleanly, on each database."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from ssp import create_app
from ssp.extensions import db
from ssp.participants.code_search import include_name
from tests.conftest import (
    TEST_DATABASE_URL,
    app_config,
    on_postgresql,
    scratch_postgresql_database,
)


@contextmanager
def _empty_database(kind: str, tmp_path):
    if kind == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:
        with scratch_postgresql_database() as url:
            yield url


def _snapshot(engine) -> dict:
    """What autogenerate does not compare: check and unique constraints, by name."""
    inspector = inspect(engine)
    snapshot = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        snapshot[table] = {
            "checks": sorted(c["name"] for c in inspector.get_check_constraints(table)),
            "uniques": sorted(c["name"] for c in inspector.get_unique_constraints(table)),
        }
    return snapshot


def _created_by_models(kind: str, tmp_path) -> dict:
    with _empty_database(kind, tmp_path / "models") as url:
        app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
        with app.app_context():
            db.create_all()
            snapshot = _snapshot(db.engine)
            db.engine.dispose()
    return snapshot


def _differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        return compare_metadata(context, db.metadata)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_gives_the_models_schema_and_downgrade_empties_it(kind, tmp_path):
    if kind == "postgresql" and not on_postgresql():
        pytest.skip("set SSP_TEST_DATABASE_URL to a PostgreSQL database to run this")
    expected = _created_by_models(kind, tmp_path)
    with _empty_database(kind, tmp_path) as url:
        app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
        with app.app_context():
            directory = app.extensions["migrate"].directory
            upgrade(directory=directory)
            assert _differences() == []
            assert _snapshot(db.engine) == expected
            tables = set(inspect(db.engine).get_table_names())
            assert {t.name for t in db.metadata.sorted_tables} <= tables

            downgrade(directory=directory, revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

            upgrade(directory=directory)
            assert _differences() == []
            db.engine.dispose()


def test_test_database_url_is_used_when_set(app):
    with app.app_context():
        dialect = db.engine.dialect.name
    assert dialect == ("postgresql" if on_postgresql() else "sqlite")
    if TEST_DATABASE_URL is None:
        assert dialect == "sqlite"
