"""référentiels : géographie COG 2026, catalogue des contrats et des dispositifs

Revision ID: 0002
Revises: 0001

Reference data is versioned like the schema: next year's geography will be a
new revision that updates these tables.
"""
from collections.abc import Sequence

from alembic import op

from db import reference

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    reference.load_cog(connection, "2026")
    reference.load_catalogue(connection)


def downgrade() -> None:
    for table in ("funding_scheme", "contract_type", "epci_member", "epci", "commune",
                  "arrondissement", "departement", "region"):
        op.execute(f"DELETE FROM {table}")
