"""audit events cannot be changed or deleted

Revision ID: af678e386ed3
Revises: ab65ea618fb2
Create Date: 2026-11-24 07:20:52.771001

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "af678e386ed3"
down_revision = "ab65ea618fb2"
branch_labels = None
depends_on = None


# The statements are written out here, not imported from the app: a migration must keep
# doing what it did when it was written.
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


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(
        dialect, []
    ):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_immutable ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_immutable()")
