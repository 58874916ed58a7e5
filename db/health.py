"""Health check of a database: schema revision, integrity, counts and totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.database import Database, head_revision
from db.fault_messages import restore_advice
from db.formatting import euros
from db.lists import base_cost
from db.models import (
    Arrondissement,
    Commune,
    Contract,
    Epci,
    FundingLine,
    Operation,
    Organisation,
    Payment,
)
from db.models import raw_cents as cents
from db.money import MAX_AMOUNT, from_cents, to_cents
from db.vocabulary import FundingStatus

COUNTED = {
    "contracts": Contract, "operations": Operation, "funding_lines": FundingLine,
    "payments": Payment, "organisations": Organisation, "communes": Commune,
    "arrondissements": Arrondissement, "epci": Epci,
}


@dataclass
class HealthReport:
    database: str
    mode: str
    revision: str | None
    expected_revision: str
    integrity: str | None
    counts: dict[str, int]
    totals_cents: dict[str, int]
    by_origin: dict[str, dict[str, int]]
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database, "mode": self.mode, "healthy": self.healthy,
            "revision": self.revision, "expected_revision": self.expected_revision,
            "integrity": self.integrity, "counts": self.counts,
            "totals_cents": self.totals_cents, "by_origin": self.by_origin,
            "problems": self.problems,
        }


def _base_cost_cents():
    """Cost of the base each plan finances (HT or TTC, as the operation says)."""
    return cents(base_cost())


def _totals(session: Session, origin: str | None = None) -> dict[str, int]:
    operation_filter = [] if origin is None else [Operation.origin == origin]
    cost = session.scalar(select(func.coalesce(func.sum(_base_cost_cents()), 0))
                          .where(*operation_filter))
    granted = session.scalar(
        select(func.coalesce(func.sum(cents(FundingLine.amount_granted)), 0))
        .select_from(FundingLine).join(Operation)
        .where(FundingLine.status == FundingStatus.GRANTED.value, *operation_filter))
    paid = session.scalar(
        select(func.coalesce(func.sum(cents(Payment.amount)), 0))
        .select_from(Payment).join(FundingLine).join(Operation).where(*operation_filter))
    return {"cost": int(cost), "granted": int(granted), "paid": int(paid)}


def _problems(session: Session) -> list[str]:
    problems = []
    paid, granted = func.sum(cents(Payment.amount)), cents(FundingLine.amount_granted)
    overpaid = session.execute(
        select(Operation.reference, paid, granted)
        .select_from(Payment).join(FundingLine).join(Operation)
        .group_by(FundingLine.id, Operation.reference, granted)
        .having(paid > func.coalesce(granted, 0))).all()
    for reference, paid, granted in overpaid:
        problems.append(f"Opération {reference} : versements ({euros(from_cents(paid))}) "
                        f"supérieurs au montant accordé ({euros(from_cents(granted or 0))}).")
    problems += _stale_totals(session)
    return problems


def _stale_totals(session: Session) -> list[str]:
    """The cached totals of each operation must equal the sums of its lines and payments."""
    granted = (select(FundingLine.operation_id, func.sum(cents(FundingLine.amount_granted))
                      .label("cents"))
               .where(FundingLine.status == FundingStatus.GRANTED.value)
               .group_by(FundingLine.operation_id).subquery())
    paid = (select(FundingLine.operation_id, func.sum(cents(Payment.amount)).label("cents"))
            .join(Payment, Payment.funding_line_id == FundingLine.id)
            .group_by(FundingLine.operation_id).subquery())
    stale = session.scalars(
        select(Operation.reference)
        .outerjoin(granted, granted.c.operation_id == Operation.id)
        .outerjoin(paid, paid.c.operation_id == Operation.id)
        .where((func.coalesce(cents(Operation.granted_total), -1)
                != func.coalesce(granted.c.cents, -1))
               | (cents(Operation.paid_total) != func.coalesce(paid.c.cents, 0)))
        .limit(20)).all()
    line_paid = (select(Payment.funding_line_id, func.sum(cents(Payment.amount)).label("cents"))
                 .group_by(Payment.funding_line_id).subquery())
    stale += session.scalars(
        select(Operation.reference).join(FundingLine, FundingLine.operation_id == Operation.id)
        .outerjoin(line_paid, line_paid.c.funding_line_id == FundingLine.id)
        .where(cents(FundingLine.paid_total) != func.coalesce(line_paid.c.cents, 0))
        .limit(20)).all()
    return [f"Opération {reference} : totaux accordé/versé en cache périmés "
            "(à recalculer)." for reference in dict.fromkeys(stale)]


def _money_columns() -> list[tuple[type, str, Any]]:
    """(model, attribute, column) of every amount of the schema."""
    from db.models import Base, Money

    found = []
    for mapper in Base.registry.mappers:
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if isinstance(column.type, Money):
                found.append((mapper.class_, prop.key, column))
    return found


def _out_of_bounds(session: Session, limit: int = 20) -> list[str]:
    """Amounts beyond the bounds an editor or an import accepts (db.money.MAX_AMOUNT),
    as an old base or a write in SQL could hold: named one by one, since adding them up
    would overflow 64-bit cents (SQLite stops with « integer overflow »)."""
    from db.history.values import ENTITY_NOUNS, field_label

    bound = to_cents(MAX_AMOUNT)
    found: list[str] = []
    for model, key, column in _money_columns():
        raw = cents(column)
        entity = model.__tablename__
        noun = ENTITY_NOUNS.get(entity, entity).lower()
        via_operation = model not in (Operation, Contract)
        if model is Payment:  # named by the operation it pays
            query = select(Operation.reference, raw).select_from(Payment).join(
                FundingLine).join(Operation)
        elif model in (Operation, Contract):
            query = select(model.reference, raw)
        elif hasattr(model, "operation_id"):
            query = select(Operation.reference, raw).join(
                Operation, Operation.id == model.operation_id)
        else:
            query, via_operation = select(model.id, raw), False
        rows = session.execute(query.where((raw > bound) | (raw < -bound))
                               .limit(limit)).all()
        for name, amount in rows:
            where = f"opération {name} ({noun})" if via_operation else f"{noun} {name}"
            label = field_label(key, entity)
            found.append(f"Montant hors bornes : {where}, {label[:1].lower()}{label[1:]} "
                         f"de {euros(from_cents(amount))} (au plus {euros(MAX_AMOUNT)} par "
                         "montant) : à corriger dans son éditeur.")
    return found


def check(db: Database) -> HealthReport:
    integrity = None
    problems: list[str] = []
    if db.is_sqlite:
        try:
            with db.engine.connect() as connection:
                rows = [r[0] for r in connection.execute(text("PRAGMA integrity_check"))]
        except DBAPIError as exc:
            rows = [str(exc.orig)]
        integrity = "ok" if rows == ["ok"] else "; ".join(rows[:5])
        if integrity != "ok":
            # Counting on a damaged file could fail half-way: report the damage only.
            return HealthReport(
                db.display(), db.mode_label, None, head_revision(), integrity, {}, {}, {},
                [f"Contrôle d'intégrité SQLite en échec ({len(rows)} anomalie"
                 f"{'s' if len(rows) > 1 else ''} ; détail technique : {integrity}). "
                 + restore_advice(db.target.path)])
    revision, expected = db.revision(), head_revision()
    if revision != expected:
        problems.append(f"Révision du schéma {revision}, attendue {expected}.")
    with db.read() as session:
        counts = {name: session.scalar(select(func.count()).select_from(model))
                  for name, model in COUNTED.items()}
        beyond = _out_of_bounds(session)
        if beyond:  # a finding, not a damaged base: the sums would overflow 64 bits
            problems += beyond
            problems.append("Totaux de la base non calculés : ils dépasseraient la "
                            "capacité des calculs tant que ces montants restent hors bornes.")
            return HealthReport(db.display(), db.mode_label, revision, expected, integrity,
                                counts, {}, {}, problems)
        totals = _totals(session)
        origins = session.scalars(select(Operation.origin).union(select(Contract.origin))).all()
        by_origin = {}
        for origin in sorted(origins):
            by_origin[origin] = {
                "contracts": session.scalar(select(func.count()).select_from(Contract)
                                            .where(Contract.origin == origin)),
                "operations": session.scalar(select(func.count()).select_from(Operation)
                                             .where(Operation.origin == origin)),
                **{f"{k}_cents": v for k, v in _totals(session, origin).items()},
            }
        problems += _problems(session)
    return HealthReport(db.display(), db.mode_label, revision, expected, integrity, counts,
                        totals, by_origin, problems)
