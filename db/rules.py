"""Rules of public money: pure functions over plain data, no I/O, no Qt.

Each rule returns findings: errors (they block saving a committed operation or
a signed contract; ``strict`` ones block whatever the status) and warnings
(shown, never blocking). Every message names the field and cites its rule.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from db.formatting import euros, percent, short_date
from db.money import ZERO, round_cents, total
from db.vocabulary import BaseKind, FundingStatus, OwnShareException, PaymentKind

MIN_OWN_SHARE = Decimal("0.20")
MIN_OWN_SHARE_CHEF_DE_FILE = Decimal("0.30")
STATE_GRANTS_CAP = Decimal("0.80")
DETR_FLOOR = Decimal("0.20")
DETR_COMMISSION_THRESHOLD = Decimal("100000.00")
ADVANCE_MAX = Decimal("0.30")
ADVANCE_MAX_WITH_GUARANTEE = Decimal("0.60")
INSTALMENTS_MAX = Decimal("0.80")
INSTALMENTS_MAX_LONG = Decimal("0.90")
DEADLINE_WARNING_DAYS = 90


class Severity(StrEnum):
    ERROR = "erreur"
    WARNING = "avertissement"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    field: str
    message: str
    article: str | None = None
    strict: bool = False  # blocks saving whatever the status

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def blocks(self, committed: bool) -> bool:
        return self.is_error and (self.strict or committed)


def blocking(findings: Iterable[Finding], committed: bool) -> list[Finding]:
    return [f for f in findings if f.blocks(committed)]


def _error(code: str, field: str, message: str, article: str | None = None,
           strict: bool = False) -> Finding:
    return Finding(Severity.ERROR, code, field, message, article, strict)


def _warning(code: str, field: str, message: str, article: str | None = None) -> Finding:
    return Finding(Severity.WARNING, code, field, message, article)


def day(value: date) -> str:
    return short_date(value)


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def ratio(amount: Decimal, base: Decimal | None) -> Decimal | None:
    """A rate derived from amounts (never stored)."""
    if base is None or base == 0:
        return None
    return amount / base


# --- Plain inputs ------------------------------------------------------------

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
    public: bool = True
    state_investment_grant: bool = False  # DETR, DSIL, DPV, DSID
    state_subsidy: bool = False  # other State investment subsidy (décret 2018-514)
    decision_date: date | None = None
    commission_opinion_date: date | None = None
    payments: tuple[PaymentInput, ...] = ()

    @property
    def is_detr(self) -> bool:
        return self.scheme == "DETR"

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
class PlanInput:
    cost_ht: Decimal | None = None
    cost_ttc: Decimal | None = None
    base_kind: BaseKind = BaseKind.HT
    eligible_cost: Decimal | None = None
    owner_local_authority: bool = False
    chef_de_file: bool = False
    own_share_exception: OwnShareException | None = None
    own_share_exception_ref: str | None = None
    lines: tuple[LineInput, ...] = ()
    deposit_date: date | None = None
    decision_date: date | None = None
    notification_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    start_extension_months: int = 0
    completion_extension_months: int = 0

    @property
    def base_cost(self) -> Decimal | None:
        return self.cost_ttc if self.base_kind is BaseKind.TTC else self.cost_ht

    @property
    def subsidisable(self) -> Decimal | None:
        """Dépense subventionnable HT for State dotations."""
        return self.eligible_cost if self.eligible_cost is not None else self.cost_ht

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


# --- Rules -------------------------------------------------------------------

BASE_FIELD = {BaseKind.HT: "cost_ht", BaseKind.TTC: "cost_ttc"}


def check_costs(plan: PlanInput) -> list[Finding]:
    findings = []
    for name, value, label in (("cost_ht", plan.cost_ht, "Coût HT"),
                               ("cost_ttc", plan.cost_ttc, "Coût TTC"),
                               ("eligible_cost", plan.eligible_cost, "Dépense subventionnable")):
        if value is not None and value < 0:
            findings.append(_error("cost.negative", name,
                                   f"{label} : un montant ne peut pas être négatif.", strict=True))
    if plan.cost_ht is not None and plan.cost_ttc is not None and plan.cost_ttc < plan.cost_ht:
        findings.append(_error(
            "cost.ttc_below_ht", "cost_ttc",
            f"Coût TTC ({euros(plan.cost_ttc)}) inférieur au coût HT ({euros(plan.cost_ht)})."))
    if (plan.eligible_cost is not None and plan.cost_ht is not None
            and plan.eligible_cost > plan.cost_ht):
        findings.append(_error(
            "cost.eligible_above_ht", "eligible_cost",
            f"Dépense subventionnable ({euros(plan.eligible_cost)}) supérieure au coût HT "
            f"({euros(plan.cost_ht)})."))
    return findings


def check_balance(plan: PlanInput) -> list[Finding]:
    """Sum of the funding lines + the owner's share = the cost of the financed base."""
    base = plan.base_cost
    base_field = BASE_FIELD[plan.base_kind]
    if base is None:
        if plan.funding_total > 0:
            return [_warning(
                "plan.no_base", base_field,
                f"Coût {plan.base_kind.value} non renseigné : le plan de financement "
                "ne peut pas être équilibré.", "plan de financement")]
        return []
    share = base - plan.funding_total
    if share < 0:
        return [_error(
            "plan.over_funded", "funding_lines",
            f"Plan de financement déséquilibré : les financements ({euros(plan.funding_total)}) "
            f"dépassent le coût {plan.base_kind.value} ({euros(base)}) de {euros(-share)}.",
            "plan de financement")]
    return []


