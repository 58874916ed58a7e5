"""Making acts: one act of one kind for one funding line, or a batch of them.

An act is written from the office's template (:func:`db.acts.library.template_for`),
filled with the line's values (:func:`db.acts.fields.context`) and given out as DOCX
(the filled template), PDF (:mod:`printouts.acts`, a QR code on every page) and ODT
(LibreOffice headless converts the DOCX). Each act made is recorded on its line
(:class:`db.models.Act`: kind, date, fingerprint, template, pages) in one transaction,
once its files are written. No Qt.

What makes no sense is refused in French before anything is written: a refusal letter
for a granted line, an arrêté for a refused one, a prorogation without a recorded
extension or without a start deadline, a caducité warning once the works started.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from db.acts.fields import context
from db.acts.library import template_for
from db.acts.templates import render
from db.database import Database
from db.documents.common import FINGERPRINT_LENGTH, Provenance, RecordVersion, office
from db.errors import InvalidInput, NotFoundError, UserError
from db.models import Act, FundingLine, Operation
from db.text import elide
from db.vocabulary import ActKind, FundingStatus

FORMATS = ("pdf", "docx", "odt")
AUTO = "auto"
COMBINED_NAME = "actes_reunis.pdf"
ODT_CHUNK = 10  # DOCX converted per LibreOffice start (a start costs seconds)
TITLES = {ActKind.AWARD_ORDER: "Arrêté attributif", ActKind.NOTIFICATION: "Lettre de notification",
          ActKind.REFUSAL: "Lettre de refus", ActKind.EXTENSION_ORDER: "Arrêté de prorogation",
          ActKind.LAPSE_WARNING: "Courrier d'alerte de caducité"}


@dataclass(frozen=True)
class LineFacts:
    """What decides which acts make sense for a line."""

    id: uuid.UUID
    version: int
    reference: str
    scheme_code: str | None
    scheme_label: str
    state_aid: bool
    status: FundingStatus
    granted: bool  # granted with an amount
    started: bool
    start_deadline: date | None
    extension_months: int


@dataclass
class MadeAct:
    """An act rendered (not yet recorded): its files' contents by format."""

    act_id: uuid.UUID
    line: LineFacts
    kind: ActKind
    fingerprint: str
    template_sha256: str
    pages: int
    generated_on: date
    contents: dict[str, bytes] = field(default_factory=dict)

    @property
    def pdf(self) -> bytes:
        return self.contents["pdf"]


@dataclass
class BatchResult:
    files: list[Path] = field(default_factory=list)
    combined: Path | None = None
    acts: list[uuid.UUID] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # reference, why
    cancelled: bool = False


# --- Which acts make sense ---------------------------------------------------------------

def line_facts(db: Database, line_id: uuid.UUID, today: date | None = None) -> LineFacts:
    from db.rules.deadlines import line_deadlines
    from db.services.operations import plan_inputs

    with db.read() as session:
        line = session.get(FundingLine, line_id)
        if line is None:
            raise NotFoundError("Ligne de financement introuvable : elle a peut-être été "
                                "supprimée.")
        operation = line.operation
        plan = plan_inputs(session, [operation])[operation.id]
        limits = line_deadlines(plan, plan.lines[operation.funding_lines.index(line)])
        scheme = line.scheme
        return LineFacts(
            line.id, line.version, operation.reference, line.scheme_code,
            (scheme.short_label or scheme.label) if scheme else "dispositif non précisé",
            bool(scheme and (scheme.state_investment_grant or scheme.state_subsidy)),
            FundingStatus(line.status), line.status == FundingStatus.GRANTED
            and line.amount_granted is not None, operation.start_date is not None,
            limits.start_deadline,
            (operation.start_extension_months or 0) + (operation.completion_extension_months
                                                      or 0))


