"""Each rule of public money with its edge cases (pure functions, no database)."""

from datetime import date
from decimal import Decimal as D

from db.rules import (
    ContractInput,
    LineInput,
    PaymentInput,
    PlanInput,
    Severity,
    add_months,
    blocking,
    check_balance,
    check_commission,
    check_costs,
    check_deadlines,
    check_operation_dates,
    check_own_share,
    check_payments,
    check_state_grants,
    deadlines,
    evaluate_contract,
    evaluate_operation,
    minimum_own_share,
    proposed_end_date,
)
from db.vocabulary import BaseKind, FundingStatus, OwnShareException, PaymentKind


def detr(amount, status=FundingStatus.REQUESTED, **kw):
    granted = amount if status is FundingStatus.GRANTED else None
    return LineInput("Ligne 1 (DETR)", "funding_lines[0]", status=status, requested=D(amount),
                     granted=D(granted) if granted else None, scheme="DETR",
                     state_investment_grant=True, **kw)


def line(amount, scheme="DEPARTEMENT", public=True, status=FundingStatus.REQUESTED, **kw):
    return LineInput(f"Ligne ({scheme})", "funding_lines[1]", status=status, requested=D(amount),
                     granted=D(amount) if status is FundingStatus.GRANTED else None,
                     scheme=scheme, public=public, **kw)


def codes(findings):
    return [f.code for f in findings]


# --- balance ---------------------------------------------------------------

def test_owner_share_is_the_balance_of_the_plan():
    plan = PlanInput(cost_ht=D("100000.00"), lines=(detr("30000"), line("20000.01")))
    assert plan.owner_share == D("49999.99")
    assert check_balance(plan) == []


def test_plan_exactly_funded_balances_and_over_funding_is_an_error():
    assert check_balance(PlanInput(cost_ht=D("100"), lines=(line("100"),))) == []
    findings = check_balance(PlanInput(cost_ht=D("100"), lines=(line("100.01"),)))
    assert codes(findings) == ["plan.over_funded"]
    assert findings[0].severity is Severity.ERROR
    assert "0,01" in findings[0].message


def test_balance_uses_the_declared_base():
    plan = PlanInput(cost_ht=D("100"), cost_ttc=D("120"), base_kind=BaseKind.TTC,
                     lines=(line("110"),))
    assert check_balance(plan) == []
    assert codes(check_balance(PlanInput(cost_ht=D("100"), cost_ttc=D("120"),
                                         lines=(line("110"),)))) == ["plan.over_funded"]


def test_refused_lines_do_not_count_and_granted_amount_replaces_requested():
    refused = line("90", status=FundingStatus.REFUSED)
    granted = LineInput("L", "f", status=FundingStatus.GRANTED, requested=D("50"),
                        granted=D("40"))
    plan = PlanInput(cost_ht=D("100"), lines=(refused, granted))
    assert plan.funding_total == D("40")
    assert plan.owner_share == D("60")


def test_unknown_cost_is_a_warning_not_a_zero():
    findings = check_balance(PlanInput(lines=(line("10"),)))
    assert codes(findings) == ["plan.no_base"]
    assert findings[0].severity is Severity.WARNING
    assert check_balance(PlanInput()) == []


def test_cost_coherence():
    assert codes(check_costs(PlanInput(cost_ht=D("100"), cost_ttc=D("90")))) == [
        "cost.ttc_below_ht"]
    assert codes(check_costs(PlanInput(cost_ht=D("100"), eligible_cost=D("100.01")))) == [
        "cost.eligible_above_ht"]
    negative = check_costs(PlanInput(cost_ht=D("-1")))
    assert negative[0].strict


# --- L1111-10 ---------------------------------------------------------------

