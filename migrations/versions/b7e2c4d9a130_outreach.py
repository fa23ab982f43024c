"""Outreach: zones, the sealed outbox's keys, held contacts; visits gain a zone, the time
they arrived and a people count; participants can be enrolled in the field; sites choose
their outreach screen's quick items

Revision ID: b7e2c4d9a130
Revises: 63fa1f952531
Create Date: 2026-12-02 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7e2c4d9a130"
down_revision = "63fa1f952531"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
        sa.UniqueConstraint("name", name=op.f("uq_zones_name")),
    )
    op.create_table(
        "sealing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(32), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealing_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_sealing_keys_kid")),
    )
    op.create_table(
        "held_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_key", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "saved",
                "discarded",
                name="held_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_held_contacts_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_held_contacts_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_held_contacts_resolved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_held_contacts_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_contacts")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_held_contacts_submission_key")),
    )
    with op.batch_alter_table("held_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_contacts_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_contacts_status"), ["status"], unique=False)
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("people_count", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_visits_zone_id_zones"), "zones", ["zone_id"], ["id"]
        )
        batch_op.create_check_constraint("people_count_positive", "people_count >= 1")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enrolled_in_field", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("review_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quick_items", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("quick_items")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("review_pending")
        batch_op.drop_column("enrolled_in_field")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint("people_count_positive", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_visits_zone_id_zones"), type_="foreignkey")
        batch_op.drop_column("people_count")
        batch_op.drop_column("received_at")
        batch_op.drop_column("zone_id")
    with op.batch_alter_table("held_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_contacts_status"))
        batch_op.drop_index(batch_op.f("ix_held_contacts_user_id"))
    op.drop_table("held_contacts")
    op.drop_table("sealing_keys")
    op.drop_table("zones")
