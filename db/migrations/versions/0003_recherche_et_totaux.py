"""recherche plein texte et totaux des opérations

Revision ID: 0003
Revises: 0002

Adds the normalized search document of contracts, operations and organisations
with its index (FTS5 on SQLite, GIN full-text on PostgreSQL), and the cached
granted and paid totals of each operation, then fills them for existing rows.

Note for later SQLite migrations: a batch operation that copies the operation,
contract or organisation table changes its rowids; rebuild the FTS index after
it (db.search.sqlite_fts_rebuild).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db import search

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("organisation", "contract", "operation")


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("search_document", sa.Text(), nullable=False,
                                       server_default=""))
    with op.batch_alter_table("operation") as batch:
        batch.add_column(sa.Column("granted_total_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("paid_total_cents", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.create_index("ix_operation_granted_total_cents", ["granted_total_cents"])
        batch.create_index("ix_operation_paid_total_cents", ["paid_total_cents"])
    with op.batch_alter_table("funding_line") as batch:
        batch.add_column(sa.Column("paid_total_cents", sa.BigInteger(), nullable=False,
                                   server_default="0"))
    op.execute(
        "UPDATE funding_line SET paid_total_cents = COALESCE((SELECT SUM(amount_cents) "
        "FROM payment WHERE payment.funding_line_id = funding_line.id), 0)")
    op.execute(
        "UPDATE operation SET granted_total_cents = (SELECT SUM(amount_granted_cents) "
        "FROM funding_line WHERE funding_line.operation_id = operation.id "
        "AND funding_line.status = 'accorde'), paid_total_cents = COALESCE((SELECT "
        "SUM(payment.amount_cents) FROM payment JOIN funding_line ON funding_line.id = "
        "payment.funding_line_id WHERE funding_line.operation_id = operation.id), 0)")
    connection = op.get_bind()
    search.rebuild_documents(connection)
    for name in TABLES:
        if connection.dialect.name == "sqlite":
            for statement in search.sqlite_fts_ddl(name):
                op.execute(statement)
            op.execute(search.sqlite_fts_rebuild(name))
        else:
            op.execute(search.pg_index_ddl(name))


def downgrade() -> None:
    connection = op.get_bind()
    for name in TABLES:
        if connection.dialect.name == "sqlite":
            for statement in search.sqlite_fts_drop(name):
                op.execute(statement)
        else:
            op.execute(f"DROP INDEX IF EXISTS ix_{name}_search")
    with op.batch_alter_table("funding_line") as batch:
        batch.drop_column("paid_total_cents")
    with op.batch_alter_table("operation") as batch:
        batch.drop_index("ix_operation_paid_total_cents")
        batch.drop_index("ix_operation_granted_total_cents")
        batch.drop_column("paid_total_cents")
        batch.drop_column("granted_total_cents")
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("search_document")
