"""Where an attachment can go from an editor, and what an editor lists: the operation
and each of its funding lines (« Ligne DETR 2025 »), or the contract alone; the nature
proposed for a file from its name; nature and notes changed afterwards. No Qt here."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from db.attachments.service import AttachmentRow, Owner, _row
from db.database import Database
from db.models import Attachment, FundingLine
from db.services.common import check_version, get, optional_text, transaction
from db.vocabulary import AttachmentKind


@dataclass(frozen=True)
class Place:
    """A record an attachment can belong to, as the editor names it."""

    owner: Owner
    label: str  # « Opération », « Ligne DETR 2025 », « Contrat »


@dataclass(frozen=True)
class PlacedAttachment:
    row: AttachmentRow
    place: Place


def _line_label(line: FundingLine) -> str:
    scheme = line.scheme
    name = (scheme.short_label or scheme.label) if scheme is not None else None
    if name is None and line.financer is not None:
        name = line.financer.acronym or line.financer.name
    parts = ["Ligne", name or str(line.position + 1)]
    if line.budget_year:
        parts.append(str(line.budget_year))
    return " ".join(parts)


def places_of(db: Database, *, operation_id: uuid.UUID | None = None,
              contract_id: uuid.UUID | None = None) -> list[Place]:
    """The contract; or the operation then its funding lines in the plan's order (two
    lines of the same scheme and year are told apart by their rank)."""
    if contract_id is not None:
        return [Place(Owner(contract_id=contract_id), "Contrat")]
    with db.read() as session:
        lines = list(session.scalars(
            select(FundingLine).where(FundingLine.operation_id == operation_id)
            .options(selectinload(FundingLine.scheme), selectinload(FundingLine.financer))
            .order_by(FundingLine.position, FundingLine.created_at)))
        labels = [_line_label(line) for line in lines]
        places = [Place(Owner(operation_id=operation_id), "Opération")]
        for rank, (line, label) in enumerate(zip(lines, labels, strict=True), start=1):
            if labels.count(label) > 1:
                label = f"{label} (ligne {rank})"
            places.append(Place(Owner(funding_line_id=line.id), label))
        return places


def placed_attachments(db: Database, places: list[Place]) -> list[PlacedAttachment]:
    """The attachments of all *places*, most recent first (one query)."""
    by_key = {}
    for place in places:
        owner = place.owner
        by_key[owner.contract_id or owner.operation_id or owner.funding_line_id] = place
    if not by_key:
        return []
    keys = list(by_key)
    with db.read() as session:
        found = session.scalars(select(Attachment).where(
            Attachment.contract_id.in_(keys) | Attachment.operation_id.in_(keys)
            | Attachment.funding_line_id.in_(keys))
            .order_by(Attachment.created_at.desc(), Attachment.file_name))
        result = []
        for attachment in found:
            key = attachment.contract_id or attachment.operation_id or \
                attachment.funding_line_id
            result.append(PlacedAttachment(_row(attachment), by_key[key]))
        return result


def _words(name: str) -> str:
    """Lower case, no accents, separators as spaces: « Délibération_CM-2025 » →
    « deliberation cm 2025 »."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " " + re.sub(r"[^a-z0-9]+", " ", plain) + " "


# Checked in this order: « convention signée » before « arrêté », a « facture » of a
# « devis » is a facture.
_BY_NAME = [
    (AttachmentKind.SIGNED_CONVENTION, ("convention", "conv ")),
    (AttachmentKind.SIGNED_ORDER, ("arrete", "arr ")),
    (AttachmentKind.DELIBERATION, ("deliberation", "delib", " dcm ")),
    (AttachmentKind.INVOICE, ("facture", "fact ", "invoice")),
    (AttachmentKind.QUOTE, ("devis", "estimation", "dqe ")),
    (AttachmentKind.PHOTO, ("photo", " img ", " dsc ")),
]


# What a camera or a telephone writes; a plan (image/vnd.dwg) or an icon is no photo.
PHOTO_TYPES = {"image/jpeg", "image/png", "image/tiff", "image/webp", "image/heic",
               "image/heif", "image/gif", "image/bmp"}


def guess_kind(file_name: str) -> AttachmentKind:
    """The nature a file most likely has, from its name, then its media type (a
    picture is a photo); « Autre » when nothing says."""
    words = _words(file_name.rsplit(".", 1)[0] if "." in file_name else file_name)
    for kind, hints in _BY_NAME:
        if any(hint in words for hint in hints):
            return kind
    media_type = mimetypes.guess_type(file_name)[0] or ""
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if media_type in PHOTO_TYPES or suffix in ("heic", "heif"):
        return AttachmentKind.PHOTO
    return AttachmentKind.OTHER


def change_attachment(db: Database, attachment_id: uuid.UUID, version: int,
                      kind: AttachmentKind, notes: str | None) -> int:
    """Another nature or note for an attachment (audited); its new version."""
    with transaction(db, "de la pièce jointe") as session:
        attachment = get(session, Attachment, attachment_id, "Pièce jointe")
        check_version(attachment, version, f"de la pièce jointe « {attachment.file_name} »")
        attachment.kind = AttachmentKind(kind)
        attachment.notes = optional_text(notes, "Note de la pièce jointe", 2000)
        session.flush()
        return attachment.version
