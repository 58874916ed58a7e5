"""Which template an act is written from: the office's own (table act_template, shared
by every agent of the base) for the kind and the scheme, else its own for the kind and
every scheme, else the shipped one (resources/modeles/<kind>_<scheme>.docx, then
<kind>.docx). And the office's management of its own: list, export for editing, take
back an edited one (checked, tried on a real funding line), go back to the shipped one.
No Qt."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text

from db.acts.templates import TEMPLATES_DIR, TemplateError
from db.database import Database
from db.errors import InvalidInput, UserError
from db.models import ActTemplate, FundingLine, FundingScheme
from db.vocabulary import ActKind

SHIPPED = "Modèle livré"
OFFICE = "Modèle du bureau"
ALL_SCHEMES = "Tous dispositifs"
MAX_TEMPLATE_SIZE = 20 * 1024 * 1024  # a DOCX of a few pages with a logo stays far under


@dataclass(frozen=True)
class TemplateSource:
    content: bytes
    file_name: str
    office: bool  # True: the office's own, from the base; False: shipped


@dataclass(frozen=True)
class TemplateRow:
    """One line of *Paramètres › Modèles…*: a kind for a scheme (None: every scheme)."""

    kind: ActKind
    kind_label: str
    scheme_code: str | None
    scheme_label: str  # « DETR », « Tous dispositifs »
    office: bool
    origin: str  # « Modèle livré » / « Modèle du bureau »
    file_name: str
    modified_at: datetime | None  # aware, UTC; the shipped file's date for a shipped one
    modified_by: str | None  # None for a shipped one


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


# --- The list ----------------------------------------------------------------------

def _shipped_pairs(codes: dict[str, str]) -> list[tuple[ActKind, str | None, Path]]:
    """(kind, scheme code, file) of every shipped template; a file named for a scheme
    the base does not know is left out."""
    found = []
    by_lower = {code.lower(): code for code in codes}
    for kind in ActKind:
        for path in sorted(TEMPLATES_DIR.glob(f"{kind.value}*.docx")):
            rest = path.stem[len(kind.value):]
            if rest == "":
                found.append((kind, None, path))
            elif rest.startswith("_") and rest[1:] in by_lower:
                found.append((kind, by_lower[rest[1:]], path))
    return found


def scheme_labels(db: Database) -> dict[str, str]:
    """Code → what the agent reads (« DETR », « Fonds vert »), in the base's order."""
    with db.read() as session:
        return {s.code: s.short_label or s.label
                for s in session.scalars(select(FundingScheme).order_by(FundingScheme.label))}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def templates(db: Database) -> list[TemplateRow]:
    """One row per kind × scheme that has a shipped or an office template, in the order
    of the kinds, « Tous dispositifs » first."""
    labels = scheme_labels(db)
    with db.read() as session:
        office = {(row.kind, row.scheme_code): (row.file_name, _aware(row.updated_at),
                                                row.updated_by)
                  for row in session.scalars(select(ActTemplate))}
    shipped = {(kind.value, code): path for kind, code, path in _shipped_pairs(labels)}
    rows = []
    for kind_value, code in set(office) | set(shipped):
        kind = ActKind(kind_value)
        scheme = ALL_SCHEMES if code is None else labels.get(code, code)
        if (kind_value, code) in office:
            name, at, by = office[(kind_value, code)]
            rows.append(TemplateRow(kind, kind.label, code, scheme, True, OFFICE, name, at, by))
        else:
            path = shipped[(kind_value, code)]
            at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            rows.append(TemplateRow(kind, kind.label, code, scheme, False, SHIPPED, path.name,
                                    at, None))
    order = {kind: index for index, kind in enumerate(ActKind)}
    return sorted(rows, key=lambda r: (order[r.kind], r.scheme_code is not None,
                                       r.scheme_label.lower()))


# --- Export, import, reset --------------------------------------------------------------

def _scheme(db: Database, scheme_code: str | None) -> str | None:
    if scheme_code is None or not scheme_code.strip():
        return None
    labels = scheme_labels(db)
    if scheme_code not in labels:
        raise InvalidInput(f"Dispositif inconnu : « {scheme_code} ».")
    return scheme_code


def export_template(db: Database, kind: ActKind | str, scheme_code: str | None,
                    path: str | os.PathLike[str]) -> Path:
    """Write the template in use for the kind and scheme (the office's or the shipped
    one) to *path*, to be edited in LibreOffice or Word."""
    from db.attachments.store import write_new

    kind = ActKind(kind)
    source = template_for(db, kind, _scheme(db, scheme_code))
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise InvalidInput(f"Le dossier {target.parent} n'existe pas.")
    try:
        write_new(target, [source.content])
        target.chmod(0o644)  # write_new makes it read-only: this one is for editing
    except OSError as exc:
        raise UserError(f"Le modèle n'a pas pu être écrit dans {target} "
                        f"({exc.strerror or exc}).") from exc
    return target