def minimum_own_share(plan: PlanInput) -> Decimal | None:
    """Minimum owner's share (L1111-10 III; L1111-9 chef de file), or None if not bound."""
    if not plan.owner_local_authority or plan.owner_share is None:
        return None
    rate = MIN_OWN_SHARE_CHEF_DE_FILE if plan.chef_de_file else MIN_OWN_SHARE
    public_total = plan.public_funding + max(plan.owner_share, ZERO)
    return round_cents(public_total * rate)


def check_own_share(plan: PlanInput) -> list[Finding]:
    minimum = minimum_own_share(plan)
    share = plan.owner_share
    if minimum is None or share is None or share >= minimum:
        if plan.own_share_exception and not plan.owner_local_authority:
            return [_warning("own_share.exception_unused", "own_share_exception",
                             "Dérogation à la participation minimale inutile : le maître "
                             "d'ouvrage n'est pas une collectivité.", "CGCT art. L1111-10")]
        return []
    rate = MIN_OWN_SHARE_CHEF_DE_FILE if plan.chef_de_file else MIN_OWN_SHARE
    article = "CGCT art. L1111-9" if plan.chef_de_file else "CGCT art. L1111-10"
    public_total = plan.public_funding + max(share, ZERO)
    actual = ratio(max(share, ZERO), public_total) or ZERO
    text = (f"Participation du maître d'ouvrage : {euros(max(share, ZERO))} "
            f"({percent(actual)} des financements publics), inférieure au minimum de "
            f"{percent(rate)} ({euros(minimum)})")
    if plan.own_share_exception:
        if not (plan.own_share_exception_ref or "").strip():
            return [_error("own_share.exception_without_ref", "own_share_exception_ref",
                           f"{text} : la dérogation invoquée doit citer sa décision ou son "
                           "fondement (champ « référence de la dérogation »).", article)]
        exception = OwnShareException(plan.own_share_exception)
        return [_warning("own_share.exception", "own_share_exception",
                         f"{text} ; dérogation : {exception.label} — "
                         f"{plan.own_share_exception_ref.strip().rstrip('.')}.", article)]
    return [_error("own_share.minimum", "funding_lines", f"{text} ({article}).", article)]


