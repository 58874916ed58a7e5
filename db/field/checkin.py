"""Bringing a field copy back: checks, three-way merge, one transaction.

The copy file itself is never modified: it is read through a snapshot (upgraded there
when it comes from an older version of the application). Everything the merge settles
is written to the office in one transaction, audited with the origin "terrain" and the
copy's id as batch; what it cannot settle goes to the conflict queue in the same
transaction. A copy is merged once: the office's record of it says when.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from db.audit import current_login
from db.database import Database, _check_sqlite_file, known_revisions, open_database
from db.errors import UserError
from db.field import pieces
from db.field.base_state import base_texts, parse, record_texts
from db.field.checkout import base_id, this_copy
from db.field.merge import Conflict, Key, MergePlan, merge
from db.field.schema import BY_NAME, ENTITIES, Entity, Records, python, read_records
from db.models import (
    Commune,
    Contract,
    Epci,
    FieldConflict,
    FieldCopy,
    FieldCopyRecord,
    FundingLine,
    Operation,
    Organisation,
)


class CopyRefused(UserError):
    """The file is not a field copy this office can take back; nothing was changed."""


@dataclass
class CheckinReport:
    copy_id: str
    scope: str
    taken_by: str
    taken_at: str
    dry_run: bool
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    backup: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"copy_id": self.copy_id, "scope": self.scope, "taken_by": self.taken_by,
                "taken_at": self.taken_at, "dry_run": self.dry_run,
                "created": self.created, "updated": self.updated, "deleted": self.deleted,
                "conflicts": self.conflicts, "duplicates": self.duplicates,
                "findings": self.findings, "backup": self.backup}


# --- The copy file -----------------------------------------------------------------

def _probe(path: Path) -> tuple[str | None, dict[str, Any] | None]:
    """The revision and the field_copy row of a file, read without changing it."""
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if probe.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise CopyRefused(f"Le fichier {path} est endommagé : ce n'est plus une "
                                  "copie utilisable. Rien n'a été modifié au bureau.")
            tables = {row[0] for row in probe.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables or "field_copy" not in tables:
                return None, None
            revision = probe.execute("SELECT version_num FROM alembic_version").fetchone()
            probe.row_factory = sqlite3.Row
            row = probe.execute("SELECT * FROM field_copy WHERE role = 'copie'").fetchone()
            return (revision[0] if revision else None), (dict(row) if row else None)
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise CopyRefused(f"Le fichier {path} est illisible ({exc}) : ce n'est pas une "
                          "copie de terrain utilisable. Rien n'a été modifié.") from exc


def _snapshot(path: Path, folder: Path) -> Path:
    """A private copy of the copy file, to read (and upgrade) without touching it."""
    target = folder / "copie.sqlite"
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return target


def open_copy(path: Path, folder: Path) -> tuple[Database, dict[str, Any]]:
    path = Path(path).expanduser().resolve()
    _check_sqlite_file(path, must_write=False)
    revision, record = _probe(path)
    if record is None:
        raise CopyRefused(f"Le fichier {path} n'est pas une copie de terrain de "
                          "l'application (c'est une base ordinaire ou un autre fichier).")
    if revision not in known_revisions():
        raise CopyRefused(f"La copie {path} a été faite par une version plus récente de "
                          f"l'application (révision {revision}) : mettez l'application à "
                          "jour avant de la rapporter.")
    snapshot = _snapshot(path, folder)
    # Upgraded here if older; a private scratch copy needs no backup of its own.
    return open_database(snapshot, create=False, backup=False), record


# --- The office as the merge sees it ------------------------------------------------

class _Office:
    """The OfficeIndex of db.field.merge, answered by queries in the merge's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._exists: dict[Key, bool] = {}

    def exists(self, entity: str, record_id: str) -> bool:
        key = (entity, record_id)
        if key not in self._exists:
            model = BY_NAME[entity].model
            self._exists[key] = self.session.get(model, uuid.UUID(record_id)) is not None
        return self._exists[key]

    def referrers(self, entity: str, record_id: str) -> set[Key]:
        found: set[Key] = set()
        target = uuid.UUID(record_id)
        for other in ENTITIES:
            for column in other.columns:
                if any(fk.column.table.name == entity for fk in column.foreign_keys):
                    rows = self.session.execute(select(*other.key_columns)
                                                .where(column == target)).mappings()
                    found.update((other.name, other.record_id(row)) for row in rows)
        return found

    def holder(self, entity: str, reference: Any) -> str | None:
        column_name = {"operation": "reference", "contract": "reference",
                       "contract_type": "code"}[entity]
        table = BY_NAME[entity].table
        found = self.session.scalar(select(table.c.id).where(table.c[column_name] == reference))
        return str(found) if found is not None else None

    def lookalike(self, values: dict[str, Any]) -> str | None:
        if not values.get("title"):
            return None
        from db.models import operation_commune

        candidates = self.session.execute(
            select(Operation.id).where(func.lower(Operation.title) == values["title"].lower(),
                                       Operation.owner_id == _uuid(values.get("owner_id")))
        ).scalars().all()
        wanted = sorted(values.get("communes") or [])
        for candidate in candidates:
            communes = sorted(self.session.scalars(
                select(operation_commune.c.commune_code)
                .where(operation_commune.c.operation_id == candidate)))
            if communes == wanted:
                return str(candidate)
        return None

    def named(self, name: str) -> str | None:
        from db.naming import name_key
        from db.services.organisations import organisation_index

        if not hasattr(self, "_names"):
            self._names = organisation_index(self.session)
        found = self._names.get(name_key(name))
        return str(found[0]) if found else None


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value is not None else None


