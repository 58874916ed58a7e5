"""The rules of the financing plan at their boundaries, against the texts they cite
(docs/regles-et-textes.md): one cent under, at, one cent over (pure functions)."""

from datetime import date
from decimal import Decimal as D

import pytest

from db.rules import (
    ContractInput,
    ExpenseInput,
    LineInput,
    PlanInput,
    Severity,
    add_months,
    blocking,
    check_balance,
    check_beneficiary,
    check_commission,
    check_costs,
    check_expenses,
    check_own_share,
    check_public_aid_cap,
    check_state_grants,
    evaluate_contract,
    evaluate_operation,
    minimum_own_share,
    proposed_end_date,
)
from db.vocabulary import (
    BaseKind,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
)

COMMUNE = OrganisationKind.COMMUNE


def detr(amount, status=FundingStatus.REQUESTED, **kw):
    granted = amount if status is FundingStatus.GRANTED else None
    return LineInput("Ligne 1 (DETR)", "funding_lines[0]", status=status, requested=D(amount),
                     granted=D(granted) if granted else None, scheme="DETR",
                     scheme_label="DETR", state_investment_grant=True, **kw)


def dsil(amount, **kw):
    return LineInput("Ligne 2 (DSIL)", "funding_lines[1]", requested=D(amount), scheme="DSIL",
                     scheme_label="DSIL", state_investment_grant=True, **kw)


def fonds_vert(amount, **kw):
    return LineInput("Ligne 3 (Fonds vert)", "funding_lines[2]", requested=D(amount),
                     scheme="FONDS_VERT", scheme_label="Fonds vert", state_subsidy=True, **kw)


def line(amount, scheme="DEPARTEMENT", public=True, status=FundingStatus.REQUESTED, **kw):
    return LineInput(f"Ligne ({scheme})", "funding_lines[1]", status=status, requested=D(amount),
                     granted=D(amount) if status is FundingStatus.GRANTED else None,
                     scheme=scheme, public=public, **kw)


def codes(findings):
    return [f.code for f in findings]


# --- balance ---------------------------------------------------------------------------

def test_owner_share_is_the_balance_of_the_plan():
    plan = PlanInput(cost_ht=D("100000.00"), lines=(detr("30000"), line("20000.01")))
    assert plan.owner_share == D("49999.99")
    assert check_balance(plan) == []


@pytest.mark.parametrize(("funding", "expected"), [
    ("99.99", []), ("100.00", []), ("100.01", ["plan.over_funded"])])
def test_plan_is_over_funded_from_one_cent_above_the_cost(funding, expected):
    findings = check_balance(PlanInput(cost_ht=D("100"), lines=(line(funding),)))
    assert codes(findings) == expected
    if expected:
        assert findings[0].severity is Severity.ERROR and "0,01" in findings[0].message


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
    assert codes(check_costs(PlanInput(cost_ht=D("100"), cost_ttc=D("99.99")))) == [
        "cost.ttc_below_ht"]
    assert check_costs(PlanInput(cost_ht=D("100"), cost_ttc=D("100"))) == []
    assert codes(check_costs(PlanInput(cost_ht=D("100"), eligible_cost=D("100.01")))) == [
        "cost.eligible_above_ht"]
    assert check_costs(PlanInput(cost_ht=D("100"), eligible_cost=D("100"))) == []
    assert check_costs(PlanInput(cost_ht=D("-0.01")))[0].strict


def test_an_empty_form_says_nothing():
    assert evaluate_operation(PlanInput(status=OperationStatus.PROJECT), date(2026, 1, 1)) == []
    something = PlanInput(status=OperationStatus.PROGRAMMED, cost_ht=D("10"))
    assert codes(evaluate_operation(something, date(2026, 1, 1))) == ["operation.no_owner"]


# --- expense items ----------------------------------------------------------------------

@pytest.mark.parametrize(("second", "expected"), [
    ("399.99", ["expenses.total_ht"]), ("400.00", []), ("400.01", ["expenses.total_ht"])])
def test_expense_items_add_up_to_the_cost_exactly(second, expected):
    plan = PlanInput(cost_ht=D("1000"), expenses=(
        ExpenseInput("Travaux", D("600")), ExpenseInput("Maîtrise d'œuvre", D(second))))
    assert codes(check_expenses(plan)) == expected


