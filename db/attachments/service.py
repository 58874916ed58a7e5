"""Use cases of the attachments, one transaction each (audited like every write):
add a file from a path, list those of a record, read or open one, remove one."""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.attachments.hooks import drop_unused
from db.attachments.store import content_path, folder_of, write_new
from db.database import Database
from db.errors import InvalidInput, UserError
from db.formatting import number
from db.models import Attachment, AttachmentContent, Contract, FundingLine, Operation
from db.services.common import check_version, get, optional_text, transaction
from db.vocabulary import AttachmentKind

# The largest file accepted (a scanned convention of a few hundred pages stays under).
MAX_SIZE = 50 * 1024 * 1024
CHUNK = 1024 * 1024
NAME_LENGTH = 255


@dataclass(frozen=True)
class Owner:
    """The record an attachment belongs to: exactly one of the three."""

    contract_id: uuid.UUID | None = None
    operation_id: uuid.UUID | None = None
    funding_line_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.contract_id, self.operation_id, self.funding_line_id)
                 if v is not None]
        if len(given) != 1:
            raise InvalidInput("Pièce jointe : elle se rattache à un contrat, une opération "
                               "ou une ligne de financement, et à un seul.")


@dataclass(frozen=True)
class AttachmentRow:
    """What a list of attachments shows."""

    id: uuid.UUID
    version: int
    kind: AttachmentKind
    kind_label: str
    file_name: str
    size: int
    size_label: str  # « 1,2 Mo »
    sha256: str
    media_type: str
    added_at: datetime
    added_by: str
    notes: str | None


def size_label(size: int) -> str:
    """``812 octets``, ``12,4 Ko``, ``3,1 Mo`` (powers of 1 024, as file managers do)."""
    if size < 1024:
        return f"{number(size)} octet{'s' if size > 1 else ''}"
    for unit, power in (("Ko", 1), ("Mo", 2), ("Go", 3)):
        value = size / 1024 ** power
        if round(value, 1) < 1000 or unit == "Go":
            text = f"{value:.1f}".replace(".", ",")
            return f"{text.removesuffix(',0')} {unit}"
    raise AssertionError("unreachable")


def _owner_record(session: Session, owner: Owner) -> tuple[object, str]:
    """The owner as stored (refused when it no longer exists) and how it is named."""
    if owner.contract_id is not None:
        contract = get(session, Contract, owner.contract_id, "Contrat")
        return contract, f"du contrat « {contract.reference} »"
    if owner.operation_id is not None:
        operation = get(session, Operation, owner.operation_id, "Opération")
        return operation, f"de l'opération « {operation.reference} »"
    line = get(session, FundingLine, owner.funding_line_id, "Ligne de financement")
    return line, f"d'une ligne de financement de l'opération « {line.operation.reference} »"


def _readable_file(path: Path, max_size: int) -> int:
    """The file's size, or a French refusal naming it."""
    name = path.name or str(path)
    if not path.exists():
        raise InvalidInput(f"Pièce jointe « {name} » : le fichier est introuvable ({path}).")
    if path.is_dir():
        raise InvalidInput(f"Pièce jointe « {name} » : c'est un dossier, pas un fichier. "
                           "Joignez les fichiers qu'il contient un par un.")
    if not path.is_file():
        raise InvalidInput(f"Pièce jointe « {name} » : ce n'est pas un fichier ordinaire.")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"Pièce jointe « {name} » : le fichier est vide (0 octet) ; "
                           "rien n'a été joint.")
    if size > max_size:
        raise InvalidInput(f"Pièce jointe « {name} » : le fichier fait {size_label(size)}, "
                           f"plus que la limite de {size_label(max_size)}.")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"Pièce jointe « {name} » : le fichier ne peut pas être lu "
                           "(droits d'accès insuffisants).")
    return size


