"""Reports (pandas pivots): granted and paid by financer × year, by commune and by EPCI
with amounts per inhabitant, by contract × axis.

Amounts are pivoted as integer cents (exact) and handed back as Decimal euros.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from db.database import Database
from db.lists import COMMUNES, EPCIS, Criteria, base_cost, operation_conditions
from db.models import (
    Axis,
    Contract,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    raw_cents,
)
from db.money import from_cents
from db.naming import french_sorted
from db.spreadsheets.export import REFUSE, ExportColumn
from db.vocabulary import FundingStatus, OperationStatus


@dataclass
class Report:
    title: str
    columns: list[ExportColumn]
    rows: list[dict[str, Any]]  # the last row holds the totals


MISSING = ExportColumn("missing", "Montants non communiqués", "int", 14)


def _amount(known_cents: int, known: int, missing: int) -> Decimal | None:
    """A sum of amounts: None ("non communiqué") when every amount summed is unknown,
    never 0 €; the row's count of missing amounts says what a partial sum lacks."""
    if missing and not known:
        return None
    return from_cents(int(known_cents))


def financer_by_year(db: Database, criteria: Criteria | None = None) -> Report:
    import pandas as pd

    criteria = criteria or Criteria()
    conditions = [c for c in operation_conditions(db, criteria) if c is not None]
    query = (select(Organisation.name, FundingLine.budget_year,
                    raw_cents(FundingLine.amount_granted), raw_cents(FundingLine.paid_total))
             .select_from(FundingLine)
             .join(Operation, Operation.id == FundingLine.operation_id)
             .outerjoin(Organisation, Organisation.id == FundingLine.financer_id)
             .where(FundingLine.status == FundingStatus.GRANTED.value, *conditions))
    with db.read() as session:
        frame = pd.DataFrame(session.execute(query).all(),
                             columns=["financer", "year", "granted", "paid"])
    frame["financer"] = frame["financer"].fillna("Financeur non précisé")
    frame["year"] = frame["year"].fillna(0).astype(int)
    frame["missing"] = frame["granted"].isna().astype("int64")
    frame["known"] = 1 - frame["missing"]
    frame[["granted", "paid"]] = frame[["granted", "paid"]].fillna(0).astype("int64")
    pivot = frame.pivot_table(index="financer", columns="year",
                              values=["granted", "paid", "missing", "known"],
                              aggfunc="sum", fill_value=0, margins=True, margins_name="Total")
    # Years with nothing granted nor paid (e.g. lines without a budget year) are left out.
    years = [y for y in pivot.columns.levels[1] if y != "Total"
             and (pivot[("granted", y)].iloc[-1] or pivot[("paid", y)].iloc[-1]
                  or pivot[("missing", y)].iloc[-1])]
    columns = [ExportColumn("financer", "Financeur", width=40)]
    for year in [*years, "Total"]:
        shown = "Sans exercice" if year == 0 else str(year)
        columns += [ExportColumn(f"granted_{year}", f"Accordé {shown}", "money", 16),
                    ExportColumn(f"paid_{year}", f"Versé {shown}", "money", 16)]
    columns.append(MISSING)
    rows = []
    for financer, values in pivot.iterrows():
        row: dict[str, Any] = {"financer": financer}
        for year in [*years, "Total"]:
            row[f"granted_{year}"] = _amount(values[("granted", year)],
                                             values[("known", year)],
                                             values[("missing", year)])
            row[f"paid_{year}"] = from_cents(int(values[("paid", year)]))
        row["missing"] = int(values[("missing", "Total")])
        rows.append(row)
    # pandas orders the financers byte by byte ("État" after "Union européenne"); the
    # margins row "Total" stays last.
    rows = french_sorted(rows[:-1], key=lambda r: r["financer"]) + rows[-1:]
    return Report("Accordé et versé par financeur et par exercice", columns, rows)


def _territory(query, title: str, name_label: str, db: Database, criteria: Criteria) -> Report:
    rows = query.page(db, criteria, limit=None)
    total_granted = sum((r["granted"] or Decimal("0")) for r in rows)
    total_paid = sum((r["paid"] or Decimal("0")) for r in rows)
    population = sum(r["population"] or 0 for r in rows)
    rows.append({"code": "", "name": "Total", "population": population,
                 "operations": sum(r["operations"] or 0 for r in rows),
                 "granted": total_granted, "paid": total_paid,
                 "per_inhabitant": (total_granted / population).quantize(Decimal("0.01"))
                 if population else None})
    columns = [ExportColumn("code", "Code", width=11), ExportColumn("name", name_label,
                                                                    width=36),
               ExportColumn("population", "Population", "int", 12),
               ExportColumn("operations", "Opérations", "int", 11),
               ExportColumn("granted", "Accordé", "money", 16),
               ExportColumn("paid", "Versé", "money", 16),
               ExportColumn("per_inhabitant", "Accordé par habitant", "money", 16)]
    return Report(title, columns, rows)