def _bureau(session: Session, base: Records, texts: dict[str, dict[str, str]]) -> Records:
    """The office's records of the copy's scope now: those of the base, and whatever was
    added under them since."""
    if session.bind.dialect.name == "sqlite":
        return _bureau_texts(session, base, texts)
    contracts = [uuid.UUID(i) for i in base.get("contract", {})]
    operations = [uuid.UUID(i) for i in base.get("operation", {})]
    wanted: dict[str, Any] = {"organisation": None, "contract_type": None,
                              "contract": Contract.id.in_(contracts),
                              "operation": Operation.id.in_(operations)}
    for entity in ENTITIES:
        if entity.parent is None:
            continue
        parent, column = entity.parent
        if parent == "contract":
            wanted[entity.name] = entity.table.c[column].in_(contracts)
        elif parent == "operation":
            wanted[entity.name] = entity.table.c[column].in_(operations)
        else:  # payments: of the lines of those operations, or of the base's lines
            lines = [uuid.UUID(i) for i in base.get("funding_line", {})]
            wanted[entity.name] = or_(
                entity.table.c[column].in_(lines),
                entity.table.c[column].in_(select(FundingLine.id).where(
                    FundingLine.operation_id.in_(operations))))
    return read_records(session.connection(), wanted)


_SCOPE_TABLES = {"contract": "merge_contract", "operation": "merge_operation",
                 "funding_line": "merge_line"}


def _bureau_texts(session: Session, base: Records, texts: dict[str, dict[str, str]]
                  ) -> Records:
    """The same on an SQLite office, as the text SQLite writes for the base state: a
    record unchanged at the office has the base's very text, and is not parsed again."""
    connection = session.connection()
    for entity, table in _SCOPE_TABLES.items():
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} (id CHAR(32) PRIMARY KEY)")
        ids = [(uuid.UUID(record_id).hex,) for record_id in base.get(entity, {})]
        if ids:
            connection.exec_driver_sql(f"INSERT INTO temp.{table} VALUES (?)", ids)
    try:
        where = {"contract": "r.id IN (SELECT id FROM temp.merge_contract)",
                 "operation": "r.id IN (SELECT id FROM temp.merge_operation)",
                 "payment": "r.funding_line_id IN (SELECT id FROM temp.merge_line) OR "
                            "r.funding_line_id IN (SELECT id FROM funding_line WHERE "
                            "operation_id IN (SELECT id FROM temp.merge_operation))"}
        for entity in ENTITIES:
            if entity.parent is not None and entity.name != "payment":
                parent, column = entity.parent
                where[entity.name] = f"r.{column} IN (SELECT id FROM temp.{_SCOPE_TABLES[parent]})"
        return parse(record_texts(connection.exec_driver_sql, where), texts, base)
    finally:
        for table in _SCOPE_TABLES.values():
            connection.exec_driver_sql(f"DROP TABLE temp.{table}")


def _terrain(copy: Database, texts: dict[str, dict[str, str]], base: Records) -> Records:
    with copy.read() as session:
        return parse(record_texts(session.connection().exec_driver_sql), texts, base)


