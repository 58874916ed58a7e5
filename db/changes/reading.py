"""Reading the audit trail for what changed since a token, and a record's stamp."""

from __future__ import annotations

import uuid
from collections.abc import Container
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.changes.model import Change, RecordStamp, Token
from db.models import AuditEntry, Base

# Beyond this many entries in one look (an import), the list is not worth handing out:
# the consumers are told "a lot changed" and check what they show.
MAX_LISTED = 2000


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def changes_since(session: Session, token: Token, *, lookback: timedelta,
                  since: datetime | None = None,
                  own: Container[str] = ()) -> tuple[list[Change], Token]:
    """The audit entries committed since *token*, except those in *own* (this
    process's writes), and the token to pass next time.

    Entries are read from *token*'s time minus *lookback* (or from *since*, when the
    writer said when its transaction began): a transaction that wrote its entries
    before another committed, but committed after it, is found; the entries already
    read are known by id. A first call (no time yet) only takes the current position."""
    first = token.at is None and since is None
    if first:  # what is there already is no news: only mark it read
        latest = session.scalar(select(AuditEntry.at).order_by(AuditEntry.at.desc()).limit(1))
        token = Token(_aware(latest) if latest is not None else datetime.now(UTC), {})
    floor = since if since is not None else token.at - lookback  # type: ignore[operator]
    if token.at is not None:
        floor = min(floor, token.at - lookback)
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.at, AuditEntry.login, AuditEntry.action,
               AuditEntry.entity, AuditEntry.entity_id, AuditEntry.origin)
        .where(AuditEntry.at >= floor).order_by(AuditEntry.at)).all()
    seen = dict(token.seen)
    found: list[Change] = []
    latest = token.at or floor
    for audit_id, at, login, action, entity, entity_id, origin in rows:
        key = audit_id.hex if isinstance(audit_id, uuid.UUID) else str(audit_id)
        at = _aware(at)
        latest = max(latest, at)
        if key in seen:
            continue
        seen[key] = at
        if not first and key not in own:
            found.append(Change(key, at, login, action, entity, entity_id, origin))
    # What lies below the next floor cannot come back: forget it.
    horizon = latest - lookback
    seen = {key: at for key, at in seen.items() if at >= horizon}
    return found, Token(latest, seen)


def _table(entity: str):
    table = Base.metadata.tables.get(entity)
    if table is None or "version" not in table.c:
        raise ValueError(f"{entity} n'est pas une fiche versionnée")
    return table


def record_stamp(session: Session, entity: str, record_id: object) -> RecordStamp | None:
    """The version of one record as it is now, or None once it is deleted."""
    table = _table(entity)
    key = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    row = session.execute(select(table.c.version, table.c.updated_by, table.c.updated_at)
                          .where(table.c.id == key)).first()
    if row is None:
        return None
    return RecordStamp(row.version, row.updated_by,
                       _aware(row.updated_at) if row.updated_at else None)


def last_change(session: Session, entity: str, record_id: object) -> Change | None:
    """The latest audit entry of one record (who deleted it, for instance)."""
    row = session.execute(
        select(AuditEntry.id, AuditEntry.at, AuditEntry.login, AuditEntry.action,
               AuditEntry.entity, AuditEntry.entity_id, AuditEntry.origin)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(record_id))
        .order_by(AuditEntry.at.desc()).limit(1)).first()
    if row is None:
        return None
    return Change(row.id.hex, _aware(row.at), row.login, row.action, row.entity,
                  row.entity_id, row.origin)
