"""The indexes that find a code by a piece of it ("APH0" in "MAPH0687") without reading
every code: on PostgreSQL a trigram index (the pg_trgm extension, GIN) on
``participants.code`` and ``participant_aliases.code``, which ``LIKE '%APH0%'`` uses by
itself; on SQLite an FTS5 table with the trigram tokenizer beside each, kept in step by
triggers, which ``search_partial`` asks. Both need three characters or more.

Where PostgreSQL does not allow the extension (a managed server without it), nothing is
created and searches read every code, as before: slower at scale, never wrong.

The migration ``c9d1e3f5a7b9`` creates the same objects (a migration does not import the
app); ``create_all`` makes them through the ``after_create`` hooks below, so a test
database matches a migrated one. The schema comparison (``ssp db check``) leaves them out
by name (``include_name``).
"""

from __future__ import annotations

import logging

from sqlalchemy import Table, column, event, table
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

MIN_LENGTH = 3  # a trigram index finds nothing shorter
SQLITE_TABLES = {
    "participants": "participant_code_trigrams",
    "participant_aliases": "alias_code_trigrams",
}
POSTGRESQL_INDEXES = {
    "participants": "ix_participants_code_trgm",
    "participant_aliases": "ix_participant_aliases_code_trgm",
}


def sqlite_statements(source: str) -> list[str]:
    """The FTS5 table beside ``source`` and the triggers that keep it in step. The names
    are this module's constants, never input."""
    fts = SQLITE_TABLES[source]
    make_table = "CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(code, tokenize='trigram', content='{src}', content_rowid='id')"  # noqa: E501
    on_insert = "CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {src} BEGIN INSERT INTO {fts}(rowid, code) VALUES (new.id, new.code); END"  # noqa: E501
    on_delete = "CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {src} BEGIN INSERT INTO {fts}({fts}, rowid, code) VALUES ('delete', old.id, old.code); END"  # noqa: E501
    on_update = "CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF code ON {src} BEGIN INSERT INTO {fts}({fts}, rowid, code) VALUES ('delete', old.id, old.code); INSERT INTO {fts}(rowid, code) VALUES (new.id, new.code); END"  # noqa: E501
    fill = "INSERT INTO {fts}({fts}) VALUES ('rebuild')"
    return [
        sql.format(fts=fts, src=source)
        for sql in (make_table, on_insert, on_delete, on_update, fill)
    ]


def create_for(source: str, connection: Connection) -> None:
    """Create the code-search index of table ``source`` on this connection's database."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for statement in sqlite_statements(source):
            connection.exec_driver_sql(statement)
    elif dialect == "postgresql":
        if not trigrams_available(connection):
            return
        connection.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {POSTGRESQL_INDEXES[source]} ON {source} "
            "USING gin (code gin_trgm_ops)"
        )


def trigrams_available(connection: Connection) -> bool:
    """Whether pg_trgm is (or could now be) installed in this PostgreSQL database."""
    installed = connection.exec_driver_sql(
        "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar()
    if installed:
        return True
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # noqa: BLE001  (not allowed here: search without it)
        savepoint.rollback()
        log.warning("pg_trgm is not available (%s): partial code search reads every code", error)
        return False
    savepoint.commit()
    return True


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """For the schema comparison: the search indexes are not in the models."""
    if type_ == "table" and name is not None:
        return not any(name.startswith(fts) for fts in SQLITE_TABLES.values())
    if type_ == "index":
        return name not in POSTGRESQL_INDEXES.values()
    return True


def fts_table(source: str):
    """The SQLite FTS5 table of ``source``, for queries."""
    return table(SQLITE_TABLES[source], column("rowid"), column("code"))


def install_hooks(source: Table) -> None:
    """``create_all`` creates the search index right after the table."""
    event.listen(
        source,
        "after_create",
        lambda target, connection, **kw: create_for(target.name, connection),
    )
