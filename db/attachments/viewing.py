"""A file the system viewer can open: named like the attachment. Beside an SQLite base
the stored file is named by its sha256, without extension — the viewer (Windows, most
desktop environments) chooses the application by the extension — so it is copied,
read-only, into a temporary folder under its own name; PostgreSQL's :func:`open_path`
already writes such a copy."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from db.attachments.service import _attachment, open_path
from db.attachments.store import write_new
from db.database import Database


def viewable_path(db: Database, attachment_id: uuid.UUID) -> Path:
    path = open_path(db, attachment_id)
    with db.read() as session:
        name = Path(_attachment(session, attachment_id).file_name).name or "piece-jointe"
    if path.name == name:
        return path
    target = Path(tempfile.mkdtemp(prefix="piece-jointe-")) / name

    def chunks():
        with open(path, "rb") as source:
            while chunk := source.read(1024 * 1024):
                yield chunk

    write_new(target, chunks())
    return target


def save_copy(db: Database, attachment_id: uuid.UUID, target: str | Path) -> int:
    """Write the attachment's content (checked against its sha256) to *target*; the
    number of bytes written. The copy is the agent's: writable, unlike the store."""
    from db.attachments.service import read_attachment

    _name, data = read_attachment(db, attachment_id)
    target = Path(target)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(data)
