"""drug checking: what samples were sold as, the tests run, each sample's findings, and
community alerts (drafted, approved by a second manager, withdrawn)

Revision ID: a8d2e4f6b1c3
Revises: f7a3c1d9e2b8
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a8d2e4f6b1c3"
down_revision = "f7a3c1d9e2b8"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "drug_check_substances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_check_substances")),
        sa.UniqueConstraint("name", name=op.f("uq_drug_check_substances_name")),
    )
    op.create_table(
        "drug_check_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("finds", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_check_tests")),
        sa.UniqueConstraint("name", name=op.f("uq_drug_check_tests_name")),
    )
    op.create_table(
        "drug_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("sold_as_id", sa.Integer(), nullable=False),
        sa.Column(
            "form",
            _enum("sample_form", "powder", "pill", "crystal", "liquid", "other"),
            nullable=False,
        ),
        sa.Column("reaction", _enum("reaction_report", "yes", "no", "not_asked"), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_drug_checks_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zones.id"], name=op.f("fk_drug_checks_zone_id_zones")
        ),
        sa.ForeignKeyConstraint(
            ["sold_as_id"],
            ["drug_check_substances.id"],
            name=op.f("fk_drug_checks_sold_as_id_drug_check_substances"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_drug_checks_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_drug_checks_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drug_checks_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"], ["users.id"], name=op.f("fk_drug_checks_voided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_checks")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_drug_checks_submission_key")),
    )
    with op.batch_alter_table("drug_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drug_checks_site_id"), ["site_id"])
        batch_op.create_index(batch_op.f("ix_drug_checks_zone_id"), ["zone_id"])
        batch_op.create_index(batch_op.f("ix_drug_checks_visit_id"), ["visit_id"])
        batch_op.create_index("ix_drug_checks_checked_at_voided_at", ["checked_at", "voided_at"])
    op.create_table(
        "drug_check_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome", _enum("test_outcome", "positive", "negative", "unclear"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["drug_checks.id"],
            name=op.f("fk_drug_check_findings_check_id_drug_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["test_id"],
            ["drug_check_tests.id"],
            name=op.f("fk_drug_check_findings_test_id_drug_check_tests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_check_findings")),
        sa.UniqueConstraint("check_id", "test_id", name="uq_drug_check_findings_check_id_test_id"),
    )
    with op.batch_alter_table("drug_check_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drug_check_findings_check_id"), ["check_id"])
    op.create_table(
        "drug_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status", _enum("alert_status", "draft", "approved", "withdrawn"), nullable=False
        ),
        sa.Column("test_id", sa.Integer(), nullable=True),
        sa.Column("found", sa.String(length=60), nullable=False),
        sa.Column("sold_as", sa.String(length=60), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("advice", sa.JSON(), nullable=False),
        sa.Column("signal", sa.JSON(), nullable=True),
        sa.Column("drafted_by", sa.Integer(), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["test_id"],
            ["drug_check_tests.id"],
            name=op.f("fk_drug_alerts_test_id_drug_check_tests"),
        ),
        sa.ForeignKeyConstraint(
            ["drafted_by"], ["users.id"], name=op.f("fk_drug_alerts_drafted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_drug_alerts_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by"], ["users.id"], name=op.f("fk_drug_alerts_withdrawn_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_alerts")),
    )
    with op.batch_alter_table("drug_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drug_alerts_status"), ["status"])


def downgrade() -> None:
    with op.batch_alter_table("drug_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drug_alerts_status"))
    op.drop_table("drug_alerts")
    with op.batch_alter_table("drug_check_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drug_check_findings_check_id"))
    op.drop_table("drug_check_findings")
    with op.batch_alter_table("drug_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_drug_checks_checked_at_voided_at")
        batch_op.drop_index(batch_op.f("ix_drug_checks_visit_id"))
        batch_op.drop_index(batch_op.f("ix_drug_checks_zone_id"))
        batch_op.drop_index(batch_op.f("ix_drug_checks_site_id"))
    op.drop_table("drug_checks")
    op.drop_table("drug_check_tests")
    op.drop_table("drug_check_substances")
