"""Read models for the lists: SQL that filters, sorts and pages in the database.

Each function returns plain rows (dataclasses), never ORM objects, so the GUI
holds no Session and no lazy loading happens in a paint event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from db.database import Database
from db.models import (
    Arrondissement,
    Commune,
    Contract,
    ContractType,
    Departement,
    FundingLine,
    Money,
    Operation,
    OperationLink,
    Organisation,
    Payment,
    contract_commune,
    contract_epci,
    epci_member,
    operation_commune,
)
from db.services.settings import ARRONDISSEMENT, get_setting
from db.vocabulary import FundingStatus


@dataclass(frozen=True)
class ArrondissementRow:
    code: str
    name: str
    departement: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.departement}, {self.code})"


def arrondissements(db: Database) -> list[ArrondissementRow]:
    with db.read() as session:
        rows = session.execute(
            select(Arrondissement.code, Arrondissement.name, Departement.name)
            .join(Departement).order_by(Arrondissement.name)).all()
    return [ArrondissementRow(*row) for row in rows]


def current_arrondissement(db: Database) -> ArrondissementRow | None:
    code = get_setting(db, ARRONDISSEMENT)
    if code is None:
        return None
    with db.read() as session:
        row = session.execute(
            select(Arrondissement.code, Arrondissement.name, Departement.name)
            .join(Departement).where(Arrondissement.code == code)).first()
    return ArrondissementRow(*row) if row else None


# --- Scope: what belongs to an arrondissement ------------------------------------

def operation_in_arrondissement(arrondissement: str):
    """An operation is in the arrondissement through its communes or its contracts."""
    by_commune = exists(
        select(literal(1)).select_from(operation_commune)
        .join(Commune, Commune.code == operation_commune.c.commune_code)
        .where(operation_commune.c.operation_id == Operation.id,
               Commune.arrondissement_code == arrondissement))
    by_contract = exists(
        select(literal(1)).select_from(OperationLink)
        .join(Contract, Contract.id == OperationLink.contract_id)
        .where(OperationLink.operation_id == Operation.id,
               Contract.arrondissement_code == arrondissement))
    return or_(by_commune, by_contract)


def contract_in_arrondissement(arrondissement: str):
    """A contract is in the arrondissement if it says so, or through its perimeter
    (communes, EPCI members) or the communes of its operations."""
    perimeter_commune = exists(
        select(literal(1)).select_from(contract_commune)
        .join(Commune, Commune.code == contract_commune.c.commune_code)
        .where(contract_commune.c.contract_id == Contract.id,
               Commune.arrondissement_code == arrondissement))
    perimeter_epci = exists(
        select(literal(1)).select_from(contract_epci)
        .join(epci_member, epci_member.c.epci_code == contract_epci.c.epci_code)
        .join(Commune, Commune.code == epci_member.c.commune_code)
        .where(contract_epci.c.contract_id == Contract.id,
               Commune.arrondissement_code == arrondissement))
    operations = exists(
        select(literal(1)).select_from(OperationLink)
        .join(operation_commune, operation_commune.c.operation_id == OperationLink.operation_id)
        .join(Commune, Commune.code == operation_commune.c.commune_code)
        .where(OperationLink.contract_id == Contract.id,
               Commune.arrondissement_code == arrondissement))
    return or_(Contract.arrondissement_code == arrondissement, perimeter_commune,
               perimeter_epci, operations)


# --- Per-operation money, aggregated in SQL --------------------------------------

def _money_sum(column):
    return func.sum(column, type_=Money())


def _granted_by_operation():
    return (select(FundingLine.operation_id.label("operation_id"),
                   _money_sum(FundingLine.amount_granted).label("granted"))
            .where(FundingLine.status == FundingStatus.GRANTED.value)
            .group_by(FundingLine.operation_id).subquery())


def _paid_by_operation():
    return (select(FundingLine.operation_id.label("operation_id"),
                   _money_sum(Payment.amount).label("paid"))
            .join(Payment, Payment.funding_line_id == FundingLine.id)
            .group_by(FundingLine.operation_id).subquery())


def _base_cost():
    return case((Operation.base_kind == "TTC", Operation.cost_ttc), else_=Operation.cost_ht)


# --- Contracts -----------------------------------------------------------------

@dataclass(frozen=True)
class ContractRow:
    id: uuid.UUID
    reference: str
    title: str
    type_code: str
    type_label: str
    status: str
    signature_date: date | None
    end_date: date | None
    operations: int
    cost: Decimal | None
    granted: Decimal | None


def _contracts_query(arrondissement: str | None) -> Select:
    granted = _granted_by_operation()
    per_contract = (
        select(OperationLink.contract_id.label("contract_id"),
               func.count(OperationLink.operation_id).label("operations"),
               _money_sum(_base_cost()).label("cost"),
               _money_sum(granted.c.granted).label("granted"))
        .join(Operation, Operation.id == OperationLink.operation_id)
        .outerjoin(granted, granted.c.operation_id == Operation.id)
        .group_by(OperationLink.contract_id).subquery())
    query = (select(Contract.id, Contract.reference, Contract.title, ContractType.code,
                    ContractType.label, Contract.status, Contract.signature_date,
                    Contract.end_date, func.coalesce(per_contract.c.operations, 0),
                    per_contract.c.cost, per_contract.c.granted)
             .join(ContractType, ContractType.id == Contract.type_id)
             .outerjoin(per_contract, per_contract.c.contract_id == Contract.id))
    if arrondissement:
        query = query.where(contract_in_arrondissement(arrondissement))
    return query


def count_contracts(db: Database, arrondissement: str | None = None) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(
            _contracts_query(arrondissement).subquery()))


def list_contracts(db: Database, arrondissement: str | None = None, *, offset: int = 0,
                   limit: int | None = None) -> list[ContractRow]:
    query = _contracts_query(arrondissement).order_by(Contract.reference).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as session:
        return [ContractRow(*row) for row in session.execute(query)]


# --- Operations ----------------------------------------------------------------

@dataclass(frozen=True)
class OperationRow:
    id: uuid.UUID
    reference: str
    title: str
    owner: str | None
    communes: str | None
    contracts: str | None
    status: str
    cost: Decimal | None
    granted: Decimal | None
    paid: Decimal | None

    @property
    def remaining(self) -> Decimal | None:
        if self.granted is None:
            return None
        return self.granted - (self.paid or Decimal("0.00"))


def _string_agg(db: Database, column):
    """Names joined with ", " (the function differs between SQLite and PostgreSQL)."""
    if db.is_sqlite:
        return func.group_concat(column, ", ")
    return func.string_agg(column, ", ")


def _operations_query(db: Database, arrondissement: str | None) -> Select:
    granted, paid = _granted_by_operation(), _paid_by_operation()
    owner = aliased(Organisation)
    commune_names = (select(_string_agg(db, Commune.name))
                     .select_from(operation_commune)
                     .join(Commune, Commune.code == operation_commune.c.commune_code)
                     .where(operation_commune.c.operation_id == Operation.id)
                     .scalar_subquery())
    contract_refs = (select(_string_agg(db, Contract.reference))
                     .select_from(OperationLink)
                     .join(Contract, Contract.id == OperationLink.contract_id)
                     .where(OperationLink.operation_id == Operation.id)
                     .scalar_subquery())
    query = (select(Operation.id, Operation.reference, Operation.title, owner.name,
                    commune_names, contract_refs, Operation.status, _base_cost(),
                    granted.c.granted, func.coalesce(paid.c.paid, 0, type_=Money()))
             .outerjoin(owner, owner.id == Operation.owner_id)
             .outerjoin(granted, granted.c.operation_id == Operation.id)
             .outerjoin(paid, paid.c.operation_id == Operation.id))
    if arrondissement:
        query = query.where(operation_in_arrondissement(arrondissement))
    return query


def count_operations(db: Database, arrondissement: str | None = None) -> int:
    with db.read() as session:
        query = select(func.count()).select_from(Operation)
        if arrondissement:
            query = query.where(operation_in_arrondissement(arrondissement))
        return session.scalar(query)


def list_operations(db: Database, arrondissement: str | None = None, *, offset: int = 0,
                    limit: int | None = None) -> list[OperationRow]:
    query = _operations_query(db, arrondissement).order_by(Operation.reference).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as session:
        return [OperationRow(*row) for row in session.execute(query)]


def is_empty(db: Database) -> bool:
    with db.read() as session:
        return not session.scalar(select(exists(select(literal(1)).select_from(Contract)))) \
            and not session.scalar(select(exists(select(literal(1)).select_from(Operation))))

