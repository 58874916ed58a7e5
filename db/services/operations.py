"""Operations with their financing plan (funding lines) and payments.

An operation, its funding lines and their payments form one aggregate: every
write, whole or partial, is checked by the rules on the whole plan, runs in one
transaction and moves the operation's version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.database import Database
from db.errors import DeleteRefused, InvalidInput, RuleViolation
from db.models import (
    Axis,
    Commune,
    Contract,
    ExpenseItem,
    FundingLine,
    FundingScheme,
    Operation,
    OperationLink,
    Organisation,
    Payment,
    epci_member,
)
from db.programming import guard as envelopes
from db.rules import (
    ContractPeriod,
    ExpenseInput,
    Finding,
    LineInput,
    PaymentInput,
    PlanInput,
    blocking,
    evaluate_operation,
)
from db.services import caches
from db.services.common import (
    SaveResult,
    check_version,
    communes,
    get,
    money,
    optional_text,
    record_to_save,
    required_text,
    set_if_changed,
    sync_children,
    touch,
    transaction,
)
from db.services.organisations import (
    OrganisationData,
    find_organisation_in,
    save_organisation_in,
)
from db.vocabulary import (
    COMMITTED_OPERATION_STATUSES,
    PUBLIC_KINDS,
    BaseKind,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)


@dataclass
class PaymentData:
    kind: PaymentKind
    payment_date: date
    amount: Decimal
    reference: str | None = None
    id: uuid.UUID | None = None


@dataclass
class FundingLineData:
    financer_id: uuid.UUID | None
    scheme_code: str | None = None
    amount_requested: Decimal | None = None
    amount_granted: Decimal | None = None
    status: FundingStatus = FundingStatus.REQUESTED
    decision_reference: str | None = None
    decision_date: date | None = None
    commission_opinion_date: date | None = None
    budget_year: int | None = None
    notes: str | None = None
    payments: list[PaymentData] = field(default_factory=list)
    id: uuid.UUID | None = None
    notification_date: date | None = None
    planned_completion_date: date | None = None


@dataclass
class ExpenseItemData:
    label: str
    amount_ht: Decimal | None
    amount_ttc: Decimal | None = None
    eligible: bool = True
    id: uuid.UUID | None = None


@dataclass
class LinkData:
    contract_id: uuid.UUID
    axis_id: uuid.UUID | None = None


@dataclass
class OperationData:
    reference: str
    title: str
    owner_id: uuid.UUID | None = None
    status: OperationStatus = OperationStatus.PROJECT
    description: str | None = None
    cost_ht: Decimal | None = None
    cost_ttc: Decimal | None = None
    base_kind: BaseKind = BaseKind.HT
    eligible_cost: Decimal | None = None
    deposit_date: date | None = None
    decision_date: date | None = None
    notification_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    early_start_date: date | None = None
    start_extension_months: int = 0
    completion_extension_months: int = 0
    chef_de_file: bool = False
    own_share_exception: OwnShareException | None = None
    own_share_exception_ref: str | None = None
    notes: str | None = None
    origin: str = "saisie"
    source: str | None = None
    commune_codes: list[str] = field(default_factory=list)
    links: list[LinkData] = field(default_factory=list)
    funding_lines: list[FundingLineData] = field(default_factory=list)
    expense_items: list[ExpenseItemData] = field(default_factory=list)
    id: uuid.UUID | None = None
    version: int | None = None
    # An owner typed in the editor that does not exist yet: created in the same
    # transaction as the operation (unless it is an existing one written otherwise).
    new_owner: OrganisationData | None = None


# --- From data to the rules' plain input --------------------------------------

@dataclass(frozen=True)
class PlanContext:
    """What the rules need to know about the organisations, schemes and contracts."""

    organisation_kinds: dict[uuid.UUID, str]
    schemes: dict[str, FundingScheme]
    contracts: dict[uuid.UUID, ContractPeriod] = field(default_factory=dict)
    overseas: frozenset[uuid.UUID] = frozenset()  # organisations of overseas authorities
    populations: dict[uuid.UUID, int] = field(default_factory=dict)  # of owner communes


def plan_context(session: Session, data: OperationData) -> PlanContext:
    return plan_context_for(session, [data])


def plan_context_for(session: Session, datas: list[OperationData] | None) -> PlanContext:
    """One context for many operations (a few queries, whatever their number); for every
    organisation and contract when *datas* is None (an editor's choices)."""
    ids = contract_ids = None
    if datas is not None:
        ids = list({line.financer_id for data in datas for line in data.funding_lines
                    if line.financer_id} | {data.owner_id for data in datas if data.owner_id})
        contract_ids = list({link.contract_id for data in datas for link in data.links
                             if link.contract_id})
    kinds: dict[uuid.UUID, str] = {}
    overseas: set[uuid.UUID] = set()
    populations: dict[uuid.UUID, int] = {}
    query = (select(Organisation.id, Organisation.kind, Organisation.commune_code,
                    Organisation.departement_code, Organisation.region_code,
                    Commune.population,
                    select(epci_member.c.commune_code)
                    .where(epci_member.c.epci_code == Organisation.epci_code)
                    .limit(1).scalar_subquery())
             .outerjoin(Commune, Commune.code == Organisation.commune_code))
    for chunk in _chunks(ids):
        selected = query if chunk is None else query.where(Organisation.id.in_(chunk))
        for org_id, kind, commune, departement, region, population, member in \
                session.execute(selected):
            kinds[org_id] = kind
            if is_overseas(commune or member, departement, region):
                overseas.add(org_id)
            if population is not None:
                populations[org_id] = population
    schemes = {s.code: s for s in session.scalars(select(FundingScheme))}
    contracts = {}
    periods = select(Contract.id, Contract.reference, Contract.end_date)
    for chunk in _chunks(contract_ids):
        selected = periods if chunk is None else periods.where(Contract.id.in_(chunk))
        for contract_id, reference, end_date in session.execute(selected):
            contracts[contract_id] = ContractPeriod(reference, end_date)
    return PlanContext(kinds, schemes, contracts, frozenset(overseas), populations)


def _chunks(ids: list | None, size: int = 900) -> list:
    """Pieces of an IN list small enough for every backend; [None]: no filter."""
    if ids is None:
        return [None]
    return [ids[start:start + size] for start in range(0, len(ids), size)]


OVERSEAS_REGIONS = {"01", "02", "03", "04", "06"}


def is_overseas(commune: str | None, departement: str | None, region: str | None) -> bool:
    """Guadeloupe, Martinique, Guyane, La Réunion, Mayotte and the overseas collectivities
    (their codes begin with 97), which L1111-10 III leaves out of the minimum share."""
    return bool((commune or "").startswith("97") or (departement or "").startswith("97")
                or region in OVERSEAS_REGIONS)


def scheme_name(code: str | None, schemes: dict[str, FundingScheme]) -> str | None:
    """What messages and documents print for a scheme: its short label, never its code."""
    if not code:
        return None
    scheme = schemes.get(code)
    return (scheme.short_label or scheme.label) if scheme else code


def line_label(index: int, line: FundingLineData,
               schemes: dict[str, FundingScheme] | None = None) -> str:
    name = scheme_name(line.scheme_code, schemes or {}) if schemes else line.scheme_code
    return f"Ligne {index + 1}" + (f" ({name})" if name else "")


def plan_input(data: OperationData, context: PlanContext) -> PlanInput:
    lines = []
    for index, line in enumerate(data.funding_lines):
        scheme = context.schemes.get(line.scheme_code or "")
        kind = context.organisation_kinds.get(line.financer_id) if line.financer_id else None
        lines.append(LineInput(
            label=line_label(index, line, context.schemes), field=f"funding_lines[{index}]",
            status=FundingStatus(line.status), requested=line.amount_requested,
            granted=line.amount_granted, scheme=line.scheme_code,
            scheme_label=scheme_name(line.scheme_code, context.schemes),
            public=kind is None or kind in PUBLIC_KINDS,
            state_investment_grant=bool(scheme and scheme.state_investment_grant),
            state_subsidy=bool(scheme and scheme.state_subsidy),
            decision_date=line.decision_date, notification_date=line.notification_date,
            commission_opinion_date=line.commission_opinion_date,
            planned_completion_date=line.planned_completion_date,
            payments=tuple(PaymentInput(PaymentKind(p.kind), p.amount, p.payment_date)
                           for p in line.payments)))
    owner_kind = context.organisation_kinds.get(data.owner_id) if data.owner_id else None
    if owner_kind is None and data.new_owner is not None:
        owner_kind = data.new_owner.kind
    return PlanInput(
        cost_ht=data.cost_ht, cost_ttc=data.cost_ttc, base_kind=BaseKind(data.base_kind),
        eligible_cost=data.eligible_cost,
        owner_kind=OrganisationKind(owner_kind) if owner_kind else None,
        owner_overseas=data.owner_id in context.overseas,
        owner_population=context.populations.get(data.owner_id) if data.owner_id else None,
        chef_de_file=data.chef_de_file,
        own_share_exception=(OwnShareException(data.own_share_exception)
                             if data.own_share_exception else None),
        own_share_exception_ref=data.own_share_exception_ref, lines=tuple(lines),
        expenses=tuple(ExpenseInput(item.label or "", item.amount_ht, item.amount_ttc,
                                    item.eligible) for item in data.expense_items),
        deposit_date=data.deposit_date, early_start_date=data.early_start_date,
        decision_date=data.decision_date,
        notification_date=data.notification_date, start_date=data.start_date,
        end_date=data.end_date, start_extension_months=data.start_extension_months,
        completion_extension_months=data.completion_extension_months,
        status=OperationStatus(data.status),
        contracts=tuple(context.contracts[link.contract_id] for link in data.links
                        if link.contract_id in context.contracts))


def plan_inputs(session: Session, operations: list[Operation]) -> dict[uuid.UUID, PlanInput]:
    """The rules' input of many loaded operations at once (documents of a contract)."""
    datas = [load_operation_data(session, operation) for operation in operations]
    context = plan_context_for(session, datas)
    return {data.id: plan_input(data, context) for data in datas}


def check_operation(session: Session, data: OperationData, today: date | None = None
                    ) -> list[Finding]:
    return evaluate_operation(plan_input(data, plan_context(session, data)),
                              today or date.today())


# --- Validation and saving ---------------------------------------------------

def _validate(session: Session, data: OperationData) -> None:
    data.reference = required_text(data.reference, "Référence de l'opération", 80)
    data.title = required_text(data.title, "Intitulé de l'opération", 500)
    try:
        data.status = OperationStatus(data.status)
        data.base_kind = BaseKind(data.base_kind)
        if data.own_share_exception:
            data.own_share_exception = OwnShareException(data.own_share_exception)
    except ValueError as exc:
        raise InvalidInput(f"Opération : valeur inconnue ({exc}).") from exc
    data.cost_ht = money(data.cost_ht, "Coût HT")
    data.cost_ttc = money(data.cost_ttc, "Coût TTC")
    data.eligible_cost = money(data.eligible_cost, "Dépense subventionnable")
    for name, label in (("start_extension_months", "Prorogation du commencement"),
                        ("completion_extension_months", "Prorogation de l'achèvement")):
        value = getattr(data, name)
        if not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{label} : nombre de mois entier positif attendu.")
    clash = session.scalar(select(Operation).where(Operation.reference == data.reference,
                                                   Operation.id != data.id))
    if clash is not None:
        raise InvalidInput(f"Référence de l'opération : « {data.reference} » est déjà utilisée "
                           f"par l'opération « {clash.title} ».")
    if data.owner_id and session.get(Organisation, data.owner_id) is None:
        raise InvalidInput("Maître d'ouvrage : organisation inconnue.")
    seen_contracts = set()
    for link in data.links:
        contract = session.get(Contract, link.contract_id)
        if contract is None:
            raise InvalidInput("Contrat de rattachement inconnu.")
        if link.contract_id in seen_contracts:
            raise InvalidInput(f"Contrat « {contract.reference} » : rattachement en double.")
        seen_contracts.add(link.contract_id)
        if link.axis_id is not None:
            axis = session.get(Axis, link.axis_id)
            if axis is None or axis.contract_id != link.contract_id:
                raise InvalidInput(f"Contrat « {contract.reference} » : l'axe choisi "
                                   "n'appartient pas à ce contrat.")
    _validate_expenses(data)
    schemes = set(session.scalars(select(FundingScheme.code)))
    for index, line in enumerate(data.funding_lines):
        label = line_label(index, line)
        try:
            line.status = FundingStatus(line.status)
        except ValueError as exc:
            raise InvalidInput(f"{label} : statut inconnu ({line.status}).") from exc
        line.amount_requested = money(line.amount_requested, f"{label} : montant sollicité")
        line.amount_granted = money(line.amount_granted, f"{label} : montant accordé")
        for value, what in ((line.amount_requested, "sollicité"), (line.amount_granted, "accordé")):
            if value is not None and value < 0:
                raise InvalidInput(f"{label} : le montant {what} ne peut pas être négatif.")
        if line.scheme_code and line.scheme_code not in schemes:
            raise InvalidInput(f"{label} : dispositif inconnu ({line.scheme_code}).")
        if line.financer_id and session.get(Organisation, line.financer_id) is None:
            raise InvalidInput(f"{label} : financeur inconnu.")
        line.decision_reference = optional_text(line.decision_reference,
                                                f"{label} : référence de la décision", 120)
        for number, payment in enumerate(line.payments, start=1):
            where = f"{label}, versement {number}"
            try:
                payment.kind = PaymentKind(payment.kind)
            except ValueError as exc:
                raise InvalidInput(f"{where} : nature inconnue ({payment.kind}).") from exc
            payment.amount = money(payment.amount, f"{where} : montant")
            if payment.amount is None or payment.amount <= 0:
                raise InvalidInput(f"{where} : le montant doit être positif.")
            if payment.payment_date is None:
                raise InvalidInput(f"{where} : date obligatoire.")


def _validate_expenses(data: OperationData) -> None:
    for number, item in enumerate(data.expense_items, start=1):
        where = f"Poste de dépense {number}"
        item.label = required_text(item.label, f"{where} : intitulé", 300)
        item.amount_ht = money(item.amount_ht, f"{where} : montant HT")
        item.amount_ttc = money(item.amount_ttc, f"{where} : montant TTC")
        if item.amount_ht is None:
            raise InvalidInput(f"{where} : le montant HT est obligatoire.")
        for value, what in ((item.amount_ht, "HT"), (item.amount_ttc, "TTC")):
            if value is not None and value < 0:
                raise InvalidInput(f"{where} : le montant {what} ne peut pas être négatif.")


def _refuse_line_with_payments(line: FundingLine) -> None:
    if line.payments:
        scheme = (line.scheme.short_label or line.scheme.label) if line.scheme else None
        what = f"Le financement {scheme}" if scheme else "Ce financement"
        raise DeleteRefused(f"{what} ne peut pas être supprimé : {len(line.payments)} "
                            "versement(s) y sont enregistrés.")


def _apply(session: Session, operation: Operation, data: OperationData) -> None:
    set_if_changed(
        operation, reference=data.reference, title=data.title,
        description=optional_text(data.description), owner_id=data.owner_id,
        status=data.status.value, cost_ht=data.cost_ht, cost_ttc=data.cost_ttc,
        base_kind=data.base_kind.value, eligible_cost=data.eligible_cost,
        deposit_date=data.deposit_date, decision_date=data.decision_date,
        notification_date=data.notification_date, start_date=data.start_date,
        end_date=data.end_date, early_start_date=data.early_start_date,
        start_extension_months=data.start_extension_months,
        completion_extension_months=data.completion_extension_months,
        chef_de_file=data.chef_de_file,
        own_share_exception=data.own_share_exception.value if data.own_share_exception else None,
        own_share_exception_ref=optional_text(data.own_share_exception_ref),
        notes=optional_text(data.notes), origin=data.origin, source=optional_text(data.source))
    wanted = communes(session, data.commune_codes, "Communes de l'opération")
    if [c.code for c in operation.communes] != [c.code for c in wanted]:
        operation.communes = wanted

    existing_links = {link.contract_id: link for link in operation.links}
    links = []
    for link_data in data.links:
        link = existing_links.pop(link_data.contract_id, None)
        if link is None:
            link = OperationLink(contract_id=link_data.contract_id, axis_id=link_data.axis_id)
        else:
            set_if_changed(link, axis_id=link_data.axis_id)
        links.append(link)
    operation.links = links

    def make_payment(d: PaymentData) -> Payment:
        return Payment(kind=d.kind.value, payment_date=d.payment_date, amount=d.amount,
                       reference=optional_text(d.reference))

    def update_payment(p: Payment, d: PaymentData) -> None:
        set_if_changed(p, kind=d.kind.value, payment_date=d.payment_date, amount=d.amount,
                       reference=optional_text(d.reference))

    def line_values(d: FundingLineData) -> dict:
        return dict(financer_id=d.financer_id, scheme_code=d.scheme_code or None,
                    amount_requested=d.amount_requested, amount_granted=d.amount_granted,
                    status=d.status.value, decision_reference=optional_text(d.decision_reference),
                    decision_date=d.decision_date, notification_date=d.notification_date,
                    planned_completion_date=d.planned_completion_date,
                    commission_opinion_date=d.commission_opinion_date,
                    budget_year=d.budget_year, notes=optional_text(d.notes))

    def make_line(d: FundingLineData) -> FundingLine:
        line = FundingLine(id=uuid.uuid4(), **line_values(d))
        line.payments = [make_payment(p) for p in d.payments]
        return line

    def update_line(line: FundingLine, d: FundingLineData) -> None:
        set_if_changed(line, **line_values(d))
        line.payments = sync_children(line.payments, d.payments, make=make_payment,
                                      update=update_payment)

    lines = sync_children(operation.funding_lines, data.funding_lines, make=make_line,
                          update=update_line, before_delete=_refuse_line_with_payments)
    for position, line in enumerate(lines):
        set_if_changed(line, position=position)
    operation.funding_lines = lines

    def item_values(d: ExpenseItemData) -> dict:
        return dict(label=d.label, amount_ht=d.amount_ht, amount_ttc=d.amount_ttc,
                    eligible=bool(d.eligible))

    items = sync_children(operation.expense_items, data.expense_items,
                          make=lambda d: ExpenseItem(**item_values(d)),
                          update=lambda item, d: set_if_changed(item, **item_values(d)))
    for position, item in enumerate(items):
        set_if_changed(item, position=position)
    operation.expense_items = items


def save_operation(db: Database, data: OperationData, *, today: date | None = None
                   ) -> SaveResult:
    """Create or update an operation with its plan and payments, checked by the rules
    (blocking errors refuse a committed operation), in one transaction."""
    with transaction(db, f"de l'opération « {data.reference} »") as session:
        return save_operation_in(session, data, today=today)


def save_operation_in(session: Session, data: OperationData, *, today: date | None = None
                      ) -> SaveResult:
    """:func:`save_operation` inside a transaction the caller holds."""
    if data.new_owner is not None:
        # "commune de maubeuge" typed for "Commune de Maubeuge": the same organisation.
        existing = find_organisation_in(session, data.new_owner.name)
        data.owner_id = (existing.id if existing is not None
                         else save_organisation_in(session, data.new_owner).id)
        data.new_owner = None
    _validate(session, data)
    findings = check_operation(session, data, today)
    refused = blocking(findings, data.status in COMMITTED_OPERATION_STATUSES)
    if refused:
        raise RuleViolation(refused)
    operation = record_to_save(session, Operation, data,
                               f"de l'opération « {data.reference} »")
    _apply(session, operation, data)
    caches.refresh_operation(session, operation)
    envelopes.check_operation(session, operation)  # never beyond an envelope
    session.flush()
    return SaveResult(operation.id, operation.version, findings)


def delete_operation(db: Database, operation_id: uuid.UUID, version: int) -> None:
    with transaction(db, "de l'opération") as session:
        operation = get(session, Operation, operation_id, "Opération")
        check_version(operation, version, f"de l'opération « {operation.reference} »")
        what = f"L'opération « {operation.reference} »"
        payments = session.scalar(
            select(func.count()).select_from(Payment).join(FundingLine)
            .where(FundingLine.operation_id == operation_id))
        if payments:
            raise DeleteRefused(f"{what} ne peut pas être supprimée : {payments} versement(s) "
                                "sont enregistrés sur ses financements.")
        session.delete(operation)


# --- Partial writes: one funding line or one payment --------------------------

def load_operation_data(session: Session, operation: Operation) -> OperationData:
    """The aggregate as plain data (what an editor holds)."""
    return OperationData(
        id=operation.id, version=operation.version, reference=operation.reference,
        title=operation.title, description=operation.description, owner_id=operation.owner_id,
        status=OperationStatus(operation.status), cost_ht=operation.cost_ht,
        cost_ttc=operation.cost_ttc, base_kind=BaseKind(operation.base_kind),
        eligible_cost=operation.eligible_cost, deposit_date=operation.deposit_date,
        decision_date=operation.decision_date, notification_date=operation.notification_date,
        start_date=operation.start_date, end_date=operation.end_date,
        early_start_date=operation.early_start_date,
        start_extension_months=operation.start_extension_months,
        completion_extension_months=operation.completion_extension_months,
        chef_de_file=operation.chef_de_file,
        own_share_exception=(OwnShareException(operation.own_share_exception)
                             if operation.own_share_exception else None),
        own_share_exception_ref=operation.own_share_exception_ref, notes=operation.notes,
        origin=operation.origin, source=operation.source,
        commune_codes=[c.code for c in operation.communes],
        links=[LinkData(link.contract_id, link.axis_id) for link in operation.links],
        funding_lines=[FundingLineData(
            id=line.id, financer_id=line.financer_id, scheme_code=line.scheme_code,
            amount_requested=line.amount_requested, amount_granted=line.amount_granted,
            status=FundingStatus(line.status), decision_reference=line.decision_reference,
            decision_date=line.decision_date, notification_date=line.notification_date,
            planned_completion_date=line.planned_completion_date,
            commission_opinion_date=line.commission_opinion_date, budget_year=line.budget_year,
            notes=line.notes,
            payments=[PaymentData(id=p.id, kind=PaymentKind(p.kind), payment_date=p.payment_date,
                                  amount=p.amount, reference=p.reference)
                      for p in line.payments])
            for line in operation.funding_lines],
        expense_items=[ExpenseItemData(item.label, item.amount_ht, item.amount_ttc,
                                       item.eligible, item.id)
                       for item in operation.expense_items])


def _edit_plan(db: Database, operation_id: uuid.UUID, version: int, edit, *,
               today: date | None = None) -> SaveResult:
    """Apply *edit* to the operation's data, check the whole plan, save in one go."""
    with transaction(db, "de l'opération") as session:
        operation = get(session, Operation, operation_id, "Opération")
        check_version(operation, version, f"de l'opération « {operation.reference} »")
        data = load_operation_data(session, operation)
        edit(data)
        _validate(session, data)
        findings = check_operation(session, data, today)
        refused = blocking(findings, data.status in COMMITTED_OPERATION_STATUSES)
        if refused:
            raise RuleViolation(refused)
        _apply(session, operation, data)
        caches.refresh_operation(session, operation)
        touch(operation)
        envelopes.check_operation(session, operation)  # never beyond an envelope
        session.flush()
        return SaveResult(operation.id, operation.version, findings)


def _line_index(data: OperationData, line_id: uuid.UUID) -> int:
    for index, line in enumerate(data.funding_lines):
        if line.id == line_id:
            return index
    raise InvalidInput("Ce financement n'appartient pas à l'opération (il a peut-être été "
                       "supprimé) : rechargez la fiche.")


def add_funding_line(db: Database, operation_id: uuid.UUID, version: int,
                     line: FundingLineData, **kw) -> SaveResult:
    return _edit_plan(db, operation_id, version,
                      lambda data: data.funding_lines.append(replace(line, id=None)), **kw)


def update_funding_line(db: Database, operation_id: uuid.UUID, version: int,
                        line: FundingLineData, **kw) -> SaveResult:
    def edit(data: OperationData) -> None:
        index = _line_index(data, line.id)
        data.funding_lines[index] = replace(line, payments=data.funding_lines[index].payments)
    return _edit_plan(db, operation_id, version, edit, **kw)


def delete_funding_line(db: Database, operation_id: uuid.UUID, version: int,
                        line_id: uuid.UUID, **kw) -> SaveResult:
    def edit(data: OperationData) -> None:
        del data.funding_lines[_line_index(data, line_id)]
    return _edit_plan(db, operation_id, version, edit, **kw)


def add_payment(db: Database, operation_id: uuid.UUID, version: int, line_id: uuid.UUID,
                payment: PaymentData, **kw) -> SaveResult:
    def edit(data: OperationData) -> None:
        data.funding_lines[_line_index(data, line_id)].payments.append(
            replace(payment, id=None))
    return _edit_plan(db, operation_id, version, edit, **kw)


def delete_payment(db: Database, operation_id: uuid.UUID, version: int, line_id: uuid.UUID,
                   payment_id: uuid.UUID, **kw) -> SaveResult:
    def edit(data: OperationData) -> None:
        line = data.funding_lines[_line_index(data, line_id)]
        kept = [p for p in line.payments if p.id != payment_id]
        if len(kept) == len(line.payments):
            raise InvalidInput("Ce versement n'existe plus : rechargez la fiche.")
        line.payments = kept
    return _edit_plan(db, operation_id, version, edit, **kw)
