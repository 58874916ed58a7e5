"""The échéancier of the arrondissement: every date that falls due, computed from the data.

The dates of the State subsidies are those of :mod:`db.rules.deadlines` (CGCT R2334-28
and R2334-29 for the dotations, décret n° 2018-514 art. 8, 11 and 14 for the other State
subsidies): this module only chooses, in SQL, the funding lines that can fall due and
hands each one to the rule. Nothing is stored: the list is made again at each reading.

What falls due:

- ``notification``: a granted State subsidy, works not started, whose notification date
  is not known (neither the line's nor, when it is the operation's only State subsidy,
  the operation's): its caducité runs from the notification and cannot be computed, so
  the date is to be entered; due on the decision date (today without one);
- ``caducite_debut``: a granted State subsidy whose works have not started; the day
  they must start by (two years after the line's notification, extension included);
- ``prorogation``: such a deadline (or the completion deadline of a dotation) within
  :data:`EXTENSION_NOTICE_DAYS` days with no extension granted yet: the prefect may
  extend it (one year at most for the start, two years for the completion);
- ``achevement``: works started, not declared finished: the completion deadline;
- ``versement``: works finished with something left to pay on a State subsidy: the
  solde is expected :data:`SOLDE_EXPECTED_MONTHS` months after the end of the works (the
  office's follow-up), and at the latest by the completion deadline, after which
  "aucun versement ne peut plus être demandé" (R2334-29);
- ``solde_non_demande``: the completion deadline has passed with something left to pay
  (the balance was never claimed: the rest is to be cancelled);
- ``fin_contrat``: the end of a contract not closed (overdue: to be closed or extended);
- ``avenant`` and ``comite``: amendments and steering committees dated today or later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.formatting import euros, short_date
from db.models import (
    Amendment,
    Contract,
    FundingLine,
    FundingScheme,
    Operation,
    OperationLink,
    SteeringMeeting,
    contract_commune,
    contract_epci,
    epci_member,
    operation_commune,
)
from db.rules.deadlines import (
    COMPLETION_MONTHS,
    DEADLINE_WARNING_DAYS,
    START_MONTHS,
    line_deadlines,
)
from db.rules.findings import add_months
from db.rules.inputs import LineInput, PlanInput
from db.vocabulary import ContractStatus, FundingStatus, OperationStatus

# The prefect's decision to extend is proposed this many days before the deadline.
EXTENSION_NOTICE_DAYS = DEADLINE_WARNING_DAYS
# Works finished, something left to pay: the solde is expected within this many months
# (the office's follow-up, never later than the legal limit of the completion deadline).
SOLDE_EXPECTED_MONTHS = 6

KIND_LABELS = {
    "notification": "Notification à enregistrer",
    "caducite_debut": "Début des travaux avant caducité",
    "prorogation": "Prorogation à décider",
    "achevement": "Achèvement des travaux",
    "versement": "Solde à demander",
    "solde_non_demande": "Solde jamais demandé",
    "fin_contrat": "Fin du contrat",
    "avenant": "Avenant prévu",
    "comite": "Comité de pilotage",
}
KINDS = tuple(KIND_LABELS)
CONTRACT_KINDS = ("fin_contrat", "avenant", "comite")
# Among deadlines of the same day, what to do first.
_ORDER = {kind: index for index, kind in enumerate(
    ("solde_non_demande", "notification", "caducite_debut", "prorogation", "achevement",
     "versement", "fin_contrat", "avenant", "comite"))}


@dataclass(frozen=True)
class Deadline:
    due: date
    kind: str  # one of KINDS
    kind_label: str  # French: « Début des travaux avant caducité »…
    label: str  # what it is about: reference — title
    entity: str  # "operation" | "contract"
    record_id: uuid.UUID
    scheme_label: str | None
    amount: Decimal | None
    overdue: bool
    # Beyond the shared interface (all with defaults):
    detail: str = ""  # a French sentence saying what to do, citing the text
    reference: str = ""  # of the operation or contract
    source_id: uuid.UUID | None = None  # the funding line, amendment or meeting
    article: str | None = None

    @property
    def uid(self) -> str:
        """Stable across exports (a deadline moved by an extension keeps its identity),
        so that a calendar re-imported updates its events instead of duplicating them."""
        return f"{self.kind}-{self.source_id or self.record_id}@suivi-contrats-territoriaux"

    def days_left(self, today: date) -> int:
        return (self.due - today).days

    def delay(self, today: date) -> str:
        """« dans 12 jours », « aujourd'hui », « en retard de 3 jours »."""
        days = self.days_left(today)
        if days == 0:
            return "aujourd'hui"
        if days < 0:
            return f"en retard de {-days} jour{'s' if days < -1 else ''}"
        return f"dans {days} jour{'s' if days > 1 else ''}"


