"""A narrative per report period (activities, barriers, community events)

Revision ID: 9d3c7a2b4e81
Revises: 8b2f6d1e3a75
Create Date: 2026-12-02 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9d3c7a2b4e81"
down_revision = "8b2f6d1e3a75"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_narratives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("activities", sa.Text(), nullable=False),
        sa.Column("barriers", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_report_narratives_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_narratives")),
        sa.UniqueConstraint("period", name=op.f("uq_report_narratives_period")),
    )


def downgrade():
    op.drop_table("report_narratives")