def refusal(facts: LineFacts, kind: ActKind, today: date) -> str | None:
    """Why the act makes no sense for the line (French), or None."""
    what = f"{facts.reference} ({facts.scheme_label})"
    label = kind.label.lower()
    if not facts.state_aid:
        return (f"{what} : pas {elide('de', label)}, ce financement n'est pas une subvention "
                "d'investissement de l'État.")
    if kind is ActKind.REFUSAL:
        if facts.status is not FundingStatus.REFUSED:
            return (f"{what} : pas de lettre de refus, la subvention n'est pas refusée "
                    f"(statut « {facts.status.label.lower()} »).")
        return None
    if facts.status is FundingStatus.REFUSED:
        return f"{what} : pas {elide('de', label)} pour une subvention refusée."
    if not facts.granted:
        return (f"{what} : pas {elide('de', label)}, la subvention n'est pas encore accordée "
                "(statut et montant accordé à saisir).")
    if kind in (ActKind.EXTENSION_ORDER, ActKind.LAPSE_WARNING) and facts.start_deadline is None:
        return (f"{what} : pas {elide('de', label)} sans délai de caducité ; saisissez la date de "
                "notification de la subvention.")
    if kind is ActKind.EXTENSION_ORDER and not facts.extension_months:
        return (f"{what} : pas d'arrêté de prorogation, aucune prorogation n'est "
                "enregistrée sur l'opération (durée en mois à saisir).")
    if kind is ActKind.LAPSE_WARNING:
        if facts.started:
            return (f"{what} : pas d'alerte de caducité, les travaux ont commencé.")
        if facts.start_deadline < today:
            return (f"{what} : pas d'alerte, le délai de commencement a expiré le "
                    f"{facts.start_deadline.strftime('%d/%m/%Y')} : la subvention est caduque.")
    return None


def kinds_for(facts: LineFacts, kind: ActKind | str) -> list[ActKind]:
    """The acts of *kind* for the line; « auto »: arrêté and notification for a granted
    subsidy, refusal letter for a refused one, nothing otherwise."""
    if kind != AUTO:
        return [ActKind(kind)]
    if facts.status is FundingStatus.REFUSED:
        return [ActKind.REFUSAL]
    if facts.granted:
        return [ActKind.AWARD_ORDER, ActKind.NOTIFICATION]
    return []


# --- One act ---------------------------------------------------------------------------

def _fingerprint(act_id: uuid.UUID, kind: ActKind, values: dict, template_sha: str) -> str:
    """Unique per act made (its id is in it), and bound to what it says."""
    said = json.dumps({k: str(v) for k, v in sorted(values.items())}, ensure_ascii=False)
    digest = hashlib.sha256(f"{act_id}|{kind.value}|{template_sha}|{said}".encode()).hexdigest()
    return digest[:FINGERPRINT_LENGTH].upper()


