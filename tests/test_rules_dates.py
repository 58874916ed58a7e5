"""Deadlines, payments and dates at their boundaries (the day before, of and after; 29
February), against the texts they cite (docs/regles-et-textes.md)."""

from datetime import date
from decimal import Decimal as D

import pytest

from db.rules import (
    ContractPeriod,
    LineInput,
    PaymentInput,
    PlanInput,
    Severity,
    check_contract_period,
    check_deadlines,
    check_early_start,
    check_operation_dates,
    check_owner,
    check_payments,
    deadlines,
)
from db.vocabulary import FundingStatus, OperationStatus, OrganisationKind, PaymentKind

GRANTED = FundingStatus.GRANTED


def detr(amount="10000", status=GRANTED, **kw):
    return LineInput("Ligne 1 (DETR)", "funding_lines[0]", status=status, requested=D(amount),
                     granted=D(amount) if status is GRANTED else None, scheme="DETR",
                     scheme_label="DETR", state_investment_grant=True, **kw)


def fonds_vert(amount="10000", status=GRANTED, **kw):
    return LineInput("Ligne 2 (Fonds vert)", "funding_lines[1]", status=status,
                     requested=D(amount), granted=D(amount) if status is GRANTED else None,
                     scheme="FONDS_VERT", scheme_label="Fonds vert", state_subsidy=True, **kw)


def region(**kw):
    return LineInput("Ligne 3 (Région)", "funding_lines[2]", status=GRANTED,
                     requested=D("5000"), granted=D("5000"), scheme="REGION", **kw)


def codes(findings):
    return [f.code for f in findings]


# --- R2334-28: "à l'expiration d'un délai de deux ans à compter de la notification" ---------

def test_caducite_runs_from_the_notification_same_day_two_years_on():
    plan = PlanInput(lines=(detr(notification_date=date(2025, 5, 19)),))
    assert deadlines(plan)[0].start_deadline == date(2027, 5, 19)
    leap = PlanInput(lines=(detr(notification_date=date(2024, 2, 29)),))
    assert deadlines(leap)[0].start_deadline == date(2026, 2, 28)  # no 29 February in 2026


@pytest.mark.parametrize(("started", "expected"), [
    (date(2026, 2, 27), []), (date(2026, 2, 28), []), (date(2026, 3, 1),
                                                        ["deadline.started_late"])])
def test_works_started_after_the_caducite_deadline(started, expected):
    plan = PlanInput(lines=(detr(notification_date=date(2024, 2, 29)),), start_date=started)
    findings = [f for f in check_deadlines(plan, date(2026, 6, 1))
                if f.code.startswith("deadline.start")]
    assert codes(findings) == expected
    if expected:
        assert findings[0].severity is Severity.WARNING and "R2334-28" in findings[0].message


@pytest.mark.parametrize(("today", "expected"), [
    (date(2027, 5, 18), ["deadline.start_soon"]), (date(2027, 5, 19), ["deadline.start_soon"]),
    (date(2027, 5, 20), ["deadline.start_lapsed"])])
def test_caducite_the_day_before_of_and_after(today, expected):
    plan = PlanInput(lines=(detr(notification_date=date(2025, 5, 19)),))
    assert codes(check_deadlines(plan, today)) == expected


def test_the_deadline_never_runs_from_another_financer_s_decision():
    plan = PlanInput(lines=(detr(decision_date=date(2024, 4, 2)),
                            region(decision_date=date(2021, 3, 1)), fonds_vert()))
    assert [d.start_deadline for d in deadlines(plan)] == [None, None]
    findings = check_deadlines(plan, date(2026, 1, 1))
    assert codes(findings) == ["deadline.no_notification", "deadline.no_notification"]
    # the operation's notification stands for its one State subsidy only
    single = PlanInput(lines=(detr(), region()), notification_date=date(2024, 4, 9))
    assert deadlines(single)[0].start_deadline == date(2026, 4, 9)
    assert [d.start_deadline for d in deadlines(PlanInput(
        lines=(detr(), fonds_vert()), notification_date=date(2024, 4, 9)))] == [None, None]


@pytest.mark.parametrize(("months", "expected"), [
    (12, []), (13, ["deadline.start_extension"])])
def test_extension_of_the_start_deadline_one_year_at_most(months, expected):
    plan = PlanInput(lines=(detr(notification_date=date(2024, 3, 1)),),
                     start_extension_months=months, start_date=date(2025, 1, 1))
    assert codes(check_deadlines(plan, date(2025, 6, 1))) == expected
    assert deadlines(plan)[0].start_deadline == date(2027, 3, 1)  # capped at 12 months


# --- R2334-29: four years from the start (+ two at most); décret 2018-514: the decision's ----

@pytest.mark.parametrize(("finished", "expected"), [
    (date(2028, 2, 28), []), (date(2028, 2, 29), []), (date(2028, 3, 1),
                                                        ["deadline.finished_late"])])
