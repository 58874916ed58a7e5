"""Reading back the provenance a printed document carries (no database here)."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from db.documents import Provenance, RecordVersion
from db.errors import UserError
from printouts.pdf import KEYWORDS_PREFIX


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
                      [RecordVersion(**r) for r in content["records"]], content["fingerprint"],
                      options=content.get("options", {}))
