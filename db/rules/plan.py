"""Rules on the financing plan itself: costs and expense items, balance, the owner's
minimum share, the State dotations' floor and ceiling, the DETR commission.

Every threshold is compared exactly on the amounts (Decimal arithmetic on cents, no
rounding before comparing): 19,99 % is under 20 %, on any amount.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from db.formatting import euros, percent
from db.money import ZERO, total
from db.rules import texts
from db.rules.findings import Finding, cents_up, error, ratio, warning
from db.rules.inputs import PlanInput
from db.vocabulary import BaseKind, FundingStatus, OperationStatus, OwnShareException

MIN_OWN_SHARE = Decimal("0.20")
MIN_OWN_SHARE_CHEF_DE_FILE = Decimal("0.30")
STATE_GRANTS_CAP = Decimal("0.80")
DETR_FLOOR = Decimal("0.20")
DETR_COMMISSION_THRESHOLD = Decimal("100000.00")
BASE_FIELD = {BaseKind.HT: "cost_ht", BaseKind.TTC: "cost_ttc"}


def check_costs(plan: PlanInput) -> list[Finding]:
    findings = []
    for name, value, label in (("cost_ht", plan.cost_ht, "Coût HT"),
                               ("cost_ttc", plan.cost_ttc, "Coût TTC"),
                               ("eligible_cost", plan.eligible_cost, "Dépense subventionnable")):
        if value is not None and value < 0:
            findings.append(error("cost.negative", name,
                                  f"{label} : un montant ne peut pas être négatif.", texts.PLAN,
                                  strict=True))
    if plan.cost_ht is not None and plan.cost_ttc is not None and plan.cost_ttc < plan.cost_ht:
        findings.append(error(
            "cost.ttc_below_ht", "cost_ttc",
            f"Coût TTC ({euros(plan.cost_ttc)}) inférieur au coût HT ({euros(plan.cost_ht)}).",
            texts.PLAN))
    if (plan.eligible_cost is not None and plan.cost_ht is not None
            and plan.eligible_cost > plan.cost_ht):
        findings.append(error(
            "cost.eligible_above_ht", "eligible_cost",
            f"Dépense subventionnable ({euros(plan.eligible_cost)}) supérieure au coût HT "
            f"({euros(plan.cost_ht)}).", texts.PLAN))
    return findings


def check_expenses(plan: PlanInput) -> list[Finding]:
    """Once expense items are recorded, they make up the costs exactly."""
    items = plan.expenses
    if not items:
        return []
    findings = []
    for index, item in enumerate(items, start=1):
        if not item.label.strip():
            findings.append(error("expenses.label", f"expenses[{index - 1}].label",
                                  f"Poste de dépense {index} : intitulé à saisir.", texts.PLAN))
        if item.ht is None:
            findings.append(error("expenses.ht", f"expenses[{index - 1}].ht",
                                  f"Poste de dépense {index} : montant HT à saisir.", texts.PLAN))
        elif item.ttc is not None and item.ttc < item.ht:
            findings.append(error(
                "expenses.ttc_below_ht", f"expenses[{index - 1}].ttc",
                f"Poste de dépense {index} : TTC ({euros(item.ttc)}) inférieur au HT "
                f"({euros(item.ht)}).", texts.PLAN))
    if any(item.ht is None for item in items):
        return findings
    total_ht = total(item.ht for item in items)
    if plan.cost_ht is not None and total_ht != plan.cost_ht:
        findings.append(error(
            "expenses.total_ht", "cost_ht",
            f"Postes de dépense : total HT de {euros(total_ht)}, différent du coût HT de "
            f"l'opération ({euros(plan.cost_ht)}) de {euros(abs(total_ht - plan.cost_ht))}.",
            texts.PLAN))
    if all(item.ttc is not None for item in items) and plan.cost_ttc is not None:
        total_ttc = total(item.ttc for item in items)
        if total_ttc != plan.cost_ttc:
            findings.append(error(
                "expenses.total_ttc", "cost_ttc",
                f"Postes de dépense : total TTC de {euros(total_ttc)}, différent du coût TTC "
                f"de l'opération ({euros(plan.cost_ttc)}) de "
                f"{euros(abs(total_ttc - plan.cost_ttc))}.", texts.PLAN))
    eligible = total(item.ht for item in items if item.eligible)
    if plan.eligible_cost is not None and eligible != plan.eligible_cost:
        findings.append(error(
            "expenses.eligible", "eligible_cost",
            f"Dépense subventionnable de {euros(plan.eligible_cost)}, différente du total HT "
            f"des postes subventionnables ({euros(eligible)}).", texts.PLAN))
    return findings


def check_balance(plan: PlanInput) -> list[Finding]:
    """Sum of the funding lines + the owner's share = the cost of the financed base."""
    base = plan.base_cost
    base_field = BASE_FIELD[plan.base_kind]
    if base is None:
        if plan.funding_total > 0:
            return [warning(
                "plan.no_base", base_field,
                f"Coût {plan.base_kind.value} non renseigné : le plan de financement "
                "ne peut pas être équilibré.", texts.PLAN)]
        return []
    share = base - plan.funding_total
    if share < 0:
        return [error(
            "plan.over_funded", "funding_lines",
            f"Plan de financement déséquilibré : les financements ({euros(plan.funding_total)}) "
            f"dépassent le coût {plan.base_kind.value} ({euros(base)}) de {euros(-share)}.",
            texts.PLAN)]
    return []