def _trial_line(session, scheme_code: str | None):
    """A real funding line to try a template on: of the scheme when there is one."""
    query = select(FundingLine.id).order_by(FundingLine.created_at, FundingLine.id).limit(1)
    if scheme_code is not None:
        found = session.scalar(query.where(FundingLine.scheme_code == scheme_code))
        if found is not None:
            return found
    return session.scalar(query)


def _try(db: Database, content: bytes, scheme_code: str | None) -> None:
    """Render the template once with the values of a real funding line, if the base has
    one: a tag that only fails when filled is refused now, not on the day of an act."""
    from db.acts.fields import context
    from db.acts.templates import render
    from db.models import Operation

    with db.read() as session:
        line_id = _trial_line(session, scheme_code)
        if line_id is None:
            return
        reference = session.scalar(select(Operation.reference).join(FundingLine)
                                   .where(FundingLine.id == line_id))
    try:
        render(content, context(db, line_id))
    except TemplateError as exc:
        raise TemplateError(f"{exc}\n(essai avec l'opération « {reference} »)") from exc
    except Exception as exc:  # docxtpl and lxml raise many kinds on a damaged document
        raise TemplateError(f"Modèle refusé : l'essai avec l'opération « {reference} » a "
                            f"échoué ({type(exc).__name__} : {exc}).") from exc


def _lock_kind(session, kind: ActKind) -> None:
    """Two agents taking back a template for « tous dispositifs » at the same moment:
    the unique constraint does not stop two NULL schemes, this lock does (SQLite's
    writers already take the base's lock first)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"act_template:{kind.value}"})


def _row(session, kind: ActKind, scheme_code: str | None) -> ActTemplate | None:
    condition = (ActTemplate.scheme_code.is_(None) if scheme_code is None
                 else ActTemplate.scheme_code == scheme_code)
    return session.scalar(select(ActTemplate).where(ActTemplate.kind == kind.value, condition))


def _refuse_in_field_copy(session) -> None:
    from db.models import FieldCopy

    if session.scalar(select(FieldCopy.id).where(FieldCopy.role == "copie")) is not None:
        raise UserError("Cette base est une copie de terrain : ses modèles sont ceux du "
                        "bureau et se modifient au bureau.")


def import_template(db: Database, kind: ActKind | str, scheme_code: str | None,
                    path: str | os.PathLike[str]) -> ActTemplate:
    """Take back an edited template: checked (an unknown field is named with its
    paragraph), tried on a real funding line, then stored in one transaction in place
    of the office's previous one for this kind and scheme."""
    from db.acts.templates import check_template

    kind = ActKind(kind)
    scheme_code = _scheme(db, scheme_code)
    source = Path(path).expanduser()
    if not source.is_file():
        raise InvalidInput(f"Le fichier {source} est introuvable.")
    if source.stat().st_size > MAX_TEMPLATE_SIZE:
        raise InvalidInput(f"Le fichier {source.name} est trop gros pour un modèle d'acte.")
    try:
        content = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Le fichier {source} ne peut pas être lu "
                           f"({exc.strerror or exc}).") from exc
    check_template(content)
    _try(db, content, scheme_code)
    name = source.name[:255]
    sha256 = hashlib.sha256(content).hexdigest()
    with db.write() as session:
        _refuse_in_field_copy(session)
        _lock_kind(session, kind)
        row = _row(session, kind, scheme_code)
        if row is None:
            row = ActTemplate(kind=kind.value, scheme_code=scheme_code, file_name=name,
                              sha256=sha256, content=content)
            session.add(row)
        else:
            row.file_name, row.sha256, row.content = name, sha256, content
        session.flush()
        session.expunge(row)
        return row


def reset_template(db: Database, kind: ActKind | str, scheme_code: str | None) -> None:
    """Remove the office's template of the kind and scheme: the shipped one (or the
    office's for every scheme) is used again."""
    kind = ActKind(kind)
    with db.write() as session:
        _refuse_in_field_copy(session)
        _lock_kind(session, kind)
        row = _row(session, kind, scheme_code)
        if row is None:
            raise InvalidInput(f"« {kind.label} » n'a pas de modèle du bureau pour ce "
                               "dispositif : c'est déjà le modèle livré.")
        session.delete(row)
