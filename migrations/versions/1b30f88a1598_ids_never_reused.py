"""never reuse participant, referral and follow-up ids on SQLite

Revision ID: 1b30f88a1598
Revises: af678e386ed3
Create Date: 2026-11-24 07:41:33.552760

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "1b30f88a1598"
down_revision = "af678e386ed3"
branch_labels = None
depends_on = None


TABLES = ("participants", "referrals", "follow_ups")


def _rebuild(autoincrement: bool) -> None:
    """SQLite only: rebuild the tables with (or without) AUTOINCREMENT, so ids are never
    handed out again after rows are deleted. PostgreSQL sequences never reuse ids."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