def _check_formats(formats: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise InvalidInput(f"Format inconnu : {', '.join(unknown) or 'aucun'} (formats "
                           "possibles : pdf, docx, odt).")
    if "odt" in chosen:
        soffice()
    return chosen


def prepare(db: Database, line_id: uuid.UUID, kind: ActKind | str,
            formats: Sequence[str] = ("pdf",), *, today: date | None = None,
            values: dict[str, object] | None = None, facts: LineFacts | None = None,
            convert: bool = True, cache: dict | None = None) -> MadeAct:
    """Render the act (nothing written, nothing recorded); refused in French when it
    makes no sense for the line. *values* overrides fields (e.g. ``motif_refus``);
    *cache* keeps the templates and the office's identity over a batch."""
    from printouts.acts import act_pdf

    kind = ActKind(kind)
    today = today or date.today()
    facts = facts or line_facts(db, line_id, today)
    why = refusal(facts, kind, today)
    if why:
        raise InvalidInput(why)
    cache = {} if cache is None else cache
    key = (kind, facts.scheme_code)
    if key not in cache:
        cache[key] = template_for(db, kind, facts.scheme_code)
    template = cache[key]
    if "office" not in cache:
        cache["office"] = office(db)
    template_sha = hashlib.sha256(template.content).hexdigest()
    filled = context(db, line_id, today=today)
    filled.update({k: v for k, v in (values or {}).items() if v not in (None, "")})
    act_id = uuid.uuid4()
    fingerprint = _fingerprint(act_id, kind, filled, template_sha)
    filled["empreinte"] = fingerprint
    docx = render(template.content, filled)
    made = MadeAct(act_id, facts, kind, fingerprint, template_sha, 0, today)
    provenance = Provenance(kind.value, facts.reference,
                            [RecordVersion("funding_line", str(line_id), facts.version)],
                            fingerprint, today)
    title = f"{TITLES[kind]} — {facts.reference}"
    printed = act_pdf(docx, provenance, cache["office"], title, line_id)
    made.pages = printed.pages
    if "pdf" in formats:
        made.contents["pdf"] = printed.content
    else:
        made.contents["_pdf"] = printed.content  # kept for the combined PDF of a batch
    if "docx" in formats or ("odt" in formats and not convert):
        made.contents["docx"] = docx  # without "docx": kept for the caller to convert
    if "odt" in formats and convert:
        made.contents["odt"] = to_odt([docx])[0]
    return made


def record(db: Database, acts: Sequence[MadeAct]) -> None:
    """The acts on their lines, in one transaction."""
    with db.write() as session:
        for made in acts:
            session.add(Act(id=made.act_id, funding_line_id=made.line.id, kind=made.kind.value,
                            generated_on=made.generated_on, fingerprint=made.fingerprint,
                            template_sha256=made.template_sha256, pages=made.pages))


def make_act(db: Database, line_id: uuid.UUID, kind: ActKind | str, fmt: str,
             path: Path, *, today: date | None = None,
             values: dict[str, object] | None = None) -> MadeAct:
    """One act written to *path* in *fmt* and recorded on its line."""
    (fmt,) = _check_formats([fmt])
    made = prepare(db, line_id, kind, [fmt], today=today, values=values)
    written = _write_all([(Path(path), made.contents[fmt])])
    try:
        record(db, [made])
    except BaseException:
        _remove(written)
        raise
    return made


def acts_of_operation(db: Database, operation_id: uuid.UUID) -> list[dict]:
    """The acts made for the operation's lines, newest first (for the « Actes » tab)."""
    with db.read() as session:
        rows = session.execute(
            select(Act, FundingLine).join(FundingLine, Act.funding_line_id == FundingLine.id)
            .where(FundingLine.operation_id == operation_id)
            .order_by(Act.generated_on.desc(), Act.created_at.desc())).all()
        return [{"id": act.id, "kind": ActKind(act.kind), "kind_label": ActKind(act.kind).label,
                 "generated_on": act.generated_on, "fingerprint": act.fingerprint,
                 "pages": act.pages, "signed_on": act.signed_on,
                 "scheme": (line.scheme.short_label or line.scheme.label) if line.scheme
                 else "", "line_id": line.id} for act, line in rows]


def state_line(db: Database, reference: str, scheme_code: str | None = None,
               kind: ActKind | str | None = None, today: date | None = None) -> uuid.UUID:
    """The operation's State subsidy line (of *scheme_code* when given; with *kind*,
    among several, the one the act makes sense for); French error when there is none
    or more than one to choose from."""
    with db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == reference))
        if operation is None:
            raise NotFoundError(f"Opération introuvable : « {reference} ».")
        lines = [line for line in operation.funding_lines if line.scheme is not None and (
            line.scheme.state_investment_grant or line.scheme.state_subsidy)]
        if scheme_code:
            lines = [line for line in lines if line.scheme_code.lower() == scheme_code.lower()]
        candidates = [line.id for line in lines]
    if len(candidates) > 1 and kind is not None:
        fitting = [c for c in candidates
                   if refusal(line_facts(db, c), ActKind(kind), today or date.today()) is None]
        if len(fitting) == 1:
            return fitting[0]
    with db.read() as session:
        lines = [session.get(FundingLine, c) for c in candidates]
        names = sorted({(line.scheme.short_label or line.scheme.label) for line in lines})
        if not lines:
            which = f" au titre du dispositif {scheme_code}" if scheme_code else ""
            raise InvalidInput(f"L'opération {reference} n'a pas de subvention de l'État"
                               f"{which}.")
        if len(lines) > 1:
            codes = ", ".join(sorted({line.scheme_code for line in lines}))
            raise InvalidInput(f"L'opération {reference} a plusieurs subventions de l'État "
                               f"({', '.join(names)}) : précisez --scheme ({codes}).")
        return lines[0].id


# --- A batch ---------------------------------------------------------------------------

