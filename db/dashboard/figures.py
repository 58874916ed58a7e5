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

from collections.abc import Callable
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


def _granted_lines(db: Database, arrondissement: str | None) -> list:
    conditions: list = [FundingLine.status == FundingStatus.GRANTED.value]
    if arrondissement:
        on_operation = [c for c in operation_conditions(db, Criteria(
            arrondissement=arrondissement)) if c is not None]
        conditions.append(FundingLine.operation_id.in_(select(Operation.id)
                                                       .where(*on_operation)))
    return conditions


def _sums() -> list:
    return [func.coalesce(func.sum(raw_cents(FundingLine.amount_granted)), 0),
            func.coalesce(func.sum(raw_cents(FundingLine.paid_total)), 0),
            func.count(),
            func.count() - func.count(raw_cents(FundingLine.amount_granted))]


@dataclass(frozen=True)
class _Cell:
    """The granted lines of one key (scheme or EPCI) and one budget year, in cents."""

    key: Any
    label: str
    year: int | None
    granted: int
    paid: int
    lines: int
    missing: int


def _add_up(cells: list[_Cell], key: Callable[[_Cell], Any],
            label: Callable[[_Cell], str]) -> list[Amounts]:
    sums: dict[Any, list] = {}
    for cell in cells:
        entry = sums.setdefault(key(cell), [label(cell), 0, 0, 0, 0])
        entry[1] += cell.granted
        entry[2] += cell.paid
        entry[3] += cell.lines
        entry[4] += cell.missing
    return [Amounts(k, name, from_cents(granted), from_cents(paid), lines, missing)
            for k, (name, granted, paid, lines, missing) in sums.items()]


def _largest_first(amounts: list[Amounts]) -> list[Amounts]:
    return sorted(amounts, key=lambda a: (-a.granted, a.label))


class FigureTable:
    """The granted lines of a territory summed per (dispositif, year) and per (EPCI,
    year) — two SQL aggregates; the figures of any year are then added up from it with
    no other query (the dashboard's year filter redraws at once)."""

    def __init__(self, arrondissement: str | None, schemes: list[_Cell],
                 epcis: list[_Cell]) -> None:
        self.arrondissement = arrondissement
        self._schemes = schemes
        self._epcis = epcis

    def years(self) -> list[int]:
        """The years of the granted lines, latest first (the year filter's choices)."""
        return sorted({c.year for c in self._schemes if c.year is not None}, reverse=True)

    def by_year(self) -> list[Amounts]:
        found = _add_up(self._schemes, lambda c: c.year,
                        lambda c: str(c.year) if c.year is not None else NO_YEAR)
        # Oldest first, the lines without a budget year last.
        return sorted(found, key=lambda a: (a.key is None, a.key or 0))

    def by_scheme(self, year: int | None = None) -> list[Amounts]:
        cells = [c for c in self._schemes if year is None or c.year == year]
        return _largest_first(_add_up(cells, lambda c: c.key, lambda c: c.label))

    def by_epci(self, year: int | None = None, top: int = TOP_EPCI) -> list[Amounts]:
        cells = [c for c in self._epcis if year is None or c.year == year]
        found = _largest_first(_add_up(cells, lambda c: c.key, lambda c: c.label))
        if len(found) <= top + 1:  # an « autres » bar for one EPCI would hide its name
            return found
        shown, rest = found[:top], found[top:]
        others = Amounts(None, f"Autres EPCI ({len(rest)})",
                         sum((a.granted for a in rest), Decimal("0.00")),
                         sum((a.paid for a in rest), Decimal("0.00")),
                         sum(a.lines for a in rest), sum(a.missing for a in rest), len(rest))
        return [*shown, others]

    def figures(self, year: int | None = None, top_epci: int = TOP_EPCI
                ) -> DashboardFigures:
        return DashboardFigures(self.arrondissement, year, by_year=self.by_year(),
                                by_scheme=self.by_scheme(year),
                                by_epci=self.by_epci(year, top_epci))


def _scheme_cells(db: Database, arrondissement: str | None) -> list[_Cell]:
    label = func.coalesce(FundingScheme.short_label, FundingScheme.label)
    query = (select(FundingLine.scheme_code, label, FundingLine.budget_year, *_sums())
             .select_from(FundingLine)
             .outerjoin(FundingScheme, FundingScheme.code == FundingLine.scheme_code)
             .where(*_granted_lines(db, arrondissement))
             .group_by(FundingLine.scheme_code, label, FundingLine.budget_year))
    with db.read() as session:
        return [_Cell(code, name or NO_SCHEME, year, *map(int, rest))
                for code, name, year, *rest in session.execute(query)]


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


def _epci_cells(db: Database, arrondissement: str | None) -> list[_Cell]:
    pairs = _epci_pairs(db, arrondissement).subquery()
    query = (select(pairs.c.epci, Epci.name, FundingLine.budget_year, *_sums())
             .select_from(pairs)
             .join(FundingLine, FundingLine.operation_id == pairs.c.operation)
             .join(Epci, Epci.code == pairs.c.epci)
             .where(*_granted_lines(db, None))
             .group_by(pairs.c.epci, Epci.name, FundingLine.budget_year))
    with db.read() as session:
        return [_Cell(code, name, year, *map(int, rest))
                for code, name, year, *rest in session.execute(query)]


def figure_table(db: Database, *, arrondissement: str | None = None) -> FigureTable:
    """Both aggregates of the territory (the whole base without *arrondissement*)."""
    return FigureTable(arrondissement, _scheme_cells(db, arrondissement),
                       _epci_cells(db, arrondissement))


def by_year(db: Database, *, arrondissement: str | None = None) -> list[Amounts]:
    return FigureTable(arrondissement, _scheme_cells(db, arrondissement), []).by_year()


def by_scheme(db: Database, *, arrondissement: str | None = None,
              year: int | None = None) -> list[Amounts]:
    return FigureTable(arrondissement, _scheme_cells(db, arrondissement), []).by_scheme(year)


def by_epci(db: Database, *, arrondissement: str | None = None, year: int | None = None,
            top: int = TOP_EPCI) -> list[Amounts]:
    return FigureTable(arrondissement, [], _epci_cells(db, arrondissement)).by_epci(year, top)


def budget_years(db: Database, *, arrondissement: str | None = None) -> list[int]:
    return FigureTable(arrondissement, _scheme_cells(db, arrondissement), []).years()


def dashboard_figures(db: Database, *, arrondissement: str | None = None,
                      year: int | None = None, top_epci: int = TOP_EPCI) -> DashboardFigures:
    return figure_table(db, arrondissement=arrondissement).figures(year, top_epci)
