"""Taking a field copy: a self-contained SQLite base for a laptop, with the base state.

The copy starts from a blank base of the application (built once per schema revision
and kept in the user's cache: the migrations and the COG load take most of a second),
receives the records of the chosen scope (with every organisation, contract type and
setting of the office), the values of each record as taken (the base of the
three-way merge) and a ``field_copy`` row saying what it is. It is written under a
temporary name and renamed at the very end of the office's transaction that records
it, so that a file with the final name is always a complete copy.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    MetaData,
    Table,
    Uuid,
    create_engine,
    delete,
    event,
    or_,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement

from db.audit import current_login
from db.database import MIGRATIONS_DIR, Database, head_revision, open_database
from db.errors import InvalidInput, UserError
from db.field.base_state import base_fingerprint, counts_and_ids, write_base_state
from db.field.schema import ENTITIES
from db.models import (
    Arrondissement,
    Commune,
    Contract,
    ContractType,
    FieldCopy,
    FieldCopyRecord,
    FundingLine,
    FundingScheme,
    Operation,
    OperationLink,
    Setting,
    contract_commune,
    operation_commune,
)
from db.search import FTS_TABLES, bulk_indexing
from db.text import elide

BASE_ID_KEY = "base.identifiant"
PARTIAL = ".partiel"


@dataclass(frozen=True)
class Scope:
    """What goes on the terrain: an arrondissement, chosen contracts, or communes."""

    kind: str  # arrondissement, contrats, communes
    codes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "codes": list(self.codes)}


@dataclass(frozen=True)
class CheckoutResult:
    copy_id: uuid.UUID
    path: Path
    counts: dict[str, int]
    scope_label: str
    attachments: Any = None  # db.field.pieces.AttachmentFigures carried (None: left)


def base_id(session) -> str:
    setting = session.get(Setting, BASE_ID_KEY)
    if setting is None:  # bases made before revision 0007 get theirs from the migration
        raise UserError("Cette base n'a pas d'identifiant : ouvrez-la une fois avec "
                        "l'application pour la mettre à jour.")
    return setting.value


def this_copy(session) -> FieldCopy | None:
    """The copy this base is, if it is a field copy."""
    return session.scalar(select(FieldCopy).where(FieldCopy.role == "copie"))


def _scope_sets(session, scope: Scope) -> tuple[ColumnElement[bool], ColumnElement[bool], str]:
    """Conditions on operations and contracts, and the scope in words; unknown codes
    are refused by name."""
    from db.lists import _operation_ids_in_arrondissement, contract_in_arrondissement

    codes = [code.strip() for code in scope.codes if code.strip()]
    if not codes:
        raise InvalidInput("Périmètre de la copie : choisissez un arrondissement, des "
                           "contrats ou des communes.")
    if scope.kind == "arrondissement":
        if len(codes) != 1:
            raise InvalidInput("Périmètre de la copie : un seul arrondissement.")
        arrondissement = session.get(Arrondissement, codes[0])
        if arrondissement is None:
            raise InvalidInput(f"Arrondissement inconnu : « {codes[0]} » (code du COG, "
                               "par exemple 591).")
        operations = Operation.id.in_(_operation_ids_in_arrondissement(codes[0]))
        contracts = contract_in_arrondissement(codes[0])
        label = f"arrondissement {elide('de', arrondissement.name)}"
    elif scope.kind == "contrats":
        found = dict(session.execute(select(Contract.reference, Contract.id)
                                     .where(Contract.reference.in_(codes))).all())
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise InvalidInput(f"Contrat(s) inconnu(s) : {', '.join(unknown)}.")
        contracts = Contract.id.in_(list(found.values()))
        operations = Operation.id.in_(select(OperationLink.operation_id).where(
            OperationLink.contract_id.in_(list(found.values()))))
        label = ("contrat " if len(codes) == 1 else "contrats ") + ", ".join(codes)
    elif scope.kind == "communes":
        names = dict(session.execute(select(Commune.code, Commune.name)
                                     .where(Commune.code.in_(codes))).all())
        unknown = [code for code in codes if code not in names]
        if unknown:
            raise InvalidInput(f"Commune(s) inconnue(s) du COG : {', '.join(unknown)}.")
        operations = Operation.id.in_(select(operation_commune.c.operation_id).where(
            operation_commune.c.commune_code.in_(codes)))
        contracts = Contract.id.in_(select(contract_commune.c.contract_id).where(
            contract_commune.c.commune_code.in_(codes)))
        label = (f"commune {elide('de', names[codes[0]])}" if len(codes) == 1 else
                 "communes " + ", ".join(names[code] for code in codes))
    else:
        raise InvalidInput(f"Périmètre inconnu : {scope.kind}.")
    return operations, contracts, label


def _with_their_contracts(contracts: ColumnElement[bool], operation_ids: Any
                          ) -> ColumnElement[bool]:
    """The contracts of the operations come too: a link needs its contract."""
    return or_(contracts, Contract.id.in_(select(OperationLink.contract_id).where(
        OperationLink.operation_id.in_(operation_ids))))


def scope_conditions(operations: ColumnElement[bool], contracts: ColumnElement[bool]
                     ) -> dict[str, ColumnElement[bool] | None]:
    """Which records of each entity belong to a copy of these operations and contracts."""
    operation_ids = select(Operation.id).where(operations)
    contract_ids = select(Contract.id).where(contracts)
    wanted: dict[str, ColumnElement[bool] | None] = {
        "organisation": None, "contract_type": None, "contract": contracts,
        "operation": operations}
    for entity in ENTITIES:
        if entity.parent is None or entity.name == "payment":
            continue
        parent, column = entity.parent
        ids = contract_ids if parent == "contract" else operation_ids
        wanted[entity.name] = entity.table.c[column].in_(ids)
    wanted["payment"] = ENTITIES[-1].table.c.funding_line_id.in_(
        select(FundingLine.id).where(FundingLine.operation_id.in_(operation_ids)))
    return wanted


def blank_base() -> Path:
    """A base of the application with its schema and reference data and nothing else,
    made once per schema revision in the user's cache folder."""
    from platformdirs import user_cache_path

    from db.locations import APP_AUTHOR, APP_NAME

    # Keyed by the migrations' content, not only the revision: a template made by a
    # development build of the same revision is never taken for the released one.
    hasher = hashlib.sha256()
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        hasher.update(script.read_bytes())
    folder = user_cache_path(APP_NAME, APP_AUTHOR, ensure_exists=True)
    name = f"base-vierge-{head_revision()}-{hasher.hexdigest()[:12]}"
    path = folder / f"{name}.sqlite"
    if not path.exists():
        building = folder / f"{name}-{os.getpid()}.sqlite"
        building.unlink(missing_ok=True)
        open_database(building).close()
        os.replace(building, path)  # a killed build leaves no half-made template
    return path


