"""Creating many operations at once (spreadsheet imports).

The data must already have passed the same checks as an editor's save (the
importer runs the rules on every plan before calling this); what this module
adds is speed: one ``executemany`` per table instead of one ORM flush per
record, with the same columns, derived caches, search documents and audit
entries as :func:`db.services.operations.save_operation_in` writes. Foreign keys
and unique references are still enforced by the database, inside the caller's
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.audit import current_login
from db.bulk import insert_audit, insert_rows, new_ids, snapshot
from db.models import (
    AuditEntry,
    Commune,
    Contract,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    Payment,
    Signatory,
    operation_commune,
)
from db.money import ZERO
from db.naming import sort_name
from db.search import bulk_indexing, operation_document, organisation_document
from db.services.operations import OperationData
from db.services.organisations import OrganisationData
from db.vocabulary import FundingStatus

CHUNK = 5000  # rows of a table written between two looks at the cancel request


class Cancelled(Exception):
    """The caller asked to stop; its transaction is to be rolled back."""


@dataclass
class Stamp:
    """Who and when, the same for every record of one bulk write."""

    at: datetime
    login: str
    batch_id: uuid.UUID | None

    def tracked(self) -> dict[str, Any]:
        return {"version": 1, "created_at": self.at, "created_by": self.login,
                "updated_at": self.at, "updated_by": self.login}


def _chunks(count: int) -> Iterable[slice]:
    for start in range(0, count, CHUNK):
        yield slice(start, start + CHUNK)


def _insert(session: Session, model: Any, columns: dict[str, list], constants: dict[str, Any],
            cancelled: Callable[[], bool] | None,
            progress: Callable[[str, int, int], None] | None = None, step: str = "") -> None:
    count = len(next(iter(columns.values()))) if columns else 0
    for part in _chunks(count):
        if cancelled is not None and cancelled():
            raise Cancelled()
        if progress is not None:
            progress(step, part.start, count)
        insert_rows(session.connection(), model,
                    {key: values[part] for key, values in columns.items()}, constants)


def _audit(session: Session, stamp: Stamp, entity: str, ids: list[str],
           changes: list[dict[str, Any]], action: str = "insert") -> None:
    for part in _chunks(len(ids)):
        insert_audit(session.connection(), at=stamp.at, login=stamp.login,
                     batch_id=stamp.batch_id, entity=entity, entity_ids=ids[part],
                     changes=changes[part], action=action,
                     origin=session.info.get("origin"))


def create_organisations(session: Session, organisations: dict[uuid.UUID, OrganisationData],
                         stamp: Stamp) -> None:
    if not organisations:
        return
    ids = list(organisations)
    data = [organisations[i] for i in ids]
    columns: dict[str, list] = {
        "id": ids, "name": [d.name for d in data], "kind": [d.kind.value for d in data],
        "acronym": [d.acronym for d in data],
        # What identifies a collectivité (a Démarches numériques dossier gives its SIREN).
        "siren": [d.siren for d in data], "commune_code": [d.commune_code for d in data],
        "epci_code": [d.epci_code for d in data],
        "search_document": [organisation_document(d.name, d.acronym, d.aliases)
                            for d in data],
        "sort_name": [sort_name(d.name) for d in data],
    }
    insert_rows(session.connection(), Organisation, columns, stamp.tracked())
    _audit(session, stamp, "organisation", [str(i) for i in ids], [
        snapshot(Organisation, {"id": i, "name": d.name, "kind": d.kind.value,
                                "acronym": d.acronym, "siren": d.siren,
                                "commune_code": d.commune_code, "epci_code": d.epci_code})
        for i, d in zip(ids, data, strict=True)])


def _names(session: Session, operations: list[OperationData]) -> tuple[dict, dict, dict]:
    """Names the search documents hold: organisations, communes, contracts."""
    org_ids = {d.owner_id for d in operations if d.owner_id} | {
        line.financer_id for d in operations for line in d.funding_lines if line.financer_id}
    codes = {code for d in operations for code in d.commune_codes}
    contract_ids = {link.contract_id for d in operations for link in d.links}

    def chunked(ids: set) -> Iterable[list]:
        values = list(ids)
        for start in range(0, len(values), 900):
            yield values[start:start + 900]

    organisations: dict[uuid.UUID, list[str]] = {}
    for part in chunked(org_ids):
        for org_id, name, acronym in session.execute(
                select(Organisation.id, Organisation.name, Organisation.acronym)
                .where(Organisation.id.in_(part))):
            organisations[org_id] = [n for n in (name, acronym) if n]
    communes: dict[str, str] = {}
    for part in chunked(codes):
        communes.update(session.execute(select(Commune.code, Commune.name)
                                        .where(Commune.code.in_(part))).all())
    contracts: dict[uuid.UUID, str] = {}
    for part in chunked(contract_ids):
        contracts.update(session.execute(select(Contract.id, Contract.reference)
                                         .where(Contract.id.in_(part))).all())
    return organisations, communes, contracts


def create_operations(session: Session, operations: list[OperationData], *,
                      new_organisations: dict[uuid.UUID, OrganisationData] | None = None,
                      cancelled: Callable[[], bool] | None = None,
                      progress: Callable[[str, int, int], None] | None = None
                      ) -> list[uuid.UUID]:
    """Insert *operations* (new, already checked) with their communes, contract links and
    funding lines, and the organisations they name that do not exist yet (keyed by the
    ids the data already uses). Raises :class:`Cancelled` when *cancelled* answers True."""
    stamp = Stamp(datetime.now(UTC), session.info.get("login") or current_login(),
                  session.info.get("batch_id"))
    session.flush()
    create_organisations(session, new_organisations or {}, stamp)
    org_names, commune_names, contract_refs = _names(session, operations)

    if any(data.expense_items for data in operations):
        raise ValueError("L'écriture en masse ne porte pas de postes de dépense.")
    ids = new_ids(len(operations))
    op_columns: dict[str, list] = {key: [] for key in (
        "id", "reference", "title", "description", "owner_id", "status", "cost_ht",
        "cost_ttc", "base_kind", "eligible_cost", "deposit_date", "decision_date",
        "notification_date", "start_date", "end_date", "early_start_date",
        "start_extension_months", "completion_extension_months", "chef_de_file",
        "own_share_exception", "own_share_exception_ref", "notes", "origin", "source",
        "search_document", "granted_total")}
    op_changes: list[dict[str, Any]] = []
    line_columns: dict[str, list] = {key: [] for key in (
        "id", "operation_id", "financer_id", "scheme_code", "amount_requested",
        "amount_granted", "status", "decision_reference", "decision_date",
        "notification_date", "planned_completion_date", "commission_opinion_date",
        "budget_year", "position", "notes")}
    line_changes: list[dict[str, Any]] = []
    place_rows: tuple[list, list] = ([], [])
    link_rows: tuple[list, list, list] = ([], [], [])
    line_ids = iter(new_ids(sum(len(d.funding_lines) for d in operations)))

    for position, (operation_id, data) in enumerate(zip(ids, operations, strict=True)):
        if position % CHUNK == 0:
            if cancelled is not None and cancelled():
                raise Cancelled()
            if progress is not None:
                progress("Préparation des opérations", position, len(operations))
        lines = data.funding_lines
        granted = [line.amount_granted for line in lines
                   if line.status == FundingStatus.GRANTED and line.amount_granted is not None]
        values = {
            "id": operation_id, "reference": data.reference, "title": data.title,
            "description": data.description, "owner_id": data.owner_id,
            "status": data.status.value, "cost_ht": data.cost_ht, "cost_ttc": data.cost_ttc,
            "base_kind": data.base_kind.value, "eligible_cost": data.eligible_cost,
            "deposit_date": data.deposit_date, "decision_date": data.decision_date,
            "notification_date": data.notification_date, "start_date": data.start_date,
            "end_date": data.end_date, "early_start_date": data.early_start_date,
            "start_extension_months": data.start_extension_months,
            "completion_extension_months": data.completion_extension_months,
            "chef_de_file": data.chef_de_file,
            "own_share_exception": (data.own_share_exception.value
                                    if data.own_share_exception else None),
            "own_share_exception_ref": data.own_share_exception_ref, "notes": data.notes,
            "origin": data.origin, "source": data.source,
        }
        op_changes.append(snapshot(Operation, {**values, "communes": data.commune_codes}))
        values["search_document"] = operation_document(
            data.reference, data.title, org_names.get(data.owner_id, []),
            [(code, commune_names.get(code, "")) for code in data.commune_codes],
            [contract_refs.get(link.contract_id, "") for link in data.links],
            [name for line in lines if line.financer_id
             for name in org_names.get(line.financer_id, [])],
            [line.scheme_code for line in lines])
        values["granted_total"] = sum(granted, ZERO) if granted else None
        for key, column in op_columns.items():
            column.append(values[key])
        for code in dict.fromkeys(data.commune_codes):
            place_rows[0].append(operation_id)
            place_rows[1].append(code)
        for link in data.links:
            link_rows[0].append(operation_id)
            link_rows[1].append(link.contract_id)
            link_rows[2].append(link.axis_id)
        for position, line in enumerate(lines):
            line_values = {
                "id": next(line_ids), "operation_id": operation_id,
                "financer_id": line.financer_id, "scheme_code": line.scheme_code or None,
                "amount_requested": line.amount_requested,
                "amount_granted": line.amount_granted, "status": line.status.value,
                "decision_reference": line.decision_reference,
                "decision_date": line.decision_date,
                "notification_date": line.notification_date,
                "planned_completion_date": line.planned_completion_date,
                "commission_opinion_date": line.commission_opinion_date,
                "budget_year": line.budget_year, "position": position, "notes": line.notes,
            }
            for key, column in line_columns.items():
                column.append(line_values[key])
            line_changes.append(snapshot(FundingLine, line_values))

    tracked = stamp.tracked()
    with bulk_indexing(session.connection(), "operation"):
        _insert(session, Operation, op_columns, {**tracked, "paid_total": ZERO},
                cancelled, progress, "Écriture des opérations")
    _insert(session, operation_commune, {"operation_id": place_rows[0],
                                         "commune_code": place_rows[1]}, {}, cancelled)
    _insert(session, OperationLink, {"operation_id": link_rows[0],
                                     "contract_id": link_rows[1],
                                     "axis_id": link_rows[2]}, {}, cancelled)
    _insert(session, FundingLine, line_columns, {**tracked, "paid_total": ZERO},
            cancelled, progress, "Écriture des financements")
    if cancelled is not None and cancelled():
        raise Cancelled()
    if progress is not None:
        progress("Écriture de l'historique", 0, 1)
    _audit(session, stamp, "operation", [str(i) for i in ids], op_changes)
    _audit(session, stamp, "operation_contract",
           [f"{o}/{c}" for o, c in zip(link_rows[0], link_rows[1], strict=True)],
           [snapshot(OperationLink, {"operation_id": o, "contract_id": c, "axis_id": a})
            for o, c, a in zip(*link_rows, strict=True)])
    _audit(session, stamp, "funding_line", [str(i) for i in line_columns["id"]],
           line_changes)
    return ids


# --- Removing what one batch created -------------------------------------------------------

class NothingToDelete(Exception):
    pass


class ChangedSince(Exception):
    def __init__(self, references: list[str]) -> None:
        super().__init__(", ".join(references))
        self.references = references


def _with_attachments(session: Session, operation_ids: list) -> list[str]:
    """The operations that received pieces jointes (on them or their lines): someone
    worked on them since the import (db.attachments)."""
    from db.models import Attachment

    on_line = select(Attachment.id).join(FundingLine, Attachment.funding_line_id
                                         == FundingLine.id).where(
        FundingLine.operation_id == Operation.id)
    return [ref for (ref,) in _in_chunks(session, lambda part: select(Operation.reference)
            .where(Operation.id.in_(part), select(Attachment.id).where(
                Attachment.operation_id == Operation.id).exists() | on_line.exists()),
            operation_ids)]


def _in_chunks(session: Session, statement_for: Callable[[list], Any], ids: list) -> list:
    """Run the statement for at most 900 ids at a time (SQLite's limit on bound
    parameters); the rows of a select, gathered."""
    found: list = []
    for start in range(0, len(ids), 900):
        statement = statement_for(ids[start:start + 900])
        result = session.execute(statement)
        if statement.is_select:
            found += result.all()
    return found


def delete_created(session: Session, batch: uuid.UUID,
                   settled: set[uuid.UUID] | frozenset = frozenset()) -> int:
    """Delete the operations (with their lines, communes and links) and the organisations
    that *batch* created, provided none was changed, paid or, for an organisation, used
    elsewhere since; each deletion is audited with the record's last values, which are
    the values it was created with. Returns the number of operations removed."""
    created = session.execute(
        select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.changes)
        .where(AuditEntry.batch_id == batch, AuditEntry.action == "insert")).all()
    by_entity: dict[str, dict[str, dict]] = {}
    for entity, entity_id, changes in created:
        by_entity.setdefault(entity, {})[entity_id] = changes
    operation_ids = [uuid.UUID(i) for i in by_entity.get("operation", {})]
    if not operation_ids:
        raise NothingToDelete()
    present = _in_chunks(session, lambda part: select(
        Operation.id, Operation.reference, Operation.version).where(Operation.id.in_(part)),
        operation_ids)
    # *settled*: operations that only later imports changed (db.demarches), not a person.
    changed = [ref for operation_id, ref, version in present
               if version > 1 and operation_id not in settled]
    changed += [ref for (ref,) in _in_chunks(session, lambda part: select(Operation.reference)
                .join(FundingLine).where(FundingLine.operation_id.in_(part),
                                         FundingLine.version > 1),
                [i for i in operation_ids if i not in settled])]
    changed += [ref for (ref,) in _in_chunks(session, lambda part: select(Operation.reference)
                .join(FundingLine).join(Payment).where(FundingLine.operation_id.in_(part)),
                operation_ids)]
    changed += _with_attachments(session, operation_ids)
    if changed:
        raise ChangedSince(sorted(set(changed)))
    ids = [operation_id for operation_id, _, _ in present]
    line_ids = [str(i) for (i,) in _in_chunks(session, lambda part: select(FundingLine.id)
                .where(FundingLine.operation_id.in_(part)), ids)]
    links = [f"{o}/{c}" for o, c in _in_chunks(session, lambda part: select(
        OperationLink.operation_id, OperationLink.contract_id)
        .where(OperationLink.operation_id.in_(part)), ids)]
    for statement in (lambda part: delete(FundingLine).where(FundingLine.operation_id.in_(part)),
                      lambda part: delete(operation_commune)
                      .where(operation_commune.c.operation_id.in_(part)),
                      lambda part: delete(OperationLink)
                      .where(OperationLink.operation_id.in_(part)),
                      lambda part: delete(Operation).where(Operation.id.in_(part))):
        _in_chunks(session, statement, ids)

    # Organisations the import created and nobody uses or changed since.
    organisation_ids = [uuid.UUID(i) for i in by_entity.get("organisation", {})]
    removable = []
    for org_id, version in _in_chunks(session, lambda part: select(
            Organisation.id, Organisation.version).where(Organisation.id.in_(part)),
            organisation_ids):
        used = session.scalar(select(func.count()).select_from(Operation)
                              .where(Operation.owner_id == org_id)) or session.scalar(
            select(func.count()).select_from(FundingLine)
            .where(FundingLine.financer_id == org_id)) or session.scalar(
            select(func.count()).select_from(Signatory)
            .where(Signatory.organisation_id == org_id))
        if version == 1 and not used:
            removable.append(org_id)
    _in_chunks(session, lambda part: delete(Organisation).where(Organisation.id.in_(part)),
               removable)

    stamp = Stamp(datetime.now(UTC), session.info.get("login") or current_login(),
                  uuid.uuid4())
    for entity, entity_ids in (("operation", [str(i) for i in ids]),
                               ("operation_contract", links), ("funding_line", line_ids),
                               ("organisation", [str(i) for i in removable])):
        last_values = by_entity.get(entity, {})
        _audit(session, stamp, entity, entity_ids, [last_values.get(i, {}) for i in entity_ids],
               action="delete")
    for entry in session.scalars(select(AuditEntry).where(
            AuditEntry.batch_id == batch, AuditEntry.entity == "import")):
        entry.entity = "import_annule"  # listed no more; the trail stays
    return len(ids)
