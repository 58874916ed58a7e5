"""Bulk writes (spreadsheet imports) store what the editor's save would have stored,
on SQLite and PostgreSQL, and undo removes it all with tombstones in the history."""

from __future__ import annotations

import copy
import unicodedata
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select

from db.bulk import new_ids
from db.lists import OPERATIONS, Criteria
from db.models import (
    AuditEntry,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    raw_cents,
)
from db.search import document
from db.services.bulk import create_operations, delete_created
from db.services.contracts import save_contract
from db.services.operations import LinkData, save_operation
from db.services.organisations import OrganisationData
from db.text import _SEPARATORS, normalize
from db.vocabulary import OrganisationKind
from tests.test_services import actors, new_contract, new_operation  # noqa: F401

SKIP = {"id", "reference", "operation_id", "created_at", "updated_at", "version"}


def stored(db, reference: str) -> dict:
    """The operation as rows: its columns, lines, communes, links and audit entries."""
    with db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == reference))

        def columns(record) -> dict:
            return {attr.key: getattr(record, attr.key)
                    for attr in inspect(type(record)).column_attrs if attr.key not in SKIP}

        ids = [str(operation.id)] + [str(line.id) for line in operation.funding_lines]
        audit = session.execute(select(AuditEntry.entity, AuditEntry.changes)
                                .where(AuditEntry.entity_id.in_(ids),
                                       AuditEntry.action == "insert")
                                .order_by(AuditEntry.entity)).all()
        return {
            "operation": columns(operation),
            "lines": sorted((columns(line) for line in operation.funding_lines),
                            key=lambda c: c["position"]),
            "communes": [c.code for c in operation.communes],
            "links": [(link.contract_id, link.axis_id) for link in operation.links],
            "audit": sorted(([entity, {k: v for k, v in changes.items() if k not in SKIP}]
                             for entity, changes in audit), key=repr),
            "document": operation.search_document.replace(normalize(reference), ""),
        }


def test_bulk_insert_stores_what_the_editor_stores(db, actors):  # noqa: F811
    contract = save_contract(db, new_contract(actors)).id
    editor = new_operation(actors, links=[LinkData(contract)])
    bulk = copy.deepcopy(editor)
    bulk.reference = "OP-2025-BULK"
    save_operation(db, editor)
    with db.write(batch_id=uuid.uuid4()) as session:
        create_operations(session, [bulk])

    by_editor, by_bulk = stored(db, editor.reference), stored(db, bulk.reference)
    by_editor["operation"].pop("search_document")
    by_bulk["operation"].pop("search_document")
    assert by_bulk == by_editor
    assert by_bulk["operation"]["granted_total"] == editor.funding_lines[0].amount_granted
    assert len(by_bulk["audit"]) == 3  # the operation and its two lines


def test_undo_removes_a_batch_with_tombstones_and_its_new_organisations(db, actors):  # noqa: F811
    batch = uuid.uuid4()
    owner = uuid.uuid4()
    data = new_operation(actors, owner_id=owner, reference="OP-NOUVEAU")
    with db.write(batch_id=batch) as session:
        create_operations(session, [data], new_organisations={
            owner: OrganisationData("Commune de Ferrière-la-Grande", OrganisationKind.COMMUNE)})
    with db.read() as session:
        assert session.get(Organisation, owner).name == "Commune de Ferrière-la-Grande"
        inserted = session.scalar(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.batch_id == batch))
    assert inserted == 1 + 1 + 2  # organisation, operation, two lines
    # Found by search: the bulk insert indexed its owner's name and its reference.
    assert OPERATIONS.count(db, Criteria(search="ferriere nouveau")) == 1

    with db.write() as session:
        assert delete_created(session, batch) == 1
    with db.read() as session:
        assert session.get(Organisation, owner) is None
        assert session.scalar(select(func.count()).select_from(FundingLine)) == 0
        assert session.scalar(select(func.count()).select_from(OperationLink)) == 0
        tombstones = {entity: changes for entity, changes in session.execute(
            select(AuditEntry.entity, AuditEntry.changes).where(AuditEntry.action == "delete"))}
    assert set(tombstones) == {"operation", "funding_line", "organisation"}
    assert tombstones["operation"]["reference"] == "OP-NOUVEAU"
    assert tombstones["organisation"]["name"] == "Commune de Ferrière-la-Grande"
    assert OPERATIONS.count(db, Criteria(search="ferriere nouveau")) == 0


