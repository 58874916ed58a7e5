"""The base state that SQLite writes into a copy, and the fast reading of records, give
exactly what the column types and ``plain`` give (the merge compares them value for
value: a difference would make every record look changed, or hide a change)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db.database import open_database
from db.demo import build_demo
from db.field import Scope, checkout
from db.field.base_state import parse, read_base_state, record_texts
from db.field.schema import ENTITIES, NOT_MERGED, plain, read_records
from db.models import Organisation
from db.services.operations import FundingLineData, OperationData, save_operation
from db.vocabulary import FundingStatus
from tests.field_helpers import ARRONDISSEMENT, MAUBEUGE


def _through_the_types(connection, ids: dict[str, set[str]] | None = None):
    """The oracle: every record read through SQLAlchemy's column types, then plain()."""
    records = {}
    for entity in ENTITIES:
        rows = {}
        columns = [c for c in entity.table.columns if c.name not in NOT_MERGED]
        for row in connection.execute(select(entity.table)).mappings():
            record_id = "/".join(str(row[c.name]) for c in entity.key_columns)
            if ids is not None and record_id not in ids[entity.name]:
                continue
            rows[record_id] = {c.name: plain(c, row[c.name]) for c in columns}
        for set_field in entity.sets:
            for values in rows.values():
                values[set_field.name] = []
            for owner, code in connection.execute(select(
                    set_field.table.c[set_field.owner_column],
                    set_field.table.c[set_field.code_column])):
                if str(owner) in rows:
                    rows[str(owner)][set_field.name].append(code)
            for values in rows.values():
                values[set_field.name].sort()
        records[entity.name] = rows
    return records


def _strict(records) -> str:
    # JSON text, so that True and 1, "1" and 1, or 0 and None are told apart.
    return json.dumps(records, sort_keys=True, ensure_ascii=False)


def _awkward_operation(db, owner) -> None:
    save_operation(db, OperationData(
        reference="OP-« ÉTRANGE »", title='Guillemets " et \\ barre, ligne\nsuivante, 🚲',
        description="Tabulation\tet apostrophe ’", owner_id=owner, chef_de_file=True,
        cost_ht=Decimal("0.01"), deposit_date=date(1999, 12, 31), commune_codes=[MAUBEUGE],
        funding_lines=[FundingLineData(financer_id=owner, scheme_code=None,
                                       status=FundingStatus.REQUESTED,
                                       amount_requested=Decimal("0.01"))]))


def test_base_state_and_fast_reading_agree_with_the_column_types(db, tmp_path):
    build_demo(db)
    with db.read() as session:
        owner = session.scalar(select(Organisation.id).where(
            Organisation.commune_code == MAUBEUGE))
    _awkward_operation(db, owner)
    result = checkout(db, Scope("arrondissement", (ARRONDISSEMENT,)), tmp_path / "c.sqlite")
    base, _fingerprint = read_base_state(result.path)
    assert len(base["operation"]) > 20 and len(base["payment"]) > 0
    ids = {name: set(rows) for name, rows in base.items()}
    with db.read() as session:  # the office as it was taken, on SQLite or PostgreSQL
        office_side = _through_the_types(session.connection(), ids)
        fast_office = read_records(session.connection(), {e.name: None for e in ENTITIES})
    assert _strict(base) == _strict(office_side)
    assert _strict({name: {k: rows[k] for k in ids[name]} for name, rows
                    in fast_office.items()}) == _strict(office_side)
    copy = open_database(result.path, create=False)
    try:
        with copy.read() as session:
            terrain = read_records(session.connection(), {e.name: None for e in ENTITIES})
            assert _strict(terrain) == _strict(_through_the_types(session.connection()))
            # The text SQLite writes for each record (what the check-in compares first).
            texts = record_texts(session.connection().exec_driver_sql)
            assert _strict(parse(texts)) == _strict(terrain)
    finally:
        copy.close()
    assert _strict(terrain) == _strict(base)  # nothing edited yet: nothing to merge
    awkward = next(v for v in base["operation"].values() if v["reference"] == "OP-« ÉTRANGE »")
    assert awkward["chef_de_file"] is True and awkward["cost_ht_cents"] == 1
    assert awkward["deposit_date"] == "1999-12-31" and awkward["communes"] == [MAUBEUGE]


def test_ids_are_read_with_their_dashes_whether_stored_bare_or_not():
    # Copies store ids bare (32 hex digits); a copy taken before kept their dashes:
    # both read the same, so that neither looks changed against the office.
    bare = {"funding_line": {"k": json.dumps({
        "id": "0123456789abcdef0123456789abcdef", "financer_id": None,
        "operation_id": "fedcba9876543210fedcba9876543210", "notes": "0123456789abcdef"
                                                                       "0123456789abcdef"})}}
    dashed = {"funding_line": {"k": json.dumps({
        "id": "01234567-89ab-cdef-0123-456789abcdef", "financer_id": None,
        "operation_id": "fedcba98-7654-3210-fedc-ba9876543210",
        "notes": "0123456789abcdef0123456789abcdef"})}}
    assert parse(bare) == parse(dashed)
    assert parse(bare)["funding_line"]["k"]["operation_id"] == \
        "fedcba98-7654-3210-fedc-ba9876543210"
    # A text of 32 hex digits that is not an id is left as typed.
    assert parse(bare)["funding_line"]["k"]["notes"] == "0123456789abcdef" * 2