def check_state_grants(plan: PlanInput) -> list[Finding]:
    """R2334-27: DETR+DSIL+DPV+DSID ≤ 80 % of the subsidisable expense; DETR ≥ 20 %."""
    grants = [line for line in plan.lines if line.state_investment_grant]
    if not grants:
        return []
    base = plan.subsidisable
    if base is None or base == 0:
        return [_warning("state.no_base", "eligible_cost",
                         "Dépense subventionnable HT non renseignée : les taux DETR/DSIL ne "
                         "peuvent pas être vérifiés (CGCT art. R2334-27).", "CGCT art. R2334-27")]
    findings = []
    state_total = total(line.plan_amount for line in grants)
    cap = round_cents(base * STATE_GRANTS_CAP)
    if state_total > cap:
        findings.append(_error(
            "state.cap", "funding_lines",
            f"DETR, DSIL, DPV et DSID cumulées : {euros(state_total)} "
            f"({percent(state_total / base)} de la dépense subventionnable de {euros(base)}), "
            f"au-delà du plafond de 80 % ({euros(cap)}) (CGCT art. R2334-27).",
            "CGCT art. R2334-27"))
    for line in grants:
        if line.is_detr and line.plan_amount > 0 and line.plan_amount / base < DETR_FLOOR:
            findings.append(_error(
                "state.detr_floor", f"{line.field}.amount",
                f"{line.label} : taux de DETR de {percent(line.plan_amount / base)}, "
                f"inférieur au plancher de 20 % de la dépense subventionnable "
                f"(CGCT art. R2334-27).", "CGCT art. R2334-27"))
    return findings


def check_commission(plan: PlanInput) -> list[Finding]:
    """A DETR subsidy above 100 000 € needs the opinion of the DETR commission."""
    findings = []
    for line in plan.lines:
        if not line.is_detr or line.plan_amount <= DETR_COMMISSION_THRESHOLD:
            continue
        if line.commission_opinion_date is not None:
            continue
        text = (f"{line.label} : une subvention DETR de {euros(line.plan_amount)} dépasse "
                f"100 000 € et requiert l'avis de la commission DETR (date d'avis à saisir) "
                f"(CGCT art. L2334-37).")
        if line.status is FundingStatus.GRANTED:
            findings.append(_error("detr.commission", f"{line.field}.commission_opinion_date",
                                   text, "CGCT art. L2334-37"))
        else:
            findings.append(_warning("detr.commission", f"{line.field}.commission_opinion_date",
                                     text, "CGCT art. L2334-37"))
    return findings


@dataclass(frozen=True)
class Deadlines:
    """Caducité and completion dates of State investment subsidies."""

    start_deadline: date | None
    completion_deadline: date | None
    start_article: str
    completion_article: str


def deadlines(plan: PlanInput) -> Deadlines | None:
    dotation = any(line.state_investment_grant and line.status is not FundingStatus.REFUSED
                   for line in plan.lines)
    subsidy = any(line.state_subsidy and line.status is not FundingStatus.REFUSED
                  for line in plan.lines)
    if not (dotation or subsidy):
        return None
    if dotation:
        start_article, completion_article = "CGCT art. R2334-28", "CGCT art. R2334-29"
    else:
        start_article = completion_article = "décret n° 2018-514 du 25 juin 2018"
    notified = plan.notification_date or min(
        (line.decision_date for line in plan.lines if line.decision_date), default=None)
    start_deadline = None
    if notified is not None:
        start_deadline = add_months(notified, 24 + min(plan.start_extension_months, 12))
    completion_deadline = None
    if plan.start_date is not None:
        completion_deadline = add_months(
            plan.start_date, 48 + min(plan.completion_extension_months, 24))
    return Deadlines(start_deadline, completion_deadline, start_article, completion_article)