def test_own_share_minimum_20_percent_of_public_funding():
    ok = PlanInput(cost_ht=D("100000"), owner_local_authority=True, lines=(line("80000"),))
    assert check_own_share(ok) == []
    assert minimum_own_share(ok) == D("20000.00")
    short = PlanInput(cost_ht=D("100000"), owner_local_authority=True,
                      lines=(line("80000.01"),))
    findings = check_own_share(short)
    assert codes(findings) == ["own_share.minimum"]
    assert "L1111-10" in findings[0].message


def test_own_share_counts_public_funding_only():
    # Private funding does not raise the minimum: 20 % of (30 000 public + own share).
    plan = PlanInput(cost_ht=D("100000"), owner_local_authority=True,
                     lines=(line("30000"), line("60000", scheme=None, public=False)))
    assert plan.owner_share == D("10000")
    assert minimum_own_share(plan) == D("8000.00")
    assert check_own_share(plan) == []


def test_own_share_does_not_bind_other_owners():
    plan = PlanInput(cost_ht=D("100"), owner_local_authority=False, lines=(line("95"),))
    assert check_own_share(plan) == []


def test_chef_de_file_needs_30_percent():
    plan = PlanInput(cost_ht=D("100000"), owner_local_authority=True, chef_de_file=True,
                     lines=(line("75000"),))
    findings = check_own_share(plan)
    assert codes(findings) == ["own_share.minimum"]
    assert "L1111-9" in findings[0].message


def test_recorded_exception_turns_the_error_into_a_cited_warning():
    lines = (line("90000"),)
    plan = PlanInput(cost_ht=D("100000"), owner_local_authority=True, lines=lines,
                     own_share_exception=OwnShareException.HISTORIC_MONUMENT,
                     own_share_exception_ref="Arrêté MH du 3 mars 1998")
    findings = check_own_share(plan)
    assert [f.severity for f in findings] == [Severity.WARNING]
    assert "Arrêté MH du 3 mars 1998" in findings[0].message
    without_reference = PlanInput(cost_ht=D("100000"), owner_local_authority=True, lines=lines,
                                  own_share_exception=OwnShareException.CALAMITY)
    assert codes(check_own_share(without_reference)) == ["own_share.exception_without_ref"]


# --- R2334-27 ---------------------------------------------------------------

def test_state_grants_capped_at_80_percent_of_subsidisable_expense():
    dsil = LineInput("Ligne 2 (DSIL)", "funding_lines[1]", requested=D("40000"),
                     scheme="DSIL", state_investment_grant=True)
    at_cap = PlanInput(cost_ht=D("100000"), lines=(detr("40000"), dsil))
    assert check_state_grants(at_cap) == []
    over = PlanInput(cost_ht=D("100000"), lines=(detr("40000.01"), dsil))
    findings = check_state_grants(over)
    assert codes(findings) == ["state.cap"]
    assert "R2334-27" in findings[0].message


def test_cap_applies_to_the_eligible_expense_not_the_cost():
    plan = PlanInput(cost_ht=D("100000"), eligible_cost=D("50000"), lines=(detr("45000"),))
    assert codes(check_state_grants(plan)) == ["state.cap"]


def test_detr_floor_of_20_percent():
    assert check_state_grants(PlanInput(cost_ht=D("100000"), lines=(detr("20000"),))) == []
    findings = check_state_grants(PlanInput(cost_ht=D("100000"), lines=(detr("19999.99"),)))
    assert codes(findings) == ["state.detr_floor"]
    assert findings[0].field == "funding_lines[0].amount"


def test_detr_without_base_is_a_warning():
    findings = check_state_grants(PlanInput(lines=(detr("1000"),)))
    assert codes(findings) == ["state.no_base"]
    assert findings[0].severity is Severity.WARNING


# --- DETR commission -------------------------------------------------------------

