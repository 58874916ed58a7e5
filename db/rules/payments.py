"""Payments on a funding line (avance, acomptes, solde), under the text that governs
the dispositif: the CGCT (R2334-30) for the dotations (DETR, DSIL, DPV, DSID), which
décret n° 2018-514 leaves out of its scope (its art. 1, 1°), the décret (art. 12) for
the other State investment subsidies; other financers follow their own rules, of
which the application only checks that nothing is paid beyond what was granted.

Where a text says "ne peut excéder" or "sans pouvoir excéder" the ceiling is an
error, compared exactly. An advance is paid "lors du commencement d'exécution": not
before the works started. The décret allows 60 % with a first-demand bank guarantee,
which the application does not record: between 30 and 60 % it warns.

:func:`propose_payment` is what the editor offers when the agent adds a payment: the
next payment these same ceilings allow, so that a proposal is never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from db.formatting import euros, percent
from db.money import CENT, total
from db.rules import texts
from db.rules.deadlines import line_deadlines
from db.rules.findings import Finding, add_months, day, error, warning
from db.rules.inputs import LineInput, PlanInput
from db.vocabulary import FundingStatus, PaymentKind


@dataclass(frozen=True)
class Regime:
    article: str
    advance_max: Decimal  # of the amount granted
    advance_with_guarantee: Decimal | None  # higher ceiling when a guarantee is given
    instalments_max: Decimal  # avance + acomptes before the solde
    instalments_max_long: Decimal | None  # works lasting more than 48 months
    long_months: int = 48


DOTATIONS = Regime(texts.DOTATION_PAYMENTS, Decimal("0.30"), None, Decimal("0.80"), None)
DECREE = Regime(texts.DECREE_PAYMENTS, Decimal("0.30"), Decimal("0.60"), Decimal("0.80"),
                Decimal("0.90"))


def regime(line: LineInput) -> Regime | None:
    if line.state_investment_grant:
        return DOTATIONS
    if line.state_subsidy:
        return DECREE
    return None


def check_payments(plan: PlanInput) -> list[Finding]:
    findings = []
    for line in plan.lines:
        if line.payments:
            findings += _line_payments(plan, line)
    return findings


def _line_payments(plan: PlanInput, line: LineInput) -> list[Finding]:
    where = f"{line.field}.payments"
    if line.status is not FundingStatus.GRANTED or line.granted is None:
        return [error("payment.not_granted", where,
                      f"{line.label} : un versement n'est possible que sur un financement "
                      "accordé avec son montant.", texts.PAYMENT, strict=True)]
    findings = []
    paid = line.paid
    if paid > line.granted:
        findings.append(error(
            "payment.above_granted", where,
            f"{line.label} : versements ({euros(paid)}) supérieurs au montant accordé "
            f"({euros(line.granted)}) de {euros(paid - line.granted)}.", texts.PAYMENT,
            strict=True))
    rules = regime(line)
    if rules is not None and line.granted > 0:
        findings += _ceilings(plan, line, rules, where)
        findings += _timing(plan, line, rules, where)
    for payment in line.payments:
        if (payment.payment_date and line.decision_date
                and payment.payment_date < line.decision_date):
            findings.append(error(
                "payment.before_decision", where,
                f"{line.label} : versement du {day(payment.payment_date)} antérieur à la "
                f"décision du {day(line.decision_date)}.", texts.DATES, strict=True))
    return findings


def instalments_limit(plan: PlanInput, line: LineInput, rules: Regime) -> Decimal:
    """The share of the grant that avance and acomptes may reach before the solde."""
    # "Projets dont le délai de réalisation prévu dans la décision excède 48 mois".
    planned_from = plan.start_date or line.notification_date or line.decision_date
    long_works = (rules.instalments_max_long is not None and planned_from is not None
                  and line.planned_completion_date is not None
                  and add_months(planned_from, rules.long_months) < line.planned_completion_date)
    return rules.instalments_max_long if long_works else rules.instalments_max


def _ceilings(plan: PlanInput, line: LineInput, rules: Regime, where: str) -> list[Finding]:
    findings = []
    granted = line.granted
    article = rules.article
    advance = total(p.amount for p in line.payments if p.kind is PaymentKind.ADVANCE)
    share = percent(advance / granted, ROUND_CEILING)
    highest = rules.advance_with_guarantee or rules.advance_max
    if advance > granted * highest:
        findings.append(error(
            "payment.advance_max", where,
            f"{line.label} : avance de {euros(advance)} ({share} du "
            f"montant accordé), au-delà du maximum de {percent(highest)} ({article}).",
            article))
    elif advance > granted * rules.advance_max:
        findings.append(warning(
            "payment.advance_guarantee", where,
            f"{line.label} : avance de {euros(advance)} ({share} du "
            f"montant accordé), au-delà de {percent(rules.advance_max)} : possible seulement "
            f"avec une garantie ({article}).", article))
    before_balance = total(p.amount for p in line.payments if p.kind is not PaymentKind.BALANCE)
    limit = instalments_limit(plan, line, rules)
    if before_balance > granted * limit:
        findings.append(error(
            "payment.instalments_max", where,
            f"{line.label} : avance et acomptes ({euros(before_balance)}, "
            f"{percent(before_balance / granted, ROUND_CEILING)} du montant accordé) au-delà de "
            f"{percent(limit)} avant le solde ({article}).", article))
    return findings


def _timing(plan: PlanInput, line: LineInput, rules: Regime, where: str) -> list[Finding]:
    """The advance comes with the start of the works; nothing is paid once the
    completion deadline of a dotation has passed (R2334-29)."""
    findings = []
    article = rules.article
    for payment in line.payments:
        if payment.kind is not PaymentKind.ADVANCE or payment.payment_date is None:
            continue
        if plan.start_date is None or payment.payment_date < plan.start_date:
            started = (f"commencés le {day(plan.start_date)}" if plan.start_date
                       else "dont le commencement n'est pas enregistré")
            findings.append(error(
                "payment.advance_before_start", where,
                f"{line.label} : avance du {day(payment.payment_date)} versée avant le "
                f"commencement d'exécution (travaux {started}) ({article}).", article))
    if line.state_investment_grant:
        deadline = line_deadlines(plan, line).completion_deadline
        late = [p for p in line.payments if deadline and p.payment_date
                and p.payment_date > deadline]
        if late:
            # The text forbids the request after the deadline; the payment may follow a
            # request made in time, which the application does not record: a warning.
            findings.append(warning(
                "payment.after_completion_deadline", where,
                f"{line.label} : versement du {day(late[0].payment_date)} après l'expiration "
                f"du délai d'achèvement du {day(deadline)} : aucune demande de paiement ne "
                f"peut intervenir après cette date, vérifiez celle de la demande "
                f"(CGCT art. R2334-29).", "CGCT art. R2334-29"))
    return findings


@dataclass(frozen=True)
class PaymentProposal:
    """The payment "Ajouter un versement" proposes; the agent corrects it to what the
    order to pay says."""

    kind: PaymentKind
    amount: Decimal | None  # None: nothing to propose, *reason* says why
    reason: str  # French, cites the text applied


def _share_of(granted: Decimal, rate: Decimal) -> Decimal:
    # Down to the cent: the ceilings are compared exactly, 30 % of 33 333,33 € is
    # 9 999,999 €, of which 10 000,00 € would already be beyond.
    return (granted * rate).quantize(CENT, rounding=ROUND_DOWN)


def propose_payment(plan: PlanInput, line: LineInput) -> PaymentProposal:
    """The next payment on *line* within the rules :func:`check_payments` applies.

    Under a regime (R2334-30 for the dotations, décret 2018-514 art. 12 for the other
    State subsidies): an avance at the rate allowed without a guarantee when nothing
    was paid yet (it comes with the start of the works, before any acompte), then
    acomptes up to the ceiling of avance + acomptes, then the solde. Other financers:
    what remains to be paid. Never more than granted minus paid.
    """
    if line.status is not FundingStatus.GRANTED or line.granted is None:
        return PaymentProposal(
            PaymentKind.INSTALMENT, None,
            f"{line.label} : un versement n'est possible que sur un financement accordé "
            f"avec son montant ({texts.PAYMENT}).")
    granted = line.granted
    remaining = granted - line.paid
    if remaining <= 0:
        return PaymentProposal(
            PaymentKind.BALANCE, None,
            f"{line.label} : rien à verser, les versements ({euros(line.paid)}) atteignent "
            f"le montant accordé ({euros(granted)}).")
    rules = regime(line)
    if rules is None:
        return PaymentProposal(
            PaymentKind.BALANCE, remaining,
            f"{line.label} : reste à verser {euros(remaining)} (accordé − versé) ; les "
            f"versements suivent les règles du financeur, jamais au-delà de l'accordé "
            f"({texts.PAYMENT}).")
    article = rules.article
    limit = instalments_limit(plan, line, rules)
    before_balance = total(p.amount for p in line.payments if p.kind is not PaymentKind.BALANCE)
    room = _share_of(granted, limit) - before_balance
    if not line.payments:
        amount = min(_share_of(granted, rules.advance_max), room, remaining)
        if amount > 0:
            start = ("" if plan.start_date else " ; le commencement d'exécution est à saisir "
                     "(Identification et dates)")
            return PaymentProposal(
                PaymentKind.ADVANCE, amount,
                f"{line.label} : avance de {percent(rules.advance_max)} du montant accordé, "
                f"versée lors du commencement d'exécution ({article}){start}.")
    balance_paid = any(p.kind is PaymentKind.BALANCE for p in line.payments)
    if room > 0 and not balance_paid:
        amount = min(room, remaining)
        return PaymentProposal(
            PaymentKind.INSTALMENT, amount,
            f"{line.label} : acompte jusqu'au plafond de {percent(limit)} du montant accordé "
            f"pour l'avance et les acomptes, soit {euros(amount)} ({article}).")
    return PaymentProposal(
        PaymentKind.BALANCE, remaining,
        f"{line.label} : solde, reste à verser {euros(remaining)} (accordé − versé), sur "
        f"justification de l'achèvement ({article}).")
