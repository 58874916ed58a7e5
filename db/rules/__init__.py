"""Rules of public money: pure functions over plain data, no I/O, no Qt.

Each rule returns findings: errors (they block saving a committed operation or a
signed contract; ``strict`` ones block whatever the status) and warnings (shown,
never blocking). Every message names the field and cites its text (db.rules.texts;
their wording: docs/regles-et-textes.md).
"""

from __future__ import annotations

from datetime import date

from db.rules.contracts import evaluate_contract, proposed_end_date
from db.rules.deadlines import (
    DEADLINE_WARNING_DAYS,
    Deadlines,
    check_deadlines,
    deadlines,
    line_deadlines,
)
from db.rules.eligibility import (
    check_beneficiary,
    check_contract_period,
    check_early_start,
    check_operation_dates,
    check_owner,
)
from db.rules.findings import Finding, Severity, add_months, blocking, day, ratio
from db.rules.inputs import (
    ContractInput,
    ContractPeriod,
    ExpenseInput,
    LineInput,
    PaymentInput,
    PlanInput,
)
from db.rules.payments import check_payments, regime
from db.rules.plan import (
    DETR_COMMISSION_THRESHOLD,
    check_balance,
    check_commission,
    check_costs,
    check_expenses,
    check_lines,
    check_own_share,
    check_public_aid_cap,
    check_state_grants,
    minimum_own_share,
)


def evaluate_operation(plan: PlanInput, today: date) -> list[Finding]:
    """Every rule on one operation's financing plan, payments and dates; nothing on a
    form where nothing has been entered yet."""
    if plan.is_empty:
        return []
    return [
        *check_costs(plan), *check_expenses(plan), *check_balance(plan),
        *check_own_share(plan), *check_state_grants(plan), *check_public_aid_cap(plan),
        *check_commission(plan),
        *check_lines(plan), *check_beneficiary(plan), *check_owner(plan),
        *check_payments(plan), *check_operation_dates(plan), *check_early_start(plan),
        *check_contract_period(plan), *check_deadlines(plan, today),
    ]


__all__ = [
    "DEADLINE_WARNING_DAYS", "DETR_COMMISSION_THRESHOLD", "ContractInput", "ContractPeriod",
    "Deadlines", "ExpenseInput", "Finding", "LineInput", "PaymentInput", "PlanInput",
    "Severity", "add_months", "blocking", "check_balance", "check_beneficiary",
    "check_commission", "check_contract_period", "check_costs", "check_deadlines",
    "check_early_start", "check_expenses", "check_lines", "check_operation_dates",
    "check_own_share", "check_owner", "check_payments", "check_public_aid_cap",
    "check_state_grants", "day",
    "deadlines", "evaluate_contract", "evaluate_operation", "line_deadlines",
    "minimum_own_share", "proposed_end_date", "ratio", "regime",
]