def test_expense_items_ttc_and_the_subsidisable_expense():
    items = (ExpenseInput("Travaux", D("800"), D("960")),
             ExpenseInput("Mobilier", D("200"), D("240"), eligible=False))
    plan = PlanInput(cost_ht=D("1000"), cost_ttc=D("1200.01"), expenses=items)
    assert codes(check_expenses(plan)) == ["expenses.total_ttc"]
    derived = PlanInput(cost_ht=D("1000"), cost_ttc=D("1200"), expenses=items)
    assert check_expenses(derived) == [] and derived.subsidisable == D("800")
    entered = PlanInput(cost_ht=D("1000"), eligible_cost=D("900"), expenses=items)
    assert codes(check_expenses(entered)) == ["expenses.eligible"]


# --- L1111-10: "cette participation minimale du maître d'ouvrage est de 20 % du montant
# total des financements apportés par des personnes publiques à ce projet" ----------------

@pytest.mark.parametrize(("others", "expected"), [
    # public funding of others P; share s = 100 000 − P; s ≥ 20 % × (P + s) ⟺ P ≤ 80 000
    ("79999.99", []), ("80000.00", []), ("80000.01", ["own_share.minimum"])])
def test_own_share_20_percent_of_all_public_funding_compared_exactly(others, expected):
    plan = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, lines=(line(others),))
    findings = check_own_share(plan)
    assert codes(findings) == expected
    if expected:
        assert "L1111-10" in findings[0].message and "19,99 %" in findings[0].message
        # at this cost: 20 % of 100 000 €, that is 0,01 € of aid less
        assert "au moins 20\u202f000,00\xa0€, soit 0,01\xa0€ d'aides publiques en moins" \
            in findings[0].message


def test_no_half_cent_tolerance_on_small_amounts():
    # 0,19 € of 1,00 €: 19 %, refused although the minimum rounds to 0,20 €
    plan = PlanInput(cost_ht=D("1.00"), owner_kind=COMMUNE, lines=(line("0.81"),))
    assert codes(check_own_share(plan)) == ["own_share.minimum"]
    assert minimum_own_share(plan) == D("0.20")  # 20 % of the 1,00 € of public funding


def test_own_share_counts_public_funding_only():
    # Private funding does not raise the minimum: 20 % of (30 000 public + own share).
    plan = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE,
                     lines=(line("30000"), line("60000", scheme=None, public=False)))
    assert plan.owner_share == D("10000")
    assert minimum_own_share(plan) == D("8000.00")
    assert check_own_share(plan) == []


def test_own_share_binds_local_authorities_but_not_others_nor_overseas():
    for kind in (OrganisationKind.ASSOCIATION, OrganisationKind.COMPANY):
        assert check_own_share(PlanInput(cost_ht=D("100"), owner_kind=kind,
                                         lines=(line("95"),))) == []
    overseas = PlanInput(cost_ht=D("100"), owner_kind=COMMUNE, owner_overseas=True,
                         lines=(line("95"),))
    assert check_own_share(overseas) == []


@pytest.mark.parametrize(("others", "expected"), [
    # L1111-9 I 2°: 30 % ⟺ P ≤ 70 000 on a cost of 100 000
    ("70000.00", []), ("70000.01", ["own_share.minimum"])])
def test_chef_de_file_needs_30_percent(others, expected):
    plan = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, chef_de_file=True,
                     lines=(line(others),))
    findings = check_own_share(plan)
    assert codes(findings) == expected
    if expected:
        assert "L1111-9" in findings[0].message


def test_recorded_exception_turns_the_error_into_a_cited_warning():
    lines = (line("90000"),)
    plan = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, lines=lines,
                     own_share_exception=OwnShareException.HISTORIC_MONUMENT,
                     own_share_exception_ref="Arrêté du préfet du 3 mars 2025")
    findings = check_own_share(plan)
    assert [f.severity for f in findings] == [Severity.WARNING]
    assert "Arrêté du préfet du 3 mars 2025" in findings[0].message
    without_reference = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, lines=lines,
                                  own_share_exception=OwnShareException.CALAMITY)
    assert codes(check_own_share(without_reference)) == ["own_share.exception_without_ref"]


@pytest.mark.parametrize(("others", "expected"), [
    # loi 2024-279: school energy renovation, minimum "à 10 %" ⟺ P ≤ 90 000
    ("90000.00", ["own_share.exception"]), ("90000.01", ["own_share.below_school_floor"])])
