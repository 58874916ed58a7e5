"""What a field copy carries besides the merged records: the office's act templates
(so that a field agent writes with the office's wording), the acts of the copied
funding lines, and the attachments of the copied contracts, operations and lines WITH
their content inside the copy file (``attachment_content.data``: the copy stays one
self-contained file even when the office keeps its contents in a ``.pieces`` folder).

These are not merged field by field: an act or an attachment is made once and hardly
changes. What the copy carried is noted in the copy (setting ``terrain.emporte``);
on check-in, what the field added is created at the office (contents into the office's
own storage), what it removed is removed there, and an act signed in the field gets
its date of signature unless the office changed it meanwhile. Templates do not come
back: the office owns them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from db.attachments.service import size_label
from db.database import Database
from db.models import (
    Act,
    ActTemplate,
    Attachment,
    AttachmentContent,
    Contract,
    FundingLine,
    Operation,
    Setting,
)

CARRIED_KEY = "terrain.emporte"
LIMIT_SETTING = "terrain.limite_pieces_mo"  # in Mo; the check-out refuses beyond
DEFAULT_LIMIT_MB = 200
CHUNK = 500


@dataclass(frozen=True)
class AttachmentFigures:
    count: int
    size: int  # bytes of the distinct contents

    @property
    def label(self) -> str:
        """« 23 pièces jointes, 41,2 Mo »."""
        if self.count == 0:
            return "aucune pièce jointe"
        noun = "pièce jointe" if self.count == 1 else "pièces jointes"
        return f"{self.count} {noun}, {size_label(self.size)}"


def limit_bytes(db: Database) -> int:
    with db.read() as session:
        setting = session.get(Setting, LIMIT_SETTING)
    try:
        megabytes = float(setting.value.replace(",", ".")) if setting else DEFAULT_LIMIT_MB
    except ValueError:
        megabytes = DEFAULT_LIMIT_MB
    return int(megabytes * 1024 * 1024)


def _chunks(ids: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _owned(contracts: list[Any], operations: list[Any], lines: list[Any]):
    """Conditions on attachments of these records, chunk by chunk."""
    for column, ids in ((Attachment.contract_id, contracts),
                        (Attachment.operation_id, operations),
                        (Attachment.funding_line_id, lines)):
        for chunk in _chunks(ids):
            yield column.in_(chunk)


def _scope_ids(session: Session, operations, contracts) -> tuple[list, list, list]:
    from db.field.checkout import _with_their_contracts

    operation_ids = list(session.scalars(select(Operation.id).where(operations)))
    contract_ids = list(session.scalars(select(Contract.id).where(
        _with_their_contracts(contracts, select(Operation.id).where(operations)))))
    line_ids = [i for chunk in _chunks(operation_ids) for i in session.scalars(
        select(FundingLine.id).where(FundingLine.operation_id.in_(chunk)))]
    return contract_ids, operation_ids, line_ids


def figures(session: Session, ids: tuple[list, list, list]) -> AttachmentFigures:
    sizes: dict[str, int] = {}
    count = 0
    for condition in _owned(*ids):
        for sha256, size in session.execute(select(Attachment.sha256, Attachment.size)
                                            .where(condition)):
            count += 1
            sizes[sha256] = size
    return AttachmentFigures(count, sum(sizes.values()))


def scope_figures(office: Database, scope) -> AttachmentFigures:
    """The attachments a copy of *scope* would carry (before anything is written)."""
    from db.field.checkout import _scope_sets

    with office.read() as session:
        operations, contracts, _label = _scope_sets(session, scope)
        return figures(session, _scope_ids(session, operations, contracts))


# --- Check-out ----------------------------------------------------------------------

def _copy_engine(path: Path):
    return create_engine(URL.create("sqlite+pysqlite", database=str(path)), poolclass=NullPool)


def _rows(session: Session, model, condition=None) -> list[dict[str, Any]]:
    query = select(model.__table__)
    if condition is not None:
        query = query.where(condition)
    return [dict(row) for row in session.execute(query).mappings()]


def _content(office: Database, session: Session, sha256: str) -> bytes:
    from db.attachments.store import content_path, folder_of

    data = session.scalar(select(AttachmentContent.data)
                          .where(AttachmentContent.sha256 == sha256))
    if data is not None:
        return bytes(data)
    folder = folder_of(office)
    path = content_path(folder, sha256) if folder is not None else None
    if path is None or not path.is_file():
        from db.errors import UserError
        from db.fault_messages import restore_advice

        raise UserError(f"Une pièce jointe du périmètre a perdu son fichier ({path}) : "
                        "emportez la copie sans les pièces jointes, ou retrouvez le "
                        f"fichier. {restore_advice(office.target.path)}")
    return path.read_bytes()


def carry(office: Database, partial: Path, *, attachments: bool) -> AttachmentFigures:
    """Write the templates, acts and (unless left at the office) attachments of the
    records already in the copy at *partial*, and note what was carried."""
    engine = _copy_engine(partial)
    try:
        with engine.connect() as copy:
            contract_ids = list(copy.scalars(select(Contract.id)))
            operation_ids = list(copy.scalars(select(Operation.id)))
            line_ids = list(copy.scalars(select(FundingLine.id)))
        ids = (contract_ids, operation_ids, line_ids)
        with office.read() as session, engine.begin() as copy:
            templates = _rows(session, ActTemplate)
            if templates:
                copy.execute(insert(ActTemplate.__table__), templates)
            carried: list[dict[str, Any]] = []
            if attachments:
                for condition in _owned(*ids):
                    carried += _rows(session, Attachment, condition)
                written: set[str] = set()
                for row in carried:
                    if row["sha256"] not in written:
                        written.add(row["sha256"])
                        copy.execute(insert(AttachmentContent.__table__).values(
                            sha256=row["sha256"], size=row["size"],
                            data=_content(office, session, row["sha256"]),
                            stored_at=datetime.now(UTC)))
                if carried:
                    copy.execute(insert(Attachment.__table__), carried)
            kept = {row["id"] for row in carried}
            acts = [row for chunk in _chunks(line_ids)
                    for row in _rows(session, Act, Act.funding_line_id.in_(chunk))]
            for row in acts:
                if row["signed_attachment_id"] not in kept:
                    row["signed_attachment_id"] = None  # its scan stayed at the office
            if acts:
                copy.execute(insert(Act.__table__), acts)
            note = {"attachments": sorted(str(i) for i in kept),
                    "acts": {str(row["id"]): _act_state(row) for row in acts},
                    "with_attachments": attachments}
            copy.execute(insert(Setting.__table__).values(key=CARRIED_KEY,
                                                          value=json.dumps(note)))
            sizes = {row["sha256"]: row["size"] for row in carried}
            return AttachmentFigures(len(carried), sum(sizes.values()))
    finally:
        engine.dispose()


def _act_state(row: dict[str, Any]) -> dict[str, Any]:
    signed = row.get("signed_on")
    attachment = row.get("signed_attachment_id")
    return {"signed_on": signed.isoformat() if signed else None,
            "signed_attachment_id": str(attachment) if attachment else None}


# --- Check-in -----------------------------------------------------------------------

@dataclass
class Brought:
    """What a copy holds of acts and attachments, read before the office's
    transaction (the copy is closed by then)."""

    carried_attachments: set[str]
    carried_acts: dict[str, dict[str, Any]]
    attachments: dict[str, dict[str, Any]]  # id -> row, all of the copy
    contents: dict[str, bytes]  # of the attachments added in the field
    acts: dict[str, dict[str, Any]]  # id -> row, all of the copy
    # The contracts, operations and lines still in the copy: an attachment or an act
    # gone with its record was not removed by itself (the merge decides for the record).
    present: set[uuid.UUID] = field(default_factory=set)


def read_copy(copy: Database) -> Brought:
    with copy.read() as session:
        setting = session.get(Setting, CARRIED_KEY)
        note = json.loads(setting.value) if setting else {}
        carried = set(note.get("attachments", []))
        attachments = {str(row["id"]): row for row in _rows(session, Attachment)}
        contents = {}
        for record_id, row in attachments.items():
            if record_id not in carried and row["sha256"] not in contents:
                data = session.scalar(select(AttachmentContent.data)
                                      .where(AttachmentContent.sha256 == row["sha256"]))
                if data is not None:
                    contents[row["sha256"]] = bytes(data)
        acts = {str(row["id"]): row for row in _rows(session, Act)}
        present = {*session.scalars(select(Contract.id)),
                   *session.scalars(select(Operation.id)),
                   *session.scalars(select(FundingLine.id))}
    return Brought(carried, note.get("acts", {}), attachments, contents, acts, present)


def _owner_id(row: Any) -> Any:
    return row.contract_id or row.operation_id or row.funding_line_id


@dataclass
class Applied:
    created: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)  # files to remove on a rollback


def _owner_exists(session: Session, row: dict[str, Any]) -> bool:
    for model, key in ((Contract, "contract_id"), (Operation, "operation_id"),
                       (FundingLine, "funding_line_id")):
        if row.get(key) is not None:
            return session.get(model, row[key]) is not None
    return False


def _store(office: Database, session: Session, sha256: str, data: bytes,
           applied: Applied) -> None:
    from db.attachments.service import _insert_content
    from db.attachments.store import content_path, folder_of, write_new

    folder = folder_of(office)
    if folder is None:
        _insert_content(session, sha256, len(data), data)
        return
    target = content_path(folder, sha256)
    if not target.exists():
        write_new(target, [data])
        applied.written.append(target)
    _insert_content(session, sha256, len(data), None)


def apply(office: Database, session: Session, brought: Brought) -> Applied:
    """Inside the check-in's transaction, after the merge: the field's attachments and
    acts at the office."""
    import hashlib

    applied = Applied()
    added = removed = 0
    for record_id, row in brought.attachments.items():
        if record_id in brought.carried_attachments:
            continue
        if session.get(Attachment, uuid.UUID(record_id)) is not None:
            continue
        data = brought.contents.get(row["sha256"])
        if data is None or hashlib.sha256(data).hexdigest() != row["sha256"]:
            applied.findings.append(f"Pièce jointe « {row['file_name']} » non reprise : son "
                                    "contenu manque ou est altéré dans la copie.")
            continue
        if not _owner_exists(session, row):
            applied.findings.append(f"Pièce jointe « {row['file_name']} » non reprise : sa "
                                    "fiche n'existe plus au bureau.")
            continue
        _store(office, session, row["sha256"], data, applied)
        session.add(Attachment(**{k: v for k, v in row.items()
                                  if k not in ("version", "created_at", "created_by",
                                               "updated_at", "updated_by")}))
        added += 1
    session.flush()
    for record_id in brought.carried_attachments - set(brought.attachments):
        attachment = session.get(Attachment, uuid.UUID(record_id))
        if attachment is not None and _owner_id(attachment) in brought.present:
            session.delete(attachment)
            removed += 1
    session.flush()  # the attachments' hook drops the contents left unused
    acts_added = acts_updated = acts_removed = 0
    for record_id, row in brought.acts.items():
        known = session.get(Act, uuid.UUID(record_id))
        base = brought.carried_acts.get(record_id)
        if base is None and known is None:
            if session.get(FundingLine, row["funding_line_id"]) is None:
                applied.findings.append("Acte fait sur le terrain non repris : sa ligne de "
                                        "financement n'existe plus au bureau.")
                continue
            values = {k: v for k, v in row.items() if k not in (
                "version", "created_at", "created_by", "updated_at", "updated_by")}
            if values.get("signed_attachment_id") is not None and session.get(
                    Attachment, values["signed_attachment_id"]) is None:
                values["signed_attachment_id"] = None
            session.add(Act(**values))
            acts_added += 1
        elif base is not None and known is not None:
            now = _act_state(row)
            office_state = _act_state({"signed_on": known.signed_on,
                                       "signed_attachment_id": known.signed_attachment_id})
            if now != base and office_state == base:
                known.signed_on = row["signed_on"]
                scan = row["signed_attachment_id"]
                known.signed_attachment_id = scan if scan is not None and session.get(
                    Attachment, scan) is not None else None
                acts_updated += 1
    for record_id in set(brought.carried_acts) - set(brought.acts):
        known = session.get(Act, uuid.UUID(record_id))
        if known is not None and known.funding_line_id in brought.present:
            session.delete(known)
            acts_removed += 1
    session.flush()
    for counts, name, number in ((applied.created, "attachment", added),
                                 (applied.deleted, "attachment", removed),
                                 (applied.created, "act", acts_added),
                                 (applied.updated, "act", acts_updated),
                                 (applied.deleted, "act", acts_removed)):
        if number:
            counts[name] = number
    return applied


def undo_files(applied: Applied | None) -> None:
    from db.attachments.store import delete

    for path in applied.written if applied else []:
        delete(path)
