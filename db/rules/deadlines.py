"""Caducité and completion of State investment subsidies, line by line.

A lapse is a fact the prefect records, not a typing error: it is a warning (the
operation can still be saved, e.g. to record the extension or the abandon), worded
as what it is.

Each State subsidy runs from its own notification: a DETR notified in March and a
Fonds vert notified in September lapse on different days, and neither runs from a
Région's decision. Without a notification date the deadline is not computed (and
the agent is told what to enter), never guessed from another date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from db.rules import texts
from db.rules.findings import Finding, add_months, day, error, warning
from db.rules.inputs import LineInput, PlanInput
from db.vocabulary import FundingStatus

START_MONTHS = 24
START_EXTENSION_MAX = 12
COMPLETION_MONTHS = 48
COMPLETION_EXTENSION_MAX = 24
DEADLINE_WARNING_DAYS = 90


@dataclass(frozen=True)
class Deadlines:
    """The two dates of one State subsidy."""

    label: str  # "Ligne 1 (DETR)"
    field: str
    scheme_label: str
    notification_date: date | None
    start_deadline: date | None  # works to start by this day included
    completion_deadline: date | None  # works to finish by this day included
    start_article: str
    completion_article: str
    fixed_by_decision: bool = False  # décret 2018-514: completion date of the decision


def _articles(line: LineInput) -> tuple[str, str]:
    if line.state_investment_grant:
        return texts.DOTATION_START, texts.DOTATION_COMPLETION
    return texts.DECREE_START, texts.DECREE_COMPLETION


def notification_of(plan: PlanInput, line: LineInput) -> date | None:
    """The line's own notification; the operation's notification date stands for it
    only when the line is the operation's one State subsidy (it then is its notice)."""
    if line.notification_date is not None:
        return line.notification_date
    aided = [other for other in plan.lines
             if other.is_state_aid and other.status is not FundingStatus.REFUSED]
    return plan.notification_date if aided == [line] else None


def line_deadlines(plan: PlanInput, line: LineInput) -> Deadlines:
    start_article, completion_article = _articles(line)
    notified = notification_of(plan, line)
    start = completion = None
    if notified is not None:
        # "À l'expiration d'un délai de deux ans à compter de la notification": the
        # deadline is the same day two years on (29 February → 28 February).
        start = add_months(notified, START_MONTHS + min(plan.start_extension_months,
                                                        START_EXTENSION_MAX))
    if line.state_investment_grant:
        # R2334-29: four years from the declared start of execution (+ two at most).
        if plan.start_date is not None:
            completion = add_months(plan.start_date, COMPLETION_MONTHS + min(
                plan.completion_extension_months, COMPLETION_EXTENSION_MAX))
    else:
        # Décret 2018-514: the date the decision sets (art. 8, 4° and 14, 3°).
        completion = line.planned_completion_date
    return Deadlines(line.label, line.field, line.name, notified, start, completion,
                     start_article, completion_article, not line.state_investment_grant)


def deadlines(plan: PlanInput) -> list[Deadlines]:
    """The deadlines of every State investment subsidy of the plan not refused."""
    return [line_deadlines(plan, line) for line in plan.lines
            if line.is_state_aid and line.status is not FundingStatus.REFUSED]


def check_deadlines(plan: PlanInput, today: date) -> list[Finding]:
    findings = []
    if plan.start_extension_months > START_EXTENSION_MAX:
        findings.append(error("deadline.start_extension", "start_extension_months",
                              "Prorogation du délai de commencement : un an au plus "
                              f"({texts.DOTATION_START}).", texts.DOTATION_START))
    if plan.completion_extension_months > COMPLETION_EXTENSION_MAX:
        findings.append(error("deadline.completion_extension", "completion_extension_months",
                              "Prorogation du délai d'achèvement : deux ans au plus "
                              f"({texts.DOTATION_COMPLETION}).", texts.DOTATION_COMPLETION))
    for limits in deadlines(plan):
        findings += _start(plan, limits, today) + _completion(plan, limits, today)
    return findings


def _start(plan: PlanInput, limits: Deadlines, today: date) -> list[Finding]:
    article, line = limits.start_article, limits.label
    if limits.start_deadline is None:
        if any(other.field == limits.field and other.status is FundingStatus.GRANTED
               for other in plan.lines):
            return [warning("deadline.no_notification", f"{limits.field}.notification_date",
                            f"{line} : date de notification à saisir pour calculer le délai "
                            f"de caducité ({article}).", article)]
        return []
    deadline = limits.start_deadline
    if plan.start_date is not None:
        if plan.start_date > deadline:
            return [warning("deadline.started_late", "start_date",
                          f"{line} : subvention caduque, travaux commencés le "
                          f"{day(plan.start_date)}, après le {day(deadline)} (deux ans après "
                          f"la notification du {day(limits.notification_date)}, prorogation "
                          f"comprise) ({article}).", article)]
        return []
    days_left = (deadline - today).days
    if days_left < 0:
        return [warning("deadline.start_lapsed", "start_date",
                      f"{line} : subvention caduque, travaux non commencés au "
                      f"{day(deadline)}, deux ans après la notification du "
                      f"{day(limits.notification_date)} ({article}).", article)]
    if days_left <= DEADLINE_WARNING_DAYS:
        return [warning("deadline.start_soon", "start_date",
                        f"{line} : commencement des travaux à déclarer au plus tard le "
                        f"{day(deadline)} (caducité, {article}).", article)]
    return []


def _completion(plan: PlanInput, limits: Deadlines, today: date) -> list[Finding]:
    deadline, article, line = limits.completion_deadline, limits.completion_article, limits.label
    if deadline is None:
        return []
    if limits.fixed_by_decision:
        consequence = ("le projet non réalisé à la date prévue par la décision expose au "
                       "reversement de la subvention")
        basis = "date d'achèvement prévue par la décision"
    else:
        consequence = ("l'opération est réputée terminée à cette date et aucun versement ne "
                       "peut plus être demandé")
        basis = "quatre ans après le commencement, prorogation comprise"
    if plan.end_date is not None:
        if plan.end_date > deadline:
            return [warning("deadline.finished_late", "end_date",
                            f"{line} : travaux achevés le {day(plan.end_date)}, après le "
                            f"{day(deadline)} ({basis}) : {consequence} ({article}).",
                            article)]
        return []
    days_left = (deadline - today).days
    if days_left < 0:
        return [warning("deadline.completion_passed", "end_date",
                        f"{line} : délai d'achèvement dépassé depuis le {day(deadline)} "
                        f"({basis}) : {consequence} ({article}).", article)]
    if days_left <= DEADLINE_WARNING_DAYS:
        return [warning("deadline.completion_soon", "end_date",
                        f"{line} : achèvement à déclarer au plus tard le {day(deadline)} "
                        f"({basis}, {article}).", article)]
    return []
