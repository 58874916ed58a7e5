"""What a write tells the change feed, inside its own transaction.

Two things: the audit entries this process writes (so that its own saves are not
announced back to it as someone else's), and, on PostgreSQL, a ``NOTIFY`` that the
server delivers to the listeners only if and when the transaction commits.
"""

from __future__ import annotations

import json
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

from db.models import AuditEntry

CHANNEL = "suivi_changes"
PROCESS = uuid.uuid4().hex[:12]
OWN_LIMIT = 200_000  # ids kept for a feed that would never read them back


class OwnWrites:
    """The audit ids one open base wrote, until its feed has read them back."""

    def __init__(self, writer: str) -> None:
        self.writer = writer
        self.ids: set[str] = set()

    def add(self, ids: list[str]) -> None:
        if len(self.ids) + len(ids) <= OWN_LIMIT:
            self.ids.update(ids)

    def __contains__(self, key: object) -> bool:
        return key in self.ids

    def discard(self, keys: list[str]) -> None:
        self.ids.difference_update(keys)


# Only bases whose feed runs are tracked: a command-line import records nothing.
_tracked: weakref.WeakKeyDictionary[Any, OwnWrites] = weakref.WeakKeyDictionary()


def track(database: Any) -> OwnWrites:
    marks = _tracked.get(database)
    if marks is None:
        marks = _tracked[database] = OwnWrites(f"{PROCESS}-{id(database):x}")
    return marks


def untrack(database: Any) -> None:
    _tracked.pop(database, None)


def _marks(session: Session) -> OwnWrites | None:
    database = session.info.get("database")
    return _tracked.get(database) if database is not None else None


def _after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and "database" in session.info:
        session.info["changes_since"] = datetime.now(UTC)


def _after_flush(session: Session, flush_context: Any) -> None:
    marks = _marks(session)
    if marks is not None:
        marks.add([entry.id.hex for entry in session.new
                   if isinstance(entry, AuditEntry) and entry.id is not None])


def _before_commit(session: Session) -> None:
    """The NOTIFY goes out with the commit: listeners never hear of a rolled-back write.
    The payload says who wrote and since when, the audit trail says what."""
    database = session.info.get("database")
    if database is None or database.is_sqlite:
        return
    since = session.info.get("changes_since") or datetime.now(UTC)
    marks = _marks(session)
    payload = json.dumps({"w": marks.writer if marks else PROCESS, "s": since.isoformat()})
    session.connection().execute(text("SELECT pg_notify(:channel, :payload)"),
                                 {"channel": CHANNEL, "payload": payload})


def install(session_class: type[Session]) -> None:
    for name, hook in (("after_transaction_create", _after_transaction_create),
                       ("after_flush", _after_flush), ("before_commit", _before_commit)):
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)
