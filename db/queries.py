"""Read models for the lists: SQL that filters, sorts and pages in the database.

Each function returns plain rows (dataclasses), never ORM objects, so the GUI
holds no Session and no lazy loading happens in a paint event.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, literal, select

from db.database import Database
from db.models import (
    Arrondissement,
    Axis,
    Contract,
    Departement,
    Operation,
    OperationLink,
)
from db.services.settings import ARRONDISSEMENT, get_setting
from db.totals import Total, add_up


@dataclass(frozen=True)
class ArrondissementRow:
    code: str
    name: str
    departement: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.departement}, {self.code})"


def arrondissements(db: Database) -> list[ArrondissementRow]:
    with db.read() as session:
        rows = session.execute(
            select(Arrondissement.code, Arrondissement.name, Departement.name)
            .join(Departement).order_by(Arrondissement.name)).all()
    return [ArrondissementRow(*row) for row in rows]


def current_arrondissement(db: Database) -> ArrondissementRow | None:
    code = get_setting(db, ARRONDISSEMENT)
    if code is None:
        return None
    with db.read() as session:
        row = session.execute(
            select(Arrondissement.code, Arrondissement.name, Departement.name)
            .join(Departement).where(Arrondissement.code == code)).first()
    return ArrondissementRow(*row) if row else None


def is_empty(db: Database) -> bool:
    with db.read() as session:
        return not session.scalar(select(exists(select(literal(1)).select_from(Contract)))) \
            and not session.scalar(select(exists(select(literal(1)).select_from(Operation))))



# --- The reference proposed for a new operation -------------------------------------

# "DETR-2026-013", "OP-2024-000123", "59-2025-000042", "FICTIF-DSIL-2025-004": a prefix,
# the year, a counter. References of another shape (file names, seed keys) are no series.
_SERIES = re.compile(r"^(?:(?P<prefix>.+)-)?(?P<year>(?:19|20)\d\d)-(?P<number>\d{1,9})$")
DEFAULT_PREFIX = "OP"
_HABIT_SAMPLE = 200  # the most recent operations tell the office's habit


def _series(reference: str) -> tuple[str, int, str] | None:
    match = _SERIES.match(reference)
    if match is None:
        return None
    return match["prefix"] or "", int(match["year"]), match["number"]


def next_operation_reference(db: Database, year: int, prefix: str | None = None) -> str:
    """The next free reference of the series *prefix*-*year*-NNN: the highest counter of
    that prefix and year plus one (``DETR-2026-014`` after ``DETR-2026-013``), written
    with as many digits as the prefix's references use (3 at least).

    Without *prefix*, the office's habit: the prefix most used by the latest
    operations created (the most recent one on a tie); ``OP`` on a base with no series.
    """
    with db.read() as session:
        if prefix is None:
            recent = session.scalars(
                select(Operation.reference)
                .order_by(Operation.created_at.desc(), Operation.reference.desc())
                .limit(_HABIT_SAMPLE)).all()
            prefixes = [found[0] for found in map(_series, recent) if found is not None]
            counts = Counter(prefixes)
            # most_common keeps first-seen order on ties: the most recent wins.
            prefix = counts.most_common(1)[0][0] if counts else DEFAULT_PREFIX
        query = select(Operation.reference)
        if prefix:
            query = query.where(Operation.reference.startswith(f"{prefix}-", autoescape=True))
        references = set(session.scalars(query).all())
    width, last = 3, 0
    for found in map(_series, references):
        if found is None or found[0] != prefix:
            continue
        width = max(width, len(found[2]))
        if found[1] == year:
            last = max(last, int(found[2]))
    head = f"{prefix}-" if prefix else ""
    number = last + 1
    while (proposal := f"{head}{year}-{number:0{width}d}") in references:
        number += 1  # never happens with a parsed maximum; a guard all the same
    return proposal


# --- A contract's operations, by axis, with their total -------------------------------

NO_AXIS = "Sans axe"


@dataclass(frozen=True)
class ContractOperationRow:
    id: uuid.UUID
    axis: str  # "2. Mobilités", or NO_AXIS
    reference: str
    title: str
    status: str
    cost: Decimal | None  # of the base the plan finances (HT or TTC)
    granted: Decimal | None  # None: no granted amount known ("non communiqué")
    paid: Decimal
    remaining: Decimal | None


@dataclass(frozen=True)
class ContractOperations:
    rows: list[ContractOperationRow]
    cost: Total
    granted: Total
    paid: Total
    remaining: Total


def _natural(text: str | None) -> tuple:
    """"2" before "10", "1.2" after "1.1"; digits compare as numbers."""
    parts = re.split(r"(\d+)", (text or "").casefold())
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts if part)


def contract_operations(db: Database, contract_id: uuid.UUID) -> list[ContractOperationRow]:
    """The operations linked to the contract, by axis number (then the axes' order),
    those without an axis last, then by reference — numbers inside both compared as
    numbers: axis 2 before axis 10, ``DETR-2026-9`` before ``DETR-2026-10``."""
    from db.lists import base_cost

    query = (select(Operation.id, Operation.reference, Operation.title, Operation.status,
                    base_cost().label("cost"), Operation.granted_total, Operation.paid_total,
                    Axis.number, Axis.label, Axis.position)
             .select_from(OperationLink)
             .join(Operation, Operation.id == OperationLink.operation_id)
             .outerjoin(Axis, Axis.id == OperationLink.axis_id)
             .where(OperationLink.contract_id == contract_id))
    with db.read() as session:
        found = session.execute(query).all()

    def order(row) -> tuple:
        no_axis = row.label is None
        return (no_axis, row.number is None, _natural(row.number), row.position or 0,
                _natural(row.reference), row.reference)

    rows = []
    for row in sorted(found, key=order):
        axis = (NO_AXIS if row.label is None
                else f"{row.number}. {row.label}" if row.number else row.label)
        paid = row.paid_total or Decimal("0.00")
        rows.append(ContractOperationRow(
            row.id, axis, row.reference, row.title, row.status, row.cost, row.granted_total,
            paid, None if row.granted_total is None else row.granted_total - paid))
    return rows


def contract_operations_total(rows: list[ContractOperationRow]) -> ContractOperations:
    """The total row: exact sums that count their unknown amounts, never as 0."""
    return ContractOperations(
        rows, add_up(r.cost for r in rows), add_up(r.granted for r in rows),
        add_up(r.paid for r in rows), add_up(r.remaining for r in rows))
