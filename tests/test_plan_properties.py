"""Property tests: a committed plan stays balanced through any sequence of edits made
through the services, and sums in cents never drift (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, func, select, type_coerce

from db.errors import RuleViolation
from db.models import FundingLine, Operation
from db.money import from_cents
from db.rules import blocking
from db.services.operations import (
    FundingLineData,
    OperationData,
    add_funding_line,
    check_operation,
    delete_funding_line,
    load_operation_data,
    save_operation,
    update_funding_line,
)
from db.services.organisations import OrganisationData, save_organisation
from db.vocabulary import FundingStatus, OperationStatus, OrganisationKind

amounts = st.integers(min_value=1, max_value=5_000_000_00).map(from_cents)
edits = st.lists(st.one_of(
    st.tuples(st.just("add"), amounts),
    st.tuples(st.just("update"), st.integers(0, 5), amounts),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("cost"), amounts),
), min_size=1, max_size=8)


def _stored(db, operation_id):
    with db.read() as session:
        operation = session.get(Operation, operation_id)
        data = load_operation_data(session, operation)
        findings = check_operation(session, data, date(2025, 6, 1))
        raw_cents = session.scalar(
            select(func.coalesce(func.sum(type_coerce(FundingLine.amount_requested,
                                                      BigInteger)), 0))
            .where(FundingLine.operation_id == operation_id))
    return data, findings, raw_cents


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(cost=amounts, edits=edits)
def test_committed_plan_stays_balanced_through_any_edits(db, cost, edits):
    # Each example has its own organisations: the base refuses a second one of a name.
    tag = uuid.uuid4().hex[:8]
    owner = save_organisation(db, OrganisationData(f"Commune {tag}",
                                                   OrganisationKind.COMMUNE)).id
    financer = save_organisation(db, OrganisationData(f"Région {tag}",
                                                      OrganisationKind.REGION)).id
    saved = save_operation(db, OperationData(
        reference=f"P-{owner.hex[:8]}", title="Propriété", owner_id=owner,
        status=OperationStatus.PROGRAMMED, cost_ht=cost))
    version = saved.version
    for edit in edits:
        data, _, _ = _stored(db, saved.id)
        try:
            if edit[0] == "add":
                version = add_funding_line(db, saved.id, version, FundingLineData(
                    financer, "REGION", edit[1], status=FundingStatus.REQUESTED)).version
            elif edit[0] == "update" and data.funding_lines:
                line = data.funding_lines[edit[1] % len(data.funding_lines)]
                line.amount_requested = edit[2]
                version = update_funding_line(db, saved.id, version, line).version
            elif edit[0] == "delete" and data.funding_lines:
                line = data.funding_lines[edit[1] % len(data.funding_lines)]
                version = delete_funding_line(db, saved.id, version, line.id).version
            elif edit[0] == "cost":
                data.cost_ht = edit[1]
                version = save_operation(db, data).version
        except RuleViolation:
            pass  # refused as a whole: the stored plan must be unchanged and valid
        stored, findings, raw_cents = _stored(db, saved.id)
        total = sum((line.amount_requested for line in stored.funding_lines), Decimal("0.00"))
        assert stored.version == version
        assert from_cents(raw_cents) == total  # cents in the database == Decimal sum
        assert stored.cost_ht - total >= 0  # owner's share: the plan balances
        assert blocking(findings, committed=True) == []