def test_commission_needed_above_100000():
    assert check_commission(PlanInput(lines=(detr("100000"),))) == []
    requested = check_commission(PlanInput(lines=(detr("100000.01"),)))
    assert [f.severity for f in requested] == [Severity.WARNING]
    granted = check_commission(PlanInput(lines=(detr("150000", FundingStatus.GRANTED),)))
    assert [f.severity for f in granted] == [Severity.ERROR]
    with_opinion = PlanInput(lines=(detr("150000", FundingStatus.GRANTED,
                                         commission_opinion_date=date(2025, 3, 1)),))
    assert check_commission(with_opinion) == []


# --- deadlines (R2334-28/29, décret 2018-514) -------------------------------------

def test_lapse_and_completion_dates():
    plan = PlanInput(lines=(detr("1000"),), notification_date=date(2024, 2, 29),
                     start_date=date(2025, 1, 31))
    limits = deadlines(plan)
    assert limits.start_deadline == date(2026, 2, 28)
    assert limits.completion_deadline == date(2029, 1, 31)
    assert limits.start_article == "CGCT art. R2334-28"
    extended = PlanInput(lines=(detr("1000"),), notification_date=date(2024, 3, 1),
                         start_extension_months=12, start_date=date(2025, 1, 1),
                         completion_extension_months=24)
    assert deadlines(extended).start_deadline == date(2027, 3, 1)
    assert deadlines(extended).completion_deadline == date(2031, 1, 1)


def test_other_state_subsidies_follow_decree_2018_514():
    fnadt = LineInput("L", "f", requested=D("1000"), scheme="FNADT", state_subsidy=True,
                      decision_date=date(2024, 5, 2))
    limits = deadlines(PlanInput(lines=(fnadt,)))
    assert limits.start_deadline == date(2026, 5, 2)
    assert "2018-514" in limits.start_article
    assert deadlines(PlanInput(lines=(line("10"),))) is None


def test_deadline_warnings_before_and_after_lapse():
    plan = PlanInput(lines=(detr("1000"),), notification_date=date(2024, 1, 10))
    assert check_deadlines(plan, date(2025, 6, 1)) == []
    soon = check_deadlines(plan, date(2025, 12, 1))
    assert codes(soon) == ["deadline.start_soon"]
    lapsed = check_deadlines(plan, date(2026, 1, 11))
    assert codes(lapsed) == ["deadline.start_lapsed"]
    assert "caduque" in lapsed[0].message
    started = PlanInput(lines=(detr("1000"),), notification_date=date(2024, 1, 10),
                        start_date=date(2024, 6, 1))
    assert check_deadlines(started, date(2026, 1, 11)) == []
    too_long = PlanInput(lines=(detr("1000"),), start_extension_months=13)
    assert codes(check_deadlines(too_long, date(2025, 1, 1))) == ["deadline.start_extension"]


# --- payments ------------------------------------------------------------------

def granted_detr(payments, amount="10000", **kw):
    return detr(amount, FundingStatus.GRANTED, payments=tuple(payments),
                decision_date=date(2025, 1, 10), **kw)


def test_payments_never_above_the_amount_granted():
    exact = [PaymentInput(PaymentKind.ADVANCE, D("3000"), date(2025, 2, 1)),
             PaymentInput(PaymentKind.INSTALMENT, D("5000"), date(2025, 3, 1)),
             PaymentInput(PaymentKind.BALANCE, D("2000"), date(2025, 9, 1))]
    assert check_payments(PlanInput(lines=(granted_detr(exact),))) == []
    over = exact + [PaymentInput(PaymentKind.BALANCE, D("0.01"), date(2025, 9, 2))]
    findings = check_payments(PlanInput(lines=(granted_detr(over),)))
    assert "payment.above_granted" in codes(findings)
    assert all(f.strict for f in findings if f.code == "payment.above_granted")
    assert granted_detr(exact).remaining == D("0")


def test_payment_on_a_line_not_granted_is_refused():
    findings = check_payments(PlanInput(lines=(detr("1000", payments=(
        PaymentInput(PaymentKind.ADVANCE, D("10"), date(2025, 1, 1)),)),)))
    assert codes(findings) == ["payment.not_granted"]


