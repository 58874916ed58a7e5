"""dossiers de Démarches numériques

Revision ID: 0009
Revises: 0008

- demarches_dossier: each dossier of a Démarches numériques export imported as an
  operation (dossier number, démarche, state, the values last imported), so that a
  later export of the same démarche updates the operation instead of duplicating it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demarches_dossier",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("procedure", sa.String(200), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("imported", sa.JSON(), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("operation_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["operation_id"], ["operation.id"], ondelete="CASCADE",
                                name="fk_demarches_dossier_operation_id_operation"),
        sa.PrimaryKeyConstraint("id", name="pk_demarches_dossier"),
        sa.UniqueConstraint("number", name="uq_demarches_dossier_number"),
        sa.UniqueConstraint("operation_id", name="uq_demarches_dossier_operation_id"),
    )


def downgrade() -> None:
    op.drop_table("demarches_dossier")
