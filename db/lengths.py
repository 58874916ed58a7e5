"""The same text limits on SQLite and PostgreSQL, whatever path writes the text.

A ``String(n)`` column is ``varchar(n)`` on PostgreSQL, which refuses a longer text with
a raw StringDataRightTruncation, while SQLite stores anything: a base moved from a laptop
to the office server would then fail on data it already holds. PostgreSQL also refuses a
NUL character in any text. So every write is checked here before it reaches the driver:
the ORM's (a ``before_flush`` listener, installed on the application's sessions by
db.database) and the bulk inserts of imports (db.bulk.insert_rows calls
:func:`check_columns`). A text over its limit, or holding a NUL, is refused with a French
message naming the field and the limit, and the transaction writes nothing.

The editors and the importers check their own fields first, with their own words (a row
error, a refused input); this is the guarantee for every other path.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Column, String, event, inspect
from sqlalchemy.orm import ColumnProperty, Session

from db.errors import InvalidInput


class TextTooLong(InvalidInput):
    """A text longer than its column allows, or holding a NUL character."""


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # 100 000, as db.formatting writes numbers


# Fields the history does not name, as the agent would call them.
_MORE_LABELS = {
    "created_by": "créé par", "updated_by": "modifié par", "key": "clé du réglage",
    "value": "valeur du réglage", "short_label": "libellé court", "sort_name": "nom de tri",
    "search_document": "texte de recherche", "postal_codes": "codes postaux",
    "chef_lieu": "chef-lieu", "financing_mode": "régime fiscal", "procedure": "démarche",
    "state": "état", "login": "agent", "action": "action", "entity": "nature de fiche",
    "entity_id": "fiche", "record_id": "fiche", "field": "champ",
    "resolution": "résolution", "resolved_by": "résolu par", "before_status": "statut avant",
    "office_id": "identifiant du bureau", "office_label": "bureau",
    "taken_by": "emportée par", "checked_in_by": "rapportée par",
    "file_name": "nom du fichier", "schema_revision": "révision du schéma",
    "base_digest": "empreinte de la base", "sha256": "empreinte du fichier",
}


def _label(entity: str, key: str) -> str:
    """« Nom » (organisation), « Intitulé » (opération)…: the agent's words when known."""
    from db.history.values import ENTITY_NOUNS, field_label  # late: it imports a lot

    label = field_label(key, entity)
    if label.lower() == key and key in _MORE_LABELS:
        label = _MORE_LABELS[key][:1].upper() + _MORE_LABELS[key][1:]
    noun = ENTITY_NOUNS.get(entity)
    return f"« {label} »" + (f" ({noun.lower()})" if noun else "")


def length_problem(entity: str, key: str, limit: int | None, value: Any) -> str | None:
    """The French refusal of *value* for the field *key* of *entity*, or None."""
    if value.__class__ is not str:
        return None
    if "\x00" in value:
        return (f"Le champ {_label(entity, key)} contient un caractère nul (U+0000, "
                f"{value.index(chr(0)) + 1}e caractère), qu'aucune base n'accepte : "
                "rien n'a été enregistré.")
    if limit is not None and len(value) > limit:
        return (f"Le champ {_label(entity, key)} dépasse {_number(limit)} caractères "
                f"({_number(len(value))} saisis) : rien n'a été enregistré.")
    return None


@cache
def _mapped_text(model: type) -> tuple[tuple[str, int | None], ...]:
    """(attribute, limit) of the mapped text columns of a model."""
    out = []
    for prop in inspect(model).iterate_properties:
        if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
            column = prop.columns[0]
            if isinstance(getattr(column, "type", None), String):
                out.append((prop.key, column.type.length))
    return tuple(out)


def check_record(record: Any, keys: Iterable[str] | None = None) -> None:
    """Refuse a record whose text (only *keys* when given) a base would not store."""
    entity = getattr(record, "__tablename__", type(record).__name__)
    wanted = set(keys) if keys is not None else None
    for key, limit in _mapped_text(type(record)):
        if wanted is not None and key not in wanted:
            continue
        problem = length_problem(entity, key, limit, record.__dict__.get(key))
        if problem:
            raise TextTooLong(problem)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    for record in session.new:
        check_record(record)
    for record in session.dirty:
        attrs = inspect(record).attrs
        changed = [key for key, _ in _mapped_text(type(record)) if attrs[key].history.added]
        if changed:
            check_record(record, changed)


def install(session_class: type[Session]) -> None:
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


def check_values(entity: str, key: str, column: Column, values: list[Any]) -> None:
    """The same refusal for one column of a bulk insert (db.bulk.insert_rows)."""
    if not isinstance(column.type, String):
        return
    strings = [value for value in values if value.__class__ is str]
    if not strings:
        return
    limit = column.type.length
    problem = length_problem(entity, key, limit, max(strings, key=len))
    if problem is None:
        nul = next((value for value in strings if "\x00" in value), None)
        problem = nul is not None and length_problem(entity, key, None, nul)
    if problem:
        raise TextTooLong(problem)
