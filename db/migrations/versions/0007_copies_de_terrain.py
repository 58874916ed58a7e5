"""copies de terrain, origine des écritures

Revision ID: 0007
Revises: 0006

- audit_entry.origin: where a write came from (saisie, import, terrain…), shown in the
  history of every record;
- field_copy: the field copies taken from this base (role "sortie") or, in a laptop's
  file, the copy that file is (role "copie");
- field_copy_record: the records out on the terrain ("sortis sur le terrain par X");
- field_base: in a copy, each record's values when taken (base of the three-way merge);
- field_conflict: what a check-in left for a person to settle;
- app_setting "base.identifiant": the identity of this base, so that a copy is merged
  back only into the base it was taken from.
"""
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_entry", sa.Column("origin", sa.String(40), nullable=True))
    op.create_table(
        "field_copy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("office_id", sa.String(36), nullable=False),
        sa.Column("office_label", sa.String(500), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(128), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("schema_revision", sa.String(32), nullable=False),
        sa.Column("base_digest", sa.String(64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.String(128), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.CheckConstraint("role IN ('sortie', 'copie')", name="ck_field_copy_role"),
        sa.PrimaryKeyConstraint("id", name="pk_field_copy"),
    )
    op.create_table(
        "field_copy_record",
        sa.Column("copy_id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(["copy_id"], ["field_copy.id"], ondelete="CASCADE",
                                name="fk_field_copy_record_copy_id_field_copy"),
        sa.PrimaryKeyConstraint("copy_id", "entity", "record_id",
                                name="pk_field_copy_record"),
    )
    op.create_index("ix_field_copy_record_entity", "field_copy_record",
                    ["entity", "record_id"])
    op.create_table(
        "field_base",
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(80), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "record_id", name="pk_field_base"),
    )
    op.create_table(
        "field_conflict",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(80), nullable=False),
        sa.Column("reference", sa.String(300), nullable=True),
        sa.Column("field", sa.String(64), nullable=True),
        sa.Column("base", sa.JSON(), nullable=True),
        sa.Column("terrain", sa.JSON(), nullable=True),
        sa.Column("bureau", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.CheckConstraint("kind IN ('champ', 'suppression', 'doublon')",
                           name="ck_field_conflict_kind"),
        sa.CheckConstraint("status IN ('ouvert', 'résolu')", name="ck_field_conflict_status"),
        sa.ForeignKeyConstraint(["copy_id"], ["field_copy.id"],
                                name="fk_field_conflict_copy_id_field_copy"),
        sa.PrimaryKeyConstraint("id", name="pk_field_conflict"),
        sa.UniqueConstraint("number", name="uq_field_conflict_number"),
    )
    op.create_index("ix_field_conflict_copy_id", "field_conflict", ["copy_id"])
    op.create_index("ix_field_conflict_status", "field_conflict", ["status"])
    setting = sa.table("app_setting", sa.column("key"), sa.column("value"))
    op.execute(setting.insert().values(key="base.identifiant", value=str(uuid.uuid4())))


def downgrade() -> None:
    op.execute("DELETE FROM app_setting WHERE key = 'base.identifiant'")
    op.drop_table("field_conflict")
    op.drop_table("field_base")
    op.drop_table("field_copy_record")
    op.drop_table("field_copy")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("origin")
