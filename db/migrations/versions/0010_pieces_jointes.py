"""pièces jointes

Revision ID: 0010
Revises: 0009

- attachment_content: a file's content once per sha256 (the bytes on PostgreSQL; beside
  an SQLite base they are in the folder ``<base>.pieces``).
- attachment: a file attached to a contract, an operation or a funding line (exactly one),
  with its kind, name, size, sha256 and media type; deleted with its record.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("convention_signee", "arrete_signe", "deliberation", "devis", "facture", "photo",
         "autre")


def upgrade() -> None:
    op.create_table(
        "attachment_content",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size >= 0", name="ck_attachment_content_size_positive"),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachment_content"),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=True),
        sa.Column("funding_line_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(120), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
                           name="ck_attachment_kind"),
        sa.CheckConstraint(
            "(CASE WHEN contract_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN operation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN funding_line_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="ck_attachment_one_record"),
        sa.CheckConstraint("size >= 0", name="ck_attachment_size_positive"),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"], ondelete="CASCADE",
                                name="fk_attachment_contract_id_contract"),
        sa.ForeignKeyConstraint(["operation_id"], ["operation.id"], ondelete="CASCADE",
                                name="fk_attachment_operation_id_operation"),
        sa.ForeignKeyConstraint(["funding_line_id"], ["funding_line.id"], ondelete="CASCADE",
                                name="fk_attachment_funding_line_id_funding_line"),
        sa.ForeignKeyConstraint(["sha256"], ["attachment_content.sha256"],
                                name="fk_attachment_sha256_attachment_content"),
        sa.PrimaryKeyConstraint("id", name="pk_attachment"),
    )
    for column in ("contract_id", "operation_id", "funding_line_id", "sha256"):
        op.create_index(f"ix_attachment_{column}", "attachment", [column])


def downgrade() -> None:
    op.drop_table("attachment")
    op.drop_table("attachment_content")