# --- Which records can fall due (SQL) --------------------------------------------------

def _before(horizon: date, months: int) -> date:
    """A notification (or start) date after which a deadline *months* on cannot fall by
    *horizon*: add_months may clamp the day by up to three days (31 → 28 February), so
    the bound keeps a margin; the rule then decides exactly."""
    return add_months(horizon, -months) + timedelta(days=4)


def _operations_in_arrondissement(code: str):
    from db.lists import _operation_ids_in_arrondissement  # the lists' own notion

    return _operation_ids_in_arrondissement(code)


def _operation_filters(arrondissement: str | None, contract_id: uuid.UUID | None,
                       epci_code: str | None) -> list[ColumnElement[bool]]:
    conditions = []
    if arrondissement:
        conditions.append(Operation.id.in_(_operations_in_arrondissement(arrondissement)))
    if contract_id is not None:
        conditions.append(Operation.id.in_(
            select(OperationLink.operation_id).where(OperationLink.contract_id == contract_id)))
    if epci_code:
        conditions.append(Operation.id.in_(
            select(operation_commune.c.operation_id)
            .join(epci_member, epci_member.c.commune_code == operation_commune.c.commune_code)
            .where(epci_member.c.epci_code == epci_code)))
    return conditions


def _contract_filters(arrondissement: str | None, contract_id: uuid.UUID | None,
                      epci_code: str | None) -> list[ColumnElement[bool]]:
    from db.lists import contract_in_arrondissement

    conditions = []
    if arrondissement:
        conditions.append(contract_in_arrondissement(arrondissement))
    if contract_id is not None:
        conditions.append(Contract.id == contract_id)
    if epci_code:
        by_communes = (select(contract_commune.c.contract_id)
                       .join(epci_member,
                             epci_member.c.commune_code == contract_commune.c.commune_code)
                       .where(epci_member.c.epci_code == epci_code))
        conditions.append(or_(
            Contract.id.in_(select(contract_epci.c.contract_id)
                            .where(contract_epci.c.epci_code == epci_code)),
            Contract.id.in_(by_communes)))
    return conditions


def _line_query(today: date, horizon: date | None, scheme_code: str | None,
                filters: list[ColumnElement[bool]]):
    line = FundingLine.__table__.c
    other = aliased(FundingLine)
    other_scheme = aliased(FundingScheme)
    dotation = FundingScheme.state_investment_grant.is_(True)
    # Other State subsidies of the operation, not refused: the operation's notification
    # date stands for the line's only when there is none (db.rules.deadlines).
    others = (select(func.count()).select_from(other)
              .join(other_scheme, other_scheme.code == other.scheme_code)
              .where(other.operation_id == FundingLine.operation_id, other.id != FundingLine.id,
                     other.status != FundingStatus.REFUSED.value,
                     or_(other_scheme.state_investment_grant.is_(True),
                         other_scheme.state_subsidy.is_(True)))
              .scalar_subquery())
    notified = func.coalesce(FundingLine.notification_date, Operation.notification_date)
    left_to_pay = line.amount_granted_cents - line.paid_total_cents > 0
    not_finished_or_unpaid = or_(Operation.end_date.is_(None), left_to_pay)
    start = and_(Operation.start_date.is_(None), notified.is_not(None))
    # No notification date the rule can use (db.rules.deadlines.notification_of): the
    # line's own is missing, and the operation's does not stand for it.
    unnotified = and_(Operation.start_date.is_(None), FundingLine.notification_date.is_(None),
                      or_(Operation.notification_date.is_(None), others > 0))
    completion_dotation = and_(dotation, Operation.start_date.is_not(None),
                               not_finished_or_unpaid)
    completion_decree = and_(~dotation, FundingLine.planned_completion_date.is_not(None),
                             not_finished_or_unpaid)
    if horizon is not None:
        # A solde expected falls due some months after the end of the works, before
        # the completion deadline: those lines are selected by their end date.
        expected = and_(Operation.end_date.is_not(None), left_to_pay,
                        Operation.end_date <= _before(horizon, SOLDE_EXPECTED_MONTHS))
        start = and_(start, notified <= _before(horizon, START_MONTHS))
        completion_dotation = and_(completion_dotation, or_(
            Operation.start_date <= _before(horizon, COMPLETION_MONTHS), expected))
        completion_decree = and_(completion_decree, or_(
            FundingLine.planned_completion_date <= horizon, expected))
        unnotified = and_(unnotified, or_(FundingLine.decision_date.is_(None),
                                          FundingLine.decision_date <= horizon))
    query = (select(FundingLine.id, FundingLine.operation_id, FundingLine.amount_granted,
                    FundingLine.paid_total, FundingLine.notification_date,
                    FundingLine.planned_completion_date, FundingLine.scheme_code,
                    FundingScheme.state_investment_grant, FundingScheme.state_subsidy,
                    func.coalesce(FundingScheme.short_label, FundingScheme.label),
                    Operation.reference, Operation.title, Operation.notification_date,
                    Operation.start_date, Operation.end_date, Operation.start_extension_months,
                    Operation.completion_extension_months,
                    # Counted only for a line without its own notification date.
                    case((FundingLine.notification_date.is_(None), others), else_=0),
                    FundingLine.decision_date)
             .join(Operation, Operation.id == FundingLine.operation_id)
             .join(FundingScheme, FundingScheme.code == FundingLine.scheme_code)
             .where(FundingLine.status == FundingStatus.GRANTED.value,
                    or_(FundingScheme.state_investment_grant.is_(True),
                        FundingScheme.state_subsidy.is_(True)),
                    Operation.status.not_in([OperationStatus.SETTLED.value,
                                             OperationStatus.ABANDONED.value]),
                    or_(start, unnotified, completion_dotation, completion_decree),
                    *filters))
    if scheme_code:
        query = query.where(FundingLine.scheme_code == scheme_code)
    return query


