"""Database wiring: SQLite connection settings and portable column types.

SQLite settings are applied to every connection the app opens.

pysqlite starts transactions lazily and in DEFERRED mode: two read-then-write
transactions can then both read, and the second writer fails at once with "database is
locked" (busy_timeout does not apply to a lock upgrade). So the driver is put in
autocommit mode and every transaction is started explicitly with BEGIN IMMEDIATE,
which takes the write lock up front and waits for it under busy_timeout.
"""

from __future__ import annotations

import enum
import sqlite3

from sqlalchemy import Enum, event
from sqlalchemy.engine import Connection, Engine

BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, _connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Driver-level autocommit: pysqlite must not issue BEGIN on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def enum_column(kind: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: stored as the member's value, checked by a named constraint."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