def _read(path: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
    except OSError as exc:
        raise InvalidInput(f"Pièce jointe « {path.name} » : le fichier ne peut pas être lu "
                           f"({exc.strerror or exc}).") from exc


def _digest_and_bytes(path: Path) -> tuple[str, bytes]:
    digest = hashlib.sha256()
    parts = []
    for chunk in _read(path):
        digest.update(chunk)
        parts.append(chunk)
    return digest.hexdigest(), b"".join(parts)


def _store_beside(folder: Path, path: Path) -> tuple[str, int, Path | None]:
    """Copy the file into the store under its sha256; the path written, when this add
    wrote it (None when the same content was there already)."""
    folder.mkdir(exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    staged = folder / f".ajout-{uuid.uuid4().hex}.tmp"

    def hashed() -> Iterator[bytes]:
        nonlocal size
        for chunk in _read(path):
            digest.update(chunk)
            size += len(chunk)
            yield chunk

    write_new(staged, hashed())  # hashed while copied: the file is read once
    sha256 = digest.hexdigest()
    target = content_path(folder, sha256)
    try:
        if target.exists():
            _unlink(staged)
            return sha256, size, None
        target.parent.mkdir(exist_ok=True)
        os.replace(staged, target)
    except BaseException:
        _unlink(staged)
        raise
    return sha256, size, target


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o644)
        path.unlink()


def _insert_content(session: Session, sha256: str, size: int, data: bytes | None) -> None:
    """The content row, unless it is there: another agent adding the same bytes at the
    same moment is no error (PostgreSQL waits for its transaction, then skips or
    inserts). Core, not the ORM: the bytes have no place in the audit trail."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(AttachmentContent).values(
        sha256=sha256, size=size, data=data, stored_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["sha256"]))


def add_attachment(db: Database, owner: Owner, path: str | os.PathLike[str], *,
                   kind: AttachmentKind = AttachmentKind.OTHER, notes: str | None = None,
                   file_name: str | None = None, max_size: int = MAX_SIZE,
                   then: Callable[[Session, uuid.UUID], None] | None = None) -> uuid.UUID:
    """Attach the file at *path* to *owner*; its id. The content is stored once per
    sha256; a failure leaves neither row nor file. *then(session, id)* runs in the same
    transaction (a signed scan and its act marked signed are written together)."""
    source = Path(path)
    _readable_file(source, max_size)
    name = (file_name or source.name).strip()
    if len(name) > NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:NAME_LENGTH - len(extension) - 1] + dot + extension if dot
                else name[:NAME_LENGTH])
    kind = AttachmentKind(kind)
    notes = optional_text(notes, "Note de la pièce jointe", 2000)
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    folder = folder_of(db)
    written: Path | None = None
    try:
        with transaction(db, "de la pièce jointe") as session:
            _owner, _where = _owner_record(session, owner)  # takes the write lock first
            if folder is not None and not stored_inside(session):
                sha256, size, written = _store_beside(folder, source)
                data = None
            else:
                sha256, data = _digest_and_bytes(source)
                size = len(data)
            if size == 0 or size > max_size:  # changed since it was checked
                raise InvalidInput(f"Pièce jointe « {source.name} » : le fichier a changé "
                                   "pendant la lecture ; rien n'a été joint.")
            _insert_content(session, sha256, size, data)
            attachment = Attachment(
                id=uuid.uuid4(), contract_id=owner.contract_id,
                operation_id=owner.operation_id, funding_line_id=owner.funding_line_id,
                kind=kind, file_name=name, size=size, sha256=sha256,
                media_type=media_type, notes=notes)
            session.add(attachment)
            session.flush()
            if then is not None:
                then(session, attachment.id)
            return attachment.id
    except BaseException as exc:
        if written is not None:
            _unlink(written)
        if isinstance(exc, OSError):
            raise UserError(f"Pièce jointe « {source.name} » : la copie dans le dossier "
                            f"des pièces jointes a échoué ({exc.strerror or exc}) ; rien "
                            "n'a été joint.") from exc
        raise


def attachments_of(db: Database, owner: Owner) -> list[AttachmentRow]:
    """The attachments of a record, most recent first."""
    with db.read() as session:
        query = select(Attachment)
        if owner.contract_id is not None:
            query = query.where(Attachment.contract_id == owner.contract_id)
        elif owner.operation_id is not None:
            query = query.where(Attachment.operation_id == owner.operation_id)
        else:
            query = query.where(Attachment.funding_line_id == owner.funding_line_id)
        rows = session.scalars(query.order_by(Attachment.created_at.desc(),
                                              Attachment.file_name))
        return [_row(a) for a in rows]


def _row(attachment: Attachment) -> AttachmentRow:
    kind = AttachmentKind(attachment.kind)
    added = attachment.created_at
    if added.tzinfo is None:  # SQLite gives back naive UTC
        added = added.replace(tzinfo=UTC)
    return AttachmentRow(
        id=attachment.id, version=attachment.version, kind=kind, kind_label=kind.label,
        file_name=attachment.file_name, size=attachment.size,
        size_label=size_label(attachment.size), sha256=attachment.sha256,
        media_type=attachment.media_type, added_at=added, added_by=attachment.created_by,
        notes=attachment.notes)


def _attachment(session: Session, attachment_id: uuid.UUID) -> Attachment:
    return get(session, Attachment, attachment_id, "Pièce jointe")


def _restore(db: Database) -> str:
    from db.fault_messages import restore_advice  # names the latest backup, or says none

    return restore_advice(db.target.path)


def _checked(db: Database, attachment: Attachment, data: bytes) -> bytes:
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise UserError(f"Pièce jointe « {attachment.file_name} » : son contenu enregistré "
                        f"est altéré (empreinte sha256 différente). {_restore(db)}")
    return data


def read_attachment(db: Database, attachment_id: uuid.UUID) -> tuple[str, bytes]:
    """The file name and content, checked against its sha256. The content row's bytes
    when it holds them (PostgreSQL, and a field copy, which carries its attachments
    inside the file), else the file beside the SQLite base."""
    folder = folder_of(db)
    with db.read() as session:
        attachment = _attachment(session, attachment_id)
        data = session.scalar(select(AttachmentContent.data).where(
            AttachmentContent.sha256 == attachment.sha256))
        if data is not None:
            return attachment.file_name, _checked(db, attachment, bytes(data))
        if folder is None:
            raise UserError(f"Pièce jointe « {attachment.file_name} » : son contenu "
                            "manque dans la base.")
        return attachment.file_name, _checked(db, attachment, _stored(db, folder, attachment))


def stored_inside(session: Session) -> bool:
    """Whether this base keeps the bytes in its content rows: a field copy does, even
    though it is an SQLite file, so that it stays one self-contained file."""
    from db.models import FieldCopy

    return session.scalar(select(FieldCopy.id).where(FieldCopy.role == "copie")) is not None


def _stored(db: Database, folder: Path, attachment: Attachment) -> bytes:
    path = content_path(folder, attachment.sha256)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"Pièce jointe « {attachment.file_name} » : son fichier manque "
                        f"dans le dossier des pièces jointes ({path}). "
                        f"{_restore(db)}") from exc


def open_path(db: Database, attachment_id: uuid.UUID) -> Path:
    """A path for the system viewer: beside an SQLite base the stored file itself
    (read-only); on PostgreSQL a temporary copy named like the file, checked."""
    folder = folder_of(db)
    if folder is not None:
        with db.read() as session:
            attachment = _attachment(session, attachment_id)
            path = content_path(folder, attachment.sha256)
            if path.is_file():
                return path
            if not stored_inside(session):
                _stored(db, folder, attachment)  # raises the French message
    name, data = read_attachment(db, attachment_id)
    where = Path(tempfile.mkdtemp(prefix="piece-jointe-"))
    path = where / (Path(name).name or "piece-jointe")
    write_new(path, [data])
    return path


def remove_attachment(db: Database, attachment_id: uuid.UUID, version: int) -> None:
    """Remove an attachment (audited); its content goes when nothing else uses it."""
    with transaction(db, "de la pièce jointe") as session:
        attachment = _attachment(session, attachment_id)
        check_version(attachment, version, f"de la pièce jointe « {attachment.file_name} »")
        session.delete(attachment)
        session.flush()  # the hook drops the content if it is now unused
        drop_unused(session)  # and any left by a deletion made outside the ORM


def storage_figures(db: Database) -> tuple[int, int]:
    """How many contents are stored and their total size in bytes."""
    from sqlalchemy import func

    with db.read() as session:
        count, total = session.execute(select(func.count(), func.coalesce(
            func.sum(AttachmentContent.size), 0))).one()
        return int(count), int(total)
