"""Filing scanned signed acts: the pages of each file grouped by the act they came from
(the fingerprint of their mark), each act's pages attached to its funding line as one PDF
and the act marked signed, one transaction per act.

A page whose code cannot be read belongs to the act of the pages around it when both
are of the same act (a coffee stain on page 2 of 3); elsewhere it is reported with its
file and number. Blank pages (backs of sheets scanned recto verso) are left out."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from db.attachments.service import Owner, add_attachment
from db.database import Database
from db.documents.marks import PageMark
from db.errors import InvalidInput, UserError
from db.models import Act, Attachment, FundingLine
from db.scans.reading import PageReading, is_pdf, page_count, read_pages
from db.vocabulary import ActKind, AttachmentKind

ORDERS = {ActKind.AWARD_ORDER, ActKind.EXTENSION_ORDER}
LETTER_NOTES = {
    ActKind.NOTIFICATION: "Lettre de notification signée",
    ActKind.REFUSAL: "Lettre de refus signée",
    ActKind.LAPSE_WARNING: "Courrier d'alerte de caducité signé",
}


class Cancelled(UserError):
    pass


@dataclass(frozen=True)
class FiledAct:
    file: Path
    pages: tuple[int, ...]  # page numbers in the scanned file
    reference: str  # the operation's
    operation_id: uuid.UUID
    funding_line_id: uuid.UUID
    act_id: uuid.UUID
    act_label: str
    attachment_id: uuid.UUID
    file_name: str
    signed_on: date
    already_filed: bool = False  # the same scan was filed before: nothing added
    missing: tuple[int, ...] = ()  # the act's pages found in no page of the scan
    page_count: int | None = None  # the act's pages, as its mark says

    @property
    def missing_label(self) -> str | None:
        if not self.missing:
            return None
        found = (self.page_count or 0) - len(self.missing)
        numbers = ", ".join(str(n) for n in self.missing)
        return (f"pages manquantes : {found} / {self.page_count} trouvée"
                f"{'s' if found > 1 else ''} (manque{'nt' if len(self.missing) > 1 else ''} "
                f"la page{'s' if len(self.missing) > 1 else ''} {numbers})")


@dataclass(frozen=True)
class UnreadPage:
    file: Path
    page: int


@dataclass(frozen=True)
class UnknownDocument:
    file: Path
    pages: tuple[int, ...]
    fingerprint: str
    kind_label: str
    reason: str = "document inconnu de cette base"


@dataclass(frozen=True)
class FailedFile:
    file: Path
    reason: str


@dataclass
class ScanReport:
    filed: list[FiledAct] = field(default_factory=list)
    unread: list[UnreadPage] = field(default_factory=list)
    unknown: list[UnknownDocument] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    blank: list[UnreadPage] = field(default_factory=list)
    pages: int = 0
    cancelled: bool = False

    @property
    def missing(self) -> list[FiledAct]:
        return [f for f in self.filed if f.missing]

    @property
    def complete(self) -> bool:
        """Everything read was filed (blank pages aside)."""
        return not (self.unread or self.unknown or self.failed or self.cancelled)


@dataclass
class _Group:
    fingerprint: str
    kind: str
    pages: list[int] = field(default_factory=list)
    numbers: dict[int, int] = field(default_factory=dict)  # scan page → act page
    count: int | None = None


def group_pages(readings: list[PageReading]) -> tuple[list[_Group], list[int]]:
    """The acts of one file in the order they first appear, and the pages read as no
    act's. An unreadable page between two pages of the same act is that act's."""
    marked = [(r.index, r.mark) for r in readings if r.mark is not None]
    groups: dict[str, _Group] = {}
    for index, mark in marked:
        group = groups.setdefault(mark.fingerprint, _Group(mark.fingerprint, mark.kind))
        group.pages.append(index)
        if mark.page is not None:
            group.numbers[index] = mark.page
        if mark.count is not None:
            group.count = mark.count
    unread = []
    for position, reading in enumerate(readings):
        if reading.mark is not None or reading.blank:
            continue
        before = _neighbour(readings, position, -1)
        after = _neighbour(readings, position, 1)
        if before is not None and after is not None and before.fingerprint == after.fingerprint:
            groups[before.fingerprint].pages.append(reading.index)
        else:
            unread.append(reading.index)
    for group in groups.values():
        group.pages.sort(key=lambda index: (_act_page_at(group, index), index))
    return list(groups.values()), unread


def _neighbour(readings: list[PageReading], position: int, step: int) -> PageMark | None:
    """The nearest mark before (*step* -1) or after (+1) the page at *position*: a run
    of unread pages between two pages of one act is that act's."""
    position += step
    while 0 <= position < len(readings):
        if readings[position].mark is not None:
            return readings[position].mark
        position += step
    return None


def _act_page_at(group: _Group, index: int) -> int:
    """The act's page number of scan page *index*, or that of the marked page before it
    (an unread page keeps its place after it)."""
    known = [scan for scan in group.numbers if scan <= index]
    return group.numbers[max(known)] if known else 0


def _missing(group: _Group) -> tuple[int, ...]:
    if not group.count:
        return ()
    unmarked = len(group.pages) - len(group.numbers)
    absent = sorted(set(range(1, group.count + 1)) - set(group.numbers.values()))
    # Unread pages inside the act stand for as many of the absent ones.
    return tuple(absent) if len(absent) > unmarked else ()


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower() or "acte"


def file_name_of(reference: str, kind: ActKind) -> str:
    reference = re.sub(r"[^\w.-]+", "-", reference, flags=re.UNICODE).strip("-") or "operation"
    return f"{reference}_{_slug(kind.label)}_signe.pdf"


