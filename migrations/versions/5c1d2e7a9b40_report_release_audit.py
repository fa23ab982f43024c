"""Reports keep their release (for auditing later releases) and their audit result

Revision ID: 5c1d2e7a9b40
Revises: 1b30f88a1598
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1d2e7a9b40"
down_revision = "1b30f88a1598"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("audit", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("audit")
        batch_op.drop_column("release")