# --- From a line to its deadlines (the rule) -------------------------------------------

def _line_deadlines(row, today: date) -> Iterable[Deadline]:
    (line_id, operation_id, granted, paid, line_notified, planned, _scheme, dotation, subsidy,
     scheme_label, reference, title, op_notified, started, finished, start_ext,
     completion_ext, others, decided) = row
    line = LineInput(label=scheme_label, field="", status=FundingStatus.GRANTED,
                     granted=granted, scheme=_scheme, scheme_label=scheme_label,
                     state_investment_grant=bool(dotation), state_subsidy=bool(subsidy),
                     notification_date=line_notified, planned_completion_date=planned)
    plan = PlanInput(lines=(line,), notification_date=op_notified if not others else None,
                     start_date=started, end_date=finished,
                     start_extension_months=start_ext or 0,
                     completion_extension_months=completion_ext or 0)
    limits = line_deadlines(plan, line)
    left = (granted - paid) if granted is not None else None
    label = f"{reference} — {title}"

    def item(kind: str, due: date, amount: Decimal | None, detail: str, article: str,
             source: uuid.UUID = line_id) -> Deadline:
        return Deadline(due, kind, KIND_LABELS[kind], label, "operation", operation_id,
                        scheme_label, amount, due < today, detail, reference, source, article)

    if started is None and limits.notification_date is None:
        # db.rules.deadlines never guesses the date: the agent is to enter it.
        due = decided or today
        decision = f" le {short_date(decided)}" if decided else ""
        amount = f" de {euros(granted)}" if granted is not None else ""
        yield item("notification", due, granted,
                   f"Subvention {scheme_label}{amount} attribuée{decision} : date de "
                   f"notification à enregistrer. Le délai de caducité (travaux à commencer "
                   f"dans les deux ans) court à compter de la notification et ne peut être "
                   f"calculé tant qu'elle n'est pas saisie ({limits.start_article}).",
                   limits.start_article)
    if started is None and limits.start_deadline is not None:
        due = limits.start_deadline
        extension = (f", prorogation de {start_ext} mois comprise" if start_ext else "")
        yield item("caducite_debut", due, granted,
                   f"Subvention {scheme_label} notifiée le "
                   f"{short_date(limits.notification_date)} : travaux à commencer au plus tard "
                   f"le {short_date(due)}{extension}, faute de quoi la subvention est caduque "
                   f"({limits.start_article}).",
                   limits.start_article)
        if not start_ext and 0 <= (due - today).days <= EXTENSION_NOTICE_DAYS:
            # R2334-28: "le représentant de l'État peut exceptionnellement proroger le
            # délai (…) pour une période qui ne peut excéder un an"; décret 2018-514,
            # art. 11: the authority that granted the subsidy decides.
            who = ("décision du préfet, d'un an au plus" if dotation
                   else "décision de l'autorité qui a attribué la subvention")
            yield item("prorogation", due, granted,
                       f"Prorogation du délai de commencement ({scheme_label}) : {who}, à "
                       f"prendre avant le {short_date(due)} ({limits.start_article}).",
                       limits.start_article,
                       source=uuid.uuid5(line_id, "prorogation-commencement"))
    deadline = limits.completion_deadline
    if deadline is None or (started is None and dotation):
        return
    unpaid = left is not None and left > 0
    if deadline < today and unpaid:
        yield item("solde_non_demande", deadline, left,
                   f"Délai d'achèvement expiré le {short_date(deadline)} avec "
                   f"{euros(left)} restant à verser ({scheme_label}) : aucun versement ne "
                   f"peut plus être demandé, le reliquat est à annuler "
                   f"({limits.completion_article}).", limits.completion_article)
        return
    if finished is None:
        yield item("achevement", deadline, granted,
                   f"Achèvement des travaux à déclarer au plus tard le {short_date(deadline)} "
                   f"({limits.completion_article}).", limits.completion_article)
        if dotation and not completion_ext and \
                0 <= (deadline - today).days <= EXTENSION_NOTICE_DAYS:
            yield item("prorogation", deadline, granted,
                       f"Prorogation du délai d'achèvement ({scheme_label}) : décision du "
                       f"préfet, de deux ans au plus, à prendre avant le "
                       f"{short_date(deadline)} ({limits.completion_article}).",
                       limits.completion_article,
                       source=uuid.uuid5(line_id, "prorogation-achevement"))
    elif unpaid:
        expected = min(add_months(finished, SOLDE_EXPECTED_MONTHS), deadline)
        yield item("versement", expected, left,
                   f"Travaux achevés le {short_date(finished)} : solde de {euros(left)} "
                   f"attendu (relance du bénéficiaire {SOLDE_EXPECTED_MONTHS} mois après "
                   f"l'achèvement) ; la demande est recevable jusqu'au {short_date(deadline)} "
                   f"({limits.completion_article}).", limits.completion_article)


