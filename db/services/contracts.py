"""Contracts with their axes, signatories, amendments and steering meetings.

A contract and its children form one aggregate: the editor saves it whole, in
one transaction, and the contract's version moves whenever a child changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.database import Database
from db.errors import DeleteRefused, InvalidInput, RuleViolation
from db.models import (
    Amendment,
    Axis,
    Contract,
    ContractType,
    OperationLink,
    Organisation,
    Signatory,
    SteeringMeeting,
)
from db.rules import ContractInput, blocking, evaluate_contract
from db.services import caches
from db.services.common import (
    SaveResult,
    check_version,
    communes,
    email_address,
    epcis,
    get,
    money,
    optional_text,
    phone_number,
    record_to_save,
    required_text,
    set_if_changed,
    sync_children,
    transaction,
)
from db.vocabulary import COMMITTED_CONTRACT_STATUSES, ContractStatus


@dataclass
class AxisData:
    label: str
    number: str | None = None
    id: uuid.UUID | None = None


@dataclass
class SignatoryData:
    organisation_id: uuid.UUID
    role: str | None = None
    signing_date: date | None = None
    id: uuid.UUID | None = None
    person_name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class AmendmentData:
    number: int
    subject: str
    amendment_date: date | None = None
    envelope_change: Decimal | None = None
    id: uuid.UUID | None = None


@dataclass
class MeetingData:
    meeting_date: date
    kind: str = "comité de pilotage"
    decisions: str | None = None
    id: uuid.UUID | None = None


@dataclass
class ContractData:
    reference: str
    title: str
    type_code: str | None  # None: not chosen yet (a new contract), refused when saved
    status: ContractStatus = ContractStatus.PREPARATION
    signature_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    arrondissement_code: str | None = None
    territory: str | None = None
    envelope_total: Decimal | None = None
    envelope_state: Decimal | None = None
    notes: str | None = None
    origin: str = "saisie"
    source: str | None = None
    commune_codes: list[str] = field(default_factory=list)
    epci_codes: list[str] = field(default_factory=list)
    axes: list[AxisData] = field(default_factory=list)
    signatories: list[SignatoryData] = field(default_factory=list)
    amendments: list[AmendmentData] = field(default_factory=list)
    meetings: list[MeetingData] = field(default_factory=list)
    id: uuid.UUID | None = None
    version: int | None = None


def contract_rules_input(data: ContractData) -> ContractInput:
    return ContractInput(
        signature_date=data.signature_date, start_date=data.start_date, end_date=data.end_date,
        envelope_total=data.envelope_total, envelope_state=data.envelope_state,
        signed=data.status in COMMITTED_CONTRACT_STATUSES,
        signatory_dates=tuple(s.signing_date for s in data.signatories),
        amendment_dates=tuple(a.amendment_date for a in data.amendments))


def _validate(session: Session, data: ContractData) -> ContractType:
    data.reference = required_text(data.reference, "Référence du contrat", 80)
    data.title = required_text(data.title, "Intitulé du contrat", 500)
    try:
        data.status = ContractStatus(data.status)
    except ValueError as exc:
        raise InvalidInput(f"Statut du contrat inconnu : {data.status}.") from exc
    data.envelope_total = money(data.envelope_total, "Enveloppe totale")
    data.envelope_state = money(data.envelope_state, "Part de l'État")
    data.type_code = required_text(data.type_code, "Type du contrat", 40)
    contract_type = session.scalar(select(ContractType).where(ContractType.code == data.type_code))
    if contract_type is None:
        raise InvalidInput(f"Type de contrat inconnu : {data.type_code}.")
    clash = session.scalar(select(Contract).where(Contract.reference == data.reference,
                                                  Contract.id != data.id))
    if clash is not None:
        raise InvalidInput(f"Référence du contrat : « {data.reference} » est déjà utilisée par "
                           f"le contrat « {clash.title} ».")
    for index, axis in enumerate(data.axes, start=1):
        axis.label = required_text(axis.label, f"Axe {index} : intitulé", 500)
    for index, amendment in enumerate(data.amendments, start=1):
        amendment.subject = required_text(amendment.subject, f"Avenant {index} : objet", 10_000)
        amendment.envelope_change = money(amendment.envelope_change,
                                          f"Avenant {index} : variation de l'enveloppe")
    for index, signatory in enumerate(data.signatories, start=1):
        if session.get(Organisation, signatory.organisation_id) is None:
            raise InvalidInput(f"Signataire {index} : organisation inconnue.")
        signatory.person_name = optional_text(signatory.person_name,
                                              f"Signataire {index} : nom", 200)
        signatory.phone = phone_number(signatory.phone, f"Signataire {index} : téléphone")
        signatory.email = email_address(signatory.email, f"Signataire {index} : courriel")
    return contract_type


def _apply(session: Session, contract: Contract, data: ContractData,
           contract_type: ContractType) -> None:
    set_if_changed(
        contract, reference=data.reference, title=data.title, type_id=contract_type.id,
        status=data.status.value, signature_date=data.signature_date,
        start_date=data.start_date, end_date=data.end_date,
        arrondissement_code=data.arrondissement_code, territory=optional_text(data.territory),
        envelope_total=data.envelope_total, envelope_state=data.envelope_state,
        notes=optional_text(data.notes), origin=data.origin, source=optional_text(data.source))
    wanted_communes = communes(session, data.commune_codes, "Périmètre du contrat")
    if [c.code for c in contract.communes] != [c.code for c in wanted_communes]:
        contract.communes = wanted_communes
    wanted_epcis = epcis(session, data.epci_codes, "Périmètre du contrat")
    if [e.code for e in contract.epcis] != [e.code for e in wanted_epcis]:
        contract.epcis = wanted_epcis

    def axis_in_use(axis: Axis) -> None:
        used = session.scalar(select(func.count()).select_from(OperationLink)
                              .where(OperationLink.axis_id == axis.id))
        if used:
            raise DeleteRefused(f"L'axe « {axis.label} » ne peut pas être supprimé : {used} "
                                "opération(s) y sont rattachées. Changez-les d'axe d'abord.")

    axes = sync_children(
        contract.axes, data.axes,
        make=lambda d: Axis(label=d.label, number=optional_text(d.number)),
        update=lambda a, d: set_if_changed(a, label=d.label, number=optional_text(d.number)),
        before_delete=axis_in_use)
    for position, axis in enumerate(axes):
        set_if_changed(axis, position=position)
    contract.axes = axes

    signatories = sync_children(
        contract.signatories, data.signatories,
        make=lambda d: Signatory(organisation_id=d.organisation_id, role=optional_text(d.role),
                                 signing_date=d.signing_date, person_name=d.person_name,
                                 phone=d.phone, email=d.email),
        update=lambda s, d: set_if_changed(s, organisation_id=d.organisation_id,
                                           role=optional_text(d.role),
                                           signing_date=d.signing_date,
                                           person_name=d.person_name, phone=d.phone,
                                           email=d.email))
    for position, signatory in enumerate(signatories):
        set_if_changed(signatory, position=position)
    contract.signatories = signatories
    contract.amendments = sync_children(
        contract.amendments, data.amendments,
        make=lambda d: Amendment(number=d.number, subject=d.subject,
                                 amendment_date=d.amendment_date,
                                 envelope_change=d.envelope_change),
        update=lambda a, d: set_if_changed(a, number=d.number, subject=d.subject,
                                           amendment_date=d.amendment_date,
                                           envelope_change=d.envelope_change))
    contract.meetings = sync_children(
        contract.meetings, data.meetings,
        make=lambda d: SteeringMeeting(meeting_date=d.meeting_date, kind=d.kind,
                                       decisions=optional_text(d.decisions)),
        update=lambda m, d: set_if_changed(m, meeting_date=d.meeting_date, kind=d.kind,
                                           decisions=optional_text(d.decisions)))


def save_contract(db: Database, data: ContractData) -> SaveResult:
    """Create (``data.id`` is None) or update a contract and its children, checked by
    the rules, in one transaction."""
    with transaction(db, f"du contrat « {data.reference} »") as session:
        return save_contract_in(session, data)


def save_contract_in(session: Session, data: ContractData) -> SaveResult:
    """:func:`save_contract` inside a transaction the caller holds."""
    contract_type = _validate(session, data)
    findings = evaluate_contract(contract_rules_input(data))
    refused = blocking(findings, data.status in COMMITTED_CONTRACT_STATUSES)
    if refused:
        raise RuleViolation(refused)
    contract = record_to_save(session, Contract, data, f"du contrat « {data.reference} »")
    renamed = data.id is not None and contract.reference != data.reference
    _apply(session, contract, data, contract_type)
    caches.refresh_contract(session, contract)
    session.flush()
    if renamed:
        caches.refresh_around_contract(session, contract.id)
        session.flush()
    return SaveResult(contract.id, contract.version, findings)


def delete_contract(db: Database, contract_id: uuid.UUID, version: int) -> None:
    with transaction(db, "du contrat") as session:
        contract = get(session, Contract, contract_id, "Contrat")
        check_version(contract, version, f"du contrat « {contract.reference} »")
        linked = session.scalar(select(func.count()).select_from(OperationLink)
                                .where(OperationLink.contract_id == contract_id))
        if linked:
            raise DeleteRefused(
                f"Le contrat « {contract.reference} » ne peut pas être supprimé : {linked} "
                "opération(s) y sont rattachées. Détachez-les ou supprimez-les d'abord.")
        session.delete(contract)
