"""The figures of the Tableau de bord: granted and paid by budget year, by dispositif and
by EPCI, over an arrondissement (or all the base), by SQL aggregates.

What is summed is what the Financements list sums for granted lines: a line counts when
its status is « accordé »; its amount is ``amount_granted`` (an unknown amount is counted
apart in ``missing``, never as 0 €) and its paid amount the cached ``paid_total``. Each
figure carries the filter of the list that shows the rows it sums (click-through).

**EPCI, by the communes of the operations, not by their owners.** An operation belongs
to the EPCI of which one of its communes is a member: every operation has communes,
while most owners are communes, associations, départements or companies whose own
EPCI is not recorded (``Organisation.epci_code`` is set for EPCI only). It is also what
the Opérations list's « EPCI » filter and the Territoire page count, so a bar opens the
very operations it adds up. An operation located in communes of two EPCI counts in both
(as on the Territoire page): the bars of the EPCI chart may add up to more than the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from db.database import Database
from db.lists import Criteria, operation_conditions
from db.models import (
    Epci,
    FundingLine,
    FundingScheme,
    Operation,
    epci_member,
    operation_commune,
    raw_cents,
)
from db.money import from_cents
from db.vocabulary import FundingStatus

NO_YEAR = "Sans exercice"
NO_SCHEME = "Dispositif non précisé"
TOP_EPCI = 8


@dataclass(frozen=True)
class Amounts:
    """One bar: what was granted and paid for one year, dispositif or EPCI."""

    key: Any  # the value the list filters on: a year, a scheme code, an EPCI's SIREN
    label: str
    granted: Decimal
    paid: Decimal
    lines: int  # granted funding lines summed
    missing: int = 0  # of which granted without a known amount
    others: int = 0  # for the « autres » bar: how many it gathers (key None)

    @property
    def remaining(self) -> Decimal:
        return self.granted - self.paid


@dataclass(frozen=True)
class DashboardFigures:
    arrondissement: str | None
    year: int | None
    by_year: list[Amounts]  # every year (the year filter does not apply), oldest first
    by_scheme: list[Amounts]  # largest granted first
    by_epci: list[Amounts]  # the largest EPCI, then « Autres EPCI » when there are more

    @property
    def granted(self) -> Decimal:
        return sum((a.granted for a in self.by_scheme), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((a.paid for a in self.by_scheme), Decimal("0.00"))


def _granted_lines(db: Database, arrondissement: str | None, year: int | None) -> list:
    conditions: list = [FundingLine.status == FundingStatus.GRANTED.value]
    if arrondissement:
        on_operation = [c for c in operation_conditions(db, Criteria(
            arrondissement=arrondissement)) if c is not None]
        conditions.append(FundingLine.operation_id.in_(select(Operation.id)
                                                       .where(*on_operation)))
    if year is not None:
        conditions.append(FundingLine.budget_year == year)
    return conditions


def _sums() -> list:
    return [func.coalesce(func.sum(raw_cents(FundingLine.amount_granted)), 0),
            func.coalesce(func.sum(raw_cents(FundingLine.paid_total)), 0),
            func.count(),
            func.count() - func.count(raw_cents(FundingLine.amount_granted))]


def _amounts(key: Any, label: str, granted: int, paid: int, lines: int, missing: int
             ) -> Amounts:
    return Amounts(key, label, from_cents(int(granted)), from_cents(int(paid)), int(lines),
                   int(missing))


def by_year(db: Database, *, arrondissement: str | None = None) -> list[Amounts]:
    query = (select(FundingLine.budget_year, *_sums())
             .where(*_granted_lines(db, arrondissement, None))
             .group_by(FundingLine.budget_year))
    with db.read() as session:
        rows = session.execute(query).all()
    found = [_amounts(year, str(year) if year is not None else NO_YEAR, *rest)
             for year, *rest in rows]
    # Oldest first, the lines without a budget year last.
    return sorted(found, key=lambda a: (a.key is None, a.key or 0))


def by_scheme(db: Database, *, arrondissement: str | None = None,
              year: int | None = None) -> list[Amounts]:
    label = func.coalesce(FundingScheme.short_label, FundingScheme.label)
    query = (select(FundingLine.scheme_code, label, *_sums())
             .select_from(FundingLine)
             .outerjoin(FundingScheme, FundingScheme.code == FundingLine.scheme_code)
             .where(*_granted_lines(db, arrondissement, year))
             .group_by(FundingLine.scheme_code, label))
    with db.read() as session:
        rows = session.execute(query).all()
    found = [_amounts(code, name or NO_SCHEME, *rest) for code, name, *rest in rows]
    return sorted(found, key=lambda a: (-a.granted, a.label))


def _epci_pairs(db: Database, arrondissement: str | None) -> Select:
    """(EPCI, operation) once each: an operation in three member communes counts once."""
    pairs = (select(epci_member.c.epci_code.label("epci"),
                    operation_commune.c.operation_id.label("operation"))
             .join(operation_commune,
                   operation_commune.c.commune_code == epci_member.c.commune_code))
    if arrondissement:
        on_operation = [c for c in operation_conditions(db, Criteria(
            arrondissement=arrondissement)) if c is not None]
        pairs = pairs.where(operation_commune.c.operation_id.in_(
            select(Operation.id).where(*on_operation)))
    return pairs.distinct()


def by_epci(db: Database, *, arrondissement: str | None = None, year: int | None = None,
            top: int = TOP_EPCI) -> list[Amounts]:
    pairs = _epci_pairs(db, arrondissement).subquery()
    query = (select(pairs.c.epci, Epci.name, *_sums())
             .select_from(pairs)
             .join(FundingLine, FundingLine.operation_id == pairs.c.operation)
             .join(Epci, Epci.code == pairs.c.epci)
             .where(*_granted_lines(db, None, year))
             .group_by(pairs.c.epci, Epci.name))
    with db.read() as session:
        rows = session.execute(query).all()
    found = sorted((_amounts(code, name, *rest) for code, name, *rest in rows),
                   key=lambda a: (-a.granted, a.label))
    if len(found) <= top + 1:  # an « autres » bar for a single EPCI would hide its name
        return found
    shown, rest = found[:top], found[top:]
    others = Amounts(None, f"Autres EPCI ({len(rest)})",
                     sum((a.granted for a in rest), Decimal("0.00")),
                     sum((a.paid for a in rest), Decimal("0.00")),
                     sum(a.lines for a in rest), sum(a.missing for a in rest), len(rest))
    return [*shown, others]


def budget_years(db: Database, *, arrondissement: str | None = None) -> list[int]:
    """The years of the granted lines, latest first (the year filter's choices)."""
    query = (select(FundingLine.budget_year).distinct()
             .where(FundingLine.budget_year.is_not(None),
                    *_granted_lines(db, arrondissement, None)))
    with db.read() as session:
        return sorted(session.scalars(query).all(), reverse=True)


def dashboard_figures(db: Database, *, arrondissement: str | None = None,
                      year: int | None = None, top_epci: int = TOP_EPCI) -> DashboardFigures:
    return DashboardFigures(
        arrondissement, year,
        by_year=by_year(db, arrondissement=arrondissement),
        by_scheme=by_scheme(db, arrondissement=arrondissement, year=year),
        by_epci=by_epci(db, arrondissement=arrondissement, year=year, top=top_epci))
