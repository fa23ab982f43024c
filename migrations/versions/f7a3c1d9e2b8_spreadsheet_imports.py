"""spreadsheet imports: named mappings, batches, uploads waiting for their preview; visits
and participants remember the import that brought them in

Revision ID: f7a3c1d9e2b8
Revises: e5f9b2c3d4a6
Create Date: 2026-12-03 15:00:00

``visits.import_key`` is unique: the key of the spreadsheet row a visit came from, so a
second import of the same row adds nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "f7a3c1d9e2b8"
down_revision = "e5f9b2c3d4a6"
branch_labels = None
depends_on = None


def _shape() -> sa.Enum:
    return sa.Enum(
        "visits",
        "tally",
        name="import_shape",
        native_enum=False,
        create_constraint=True,
        length=32,
    )


def upgrade() -> None:
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("shape", _shape(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_import_mappings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mappings")),
        sa.UniqueConstraint("name", name=op.f("uq_import_mappings_name")),
    )
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("shape", _shape(), nullable=False),
        sa.Column("mapping_name", sa.String(length=80), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rows_already_imported", sa.Integer(), nullable=False),
        sa.Column("rows_left_out", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("participants_created", sa.Integer(), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("moved_stock", sa.Boolean(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_batches_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by"], ["users.id"], name=op.f("fk_import_batches_undone_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batches_file_sha256"), ["file_sha256"])
    op.create_table(
        "import_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=True),
        sa.Column("mapping_name", sa.String(length=80), nullable=True),
        sa.Column("preview", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_uploads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_uploads")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("import_key", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_visits_import_batch_id_import_batches"),
            "import_batches",
            ["import_batch_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_visits_import_batch_id"), ["import_batch_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_visits_import_key"), ["import_key"])
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_participants_import_batch_id_import_batches"),
            "import_batches",
            ["import_batch_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_participants_import_batch_id_import_batches"), type_="foreignkey"
        )
        batch_op.drop_column("import_batch_id")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visits_import_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_visits_import_batch_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_visits_import_batch_id_import_batches"), type_="foreignkey"
        )
        batch_op.drop_column("import_key")
        batch_op.drop_column("import_batch_id")
    op.drop_table("import_uploads")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_file_sha256"))
    op.drop_table("import_batches")
    op.drop_table("import_mappings")
