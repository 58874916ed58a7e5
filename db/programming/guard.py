"""The rule « never programme beyond an envelope », checked when an operation's plan is
saved (editor, partial writes): a funding line granted, or whose granted amount, scheme
or budget year changed, is refused if it takes an envelope that counts it beyond its
amount. Only the envelopes of that scheme and year are looked at (a handful), and only
when such a line changed: saving anything else costs nothing more."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from db.models import Envelope, FundingLine, Operation
from db.vocabulary import FundingStatus

WATCHED = ("status", "amount_granted", "scheme_code", "budget_year")


def _changed(line: FundingLine) -> bool:
    state = inspect(line)
    if state.pending or state.transient:
        return True
    return any(state.attrs[name].history.has_changes() for name in WATCHED)


def check_operation(session: Session, operation: Operation) -> None:
    """Raises InvalidInput (French, names the envelope) after the plan is applied and
    before the transaction commits."""
    from db.programming.envelopes import candidate_condition, check_programming

    pairs = {(line.scheme_code, line.budget_year) for line in operation.funding_lines
             if line.status == FundingStatus.GRANTED.value and line.scheme_code
             and line.budget_year is not None and _changed(line)}
    if not pairs:
        return
    envelopes = [e for scheme, year in pairs for e in session.scalars(
        select(Envelope).where(Envelope.scheme_code == scheme, Envelope.year == year))]
    if not envelopes:
        return
    session.flush()
    for envelope in envelopes:
        counted = session.scalar(select(FundingLine.id).where(
            FundingLine.operation_id == operation.id, candidate_condition(envelope)).limit(1))
        if counted is not None:
            check_programming(session, envelope)