# --- Applying the plan ----------------------------------------------------------------

def _key_of(entity: Entity, record_id: str) -> Any:
    parts = record_id.split("/")
    values = [python(column, part) for column, part in zip(entity.key_columns, parts,
                                                             strict=True)]
    return values[0] if len(values) == 1 else tuple(values)


def _assign(session: Session, entity: Entity, record: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        set_field = next((s for s in entity.sets if s.name == name), None)
        if set_field is not None:
            model = Epci if set_field.code_column == "epci_code" else Commune
            setattr(record, name, [session.get(model, code) for code in value])
            continue
        column = entity.table.c.get(name)
        if column is None or column.primary_key:
            continue
        new = python(column, value)
        attribute = entity.attribute(name)
        if getattr(record, attribute) != new:
            setattr(record, attribute, new)


def insert_record(session: Session, entity: Entity, record_id: str,
                  values: dict[str, Any]) -> Any:
    key = dict(zip([c.name for c in entity.key_columns], record_id.split("/"), strict=True))
    record = entity.model(**{entity.attribute(name): python(entity.table.c[name], value)
                             for name, value in key.items()})
    _assign(session, entity, record, values)
    session.add(record)
    return record


def delete_record(session: Session, entity: Entity, record_id: str) -> None:
    record = session.get(entity.model, _key_of(entity, record_id))
    if record is not None:
        session.delete(record)


def _loaded(session: Session, entity: Entity, record_ids: list[str]) -> list[Any]:
    """Bring the records into the session in a few queries (by chunks of ids), so that
    the merge's ``session.get`` of each is answered from memory (the session holds its
    records weakly: the caller keeps the list while it works)."""
    if len(entity.key_columns) != 1:
        return []
    key = entity.key_columns[0]
    ids = [_key_of(entity, record_id) for record_id in record_ids]
    loaded: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        loaded += session.scalars(select(entity.model)
                                  .where(key.in_(ids[start:start + CHUNK]))).all()
    return loaded


def apply_plan(session: Session, plan: MergePlan) -> set[Key]:
    """Write what the merge settled; returns the records whose caches must be redone."""
    touched: set[Key] = set()
    for entity, record_id in reversed(plan.deletes):
        delete_record(session, entity, record_id)
        touched.add((entity.name, record_id))
    session.flush()
    for entity, record_id, values in plan.inserts:
        insert_record(session, entity, record_id, values)
        touched.add((entity.name, record_id))
        session.flush()  # the next child may need its parent's row
    kept = [_loaded(session, entity, [record_id for e, record_id, _ in plan.updates
                                      if e is entity]) for entity in ENTITIES]
    for entity, record_id, changes in plan.updates:
        record = session.get(entity.model, _key_of(entity, record_id))
        if record is not None:
            _assign(session, entity, record, changes)
            touched.add((entity.name, record_id))
    session.flush()
    del kept
    return touched


CHUNK = 500  # ids per IN (…): well under the limits of both drivers


def _operations_of(session: Session, touched: set[Key], values: Records
                   ) -> tuple[set[uuid.UUID], set[uuid.UUID], set[uuid.UUID]]:
    """The aggregates (operations, contracts, organisations) the touched records belong to."""
    operations: set[uuid.UUID] = set()
    contracts: set[uuid.UUID] = set()
    organisations: set[uuid.UUID] = set()
    for name, record_id in touched:
        entity = BY_NAME[name]
        row = _row_values(values, name, record_id)
        if name == "operation":
            operations.add(uuid.UUID(record_id))
        elif name == "contract":
            contracts.add(uuid.UUID(record_id))
        elif name == "organisation":
            organisations.add(uuid.UUID(record_id))
        elif entity.parent and entity.parent[0] == "operation" and row:
            operations.add(uuid.UUID(str(row[entity.parent[1]])))
        elif entity.parent and entity.parent[0] == "contract" and row:
            contracts.add(uuid.UUID(str(row[entity.parent[1]])))
        elif name == "payment" and row:
            line_id = str(row["funding_line_id"])
            line = _row_values(values, "funding_line", line_id)
            if line is not None:
                operations.add(uuid.UUID(str(line["operation_id"])))
                continue
            found = session.get(FundingLine, uuid.UUID(line_id))
            if found is not None:
                operations.add(found.operation_id)
    return operations, contracts, organisations


def refresh_touched(session: Session, touched: set[Key], values: Records) -> list[str]:
    """Caches, search documents and the rules of the plans touched; the findings of the
    rules are returned for the agent (the merge does not refuse them: each side was
    valid, the agent reviews what their sum gives).

    A copy brings back hundreds of operations: each is loaded with its lines, payments,
    communes and links by chunks, and the rules get one context per chunk, as the
    documents of a contract do (one at a time cost 12 s for 1 000 operations)."""
    from db.rules import evaluate_operation
    from db.services.caches import (
        refresh_around_contract,
        refresh_around_organisation,
        refresh_contract,
        refresh_operation,
        refresh_organisation,
    )
    from db.services.common import touch
    from db.services.operations import load_operation_data, plan_context_for, plan_input

    operations, contracts, organisations = _operations_of(session, touched, values)
    for organisation_id in organisations:
        organisation = session.get(Organisation, organisation_id)
        if organisation is not None:
            refresh_organisation(session, organisation)
            refresh_around_organisation(session, organisation_id)
    for contract_id in contracts:
        contract = session.get(Contract, contract_id)
        if contract is not None:
            touch(contract)  # its version moves with its children, as in an editor
            refresh_contract(session, contract)
            refresh_around_contract(session, contract_id)
    session.flush()
    findings: list[str] = []
    if not operations:
        return findings
    # Organisations and contracts named by the documents, answered from memory (kept
    # referenced: the session holds its records weakly).
    named = [*session.scalars(select(Organisation)), *session.scalars(select(Contract))]
    today = datetime.now().date()
    ordered = sorted(operations)
    for start in range(0, len(ordered), CHUNK):
        chunk = session.scalars(
            select(Operation).where(Operation.id.in_(ordered[start:start + CHUNK]))
            .options(selectinload(Operation.funding_lines).selectinload(FundingLine.payments),
                     selectinload(Operation.communes), selectinload(Operation.links),
                     selectinload(Operation.expense_items))
            .order_by(Operation.id)
            .execution_options(populate_existing=True)).all()
        datas = []
        with session.no_autoflush:
            for operation in chunk:
                touch(operation)
                refresh_operation(session, operation)
                datas.append(load_operation_data(session, operation))
        context = plan_context_for(session, datas)
        for operation, data in zip(chunk, datas, strict=True):
            for finding in evaluate_operation(plan_input(data, context), today):
                if finding.is_error:
                    findings.append(f"{operation.reference} : {finding.message}")
        session.flush()
    del named
    return findings


def _row_values(values: Records, entity: str, record_id: str) -> dict[str, Any] | None:
    return values.get(entity, {}).get(record_id)


def _conflict_row(conflict: Conflict) -> dict[str, Any]:
    return {"entity": conflict.entity, "record_id": conflict.record_id,
            "reference": conflict.reference, "field": conflict.field,
            "base": conflict.base, "terrain": conflict.terrain, "bureau": conflict.bureau}


def checkin(office: Database, path: Path, *, dry_run: bool = False, login: str | None = None,
            progress: Callable[[str], None] | None = None) -> CheckinReport:
    say = progress or (lambda _step: None)
    login = login or current_login()
    with tempfile.TemporaryDirectory(prefix="suivi-terrain-") as folder:
        say("Lecture de la copie…")
        copy, record = open_copy(Path(path), Path(folder))
        try:
            texts, fingerprint = base_texts(copy.target.path)
            base = parse(texts)
            terrain = _terrain(copy, texts, base)
            brought = pieces.read_copy(copy)
        finally:
            copy.close()
        copy_id = uuid.UUID(str(record["id"]))
        report = CheckinReport(
            copy_id=str(copy_id), scope=(record.get("scope") and _scope_label(record)) or "",
            taken_by=record["taken_by"], taken_at=str(record["taken_at"]), dry_run=dry_run)
        _check_known(office, record, copy_id, fingerprint)
        if not dry_run:
            report.backup = _backup(office)
        say("Fusion…")
        applied = None
        try:
            with office.write(origin="terrain", batch_id=copy_id, login=login) as session:
                sortie = session.get(FieldCopy, copy_id)
                _refuse_twice(sortie)
                bureau = _bureau(session, base, texts)
                plan = merge(base, terrain, bureau, _Office(session))
                report.created = {k: v for k, v in plan.created.items() if v}
                report.updated = {k: v for k, v in plan.updated.items() if v}
                report.deleted = {k: v for k, v in plan.deleted.items() if v}
                numbered = _number(session, plan.conflicts, copy_id, dry_run)
                report.conflicts = [{"id": n, **_conflict_row(c)} for n, c in numbered
                                    if c.kind != "doublon"]
                report.duplicates = [{"id": n, **_conflict_row(c)} for n, c in numbered
                                     if c.kind == "doublon"]
                if dry_run:
                    session.rollback()
                    return report
                touched = apply_plan(session, plan)
                everything = {name: {**bureau.get(name, {}), **terrain.get(name, {})}
                              for name in BY_NAME}
                report.findings = refresh_touched(session, touched, everything)
                applied = pieces.apply(office, session, brought)
                for mine, theirs in ((report.created, applied.created),
                                     (report.updated, applied.updated),
                                     (report.deleted, applied.deleted)):
                    mine.update(theirs)
                report.findings += applied.findings
                sortie.checked_in_at = datetime.now(UTC)
                sortie.checked_in_by = login
                sortie.report = report.as_dict()
                session.query(FieldCopyRecord).filter(
                    FieldCopyRecord.copy_id == copy_id).delete()
        except BaseException:
            pieces.undo_files(applied)  # contents written for a transaction rolled back
            raise
    return report


def _scope_label(record: dict[str, Any]) -> str:
    import json

    scope = record["scope"]
    if isinstance(scope, str):
        scope = json.loads(scope)
    return scope.get("label", "")


def _check_known(office: Database, record: dict[str, Any], copy_id: uuid.UUID,
                 fingerprint: str) -> None:
    with office.read() as session:
        if this_copy(session) is not None:
            raise CopyRefused("La base ouverte est elle-même une copie de terrain : une copie "
                              "se rapporte dans la base du bureau dont elle a été tirée.")
        identity = base_id(session)
        if record["office_id"] != identity:
            raise CopyRefused(
                f"Cette copie ne vient pas de cette base : elle a été tirée de "
                f"« {record['office_label']} ». Ouvrez cette base-là pour la rapporter ; "
                "rien n'a été modifié.")
        sortie = session.get(FieldCopy, copy_id)
        if sortie is None or sortie.role != "sortie":
            raise CopyRefused("Cette copie n'est pas enregistrée dans cette base (sortie "
                              "interrompue ou base restaurée depuis) : elle ne peut pas être "
                              "rapportée ici ; rien n'a été modifié.")
        _refuse_twice(sortie)
        if fingerprint != sortie.base_digest:
            raise CopyRefused("La copie a été altérée (son état de départ ne correspond plus "
                              "à celui enregistré au bureau) : elle est refusée ; rien n'a "
                              "été modifié.")


def _refuse_twice(sortie: FieldCopy | None) -> None:
    if sortie is not None and sortie.checked_in_at is not None:
        when = sortie.checked_in_at
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        raise CopyRefused(
            f"Cette copie a déjà été rapportée le {when.astimezone():%d/%m/%Y à %H:%M} par "
            f"{sortie.checked_in_by} : une copie ne se rapporte qu'une fois. Rien n'a été "
            "modifié.")


def _number(session: Session, conflicts: list[Conflict], copy_id: uuid.UUID,
            dry_run: bool) -> list[tuple[int, Conflict]]:
    first = (session.scalar(select(func.max(FieldConflict.number))) or 0) + 1
    numbered = list(enumerate(conflicts, start=first))
    if not dry_run:
        now = datetime.now(UTC)
        for number, conflict in numbered:
            terrain = conflict.terrain
            if conflict.subtree:
                terrain = {"values": conflict.terrain, "subtree": conflict.subtree}
            session.add(FieldConflict(
                number=number, copy_id=copy_id, kind=conflict.kind, entity=conflict.entity,
                record_id=conflict.record_id, reference=conflict.reference,
                field=conflict.field, base=conflict.base, terrain=terrain,
                bureau=conflict.bureau, status="ouvert", created_at=now))
    return numbered


def _backup(office: Database) -> str | None:
    if not office.is_sqlite:
        return None
    from db.backups import take

    return str(take(office, "avant-fusion").path)


__all__ = ["CheckinReport", "CopyRefused", "checkin"]