def _copy_file(source: Path, destination: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(destination)
        try:
            reader.backup(writer)
        finally:
            writer.close()
    finally:
        reader.close()


def _insert(connection, table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(table.insert(), rows)


def _raw_rows(session, entity, condition) -> list[dict[str, Any]]:
    query = select(entity.table)
    if condition is not None:
        query = query.where(condition)
    return [dict(row) for row in session.execute(query).mappings()]


def checkout(office: Database, scope: Scope, destination: Path, *, login: str | None = None,
             overwrite: bool = False, progress: Callable[[str], None] | None = None,
             attachments: bool = True) -> CheckoutResult:
    """Write the field copy of *scope* to *destination* and record it in the office;
    *attachments* False leaves the attachments at the office (they are refused beyond
    the limit of setting ``terrain.limite_pieces_mo``)."""
    from db.field import pieces

    say = progress or (lambda _step: None)
    login = login or current_login()
    destination = Path(destination).expanduser().resolve()
    if destination.exists() and not overwrite:
        raise InvalidInput(f"Le fichier {destination} existe déjà : choisissez un autre nom.")
    if not destination.parent.is_dir():
        raise InvalidInput(f"Le dossier {destination.parent} n'existe pas.")
    partial = destination.with_name(destination.name + PARTIAL)
    copy_id = uuid.uuid4()
    taken_at = datetime.now(UTC)
    say("Lecture des fiches du périmètre…")
    with office.read() as session:
        if this_copy(session) is not None:
            raise UserError("Cette base est elle-même une copie de terrain : rapportez-la "
                            "d'abord au bureau (on n'emporte pas la copie d'une copie).")
        office_id = base_id(session)
        operations, own_contracts, label = _scope_sets(session, scope)
        contracts = _with_their_contracts(own_contracts, select(Operation.id).where(operations))
        # Any operation brings its contracts: look for one before the contracts at all.
        if session.scalar(select(Operation.id).where(operations).limit(1)) is None \
                and session.scalar(select(Contract.id).where(own_contracts).limit(1)) is None:
            raise InvalidInput(f"Le périmètre choisi ({label}) ne contient aucun contrat ni "
                               "aucune opération : il n'y a rien à emporter.")
        rows = None if office.is_sqlite else _office_rows(session, operations, contracts)
        if attachments:
            # Known before anything is written: the agent decides with the figure.
            expected = pieces.figures(session, pieces._scope_ids(session, operations,
                                                                  own_contracts))
            limit = pieces.limit_bytes(office)
            if expected.size > limit:
                from db.attachments.service import size_label

                raise InvalidInput(
                    f"Les pièces jointes du périmètre ({expected.label}) dépassent la "
                    f"limite de {size_label(limit)} d'une copie de terrain : laissez-les "
                    "au bureau (copie sans les pièces jointes) ou réduisez le périmètre.")
    say("Écriture de la copie…")
    partial.unlink(missing_ok=True)
    described = {"office_id": office_id, "office_label": office.display(),
                 "scope": {**scope.as_dict(), "label": label}, "taken_at": taken_at,
                 "taken_by": login, "schema_revision": head_revision()}
    try:
        _copy_file(blank_base(), partial)
        if rows is None:  # SQLite reads the office's file itself, in one statement a table
            _fill_from_file(partial, office.target.path, operations, own_contracts)
        else:
            _fill_from_rows(partial, rows)
        say("Modèles, actes et pièces jointes…")
        carried = pieces.carry(office, partial, attachments=attachments)
        copy = open_database(partial, create=False)
        try:
            with copy.write(origin="terrain") as session:
                dbapi = session.connection().connection.dbapi_connection
                fingerprint = base_fingerprint(dbapi)
                counts, ids = counts_and_ids(dbapi)
                session.add(FieldCopy(id=copy_id, role="copie", file_name=destination.name,
                                      base_digest=fingerprint, counts=counts, **described))
        finally:
            copy.close()
        say("Enregistrement de la sortie au bureau…")
        with office.write(origin="terrain") as session:
            session.add(FieldCopy(id=copy_id, role="sortie", file_name=str(destination),
                                  base_digest=fingerprint, counts=counts, **described))
            session.flush()
            marks = [{"copy_id": copy_id, "entity": name, "record_id": record_id}
                     for name in ("contract", "operation") for record_id in ids[name]]
            _insert(session.connection(), FieldCopyRecord.__table__, marks)
            session.flush()
            # Renamed just before the office's commit: a kill in between leaves a copy
            # the office does not know, which check-in refuses by name; never an office
            # record of a copy that does not exist.
            os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        if destination.exists() and not _recorded(office, copy_id):
            destination.unlink()  # renamed, then the office's commit failed
        raise
    return CheckoutResult(copy_id, destination, counts, label,
                          carried if attachments else None)


def _recorded(office: Database, copy_id: uuid.UUID) -> bool:
    try:
        with office.read() as session:
            return session.get(FieldCopy, copy_id) is not None
    except Exception:  # the office is unreachable: keep what may be a good copy
        return True


@dataclass
class _OfficeRows:
    """What a copy takes from a server base, read in one snapshot."""

    records: dict[str, list[dict[str, Any]]]
    links: dict[str, list[dict[str, Any]]]
    schemes: list[dict[str, Any]]
    settings: list[dict[str, Any]]


def _office_rows(session, operations: ColumnElement[bool], contracts: ColumnElement[bool]
                 ) -> _OfficeRows:
    wanted = scope_conditions(operations, contracts)
    return _OfficeRows(
        {entity.name: _raw_rows(session, entity, wanted[entity.name]) for entity in ENTITIES},
        {s.table.name: _raw_rows_of(session, s, wanted[entity.name], entity)
         for entity in ENTITIES for s in entity.sets},
        [dict(r) for r in session.execute(select(FundingScheme.__table__)).mappings()],
        [dict(r) for r in session.execute(select(Setting.__table__)).mappings()
         if r["key"] != BASE_ID_KEY])


def _raw_rows_of(session, set_field, condition, entity) -> list[dict[str, Any]]:
    owner = set_field.table.c[set_field.owner_column]
    query = select(set_field.table)
    if condition is not None:
        query = query.where(owner.in_(select(entity.key_columns[0]).where(condition)))
    return [dict(row) for row in session.execute(query).mappings()]


# The office's catalogue replaces the blank base's own.
CATALOGUE = (Setting.__table__, FundingScheme.__table__, ContractType.__table__)


def _filling_engine(partial: Path, office: Path | None = None):
    """An engine on the new copy for its one filling transaction: no journal and no
    waiting for the disk (a copy killed half-filled is a ``.partiel`` file that is
    thrown away; the file is synced once filled), the office attached read-only."""
    engine = create_engine(URL.create("sqlite+pysqlite", database=str(partial)),
                           poolclass=NullPool, connect_args={"uri": True})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "foreign_keys = ON"):
            dbapi_connection.execute(f"PRAGMA {pragma}")
        if office is not None:
            dbapi_connection.execute("ATTACH DATABASE ? AS bureau",
                                     (f"{office.as_uri().replace('file://', 'file:')}"
                                      "?mode=ro",))

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _filled(engine, fill: Callable[[Any], None], partial: Path) -> None:
    try:
        with engine.connect() as connection:
            for table in CATALOGUE:
                connection.execute(delete(table))
            with ExitStack() as indexing:
                for table in FTS_TABLES:
                    indexing.enter_context(bulk_indexing(connection, table))
                fill(connection)
            connection.execute(Setting.__table__.insert(),
                               [{"key": BASE_ID_KEY, "value": str(uuid.uuid4())}])
            write_base_state(connection)
            connection.commit()
    finally:
        engine.dispose()
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fill_from_rows(partial: Path, rows: _OfficeRows) -> None:
    def fill(connection) -> None:
        _insert(connection, FundingScheme.__table__, rows.schemes)
        _insert(connection, Setting.__table__, rows.settings)
        for entity in ENTITIES:
            _insert(connection, entity.table, rows.records[entity.name])
            for set_field in entity.sets:
                _insert(connection, set_field.table, rows.links[set_field.table.name])

    _filled(_filling_engine(partial), fill, partial)


_SCOPE = MetaData()
SCOPE_OPERATIONS = Table("scope_operation", _SCOPE, Column("id", Uuid, primary_key=True),
                         schema="temp", prefixes=["TEMPORARY"])
SCOPE_CONTRACTS = Table("scope_contract", _SCOPE, Column("id", Uuid, primary_key=True),
                        schema="temp", prefixes=["TEMPORARY"])


def _fill_from_file(partial: Path, office: Path, operations: ColumnElement[bool],
                    contracts: ColumnElement[bool]) -> None:
    """Copy the scope from the office's SQLite file, attached read-only, one
    INSERT … SELECT per table: one consistent read of the office, and the values go
    from file to file as stored, without Python touching each one. *contracts* are the
    scope's own; those of its operations are added here."""

    def fill(connection) -> None:
        # For this statement only: a Connection's execution_options() would keep it.
        office_side = {"schema_translate_map": {None: "bureau"}}
        # The contracts' condition reads the operations already chosen, not their query.
        contracts_and_theirs = _with_their_contracts(contracts, select(SCOPE_OPERATIONS.c.id))
        for table, ids, condition in ((SCOPE_OPERATIONS, Operation.id, operations),
                                      (SCOPE_CONTRACTS, Contract.id, contracts_and_theirs)):
            connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {table.name} "
                                       "(id CHAR(32) PRIMARY KEY)")
            connection.execute(table.insert().from_select(
                ["id"], select(ids).where(condition)), execution_options=office_side)
        _copy_table(connection, FundingScheme.__table__, None)
        _copy_table(connection, Setting.__table__, f"key <> '{BASE_ID_KEY}'")
        in_operations = "IN (SELECT id FROM temp.scope_operation)"
        in_contracts = "IN (SELECT id FROM temp.scope_contract)"
        for entity in ENTITIES:
            if entity.name == "payment":
                where = "funding_line_id IN (SELECT id FROM main.funding_line)"
            elif entity.name in ("contract", "operation"):
                where = f"id {in_contracts if entity.name == 'contract' else in_operations}"
            elif entity.parent is None:
                where = None
            else:
                parent, column = entity.parent
                where = f"{column} {in_contracts if parent == 'contract' else in_operations}"
            _copy_table(connection, entity.table, where)
            for set_field in entity.sets:
                _copy_table(connection, set_field.table,
                            f"{set_field.owner_column} "
                            f"{in_contracts if entity.name == 'contract' else in_operations}")

    _filled(_filling_engine(partial, office), fill, partial)


def _copy_table(connection, table: Table, where: str | None) -> None:
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    connection.exec_driver_sql(
        f'INSERT INTO main."{table.name}" ({columns}) SELECT {columns} '
        f'FROM bureau."{table.name}"' + (f" WHERE {where}" if where else ""))


__all__ = ["Scope", "checkout", "this_copy"]
