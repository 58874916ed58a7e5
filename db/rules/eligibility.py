"""Who may receive a dotation, when the works may start, and the dates of an operation
against each other and against its contracts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from db.rules import texts
from db.rules.findings import Finding, day, error, warning
from db.rules.inputs import PlanInput
from db.vocabulary import COMMITTED_OPERATION_STATUSES, FundingStatus, OrganisationKind

DETR_SMALL_COMMUNE = 2000  # L2334-33, 2° a) (métropole)
DETR_COMMUNE_MAX = 20000  # L2334-33, 2° b) (métropole)
EU_SCHEMES = {"FEDER", "FSE", "FEADER"}


def _detr(plan: PlanInput, label: str) -> list[Finding]:
    article = texts.DETR_BENEFICIARIES
    kind = plan.owner_kind
    if kind not in (OrganisationKind.COMMUNE, OrganisationKind.EPCI,
                    OrganisationKind.LOCAL_GROUPING):
        return [error("beneficiary.not_eligible", "owner_id",
                      f"{label} : un maître d'ouvrage de nature « {kind.label.lower()} » ne "
                      f"peut pas bénéficier de la DETR, réservée aux communes, aux EPCI à "
                      f"fiscalité propre et aux syndicats de communes ou syndicats mixtes "
                      f"fermés de 60 000 habitants au plus ({article}).", article)]
    population = plan.owner_population
    if kind is OrganisationKind.COMMUNE and population is not None and not plan.owner_overseas:
        if population > DETR_COMMUNE_MAX:
            return [error("beneficiary.commune_too_large", "owner_id",
                          f"{label} : commune de {population:,} habitants".replace(",", " ")
                          + f", au-delà des 20 000 habitants de la DETR ({article}).",
                          article)]
        if population > DETR_SMALL_COMMUNE and any(
                line.scheme == "DETR" and line.status is FundingStatus.REQUESTED
                for line in plan.lines):
            # Once granted, the prefect has checked the year's list: nothing to say.
            return [warning("beneficiary.financial_potential", "owner_id",
                            f"{label} : commune de {population:,} habitants".replace(",", " ")
                            + ", éligible à la DETR seulement si son potentiel financier par "
                            "habitant est inférieur à 1,3 fois celui de sa strate : vérifiez la "
                            f"liste préfectorale de l'année ({article}).", article)]
    return []


def _dsil(plan: PlanInput, label: str) -> list[Finding]:
    article = texts.DSIL_BENEFICIARIES
    if plan.owner_kind in (OrganisationKind.COMMUNE, OrganisationKind.EPCI):
        return []
    return [error("beneficiary.not_eligible", "owner_id",
                  f"{label} : un maître d'ouvrage de nature "
                  f"« {plan.owner_kind.label.lower()} » ne peut pas bénéficier de la DSIL, "
                  f"réservée aux communes et aux EPCI à fiscalité propre ({article}).",
                  article)]


def check_beneficiary(plan: PlanInput) -> list[Finding]:
    """Who the law lets receive the DETR (L2334-33) and the DSIL (L2334-42)."""
    if plan.owner_kind is None:
        return []
    findings = []
    for line in plan.lines:
        if line.status is FundingStatus.REFUSED:
            continue
        if line.scheme == "DETR":
            findings += _detr(plan, line.label)
        elif line.scheme == "DSIL":
            findings += _dsil(plan, line.label)
    return findings


def check_early_start(plan: PlanInput) -> list[Finding]:
    """No State subsidy for an operation whose execution started (its first legal act)
    before the request was received, save the prefect's notification for a dotation
    (R2334-24 II) or an EU co-financed programme under the décret (art. 5 III)."""
    aided = [line for line in plan.lines
             if line.is_state_aid and line.status is not FundingStatus.REFUSED]
    if not aided or plan.start_date is None or plan.deposit_date is None:
        return []
    if plan.start_date >= plan.deposit_date:  # the same day is allowed
        return []
    when = (f"Exécution commencée le {day(plan.start_date)}, avant la réception de la "
            f"demande le {day(plan.deposit_date)}")
    findings = []
    if any(line.state_investment_grant for line in aided):
        article = texts.DOTATION_EARLY_START
        if plan.early_start_date is not None:
            findings.append(warning(
                "dates.started_before_deposit", "start_date",
                f"{when}, couvert par la notification du préfet du "
                f"{day(plan.early_start_date)} ({article}, II).", article))
        else:
            findings.append(error(
                "dates.started_before_deposit", "start_date",
                f"{when} : aucune dotation ne peut être accordée, sauf notification "
                f"contraire du préfet (date à saisir) ({article}).", article))
    if any(line.state_subsidy for line in aided):
        article = texts.DECREE_EARLY_START
        if any(line.scheme in EU_SCHEMES and line.status is not FundingStatus.REFUSED
               for line in plan.lines):
            findings.append(warning(
                "dates.started_before_deposit_eu", "start_date",
                f"{when} : admis seulement si la réglementation européenne du programme "
                f"cofinancé l'autorise ({article}, III).", article))
        else:
            findings.append(error(
                "dates.started_before_deposit", "start_date",
                f"{when} : aucun commencement d'exécution ne peut être opéré avant la "
                f"réception de la demande d'une subvention de l'État ({article}).",
                article))
    return findings


def check_owner(plan: PlanInput) -> list[Finding]:
    if plan.status in COMMITTED_OPERATION_STATUSES and plan.owner_kind is None:
        return [error("operation.no_owner", "owner_id",
                      f"Opération « {plan.status.label.lower()} » sans maître d'ouvrage : "
                      "choisissez ou saisissez le maître d'ouvrage.", texts.PLAN)]
    return []


def commitment_date(plan: PlanInput) -> date | None:
    """When the operation was committed: its decision, else the first grant."""
    if plan.decision_date is not None:
        return plan.decision_date
    return min((line.decision_date for line in plan.lines
                if line.status is FundingStatus.GRANTED and line.decision_date), default=None)


def check_contract_period(plan: PlanInput) -> list[Finding]:
    committed = commitment_date(plan)
    if committed is None:
        return []
    findings = []
    for contract in plan.contracts:
        if contract.end_date is not None and committed > contract.end_date:
            findings.append(warning(
                "contract.after_end", "links",
                f"Opération engagée le {day(committed)}, après la fin du contrat "
                f"« {contract.reference} » le {day(contract.end_date)} : à rattacher par un "
                "avenant de prolongation ou à détacher du contrat.", texts.CONTRACT))
    return findings


def _order(findings: list[Finding],
           pairs: Sequence[tuple[str, str, date | None, str, date | None]], code: str) -> None:
    for earlier_name, earlier_label, earlier, later_label, later in pairs:
        if earlier and later and later < earlier:
            findings.append(error(
                code, earlier_name,
                f"{later_label} ({day(later)}) antérieure à la {earlier_label} ({day(earlier)}).",
                texts.DATES))


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
            findings.append(error(
                "dates.order", f"{line.field}.decision_date",
                f"{line.label} : décision du {day(line.decision_date)} antérieure au dépôt "
                f"du {day(plan.deposit_date)}.", texts.DATES))
        if line.notification_date and line.decision_date \
                and line.notification_date < line.decision_date:
            findings.append(error(
                "dates.order", f"{line.field}.notification_date",
                f"{line.label} : notification du {day(line.notification_date)} antérieure à "
                f"la décision du {day(line.decision_date)}.", texts.DATES))
    return findings
