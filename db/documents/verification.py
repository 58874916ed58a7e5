"""Checking a printed document against the database: the versions of the records it
was made from, and its fingerprint made again from today's data."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.database import Database
from db.documents.annex import annex
from db.documents.common import Provenance, RecordVersion
from db.documents.plan import plan
from db.documents.statement import operations_list
from db.documents.summary import summary
from db.errors import NotFoundError, UserError
from db.models import Contract, FundingLine, Operation, Payment


def current_versions(db: Database, records: list[RecordVersion]) -> dict[tuple[str, str], int]:
    """The versions now in the database of the records a document was made from."""
    from db.models import Base

    tables = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}
    found: dict[tuple[str, str], int] = {}
    with db.read() as session:
        for entity in {r.entity for r in records}:
            model = tables[entity]
            ids = [uuid.UUID(r.id) for r in records if r.entity == entity]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for record_id, version in session.execute(
                        select(model.id, model.version).where(model.id.in_(chunk))):
                    found[(entity, str(record_id))] = version
    return found


def rebuild(db: Database, provenance: Provenance) -> Any:
    """The same document made again from today's data (for verification)."""
    if provenance.kind == "etat":
        from db.lists import Criteria

        subject = json.loads(provenance.subject)
        values, description = subject["criteria"], subject["description"]
        if values.get("financer"):
            values["financer"] = uuid.UUID(values["financer"])
        if values.get("contract"):
            values["contract"] = uuid.UUID(values["contract"])
        return operations_list(db, Criteria(**values), description)
    if provenance.kind == "annexe":
        return annex(db, provenance.subject, provenance.options.get("amendment"))
    if provenance.kind == "plan":
        return plan(db, provenance.subject)
    if provenance.kind == "synthese":
        return summary(db, provenance.subject)
    raise NotFoundError(f"Type de document inconnu : {provenance.kind}.")

# --- Verification of a printed document ---------------------------------------------------

@dataclass
class Verdict:
    matches: bool
    printed: str
    current: str | None
    changed: list[str]  # French descriptions of the records changed since the print

    def message(self) -> str:
        if self.matches:
            return (f"Le document correspond à la base : empreinte {self.printed}, aucune "
                    "fiche modifiée depuis son édition.")
        lines = [f"Le document ne correspond plus à la base (empreinte imprimée "
                 f"{self.printed}, empreinte actuelle {self.current or 'indisponible'})."]
        if self.changed:
            lines.append(f"{len(self.changed)} fiche(s) modifiée(s) ou supprimée(s) depuis :")
            lines += [f"  - {change}" for change in self.changed]
        return "\n".join(lines)


def _describe(session: Session, record: RecordVersion, now: int | None) -> str:
    record_id = uuid.UUID(record.id)
    names = {"operation": "opération", "contract": "contrat", "funding_line": "financement",
             "payment": "versement"}
    label = names.get(record.entity, record.entity)
    if record.entity == "operation":
        ref = session.scalar(select(Operation.reference).where(Operation.id == record_id))
    elif record.entity == "contract":
        ref = session.scalar(select(Contract.reference).where(Contract.id == record_id))
    elif record.entity == "funding_line":
        ref = session.scalar(select(Operation.reference).join(FundingLine)
                             .where(FundingLine.id == record_id))
        label = "financement de l'opération"
    elif record.entity == "payment":
        ref = session.scalar(select(Operation.reference).join(FundingLine).join(Payment)
                             .where(Payment.id == record_id))
        label = "versement de l'opération"
    else:
        ref = None
    label = f"{label} {ref}" if ref else label
    if now is None:
        return f"{label} : supprimé(e) depuis l'édition"
    return f"{label} : version {record.version} → {now}"


def check_document(db: Database, provenance: Provenance) -> Verdict:
    """Compare a printed document's provenance with the database today."""
    versions = current_versions(db, provenance.records)
    with db.read() as session:
        changed = [_describe(session, r, versions.get((r.entity, r.id)))
                   for r in provenance.records if versions.get((r.entity, r.id)) != r.version]
    try:
        current = rebuild(db, provenance).provenance.fingerprint
    except UserError:
        current = None
    return Verdict(not changed and current == provenance.fingerprint, provenance.fingerprint,
                   current, changed)
