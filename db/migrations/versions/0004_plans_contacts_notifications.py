"""postes de dépense, contacts, notification des financements, commencement anticipé

Revision ID: 0004
Revises: 0003

- expense_item: the optional expense side of a financing plan (postes HT/TTC);
- organisation and signatory: the person to contact (name, role, phone, e-mail);
- funding_line.notification_date: caducité runs from the notification of the State
  subsidy itself (R2334-28), not from any financer's decision; existing State subsidy
  lines take the operation's notification date, which was recorded for them;
- funding_line.planned_completion_date: under décret 2018-514 the completion deadline
  is the date the decision sets, not a fixed four years;
- operation.early_start_date: the prefect's notification that works started before the
  request do not bar the dotation (CGCT R2334-24 II);
- funding_scheme.short_label: the name printed instead of the code;
- the own-share exception "derogation_prefet" now means the school energy renovation
  derogation of loi 2024-279 (minimum 10 %): loi 2019-1461 gave the prefect no general
  derogation, only the heritage one, which is "monument_historique". Operations that
  recorded it get a note asking the agent to check.

Only columns are added (no table is copied), so the FTS rowids stay as they are.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.reference import SCHEME_SHORT_LABELS

revision: str = "0004"
down_revision: str | None = "0003"
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
        "expense_item", *_tracked(),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("amount_ht_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_ttc_cents", sa.BigInteger(), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_ht_cents >= 0", name="ck_expense_item_ht_positive"),
        sa.CheckConstraint("amount_ttc_cents IS NULL OR amount_ttc_cents >= 0",
                           name="ck_expense_item_ttc_positive"),
        sa.ForeignKeyConstraint(["operation_id"], ["operation.id"], ondelete="CASCADE",
                                name="fk_expense_item_operation_id_operation"),
        sa.PrimaryKeyConstraint("id", name="pk_expense_item"),
    )
    op.create_index("ix_expense_item_operation_id", "expense_item", ["operation_id"])
    for name, size in (("contact_name", 200), ("contact_role", 200), ("phone", 40),
                       ("email", 200)):
        op.add_column("organisation", sa.Column(name, sa.String(size), nullable=True))
    for name, size in (("person_name", 200), ("phone", 40), ("email", 200)):
        op.add_column("signatory", sa.Column(name, sa.String(size), nullable=True))
    op.add_column("funding_line", sa.Column("notification_date", sa.Date(), nullable=True))
    op.add_column("funding_line", sa.Column("planned_completion_date", sa.Date(),
                                            nullable=True))
    op.add_column("operation", sa.Column("early_start_date", sa.Date(), nullable=True))
    op.add_column("funding_scheme", sa.Column("short_label", sa.String(60), nullable=True))
    scheme = sa.table("funding_scheme", sa.column("code"), sa.column("short_label"))
    for code, label in SCHEME_SHORT_LABELS.items():
        op.execute(scheme.update().where(scheme.c.code == code).values(short_label=label))
    op.execute(
        "UPDATE funding_line SET notification_date = (SELECT operation.notification_date "
        "FROM operation WHERE operation.id = funding_line.operation_id) "
        "WHERE scheme_code IN (SELECT code FROM funding_scheme "
        "WHERE state_investment_grant OR state_subsidy)")
    note = ("À vérifier : la dérogation « dérogation du préfet » enregistrée désigne désormais "
            "la rénovation énergétique de bâtiments scolaires (loi 2024-279, minimum 10 %) ; "
            "pour un projet patrimonial, choisissez la dérogation « patrimoine ».")
    operation = sa.table("operation", sa.column("notes"), sa.column("own_share_exception"))
    op.execute(operation.update().where(operation.c.own_share_exception == "derogation_prefet")
               .values(notes=sa.func.coalesce(operation.c.notes + "\n", "") + note))


def downgrade() -> None:
    op.drop_column("funding_scheme", "short_label")
    op.drop_column("operation", "early_start_date")
    op.drop_column("funding_line", "planned_completion_date")
    op.drop_column("funding_line", "notification_date")
    for name in ("person_name", "phone", "email"):
        op.drop_column("signatory", name)
    for name in ("contact_name", "contact_role", "phone", "email"):
        op.drop_column("organisation", name)
    op.drop_index("ix_expense_item_operation_id", "expense_item")
    op.drop_table("expense_item")
