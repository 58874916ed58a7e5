"""The paged table model without widgets (qtmodeltester)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from db.lists import OPERATIONS, ColumnSpec, Criteria
from desktop.table_model import PAGE_SIZE, SORT_ROLE, PagedTableModel


def make_model(rows):
    columns = [ColumnSpec("name", "Nom", sort=True), ColumnSpec("amount", "Montant", "money")]
    calls = []

    def fetch(offset, limit):
        calls.append((offset, limit))
        return rows[offset:offset + limit]

    model = PagedTableModel(columns, lambda: len(rows), fetch)
    model.reload()
    return model, calls


def test_model_passes_qtmodeltester(qtmodeltester):
    model, _ = make_model([{"name": f"ligne {i}", "amount": Decimal(i)} for i in range(450)])
    qtmodeltester.check(model)


def test_rows_are_fetched_by_pages_never_all_at_once(qtbot):
    rows = [{"name": f"ligne {i}", "amount": None if i % 2 else Decimal("1234.5")}
            for i in range(450)]
    model, calls = make_model(rows)
    assert model.rowCount() == PAGE_SIZE and calls == [(0, PAGE_SIZE)]
    assert model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 2 * PAGE_SIZE
    assert calls[-1] == (PAGE_SIZE, PAGE_SIZE)
    assert model.index(0, 1).data().replace("\u202f", " ").replace("\xa0", " ") == "1 234,50 €"
    assert model.index(1, 1).data() == "non communiqué"
    assert model.index(0, 1).data(SORT_ROLE) == Decimal("1234.5")
    assert model.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole) & int(
        Qt.AlignmentFlag.AlignRight)


def test_model_over_the_real_operations_query(qtmodeltester, demo_db):
    model = PagedTableModel(
        OPERATIONS.columns, lambda: OPERATIONS.count(demo_db, Criteria()),
        lambda offset, limit: OPERATIONS.page(demo_db, Criteria(), offset=offset, limit=limit))
    model.reload()
    qtmodeltester.check(model)
    assert model.total == 142