def test_new_ids_are_unique_ordered_version_7():
    ids = new_ids(10_000)
    assert len(set(ids)) == 10_000
    assert ids == sorted(ids) and [i.hex for i in ids] == sorted(i.hex for i in ids)
    assert {i.version for i in ids} == {7} and {i.variant for i in ids} == {uuid.RFC_4122}
    assert new_ids(1)[0] > ids[0]  # later calls sort after earlier ones (millisecond clock)


def reference_normalize(text: str) -> str:
    """The plain definition: decompose, drop every combining mark, fold the case."""
    if not text:
        return ""
    for quote in "’‘`ʼ":
        text = text.replace(quote, "'")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    return _SEPARATORS.sub(" ", stripped.casefold()).strip()


@settings(max_examples=3000)
@given(st.text())
def test_fast_normalize_agrees_with_its_definition(text):
    assert normalize(text) == reference_normalize(text)


def test_normalize_examples():
    assert normalize("AVESNES SUR HELPE") == normalize("Avesnes-sur-Helpe") == \
        "avesnes sur helpe"
    assert normalize("Cœur de l’Avesnois — École") == "coeur de l'avesnois ecole"
    assert document(["Saint-Rémy-du-Nord", None, "59535"]) == "saint remy du nord 59535"


def test_a_100000_row_sheet_is_imported_whole_and_undone(db, tmp_path):
    """The sheet of the benchmark, through analysis, import and undo: every good operation
    and every cent, the 30 wrong rows and the other rows of their operations refused."""
    import re
    from collections import defaultdict

    from db.services.settings import set_setting
    from db.spreadsheets import importer
    from tests.bench import tracking_sheet

    set_setting(db, "arrondissement", "591")
    communes = tracking_sheet.nord_communes(db)
    rows = tracking_sheet.rows(100_000, communes)
    path = tmp_path / "suivi.xlsx"
    tracking_sheet.write(path, 100_000, communes)

    def cents(value) -> int | None:  # the generator writes numbers or "1 234,56 €"
        if value is None:
            return None
        return round(value * 100) if isinstance(value, float) else int(re.sub(r"\D", "", value))

    by_reference = defaultdict(list)
    for row in rows:
        by_reference[row[0]].append(row)
    good = {ref: lines for ref, lines in by_reference.items()
            if not any(r[3] == "Commune inconnue" or r[7] == "12,345" for r in lines)}
    expected_cost = sum(cents(lines[0][4]) for lines in good.values())
    expected_granted = sum(cents(r[8]) or 0 for lines in good.values() for r in lines)

    report = importer.analyse(db, path)
    assert report.rows_read == 100_001  # and the totals row, set aside
    assert report.skipped == [{"row": 100_005, "reason": "ligne de total"}]
    assert report.imported_operations == len(good)
    assert report.valid == sum(len(lines) for lines in good.values())
    assert len({f.row for f in report.errors}) == 100_000 - report.valid
    assert report.totals() == {"cost_cents": expected_cost, "granted_cents": expected_granted}

    batch = importer.apply(db, report)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == len(good)
        assert session.scalar(select(func.sum(raw_cents(Operation.cost_ht)))) == expected_cost
        assert session.scalar(select(func.sum(raw_cents(Operation.granted_total)))) == \
            expected_granted
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.batch_id == batch)) == (len(good) + report.valid
                                              + len(report.new_organisations) + 1)
    assert OPERATIONS.count(db, Criteria(search="DOS-2019")) > 0

    assert importer.undo(db, str(batch)) == len(good)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == 0
        assert session.scalar(select(func.count()).select_from(Organisation)) == 0
