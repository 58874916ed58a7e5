"""Property: random edits on the office and on a field copy, through the services; after
check-in and resolution every edit made on one side only is there, every field changed
differently on both sides was reported (and nothing else), and the base checks."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.database import open_database
from db.editing import operation_for_edit
from db.field import Scope, checkin, checkout, conflicts, resolve
from db.field.schema import BY_NAME, plain
from db.health import check
from db.vocabulary import OperationStatus
from tests.conftest import pg_create, pg_drop, pg_url
from tests.field_helpers import ARRONDISSEMENT, build_office, edit_operation

# field -> (entity, column, values an agent may type, how to read and write it)
FIELDS = {
    "title": ("operation", "title", ["Salle des sports", "Gymnase", "Dojo"]),
    "notes": ("operation", "notes", ["à relancer", "dossier complet", None]),
    "cost_ht": ("operation", "cost_ht_cents",
                [Decimal("150000.00"), Decimal("80000.00"), Decimal("100000.00")]),
    "start_date": ("operation", "start_date",
                   [date(2025, 9, 1), date(2026, 1, 15), date(2025, 4, 1)]),
    "status": ("operation", "status",
               [OperationStatus.FILED, OperationStatus.ABANDONED, OperationStatus.PROJECT]),
    "requested": ("funding_line", "amount_requested_cents",
                  [Decimal("35000.00"), Decimal("25000.00"), Decimal("30000.00")]),
    "paid": ("payment", "amount_cents",
             [Decimal("8000.00"), Decimal("12000.00"), Decimal("5000.00")]),
}


def _get(data, name):
    if name == "requested":
        return data.funding_lines[0].amount_requested
    if name == "paid":
        return data.funding_lines[1].payments[0].amount
    return getattr(data, name)


def _set(data, name, value):
    if name == "requested":
        data.funding_lines[0].amount_requested = value
    elif name == "paid":
        data.funding_lines[1].payments[0].amount = value
    else:
        setattr(data, name, value)


def _record_id(data, name) -> str:
    if name == "requested":
        return str(data.funding_lines[0].id)
    if name == "paid":
        return str(data.funding_lines[1].payments[0].id)
    return str(data.id)


EDITS = st.lists(st.tuples(st.sampled_from(["terrain", "bureau"]), st.integers(0, 2),
                           st.sampled_from(sorted(FIELDS)), st.integers(0, 2)),
                 min_size=1, max_size=12)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=EDITS)
def test_random_edits_on_both_sides_merge_back(backend, request, edits):
    folder = Path(tempfile.mkdtemp(prefix="terrain-prop-"))
    name = None
    try:
        if backend == "sqlite":
            path = folder / "bureau.sqlite"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            office_db = open_database(path)
        else:
            name = f"ct_{uuid.uuid4().hex[:12]}"
            pg_create(name, request.getfixturevalue("pg_template"))
            office_db = open_database(pg_url(name))
        try:
            _run(office_db, folder, edits)
        finally:
            office_db.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if name:
            pg_drop(name)


def _run(office_db, folder: Path, edits) -> None:
    office = build_office(office_db)
    base = {op: operation_for_edit(office_db, op) for op in office.operations}
    copy_file = folder / "terrain.sqlite"
    checkout(office_db, Scope("arrondissement", (ARRONDISSEMENT,)), copy_file)
    copy = open_database(copy_file, create=False)
    try:
        for side, index, name, value in edits:
            edit_operation(copy if side == "terrain" else office_db, office.operations[index],
                           lambda d, name=name, value=FIELDS[name][2][value]:
                           _set(d, name, value))
        finals = {side: {op: operation_for_edit(db, op) for op in office.operations}
                  for side, db in (("terrain", copy), ("bureau", office_db))}
    finally:
        copy.close()

    report = checkin(office_db, copy_file)

    expected_conflicts, expected = set(), {}
    for op in office.operations:
        for name, (entity, column, _values) in FIELDS.items():
            b = _get(base[op], name)
            t, o = _get(finals["terrain"][op], name), _get(finals["bureau"][op], name)
            key = (entity, _record_id(base[op], name), column)
            if t != b and o != b and t != o:
                definition = BY_NAME[entity].table.c[column]
                expected_conflicts.add((*key, str(plain(definition, b)),
                                        str(plain(definition, t)), str(plain(definition, o))))
            expected[(op, name)] = t if t != b else o
    reported = {(c["entity"], c["record_id"], c["field"], str(c["base"]), str(c["terrain"]),
                 str(c["bureau"])) for c in report.conflicts}
    assert reported == expected_conflicts
    assert report.duplicates == []
    for conflict in conflicts(office_db):
        resolve(office_db, conflict.number, "terrain")
    for op in office.operations:
        now = operation_for_edit(office_db, op)
        for name in FIELDS:
            assert _get(now, name) == expected[(op, name)], (op, name)
        # nothing else moved
        assert now.reference == base[op].reference and now.owner_id == base[op].owner_id
        assert len(now.funding_lines) == 2 and len(now.funding_lines[1].payments) == 1
    health = check(office_db)
    assert health.healthy, health.problems
