"""Hypothesis: any plan saved through the services prints, in its plan de financement
and in its contract's annex, totals equal to the database's to the cent (sums computed
here from the tables, read back from the PDF's text)."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db import documents
from db.editing import find_by_reference, operation_for_edit
from db.formatting import euros
from db.models import FundingLine, Operation, Organisation
from db.money import from_cents
from db.services.operations import FundingLineData, save_operation
from db.vocabulary import FundingStatus, OperationStatus
from printouts import render
from tests.pdf_layout import read_pages

cents = st.integers(min_value=1, max_value=3_000_000_00)
line = st.tuples(st.sampled_from(list(FundingStatus)), st.one_of(st.none(), cents),
                 st.sampled_from(["DETR", "DSIL", "DEPARTEMENT", "REGION", "FONDS_VERT"]))
plans = st.tuples(st.one_of(st.none(), cents), st.lists(line, min_size=0, max_size=5))


def words(pdf: bytes) -> str:
    return " ".join(w.text for page in read_pages(pdf) for w in page.words)


def shown(amount: Decimal) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", euros(amount))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans)
def test_printed_totals_equal_the_database(demo_db, plan):
    cost, lines = plan
    operation_id = find_by_reference(demo_db, "operation", "FICTIF-DETR-2025-001")
    data = operation_for_edit(demo_db, operation_id)
    with demo_db.read() as session:
        state = session.scalar(select(Organisation.id).where(Organisation.kind == "etat")
                               .order_by(Organisation.name))
    data.status = OperationStatus.PROJECT  # a draft may break the rules: it still prints
    data.cost_ht = None if cost is None else from_cents(cost)
    data.eligible_cost = None
    data.funding_lines = [
        FundingLineData(state, scheme, from_cents(amount) if amount else None,
                        from_cents(amount) if amount and status is FundingStatus.GRANTED
                        else None, status)
        for status, amount, scheme in lines]
    save_operation(demo_db, data)

    with demo_db.read() as session:
        def total(status):
            return session.scalar(select(func.sum(
                FundingLine.amount_granted if status == "accorde"
                else FundingLine.amount_requested)).join(Operation).where(
                Operation.id == operation_id, FundingLine.status == status))
        granted, pending = total("accorde"), total("sollicite")
        unknown = session.scalar(select(func.count()).select_from(FundingLine).where(
            FundingLine.operation_id == operation_id, FundingLine.status != "refuse",
            ((FundingLine.status == "accorde") & FundingLine.amount_granted.is_(None))
            | ((FundingLine.status == "sollicite") & FundingLine.amount_requested.is_(None))))
    funded = (granted or Decimal(0)) + (pending or Decimal(0))

    document = documents.plan(demo_db, "FICTIF-DETR-2025-001")
    text = words(render(document))
    if cost is not None and not unknown:
        share = from_cents(cost) - funded
        assert document.own_share == share
        if share >= 0:
            assert f"Total des ressources {shown(from_cents(cost))}" in text
            assert shown(share) in text
            assert "100,00 %" in text
        else:
            assert f"surfinancé de {shown(-share)}" in text
            assert shown(share) not in text
    else:
        assert "Équilibre non vérifiable" in text

    annex = documents.annex(demo_db, "FICTIF-CRTE-591")
    line_of = next(line for axis in annex.axes for line in axis.lines
                   if line.reference == "FICTIF-DETR-2025-001")
    assert sum((t.value for t in line_of.granted.values()), Decimal(0)) == (granted or 0)
    assert line_of.pending.value == (pending or 0)
    annex_text = words(render(annex))
    with demo_db.read() as session:
        contract_granted = session.scalar(
            select(func.sum(FundingLine.amount_granted)).join(Operation).where(
                Operation.reference.like("FICTIF-%"), FundingLine.status == "accorde",
                Operation.id.in_([line_id for line_id in session.scalars(
                    select(Operation.id).where(Operation.reference.in_(
                        [x.reference for axis in annex.axes for x in axis.lines])))])))
    assert annex.granted_total.value == (contract_granted or 0)
    assert shown(annex.granted_total.value) in annex_text
