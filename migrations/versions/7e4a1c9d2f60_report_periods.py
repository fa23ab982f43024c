"""Report periods beyond a month: wider period keys with their first and last month;
a one-time key per Generate form; funder profiles name their fiscal year's first month
and a contact line

Revision ID: 7e4a1c9d2f60
Revises: 5c1d2e7a9b40
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7e4a1c9d2f60"
down_revision = "5c1d2e7a9b40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column(
            "period", existing_type=sa.String(7), type_=sa.String(16), existing_nullable=False
        )
        batch_op.add_column(sa.Column("first_month", sa.String(7), nullable=True))
        batch_op.add_column(sa.Column("last_month", sa.String(7), nullable=True))
        batch_op.add_column(sa.Column("request_key", sa.String(64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_reports_request_key"), ["request_key"])
    # Every report so far was of one month.
    op.execute("UPDATE reports SET first_month = period, last_month = period")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("first_month", existing_type=sa.String(7), nullable=False)
        batch_op.alter_column("last_month", existing_type=sa.String(7), nullable=False)
        batch_op.create_index(op.f("ix_reports_first_month"), ["first_month"])
        batch_op.create_index(op.f("ix_reports_last_month"), ["last_month"])
    with op.batch_alter_table("funder_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fiscal_year_start", sa.Integer(), nullable=False, server_default="7")
        )
        batch_op.add_column(sa.Column("contact", sa.String(200), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_funder_profiles_fiscal_year_start_range"),
            "fiscal_year_start >= 1 AND fiscal_year_start <= 12",
        )


def downgrade():
    with op.batch_alter_table("funder_profiles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_funder_profiles_fiscal_year_start_range"), type_="check")
        batch_op.drop_column("contact")
        batch_op.drop_column("fiscal_year_start")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_reports_request_key"), type_="unique")
        batch_op.drop_column("request_key")
        batch_op.drop_index(op.f("ix_reports_last_month"))
        batch_op.drop_index(op.f("ix_reports_first_month"))
        batch_op.drop_column("last_month")
        batch_op.drop_column("first_month")
    # The period column stays 16 wide: narrowing it would fail on (or cut) the quarter
    # and year reports already archived, and a wider column harms nothing.