def test_works_finished_after_the_completion_deadline(finished, expected):
    plan = PlanInput(lines=(detr(notification_date=date(2023, 9, 1)),),
                     start_date=date(2024, 2, 29), end_date=finished)
    assert deadlines(plan)[0].completion_deadline == date(2028, 2, 29)
    assert codes(check_deadlines(plan, date(2028, 6, 1))) == expected


@pytest.mark.parametrize(("months", "expected"), [
    (24, []), (25, ["deadline.completion_extension"])])
def test_extension_of_the_completion_deadline_two_years_at_most(months, expected):
    plan = PlanInput(lines=(detr(notification_date=date(2024, 3, 1)),),
                     start_date=date(2024, 6, 1), completion_extension_months=months)
    assert codes(check_deadlines(plan, date(2025, 1, 1))) == expected
    assert deadlines(plan)[0].completion_deadline == date(2030, 6, 1)


def test_decree_completion_is_the_date_the_decision_sets():
    without = PlanInput(lines=(fonds_vert(notification_date=date(2024, 5, 2)),),
                        start_date=date(2024, 9, 1))
    limits = deadlines(without)[0]
    assert limits.completion_deadline is None and limits.fixed_by_decision
    assert "art. 11" in limits.start_article and limits.start_deadline == date(2026, 5, 2)
    planned = PlanInput(lines=(fonds_vert(notification_date=date(2024, 5, 2),
                                          planned_completion_date=date(2026, 12, 31)),),
                        start_date=date(2024, 9, 1), end_date=date(2027, 1, 1))
    assert deadlines(planned)[0].completion_deadline == date(2026, 12, 31)
    assert codes(check_deadlines(planned, date(2027, 2, 1))) == ["deadline.finished_late"]


def test_no_deadline_without_a_state_subsidy():
    assert deadlines(PlanInput(lines=(region(),))) == []


# --- payments: R2334-30 (dotations), décret 2018-514 art. 12 (other State subsidies) ---------

def paid(line, *payments, **plan):
    plan.setdefault("start_date", date(2025, 1, 15))
    return check_payments(PlanInput(lines=(line(payments=tuple(
        PaymentInput(kind, D(amount), when) for kind, amount, when in payments),
        decision_date=date(2025, 1, 10)),), **plan))


ADVANCE, INSTALMENT, BALANCE = PaymentKind.ADVANCE, PaymentKind.INSTALMENT, PaymentKind.BALANCE
ON = date(2025, 2, 1)


@pytest.mark.parametrize(("amount", "expected"), [
    ("3000.00", []), ("3000.01", ["payment.advance_max"])])
def test_dotation_advance_at_most_30_percent(amount, expected):
    findings = paid(detr, (ADVANCE, amount, ON))
    assert codes(findings) == expected
    if expected:
        assert findings[0].is_error and "R2334-30" in findings[0].message


@pytest.mark.parametrize(("amount", "expected"), [
    ("5000.00", []), ("5000.01", ["payment.instalments_max"])])
def test_advance_and_instalments_at_most_80_percent_before_the_balance(amount, expected):
    findings = paid(detr, (ADVANCE, "3000", ON), (INSTALMENT, amount, ON))
    assert codes(findings) == expected
    if expected:
        assert findings[0].severity is Severity.ERROR  # "sans pouvoir excéder"


@pytest.mark.parametrize(("amount", "expected"), [
    ("3000.00", []), ("3000.01", ["payment.advance_guarantee"]), ("6000.00",
                                                                 ["payment.advance_guarantee"]),
    ("6000.01", ["payment.advance_max"])])
def test_decree_advance_30_percent_or_60_with_a_guarantee(amount, expected):
    findings = paid(fonds_vert, (ADVANCE, amount, ON))
    assert codes(findings) == expected
    if expected:
        assert "art. 12" in findings[0].message


@pytest.mark.parametrize(("planned", "limit_ok", "over"), [
    (date(2029, 1, 15), "8000.00", "8000.01"),  # 48 months exactly: 80 %
    (date(2029, 1, 16), "9000.00", "9000.01")])  # beyond 48 months: 90 %
def test_decree_instalments_80_or_90_percent_by_the_planned_duration(planned, limit_ok, over):
    def line(**kw):
        return fonds_vert(planned_completion_date=planned, **kw)
    assert paid(line, (INSTALMENT, limit_ok, ON)) == []
    assert codes(paid(line, (INSTALMENT, over, ON))) == ["payment.instalments_max"]


@pytest.mark.parametrize(("start", "expected"), [
    (date(2025, 2, 1), []), (date(2025, 2, 2), ["payment.advance_before_start"]),
    (None, ["payment.advance_before_start"])])
def test_the_advance_comes_with_the_start_of_execution(start, expected):
    assert codes(paid(detr, (ADVANCE, "1000", ON), start_date=start)) == expected


