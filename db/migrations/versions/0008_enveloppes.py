"""enveloppes et simulations de programmation

Revision ID: 0008
Revises: 0007

- envelope: the amount of a dotation notified for a year and a perimeter (département
  or arrondissement), delegated from a parent envelope;
- priority_category: the DETR priority categories of a département;
- simulation, simulation_line: draft programmations of an envelope, applied to the
  funding lines and undoable.
Office work: none of these tables travels in a field copy.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tracked() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "envelope", *_tracked(),
        sa.Column("scheme_code", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("departement_code", sa.String(3), nullable=True),
        sa.Column("arrondissement_code", sa.String(4), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint("(departement_code IS NULL) <> (arrondissement_code IS NULL)",
                           name="ck_envelope_perimeter"),
        sa.CheckConstraint("amount_cents >= 0", name="ck_envelope_amount_positive"),
        sa.ForeignKeyConstraint(["scheme_code"], ["funding_scheme.code"],
                                name="fk_envelope_scheme_code_funding_scheme"),
        sa.ForeignKeyConstraint(["departement_code"], ["departement.code"],
                                name="fk_envelope_departement_code_departement"),
        sa.ForeignKeyConstraint(["arrondissement_code"], ["arrondissement.code"],
                                name="fk_envelope_arrondissement_code_arrondissement"),
        sa.ForeignKeyConstraint(["parent_id"], ["envelope.id"],
                                name="fk_envelope_parent_id_envelope"),
        sa.PrimaryKeyConstraint("id", name="pk_envelope"),
    )
    op.create_index("ix_envelope_scheme_year", "envelope", ["scheme_code", "year"])
    op.create_index("ix_envelope_arrondissement_code", "envelope", ["arrondissement_code"])
    op.create_index("ix_envelope_parent_id", "envelope", ["parent_id"])
    op.create_table(
        "priority_category", *_tracked(),
        sa.Column("departement_code", sa.String(3), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["departement_code"], ["departement.code"],
                                name="fk_priority_category_departement_code_departement"),
        sa.PrimaryKeyConstraint("id", name="pk_priority_category"),
    )
    op.create_index("ix_priority_category_departement_code", "priority_category",
                    ["departement_code"])
    op.create_table(
        "simulation", *_tracked(),
        sa.Column("envelope_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelope.id"], ondelete="CASCADE",
                                name="fk_simulation_envelope_id_envelope"),
        sa.PrimaryKeyConstraint("id", name="pk_simulation"),
    )
    op.create_index("ix_simulation_envelope_id", "simulation", ["envelope_id"])
    op.create_table(
        "simulation_line", *_tracked(),
        sa.Column("simulation_id", sa.Uuid(), nullable=False),
        sa.Column("funding_line_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_cents", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("before_status", sa.String(32), nullable=True),
        sa.Column("before_granted_cents", sa.BigInteger(), nullable=True),
        sa.Column("before_decision_date", sa.Date(), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IS NULL OR status IN ('retenu', 'refuse', 'ajourne')",
                           name="ck_simulation_line_status"),
        sa.CheckConstraint("proposed_cents IS NULL OR proposed_cents >= 0",
                           name="ck_simulation_line_proposed_positive"),
        sa.ForeignKeyConstraint(["simulation_id"], ["simulation.id"], ondelete="CASCADE",
                                name="fk_simulation_line_simulation_id_simulation"),
        sa.ForeignKeyConstraint(["funding_line_id"], ["funding_line.id"], ondelete="CASCADE",
                                name="fk_simulation_line_funding_line_id_funding_line"),
        sa.ForeignKeyConstraint(["category_id"], ["priority_category.id"],
                                ondelete="SET NULL",
                                name="fk_simulation_line_category_id_priority_category"),
        sa.PrimaryKeyConstraint("id", name="pk_simulation_line"),
    )
    op.create_index("ix_simulation_line_simulation_line", "simulation_line",
                    ["simulation_id", "funding_line_id"], unique=True)
    op.create_index("ix_simulation_line_funding_line_id", "simulation_line",
                    ["funding_line_id"])
    # The envelopes' figures, read from the index alone (db.models).
    op.create_index("ix_funding_line_programming", "funding_line",
                    ["scheme_code", "budget_year", "operation_id", "status",
                     "amount_requested_cents", "amount_granted_cents", "paid_total_cents"])


def downgrade() -> None:
    op.drop_index("ix_funding_line_programming", "funding_line")
    op.drop_table("simulation_line")
    op.drop_table("simulation")
    op.drop_table("priority_category")
    op.drop_table("envelope")
