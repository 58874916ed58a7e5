"""The queue of what check-ins left for a person, and its resolution.

Each conflict shows the three values (base / terrain / bureau) in words; the agent
keeps the terrain's, keeps the office's (nothing to write), or types another. A
resolution is one audited transaction, after which the rules of the operation's plan
are checked again and their errors returned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Integer, select
from sqlalchemy.orm import Session

from db.audit import current_login
from db.database import Database
from db.errors import InvalidInput, NotFoundError, UserError
from db.field.checkin import delete_record, insert_record, refresh_touched
from db.field.schema import BY_NAME, ENTITIES, NOUNS, Entity, python
from db.formatting import euros
from db.models import (
    Axis,
    Commune,
    Contract,
    ContractType,
    Epci,
    FieldConflict,
    FieldCopy,
    FundingScheme,
    Money,
    Operation,
    Organisation,
)
from db.money import from_cents
from db.vocabulary import (
    BaseKind,
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)

EMPTY = "(vide)"
KINDS = {"champ": "même champ modifié des deux côtés",
         "suppression": "supprimée d'un côté, modifiée de l'autre",
         "doublon": "doublon probable"}
_CODES = {("operation", "status"): OperationStatus, ("contract", "status"): ContractStatus,
          ("funding_line", "status"): FundingStatus, ("payment", "kind"): PaymentKind,
          ("organisation", "kind"): OrganisationKind, ("operation", "base_kind"): BaseKind,
          ("operation", "own_share_exception"): OwnShareException}
_NAMED = {"owner_id": (Organisation, "name"), "financer_id": (Organisation, "name"),
          "organisation_id": (Organisation, "name"), "type_id": (ContractType, "label"),
          "axis_id": (Axis, "label"), "contract_id": (Contract, "reference"),
          "operation_id": (Operation, "reference"), "scheme_code": (FundingScheme, "label")}


def field_label(entity: Entity, name: str | None) -> str:
    from db.documents.verification import FIELD_LABELS

    if name is None:
        return "fiche entière"
    attribute = name if name in {s.name for s in entity.sets} else entity.attribute(name)
    return FIELD_LABELS.get(attribute, attribute)


def describe_value(session: Session, entity: Entity, name: str | None, value: Any) -> str:
    """A plain value as the agent reads it: amounts in euros, dates the French way,
    codes by their label, organisations and contracts by name."""
    if value is None or value == []:
        return EMPTY
    if name is None:  # a whole record
        return _describe_record(session, entity, value)
    if name in {s.name for s in entity.sets}:
        model = Epci if name == "epcis" else Commune
        return ", ".join(_name_of(session, model, "name", code) for code in value)
    column = entity.table.c[name]
    if isinstance(column.type, Money):
        return euros(from_cents(value))
    if isinstance(column.type, Boolean):
        return "oui" if value else "non"
    if isinstance(column.type, Date):
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    codes = _CODES.get((entity.name, name))
    if codes is not None:
        try:
            return codes(value).label
        except ValueError:
            return str(value)
    if name in _NAMED:
        model, attribute = _NAMED[name]
        key = value if model is FundingScheme else uuid.UUID(str(value))
        return _name_of(session, model, attribute, key)
    return str(value)


def _name_of(session: Session, model: Any, attribute: str, key: Any) -> str:
    record = session.get(model, key)
    return str(getattr(record, attribute)) if record is not None else f"{key} (supprimé)"


def _describe_record(session: Session, entity: Entity, value: Any) -> str:
    if isinstance(value, dict) and "why" in value:  # a duplicate
        return f"créée sur le terrain ({value['why']})"
    if isinstance(value, dict) and "values" in value:
        value = value["values"]
    if not isinstance(value, dict):
        return str(value)
    parts = []
    for name in ("reference", "title", "name", "label", "amount_granted_cents",
                 "amount_cents", "payment_date", "scheme_code", "subject"):
        if value.get(name) not in (None, ""):
            parts.append(describe_value(session, entity, name, value[name])
                         if name in entity.table.c else str(value[name]))
    return " — ".join(parts) or "fiche"


@dataclass(frozen=True)
class ConflictView:
    number: int
    kind: str
    kind_label: str
    entity: str
    entity_label: str
    noun: str  # « opération »
    record_id: str
    reference: str | None
    field: str | None
    field_label: str
    base: str
    terrain: str
    bureau: str
    status: str
    copy: str
    created_at: datetime
    typable: bool  # whether "type another value" makes sense
    resolution: str | None = None


def _view(session: Session, conflict: FieldConflict,
          copies: dict[uuid.UUID, FieldCopy]) -> ConflictView:
    entity = BY_NAME[conflict.entity]
    name = conflict.field if conflict.kind == "champ" else None
    copy = copies.get(conflict.copy_id)
    copy_label = (f"copie de {copy.taken_by} du {_local(copy.taken_at):%d/%m/%Y}"
                  if copy else "")
    if conflict.kind == "doublon":
        other = (conflict.bureau or {}).get("id")
        bureau = (describe_value(session, entity, None, _current(session, entity, other))
                  if other else EMPTY)
        terrain = describe_value(session, entity, None, conflict.terrain)
        base = "(n'existait pas)"
    else:
        base = describe_value(session, entity, name, conflict.base)
        terrain = (describe_value(session, entity, name, conflict.terrain)
                   if conflict.terrain is not None or name else "supprimée sur le terrain")
        bureau = (describe_value(session, entity, name, conflict.bureau)
                  if conflict.bureau is not None or name else "supprimée au bureau")
    column = entity.table.c.get(conflict.field) if conflict.field else None
    typable = (conflict.kind == "champ" and column is not None and not column.foreign_keys
               and (conflict.entity, conflict.field) not in _CODES)
    return ConflictView(
        number=conflict.number, kind=conflict.kind, kind_label=KINDS[conflict.kind],
        entity=conflict.entity, entity_label=entity.label, noun=NOUNS[entity.name][0],
        record_id=conflict.record_id,
        reference=conflict.reference, field=conflict.field,
        field_label=field_label(entity, conflict.field) if conflict.kind == "champ"
        else KINDS[conflict.kind], base=base, terrain=terrain, bureau=bureau,
        status=conflict.status, copy=copy_label, created_at=_local(conflict.created_at),
        typable=typable, resolution=conflict.resolution)


def _current(session: Session, entity: Entity, record_id: str | None) -> dict[str, Any] | None:
    if record_id is None:
        return None
    from db.field.schema import read_records

    rows = read_records(session.connection(), {entity.name: entity.key_columns[0] ==
                                               uuid.UUID(record_id)})
    return rows[entity.name].get(record_id)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone()


def conflicts(db: Database, *, open_only: bool = True) -> list[ConflictView]:
    with db.read() as session:
        query = select(FieldConflict).order_by(FieldConflict.number)
        if open_only:
            query = query.where(FieldConflict.status == "ouvert")
        rows = session.scalars(query).all()
        copies = {c.id: c for c in session.scalars(select(FieldCopy).where(
            FieldCopy.id.in_({row.copy_id for row in rows})))}
        return [_view(session, row, copies) for row in rows]


def open_count(db: Database) -> int:
    from sqlalchemy import func

    with db.read() as session:
        return session.scalar(select(func.count()).select_from(FieldConflict)
                              .where(FieldConflict.status == "ouvert")) or 0


@dataclass
class Resolution:
    message: str
    findings: list[str] = field(default_factory=list)


def parse_typed(entity: Entity, name: str, text: str) -> Any:
    """What the agent typed, as a plain value of the field (refused with a message)."""
    from db.parsing import parse_amount, parse_date

    column = entity.table.c[name]
    label = field_label(entity, name)
    text = (text or "").strip()
    try:
        if isinstance(column.type, Money):
            amount = parse_amount(text)
            return None if amount is None else int(amount * 100)
        if isinstance(column.type, Date):
            day = parse_date(text)
            return None if day is None else day.isoformat()
        if isinstance(column.type, Boolean):
            if text.lower() not in ("oui", "non"):
                raise ValueError("répondez oui ou non")
            return text.lower() == "oui"
        if isinstance(column.type, Integer):
            return int(text) if text else None
    except ValueError as error:
        raise InvalidInput(f"{label[:1].upper()}{label[1:]} : {error}") from error
    length = getattr(column.type, "length", None)
    if length and len(text) > length:
        raise InvalidInput(f"{label[:1].upper()}{label[1:]} : {length} caractères au plus "
                           f"({len(text)} saisis).")
    if not text and not column.nullable:
        raise InvalidInput(f"{label[:1].upper()}{label[1:]} : champ obligatoire.")
    return text or None


def resolve(db: Database, number: int, take: str, typed: str | None = None, *,
            login: str | None = None) -> Resolution:
    """Settle conflict *number*: ``terrain``, ``bureau`` or ``saisie`` (with *typed*)."""
    if take not in ("terrain", "bureau", "saisie"):
        raise InvalidInput("Choisissez terrain, bureau ou une valeur saisie.")
    with db.write(origin="terrain", login=login) as session:
        conflict = session.scalar(select(FieldConflict).where(FieldConflict.number == number))
        if conflict is None:
            raise NotFoundError(f"Conflit n° {number} introuvable.")
        if conflict.status != "ouvert":
            raise UserError(f"Le conflit n° {number} est déjà réglé ({conflict.resolution}).")
        session.info["batch_id"] = conflict.copy_id
        entity = BY_NAME[conflict.entity]
        touched: set[tuple[str, str]] = set()
        values: dict[str, dict[str, dict[str, Any]]] = {}
        if conflict.kind == "champ":
            message = _resolve_field(session, entity, conflict, take, typed, touched, values)
        elif conflict.kind == "suppression":
            message = _resolve_deletion(session, entity, conflict, take, touched, values)
        else:
            message = _resolve_duplicate(session, entity, conflict, take, touched)
        session.flush()
        findings = refresh_touched(session, touched, values) if touched else []
        conflict.status = "résolu"
        conflict.resolution = take
        conflict.resolved_at = datetime.now(UTC)
        conflict.resolved_by = login or current_login()
    return Resolution(message, findings)


def _record(session: Session, entity: Entity, record_id: str) -> Any:
    from db.field.checkin import _key_of

    return session.get(entity.model, _key_of(entity, record_id))


def _resolve_field(session, entity, conflict, take, typed, touched, values) -> str:
    what = f"{entity.label} {conflict.reference or ''}".strip()
    label = field_label(entity, conflict.field)
    if take == "bureau":
        return f"Conflit n° {conflict.number} réglé : la valeur du bureau est gardée ({label})."
    record = _record(session, entity, conflict.record_id)
    if record is None:
        raise NotFoundError(f"{what[:1].upper()}{what[1:]} a été supprimé(e) depuis : le "
                            "conflit ne peut plus être réglé par « terrain » ou une saisie.")
    value = conflict.terrain if take == "terrain" else parse_typed(entity, conflict.field,
                                                                   typed or "")
    if conflict.field in {s.name for s in entity.sets}:
        model = Epci if conflict.field == "epcis" else Commune
        setattr(record, conflict.field, [session.get(model, code) for code in value or []])
    else:
        column = entity.table.c[conflict.field]
        setattr(record, entity.attribute(conflict.field), python(column, value))
    row = _current_values(session, entity, conflict.record_id)
    values.setdefault(entity.name, {})[conflict.record_id] = row
    touched.add((entity.name, conflict.record_id))
    kept = "la valeur du terrain" if take == "terrain" else "la valeur saisie"
    return f"Conflit n° {conflict.number} réglé : {kept} est enregistrée ({label})."


def _current_values(session: Session, entity: Entity, record_id: str) -> dict[str, Any]:
    from db.field.schema import plain

    record = _record(session, entity, record_id)
    return {c.name: plain(c, getattr(record, entity.attribute(c.name)))
            for c in entity.table.columns if record is not None}


def _resolve_deletion(session, entity, conflict, take, touched, values) -> str:
    what = f"{entity.label} {conflict.reference or ''}".strip()
    if take == "saisie":
        raise InvalidInput("Une suppression se règle en gardant le terrain ou le bureau.")
    terrain = conflict.terrain
    deleted_on_terrain = terrain is None
    if take == "bureau":
        return f"Conflit n° {conflict.number} réglé : la version du bureau est gardée."
    if deleted_on_terrain:
        record = _record(session, entity, conflict.record_id)
        if record is not None:
            parent = entity.parent
            row = _current_values(session, entity, conflict.record_id)
            delete_record(session, entity, conflict.record_id)
            if parent:
                values.setdefault(entity.name, {})[conflict.record_id] = row
                touched.add((entity.name, conflict.record_id))
        return f"Conflit n° {conflict.number} réglé : {what} est supprimé(e), comme sur le terrain."
    subtree = terrain.get("subtree", []) if isinstance(terrain, dict) else []
    order = {e.name: i for i, e in enumerate(ENTITIES)}
    restored = 0
    for name, record_id, row in sorted(subtree, key=lambda item: order[item[0]]):
        child = BY_NAME[name]
        if _record(session, child, record_id) is not None:
            continue
        missing = _missing_target(session, child, row)
        if missing:
            raise UserError(f"{what[:1].upper()}{what[1:]} ne peut pas être rétabli(e) : "
                            f"{missing}. Gardez la version du bureau, ou rétablissez d'abord "
                            "ce qu'elle désigne.")
        insert_record(session, child, record_id, row)
        session.flush()
        values.setdefault(name, {})[record_id] = row
        touched.add((name, record_id))
        restored += 1
    return (f"Conflit n° {conflict.number} réglé : {what} est rétabli(e) avec les valeurs du "
            f"terrain ({restored} fiche(s)).")


def _missing_target(session: Session, entity: Entity, row: dict[str, Any]) -> str | None:
    for column in entity.table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        for foreign in column.foreign_keys:
            target = BY_NAME.get(foreign.column.table.name)
            if target is not None and session.get(target.model, uuid.UUID(str(value))) is None:
                return f"{target.label} qu'elle désigne n'existe plus au bureau"
    return None


def _resolve_duplicate(session, entity, conflict, take, touched) -> str:
    if take == "saisie":
        raise InvalidInput("Un doublon se règle en gardant les deux fiches (terrain) ou "
                           "celle du bureau seule (bureau).")
    if take == "terrain":
        return (f"Conflit n° {conflict.number} réglé : les deux fiches sont gardées "
                f"(« {conflict.reference or ''} » n'est pas un doublon).")
    record = _record(session, entity, conflict.record_id)
    if record is not None:
        delete_record(session, entity, conflict.record_id)
    return (f"Conflit n° {conflict.number} réglé : la fiche créée sur le terrain est "
            "supprimée, celle du bureau est gardée.")