MIN_OWN_SHARE_SCHOOL_RENOVATION = Decimal("0.10")


def _own_share_rate(plan: PlanInput) -> Decimal:
    return MIN_OWN_SHARE_CHEF_DE_FILE if plan.chef_de_file else MIN_OWN_SHARE


def _minimum(plan: PlanInput, rate: Decimal) -> Decimal:
    """At a given cost, what the owner must bring: *rate* of all public funding, its
    own share included (others' aid + share = the cost less private funding, which does
    not move when the aid is cut), to the cent above."""
    share = max(plan.owner_share or ZERO, ZERO)
    return cents_up(rate * (plan.public_funding + share))


def minimum_own_share(plan: PlanInput) -> Decimal | None:
    """The smallest owner's share that meets L1111-10 (20 % of all public funding, the
    owner's own share included; 30 % for a chef-de-file competence, L1111-9) at this
    cost; None when the rule does not bind the owner."""
    if not plan.own_share_applies or plan.owner_share is None:
        return None
    return _minimum(plan, _own_share_rate(plan))


def _meets(plan: PlanInput, share: Decimal, rate: Decimal) -> bool:
    """Exact: no rounding before comparing."""
    return share >= rate * (plan.public_funding + share)


def check_own_share(plan: PlanInput) -> list[Finding]:
    share = plan.owner_share
    if not plan.own_share_applies or share is None:
        if plan.own_share_exception and plan.owner_kind is not None \
                and not plan.owner_local_authority:
            return [warning("own_share.exception_unused", "own_share_exception",
                            "Dérogation à la participation minimale inutile : le maître "
                            "d'ouvrage n'est pas une collectivité.", texts.OWN_SHARE)]
        return []
    share = max(share, ZERO)
    rate = _own_share_rate(plan)
    if _meets(plan, share, rate):
        return []
    article = texts.OWN_SHARE_CHEF_DE_FILE if plan.chef_de_file else texts.OWN_SHARE
    public_total = plan.public_funding + share
    actual = ratio(share, public_total) or ZERO
    minimum = _minimum(plan, rate)
    text = (f"Participation du maître d'ouvrage : {euros(share)} "
            f"({percent(actual, ROUND_FLOOR)} du total des financements publics), inférieure au "
            f"minimum de {percent(rate)} : au moins {euros(minimum)}, soit "
            f"{euros(minimum - share)} d'aides publiques en moins")
    exception = plan.own_share_exception
    if not exception:
        return [error("own_share.minimum", "funding_lines", f"{text} ({article}).", article)]
    if not (plan.own_share_exception_ref or "").strip():
        return [error("own_share.exception_without_ref", "own_share_exception_ref",
                      f"{text} : la dérogation invoquée doit citer sa décision ou son "
                      "fondement (champ « référence de la dérogation »).", article)]
    reference = plan.own_share_exception_ref.strip().rstrip(".")
    label = OwnShareException(exception).label
    if exception == OwnShareException.PREFECT_DEROGATION \
            and not _meets(plan, share, MIN_OWN_SHARE_SCHOOL_RENOVATION):
        floor = MIN_OWN_SHARE_SCHOOL_RENOVATION
        return [error("own_share.below_school_floor", "funding_lines",
                      f"{text} ; même avec la dérogation « {label} », la participation ne "
                      f"peut descendre sous {percent(floor)} : au moins "
                      f"{euros(_minimum(plan, floor))} ({texts.OWN_SHARE}).",
                      texts.OWN_SHARE)]
    return [warning("own_share.exception", "own_share_exception",
                    f"{text} ; dérogation : {label} — {reference}.", article)]