def test_payments_never_above_the_amount_granted():
    exact = [(ADVANCE, "3000", ON), (INSTALMENT, "5000", ON), (BALANCE, "2000", ON)]
    assert paid(detr, *exact) == []
    over = paid(detr, *exact, (BALANCE, "0.01", ON))
    assert "payment.above_granted" in codes(over)
    assert all(f.strict for f in over if f.code == "payment.above_granted")


def test_payment_on_a_line_not_granted_is_refused():
    findings = check_payments(PlanInput(lines=(detr(status=FundingStatus.REQUESTED, payments=(
        PaymentInput(ADVANCE, D("10"), ON),)),)))
    assert codes(findings) == ["payment.not_granted"]


def test_payment_before_decision_is_an_error():
    assert codes(paid(detr, (ADVANCE, "100", date(2025, 1, 9)),
                      start_date=date(2025, 1, 1))) == ["payment.before_decision"]


def test_a_payment_after_the_completion_deadline_is_flagged():
    start = date(2021, 3, 1)  # deadline 1 March 2025
    on_time = paid(detr, (BALANCE, "1000", date(2025, 3, 1)), start_date=start)
    late = paid(detr, (BALANCE, "1000", date(2025, 3, 2)), start_date=start)
    assert on_time == [] and codes(late) == ["payment.after_completion_deadline"]


# --- R2334-24 / décret 2018-514 art. 5: no start before the request is received ------------

@pytest.mark.parametrize(("start", "expected"), [
    (date(2025, 1, 9), ["dates.started_before_deposit"]), (date(2025, 1, 10), []),
    (date(2025, 1, 11), [])])
def test_works_before_the_request_without_authorisation(start, expected):
    plan = PlanInput(lines=(detr(),), deposit_date=date(2025, 1, 10), start_date=start)
    findings = check_early_start(plan)
    assert codes(findings) == expected
    if expected:
        assert findings[0].is_error and "R2334-24" in findings[0].message


def test_the_prefect_s_notification_or_an_eu_programme_lifts_the_bar():
    notified = PlanInput(lines=(detr(),), deposit_date=date(2025, 1, 10),
                         start_date=date(2025, 1, 2), early_start_date=date(2025, 1, 20))
    assert [(f.code, f.severity) for f in check_early_start(notified)] == [
        ("dates.started_before_deposit", Severity.WARNING)]
    decree = PlanInput(lines=(fonds_vert(),), deposit_date=date(2025, 1, 10),
                       start_date=date(2025, 1, 2), early_start_date=date(2025, 1, 20))
    assert [f.is_error for f in check_early_start(decree)] == [True]  # no such derogation
    feder = LineInput("Ligne 4 (FEDER)", "funding_lines[3]", status=GRANTED,
                      requested=D("1"), granted=D("1"), scheme="FEDER")
    eu = PlanInput(lines=(fonds_vert(), feder), deposit_date=date(2025, 1, 10),
                   start_date=date(2025, 1, 2))
    assert codes(check_early_start(eu)) == ["dates.started_before_deposit_eu"]


# --- owner, contract period, dates --------------------------------------------------------

@pytest.mark.parametrize(("status", "expected"), [
    (OperationStatus.PROJECT, []), (OperationStatus.FILED, []),
    (OperationStatus.PROGRAMMED, ["operation.no_owner"]),
    (OperationStatus.SETTLED, ["operation.no_owner"])])
def test_a_committed_operation_has_an_owner(status, expected):
    assert codes(check_owner(PlanInput(status=status))) == expected
    assert check_owner(PlanInput(status=status, owner_kind=OrganisationKind.COMMUNE)) == []


@pytest.mark.parametrize(("decided", "expected"), [
    (date(2026, 12, 31), []), (date(2027, 1, 1), ["contract.after_end"])])
def test_an_operation_committed_after_its_contract_s_end(decided, expected):
    plan = PlanInput(decision_date=decided,
                     contracts=(ContractPeriod("CRTE-591", date(2026, 12, 31)),))
    assert codes(check_contract_period(plan)) == expected


def test_operation_dates_are_coherent():
    plan = PlanInput(deposit_date=date(2025, 2, 1), decision_date=date(2025, 1, 31),
                     notification_date=date(2025, 1, 30), start_date=date(2025, 5, 1),
                     end_date=date(2025, 4, 30),
                     lines=(detr(decision_date=date(2025, 3, 1),
                                 notification_date=date(2025, 2, 28)),))
    assert sorted(f.field for f in check_operation_dates(plan)) == [
        "decision_date", "end_date", "funding_lines[0].notification_date",
        "notification_date"]
    same_day = PlanInput(deposit_date=date(2025, 2, 1), decision_date=date(2025, 2, 1))
    assert check_operation_dates(same_day) == []
