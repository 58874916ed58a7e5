"""What a base says of field copies: is it one, and which of its records are out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from db.database import Database
from db.models import FieldCopy, FieldCopyRecord


@dataclass(frozen=True)
class CopyInfo:
    id: uuid.UUID
    office: str
    scope: str
    taken_at: datetime  # local time
    taken_by: str
    file_name: str
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None

    def banner(self) -> str:
        """The window's words for a field copy."""
        return (f"Copie de terrain de la base « {self.office} » ({self.scope}), emportée le "
                f"{self.taken_at:%d/%m/%Y à %H:%M} par {self.taken_by}. Vos modifications "
                "seront reprises au bureau par « Fichier › Rapporter une copie de terrain… ».")

    def mark(self) -> str:
        """How the office marks the records of an outstanding copy."""
        return f"sortie sur le terrain par {self.taken_by} le {self.taken_at:%d/%m/%Y}"


def _local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone()


def _info(record: FieldCopy) -> CopyInfo:
    return CopyInfo(record.id, record.office_label, (record.scope or {}).get("label", ""),
                    _local(record.taken_at), record.taken_by, record.file_name,
                    _local(record.checked_in_at), record.checked_in_by)


def copy_status(db: Database) -> CopyInfo | None:
    """The copy this base is, or None for an office (or personal) base."""
    with db.read() as session:
        record = session.scalar(select(FieldCopy).where(FieldCopy.role == "copie"))
        return _info(record) if record is not None else None


def outstanding(db: Database) -> list[CopyInfo]:
    """The copies taken from this base and not brought back yet, newest first."""
    with db.read() as session:
        return [_info(r) for r in session.scalars(
            select(FieldCopy).where(FieldCopy.role == "sortie",
                                    FieldCopy.checked_in_at.is_(None))
            .order_by(FieldCopy.taken_at.desc()))]


def checked_out(db: Database, entity: str, record_id: uuid.UUID | str) -> list[CopyInfo]:
    """The outstanding copies that hold this record (a mark, never a lock)."""
    with db.read() as session:
        return [_info(r) for r in session.scalars(
            select(FieldCopy).join(FieldCopyRecord, FieldCopyRecord.copy_id == FieldCopy.id)
            .where(FieldCopyRecord.entity == entity,
                   FieldCopyRecord.record_id == str(record_id),
                   FieldCopy.checked_in_at.is_(None)))]


def scope_choices(db: Database, arrondissement: str | None
                  ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What the check-out dialog offers: the contracts (reference, title) and the
    communes (code, name) of the arrondissement, in order."""
    from db.lists import _commune_names, contract_in_arrondissement
    from db.models import Contract

    with db.read() as session:
        query = select(Contract.reference, Contract.title).order_by(Contract.reference)
        if arrondissement:
            query = query.where(contract_in_arrondissement(arrondissement))
        contracts = [(reference, title) for reference, title in session.execute(query)]
    communes = _commune_names(db, arrondissement) if arrondissement else []
    from db.naming import sort_name

    return contracts, sorted(communes, key=lambda pair: sort_name(pair[1]) or "")
