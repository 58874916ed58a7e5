"""Writing many rows at once, for imports of whole spreadsheets.

The ORM writes a record in tens of microseconds, which is right for an editor
and too slow for 100 000 rows; SQLAlchemy Core's executemany still converts
every value of every row through Python. Here a table's rows go to the driver
in one call (``executemany`` on SQLite, ``COPY`` on PostgreSQL), each column
converted by the column type's own bind processor (so UUIDs, money in cents and
dates are stored exactly as the ORM stores them), constant columns once for all
rows.

Audit entries are written the same way, with the same content as
:mod:`db.audit` gives the ORM's writes, so that history and the future merge of
offline copies cannot tell a bulk insert from an editor's.
"""

from __future__ import annotations

import gc
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Table, inspect
from sqlalchemy.orm import ColumnProperty

from db.audit import SKIPPED, plain
from db.lengths import check_values
from db.models import AuditEntry, Base

# Seconds spent inside the driver (executemany or COPY) since the process started:
# what the database itself costs, for the benchmark (tests/bench/bench_spreadsheets.py).
DRIVER_SECONDS = [0.0]


@contextmanager
def collector_paused(*, keeps_results: bool) -> Iterator[None]:
    """Python's cycle collector off while a whole sheet is read or written.

    Those steps make millions of small objects, which set the collector off again
    and again over everything alive: a third of the time of an analysis, and pauses of
    half a second during which the window could not redraw. Reference counting still
    frees what they drop. When the work *keeps results* (the half million objects of
    an analysis report), one full collection runs at its end, in the worker thread
    while the progress dialog shows, rather than later at a random moment of the
    agent's work; otherwise the young objects alone are looked at, which is quick.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.collect(2 if keeps_results else 1)
            gc.enable()


def new_ids(count: int) -> list[uuid.UUID]:
    """*count* new UUIDs in increasing order (version 7 layout, RFC 9562: the time in
    milliseconds, then a counter, then 62 random bits).

    Still unique across offices and laptops (the merge of field copies relies on it),
    but the rows of one import go to the end of each index instead of at random
    places in it, which roughly halves what SQLite spends inserting them.
    """
    millis = time.time_ns() // 1_000_000
    raw = os.urandom(8 * count)
    low = (1 << 62) - 1
    ids = []
    for index in range(count):
        # 48 bits of time, version 7, 12 bits of counter (carried into the time).
        stamp, counter = divmod(index, 4096)
        value = ((millis + stamp) << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | (
            int.from_bytes(raw[8 * index:8 * index + 8]) & low)
        ids.append(uuid.UUID(int=value))
    return ids


def _column(target: type[Base] | Table, key: str) -> Column:
    if isinstance(target, Table):
        return target.c[key]
    return inspect(target).column_attrs[key].columns[0]


def insert_rows(connection: Connection, target: type[Base] | Table,
                columns: dict[str, list[Any]], constants: dict[str, Any] | None = None) -> int:
    """Insert rows given column by column (``key -> values``, all the same length; keys
    are a model's attribute names, or a table's column names); *constants* are columns
    with one value for every row. Returns the row count."""
    constants = constants or {}
    keys = list(columns)
    count = len(columns[keys[0]]) if keys else 0
    if count == 0:
        return 0
    dialect = connection.dialect
    table = target if isinstance(target, Table) else target.__table__
    names: list[str] = []
    converted: list[Sequence[Any]] = []
    for key, values in [*columns.items(), *((k, None) for k in constants)]:
        column = _column(target, key)
        # The text limits of PostgreSQL on SQLite too, and no NUL (db.lengths).
        check_values(table.name, key, column, [constants[key]] if values is None else values)
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        names.append(column.name)
        if values is None:
            value = constants[key]
            converted.append([processor(value) if processor else value] * count)
            continue
        if len(values) != count:
            raise ValueError(f"{table.name}.{key}: {len(values)} values for {count} rows")
        converted.append(list(map(processor, values)) if processor else values)
    quote = dialect.identifier_preparer
    target_sql = (f"{quote.format_table(table)} "
                  f"({', '.join(quote.quote(name) for name in names)})")
    rows = zip(*converted, strict=True)
    started = time.perf_counter()
    if dialect.name == "postgresql":
        # COPY, PostgreSQL's own bulk load: several times faster than executemany.
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {target_sql} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f"INSERT INTO {target_sql} VALUES ({', '.join([marker] * len(names))})",
            list(rows))
    DRIVER_SECONDS[0] += time.perf_counter() - started
    return count


# --- Audit entries -------------------------------------------------------------------------

@cache
def _audited_keys(model: type[Base]) -> list[tuple[str, bool]]:
    """(attribute, is a collection) in the order db.audit's snapshot takes them."""
    mapper = inspect(model)
    keys = []
    for prop in mapper.iterate_properties:
        if isinstance(prop, ColumnProperty) and prop.key not in SKIPPED:
            keys.append((prop.key, False))
        elif getattr(prop, "secondary", None) is not None:
            keys.append((prop.key, True))
    return keys


def snapshot(model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """What db.audit records when a *model* record holding *values* (attribute -> value;
    collections as lists of keys) is inserted."""
    out: dict[str, Any] = {}
    for key, collection in _audited_keys(model):
        value = values.get(key)
        if collection:
            out[key] = sorted(plain(v) for v in value or [])
        elif value is not None:
            convert = _PLAIN.get(value.__class__)
            out[key] = convert(value) if convert else plain(value)
    return out


def _same(value: Any) -> Any:
    return value


# db.audit.plain for the exact types bulk writes hold (one dict lookup instead of a
# chain of isinstance); any other type goes through plain itself.
_PLAIN = {str: _same, int: _same, bool: _same, uuid.UUID: str, Decimal: str,
          date: date.isoformat, datetime: datetime.isoformat}


def insert_audit(connection: Connection, *, at: datetime, login: str, batch_id: uuid.UUID,
                 entity: str, entity_ids: list[str], changes: list[dict[str, Any]],
                 action: str = "insert", origin: str | None = None) -> int:
    """One audit entry per record, in one executemany; *origin* as db.audit gives it."""
    return insert_rows(connection, AuditEntry, {
        "id": new_ids(len(entity_ids)), "entity_id": entity_ids, "changes": changes,
    }, constants={"at": at, "login": login, "action": action, "entity": entity,
                  "batch_id": batch_id, "origin": origin}) if entity_ids else 0
