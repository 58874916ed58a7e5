"""The plain data the change feed hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Change:
    """One audit entry written by someone else: a record inserted, updated or deleted."""

    audit_id: str
    at: datetime  # aware, UTC
    login: str
    action: str  # insert, update, delete
    entity: str  # table name
    entity_id: str
    origin: str | None


@dataclass(frozen=True)
class ChangeSet:
    """What one look at the base found. *complete* is False when the feed lost track
    (server connection lost, too many changes to list): then anything may have
    changed and the consumers check what they show."""

    changes: tuple[Change, ...] = ()
    complete: bool = True

    def __bool__(self) -> bool:
        return bool(self.changes) or not self.complete

    def entities(self) -> set[str]:
        return {change.entity for change in self.changes}

    def about(self, entity: str, entity_id: object) -> Change | None:
        """The latest change of one record, if this set holds one."""
        key = str(entity_id)
        found = [c for c in self.changes if c.entity == entity and c.entity_id == key]
        return max(found, key=lambda c: c.at) if found else None

    def logins(self) -> list[str]:
        return sorted({change.login for change in self.changes})


@dataclass(frozen=True)
class Token:
    """Where a reader of the audit trail stands: the latest time read and the entries
    read at or near it. Entries of one commit share a time, and two commits can share
    a millisecond, or commit in another order than they wrote: the ids, not the time
    alone, say what was already read."""

    at: datetime | None = None
    seen: dict[str, datetime] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RecordStamp:
    """A record as it is now in the base: its version and who saved it last."""

    version: int
    updated_by: str | None
    updated_at: datetime | None
