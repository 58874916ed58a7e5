"""What "Ajouter un versement" proposes, at the boundaries of the texts the payment
checks cite (docs/regles-et-textes.md §4.7 and §5.6): CGCT art. R2334-30 for the
dotations, décret n° 2018-514 art. 12 for the other State subsidies. A proposal, once
paid, is never refused by those checks (pure functions)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.rules import LineInput, PaymentInput, PlanInput, check_payments
from db.rules.payments import propose_payment
from db.vocabulary import FundingStatus, PaymentKind

GRANTED = FundingStatus.GRANTED
ADVANCE, INSTALMENT, BALANCE = PaymentKind.ADVANCE, PaymentKind.INSTALMENT, PaymentKind.BALANCE
START = date(2025, 1, 15)
ON = date(2025, 2, 1)


def detr(granted="100000.00", *payments, **kw):
    return LineInput("Ligne 1 (DETR)", "funding_lines[0]", status=GRANTED,
                     requested=D(granted), granted=D(granted), scheme="DETR",
                     scheme_label="DETR", state_investment_grant=True,
                     decision_date=date(2025, 1, 10), payments=paid(*payments), **kw)


def fonds_vert(granted="100000.00", *payments, **kw):
    return LineInput("Ligne 2 (Fonds vert)", "funding_lines[1]", status=GRANTED,
                     requested=D(granted), granted=D(granted), scheme="FONDS_VERT",
                     scheme_label="Fonds vert", state_subsidy=True,
                     decision_date=date(2025, 1, 10), payments=paid(*payments), **kw)


def region(granted="50000.00", *payments):
    return LineInput("Ligne 3 (Région)", "funding_lines[2]", status=GRANTED,
                     requested=D(granted), granted=D(granted), scheme="REGION",
                     payments=paid(*payments))


def paid(*payments):
    return tuple(PaymentInput(kind, D(amount), ON) for kind, amount in payments)


def propose(line, start=START):
    return propose_payment(PlanInput(lines=(line,), start_date=start), line)


def accepted(line, proposal, start=START):
    """The checks once the proposal is paid, as the editor adds it."""
    line = replace(line, payments=(*line.payments,
                                   PaymentInput(proposal.kind, proposal.amount, ON)))
    return check_payments(PlanInput(lines=(line,), start_date=start))


# --- R2334-30: avance of 30 % at the start, acomptes up to 80 %, then the solde -----------

def test_a_dotation_starts_with_an_advance_of_30_percent_not_the_whole_grant():
    proposal = propose(detr())
    assert (proposal.kind, proposal.amount) == (ADVANCE, D("30000.00"))
    assert "R2334-30" in proposal.reason and "30,00 %" in proposal.reason
    assert accepted(detr(), proposal) == []


def test_the_advance_is_rounded_down_to_the_cent_never_beyond_30_percent():
    # 30 % of 33 333,33 € is 9 999,999 €: 10 000,00 € would be one tenth of a cent over.
    proposal = propose(detr("33333.33"))
    assert proposal.amount == D("9999.99")
    assert accepted(detr("33333.33"), proposal) == []
    over = replace(proposal, amount=proposal.amount + D("0.01"))
    assert [f.code for f in accepted(detr("33333.33"), over)] == ["payment.advance_max"]


def test_after_the_advance_an_instalment_up_to_80_percent_with_the_advance():
    line = detr("100000.00", (ADVANCE, "30000.00"))
    proposal = propose(line)
    assert (proposal.kind, proposal.amount) == (INSTALMENT, D("50000.00"))
    assert "80,00 %" in proposal.reason and "R2334-30" in proposal.reason
    assert accepted(line, proposal) == []
    over = replace(proposal, amount=D("50000.01"))
    assert [f.code for f in accepted(line, over)] == ["payment.instalments_max"]


def test_a_smaller_advance_leaves_more_room_for_the_instalments():
    line = detr("100000.00", (ADVANCE, "10000.00"), (INSTALMENT, "20000.00"))
    proposal = propose(line)
    assert (proposal.kind, proposal.amount) == (INSTALMENT, D("50000.00"))
    assert accepted(line, proposal) == []


def test_at_80_percent_the_solde_is_what_remains():
    line = detr("100000.00", (ADVANCE, "30000.00"), (INSTALMENT, "50000.00"))
    proposal = propose(line)
    assert (proposal.kind, proposal.amount) == (BALANCE, D("20000.00"))
    assert "accordé − versé" in proposal.reason
    assert accepted(line, proposal) == []


def test_one_cent_under_the_ceiling_proposes_that_cent_as_an_instalment():
    line = detr("100000.00", (ADVANCE, "30000.00"), (INSTALMENT, "49999.99"))
    proposal = propose(line)
    assert (proposal.kind, proposal.amount) == (INSTALMENT, D("0.01"))
    assert accepted(line, proposal) == []


def test_nothing_to_propose_once_everything_granted_is_paid():
    line = detr("100000.00", (ADVANCE, "30000.00"), (INSTALMENT, "50000.00"),
                (BALANCE, "20000.00"))
    proposal = propose(line)
    assert proposal.amount is None and "rien à verser" in proposal.reason


def test_after_a_solde_only_what_remains_never_an_instalment():
    line = detr("100000.00", (ADVANCE, "30000.00"), (BALANCE, "60000.00"))
    proposal = propose(line)
    assert (proposal.kind, proposal.amount) == (BALANCE, D("10000.00"))
    assert accepted(line, proposal) == []


def test_the_advance_waits_for_the_start_of_execution_and_says_so():
    proposal = propose(detr(), start=None)
    assert proposal.kind is ADVANCE and "commencement d'exécution est à saisir" in proposal.reason
    assert [f.code for f in accepted(detr(), proposal, start=None)] == [
        "payment.advance_before_start"]


def test_no_payment_on_a_line_not_granted():
    line = replace(detr(), status=FundingStatus.REQUESTED, granted=None)
    proposal = propose(line)
    assert proposal.amount is None and "financement accordé" in proposal.reason


# --- décret 2018-514 art. 12: 30 % (60 % with a guarantee not recorded), 80 or 90 % --------

def test_a_decree_subsidy_starts_with_30_percent_not_60():
    proposal = propose(fonds_vert())
    assert (proposal.kind, proposal.amount) == (ADVANCE, D("30000.00"))
    assert "art. 12" in proposal.reason
    assert accepted(fonds_vert(), proposal) == []  # no "garantie" warning either


@pytest.mark.parametrize(("planned", "instalment"), [
    (date(2029, 1, 15), D("50000.00")),  # 48 months exactly: 80 %
    (date(2029, 1, 16), D("60000.00"))])  # beyond 48 months: 90 %
def test_decree_instalments_by_the_planned_duration(planned, instalment):
    line = fonds_vert("100000.00", (ADVANCE, "30000.00"), planned_completion_date=planned)
    proposal = propose(line)
    assert (proposal.kind, proposal.amount) == (INSTALMENT, instalment)
    assert accepted(line, proposal) == []
    over = replace(proposal, amount=instalment + D("0.01"))
    assert [f.code for f in accepted(line, over)] == ["payment.instalments_max"]


# --- other financers: their own rules; never beyond what was granted -----------------------

def test_another_financer_is_proposed_what_remains():
    proposal = propose(region("50000.00", (INSTALMENT, "12345.67")))
    assert (proposal.kind, proposal.amount) == (BALANCE, D("37654.33"))
    assert accepted(region("50000.00", (INSTALMENT, "12345.67")), proposal) == []


# --- whatever the grant: paying every proposal is never refused and pays it all -----------

@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=1, max_value=10**12),
       decree=st.booleans(), long_works=st.booleans())
def test_paying_each_proposal_in_turn_is_never_refused_and_ends_at_the_grant(
        cents, decree, long_works):
    granted = D(cents) / 100
    planned = date(2030, 1, 1) if long_works else None
    line = (fonds_vert if decree else detr)(str(granted), planned_completion_date=planned)
    kinds = []
    for _ in range(4):
        proposal = propose(line)
        if proposal.amount is None:
            break
        assert proposal.amount > 0
        kinds.append(proposal.kind)
        line = replace(line, payments=(*line.payments,
                                       PaymentInput(proposal.kind, proposal.amount, ON)))
        assert check_payments(PlanInput(lines=(line,), start_date=START)) == []
    assert sum((p.amount for p in line.payments), D("0")) == granted
    assert kinds[-1] is BALANCE and kinds.count(BALANCE) == 1
    assert kinds[0] is ADVANCE or granted < D("0.04")
