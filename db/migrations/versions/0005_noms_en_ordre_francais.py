"""noms en ordre français, une organisation par nom

Revision ID: 0005
Revises: 0004

- organisation, commune, epci: ``sort_name``, the French order key of the name
  (db.naming.sort_name: "État" with the E, "œ" as "oe"), compared byte by byte on
  PostgreSQL too (collation "C"); the lists sort and page on it in the database;
- the search documents are recomputed: an organisation's now also holds the name
  without its municipal prefix ("Commune du Quesnoy" is found by "le quesnoy").

Only columns are added (no table is copied), so the FTS rowids stay as they are. A
later migration that loads new reference rows (a new COG) fills their ``sort_name``
the same way (:func:`fill_sort_names`).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db import search
from db.naming import SORT_NAME_LENGTH, sort_name

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table, key column, and whether its sort_name is indexed (the long lists).
TABLES = (("organisation", "id", True), ("commune", "code", True), ("epci", "code", False))


def fill_sort_names(connection: sa.Connection, only_missing: bool = False) -> None:
    for name, key, _ in TABLES:
        table = sa.table(name, sa.column(key), sa.column("name"), sa.column("sort_name"))
        query = sa.select(table.c[key], table.c.name)
        if only_missing:
            query = query.where(table.c.sort_name.is_(None))
        rows = [{"k": row_key, "s": sort_name(row_name)}
                for row_key, row_name in connection.execute(query)]
        if rows:
            connection.execute(table.update().where(table.c[key] == sa.bindparam("k"))
                               .values(sort_name=sa.bindparam("s")), rows)


def upgrade() -> None:
    connection = op.get_bind()
    collation = "C" if connection.dialect.name == "postgresql" else None
    for name, _, indexed in TABLES:
        op.add_column(name, sa.Column("sort_name", sa.String(SORT_NAME_LENGTH,
                                                             collation=collation),
                                      nullable=True))
        if indexed:
            op.create_index(f"ix_{name}_sort_name", name, ["sort_name"])
    fill_sort_names(connection)
    search.rebuild_documents(connection)


def downgrade() -> None:
    for name, _, indexed in TABLES:
        if indexed:
            op.drop_index(f"ix_{name}_sort_name", name)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("sort_name")
    if op.get_bind().dialect.name == "sqlite":  # the copied table has new rowids
        op.execute(search.sqlite_fts_rebuild("organisation"))
