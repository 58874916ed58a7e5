"""Which audit entries belong to a record's history: the record itself and its children,
including children deleted since (found through the parent key their deletion's
snapshot keeps)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    Amendment,
    Attachment,
    AuditEntry,
    Axis,
    ExpenseItem,
    FundingLine,
    Payment,
    Signatory,
    SimulationLine,
    SteeringMeeting,
)

CHUNK = 500  # ids per IN list: SQLite's bound parameters are limited

OPERATION_CHILDREN = ((FundingLine, "funding_line"), (ExpenseItem, "expense_item"))
CONTRACT_CHILDREN = ((Axis, "axis"), (Signatory, "signatory"), (Amendment, "amendment"),
                     (SteeringMeeting, "steering_meeting"))

Members = dict[str, set[str]]  # entity → entity_id of the audit entries


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _deleted(session: Session, entity: str, parent_key: str, parents: set[str]) -> set[str]:
    """Children deleted from any of *parents*: the deletion's snapshot names the parent.
    Only deletions are read (the entity index narrows them to one table's entries)."""
    found: set[str] = set()
    for chunk in _chunks(parents):
        found.update(session.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.entity == entity, AuditEntry.action == "delete",
            AuditEntry.changes[parent_key].as_string().in_(chunk))))
    return found


def _current(session: Session, model: type, parent_column: str, parents: set[str]) -> set[str]:
    column = getattr(model, parent_column)
    found: set[str] = set()
    for chunk in _chunks(parents):
        found.update(str(i) for i in session.scalars(
            select(model.id).where(column.in_([uuid.UUID(p) for p in chunk]))))
    return found


def members(session: Session, entity: str, record_ids: set[str], *,
            include_children: bool = True, include_deleted: bool = True) -> Members:
    """The audit entity ids that make up the history of *record_ids* (of one entity)."""
    found: Members = {entity: set(record_ids)}
    if not include_children or not record_ids:
        return found
    if entity == "operation":
        for model, child in OPERATION_CHILDREN:
            found[child] = _current(session, model, "operation_id", record_ids)
            if include_deleted:
                found[child] |= _deleted(session, child, "operation_id", record_ids)
        lines = found["funding_line"]
        found["payment"] = _current(session, Payment, "funding_line_id", lines)
        if include_deleted:
            found["payment"] |= _deleted(session, "payment", "funding_line_id", lines)
        _attachments(session, found, (("operation_id", record_ids), ("funding_line_id", lines)),
                     include_deleted)
    elif entity == "simulation":  # its proposals (db.programming)
        found["simulation_line"] = _current(session, SimulationLine, "simulation_id",
                                            record_ids)
        if include_deleted:
            found["simulation_line"] |= _deleted(session, "simulation_line",
                                                 "simulation_id", record_ids)
    elif entity == "contract":
        for model, child in CONTRACT_CHILDREN:
            found[child] = _current(session, model, "contract_id", record_ids)
            if include_deleted:
                found[child] |= _deleted(session, child, "contract_id", record_ids)
        _attachments(session, found, (("contract_id", record_ids),), include_deleted)
    return found


def _attachments(session: Session, found: Members, owners: Iterable[tuple[str, set[str]]],
                 include_deleted: bool) -> None:
    """The pièces jointes of the record and of its funding lines (db.attachments):
    their adding and removal are part of its history."""
    ids: set[str] = set()
    for key, parents in owners:
        ids |= _current(session, Attachment, key, parents)
        if include_deleted:
            ids |= _deleted(session, "attachment", key, parents)
    found["attachment"] = ids


def condition(found: Members, links_of: set[str] = frozenset()) -> ColumnElement[bool] | None:
    """The WHERE clause of the entries of *found*, plus the links to contracts of the
    operations *links_of* (entity id « operation/contract »: a range on the index)."""
    parts: list[ColumnElement[bool]] = []
    for entity, ids in found.items():
        for chunk in _chunks(sorted(ids)):
            parts.append(and_(AuditEntry.entity == entity, AuditEntry.entity_id.in_(chunk)))
    for operation in links_of:
        # "/" is followed by "0" in ASCII: every id starting with "<operation>/". A link
        # created with its operation was audited as "None/<contract>" in bases written
        # before 2026-12 (its key read before the operation's id was set): its snapshot
        # still names the operation.
        parts.append(and_(AuditEntry.entity == "operation_contract",
                          AuditEntry.entity_id > f"{operation}/",
                          AuditEntry.entity_id < f"{operation}0"))
    for chunk in _chunks(sorted(links_of)):
        parts.append(and_(AuditEntry.entity == "operation_contract",
                          AuditEntry.action == "insert",
                          AuditEntry.changes["operation_id"].as_string().in_(chunk)))
    return or_(*parts) if parts else None
