"""Search-as-you-type: one normalized document per record, indexed by the database.

Each contract, operation and organisation keeps a ``search_document``: its
reference, title and the names around it (owner, communes, financers…),
lower-cased, without accents or hyphens (:func:`db.text.normalize`). Every
word typed must begin a word of the document, whatever the case, accents or
hyphens: "avesnes" finds "Avesnes-sur-Helpe", "ecole" finds "École". An
organisation is found by its name with or without its municipal prefix
(db.naming): "maubeuge", "ville de maubeuge" and "mairie de maubeuge" all find
"Commune de Maubeuge", "le quesnoy" finds "Commune du Quesnoy".

SQLite answers through FTS5 tables kept in sync by triggers; PostgreSQL through
a GIN full-text index on the same column (configuration ``simple``: the text is
already normalized, so no extension is needed).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, column, func, literal_column, select, table, text, update
from sqlalchemy.sql.elements import ColumnElement

from db.naming import name_key, search_words, words_key
from db.text import normalize

FTS_TABLES = {"operation": "operation_fts", "contract": "contract_fts",
              "organisation": "organisation_fts"}
_WORD = re.compile(r"\w+", re.UNICODE)


def document(parts: Iterable[str | None]) -> str:
    return normalize(" ".join(part for part in parts if part))


def words(query: str) -> list[str]:
    """The words of what the user typed, normalized like the documents; a municipal
    prefix ("Ville de", "Mairie d'"…) is dropped: the documents name the commune
    "Commune de …", and the rest of what is typed already says which one."""
    return _WORD.findall(normalize(search_words(query)))


def matches(table: str, search_column, query: str, is_sqlite: bool) -> ColumnElement[bool] | None:
    """SQL condition "the record matches every word typed", or None for an empty search."""
    terms = words(query)
    if not terms:
        return None
    if is_sqlite:
        fts = FTS_TABLES[table]
        expression = " ".join(f'"{term}"*' for term in terms)
        return literal_column(f"{table}.rowid").in_(
            text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :fts_query")
            .bindparams(fts_query=expression))
    simple = literal_column("'simple'::regconfig")
    tsquery = " & ".join(f"{term}:*" for term in terms)
    # Same expression as the GIN index, so that PostgreSQL uses it.
    return func.to_tsvector(simple, search_column).op("@@")(func.to_tsquery(simple, tsquery))


# --- DDL used by the migration (kept here beside the query that relies on it) -------

def sqlite_fts_ddl(table: str) -> list[str]:
    fts = FTS_TABLES[table]
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_document, content='{table}', "
        "content_rowid='rowid', tokenize=\"unicode61 remove_diacritics 2\", prefix='2 3')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_document) VALUES (new.rowid, new.search_document); "
        "END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_document) "
        "VALUES ('delete', old.rowid, old.search_document); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_document ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_document) "
        "VALUES ('delete', old.rowid, old.search_document); "
        f"INSERT INTO {fts}(rowid, search_document) VALUES (new.rowid, new.search_document); "
        "END",
    ]


def sqlite_fts_drop(table: str) -> list[str]:
    fts = FTS_TABLES[table]
    return [f"DROP TRIGGER IF EXISTS {fts}_{suffix}" for suffix in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {fts}"]


def sqlite_fts_rebuild(table: str) -> str:
    """After a table copy (batch migration) rowids change: rebuild the index."""
    fts = FTS_TABLES[table]
    return f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"


@contextmanager
def bulk_indexing(connection, table: str) -> Iterator[None]:
    """Rows inserted inside this block are indexed at its end, in one statement.

    On SQLite, the insert trigger indexes one row at a time, about 25 times
    slower than indexing the same rows together; for an import, the trigger is
    set aside inside the caller's transaction (SQLite DDL is transactional: a
    rollback puts it back) and the new rows, whose rowids come after the
    largest one before (the writer holds the database), are indexed at the end.
    PostgreSQL's GIN index needs nothing.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    fts = FTS_TABLES[table]
    last = connection.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table}").scalar()
    connection.exec_driver_sql(f"DROP TRIGGER {fts}_ai")
    trigger = sqlite_fts_ddl(table)[1]
    try:
        yield
        connection.exec_driver_sql(
            f"INSERT INTO {fts}(rowid, search_document) "
            f"SELECT rowid, search_document FROM {table} WHERE rowid > ?", (last,))
    except BaseException:
        # Whatever the caller then does with its transaction, the trigger is back; but
        # SQLite may already have rolled the transaction back (disk full, I/O error),
        # which restored it: re-creating it must neither fail ("already exists") nor
        # replace the real error with its own.
        try:
            connection.exec_driver_sql(
                trigger.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
        except Exception:  # noqa: BLE001 — the original error is the one to report
            pass
        raise
    connection.exec_driver_sql(trigger)


def pg_index_ddl(table: str) -> str:
    return (f"CREATE INDEX ix_{table}_search ON {table} USING gin "
            "(to_tsvector('simple'::regconfig, search_document))")


# --- What each document holds ------------------------------------------------------

def operation_document(reference: str, title: str, owner: Iterable[str | None] = (),
                       communes: Iterable[tuple[str, str]] = (),
                       contracts: Iterable[str] = (), financers: Iterable[str | None] = (),
                       schemes: Iterable[str | None] = ()) -> str:
    return document([reference, title, *owner,
                     *(f"{name} {code}" for code, name in communes),
                     *contracts, *financers, *schemes])


def contract_document(reference: str, title: str, type_code: str | None,
                      type_label: str | None, territory: str | None,
                      signatories: Iterable[str] = ()) -> str:
    return document([reference, title, type_code, type_label, territory, *signatories])


def organisation_document(name: str, acronym: str | None, aliases: str | None) -> str:
    key = name_key(name)
    # "Commune du Quesnoy" is also "le quesnoy": its name as the agent says it.
    bare = key if key != words_key(name) else None
    return document([name, bare, acronym, aliases])


def rebuild_documents(connection) -> None:
    """Recompute every search document from the tables (migrations, repairs).

    Uses lightweight table definitions: it reads only columns that exist since
    revision 0003.
    """
    t = {name: table(name, *(column(c) for c in columns)) for name, columns in {
        "organisation": ("id", "name", "acronym", "aliases", "search_document"),
        "operation": ("id", "reference", "title", "owner_id", "search_document"),
        "operation_commune": ("operation_id", "commune_code"),
        "commune": ("code", "name"),
        "operation_contract": ("operation_id", "contract_id"),
        "contract": ("id", "reference", "title", "type_id", "territory", "search_document"),
        "contract_type": ("id", "code", "label"),
        "funding_line": ("operation_id", "financer_id", "scheme_code"),
        "signatory": ("contract_id", "organisation_id"),
    }.items()}

    def grouped(query) -> dict:
        result: dict = defaultdict(list)
        for key, *values in connection.execute(query):
            result[key].append(values[0] if len(values) == 1 else tuple(values))
        return result

    org = t["organisation"].c
    names, documents = {}, []
    for key, name, acronym, aliases in connection.execute(
            select(org.id, org.name, org.acronym, org.aliases)):
        names[key] = [n for n in (name, acronym) if n]
        documents.append({"key": key, "doc": organisation_document(name, acronym, aliases)})
    _set_documents(connection, t["organisation"], documents)

    oc, commune, link, contract = (t["operation_commune"].c, t["commune"].c,
                                   t["operation_contract"].c, t["contract"].c)
    line, op = t["funding_line"].c, t["operation"].c
    communes = grouped(select(oc.operation_id, commune.code, commune.name)
                       .join_from(t["operation_commune"], t["commune"],
                                  commune.code == oc.commune_code))
    contracts = grouped(select(link.operation_id, contract.reference)
                        .join_from(t["operation_contract"], t["contract"],
                                   contract.id == link.contract_id))
    lines = grouped(select(line.operation_id, line.financer_id, line.scheme_code))
    documents = []
    for key, reference, title, owner in connection.execute(
            select(op.id, op.reference, op.title, op.owner_id)):
        financing = lines.get(key, [])
        documents.append({"key": key, "doc": operation_document(
            reference, title, names.get(owner, []), communes.get(key, []),
            contracts.get(key, []),
            [n for financer, _ in financing for n in names.get(financer, [])],
            [scheme for _, scheme in financing])})
    _set_documents(connection, t["operation"], documents)

    kind = t["contract_type"].c
    types = {key: (code, label) for key, code, label in
             connection.execute(select(kind.id, kind.code, kind.label))}
    signers = grouped(select(t["signatory"].c.contract_id, t["signatory"].c.organisation_id))
    documents = []
    for key, reference, title, type_id, territory in connection.execute(
            select(contract.id, contract.reference, contract.title, contract.type_id,
                   contract.territory)):
        code, label = types.get(type_id, (None, None))
        documents.append({"key": key, "doc": contract_document(
            reference, title, code, label, territory,
            [n for org_id in signers.get(key, []) for n in names.get(org_id, [])])})
    _set_documents(connection, t["contract"], documents)


def _set_documents(connection, target, documents: list[dict]) -> None:
    if documents:
        connection.execute(
            update(target).where(target.c.id == bindparam("key"))
            .values(search_document=bindparam("doc")), documents)
