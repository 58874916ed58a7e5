"""The history of a record and the office's journal, read from the audit trail.

The audit table grows by every write (millions of rows on an old regional base): the
journal pages in SQL on the `at` index, newest first, and only the page read is named
and formatted in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.database import Database
from db.history.members import condition, members
from db.history.values import (
    ACTION_LABELS,
    ENTITY_NOUNS,
    HIDDEN_FIELDS,
    Namer,
    field_label,
    moment_text,
    origin_label,
    utc,
)
from db.models import (
    AuditEntry,
    Contract,
    Envelope,
    Operation,
    Organisation,
    PriorityCategory,
    Simulation,
)

# The tables an agent edits; field copies, settings and conflicts are bookkeeping.
DOMAIN_ENTITIES = tuple(ENTITY_NOUNS)
# What a double click can open: an editor, or the Enveloppes page (db.programming).
EDITORS = ("operation", "contract", "organisation", "envelope", "simulation",
           "priority_category")
_PARENT_OF = {"funding_line": ("operation", "operation_id"),
              "expense_item": ("operation", "operation_id"),
              "axis": ("contract", "contract_id"), "signatory": ("contract", "contract_id"),
              "amendment": ("contract", "contract_id"),
              "steering_meeting": ("contract", "contract_id"),
              "simulation_line": ("simulation", "simulation_id")}
RECORD_MATCHES = 200  # records a « fiche » text may match in the journal


@dataclass(frozen=True)
class HistoryRow:
    """One line of a history: one field of one change (a creation or a deletion is one
    line summarising the record)."""

    at: datetime  # UTC, aware
    when: str  # « 3 déc. 2026 à 10 h 42 », local time
    login: str
    origin: str  # « Saisie », « Import », « Copie de terrain », « Démonstration »
    action: str  # « création », « modification », « suppression »
    entity: str
    record_id: str
    record: str  # « Ligne DETR de l'État »
    field: str  # « Montant accordé »; empty for a creation or a deletion
    old: str
    new: str
    # The editor that shows the record: (entity, id) of the operation, contract or
    # organisation it belongs to; the parent's name for the journal's « Fiche » column.
    target: tuple[str, str] | None = None
    parent: str = ""

    @property
    def change(self) -> str:
        """What the tables show in one column: the field changed, or « Création » /
        « Suppression » (an action column beside an empty field column cost the room the
        old and new values need)."""
        return self.field or self.action.capitalize()


@dataclass(frozen=True)
class JournalPage:
    rows: list[HistoryRow]
    next_offset: int | None  # None: no older change


def _target(namer: Namer, entity: str, record_id: str,
            values: dict[str, Any]) -> tuple[str, str] | None:
    if entity in EDITORS:
        return entity, record_id
    if entity == "operation_contract":
        return "operation", str(values.get("operation_id") or record_id.split("/")[0])
    if entity == "payment":
        line = namer.values("funding_line", values.get("funding_line_id"))
        return ("operation", str(line["operation_id"])) if line.get("operation_id") else None
    if entity == "act":  # on a funding line
        line = namer.values("funding_line", values.get("funding_line_id"))
        return ("operation", str(line["operation_id"])) if line.get("operation_id") else None
    if entity == "attachment":  # on a contract, an operation or a funding line
        if values.get("funding_line_id"):
            line = namer.values("funding_line", values["funding_line_id"])
            return ("operation", str(line["operation_id"])) if line.get("operation_id") \
                else None
        for parent in ("operation", "contract"):
            if values.get(f"{parent}_id"):
                return parent, str(values[f"{parent}_id"])
        return None
    if entity in _PARENT_OF:
        parent, key = _PARENT_OF[entity]
        return (parent, str(values[key])) if values.get(key) else None
    return None


def _import_batches(session: Session, entries: list[AuditEntry]) -> set[Any]:
    """The batches of *entries* that are imports: the bulk writer of an import leaves
    its entries without an origin in bases written before 2026-12 (the import's own
    entry, entity « import », marks it)."""
    batches = {e.batch_id for e in entries if e.batch_id is not None and not e.origin}
    found: set[Any] = set()
    for chunk in [sorted(batches, key=str)[i:i + 500] for i in range(0, len(batches), 500)]:
        found.update(session.scalars(select(AuditEntry.batch_id).where(
            AuditEntry.entity == "import", AuditEntry.batch_id.in_(chunk))))
    return found


def _rows(namer: Namer, entries: list[AuditEntry], with_parent: bool) -> list[HistoryRow]:
    rows: list[HistoryRow] = []
    imports = _import_batches(namer.session, entries)
    namer.preload(entries)
    for entry in entries:
        changes = entry.changes or {}
        if entry.action == "update":
            values = namer.values(entry.entity, entry.entity_id)
        else:  # a creation or a deletion carries the record's values of that moment
            values = {**namer.values(entry.entity, entry.entity_id), **changes}
        record = namer.record_name(entry.entity, entry.entity_id, values)
        target = _target(namer, entry.entity, entry.entity_id, values)
        parent = ""
        if with_parent and target is not None:
            parent = record if target == (entry.entity, entry.entity_id) \
                else namer.record_name(target[0], target[1])
        common = {"at": utc(entry.at), "when": moment_text(entry.at), "login": entry.login,
                  "origin": origin_label(entry.origin or (
                      "import" if entry.batch_id in imports else None)),
                  "action": ACTION_LABELS.get(entry.action, entry.action),
                  "entity": entry.entity, "record_id": entry.entity_id, "record": record,
                  "target": target, "parent": parent}
        if entry.action == "update":
            for key, pair in changes.items():
                if not (isinstance(pair, list) and len(pair) == 2):
                    continue
                if key in HIDDEN_FIELDS.get(entry.entity, ()):
                    continue
                rows.append(HistoryRow(**common, field=field_label(key, entry.entity),
                                       old=namer.value(entry.entity, key, pair[0]),
                                       new=namer.value(entry.entity, key, pair[1])))
        else:
            summary = namer.summary(entry.entity, changes)
            rows.append(HistoryRow(**common, field="",
                                   old=summary if entry.action == "delete" else "",
                                   new=summary if entry.action == "insert" else ""))
    return rows


def _newest_first(select_entries: Any) -> Any:
    return select_entries.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def record_history(db: Database, entity: str, record_id: uuid.UUID | str,
                   include_children: bool = True) -> list[HistoryRow]:
    """Every change of a record, newest first: for an operation also its funding lines,
    payments, expense items and links to contracts; for a contract its axes, signatories,
    amendments and meetings (not its operations, each has its own history)."""
    key = str(record_id)
    with db.read() as session:
        found = members(session, entity, {key}, include_children=include_children)
        where = condition(found, {key} if entity == "operation" and include_children
                          else set())
        entries = list(session.scalars(_newest_first(select(AuditEntry).where(where))))
        # Within one save, the record itself before its children, as the agent made it.
        rank = {name: i for i, name in enumerate(found)}
        entries.sort(key=lambda e: (utc(e.at), -rank.get(e.entity, len(rank))), reverse=True)
        return _rows(Namer(session), entries, with_parent=False)


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone().astimezone(UTC)


def _bound(db: Database, moment: datetime) -> datetime:
    # SQLite stores the UTC time without its offset and compares the text.
    return moment.replace(tzinfo=None) if db.is_sqlite else moment


def _matching_records(session: Session, text: str) -> tuple[dict[str, set[str]], set[str]]:
    """Operations, contracts and organisations whose reference, title or name holds
    *text*, with their current children; the envelopes of a dotation (« DETR »), the
    simulations (with their proposals) and the priority categories by their name; and
    the operations (for their links)."""
    pattern = f"%{text.strip()}%"
    found: dict[str, set[str]] = {}
    operations: set[str] = set()
    for model, entity, columns in ((Operation, "operation", ("reference", "title")),
                                   (Contract, "contract", ("reference", "title")),
                                   (Organisation, "organisation", ("name", "acronym")),
                                   (Envelope, "envelope", ("scheme_code",)),
                                   (Simulation, "simulation", ("name",)),
                                   (PriorityCategory, "priority_category", ("label",))):
        ids = {str(i) for i in session.scalars(select(model.id).where(
            or_(*(getattr(model, c).ilike(pattern) for c in columns))).limit(RECORD_MATCHES))}
        # A deleted record is found by the values its deletion kept (« who removed
        # OP-3? »); only deletions are read, and only of this table.
        gone = set(session.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.entity == entity, AuditEntry.action == "delete",
            or_(*(AuditEntry.changes[c].as_string().ilike(pattern) for c in columns)))
            .limit(RECORD_MATCHES)))
        for child, child_ids in members(session, entity, ids, include_deleted=False).items():
            found.setdefault(child, set()).update(child_ids)
        for child, child_ids in members(session, entity, gone).items():
            found.setdefault(child, set()).update(child_ids)
        if entity == "operation":
            operations = ids | gone
    return found, operations


def _agent_edited_lines() -> ColumnElement[bool]:
    """The lines of a simulation are listed only as the agent edits them: created and
    deleted with their simulation (hundreds at a time, its own entry says it), and
    written by its application or its undo (the funding lines' entries say what
    changed), they would bury the rest of the journal."""
    return or_(AuditEntry.entity != "simulation_line", and_(
        AuditEntry.action == "update",
        func.coalesce(AuditEntry.origin, "") != "simulation"))


def journal(db: Database, agent: str | None = None, since: date | None = None,
            until: date | None = None, record_text: str | None = None,
            origin: str | None = None, limit: int = 100, offset: int = 0) -> JournalPage:
    """The office's changes, newest first, *limit* audit entries from *offset*.
    *since* and *until* are local days, both included; *origin*: "saisie", "import",
    "terrain", "démonstration" (entries without an origin are « saisie »)."""
    # Through an expression: on the entity index SQLite read every entry, then sorted
    # them (0,2 s for 100 000); on the `at` index it stops after one page (2 ms).
    statement = select(AuditEntry).where(
        func.coalesce(AuditEntry.entity, "").in_(DOMAIN_ENTITIES), _agent_edited_lines())
    if agent:
        statement = statement.where(AuditEntry.login == agent)
    if since is not None:
        statement = statement.where(AuditEntry.at >= _bound(db, _local_midnight_utc(since)))
    if until is not None:
        statement = statement.where(AuditEntry.at < _bound(
            db, _local_midnight_utc(until + timedelta(days=1))))
    imports = select(AuditEntry.batch_id).where(AuditEntry.entity == "import")
    unmarked = AuditEntry.origin.is_(None)  # typed in an editor, or written by an import
    if origin == "saisie":
        statement = statement.where(or_(AuditEntry.origin == origin, and_(unmarked, or_(
            AuditEntry.batch_id.is_(None), AuditEntry.batch_id.not_in(imports)))))
    elif origin == "import":
        statement = statement.where(or_(AuditEntry.origin == origin, and_(
            unmarked, AuditEntry.batch_id.in_(imports))))
    elif origin:
        statement = statement.where(AuditEntry.origin == origin)
    with db.read() as session:
        if record_text and record_text.strip():
            found, operations = _matching_records(session, record_text)
            where = condition(found, operations)
            if where is None:
                return JournalPage([], None)
            statement = statement.where(where)
        entries = list(session.scalars(_newest_first(statement).offset(offset).limit(limit)))
        rows = _rows(Namer(session), entries, with_parent=True)
    return JournalPage(rows, offset + limit if len(entries) == limit else None)


def agents(db: Database) -> list[str]:
    """The logins that appear in the audit trail, for the journal's filter."""
    with db.read() as session:
        return sorted(session.scalars(select(AuditEntry.login).distinct()), key=str.casefold)


def record_exists(db: Database, entity: str, record_id: str) -> bool:
    models = {"operation": Operation, "contract": Contract, "organisation": Organisation,
              "envelope": Envelope, "simulation": Simulation,
              "priority_category": PriorityCategory}
    model = models.get(entity)
    if model is None:
        return False
    try:
        key = uuid.UUID(record_id)
    except ValueError:
        return False
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.id == key)) == 1
