"""A content no attachment uses any more goes in the transaction that left it unused:
removing an attachment, or deleting its contract, operation or funding line (the ORM
cascade deletes the attachments, audited). Installed on the application's sessions.

On PostgreSQL the content row is deleted in the transaction. Beside an SQLite base the
file is renamed aside while the transaction holds the write lock, deleted after the
commit, and put back after a rollback: a rolled-back removal loses nothing, and another
agent cannot attach the same content in between (writers take the lock first)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

SET_ASIDE = "attachment_set_aside"


def unused_contents(session: Session, candidates: set[str] | None = None) -> list[str]:
    """The contents no attachment uses (among *candidates*, or all)."""
    from db.models import Attachment, AttachmentContent

    query = select(AttachmentContent.sha256).where(
        ~select(Attachment.id).where(Attachment.sha256 == AttachmentContent.sha256).exists())
    if candidates is not None:
        if not candidates:
            return []
        query = query.where(AttachmentContent.sha256.in_(sorted(candidates)))
    return list(session.scalars(query))


def drop_unused(session: Session, candidates: set[str] | None = None) -> int:
    """Delete the unused contents (rows, and files beside SQLite, set aside until the
    commit); the number dropped."""
    from db.attachments.store import content_path, folder_of, set_aside
    from db.models import AttachmentContent

    unused = unused_contents(session, candidates)
    if not unused:
        return 0
    session.execute(delete(AttachmentContent).where(AttachmentContent.sha256.in_(unused)))
    database = session.info.get("database")
    folder = folder_of(database) if database is not None else None
    if folder is not None:
        for sha256 in unused:
            original = content_path(folder, sha256)
            aside = set_aside(original)
            if aside is not None:
                session.info.setdefault(SET_ASIDE, []).append((original, aside))
    return len(unused)


def _after_flush(session: Session, flush_context: Any) -> None:
    from db.models import Attachment

    gone = {obj.sha256 for obj in session.deleted if isinstance(obj, Attachment)}
    if gone:
        drop_unused(session, gone)


def _after_commit(session: Session) -> None:
    import contextlib

    from db.attachments.store import delete as delete_file

    for _original, aside in session.info.pop(SET_ASIDE, []):
        delete_file(aside)
        with contextlib.suppress(OSError):  # the ab/ folder, when it is now empty
            aside.parent.rmdir()


def _after_rollback(session: Session) -> None:
    import os

    for original, aside in reversed(session.info.pop(SET_ASIDE, [])):
        if not original.exists():
            os.replace(aside, original)
        else:  # written again meanwhile (the same bytes, by construction)
            from db.attachments.store import delete as delete_file

            delete_file(aside)


def install(session_class: type[Session]) -> None:
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
