"""Derived columns kept by the services: search documents and operation totals.

They are computed from the aggregate being saved, in the same transaction, and
never audited (they are not facts, only faster ways to find and sum them).
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.models import (
    Contract,
    ContractType,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    Signatory,
)
from db.money import ZERO
from db.search import contract_document, operation_document, organisation_document
from db.vocabulary import FundingStatus


def _names(organisation: Organisation | None) -> list[str]:
    if organisation is None:
        return []
    return [n for n in (organisation.name, organisation.acronym) if n]


def refresh_operation(session: Session, operation: Operation) -> None:
    lines = operation.funding_lines
    granted = [line.amount_granted for line in lines
               if line.status == FundingStatus.GRANTED.value]
    known = [amount for amount in granted if amount is not None]
    # Set only when different: an unchanged record stays out of the flush (a merge
    # refreshes a thousand operations and their lines at once).
    _set(operation, "granted_total", sum(known, ZERO) if known else None)
    for line in lines:
        _set(line, "paid_total", sum((p.amount for p in line.payments), ZERO))
    _set(operation, "paid_total", sum((line.paid_total for line in lines), ZERO))
    _set(operation, "search_document", _operation_document(session, operation))


def _set(record, attribute: str, value) -> None:
    if getattr(record, attribute) != value:
        setattr(record, attribute, value)


def _operation_document(session: Session, operation: Operation) -> str:
    lines = operation.funding_lines
    owner = session.get(Organisation, operation.owner_id) if operation.owner_id else None
    contracts = [session.get(Contract, link.contract_id) for link in operation.links]
    return operation_document(
        operation.reference, operation.title, _names(owner),
        [(c.code, c.name) for c in operation.communes],
        [c.reference for c in contracts if c is not None],
        [name for line in lines if line.financer_id
         for name in _names(session.get(Organisation, line.financer_id))],
        [line.scheme_code for line in lines])


def refresh_contract(session: Session, contract: Contract) -> None:
    contract.search_document = _contract_document(session, contract)


def _contract_document(session: Session, contract: Contract) -> str:
    contract_type = session.get(ContractType, contract.type_id)
    return contract_document(
        contract.reference, contract.title, contract_type.code if contract_type else None,
        contract_type.label if contract_type else None, contract.territory,
        [name for s in contract.signatories
         for name in _names(session.get(Organisation, s.organisation_id))])


def refresh_organisation(session: Session, organisation: Organisation) -> None:
    organisation.search_document = organisation_document(
        organisation.name, organisation.acronym, organisation.aliases)


# Other records that quote a renamed one are updated in place, without touching
# their version: nothing their editors show has changed, so no false conflict.

def refresh_around_organisation(session: Session, organisation_id: uuid.UUID) -> None:
    """After a rename: the documents that quote the organisation's name."""
    operations = session.scalars(select(Operation).where(or_(
        Operation.owner_id == organisation_id,
        Operation.id.in_(select(FundingLine.operation_id)
                         .where(FundingLine.financer_id == organisation_id))))).all()
    _store(session, Operation, {o.id: _operation_document(session, o) for o in operations})
    contracts = session.scalars(select(Contract).where(Contract.id.in_(
        select(Signatory.contract_id).where(Signatory.organisation_id == organisation_id))))
    _store(session, Contract, {c.id: _contract_document(session, c) for c in contracts})


def refresh_around_contract(session: Session, contract_id: uuid.UUID) -> None:
    """After a change of reference: the operations that quote it."""
    operations = session.scalars(select(Operation).where(Operation.id.in_(
        select(OperationLink.operation_id).where(OperationLink.contract_id == contract_id))))
    _store(session, Operation, {o.id: _operation_document(session, o) for o in operations})


def _store(session: Session, model, documents: dict) -> None:
    table = model.__table__
    for record_id, text in documents.items():
        session.execute(update(table).where(table.c.id == record_id)
                        .values(search_document=text))
    for record in session.identity_map.values():
        if isinstance(record, model) and record.id in documents:
            session.expire(record, ["search_document"])