def safe_name(text: str) -> str:
    """A file name every system accepts (no / \\ : * ? etc.)."""
    cleaned = re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE).strip("._")
    return cleaned[:120] or "acte"


def make_batch(db: Database, line_ids: Sequence[uuid.UUID], kind: ActKind | str,
               folder: Path, formats: Sequence[str] = ("pdf",),
               progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None, *,
               today: date | None = None) -> BatchResult:
    """One file per act and format, ``<reference>_<kind>.<ext>``, and one PDF of them
    all; lines for which the act makes no sense are listed in ``skipped``. Cancelling
    stops between acts: what is written is whole and recorded, nothing else is."""
    formats = _check_formats(formats)
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"Le dossier {folder} n'existe pas : aucun acte n'a été édité.")
    today = today or date.today()
    cancelled = cancelled or (lambda: False)
    result = BatchResult()
    plan: list[tuple[LineFacts, ActKind]] = []
    for line_id in line_ids:
        facts = line_facts(db, line_id, today)
        kinds = kinds_for(facts, kind)
        if not kinds:
            result.skipped.append((facts.reference, f"{facts.reference} "
                                   f"({facts.scheme_label}) : subvention ni accordée ni "
                                   "refusée, aucun acte."))
        for each in kinds:
            why = refusal(facts, each, today)
            if why:
                result.skipped.append((facts.reference, why))
            else:
                plan.append((facts, each))
    total = len(plan)
    chunk = ODT_CHUNK if "odt" in formats else 1
    names: set[str] = set()
    cache: dict = {}
    printed: list[bytes] = []
    done = 0
    if progress:
        progress(0, total)
    for start in range(0, total, chunk):
        if cancelled():
            result.cancelled = True
            break
        made = []
        for facts, each in plan[start:start + chunk]:
            made.append(prepare(db, facts.id, each, formats, today=today, facts=facts,
                                convert=False, cache=cache))
            if cancelled():  # the chunk under way is dropped whole
                result.cancelled = True
                break
        if result.cancelled:
            break
        if "odt" in formats:
            for item, odt in zip(made, to_odt([m.contents["docx"] for m in made]),
                                 strict=True):
                item.contents["odt"] = odt
                if "docx" not in formats:
                    del item.contents["docx"]
        files = []
        for item in made:
            stem = _unique(names, f"{safe_name(item.line.reference)}_{item.kind.value}",
                           item.line.scheme_code)
            files += [(folder / f"{stem}.{fmt}", item.contents[fmt]) for fmt in formats]
        written = _write_all(files)
        try:
            record(db, made)
        except BaseException:
            _remove(written)
            raise
        result.files += written
        result.acts += [m.act_id for m in made]
        printed += [m.contents.get("pdf") or m.contents["_pdf"] for m in made]
        done += len(made)
        if progress:
            progress(done, total)
    if printed and not result.cancelled:
        result.combined = _write_all([(folder / COMBINED_NAME, combine(printed))])[0]
    return result


def _unique(names: set[str], stem: str, scheme_code: str | None) -> str:
    """Two lines of one operation give the same name: the scheme, then a number, tell
    them apart."""
    candidate = stem
    if candidate in names and scheme_code:
        candidate = f"{stem}_{safe_name(scheme_code.lower())}"
    number = 2
    while candidate in names:
        candidate = f"{stem}_{number}"
        number += 1
    names.add(candidate)
    return candidate


