"""partial code search by index: a trigram GIN index (pg_trgm) on participants.code and
participant_aliases.code on PostgreSQL, an FTS5 trigram table beside each on SQLite

Revision ID: c9d1e3f5a7b9
Revises: b3c5d7e9f1a2
Create Date: 2026-12-04 20:00:00

Where PostgreSQL does not allow the pg_trgm extension, nothing is created: searches read
every code as before. The same objects are made by ssp.participants.code_search for
create_all (a migration does not import the app); the schema comparison leaves them out.
On SQLite, a later batch migration that rebuilds either table drops its triggers and must
create them again.
"""

import logging

from alembic import op

revision = "c9d1e3f5a7b9"
down_revision = "b3c5d7e9f1a2"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TABLES = {
    "participants": ("participant_code_trigrams", "ix_participants_code_trgm"),
    "participant_aliases": ("alias_code_trigrams", "ix_participant_aliases_code_trgm"),
}


def _sqlite_upgrade(source: str, fts: str) -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5("
        f"code, tokenize='trigram', content='{source}', content_rowid='id')"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {source} BEGIN "
        f"INSERT INTO {fts}(rowid, code) VALUES (new.id, new.code); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {source} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, code) VALUES ('delete', old.id, old.code); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF code ON {source} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, code) VALUES ('delete', old.id, old.code); "
        f"INSERT INTO {fts}(rowid, code) VALUES (new.id, new.code); END"
    )
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _pg_trgm_allowed() -> bool:
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").scalar():
        return True
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # noqa: BLE001
        savepoint.rollback()
        log.warning("pg_trgm is not available (%s): no trigram index on codes", error)
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for source, (fts, _index) in TABLES.items():
            _sqlite_upgrade(source, fts)
    elif dialect == "postgresql" and _pg_trgm_allowed():
        for source, (_fts, index) in TABLES.items():
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {index} ON {source} USING gin (code gin_trgm_ops)"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for fts, index in TABLES.values():
        if dialect == "sqlite":
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS {index}")
