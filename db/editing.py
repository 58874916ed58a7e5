"""What the editors read: a record as plain data, and the choices they offer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from db.database import Database
from db.models import (
    Axis,
    Commune,
    Contract,
    ContractType,
    Departement,
    Epci,
    FundingLine,
    FundingScheme,
    Operation,
    OperationLink,
    Organisation,
)
from db.money import ZERO
from db.services.contracts import (
    AmendmentData,
    AxisData,
    ContractData,
    MeetingData,
    SignatoryData,
)
from db.services.operations import (
    OperationData,  # noqa: F401  (re-exported for editors)
    PlanContext,
    load_operation_data,
    plan_context_for,
)
from db.services.organisations import OrganisationData
from db.totals import Total
from db.vocabulary import ContractStatus, FundingStatus


@dataclass
class Choices:
    organisations: list[tuple[uuid.UUID, str, str]]  # id, name, kind
    schemes: list[tuple[str, str, str]]  # code, name shown, full label
    contracts: list[tuple[uuid.UUID, str, str]]  # id, reference, title
    axes: dict[uuid.UUID, list[tuple[uuid.UUID, str]]]  # contract -> (axis id, label)
    communes: list[tuple[str, str]]  # code, "Name (59)"
    epcis: list[tuple[str, str]]
    contract_types: list[tuple[str, str, int | None]]  # code, label, duration
    context: PlanContext = field(repr=False, default=None)


def choices(db: Database) -> Choices:
    with db.read() as session:
        organisations = [tuple(r) for r in session.execute(
            select(Organisation.id, Organisation.name, Organisation.kind)
            .order_by(Organisation.name))]
        schemes = {s.code: s for s in session.scalars(select(FundingScheme))}
        contracts = [tuple(r) for r in session.execute(
            select(Contract.id, Contract.reference, Contract.title).order_by(Contract.reference))]
        axes: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
        for contract_id, axis_id, number, label in session.execute(
                select(Axis.contract_id, Axis.id, Axis.number, Axis.label)
                .order_by(Axis.contract_id, Axis.position)):
            axes.setdefault(contract_id, []).append(
                (axis_id, f"{number}. {label}" if number else label))
        communes = [(code, f"{name} ({dep})") for code, name, dep in session.execute(
            select(Commune.code, Commune.name, Commune.departement_code)
            .order_by(Commune.name))]
        epcis = [tuple(r) for r in session.execute(select(Epci.code, Epci.name)
                                                   .order_by(Epci.name))]
        types = [tuple(r) for r in session.execute(
            select(ContractType.code, ContractType.label, ContractType.default_duration_years)
            .order_by(ContractType.label))]
        context = plan_context_for(session, None)
        session.expunge_all()
    return Choices(organisations, sorted(((c, s.short_label or s.label, s.label)
                                          for c, s in schemes.items()),
                                         key=lambda item: item[1].lower()),
                   contracts, axes, communes, epcis, types, context)


def operation_for_edit(db: Database, operation_id: uuid.UUID) -> OperationData:
    with db.read() as session:
        operation = session.get(Operation, operation_id)
        if operation is None:
            from db.errors import NotFoundError
            raise NotFoundError("Opération introuvable : elle a peut-être été supprimée.")
        return load_operation_data(session, operation)


def organisation_for_edit(db: Database, organisation_id: uuid.UUID) -> OrganisationData:
    from db.errors import NotFoundError
    from db.vocabulary import OrganisationKind

    with db.read() as session:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFoundError("Organisation introuvable : elle a peut-être été supprimée.")
        return OrganisationData(
            name=organisation.name, kind=OrganisationKind(organisation.kind),
            acronym=organisation.acronym, siren=organisation.siren,
            commune_code=organisation.commune_code, epci_code=organisation.epci_code,
            departement_code=organisation.departement_code,
            region_code=organisation.region_code, aliases=organisation.aliases,
            notes=organisation.notes, contact_name=organisation.contact_name,
            contact_role=organisation.contact_role, phone=organisation.phone,
            email=organisation.email, id=organisation.id, version=organisation.version)


def contract_for_edit(db: Database, contract_id: uuid.UUID) -> ContractData:
    with db.read() as session:
        contract = session.get(Contract, contract_id)
        if contract is None:
            from db.errors import NotFoundError
            raise NotFoundError("Contrat introuvable : il a peut-être été supprimé.")
        return ContractData(
            id=contract.id, version=contract.version, reference=contract.reference,
            title=contract.title, type_code=contract.contract_type.code,
            status=ContractStatus(contract.status), signature_date=contract.signature_date,
            start_date=contract.start_date, end_date=contract.end_date,
            arrondissement_code=contract.arrondissement_code, territory=contract.territory,
            envelope_total=contract.envelope_total, envelope_state=contract.envelope_state,
            notes=contract.notes, origin=contract.origin, source=contract.source,
            commune_codes=[c.code for c in contract.communes],
            epci_codes=[e.code for e in contract.epcis],
            axes=[AxisData(a.label, a.number, a.id) for a in contract.axes],
            signatories=[SignatoryData(s.organisation_id, s.role, s.signing_date, s.id,
                                       s.person_name, s.phone, s.email)
                         for s in contract.signatories],
            amendments=[AmendmentData(a.number, a.subject, a.amendment_date, a.envelope_change,
                                      a.id) for a in contract.amendments],
            meetings=[MeetingData(m.meeting_date, m.kind, m.decisions, m.id)
                      for m in contract.meetings])


@dataclass(frozen=True)
class ContractSummary:
    """The contract's operations with totals by axis and by financer; a total over
    unknown amounts (Total) keeps their number, it never counts them as 0."""

    operations: list[dict]
    by_axis: list[tuple[str, int, Total, Total]]  # axis, count, cost, granted
    by_financer: list[tuple[str, Total, Decimal]]  # financer, granted, paid


def contract_summary(db: Database, contract_id: uuid.UUID) -> ContractSummary:
    from db.lists import OPERATIONS, Criteria

    operations = OPERATIONS.page(db, Criteria(contract=contract_id), limit=None)
    with db.read() as session:
        links = dict(session.execute(
            select(OperationLink.operation_id, OperationLink.axis_id)
            .where(OperationLink.contract_id == contract_id)).all())
        axes = session.execute(select(Axis.id, Axis.label, Axis.number)
                               .where(Axis.contract_id == contract_id)
                               .order_by(Axis.position)).all()
        lines = session.execute(
            select(Organisation.name, FundingLine.amount_granted, FundingLine.paid_total,
                   FundingLine.status, FundingLine.operation_id)
            .outerjoin(Organisation, Organisation.id == FundingLine.financer_id)
            .where(FundingLine.operation_id.in_(list(links)))).all()
    labels = {axis_id: f"{number}. {label}" if number else label
              for axis_id, label, number in axes}
    granted_by_operation: dict[uuid.UUID, Total] = {}
    by_financer: dict[str, list] = {}
    for name, granted, paid, status, operation_id in lines:
        entry = by_financer.setdefault(name or "Financeur non précisé", [Total(), ZERO])
        if status == FundingStatus.GRANTED.value:
            entry[0] = entry[0].plus(granted)
            granted_by_operation[operation_id] = granted_by_operation.get(
                operation_id, Total()).plus(granted)
        entry[1] += paid or ZERO
    by_axis: dict[str, list] = {label: [0, Total(), Total()] for label in labels.values()}
    for row in operations:
        axis = labels.get(links.get(row["id"]), "Sans axe")
        entry = by_axis.setdefault(axis, [0, Total(), Total()])
        entry[0] += 1
        entry[1] = entry[1].plus(row["cost"])
        entry[2] = entry[2] + granted_by_operation.get(row["id"], Total())
    return ContractSummary(
        operations,
        [(axis, *values) for axis, values in by_axis.items() if values[0]],
        sorted(((name, *values) for name, values in by_financer.items()),
               key=lambda item: (-item[1].value, item[0])))


def departement_names(db: Database) -> dict[str, str]:
    with db.read() as session:
        return dict(session.execute(select(Departement.code, Departement.name)).all())


def find_by_reference(db: Database, kind: str, reference: str) -> uuid.UUID | None:
    model = {"operation": Operation, "contract": Contract}[kind]
    with db.read() as session:
        return session.scalar(select(model.id).where(model.reference == reference))
