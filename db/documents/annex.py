"""The annexe financière of a contract, as plain data.

One meaning per figure: the financer columns are the amounts **granted**; what is
still requested and undecided is one column of its own ("en attente"); the owner's
share is the balance of the plan (cost − granted − pending), as on the plan de
financement. Refused lines bring nothing, abandoned operations are listed apart and
counted nowhere, an unknown amount is "non communiqué" and every total says how
many it lacks. The table by financer adds up the same lines, so its totals are the
totals of the operations table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from db.database import Database
from db.documents.common import (
    STATE_KINDS,
    Office,
    Provenance,
    Total,
    add_up,
    commune_list,
    contract_by_reference,
    office,
    scheme_labels,
    seal,
    sum_totals,
    version_of,
)
from db.errors import NotFoundError
from db.models import Contract, FundingLine, Operation, OperationLink
from db.money import ZERO
from db.rules import ratio
from db.text import with_article
from db.vocabulary import (
    BaseKind,
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
)

# Columns of the annexe financière: financers grouped as the conventions present them.
FINANCER_GROUPS = [
    ("État", STATE_KINDS),
    ("Région", {OrganisationKind.REGION.value}),
    ("Département", {OrganisationKind.DEPARTEMENT.value}),
    ("Union européenne", {OrganisationKind.EU.value}),
    ("Autres", None),
]
GROUPS = [label for label, _ in FINANCER_GROUPS]
NO_FINANCER = "Financeur non précisé"


@dataclass(frozen=True)
class Signature:
    organisation: str
    role: str | None
    person: str | None
    phone: str | None = None
    email: str | None = None

    @property
    def heading(self) -> list[str]:
        """"Pour l'État", the role, the person: as a signature block reads."""
        lines = []
        if self.role and self.role.lower().startswith("pour"):
            lines.append(self.role)
        else:
            lines.append(f"Pour {with_article(self.organisation)}")
            if self.role:
                lines.append(self.role[:1].upper() + self.role[1:])
        if self.person:
            lines.append(self.person)
        return lines


@dataclass(frozen=True)
class AnnexLine:
    reference: str
    title: str
    owner: str
    communes: str
    status: str
    cost: Decimal | None
    granted: dict[str, Total]  # by financer group
    pending: Total  # requested, not decided yet (all financers)
    own_share: Decimal | None  # None when the cost or an amount is unknown

    @property
    def over_funded(self) -> bool:
        return self.own_share is not None and self.own_share < 0


@dataclass(frozen=True)
class AnnexAxis:
    label: str
    lines: list[AnnexLine]
    cost: Total
    granted: dict[str, Total]
    pending: Total
    own_share: Total  # over the lines whose share is known and not negative
    over_funded: int  # lines funded beyond their cost: flagged, not in own_share


@dataclass(frozen=True)
class FinancerRow:
    name: str
    granted: Total
    pending: Total
    share: Decimal | None  # of everything granted


@dataclass(frozen=True)
class StateCommitment:
    scheme: str  # the dispositif's name
    committed: Total  # granted
    paid: Decimal
    remaining: Total


@dataclass(frozen=True)
class StateYear:
    year: str
    by_scheme: list[StateCommitment]
    committed: Total
    paid: Decimal
    remaining: Total


@dataclass
class AnnexData:
    office: Office
    reference: str
    title: str
    document: str  # "Annexe financière" or "Annexe financière de l'avenant n° 2"
    type_label: str
    status: str
    signature_date: date | None
    start_date: date | None
    end_date: date | None
    envelope_total: Decimal | None  # amendments included
    amendments_change: Decimal | None
    envelope_state: Decimal | None
    state_committed: Total
    signing_date: date | None  # printed in the signature blocks only when recorded
    amendment_subject: str | None  # the avenant the annex goes with
    envelope_before: Decimal | None  # the envelope before that avenant
    undated_reason: str | None  # why a recorded date is not printed
    signatories: list[Signature]
    groups: list[str]  # the financer columns shown
    axes: list[AnnexAxis]
    cost: Total
    granted: dict[str, Total]
    pending: Total
    own_share: Total
    over_funded: int
    unknown_costs: int
    by_financer: list[FinancerRow]
    state_schemes: list[str]
    state_by_year: list[StateYear]
    abandoned: list[tuple[str, str]]  # reference, title: listed apart, counted nowhere
    provenance: Provenance

    @property
    def granted_total(self) -> Total:
        return sum_totals(self.granted.values())

    @property
    def state_rate(self) -> Decimal | None:
        return ratio(self.state_committed.value, self.envelope_state)


def group_of(kind: str | None) -> str:
    for label, kinds in FINANCER_GROUPS:
        if kinds is None or kind in kinds:
            return label
    return "Autres"


def plan_base(operation: Operation) -> Decimal | None:
    return operation.cost_ttc if operation.base_kind == BaseKind.TTC.value \
        else operation.cost_ht


def contract_operations(session: Session, contract: Contract) -> list[tuple[Operation, Any]]:
    # Everything the documents read, loaded in a few queries (not one per operation).
    return list(session.execute(
        select(Operation, OperationLink.axis_id)
        .join(OperationLink, OperationLink.operation_id == Operation.id)
        .where(OperationLink.contract_id == contract.id).order_by(Operation.reference)
        .options(selectinload(Operation.owner), selectinload(Operation.communes),
                 selectinload(Operation.funding_lines).selectinload(FundingLine.financer),
                 selectinload(Operation.funding_lines).selectinload(FundingLine.payments))))


def amendments_change(contract: Contract) -> Decimal | None:
    """What the avenants added to (or took from) the envelope, when they say."""
    changes = [a.envelope_change for a in contract.amendments if a.envelope_change is not None]
    return sum(changes, ZERO) if changes else None


def envelope_total(contract: Contract) -> Decimal | None:
    """The envelope as signed, avenants included."""
    if contract.envelope_total is None:
        return None
    return contract.envelope_total + (amendments_change(contract) or ZERO)


def signatures(contract: Contract) -> list[Signature]:
    result = []
    for signatory in contract.signatories:
        organisation = signatory.organisation
        result.append(Signature(
            organisation.name, signatory.role,
            signatory.person_name or None,
            signatory.phone or organisation.phone, signatory.email or organisation.email))
    return result


def _line(operation: Operation) -> AnnexLine:
    granted = dict.fromkeys(GROUPS, Total())
    pending = Total()
    for line in operation.funding_lines:
        group = group_of(line.financer.kind if line.financer else None)
        if line.status == FundingStatus.GRANTED.value:
            granted[group] = granted[group].plus(line.amount_granted)
        elif line.status == FundingStatus.REQUESTED.value:
            pending = pending.plus(line.amount_requested)
    cost = plan_base(operation)
    funded = sum_totals(granted.values()) + pending
    share = None if cost is None or not funded.known else cost - funded.value
    return AnnexLine(operation.reference, operation.title,
                     operation.owner.name if operation.owner else "",
                     commune_list([c.name for c in operation.communes]),
                     OperationStatus(operation.status).label, cost, granted, pending, share)


def _axis(label: str, lines: list[AnnexLine]) -> AnnexAxis:
    shares = [line.own_share for line in lines if not line.over_funded]
    return AnnexAxis(
        label, lines, add_up(line.cost for line in lines),
        {g: sum_totals(line.granted[g] for line in lines) for g in GROUPS},
        sum_totals(line.pending for line in lines), add_up(shares),
        sum(1 for line in lines if line.over_funded))


def annex(db: Database, reference: str, amendment: int | None = None) -> AnnexData:
    """The annexe financière of the contract *reference*; for the avenant number
    *amendment* when given (its date then dates the signature blocks)."""
    the_office = office(db)
    with db.read() as session:
        contract = contract_by_reference(session, reference)
        labels = scheme_labels(session)
        records = [version_of(contract)]
        document, signing_date = "Annexe financière", None
        amendment_subject = envelope_before = None
        latest_decision: date | None = None
        if amendment is not None:
            found = next((a for a in contract.amendments if a.number == amendment), None)
            if found is None:
                raise NotFoundError(f"Avenant n° {amendment} introuvable pour le contrat "
                                    f"« {reference} ».")
            document = f"Annexe financière de l'avenant n° {amendment}"
            signing_date = found.amendment_date
            amendment_subject = found.subject
            before = [a.envelope_change for a in contract.amendments
                      if a.number < amendment and a.envelope_change is not None]
            envelope_before = (None if contract.envelope_total is None
                               else contract.envelope_total + sum(before, ZERO))
        axes_by_id = {axis.id: axis for axis in contract.axes}
        per_axis: dict[Any, list[AnnexLine]] = {axis.id: [] for axis in contract.axes}
        per_axis[None] = []
        financers: dict[str, list[Total]] = {}
        state_years: dict[str, dict[str, Any]] = {}
        abandoned = []
        for operation, axis_id in contract_operations(session, contract):
            records.append(version_of(operation))
            records += [version_of(line) for line in operation.funding_lines]
            if operation.status == OperationStatus.ABANDONED.value:
                abandoned.append((operation.reference, operation.title))
                continue
            per_axis[axis_id if axis_id in axes_by_id else None].append(_line(operation))
            for line in operation.funding_lines:
                if line.decision_date and (latest_decision is None
                                           or line.decision_date > latest_decision):
                    latest_decision = line.decision_date
                name = line.financer.name if line.financer else NO_FINANCER
                entry = financers.setdefault(name, [Total(), Total()])
                if line.status == FundingStatus.GRANTED.value:
                    entry[0] = entry[0].plus(line.amount_granted)
                elif line.status == FundingStatus.REQUESTED.value:
                    entry[1] = entry[1].plus(line.amount_requested)
                kind = line.financer.kind if line.financer else None
                if kind in STATE_KINDS and line.status == FundingStatus.GRANTED.value:
                    records += [version_of(payment) for payment in line.payments]
                    year = str(line.budget_year or (line.decision_date.year
                                                    if line.decision_date else "Sans exercice"))
                    scheme = labels.get(line.scheme_code or "", "Autres crédits de l'État")
                    cell = state_years.setdefault(year, {}).setdefault(
                        scheme, [Total(), ZERO, Total()])
                    cell[0] = cell[0].plus(line.amount_granted)
                    cell[1] += line.paid_total
                    cell[2] = cell[2].plus(None if line.amount_granted is None
                                           else line.amount_granted - line.paid_total)
        axes = []
        for axis_id, lines in per_axis.items():
            if axis_id is None and not lines:
                continue
            axis = axes_by_id.get(axis_id)
            label = (f"Axe {axis.number} — {axis.label}" if axis and axis.number
                     else axis.label if axis else "Hors axe")
            axes.append(_axis(label, lines))
        granted = {g: sum_totals(axis.granted[g] for axis in axes) for g in GROUPS}
        shown = [g for g in GROUPS if granted[g].value or granted[g].missing] or GROUPS[:1]
        granted_all = sum_totals(granted.values())
        by_financer = sorted(
            (FinancerRow(name, values[0], values[1], ratio(values[0].value, granted_all.value))
             for name, values in financers.items()),
            key=lambda row: (-row.granted.value, -row.pending.value, row.name))
        scheme_order = sorted({s for y in state_years.values() for s in y},
                              key=lambda s: (s == "Autres crédits de l'État", s))
        years = []
        for year, schemes in sorted(state_years.items(),
                                    key=lambda item: (not item[0].isdigit(), item[0])):
            rows = [StateCommitment(s, *schemes[s]) for s in scheme_order if s in schemes]
            years.append(StateYear(year, rows, sum_totals(r.committed for r in rows),
                                   sum((r.paid for r in rows), ZERO),
                                   sum_totals(r.remaining for r in rows)))
        state_committed = granted["État"]
        undated_reason = None
        if signing_date and latest_decision and latest_decision > signing_date:
            # Signed on that day, the annex could not show later decisions: its figures
            # are today's, so the date is left to be written by hand.
            undated_reason = (f"date de l'avenant ({signing_date.strftime('%d/%m/%Y')}) "
                              "non reprise : l'annexe comprend des décisions postérieures "
                              f"(jusqu'au {latest_decision.strftime('%d/%m/%Y')})")
            signing_date = None
        records += [version_of(s) for s in contract.signatories]
        records += [version_of(a) for a in contract.amendments]
        data = AnnexData(
            office=the_office, reference=contract.reference, title=contract.title,
            document=document, type_label=contract.contract_type.label,
            status=ContractStatus(contract.status).label,
            signature_date=contract.signature_date, start_date=contract.start_date,
            end_date=contract.end_date, envelope_total=envelope_total(contract),
            amendments_change=amendments_change(contract), envelope_state=contract.envelope_state,
            state_committed=state_committed, signing_date=signing_date,
            amendment_subject=amendment_subject, envelope_before=envelope_before,
            undated_reason=undated_reason,
            signatories=signatures(contract), groups=shown, axes=axes,
            cost=sum_totals(axis.cost for axis in axes), granted=granted,
            pending=sum_totals(axis.pending for axis in axes),
            own_share=sum_totals(axis.own_share for axis in axes),
            over_funded=sum(axis.over_funded for axis in axes),
            unknown_costs=sum(axis.cost.missing for axis in axes),
            by_financer=by_financer, state_schemes=scheme_order, state_by_year=years,
            abandoned=abandoned,
            provenance=Provenance("annexe", contract.reference, records,
                                  options={"amendment": amendment} if amendment else {}))
    return seal(data)