# --- Contracts -----------------------------------------------------------------------

def _contract_deadlines(session: Session, today: date, horizon: date | None,
                        filters: list[ColumnElement[bool]]) -> list[Deadline]:
    found = []
    open_statuses = [ContractStatus.CLOSED.value, ContractStatus.TERMINATED.value]
    ends = select(Contract.id, Contract.reference, Contract.title, Contract.end_date,
                  Contract.envelope_state).where(
        Contract.end_date.is_not(None), Contract.status.not_in(open_statuses), *filters)
    if horizon is not None:
        ends = ends.where(Contract.end_date <= horizon)
    for contract_id, reference, title, end, _state in session.connection().execute(ends):
        detail = (f"Contrat échu le {short_date(end)} et toujours ouvert : à clore, ou à "
                  "prolonger par avenant." if end < today else
                  f"Le contrat prend fin le {short_date(end)} : bilan et clôture à préparer, "
                  "ou prolongation par avenant.")
        found.append(Deadline(end, "fin_contrat", KIND_LABELS["fin_contrat"],
                              f"{reference} — {title}", "contract", contract_id, None, None,
                              end < today, detail, reference))
    amendments = (select(Contract.id, Contract.reference, Contract.title, Amendment.id,
                         Amendment.number, Amendment.amendment_date, Amendment.subject,
                         Amendment.envelope_change)
                  .join(Contract, Contract.id == Amendment.contract_id)
                  .where(Amendment.amendment_date >= today, *filters))
    if horizon is not None:
        amendments = amendments.where(Amendment.amendment_date <= horizon)
    for contract_id, reference, title, amendment_id, number, when, subject, change in \
            session.execute(amendments):
        change_text = f" (enveloppe {'+' if change > 0 else ''}{euros(change)})" \
            if change else ""
        found.append(Deadline(when, "avenant", KIND_LABELS["avenant"],
                              f"{reference} — {title}", "contract", contract_id, None, change,
                              False, f"Avenant n° {number} prévu le {short_date(when)} : "
                              f"{subject}{change_text}.", reference, amendment_id))
    meetings = (select(Contract.id, Contract.reference, Contract.title, SteeringMeeting.id,
                       SteeringMeeting.meeting_date, SteeringMeeting.kind)
                .join(Contract, Contract.id == SteeringMeeting.contract_id)
                .where(SteeringMeeting.meeting_date >= today, *filters))
    if horizon is not None:
        meetings = meetings.where(SteeringMeeting.meeting_date <= horizon)
    for contract_id, reference, title, meeting_id, when, kind in session.execute(meetings):
        what = (kind or "comité de pilotage").strip()
        found.append(Deadline(when, "comite", KIND_LABELS["comite"], f"{reference} — {title}",
                              "contract", contract_id, None, None, False,
                              f"{what[:1].upper()}{what[1:]} le {short_date(when)}.",
                              reference, meeting_id))
    return found


