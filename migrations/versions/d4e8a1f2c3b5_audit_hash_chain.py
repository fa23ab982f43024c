"""audit events form a hash chain: each row carries the hash of the row before it and
its own, so an edit, a removal or a reordering shows (`ssp audit verify`)

Revision ID: d4e8a1f2c3b5
Revises: b7e2c4d9a130
Create Date: 2026-12-03 09:00:00

The events already recorded are hashed here, in id order. The triggers that forbid
UPDATE are dropped around that and recreated after, on both databases.
"""

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import context, op

revision = "d4e8a1f2c3b5"
down_revision = "b7e2c4d9a130"
branch_labels = None
depends_on = None

# Written out here, not imported from the app: a migration must keep doing what it did
# when it was written (the same statements as af678e386ed3).
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events cannot be deleted'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION audit_events_immutable() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit events cannot be changed or deleted'; END $$ "
    "LANGUAGE plpgsql",
    "CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_immutable()",
]

# The chain's first form, as ssp.audit.canonical had it when this was written.
GENESIS = "0" * 64
CHAIN_VERSION = "ssp-audit-v1"
BATCH = 2_000

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("user_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("detail", sa.JSON),
    sa.column("remote_addr", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _hash(prev_hash, row) -> str:
    when = row.occurred_at
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    fields = [
        CHAIN_VERSION,
        prev_hash,
        when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        row.user_id,
        row.action,
        row.object_type,
        row.object_id,
        row.detail,
        row.remote_addr,
    ]
    data = json.dumps(
        fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(data.encode("ascii")).hexdigest()


def _drop_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_immutable ON audit_events")


def _create_triggers(dialect: str) -> None:
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(
        dialect, []
    ):
        op.execute(statement)


def _backfill(connection) -> None:
    """Hash every event in id order, a batch at a time (the rows are read by id range,
    not through one open cursor, so the updates never disturb the reading)."""
    prev_hash, last_id = GENESIS, None
    while True:
        query = sa.select(
            events.c.id,
            events.c.occurred_at,
            events.c.user_id,
            events.c.action,
            events.c.object_type,
            events.c.object_id,
            events.c.detail,
            events.c.remote_addr,
        ).order_by(events.c.id)
        if last_id is not None:
            query = query.where(events.c.id > last_id)
        rows = connection.execute(query.limit(BATCH)).all()
        if not rows:
            return
        updates = []
        for row in rows:
            own = _hash(prev_hash, row)
            updates.append({"row_id": row.id, "new_prev": prev_hash, "new_hash": own})
            prev_hash, last_id = own, row.id
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam("row_id"))
            .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")),
            updates,
        )


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError(
            "This migration hashes the audit events already recorded, which needs the "
            "database itself: run `ssp db upgrade` without --sql."
        )
    connection = op.get_bind()
    dialect = connection.dialect.name
    _drop_triggers(dialect)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(64), nullable=True))
    _backfill(connection)
    # On SQLite this rebuilds the table (which drops its triggers: made again below).
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_prev_hash"), ["prev_hash"])
    _create_triggers(dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_prev_hash"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    _create_triggers(dialect)
