"""actes et modèles d'actes

Revision ID: 0011
Revises: 0010

- act_template: the office's own template of an act (DOCX bytes) per kind and scheme
  (scheme NULL: every scheme without its own), shared by every agent of the base.
- act: an act generated for a funding line (kind, date, fingerprint of its PDF, the
  template's sha256, pages), with the date it was signed and the attachment of its
  signed scan once filed.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("arrete_attributif", "notification", "refus", "prorogation", "alerte_caducite")
KIND_CHECK = "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")"


def _tracked() -> list[sa.Column]:
    return [sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.String(128), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_by", sa.String(128), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "act_template",
        *_tracked(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("scheme_code", sa.String(40), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(KIND_CHECK, name="ck_act_template_kind"),
        sa.ForeignKeyConstraint(["scheme_code"], ["funding_scheme.code"], ondelete="CASCADE",
                                name="fk_act_template_scheme_code_funding_scheme"),
        sa.PrimaryKeyConstraint("id", name="pk_act_template"),
        sa.UniqueConstraint("kind", "scheme_code", name="uq_act_template_kind"),
    )
    op.create_table(
        "act",
        *_tracked(),
        sa.Column("funding_line_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("generated_on", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(20), nullable=False),
        sa.Column("template_sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_attachment_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(KIND_CHECK, name="ck_act_kind"),
        sa.ForeignKeyConstraint(["funding_line_id"], ["funding_line.id"], ondelete="CASCADE",
                                name="fk_act_funding_line_id_funding_line"),
        sa.ForeignKeyConstraint(["signed_attachment_id"], ["attachment.id"],
                                ondelete="SET NULL",
                                name="fk_act_signed_attachment_id_attachment"),
        sa.PrimaryKeyConstraint("id", name="pk_act"),
        sa.UniqueConstraint("fingerprint", name="uq_act_fingerprint"),
    )
    op.create_index("ix_act_funding_line_id", "act", ["funding_line_id"])


def downgrade() -> None:
    op.drop_table("act")
    op.drop_table("act_template")
