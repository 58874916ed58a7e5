"""The fiche synthèse of a contract (one page before visiting a mayor), as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from db.database import Database
from db.documents.annex import contract_operations, envelope_total, plan_base
from db.documents.common import (
    STATE_KINDS,
    Office,
    Provenance,
    Total,
    contract_by_reference,
    office,
    seal,
    version_of,
)
from db.models import Signatory
from db.money import ZERO
from db.rules import deadlines, ratio
from db.services.operations import plan_inputs
from db.vocabulary import ContractStatus, FundingStatus, OperationStatus

DEADLINES_SHOWN = 6


@dataclass(frozen=True)
class Deadline:
    when: date
    subject: str  # the contract, or an operation's reference
    what: str


@dataclass(frozen=True)
class Contact:
    organisation: str
    person: str | None
    role: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class AxisProgress:
    label: str
    operations: int
    granted: Total
    paid: Decimal

    @property
    def paid_rate(self) -> Decimal | None:
        return ratio(self.paid, self.granted.value) if self.granted.value else None


@dataclass
class SummaryData:
    office: Office
    reference: str
    title: str
    type_label: str
    status: str
    signature_date: date | None
    end_date: date | None
    days_to_end: int | None  # from the day of edition; negative once ended
    territory: str | None
    envelope_total: Decimal | None
    envelope_state: Decimal | None
    state_committed: Total
    operations: int  # abandoned ones excluded
    abandoned: int
    cost: Total
    granted: Total
    paid: Decimal
    remaining: Total
    remainders: Decimal  # left on settled operations: to cancel, not to pay
    axes: list[AxisProgress]
    by_status: list[tuple[str, int, Total]]  # in the order of the life of an operation
    deadlines_to_come: list[Deadline]
    more_deadlines: int  # beyond those shown
    contacts: list[Contact]
    provenance: Provenance

    @property
    def state_rate(self) -> Decimal | None:
        return ratio(self.state_committed.value, self.envelope_state)


def _short(article: str) -> str:
    """"R2334-28", "décret 2018-514, art. 11": a citation that fits a table cell."""
    return article.replace("CGCT art. ", "CGCT ").replace("décret n° ", "décret ")


def _contact(signatory: Signatory) -> Contact:
    """Who signs for the organisation, else the person the office deals with there."""
    organisation = signatory.organisation
    return Contact(organisation.name, signatory.person_name or organisation.contact_name,
                   signatory.role or organisation.contact_role,
                   signatory.phone or organisation.phone, signatory.email or organisation.email)


def summary(db: Database, reference: str, today: date | None = None) -> SummaryData:
    the_office = office(db)
    today = today or date.today()
    with db.read() as session:
        contract = contract_by_reference(session, reference)
        records = [version_of(contract)]
        rows = contract_operations(session, contract)
        inputs = plan_inputs(session, [operation for operation, _ in rows])
        labels = {axis.id: (f"Axe {axis.number} — {axis.label}" if axis.number
                            else axis.label) for axis in contract.axes}
        axes: dict[str, list] = {label: [0, Total(), ZERO] for label in labels.values()}
        statuses: dict[str, list] = {}
        upcoming: list[Deadline] = []
        cost, granted, remaining, state = Total(), Total(), Total(), Total()
        remainders = ZERO
        paid = ZERO
        active = abandoned = 0
        for operation, axis_id in rows:
            records.append(version_of(operation))
            status = OperationStatus(operation.status)
            if status is OperationStatus.ABANDONED:
                abandoned += 1
                continue
            active += 1
            operation_granted, operation_remaining = Total(), Total()
            for line in operation.funding_lines:
                if line.status != FundingStatus.GRANTED.value:
                    continue
                operation_granted = operation_granted.plus(line.amount_granted)
                operation_remaining = operation_remaining.plus(
                    None if line.amount_granted is None else line.amount_granted
                    - line.paid_total)
                if line.financer and line.financer.kind in STATE_KINDS:
                    state = state.plus(line.amount_granted)
            entry = axes.setdefault(labels.get(axis_id, "Hors axe"), [0, Total(), ZERO])
            entry[0] += 1
            entry[1] = entry[1] + operation_granted
            entry[2] += operation.paid_total
            by_status = statuses.setdefault(status, [0, Total()])
            by_status[0] += 1
            by_status[1] = by_status[1] + operation_granted
            cost = cost.plus(plan_base(operation))
            granted = granted + operation_granted
            if status is OperationStatus.SETTLED:  # nothing more will be paid
                remainders += operation_remaining.value
            else:
                remaining = remaining + operation_remaining
            paid += operation.paid_total
            for limit in deadlines(inputs[operation.id]):
                if limit.start_deadline and operation.start_date is None \
                        and limit.start_deadline >= today:
                    upcoming.append(Deadline(limit.start_deadline, operation.reference,
                                             f"{limit.scheme_label} : commencement "
                                             f"(caducité, {_short(limit.start_article)})"))
                if limit.completion_deadline and operation.end_date is None \
                        and limit.completion_deadline >= today:
                    upcoming.append(Deadline(limit.completion_deadline, operation.reference,
                                             f"{limit.scheme_label} : achèvement "
                                             f"({_short(limit.completion_article)})"))
        if contract.end_date and contract.end_date >= today:
            upcoming.append(Deadline(contract.end_date, "Contrat", "fin du contrat"))
        for amendment in contract.amendments:
            if amendment.amendment_date and amendment.amendment_date >= today:
                upcoming.append(Deadline(amendment.amendment_date, "Contrat",
                                         f"avenant n° {amendment.number} : {amendment.subject}"))
        for meeting in contract.meetings:
            if meeting.meeting_date >= today:
                upcoming.append(Deadline(meeting.meeting_date, "Contrat", meeting.kind))
        upcoming.sort(key=lambda d: (d.when, d.subject != "Contrat", d.subject))
        records += [version_of(s) for s in contract.signatories]
        records += [version_of(a) for a in contract.amendments]
        records += [version_of(m) for m in contract.meetings]
        document = SummaryData(
            office=the_office, reference=contract.reference, title=contract.title,
            type_label=contract.contract_type.label,
            status=ContractStatus(contract.status).label,
            signature_date=contract.signature_date, end_date=contract.end_date,
            days_to_end=(contract.end_date - today).days if contract.end_date else None,
            territory=contract.territory, envelope_total=envelope_total(contract),
            envelope_state=contract.envelope_state, state_committed=state,
            operations=active, abandoned=abandoned, cost=cost, granted=granted, paid=paid,
            remaining=remaining, remainders=remainders,
            axes=[AxisProgress(label, *values) for label, values in axes.items()],
            by_status=[(s.label, *statuses[s]) for s in OperationStatus if s in statuses],
            deadlines_to_come=upcoming[:DEADLINES_SHOWN],
            more_deadlines=max(0, len(upcoming) - DEADLINES_SHOWN),
            contacts=[_contact(s) for s in contract.signatories],
            provenance=Provenance("synthese", contract.reference, records))
    return seal(document)
