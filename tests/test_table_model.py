"""The paged table model without widgets (qtmodeltester)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from db import queries
from desktop.table_model import PAGE_SIZE, SORT_ROLE, Column, MoneyColumn, PagedTableModel


def make_model(rows):
    columns = [Column("Nom", lambda r: r[0]), MoneyColumn("Montant", lambda r: r[1])]
    calls = []

    def fetch(offset, limit):
        calls.append((offset, limit))
        return rows[offset:offset + limit]

    return PagedTableModel(columns, lambda: len(rows), fetch), calls


def test_model_passes_qtmodeltester(qtmodeltester):
    model, _ = make_model([(f"ligne {i}", Decimal(i)) for i in range(450)])
    qtmodeltester.check(model)


def test_rows_are_fetched_by_pages_never_all_at_once(qtbot):
    rows = [(f"ligne {i}", None if i % 2 else Decimal("1234.5")) for i in range(450)]
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
        [Column("Référence", lambda r: r.reference), MoneyColumn("Coût", lambda r: r.cost)],
        lambda: queries.count_operations(demo_db),
        lambda offset, limit: queries.list_operations(demo_db, offset=offset, limit=limit))
    qtmodeltester.check(model)
    assert model.total == 142
