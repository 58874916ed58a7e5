"""Shared pieces of the write services: lookups, version checks, input checks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.database import Database
from db.errors import ConflictError, InvalidInput, NotFoundError
from db.models import Commune, Epci, Tracked
from db.money import MoneyError, to_decimal, within_bounds
from db.rules import Finding
from db.text import control_character

T = TypeVar("T")


@dataclass(frozen=True)
class SaveResult:
    """What a save returns: the record's id and new version, and the warnings."""

    id: uuid.UUID
    version: int
    findings: list[Finding] = field(default_factory=list)


@contextmanager
def transaction(db: Database, what: str, *, batch_id: Any = None) -> Iterator[Session]:
    """One write transaction; a concurrent change found at flush becomes a conflict."""
    try:
        with db.write(batch_id=batch_id) as session, session.no_autoflush:
            yield session
    except StaleDataError as exc:
        raise ConflictError(
            f"Conflit : la fiche {what} a été modifiée par quelqu'un d'autre pendant "
            "l'enregistrement. Rechargez-la avant de recommencer ; rien n'a été enregistré.",
            entity=what, entity_id=None, expected_version=None, current_version=None) from exc


def get(session: Session, model: type[T], record_id: Any, what: str) -> T:
    record = session.get(model, record_id)
    if record is None:
        raise NotFoundError(f"{what} introuvable (identifiant {record_id}) : "
                            "il a peut-être été supprimé.")
    return record


def check_version(record: Tracked, expected: int | None, what: str) -> None:
    if expected is None:
        raise InvalidInput(f"Fiche {what} : la version lue est requise pour enregistrer "
                           "une modification.")
    if record.version != expected:
        when = record.updated_at
        if when.tzinfo is None:  # SQLite gives back naive UTC
            when = when.replace(tzinfo=UTC)
        raise ConflictError(
            f"Conflit : la fiche {what} a été modifiée par {record.updated_by} le "
            f"{when.astimezone():%d/%m/%Y à %H:%M} depuis que vous l'avez ouverte (version "
            f"{record.version} en base, vous aviez la version {expected}). Rechargez-la pour "
            "voir ses changements, ou écrasez-les en connaissance de cause.",
            entity=type(record).__tablename__, entity_id=record.id,
            expected_version=expected, current_version=record.version)


def record_to_save(session: Session, model: type[T], data: Any, what: str) -> T:
    """The aggregate root a save writes to: new when ``data.id`` is None, else the stored
    one, provided nobody saved it since ``data.version`` was read."""
    if data.id is None:
        record = model(id=uuid.uuid4())
        session.add(record)
        return record
    record = get(session, model, data.id, what)
    check_version(record, data.version, what)
    touch(record)
    return record


def touch(record: Tracked) -> None:
    """Mark an aggregate root as changed so its version moves with its children."""
    record.updated_at = datetime.now(UTC)


def money(value: Any, label: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return within_bounds(to_decimal(value))
    except MoneyError as exc:
        raise InvalidInput(f"{label} : {exc}.") from exc


def _no_control(text: str, label: str | None) -> str:
    problem = control_character(text)
    if problem:
        raise InvalidInput(f"{label or 'Texte'} : {problem}.")
    return text


def required_text(value: str | None, label: str, max_length: int) -> str:
    text = _no_control((value or "").strip(), label)
    if not text:
        raise InvalidInput(f"{label} : champ obligatoire.")
    if len(text) > max_length:
        raise InvalidInput(f"{label} : {len(text)} caractères, {max_length} au plus.")
    return text


def optional_text(value: str | None, label: str | None = None,
                  size: int | None = None) -> str | None:
    text = _no_control((value or "").strip(), label)
    if text and size is not None and len(text) > size:
        raise InvalidInput(f"{label} : {size} caractères au plus ({len(text)} saisis).")
    return text or None


_PHONE = re.compile(r"^\+?[0-9 .()\-]{6,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def phone_number(value: str | None, label: str) -> str | None:
    """A phone number as typed (``03 27 00 00 00``, ``+33 3 27…``), digits checked."""
    text = optional_text(value)
    if text is None:
        return None
    if not _PHONE.match(text) or sum(ch.isdigit() for ch in text) < 6:
        raise InvalidInput(f"{label} : « {text} » n'est pas un numéro de téléphone "
                           "(chiffres, espaces, points, tirets, + au début).")
    return text


def email_address(value: str | None, label: str) -> str | None:
    text = optional_text(value)
    if text is None:
        return None
    if len(text) > 200 or not _EMAIL.match(text):
        raise InvalidInput(f"{label} : « {text} » n'est pas une adresse électronique "
                           "(nom@domaine.fr).")
    return text


def communes(session: Session, codes: list[str], label: str) -> list[Commune]:
    wanted = list(dict.fromkeys(codes))
    found = {c.code: c for c in session.scalars(select(Commune).where(Commune.code.in_(wanted)))}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise InvalidInput(f"{label} : commune(s) inconnue(s) du COG : {', '.join(unknown)}.")
    return [found[code] for code in wanted]


def epcis(session: Session, codes: list[str], label: str) -> list[Epci]:
    wanted = list(dict.fromkeys(codes))
    found = {e.code: e for e in session.scalars(select(Epci).where(Epci.code.in_(wanted)))}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise InvalidInput(f"{label} : EPCI inconnu(s) : {', '.join(unknown)}.")
    return [found[code] for code in wanted]


def sync_children(existing: list[T], wanted: list[Any], *, make: Callable[[Any], T],
                  update: Callable[[T, Any], None],
                  before_delete: Callable[[T], None] | None = None) -> list[T]:
    """Bring a child collection to *wanted*: update by id, create new, drop missing."""
    by_id = {child.id: child for child in existing}  # type: ignore[attr-defined]
    result = []
    for data in wanted:
        child = by_id.pop(data.id, None) if data.id is not None else None
        if child is None:
            if data.id is not None:
                raise NotFoundError("Un élément modifié a été supprimé entre-temps : "
                                    "rechargez la fiche.")
            child = make(data)
        else:
            update(child, data)
        result.append(child)
    if before_delete:
        for child in by_id.values():
            before_delete(child)
    return result


def set_if_changed(record: Any, **values: Any) -> None:
    """Assign only what differs, so the audit shows real changes only."""
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