# --- The list ------------------------------------------------------------------------

def deadlines(session: Session, *, today: date, within_days: int | None = None,
              arrondissement: str | None = None, contract_id: uuid.UUID | None = None,
              scheme_code: str | None = None, epci_code: str | None = None
              ) -> list[Deadline]:
    """Every deadline of the records in scope, sorted by due date: the overdue ones and,
    with *within_days*, those due by ``today + within_days`` (inclusive); all of them
    with None. A dispositif (*scheme_code*) keeps only the deadlines of its subsidies."""
    horizon = today + timedelta(days=within_days) if within_days is not None else None
    found: list[Deadline] = []
    query = _line_query(today, horizon, scheme_code,
                        _operation_filters(arrondissement, contract_id, epci_code))
    # Core, not ORM, execution: plain columns (as db.lists does for its pages).
    for row in session.connection().execute(query):
        found.extend(_line_deadlines(row, today))
    if not scheme_code:
        found += _contract_deadlines(session, today, horizon,
                                     _contract_filters(arrondissement, contract_id, epci_code))
    if horizon is not None:
        found = [d for d in found if d.due <= horizon]
    found.sort(key=lambda d: (d.due, _ORDER[d.kind], d.reference, d.scheme_label or ""))
    return found


def deadline_list(db, *, today: date | None = None, **filters) -> list[Deadline]:
    """:func:`deadlines` in a reading session of *db* (today by default)."""
    with db.read() as session:
        return deadlines(session, today=today or date.today(), **filters)


# --- The notice shown at opening ------------------------------------------------------

NOTICE_DAYS = 60


@dataclass(frozen=True)
class Notice:
    text: str  # « 3 subventions deviennent caduques dans les 60 jours »
    kind: str | None  # the page's filter to open with: a kind, or None for every kind
    within_days: int | None  # the page's horizon: 60, or 0 with overdue only
    overdue_only: bool = False


def opening_notice(db, *, today: date | None = None, arrondissement: str | None = None,
                   days: int = NOTICE_DAYS) -> Notice | None:
    """What the window says on opening: the subsidies lapsing soon, else the deadlines
    overdue; None when there is nothing to say."""
    today = today or date.today()
    found = deadline_list(db, today=today, within_days=days, arrondissement=arrondissement)
    lapsing = [d for d in found if d.kind == "caducite_debut" and not d.overdue]
    overdue = [d for d in found if d.overdue]
    late = (f"{len(overdue)} échéance{'s' if len(overdue) > 1 else ''} en retard"
            if overdue else "")
    # Granted today (e.g. a programmation just applied): not late yet, but the caducité
    # of these subsidies cannot be followed until their notification is entered.
    pending = len([d for d in found if d.kind == "notification" and not d.overdue])
    to_enter = (f"{pending} notification{'s' if pending > 1 else ''} de subvention à "
                "enregistrer" if pending else "")
    if lapsing:
        count = len(lapsing)
        text = (f"{count} subvention{'s' if count > 1 else ''} "
                f"devien{'nen' if count > 1 else ''}t caduque{'s' if count > 1 else ''} "
                f"dans les {days} jours")
        text = " ; ".join(part for part in (text, late, to_enter) if part)
        return Notice(text + ".", "caducite_debut", days)
    if overdue:
        text = " ; ".join(part for part in (late, to_enter) if part)
        return Notice(text[0].upper() + text[1:] + ".", None, 0 if not pending else days,
                      overdue_only=not pending)
    if pending:
        return Notice(to_enter[0].upper() + to_enter[1:] + ".", "notification", days)
    return None


def contract_choices(db, arrondissement: str | None) -> list[tuple[str, str]]:
    """(« reference — title », id as text) of the contracts of the arrondissement, for
    the page's contract filter."""
    from db.lists import contract_in_arrondissement

    query = select(Contract.reference, Contract.title, Contract.id).order_by(
        Contract.reference)
    if arrondissement:
        query = query.where(contract_in_arrondissement(arrondissement))
    with db.read() as session:
        return [(f"{reference} — {title}", str(contract_id))
                for reference, title, contract_id in session.execute(query)]
