"""The plan de financement of an operation, as the administration writes it: expenses
beside resources, "total des dépenses = total des ressources", every rate on a named
base (the printed column of rates adds up to 100 % of it), a second rate on the
dépense subventionnable for the dotations, the DETR commission's opinion when it is
required, the checks with the texts they cite, the deadlines line by line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db.database import Database
from db.documents.common import (
    Office,
    Provenance,
    commune_list,
    office,
    seal,
    version_of,
)
from db.errors import NotFoundError
from db.formatting import long_date, rounded_shares, short_date
from db.models import Operation
from db.money import total
from db.rules import DETR_COMMISSION_THRESHOLD, deadlines, evaluate_operation, ratio
from db.rules.inputs import LineInput
from db.services.operations import load_operation_data, plan_context, plan_input
from db.vocabulary import BaseKind, FundingStatus, OperationStatus, OwnShareException

NO_FINANCER = "Financeur non précisé"


@dataclass(frozen=True)
class ExpenseRow:
    label: str
    ht: Decimal | None
    ttc: Decimal | None
    eligible: bool


@dataclass(frozen=True)
class ResourceRow:
    financer: str
    scheme: str  # label, never a code
    status: str
    decision: str  # "arrêté n° … du 12/05/2025, notifié le 19/05/2025"
    amount: Decimal | None  # None: not communicated
    rate: Decimal | None  # on the plan's base, as printed (the column adds up)
    eligible_rate: Decimal | None  # dotations: on the dépense subventionnable HT


@dataclass
class PlanData:
    office: Office
    reference: str
    title: str
    owner: str
    owner_kind: str
    communes: str
    contracts: str
    status: str
    expenses: list[ExpenseRow]
    expenses_detailed: bool  # recorded item by item, else the operation's costs
    total_ht: Decimal | None
    total_ttc: Decimal | None
    base_kind: str  # "HT" or "TTC"
    base: Decimal | None
    eligible: Decimal | None
    eligible_origin: str  # what the dépense subventionnable is made of
    resources: list[ResourceRow]
    own_share: Decimal | None
    own_share_rate: Decimal | None
    excess: Decimal | None  # funding beyond the cost: the plan does not balance
    resources_total: Decimal | None
    rate_total: Decimal | None
    dotations: Decimal  # DETR + DSIL + DPV + DSID
    dotations_rate: Decimal | None  # on the dépense subventionnable
    has_dotations: bool
    refused: list[ResourceRow]
    commission: list[str]
    checks: list[tuple[str, str]]  # severity label, message
    exception: str | None
    dates: list[tuple[str, date | None]]
    deadlines: list[tuple[str, str]]  # what, when (in words)
    provenance: Provenance

    @property
    def provisional(self) -> bool:
        """Still requests to decide: the plan is a forecast (prévisionnel)."""
        return any(r.status == FundingStatus.REQUESTED.label for r in self.resources)

    @property
    def balanced(self) -> bool:
        return (self.base is not None and self.resources_total is not None
                and self.resources_total == self.base)


def _decision(line, empty: str) -> str:
    parts = []
    if line.decision_reference:
        parts.append(line.decision_reference)
    if line.decision_date:
        parts.append(f"du {short_date(line.decision_date)}" if parts
                     else f"le {short_date(line.decision_date)}")
    return " ".join(parts) or empty


def _amount(line: LineInput) -> Decimal | None:
    """What the line brings, None when its amount is not communicated."""
    if line.status is FundingStatus.GRANTED:
        return line.granted
    return line.requested if line.requested is not None else line.granted


def plan(db: Database, reference: str, today: date | None = None) -> PlanData:
    the_office = office(db)
    today = today or date.today()
    with db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == reference))
        if operation is None:
            raise NotFoundError(f"Opération introuvable : « {reference} ».")
        data = load_operation_data(session, operation)
        rules_input = plan_input(data, plan_context(session, data))
        findings = evaluate_operation(rules_input, today)
        records = [version_of(operation)] + [version_of(line)
                                             for line in operation.funding_lines]
        records += [version_of(item) for item in operation.expense_items]
        for line in operation.funding_lines:
            records += [version_of(p) for p in line.payments]
        base = rules_input.base_cost
        eligible = rules_input.subsidisable
        kept, refused = [], []
        for line, rules_line in zip(operation.funding_lines, rules_input.lines, strict=True):
            (refused if rules_line.status is FundingStatus.REFUSED else kept).append(
                (line, rules_line))
        amounts = [_amount(rules_line) for _, rules_line in kept]
        known = all(a is not None for a in amounts)
        funded = total(amounts)
        share = base - funded if base is not None and known else None
        excess = -share if share is not None and share < 0 else None
        column = [*(a if a is not None else Decimal(0) for a in amounts)]
        if share is not None and excess is None:
            column.append(share)
        rates = rounded_shares(column, base) if known else [
            None if a is None else (ratio(a, base)) for a in amounts]
        resources = []
        for (line, rules_line), amount, rate in zip(kept, amounts, rates, strict=False):
            resources.append(ResourceRow(
                line.financer.name if line.financer else NO_FINANCER,
                rules_line.scheme_label or "—", FundingStatus(line.status).label,
                _decision(line, ""), amount, rate,
                ratio(amount, eligible) if rules_line.state_investment_grant
                and amount is not None else None))
        own_share_rate = rates[len(kept)] if share is not None and excess is None \
            and len(rates) > len(kept) else None
        dotation_lines = [(line, r) for line, r in kept if r.state_investment_grant]
        dotations = total(_amount(r) for _, r in dotation_lines)
        commission = []
        for _line_model, rules_line in kept:
            if rules_line.is_detr and (_amount(rules_line) or 0) > DETR_COMMISSION_THRESHOLD:
                opinion = rules_line.commission_opinion_date
                commission.append(
                    f"{rules_line.label} : avis de la commission d'élus (CGCT art. L2334-37) "
                    + (f"rendu le {long_date(opinion)}." if opinion
                       else "requis (subvention supérieure à 100 000 €), non encore rendu."))
        exception = None
        if operation.own_share_exception:
            exception = (f"{OwnShareException(operation.own_share_exception).label} — "
                         f"{operation.own_share_exception_ref or 'fondement non cité'}")
        # The own-share finding already quotes the dérogation: it is printed once.
        checks = [(f.severity.value, f.message) for f in findings]
        if any(f.code == "own_share.exception" for f in findings):
            exception = None
        items = operation.expense_items
        if items:
            expenses = [ExpenseRow(i.label, i.amount_ht, i.amount_ttc, i.eligible)
                        for i in items]
            total_ht = total(i.amount_ht for i in items)
            total_ttc = (total(i.amount_ttc for i in items)
                         if all(i.amount_ttc is not None for i in items) else None)
        else:
            expenses = [ExpenseRow("Coût de l'opération (postes non détaillés)",
                                   operation.cost_ht, operation.cost_ttc, True)]
            total_ht, total_ttc = operation.cost_ht, operation.cost_ttc
        if operation.eligible_cost is not None:
            origin = "montant retenu par l'instruction"
        elif items:
            origin = "total HT des postes subventionnables"
        else:
            origin = "coût HT de l'opération"
        document = PlanData(
            office=the_office, reference=operation.reference, title=operation.title,
            owner=operation.owner.name if operation.owner else "",
            owner_kind=(rules_input.owner_kind.label if rules_input.owner_kind else ""),
            communes=commune_list([c.name for c in operation.communes]),
            contracts=", ".join(f"{link.contract.reference} — {link.contract.title}"
                                for link in operation.links),
            status=OperationStatus(operation.status).label,
            expenses=expenses, expenses_detailed=bool(items), total_ht=total_ht,
            total_ttc=total_ttc, base_kind=BaseKind(operation.base_kind).value, base=base,
            eligible=eligible, eligible_origin=origin, resources=resources,
            own_share=share, own_share_rate=own_share_rate, excess=excess,
            resources_total=funded + share if share is not None and excess is None
            else (funded if known else None),
            rate_total=(sum((r for r in rates if r is not None), Decimal(0))
                        if base and known else None),
            dotations=dotations, dotations_rate=ratio(dotations, eligible),
            has_dotations=bool(dotation_lines),
            refused=[ResourceRow(line.financer.name if line.financer else NO_FINANCER,
                                 r.scheme_label or "—", FundingStatus.REFUSED.label,
                                 _decision(line, ""), r.requested, None, None)
                     for line, r in refused],
            commission=commission, checks=checks, exception=exception,
            dates=[("Réception de la demande", operation.deposit_date),
                   ("Dérogation du préfet au commencement avant la demande",
                    operation.early_start_date),
                   ("Décision / arrêté", operation.decision_date),
                   ("Notification", operation.notification_date),
                   ("Commencement d'exécution", operation.start_date),
                   ("Achèvement", operation.end_date)],
            deadlines=_deadlines(rules_input),
            provenance=Provenance("plan", operation.reference, records))
        document.provenance.records.sort(key=lambda r: (r.entity, r.id))
    return seal(document)


def _deadlines(rules_input) -> list[tuple[str, str]]:
    result = []
    for limits in deadlines(rules_input):
        name = limits.scheme_label
        if limits.start_deadline:
            extended = " et prorogation" if rules_input.start_extension_months else ""
            start = (f"au plus tard le {short_date(limits.start_deadline)} (notification du "
                     f"{short_date(limits.notification_date)} + 2 ans{extended} ; "
                     f"{limits.start_article})")
        else:
            start = (f"2 ans après la notification, date non renseignée "
                     f"({limits.start_article})")
        if limits.completion_deadline:
            if limits.fixed_by_decision:
                basis = "date fixée par la décision"
            else:
                basis = ("commencement + 4 ans"
                         + (" et prorogation" if rules_input.completion_extension_months
                            else ""))
            end = (f"au plus tard le {short_date(limits.completion_deadline)} ({basis} ; "
                   f"{limits.completion_article})")
        elif limits.fixed_by_decision:
            end = f"date fixée par la décision, non renseignée ({limits.completion_article})"
        else:
            end = (f"commencement + 4 ans, commencement non déclaré "
                   f"({limits.completion_article})")
        result.append((f"Délais de la {name}" if name.isupper() else f"Délais : {name}",
                       f"commencement {start} ; achèvement {end}"))
    return result