def test_school_renovation_derogation_goes_down_to_10_percent_and_no_lower(others, expected):
    plan = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, lines=(line(others),),
                     own_share_exception=OwnShareException.PREFECT_DEROGATION,
                     own_share_exception_ref="Arrêté préfectoral du 2 février 2026")
    assert codes(check_own_share(plan)) == expected


# --- R2334-27: "Le taux de subvention ne peut être inférieur à 20 % du montant prévisionnel
# hors taxe de la dépense subventionnable" (DETR) ; DETR, DPV, DSIL, DSID "ne peuvent
# représenter, employées seules ou de manière combinée, plus de 80 %" -------------------------

@pytest.mark.parametrize(("detr_amount", "expected"), [
    ("40000.00", []), ("40000.01", ["state.cap"])])
def test_dotations_together_at_most_80_percent_of_the_subsidisable_expense(detr_amount,
                                                                          expected):
    plan = PlanInput(cost_ht=D("100000"), lines=(detr(detr_amount), dsil("40000")))
    findings = check_state_grants(plan)
    assert codes(findings) == expected
    if expected:
        assert "R2334-27" in findings[0].message


def test_other_financers_are_not_in_the_80_percent_cap():
    plan = PlanInput(cost_ht=D("100000"), lines=(detr("80000"), line("10000"),
                                                 fonds_vert("5000")))
    assert check_state_grants(plan) == []


def test_cap_applies_to_the_eligible_expense_not_the_cost():
    plan = PlanInput(cost_ht=D("100000"), eligible_cost=D("50000"), lines=(detr("40000.01"),))
    assert codes(check_state_grants(plan)) == ["state.cap"]


@pytest.mark.parametrize(("amount", "expected"), [
    ("19999.99", ["state.detr_floor"]), ("20000.00", []), ("20000.01", [])])
def test_detr_floor_of_20_percent(amount, expected):
    findings = check_state_grants(PlanInput(cost_ht=D("100000"), lines=(detr(amount),)))
    assert codes(findings) == expected
    if expected:
        assert findings[0].field == "funding_lines[0].amount"


def test_the_floor_is_the_detr_s_only():
    assert check_state_grants(PlanInput(cost_ht=D("100000"), lines=(dsil("5000"),))) == []


def test_dotation_without_base_is_a_warning():
    findings = check_state_grants(PlanInput(lines=(detr("1000"),)))
    assert codes(findings) == ["state.no_base"]
    assert findings[0].severity is Severity.WARNING


# --- décret 2018-514, art. 10 III: public aid no higher than the subsidisable expense ----

@pytest.mark.parametrize(("region", "expected"), [
    ("50000.00", []), ("50000.01", ["state.public_aid_cap"])])
def test_decree_subsidy_caps_all_public_aid_at_100_percent(region, expected):
    plan = PlanInput(cost_ht=D("100000"), owner_kind=OrganisationKind.ASSOCIATION,
                     lines=(fonds_vert("50000"), line(region, scheme="REGION")))
    assert codes(check_public_aid_cap(plan)) == expected


# --- L2334-37: the commission's opinion above 100 000 € of DETR -----------------------------

def test_commission_needed_strictly_above_100000():
    assert check_commission(PlanInput(lines=(detr("100000.00"),))) == []
    requested = check_commission(PlanInput(lines=(detr("100000.01"),)))
    assert [f.severity for f in requested] == [Severity.WARNING]
    assert "L2334-37" in requested[0].message
    granted = check_commission(PlanInput(lines=(detr("150000", FundingStatus.GRANTED),)))
    assert [f.severity for f in granted] == [Severity.WARNING]  # a step of the procedure
    with_opinion = PlanInput(lines=(detr("150000", FundingStatus.GRANTED,
                                         commission_opinion_date=date(2025, 3, 1)),))
    assert check_commission(with_opinion) == []


# --- L2334-33 (DETR) and L2334-42 (DSIL): who may receive them -------------------------------

