"""languages: each person's chosen language (none: the browser's) and each funder
profile's report language (none: the language of whoever makes the report)

Revision ID: b3c5d7e9f1a2
Revises: a8d2e4f6b1c3
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b3c5d7e9f1a2"
down_revision = "a8d2e4f6b1c3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("funder_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("funder_profiles", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