def check_deadlines(plan: PlanInput, today: date) -> list[Finding]:
    findings = []
    if plan.start_extension_months > 12:
        findings.append(_error("deadline.start_extension", "start_extension_months",
                               "Prorogation du délai de commencement : un an au plus "
                               "(CGCT art. R2334-28).", "CGCT art. R2334-28"))
    if plan.completion_extension_months > 24:
        findings.append(_error("deadline.completion_extension", "completion_extension_months",
                               "Prorogation du délai d'achèvement : deux ans au plus "
                               "(CGCT art. R2334-29).", "CGCT art. R2334-29"))
    limits = deadlines(plan)
    if limits is None:
        return findings
    if limits.start_deadline and plan.start_date is None:
        days_left = (limits.start_deadline - today).days
        if days_left < 0:
            findings.append(_warning(
                "deadline.start_lapsed", "start_date",
                f"Subvention caduque : travaux non commencés au {day(limits.start_deadline)}, "
                f"deux ans après la notification ({limits.start_article}).",
                limits.start_article))
        elif days_left <= DEADLINE_WARNING_DAYS:
            findings.append(_warning(
                "deadline.start_soon", "start_date",
                f"Commencement des travaux à déclarer avant le {day(limits.start_deadline)} "
                f"(caducité, {limits.start_article}).", limits.start_article))
    if limits.completion_deadline and plan.end_date is None:
        days_left = (limits.completion_deadline - today).days
        if days_left < 0:
            findings.append(_warning(
                "deadline.completion_passed", "end_date",
                f"Délai d'achèvement dépassé depuis le {day(limits.completion_deadline)} "
                f"({limits.completion_article}).", limits.completion_article))
        elif days_left <= DEADLINE_WARNING_DAYS:
            findings.append(_warning(
                "deadline.completion_soon", "end_date",
                f"Achèvement à déclarer avant le {day(limits.completion_deadline)} "
                f"({limits.completion_article}).", limits.completion_article))
    return findings


def check_payments(plan: PlanInput) -> list[Finding]:
    findings = []
    for line in plan.lines:
        if not line.payments:
            continue
        where = f"{line.field}.payments"
        if line.status is not FundingStatus.GRANTED or line.granted is None:
            findings.append(_error(
                "payment.not_granted", where,
                f"{line.label} : un versement n'est possible que sur un financement accordé "
                "avec son montant.", "décret n° 2018-514", strict=True))
            continue
        paid = line.paid
        if paid > line.granted:
            findings.append(_error(
                "payment.above_granted", where,
                f"{line.label} : versements ({euros(paid)}) supérieurs au montant accordé "
                f"({euros(line.granted)}) de {euros(paid - line.granted)}.",
                "règle de paiement", strict=True))
        advance = total(p.amount for p in line.payments if p.kind is PaymentKind.ADVANCE)
        if line.granted > 0 and (line.state_subsidy or line.state_investment_grant):
            if advance > round_cents(line.granted * ADVANCE_MAX_WITH_GUARANTEE):
                findings.append(_error(
                    "payment.advance_max", where,
                    f"{line.label} : avance de {euros(advance)}, au-delà de 60 % du montant "
                    "accordé (décret n° 2018-514).", "décret n° 2018-514"))
            elif advance > round_cents(line.granted * ADVANCE_MAX):
                findings.append(_warning(
                    "payment.advance_guarantee", where,
                    f"{line.label} : avance de {euros(advance)}, au-delà de 30 % du montant "
                    "accordé : une garantie bancaire est requise (décret n° 2018-514).",
                    "décret n° 2018-514"))
            before_balance = total(p.amount for p in line.payments
                                   if p.kind is not PaymentKind.BALANCE)
            long_works = (plan.start_date is not None and plan.end_date is not None
                          and add_months(plan.start_date, 48) < plan.end_date)
            limit = INSTALMENTS_MAX_LONG if long_works else INSTALMENTS_MAX
            if before_balance > round_cents(line.granted * limit):
                findings.append(_warning(
                    "payment.instalments_max", where,
                    f"{line.label} : avance et acomptes ({euros(before_balance)}) au-delà de "
                    f"{percent(limit)} du montant accordé avant le solde "
                    "(décret n° 2018-514).", "décret n° 2018-514"))
        for payment in line.payments:
            if (payment.payment_date and line.decision_date
                    and payment.payment_date < line.decision_date):
                findings.append(_error(
                    "payment.before_decision", where,
                    f"{line.label} : versement du {day(payment.payment_date)} antérieur à la "
                    f"décision du {day(line.decision_date)}.", "cohérence des dates",
                    strict=True))
    return findings


def _order(findings: list[Finding], pairs: Sequence[tuple[str, str, date | None, str, date | None]],
           code: str) -> None:
    for earlier_name, earlier_label, earlier, later_label, later in pairs:
        if earlier and later and later < earlier:
            findings.append(_error(
                code, earlier_name,
                f"{later_label} ({day(later)}) antérieure à la {earlier_label} ({day(earlier)}).",
                "cohérence des dates"))