def check_state_grants(plan: PlanInput) -> list[Finding]:
    """DETR, DSIL, DPV and DSID together at most 80 % of the subsidisable expense; the
    DETR rate at least 20 % of it."""
    grants = [line for line in plan.lines
              if line.state_investment_grant and line.status is not FundingStatus.REFUSED]
    if not grants:
        return []
    base = plan.subsidisable
    article = texts.DOTATION_RATES
    if base is None or base == 0:
        return [warning("state.no_base", "eligible_cost",
                        "Dépense subventionnable HT non renseignée : les taux DETR/DSIL ne "
                        f"peuvent pas être vérifiés ({article}).", article)]
    findings = []
    state_total = total(line.plan_amount for line in grants)
    if state_total > base * STATE_GRANTS_CAP:
        findings.append(error(
            "state.cap", "funding_lines",
            f"DETR, DSIL, DPV et DSID cumulées : {euros(state_total)} "
            f"({percent(state_total / base, ROUND_CEILING)} de la dépense subventionnable de "
            f"{euros(base)}), "
            f"au-delà du plafond de 80 % ({euros(base * STATE_GRANTS_CAP)}) ({article}).",
            article))
    for line in grants:
        amount = line.plan_amount
        if line.is_detr and amount > 0 and amount < base * DETR_FLOOR:
            findings.append(error(
                "state.detr_floor", f"{line.field}.amount",
                f"{line.label} : taux de DETR de {percent(amount / base, ROUND_FLOOR)}, "
                f"inférieur au "
                f"plancher de 20 % de la dépense subventionnable HT ({euros(base)}) "
                f"({article}).", article))
    return findings


def check_public_aid_cap(plan: PlanInput) -> list[Finding]:
    """Décret 2018-514, art. 10 III: a State subsidy under the décret may not bring all
    public aid beyond the subsidisable expense (100 %, not 80 %)."""
    if not any(line.state_subsidy and line.status is not FundingStatus.REFUSED
               for line in plan.lines):
        return []
    # The décret's subsidisable expense is TTC for an owner who bears the VAT (a plan on
    # the TTC cost), HT otherwise.
    base = plan.base_cost if plan.base_kind is BaseKind.TTC else plan.subsidisable
    aid = plan.public_funding
    if base is None or aid <= base:
        return []
    article = texts.DECREE_AID_CAP
    return [error("state.public_aid_cap", "funding_lines",
                  f"Aides publiques cumulées de {euros(aid)}, au-delà de la dépense "
                  f"subventionnable de {euros(base)} de {euros(aid - base)} : une subvention de "
                  f"l'État ne peut porter les aides publiques au-delà ({article}).", article)]


def check_commission(plan: PlanInput) -> list[Finding]:
    """A DETR subsidy above 100 000 € needs the opinion of the commission of elected
    members."""
    findings = []
    article = texts.DETR_COMMISSION
    for line in plan.lines:
        if not line.is_detr or line.status is FundingStatus.REFUSED \
                or line.plan_amount <= DETR_COMMISSION_THRESHOLD:
            continue
        if line.commission_opinion_date is not None:
            continue
        # A step of the procedure, not a figure of the plan: a warning, even once granted.
        findings.append(warning(
            "detr.commission", f"{line.field}.commission_opinion_date",
            f"{line.label} : une subvention DETR de {euros(line.plan_amount)} dépasse "
            f"100 000 € et requiert l'avis de la commission d'élus (date d'avis à saisir) "
            f"({article}).", article))
    return findings


FINISHED = {OperationStatus.COMPLETED, OperationStatus.SETTLED}


def check_lines(plan: PlanInput) -> list[Finding]:
    findings = []
    for line in plan.lines:
        if plan.status in FINISHED and line.status is FundingStatus.REQUESTED:
            findings.append(warning(
                "line.pending_on_finished", f"{line.field}.status",
                f"{line.label} : toujours sollicité alors que l'opération est "
                f"{plan.status.label.lower()} : enregistrez la décision (accordé ou "
                "refusé).", texts.PLAN))
        if plan.status is OperationStatus.SETTLED and line.status is FundingStatus.GRANTED \
                and line.granted is not None and line.remaining > 0:
            findings.append(warning(
                "line.remainder_on_settled", f"{line.field}.payments",
                f"{line.label} : opération soldée, {euros(line.remaining)} accordés non "
                "versés : reliquat à annuler (ou versement à enregistrer).", texts.PAYMENT))
        if line.status is FundingStatus.GRANTED and line.granted is None:
            findings.append(warning("line.granted_unknown", f"{line.field}.amount_granted",
                                    f"{line.label} : accordé, montant non communiqué.",
                                    texts.PLAN))
        if (line.status is FundingStatus.GRANTED and line.requested is not None
                and line.granted is not None and line.granted > line.requested):
            findings.append(warning(
                "line.granted_above_requested", f"{line.field}.amount_granted",
                f"{line.label} : montant accordé ({euros(line.granted)}) supérieur au montant "
                f"sollicité ({euros(line.requested)}).", texts.PLAN))
    return findings
