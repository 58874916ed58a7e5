"""The base state of a field copy, written and read in the copy's own SQLite file.

The copy stores, for every record it carries, its values as taken (the base of the
three-way merge) in ``field_base``. They are built by SQLite itself from the copy's
tables right after they are filled: building them in Python (every value of 50 000
records through the column types, then JSON) took most of the time of a check-out. The
JSON it writes holds each value in the form :func:`db.field.schema.plain` gives it,
ids without their dashes (:func:`parse` adds them; a test compares both on a generated
base), and its text is what the fingerprint of
the base state hashes, in the order of ``(entity, record_id)``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Column, Uuid

from db.field.schema import ENTITIES, NOT_MERGED, Entity, Records


def _dashed(expression: str) -> str:
    """SQL of a UUID stored by SQLAlchemy on SQLite (32 hex digits), written with its
    dashes as the merge compares it."""
    parts = [f"substr({expression}, {start}, {length})"
             for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    dashed = " || '-' || ".join(parts)
    return f"CASE WHEN {expression} IS NULL THEN NULL ELSE {dashed} END"


def _value(column: Column, alias: str) -> str:
    expression = f'{alias}."{column.name}"'
    # Ids among the values stay as stored (32 hex digits): writing their dashes in SQL
    # took two thirds of the time of the base state; :func:`parse` writes them.
    if isinstance(column.type, Boolean):
        return f"json(CASE WHEN {expression} IS NULL THEN NULL WHEN {expression} " \
               "THEN 'true' ELSE 'false' END)"
    return expression  # cents, ISO dates, texts and integers are stored in plain form


def _select(entity: Entity) -> str:
    """SELECT of (entity, record id, values as JSON) for every record of the entity."""
    merged = [c for c in entity.table.columns if c.name not in NOT_MERGED]
    pairs = [f"'{c.name}', {_value(c, 'r')}" for c in merged]
    for set_field in entity.sets:
        owner = entity.key_columns[0].name
        pairs.append(
            f"'{set_field.name}', (SELECT json_group_array(code) FROM ("
            f'SELECT s."{set_field.code_column}" AS code FROM "{set_field.table.name}" s '
            f'WHERE s."{set_field.owner_column}" = r."{owner}" ORDER BY code))')
    key = " || '/' || ".join(_dashed(f'r."{c.name}"') for c in entity.key_columns)
    return (f"SELECT '{entity.name}', {key}, json_object({', '.join(pairs)}) "
            f'FROM "{entity.table.name}" r')


def write_base_state(connection: Any) -> None:
    """Fill ``field_base`` with every record of the copy (SQLAlchemy connection on the
    copy, inside its filling transaction)."""
    for entity in ENTITIES:
        connection.exec_driver_sql(
            f'INSERT INTO field_base (entity, record_id, "values") {_select(entity)}')


def _rows(connection: Any):
    return connection.execute(
        'SELECT entity, record_id, "values" FROM field_base ORDER BY entity, record_id')


def _hashed(hasher: Any, entity: str, record_id: str, values: str) -> None:
    hasher.update(f"{entity}\x1f{record_id}\x1f{values}\x1e".encode())


def fingerprint(rows) -> str:
    hasher = hashlib.sha256()
    for row in rows:
        _hashed(hasher, *row)
    return hasher.hexdigest()


def base_fingerprint(connection: Any) -> str:
    """sha256 of the base state as stored (DB-API connection on the copy)."""
    return fingerprint(_rows(connection))


def read_base_state(path: Path) -> tuple[Records, str]:
    """The base state of the copy at *path* (read only) and its fingerprint."""
    texts, fingerprint = base_texts(path)
    return parse(texts), fingerprint


def counts_and_ids(connection: Any) -> tuple[dict[str, int], dict[str, list[str]]]:
    """How many records of each entity the copy carries, and the ids of its contracts
    and operations (the office marks them)."""
    counts = {entity.name: 0 for entity in ENTITIES}
    for entity, number in connection.execute(
            "SELECT entity, count(*) FROM field_base GROUP BY entity"):
        counts[entity] = number
    ids = {name: [row[0] for row in connection.execute(
        "SELECT record_id FROM field_base WHERE entity = ?", (name,))]
        for name in ("contract", "operation")}
    return counts, ids


def record_texts(run: Any, where: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Every record of each entity as the JSON text of its values, the same text the base
    state holds for an unchanged record; *run* executes SQL on an SQLite base (copy or
    office), *where* restricts an entity (SQL on its rows, aliased ``r``)."""
    texts: dict[str, dict[str, str]] = {}
    for entity in ENTITIES:
        condition = (where or {}).get(entity.name)
        sql = _select(entity) + (f" WHERE {condition}" if condition else "")
        texts[entity.name] = {record_id: text for _, record_id, text in run(sql)}
    return texts


def base_texts(path: Path) -> tuple[dict[str, dict[str, str]], str]:
    """The base state of the copy at *path* as stored (text), and its fingerprint."""
    texts: dict[str, dict[str, str]] = {entity.name: {} for entity in ENTITIES}
    hasher = hashlib.sha256()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for entity, record_id, values in _rows(connection):
            _hashed(hasher, entity, record_id, values)
            texts.setdefault(entity, {})[record_id] = values
    finally:
        connection.close()
    return texts, hasher.hexdigest()


# The id columns of each entity's values, written with their dashes by parse().
_IDS = {entity.name: tuple(c.name for c in entity.table.columns
                           if c.name not in NOT_MERGED and isinstance(c.type, Uuid))
        for entity in ENTITIES}


def _loaded(text: str, ids: tuple[str, ...]) -> dict[str, Any]:
    values = json.loads(text)
    for name in ids:
        value = values.get(name)
        # A copy taken before the ids were stored bare already has its dashes.
        if value is not None and len(value) == 32:
            values[name] = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-" \
                           f"{value[20:]}"
    return values


def parse(texts: dict[str, dict[str, str]], like: dict[str, dict[str, str]] | None = None,
          parsed: Records | None = None) -> Records:
    """Records of their texts; a record whose text is that of *like* shares the values
    already *parsed* for it (the same object: the merge sees at once it is unchanged)."""
    records: Records = {}
    for entity, rows in texts.items():
        same_text = (like or {}).get(entity, {})
        same_values = (parsed or {}).get(entity, {})
        ids = _IDS.get(entity, ())
        out: dict[str, dict[str, Any]] = {}
        for record_id, text in rows.items():
            known = same_values.get(record_id)
            out[record_id] = known if known is not None and same_text.get(record_id) == text \
                else _loaded(text, ids)
        records[entity] = out
    return records
