"""Supply items say how many doses one unit holds (naloxone doses for funders)

Revision ID: 8b2f6d1e3a75
Revises: 7e4a1c9d2f60
Create Date: 2026-12-02 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8b2f6d1e3a75"
down_revision = "7e4a1c9d2f60"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("supply_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("doses_per_unit", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.create_check_constraint(
            op.f("ck_supply_items_doses_per_unit_positive"), "doses_per_unit >= 1"
        )
    # The default catalogue's nasal spray kit holds two 4 mg doses.
    op.execute(
        "UPDATE supply_items SET doses_per_unit = 2 "
        "WHERE name = 'Naloxone nasal spray 4 mg (2-dose kit)'"
    )


def downgrade():
    with op.batch_alter_table("supply_items", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_supply_items_doses_per_unit_positive"), type_="check")
        batch_op.drop_column("doses_per_unit")
