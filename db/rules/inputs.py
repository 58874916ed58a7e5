"""The plain data the rules read: an operation's plan, its lines and payments, a contract.

Built by the services from what is saved or from what an editor holds; the rules
never see the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from db.money import ZERO, total
from db.vocabulary import (
    LOCAL_AUTHORITY_KINDS,
    BaseKind,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)


@dataclass(frozen=True)
class PaymentInput:
    kind: PaymentKind
    amount: Decimal
    payment_date: date | None = None


@dataclass(frozen=True)
class LineInput:
    label: str  # how messages name the line, e.g. "ligne 2 (DETR)"
    field: str  # e.g. "funding_lines[1]"
    status: FundingStatus = FundingStatus.REQUESTED
    requested: Decimal | None = None
    granted: Decimal | None = None
    scheme: str | None = None
    scheme_label: str | None = None  # "Fonds vert": what messages print, never the code
    public: bool = True
    state_investment_grant: bool = False  # DETR, DSIL, DPV, DSID
    state_subsidy: bool = False  # other State investment subsidy (décret 2018-514)
    decision_date: date | None = None
    notification_date: date | None = None
    commission_opinion_date: date | None = None
    planned_completion_date: date | None = None  # décret 2018-514: set by the decision
    payments: tuple[PaymentInput, ...] = ()

    @property
    def is_detr(self) -> bool:
        return self.scheme == "DETR"

    @property
    def is_state_aid(self) -> bool:
        """A State investment subsidy: a CGCT dotation or a décret 2018-514 subsidy."""
        return self.state_investment_grant or self.state_subsidy

    @property
    def name(self) -> str:
        return self.scheme_label or self.scheme or "financement"

    @property
    def plan_amount(self) -> Decimal:
        """What the line contributes to the plan: granted once decided, else requested."""
        if self.status is FundingStatus.REFUSED:
            return ZERO
        if self.status is FundingStatus.GRANTED and self.granted is not None:
            return self.granted
        return self.requested if self.requested is not None else (self.granted or ZERO)

    @property
    def paid(self) -> Decimal:
        return total(p.amount for p in self.payments)

    @property
    def remaining(self) -> Decimal:
        """Reste à verser on a granted line."""
        if self.status is not FundingStatus.GRANTED or self.granted is None:
            return ZERO
        return self.granted - self.paid


@dataclass(frozen=True)
class ExpenseInput:
    """A poste de dépense: HT, TTC when known, counted or not in the subsidisable base."""

    label: str
    ht: Decimal | None
    ttc: Decimal | None = None
    eligible: bool = True


@dataclass(frozen=True)
class ContractPeriod:
    reference: str
    end_date: date | None


@dataclass(frozen=True)
class PlanInput:
    cost_ht: Decimal | None = None
    cost_ttc: Decimal | None = None
    base_kind: BaseKind = BaseKind.HT
    eligible_cost: Decimal | None = None
    owner_kind: OrganisationKind | None = None  # None: no owner recorded
    owner_overseas: bool = False  # the overseas authorities L1111-10 III leaves out
    owner_population: int | None = None  # a commune's population (DETR eligibility)
    chef_de_file: bool = False
    own_share_exception: OwnShareException | None = None
    own_share_exception_ref: str | None = None
    lines: tuple[LineInput, ...] = ()
    expenses: tuple[ExpenseInput, ...] = ()
    deposit_date: date | None = None
    early_start_date: date | None = None  # the prefect's authorisation to start early
    decision_date: date | None = None
    notification_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    start_extension_months: int = 0
    completion_extension_months: int = 0
    status: OperationStatus | None = None
    contracts: tuple[ContractPeriod, ...] = field(default=())

    @property
    def owner_local_authority(self) -> bool:
        return self.owner_kind in LOCAL_AUTHORITY_KINDS

    @property
    def own_share_applies(self) -> bool:
        """L1111-10 III binds local authorities, but for those of Guadeloupe, Guyane,
        La Réunion, Martinique, Mayotte, Saint-Barthélemy, Saint-Martin and
        Saint-Pierre-et-Miquelon."""
        return self.owner_local_authority and not self.owner_overseas

    @property
    def base_cost(self) -> Decimal | None:
        return self.cost_ttc if self.base_kind is BaseKind.TTC else self.cost_ht

    @property
    def subsidisable(self) -> Decimal | None:
        """Dépense subventionnable HT for State dotations: as entered, else the eligible
        expense items, else the HT cost."""
        if self.eligible_cost is not None:
            return self.eligible_cost
        if self.expenses and all(e.ht is not None for e in self.expenses):
            return total(e.ht for e in self.expenses if e.eligible)
        return self.cost_ht

    @property
    def funding_total(self) -> Decimal:
        return total(line.plan_amount for line in self.lines)

    @property
    def owner_share(self) -> Decimal | None:
        """Autofinancement: the balance of the plan (derived, never stored)."""
        base = self.base_cost
        return None if base is None else base - self.funding_total

    @property
    def public_funding(self) -> Decimal:
        return total(line.plan_amount for line in self.lines if line.public)

    @property
    def is_empty(self) -> bool:
        """Nothing entered yet: no cost, no line, no date (a new form)."""
        return (self.cost_ht is None and self.cost_ttc is None and self.eligible_cost is None
                and not self.lines and not self.expenses
                and not any((self.deposit_date, self.decision_date, self.notification_date,
                             self.start_date, self.end_date, self.early_start_date)))


@dataclass(frozen=True)
class ContractInput:
    signature_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    envelope_total: Decimal | None = None
    envelope_state: Decimal | None = None
    signed: bool = False
    signatory_dates: tuple[date | None, ...] = ()
    amendment_dates: tuple[date | None, ...] = field(default=())