def by_commune(db: Database, criteria: Criteria) -> Report:
    return _territory(COMMUNES, "Montants par commune", "Commune", db, criteria)


def by_epci(db: Database, criteria: Criteria) -> Report:
    return _territory(EPCIS, "Montants par EPCI", "EPCI", db, criteria)


def contract_by_axis(db: Database, criteria: Criteria | None = None) -> Report:
    import pandas as pd

    criteria = criteria or Criteria()
    conditions = [c for c in operation_conditions(db, criteria) if c is not None]
    granted = raw_cents(FundingLine.amount_granted)
    lines = (select(FundingLine.operation_id.label("operation_id"),
                    func.sum(granted).label("granted"),
                    func.count(granted).label("known"),
                    (func.count() - func.count(granted)).label("missing"))
             .where(FundingLine.status == FundingStatus.GRANTED.value)
             .group_by(FundingLine.operation_id).subquery())
    query = (select(Contract.reference, Axis.label, raw_cents(base_cost()), lines.c.granted,
                    lines.c.known, lines.c.missing, raw_cents(Operation.paid_total))
             .select_from(OperationLink)
             .join(Contract, Contract.id == OperationLink.contract_id)
             .join(Operation, Operation.id == OperationLink.operation_id)
             .outerjoin(Axis, Axis.id == OperationLink.axis_id)
             .outerjoin(lines, lines.c.operation_id == Operation.id)
             .where(Operation.status != OperationStatus.ABANDONED.value, *conditions))
    with db.read() as session:
        frame = pd.DataFrame(session.execute(query).all(),
                             columns=["contract", "axis", "cost", "granted", "known",
                                      "missing", "paid"])
    frame["axis"] = frame["axis"].fillna("Sans axe")
    frame["operations"] = 1
    frame["cost_missing"] = frame["cost"].isna().astype("int64")
    frame["cost_known"] = 1 - frame["cost_missing"]
    for column in ("cost", "granted", "known", "missing", "paid"):
        frame[column] = frame[column].fillna(0).astype("int64")
    sums = ["operations", "cost", "cost_known", "cost_missing", "granted", "known", "missing",
            "paid"]
    grouped = frame.groupby(["contract", "axis"], sort=True)[sums].sum().reset_index()

    def row(contract: str, axis: str, values: Any) -> dict[str, Any]:
        return {"contract": contract, "axis": axis, "operations": int(values["operations"]),
                "cost": _amount(values["cost"], values["cost_known"], values["cost_missing"]),
                "granted": _amount(values["granted"], values["known"], values["missing"]),
                "paid": from_cents(int(values["paid"])),
                "missing": int(values["cost_missing"] + values["missing"])}

    rows = [row(r["contract"], r["axis"], r) for _, r in grouped.iterrows()]
    rows.append(row("Total", "", frame[sums].sum()))
    columns = [ExportColumn("contract", "Contrat", width=28),
               ExportColumn("axis", "Axe", width=40),
               ExportColumn("operations", "Opérations", "int", 11),
               ExportColumn("cost", "Coût", "money", 16),
               ExportColumn("granted", "Accordé", "money", 16),
               ExportColumn("paid", "Versé", "money", 16), MISSING]
    return Report("Montants par contrat et par axe (opérations abandonnées exclues)", columns,
                  rows)


REPORTS = {
    "financeurs": ("Accordé et versé par financeur et par exercice", financer_by_year),
    "communes": ("Montants par commune (par habitant)", by_commune),
    "epci": ("Montants par EPCI (par habitant)", by_epci),
    "contrats": ("Montants par contrat et par axe", contract_by_axis),
}


def export_report(report: Report, path: Path, long_texts: str = REFUSE) -> Path:
    """A text over a cell's limit is refused or split as *long_texts* says (REFUSE or
    SPLIT, db.spreadsheets.export.check_long_texts)."""
    from db.spreadsheets.export import export_table

    return export_table(path, report.columns, report.rows[:-1], _totals(report),
                        sheet="Rapport", long_texts=long_texts)


def _totals(report: Report) -> dict[str, Any]:
    return report.rows[-1]