def check_operation_dates(plan: PlanInput) -> list[Finding]:
    findings: list[Finding] = []
    _order(findings, [
        ("decision_date", "date de dépôt", plan.deposit_date, "Date de décision",
         plan.decision_date),
        ("notification_date", "date de décision", plan.decision_date, "Date de notification",
         plan.notification_date),
        ("end_date", "date de début", plan.start_date, "Date de fin", plan.end_date),
    ], "dates.order")
    for line in plan.lines:
        if line.decision_date and plan.deposit_date and line.decision_date < plan.deposit_date:
            findings.append(_error(
                "dates.order", f"{line.field}.decision_date",
                f"{line.label} : décision du {day(line.decision_date)} antérieure au dépôt "
                f"du {day(plan.deposit_date)}.", "cohérence des dates"))
    return findings


def check_lines(plan: PlanInput) -> list[Finding]:
    findings = []
    for line in plan.lines:
        if line.status is FundingStatus.GRANTED and line.granted is None:
            findings.append(_warning("line.granted_unknown", f"{line.field}.amount_granted",
                                     f"{line.label} : accordé, montant non communiqué.",
                                     "plan de financement"))
        if (line.status is FundingStatus.GRANTED and line.requested is not None
                and line.granted is not None and line.granted > line.requested):
            findings.append(_warning(
                "line.granted_above_requested", f"{line.field}.amount_granted",
                f"{line.label} : montant accordé ({euros(line.granted)}) supérieur au montant "
                f"sollicité ({euros(line.requested)}).", "plan de financement"))
    return findings


def evaluate_operation(plan: PlanInput, today: date) -> list[Finding]:
    """Every rule on one operation's financing plan, payments and dates."""
    return [
        *check_costs(plan), *check_balance(plan), *check_own_share(plan),
        *check_state_grants(plan), *check_commission(plan), *check_lines(plan),
        *check_payments(plan), *check_operation_dates(plan), *check_deadlines(plan, today),
    ]


# --- Contracts ---------------------------------------------------------------

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


def proposed_end_date(start: date | None, duration_years: int | None) -> date | None:
    """End proposed from the contract type's usual duration (the agent may change it)."""
    if start is None or not duration_years:
        return None
    return add_months(start, 12 * duration_years) - timedelta(days=1)


def evaluate_contract(contract: ContractInput) -> list[Finding]:
    findings: list[Finding] = []
    _order(findings, [
        ("end_date", "date de début", contract.start_date, "Date de fin", contract.end_date),
        ("start_date", "date de signature", contract.signature_date,
         "Date de début d'exécution", contract.start_date),
    ], "contract.dates")
    if contract.signed and contract.signature_date is None:
        findings.append(_warning("contract.signature_missing", "signature_date",
                                 "Contrat signé : la date de signature n'est pas renseignée.",
                                 "cohérence des dates"))
    for amount, name, label in ((contract.envelope_total, "envelope_total", "Enveloppe totale"),
                                (contract.envelope_state, "envelope_state", "Part de l'État")):
        if amount is not None and amount < 0:
            findings.append(_error("contract.negative", name,
                                   f"{label} : un montant ne peut pas être négatif.", strict=True))
    if (contract.envelope_total is not None and contract.envelope_state is not None
            and contract.envelope_state > contract.envelope_total):
        findings.append(_error(
            "contract.state_above_total", "envelope_state",
            f"Part de l'État ({euros(contract.envelope_state)}) supérieure à l'enveloppe totale "
            f"({euros(contract.envelope_total)}).", "enveloppe du contrat"))
    for index, signed_on in enumerate(contract.amendment_dates, start=1):
        if signed_on and contract.signature_date and signed_on < contract.signature_date:
            findings.append(_error(
                "contract.amendment_before_signature", f"amendments[{index - 1}].date",
                f"Avenant {index} ({day(signed_on)}) antérieur à la signature du contrat "
                f"({day(contract.signature_date)}).", "cohérence des dates"))
    return findings