def test_advance_limits():
    advance = [PaymentInput(PaymentKind.ADVANCE, D("3000.01"), date(2025, 2, 1))]
    assert codes(check_payments(PlanInput(lines=(granted_detr(advance),)))) == [
        "payment.advance_guarantee"]
    big = [PaymentInput(PaymentKind.ADVANCE, D("6000.01"), date(2025, 2, 1))]
    assert "payment.advance_max" in codes(check_payments(PlanInput(lines=(granted_detr(big),))))


def test_instalments_before_balance_capped_at_80_percent():
    payments = [PaymentInput(PaymentKind.ADVANCE, D("3000"), date(2025, 2, 1)),
                PaymentInput(PaymentKind.INSTALMENT, D("5000.01"), date(2025, 3, 1))]
    assert codes(check_payments(PlanInput(lines=(granted_detr(payments),)))) == [
        "payment.instalments_max"]
    long_works = PlanInput(lines=(granted_detr(payments),), start_date=date(2020, 1, 1),
                           end_date=date(2024, 6, 1))
    assert check_payments(long_works) == []


def test_payment_before_decision_is_an_error():
    early = [PaymentInput(PaymentKind.ADVANCE, D("100"), date(2025, 1, 9))]
    assert codes(check_payments(PlanInput(lines=(granted_detr(early),)))) == [
        "payment.before_decision"]


# --- dates -----------------------------------------------------------------------

def test_operation_dates_are_coherent():
    plan = PlanInput(deposit_date=date(2025, 2, 1), decision_date=date(2025, 1, 31),
                     notification_date=date(2025, 1, 30), start_date=date(2025, 5, 1),
                     end_date=date(2025, 4, 30))
    assert sorted(f.field for f in check_operation_dates(plan)) == [
        "decision_date", "end_date", "notification_date"]
    same_day = PlanInput(deposit_date=date(2025, 2, 1), decision_date=date(2025, 2, 1))
    assert check_operation_dates(same_day) == []


def test_contract_rules():
    findings = evaluate_contract(ContractInput(
        signature_date=date(2020, 6, 1), start_date=date(2020, 5, 1), end_date=date(2019, 1, 1),
        envelope_total=D("100"), envelope_state=D("150"),
        amendment_dates=(date(2020, 1, 1),)))
    assert sorted(codes(findings)) == [
        "contract.amendment_before_signature", "contract.dates", "contract.dates",
        "contract.state_above_total"]
    assert evaluate_contract(ContractInput(signature_date=date(2020, 1, 1),
                                           start_date=date(2020, 1, 1))) == []


def test_proposed_end_date_from_duration():
    assert proposed_end_date(date(2020, 1, 1), 6) == date(2025, 12, 31)
    assert proposed_end_date(date(2020, 2, 29), 1) == date(2021, 2, 27)
    assert proposed_end_date(None, 6) is None
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_blocking_depends_on_commitment_and_strictness():
    plan = PlanInput(cost_ht=D("100"), owner_local_authority=True, lines=(line("95"),))
    findings = evaluate_operation(plan, date(2025, 1, 1))
    assert codes(findings) == ["own_share.minimum"]
    assert blocking(findings, committed=False) == []
    assert blocking(findings, committed=True) == findings
    strict = check_costs(PlanInput(cost_ht=D("-5")))
    assert blocking(strict, committed=False) == strict


def test_every_message_is_french_and_cites_its_rule():
    plan = PlanInput(cost_ht=D("100000"), owner_local_authority=True,
                     lines=(detr("90000", FundingStatus.GRANTED),),
                     deposit_date=date(2025, 2, 1), decision_date=date(2025, 1, 1))
    findings = evaluate_operation(plan, date(2025, 6, 1))
    assert len(findings) >= 3
    for finding in findings:
        assert finding.article, finding
        assert finding.field, finding
        assert finding.message[0].isupper() and finding.message.endswith(".")
