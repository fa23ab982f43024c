"""A follow-up closed as could not reach by ssp itself, after a long time without contact

Revision ID: 63fa1f952531
Revises: 9d3c7a2b4e81
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "63fa1f952531"
down_revision = "9d3c7a2b4e81"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "closed_automatically", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_column("closed_automatically")