def combine(pdfs: Sequence[bytes]) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for content in pdfs:
        writer.append(PdfReader(io.BytesIO(content)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _write_all(files: Sequence[tuple[Path, bytes]]) -> list[Path]:
    """Every file whole or none: each written beside its place, then renamed."""
    temporary: list[tuple[Path, Path]] = []
    try:
        for path, content in files:
            handle, name = tempfile.mkstemp(prefix=".acte-", dir=path.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            temporary.append((Path(name), path))
        for name, path in temporary:
            os.replace(name, path)
    except FileNotFoundError:
        _remove([name for name, _ in temporary])
        raise UserError(f"Le dossier {files[0][0].parent} n'existe pas : l'acte n'a pas été "
                        "enregistré.") from None
    except PermissionError:
        _remove([name for name, _ in temporary])
        raise UserError(f"Impossible d'écrire dans {files[0][0].parent} : accès refusé.") \
            from None
    return [path for _, path in temporary]


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


# --- ODT through LibreOffice -------------------------------------------------------------

def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise UserError("Le format ODT demande LibreOffice, qui n'est pas installé sur ce "
                        "poste ; le format DOCX (Word, LibreOffice) est disponible.")
    return found


def to_odt(documents: Sequence[bytes]) -> list[bytes]:
    """The DOCX converted to ODT by one LibreOffice start (its own profile, so that an
    open LibreOffice of the agent is not disturbed)."""
    if not documents:
        return []
    program = soffice()
    with tempfile.TemporaryDirectory(prefix="actes-odt-") as work:
        work_dir = Path(work)
        sources = []
        for number, content in enumerate(documents):
            source = work_dir / f"acte{number}.docx"
            source.write_bytes(content)
            sources.append(source)
        out = work_dir / "odt"
        try:
            result = subprocess.run(
                [program, "--headless", "--norestore",
                 f"-env:UserInstallation={(work_dir / 'profil').as_uri()}",
                 "--convert-to", "odt", "--outdir", str(out), *map(str, sources)],
                capture_output=True, text=True, timeout=120 + 20 * len(documents))
        except subprocess.TimeoutExpired:
            raise UserError("LibreOffice n'a pas converti les actes au format ODT à temps ; "
                            "le format DOCX est disponible.") from None
        converted = [out / f"{source.stem}.odt" for source in sources]
        if result.returncode != 0 or not all(path.is_file() for path in converted):
            raise UserError("LibreOffice n'a pas pu convertir l'acte au format ODT ; le "
                            "format DOCX est disponible.")
        return [path.read_bytes() for path in converted]


def state_lines(db: Database, operation_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The operation's State subsidy lines, as a choice shows them (« DETR — accordé,
    192 000,00 € »)."""
    from db.formatting import euros

    with db.read() as session:
        operation = session.get(Operation, operation_id)
        if operation is None:
            return []
        chosen = []
        for line in operation.funding_lines:
            scheme = line.scheme
            if scheme is None or not (scheme.state_investment_grant or scheme.state_subsidy):
                continue
            amount = line.amount_granted if line.amount_granted is not None else (
                line.amount_requested)
            status = FundingStatus(line.status).label.lower()
            shown = f", {euros(amount)}" if amount is not None else ""
            chosen.append((line.id, f"{scheme.short_label or scheme.label} — {status}{shown}"))
        return chosen


def filtered_lines(db: Database, criteria) -> list[uuid.UUID]:
    """The funding lines of the Financements list under *criteria*, in its order."""
    from db.lists import FUNDING_LINES

    return [row["id"] for row in FUNDING_LINES.page(db, criteria, limit=None)]


@dataclass(frozen=True)
class ActCheck:
    matches: bool
    text: str

    def message(self) -> str:
        return self.text


def check_act(db: Database, provenance: Provenance) -> ActCheck:
    """What the base says of a printed act: recorded or not, and whether its funding
    line changed since (an act is not made again from the base: it was issued)."""
    from db.formatting import long_date

    with db.read() as session:
        act = session.scalar(select(Act).where(Act.fingerprint == provenance.fingerprint))
        if act is None:
            return ActCheck(False, f"Aucun acte d'empreinte {provenance.fingerprint} dans "
                                   "cette base.")
        line = act.funding_line
        scheme = line.scheme
        what = (f"{ActKind(act.kind).label} édité le {long_date(act.generated_on)} pour "
                f"l'opération {line.operation.reference}"
                f" ({(scheme.short_label or scheme.label) if scheme else 'sans dispositif'})")
        signed = (f"signé le {long_date(act.signed_on)}" if act.signed_on
                  else "non signé")
        printed = next((r.version for r in provenance.records if r.entity == "funding_line"),
                       None)
        if printed is not None and printed != line.version:
            return ActCheck(False, f"Acte enregistré : {what}, {signed} ; la ligne de "
                                   "financement a été modifiée depuis son édition.")
        return ActCheck(True, f"Acte enregistré : {what}, {signed} ; la ligne de "
                              "financement n'a pas changé depuis.")