@pytest.mark.parametrize(("kind", "scheme", "expected"), [
    (OrganisationKind.COMMUNE, "DETR", []), (OrganisationKind.EPCI, "DETR", []),
    (OrganisationKind.LOCAL_GROUPING, "DETR", []),
    (OrganisationKind.ASSOCIATION, "DETR", ["beneficiary.not_eligible"]),
    (OrganisationKind.DEPARTEMENT, "DETR", ["beneficiary.not_eligible"]),
    (OrganisationKind.COMMUNE, "DSIL", []), (OrganisationKind.EPCI, "DSIL", []),
    (OrganisationKind.LOCAL_GROUPING, "DSIL", ["beneficiary.not_eligible"]),
    (OrganisationKind.ASSOCIATION, "DSIL", ["beneficiary.not_eligible"])])
def test_beneficiaries_each_dotation_allows(kind, scheme, expected):
    aid = detr("30000") if scheme == "DETR" else dsil("30000")
    plan = PlanInput(cost_ht=D("100000"), owner_kind=kind, lines=(aid,))
    findings = check_beneficiary(plan)
    assert codes(findings) == expected
    if expected:
        assert ("L2334-33" if scheme == "DETR" else "L2334-42") in findings[0].message


@pytest.mark.parametrize(("population", "expected"), [
    (2000, []), (2001, ["beneficiary.financial_potential"]),
    (20000, ["beneficiary.financial_potential"]), (20001, ["beneficiary.commune_too_large"])])
def test_detr_communes_by_population(population, expected):
    plan = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, owner_population=population,
                     lines=(detr("30000"),))
    assert codes(check_beneficiary(plan)) == expected
    decided = PlanInput(cost_ht=D("100000"), owner_kind=COMMUNE, owner_population=population,
                        lines=(detr("30000", FundingStatus.GRANTED),))
    # once granted, the prefect checked the year's list: only the hard limit remains
    assert codes(check_beneficiary(decided)) == [c for c in expected if "too_large" in c]


# --- blocking -----------------------------------------------------------------------------

def test_blocking_depends_on_commitment_and_strictness():
    plan = PlanInput(cost_ht=D("100"), owner_kind=COMMUNE, lines=(line("95"),))
    findings = evaluate_operation(plan, date(2025, 1, 1))
    assert codes(findings) == ["own_share.minimum"]
    assert blocking(findings, committed=False) == []
    assert blocking(findings, committed=True) == findings
    strict = check_costs(PlanInput(cost_ht=D("-5")))
    assert blocking(strict, committed=False) == strict


def test_every_message_is_french_and_cites_its_rule():
    plan = PlanInput(cost_ht=D("100000"), owner_kind=OrganisationKind.ASSOCIATION,
                     status=OperationStatus.PROGRAMMED,
                     lines=(detr("90000", FundingStatus.GRANTED, decision_date=date(2025, 1, 1)),
                            fonds_vert("20000")),
                     deposit_date=date(2025, 2, 1), decision_date=date(2025, 1, 1),
                     start_date=date(2025, 1, 15))
    findings = evaluate_operation(plan, date(2025, 6, 1))
    assert len(findings) >= 5
    for finding in findings:
        assert finding.article, finding
        assert finding.field, finding
        assert finding.message[0].isupper() and finding.message.endswith("."), finding.message
        assert "_" not in finding.message and "FONDS" not in finding.message


# --- contracts --------------------------------------------------------------------------

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
    assert evaluate_contract(ContractInput(envelope_total=D("100"),
                                           envelope_state=D("100"))) == []


def test_proposed_end_date_from_duration():
    assert proposed_end_date(date(2020, 1, 1), 6) == date(2025, 12, 31)
    assert proposed_end_date(date(2020, 2, 29), 1) == date(2021, 2, 27)
    assert proposed_end_date(None, 6) is None
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_a_finished_operation_has_no_pending_request_and_a_settled_one_no_remainder():
    from db.rules import PaymentInput, check_lines
    from db.vocabulary import PaymentKind

    paid = (PaymentInput(PaymentKind.BALANCE, D("999.99"), date(2025, 6, 1)),)
    lines = (detr("1000", FundingStatus.GRANTED, payments=paid), line("500"))
    settled = check_lines(PlanInput(status=OperationStatus.SETTLED, lines=lines))
    assert codes(settled) == ["line.remainder_on_settled", "line.pending_on_finished"]
    assert "0,01" in settled[0].message
    in_progress = PlanInput(status=OperationStatus.IN_PROGRESS, lines=lines)
    assert check_lines(in_progress) == []
