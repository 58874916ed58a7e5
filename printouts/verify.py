"""Does a printed document still match the database? Read its provenance back."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import select

from db.database import Database
from db.documents import Provenance, RecordVersion, current_versions, rebuild
from db.errors import UserError
from db.models import Contract, FundingLine, Operation, Payment
from printouts.pdf import KEYWORDS_PREFIX


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


def read_provenance(path: Path) -> Provenance:
    try:
        reader = PdfReader(str(path))
        keywords = (reader.metadata or {}).get("/Keywords") or ""
    except (OSError, PdfReadError, ValueError) as error:
        raise UserError(f"Impossible de lire le PDF {path} : {error}") from error
    if not str(keywords).startswith(KEYWORDS_PREFIX):
        raise UserError(f"Le fichier {path} n'a pas été édité par l'application : il ne porte "
                        "pas d'empreinte à vérifier.")
    content = json.loads(str(keywords)[len(KEYWORDS_PREFIX):])
    return Provenance(content["kind"], content["subject"],
                      [RecordVersion(**r) for r in content["records"]], content["fingerprint"])


def _describe(db: Database, record: RecordVersion, now: int | None) -> str:
    with db.read() as session:
        label = record.entity
        record_id = uuid.UUID(record.id)
        if record.entity == "operation":
            ref = session.scalar(select(Operation.reference).where(Operation.id == record_id))
            label = f"opération {ref}" if ref else "opération"
        elif record.entity == "contract":
            ref = session.scalar(select(Contract.reference).where(Contract.id == record_id))
            label = f"contrat {ref}" if ref else "contrat"
        elif record.entity == "funding_line":
            ref = session.scalar(select(Operation.reference).join(FundingLine)
                                 .where(FundingLine.id == record_id))
            label = f"financement de l'opération {ref}" if ref else "financement"
        elif record.entity == "payment":
            ref = session.scalar(select(Operation.reference).join(FundingLine)
                                 .join(Payment).where(Payment.id == record_id))
            label = f"versement de l'opération {ref}" if ref else "versement"
    if now is None:
        return f"{label} : supprimé(e) depuis l'édition"
    return f"{label} : version {record.version} → {now}"


def verify(db: Database, path: Path) -> Verdict:
    provenance = read_provenance(path)
    versions = current_versions(db, provenance.records)
    changed = [_describe(db, r, versions.get((r.entity, r.id)))
               for r in provenance.records if versions.get((r.entity, r.id)) != r.version]
    try:
        current = rebuild(db, provenance).provenance.fingerprint
    except UserError:
        current = None
    return Verdict(not changed and current == provenance.fingerprint, provenance.fingerprint,
                   current, changed)
