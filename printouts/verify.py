"""Reading back the provenance a printed document carries (no database here)."""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader

from db.documents import Provenance, RecordVersion
from db.errors import UserError
from printouts.pdf import KEYWORDS_PREFIX


@dataclass
class PrintedDocument:
    provenance: Provenance
    printed_at: datetime | None  # the PDF's creation time: the edition
    damaged: bool  # pypdf had to repair the file to read it


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _read(path: Path) -> tuple[dict, datetime | None, bool]:
    """The document's metadata. pypdf reports what it repairs in English on its logger
    and through warnings: kept here, and said in French by the caller."""
    try:
        with path.open("rb") as file:
            start = file.read(1024)
    except FileNotFoundError:
        raise UserError(f"Le fichier {path} n'existe pas.") from None
    except IsADirectoryError:
        raise UserError(f"{path} est un dossier, pas un document PDF.") from None
    except PermissionError:
        raise UserError(f"Le fichier {path} ne peut pas être lu : accès refusé.") from None
    except OSError as error:
        raise UserError(f"Le fichier {path} ne peut pas être lu (erreur système "
                        f"{error.errno}).") from None
    if b"%PDF-" not in start:
        raise UserError(f"Le fichier {path} n'est pas un document PDF.")
    logger = logging.getLogger("pypdf")
    collected, propagate = _Collect(), logger.propagate
    logger.addHandler(collected)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reader = PdfReader(str(path))
            metadata = reader.metadata or {}
            info = {key: metadata.get(key) for key in ("/Keywords",)}
            try:
                created = metadata.creation_date if metadata else None
            except (ValueError, TypeError):
                created = None
    except Exception as error:  # any failure of the parser means a damaged file
        raise UserError(f"Le document {path} est endommagé ou incomplet (copie interrompue, "
                        "fichier tronqué ?) : il ne peut pas être lu.") from error
    finally:
        logger.removeHandler(collected)
        logger.propagate = propagate
    return info, created, bool(collected.records or caught)


def read_document(path: Path) -> PrintedDocument:
    info, created, damaged = _read(path)
    keywords = str(info.get("/Keywords") or "")
    if not keywords.startswith(KEYWORDS_PREFIX):
        raise UserError(f"Le fichier {path} n'a pas été édité par l'application : il ne porte "
                        "pas d'empreinte à vérifier.")
    try:
        content = json.loads(keywords[len(KEYWORDS_PREFIX):])
        provenance = Provenance(content["kind"], content["subject"],
                                [RecordVersion(**r) for r in content["records"]],
                                content["fingerprint"], options=content.get("options", {}))
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"L'empreinte du document {path} est illisible : le fichier a été "
                        "modifié après son édition.") from error
    if created is not None:
        provenance.edited = created.date()
    return PrintedDocument(provenance, created, damaged)


def read_provenance(path: Path) -> Provenance:
    return read_document(path).provenance
