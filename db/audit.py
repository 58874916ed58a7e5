"""Who/when columns and the audit trail, filled at flush time.

One mechanism for every write made through a Session: services cannot forget
it, and the audit entry is part of the same transaction as the change.
"""

from __future__ import annotations

import getpass
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, Session

from db.models import AuditEntry, Tracked


def current_login() -> str:
    """The OS login of the agent (the person accountable for the write)."""
    try:
        return getpass.getuser() or "inconnu"
    except Exception:  # no login name in some service contexts
        return "inconnu"


def plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    identity = inspect(value, raiseerr=False)
    if identity is not None and getattr(identity, "identity", None):
        return "/".join(str(part) for part in identity.identity)
    return str(value)


def _identity(obj: Any) -> str:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(part is None for part in key):
        # A link row appended to its new parent's list: the flush fills the parent's
        # column only later; its key is known from the parent already.
        parents = _parent_keys(obj)
        columns = inspect(obj).mapper.primary_key
        key = [parents.get(inspect(obj).mapper.get_property_by_column(column).key, part)
               if part is None else part for column, part in zip(columns, key, strict=True)]
    return "/".join(str(part) for part in key)


# Bookkeeping and derived caches (db.services.caches): not facts worth auditing.
SKIPPED = {"version", "created_at", "created_by", "updated_at", "updated_by",
            "search_document", "granted_total", "paid_total", "sort_name",
            "content"}  # an act template's bytes: its sha256 is audited instead


def _parent_keys(obj: Any) -> dict[str, Any]:
    """The foreign keys of a child attached through a relationship (payment appended to
    a line's list): the flush fills the column only later, the audit needs it now."""
    state = inspect(obj)
    keys: dict[str, Any] = {}
    for prop in state.mapper.relationships:
        if prop.direction.name != "MANYTOONE" or prop.secondary is not None:
            continue
        parent = state.dict.get(prop.key)  # what is loaded: no query during a flush
        if parent is None:
            continue
        parent_mapper = inspect(parent).mapper
        for local, remote in prop.local_remote_pairs:
            key = state.mapper.get_property_by_column(local).key
            value = getattr(parent, parent_mapper.get_property_by_column(remote).key)
            if value is not None:
                keys[key] = plain(value)
    return keys


def _snapshot(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = _parent_keys(obj)
    for prop in state.mapper.iterate_properties:
        if isinstance(prop, ColumnProperty) and prop.key not in SKIPPED:
            value = getattr(obj, prop.key)
            if value is not None:
                values[prop.key] = plain(value)
        elif isinstance(prop, RelationshipProperty) and prop.secondary is not None:
            values[prop.key] = sorted(plain(v) for v in getattr(obj, prop.key))
    return values


def _delete_orphans(session: Session) -> None:
    """Children removed from a delete-orphan list (a payment dropped from the plan) are
    deleted by the flush itself, after this hook: deleting them here, as the flush would,
    puts them and their own children in session.deleted, hence in the audit trail."""
    for obj in list(session.dirty):
        state = inspect(obj)
        attrs = None  # built on each access: once per record (a merge flushes thousands)
        for prop in state.mapper.relationships:
            if not prop.cascade.delete_orphan:
                continue
            attrs = attrs or state.attrs
            for child in attrs[prop.key].history.deleted:
                child_state = inspect(child)
                if (child_state.persistent and child not in session.deleted
                        and child_state.mapper._is_orphan(child_state)):
                    session.delete(child)


def _changes(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    attrs = state.attrs  # a new mapping on each access: taken once
    changes: dict[str, list[Any]] = {}
    for prop in state.mapper.iterate_properties:
        if prop.key in SKIPPED:
            continue
        if isinstance(prop, ColumnProperty):
            history = attrs[prop.key].history
            if history.has_changes():
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
                if old != new:
                    changes[prop.key] = [plain(old), plain(new)]
        elif isinstance(prop, RelationshipProperty) and prop.secondary is not None:
            history = attrs[prop.key].history
            if history.has_changes():
                new = sorted(plain(v) for v in getattr(obj, prop.key))
                old = sorted(set(new) - {plain(v) for v in history.added}
                             | {plain(v) for v in history.deleted})
                changes[prop.key] = [old, new]
    return changes


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    login = session.info.get("login") or current_login()
    batch_id = session.info.get("batch_id")
    origin = session.info.get("origin")
    now = datetime.now(UTC)
    entries: list[AuditEntry] = []

    def record(action: str, obj: Any, changes: dict[str, Any]) -> None:
        entries.append(AuditEntry(
            at=now, login=login, action=action, entity=obj.__tablename__,
            entity_id=_identity(obj), changes=changes, batch_id=batch_id,
            origin=origin))

    _delete_orphans(session)
    created = [obj for obj in session.new if not isinstance(obj, AuditEntry)]
    for obj in created:  # every id first: a child's snapshot names its new parent's
        if isinstance(obj, Tracked):
            if obj.id is None:
                obj.id = uuid.uuid4()
            obj.created_at = obj.updated_at = now
            obj.created_by = obj.updated_by = login
    for obj in created:
        record("insert", obj, _snapshot(obj))
    for obj in list(session.dirty):
        if isinstance(obj, AuditEntry) or not session.is_modified(obj):
            continue
        changes = _changes(obj)
        if not changes:
            continue
        if isinstance(obj, Tracked):
            # Also bumps the version when only a collection changed.
            obj.updated_at = now
            obj.updated_by = login
        record("update", obj, changes)
    for obj in list(session.deleted):
        if not isinstance(obj, AuditEntry):
            record("delete", obj, _snapshot(obj))
    session.add_all(entries)


def install(session_class: type[Session]) -> None:
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