def extract_pages(path: Path, pages: Iterable[int]) -> bytes:
    """Pages of the scan *path* (1-based, in this order) as one PDF; the same pages give
    the same bytes, so that filing a scan again is recognised by its sha256."""
    pages = list(pages)
    if is_pdf(path):
        writer = PdfWriter()
        reader = PdfReader(path)
        for page in pages:
            writer.add_page(reader.pages[page - 1])
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()
    frames = []
    with Image.open(path) as image:
        for page in pages:
            image.seek(page - 1)
            frame = image.convert("L" if image.mode in ("1", "L", "LA", "I;16") else "RGB")
            frame.info["dpi"] = _dpi(image)
            frames.append(frame)
    buffer = io.BytesIO()
    first, *rest = frames
    # No creation date nor title: the bytes depend on the pages alone.
    first.save(buffer, "PDF", save_all=True, append_images=rest,
               resolution=first.info["dpi"], title=None, creationDate=None, modDate=None)
    return buffer.getvalue()


def _dpi(image: Image.Image) -> float:
    dpi = image.info.get("dpi")
    if dpi and float(dpi[0]) >= 50:
        return float(dpi[0])
    return image.width / (210 / 25.4)  # unknown: an A4 sheet scanned edge to edge


def _act_and_line(db: Database, fingerprint: str):
    with db.read() as session:
        act = session.scalar(select(Act).where(Act.fingerprint == fingerprint))
        if act is None:
            return None
        line = session.get(FundingLine, act.funding_line_id)
        return (act.id, ActKind(act.kind), act.funding_line_id, line.operation_id,
                line.operation.reference)


def _filed_before(db: Database, line_id: uuid.UUID, sha256: str) -> uuid.UUID | None:
    with db.read() as session:
        return session.scalar(select(Attachment.id).where(
            Attachment.funding_line_id == line_id, Attachment.sha256 == sha256))


def _kind_label(kind: str) -> str:
    try:
        return ActKind(kind).label
    except ValueError:
        return "document de l'application qui n'est pas un acte"


def _file_group(db: Database, path: Path, group: _Group, signed_on: date,
                report: ScanReport) -> None:
    found = _act_and_line(db, group.fingerprint)
    if found is None:
        report.unknown.append(UnknownDocument(path, tuple(sorted(group.pages)),
                                              group.fingerprint, _kind_label(group.kind)))
        return
    act_id, kind, line_id, operation_id, reference = found
    name = file_name_of(reference, kind)
    data = extract_pages(path, group.pages)
    sha256 = hashlib.sha256(data).hexdigest()
    common = dict(file=path, pages=tuple(group.pages), reference=reference,
                  operation_id=operation_id, funding_line_id=line_id, act_id=act_id,
                  act_label=kind.label, file_name=name, missing=_missing(group),
                  page_count=group.count)
    before = _filed_before(db, line_id, sha256)
    if before is not None:
        with db.read() as session:
            act = session.get(Act, act_id)
            day = act.signed_on or signed_on
        report.filed.append(FiledAct(**common, attachment_id=before, signed_on=day,
                                     already_filed=True))
        return
    signed: dict[str, date] = {}

    def mark_signed(session, attachment_id: uuid.UUID) -> None:
        act = session.get(Act, act_id)
        act.signed_on = act.signed_on or signed_on  # a second scan keeps the first date
        act.signed_attachment_id = attachment_id
        signed["on"] = act.signed_on

    note = LETTER_NOTES.get(kind)
    where = f"Classé depuis « {path.name} », page{'s' if len(group.pages) > 1 else ''} " \
            f"{', '.join(str(p) for p in group.pages)}."
    with tempfile.TemporaryDirectory(prefix="numerisation-") as folder:
        staged = Path(folder) / name
        staged.write_bytes(data)
        attachment_id = add_attachment(
            db, Owner(funding_line_id=line_id), staged,
            kind=AttachmentKind.SIGNED_ORDER if kind in ORDERS else AttachmentKind.OTHER,
            notes=f"{note}. {where}" if note else where, then=mark_signed)
    report.filed.append(FiledAct(**common, attachment_id=attachment_id,
                                 signed_on=signed["on"]))


Progress = Callable[[str, int, int], None]


def file_scans(db: Database, paths: Iterable[str | Path], *, signed_on: date | None = None,
               progress: Progress | None = None,
               cancel: threading.Event | None = None) -> ScanReport:
    """Read and file every scanned file of *paths*. Acts filed before a cancellation
    stay filed (each one is its own transaction); the report says it stopped."""
    signed_on = signed_on or date.today()
    report = ScanReport()
    files = [Path(p) for p in paths]
    counts: dict[Path, int] = {}
    for path in files:
        try:
            counts[path] = page_count(path)
        except InvalidInput as error:
            report.failed.append(FailedFile(path, error.message))
    total = sum(counts.values())
    done = 0

    def on_page(_index: int) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(f"Lecture de « {path.name} »", done, total)
        if cancel is not None and cancel.is_set():
            raise Cancelled("Classement annulé.")

    for path in counts:
        try:
            readings = read_pages(path, on_page)
        except Cancelled:
            report.cancelled = True
            break
        except InvalidInput as error:
            report.failed.append(FailedFile(path, error.message))
            continue
        report.pages += len(readings)
        report.blank += [UnreadPage(path, r.index) for r in readings if r.blank]
        groups, unread = group_pages(readings)
        report.unread += [UnreadPage(path, page) for page in unread]
        for group in groups:
            if progress is not None:
                progress(f"Classement de « {path.name} »", done, total)
            _file_group(db, path, group, signed_on, report)
    return report
