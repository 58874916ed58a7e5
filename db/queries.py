"""Read models for the lists: SQL that filters, sorts and pages in the database.

Each function returns plain rows (dataclasses), never ORM objects, so the GUI
holds no Session and no lazy loading happens in a paint event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, literal, select

from db.database import Database
from db.models import (
    Arrondissement,
    Contract,
    Departement,
    Operation,
)
from db.services.settings import ARRONDISSEMENT, get_setting


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

