"""What a field copy carries and how its records are compared.

Each *entity* is a table of records the agents edit; a record's *values* are its
columns as stored (money in cents, ISO dates, ids as text), minus bookkeeping and
derived caches, plus its many-to-many sets (communes, EPCI) as sorted lists. The three
sides of a merge (base, terrain, bureau) are compared on these values only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    String,
    Table,
    Uuid,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    Amendment,
    Axis,
    Base,
    Contract,
    ContractType,
    ExpenseItem,
    FundingLine,
    Money,
    Operation,
    OperationLink,
    Organisation,
    Payment,
    Signatory,
    SteeringMeeting,
    contract_commune,
    contract_epci,
    operation_commune,
)
from db.money import from_cents, to_cents

# Bookkeeping and derived caches: recomputed by the services, never merged.
NOT_MERGED = {"version", "created_at", "created_by", "updated_at", "updated_by",
              "search_document", "granted_total_cents", "paid_total_cents", "sort_name"}


@dataclass(frozen=True)
class SetField:
    """A many-to-many collection of a record, merged element by element."""

    name: str
    table: Table
    owner_column: str
    code_column: str


@dataclass(frozen=True)
class Entity:
    name: str  # the table, as the audit trail names it
    model: type[Base]
    label: str  # « l'opération », for messages
    parent: tuple[str, str] | None = None  # (parent entity, column holding its id)
    reference: str | None = None  # the column that names the record for a person
    sets: tuple[SetField, ...] = field(default_factory=tuple)

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[attr-defined]

    @property
    def key_columns(self) -> list[Column]:
        return list(self.table.primary_key.columns)

    @property
    def columns(self) -> list[Column]:
        """The merged columns (the key excluded)."""
        return [c for c in self.table.columns
                if not c.primary_key and c.name not in NOT_MERGED]

    def fields(self) -> list[str]:
        return [c.name for c in self.columns] + [s.name for s in self.sets]

    def record_id(self, row: Any) -> str:
        """The id the audit trail gives the record (``a/b`` for a two-column key)."""
        return "/".join(str(row[c.name]) for c in self.key_columns)

    def column(self, name: str) -> Column:
        return self.table.c[name]

    def attribute(self, name: str) -> str:
        """The model attribute of a column (``cost_ht`` for ``cost_ht_cents``)."""
        from sqlalchemy import inspect

        return inspect(self.model).get_property_by_column(self.table.c[name]).key


# Parents before children: inserts go in this order, deletions in the reverse.
ENTITIES: tuple[Entity, ...] = (
    Entity("organisation", Organisation, "l'organisation", reference="name"),
    Entity("contract_type", ContractType, "le type de contrat", reference="code"),
    Entity("contract", Contract, "le contrat", reference="reference", sets=(
        SetField("communes", contract_commune, "contract_id", "commune_code"),
        SetField("epcis", contract_epci, "contract_id", "epci_code"))),
    Entity("axis", Axis, "l'axe", parent=("contract", "contract_id"), reference="label"),
    Entity("signatory", Signatory, "le signataire", parent=("contract", "contract_id")),
    Entity("amendment", Amendment, "l'avenant", parent=("contract", "contract_id")),
    Entity("steering_meeting", SteeringMeeting, "le comité",
           parent=("contract", "contract_id")),
    Entity("operation", Operation, "l'opération", reference="reference", sets=(
        SetField("communes", operation_commune, "operation_id", "commune_code"),)),
    Entity("operation_contract", OperationLink, "le rattachement au contrat",
           parent=("operation", "operation_id")),
    Entity("expense_item", ExpenseItem, "le poste de dépense",
           parent=("operation", "operation_id"), reference="label"),
    Entity("funding_line", FundingLine, "la ligne de financement",
           parent=("operation", "operation_id")),
    Entity("payment", Payment, "le versement", parent=("funding_line", "funding_line_id")),
)
BY_NAME = {entity.name: entity for entity in ENTITIES}
# What each entity's records are called (singular, plural), for counts.
NOUNS = {"organisation": ("organisation", "organisations"),
         "contract_type": ("type de contrat", "types de contrat"),
         "contract": ("contrat", "contrats"), "axis": ("axe", "axes"),
         "signatory": ("signataire", "signataires"), "amendment": ("avenant", "avenants"),
         "steering_meeting": ("comité", "comités"), "operation": ("opération", "opérations"),
         "operation_contract": ("rattachement à un contrat", "rattachements à un contrat"),
         "expense_item": ("poste de dépense", "postes de dépense"),
         "funding_line": ("ligne de financement", "lignes de financement"),
         "payment": ("versement", "versements"),
         # Not merged entities: they travel beside the records (db.field.pieces).
         "attachment": ("pièce jointe", "pièces jointes"), "act": ("acte", "actes")}


def counted(counts: dict[str, int]) -> str:
    """``2 opérations, 1 versement``, or ``rien``."""
    parts = [f"{n} {NOUNS[name][0 if n == 1 else 1]}" for name, n in counts.items() if n]
    return ", ".join(parts) or "rien"

# A record with these values is the same as another: its reference is unique.
UNIQUE_REFERENCES = {"operation": "reference", "contract": "reference",
                     "contract_type": "code"}


def plain(column: Column, value: Any) -> Any:
    """A column's value as the merge compares it (and as JSON stores it)."""
    if value is None:
        return None
    if isinstance(column.type, Money):
        return to_cents(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def python(column: Column, value: Any) -> Any:
    """The model attribute's value for a plain value."""
    if value is None:
        return None
    if isinstance(column.type, Money):
        return from_cents(value)
    if isinstance(column.type, Uuid):
        return uuid.UUID(str(value))
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


Records = dict[str, dict[str, dict[str, Any]]]  # entity -> record id -> values


def _dashed(text: str) -> str:
    """A UUID as SQLite stores it (32 hex digits) in its usual written form."""
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _reader(column: Column, dialect: str) -> tuple[ColumnElement[Any], Any]:
    """What to select for a column and how to make its plain value of what comes back.

    The stored form is read as is wherever it already is the plain one (cents, ISO
    dates on SQLite): going through the column types (cents → Decimal → cents) cost
    most of the time of reading a copy's records."""
    kind = column.type
    if isinstance(kind, Money):
        return type_coerce(column, BigInteger), None
    if isinstance(kind, Uuid):
        if dialect == "sqlite":
            return type_coerce(column, String), _dashed
        return column, str
    if isinstance(kind, Date) and not isinstance(kind, DateTime):
        if dialect == "sqlite":
            return type_coerce(column, String), None
        return column, date.isoformat
    if isinstance(kind, DateTime):
        return column, datetime.isoformat
    if isinstance(kind, Boolean):
        return column, None
    return column, None


def read_records(connection: Connection, wanted: dict[str, ColumnElement[bool] | None]
                 ) -> Records:
    """The values of the records of each entity that match its condition (None: all),
    each as :func:`plain` gives it."""
    records: Records = {}
    dialect = connection.dialect.name
    for entity in ENTITIES:
        if entity.name not in wanted:
            continue
        condition = wanted[entity.name]
        merged = [c for c in entity.table.columns if c.name not in NOT_MERGED]
        readers = [_reader(c, dialect) for c in merged]
        query = select(*(expression for expression, _ in readers))
        if condition is not None:
            query = query.where(condition)
        names = [c.name for c in merged]
        converted = [(index, convert) for index, (_, convert) in enumerate(readers)
                     if convert is not None]
        keys = [names.index(c.name) for c in entity.key_columns]
        rows: dict[str, dict[str, Any]] = {}
        for row in connection.execute(query):
            row = list(row)
            for index, convert in converted:
                if row[index] is not None:
                    row[index] = convert(row[index])
            record_id = (str(row[keys[0]]) if len(keys) == 1
                         else "/".join(str(row[k]) for k in keys))
            rows[record_id] = dict(zip(names, row, strict=True))
        for set_field in entity.sets:
            for values in rows.values():
                values[set_field.name] = []
            owner_column = set_field.table.c[set_field.owner_column]
            owner, convert = _reader(owner_column, dialect)
            code = set_field.table.c[set_field.code_column]
            members = select(owner, code)
            if condition is not None:
                members = members.where(owner_column.in_(
                    select(entity.key_columns[0]).where(condition)))
            for owner_id, member in connection.execute(members):
                values = rows.get(convert(owner_id) if convert else str(owner_id))
                if values is not None:
                    values[set_field.name].append(member)
            for values in rows.values():
                values[set_field.name].sort()
        records[entity.name] = rows
    return records


def parent_of(entity: Entity, values: dict[str, Any]) -> tuple[str, str] | None:
    if entity.parent is None:
        return None
    parent_entity, column = entity.parent
    value = values.get(column)
    return (parent_entity, str(value)) if value is not None else None


def count(records: Records) -> dict[str, int]:
    return {name: len(rows) for name, rows in records.items()}


def iter_records(records: Records) -> Iterable[tuple[Entity, str, dict[str, Any]]]:
    for entity in ENTITIES:
        for record_id, values in records.get(entity.name, {}).items():
            yield entity, record_id, values
