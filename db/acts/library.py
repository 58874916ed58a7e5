"""Which template an act is written from: the office's own (table act_template, shared
by every agent of the base) for the kind and the scheme, else its own for the kind and
every scheme, else the shipped one (resources/modeles/<kind>_<scheme>.docx, then
<kind>.docx). No Qt."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from db.acts.templates import TEMPLATES_DIR, TemplateError
from db.database import Database
from db.models import ActTemplate
from db.vocabulary import ActKind


@dataclass(frozen=True)
class TemplateSource:
    content: bytes
    file_name: str
    office: bool  # True: the office's own, from the base; False: shipped


def shipped_file(kind: ActKind | str, scheme_code: str | None):
    """The shipped template for the kind and scheme, or None."""
    kind = ActKind(kind)
    candidates = ([f"{kind.value}_{scheme_code.lower()}.docx"] if scheme_code else [])
    candidates.append(f"{kind.value}.docx")
    return next((TEMPLATES_DIR / name for name in candidates
                 if (TEMPLATES_DIR / name).is_file()), None)


def template_for(db: Database, kind: ActKind | str, scheme_code: str | None
                 ) -> TemplateSource:
    kind = ActKind(kind)
    with db.read() as session:
        rows = session.scalars(select(ActTemplate).where(ActTemplate.kind == kind.value)).all()
        by_scheme = {row.scheme_code: row for row in rows}
        row = by_scheme.get(scheme_code) if scheme_code else None
        row = row or by_scheme.get(None)
        if row is not None:
            return TemplateSource(row.content, row.file_name, True)
    path = shipped_file(kind, scheme_code)
    if path is None:
        raise TemplateError(f"Aucun modèle pour « {kind.label} » : ajoutez-en un dans "
                            "Paramètres › Modèles….")
    return TemplateSource(path.read_bytes(), path.name, False)
