"""A read-only table model over a list query: rows are fetched as they are shown.

The query filters, sorts and pages in the database; the model keeps only the
rows already displayed (DESIGN.md §5) and asks for the next page when the view
scrolls near the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from db.formatting import euros, number, short_date
from db.lists import ColumnSpec
from db.vocabulary import CODE_KINDS, code_label

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 200
GREY = QColor("#6b6b6b")

Index = QModelIndex | QPersistentModelIndex


def display(column: ColumnSpec, value: Any) -> str:
    if column.kind == "money":
        return euros(value, unknown=column.unknown)
    if column.kind in CODE_KINDS:
        return code_label(column.kind, value)
    if isinstance(value, date):
        return short_date(value)
    if isinstance(value, int) and column.kind == "int" and column.key != "budget_year":
        return number(value)
    if isinstance(value, Decimal):
        return euros(value)
    return "" if value is None else str(value)


class PagedTableModel(QAbstractTableModel):
    """Rows are dicts keyed by the column keys of the :class:`ColumnSpec` list."""

    def __init__(self, columns: Sequence[ColumnSpec], count: Callable[[], int],
                 fetch: Callable[[int, int], list[dict]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._count = count
        self._fetch = fetch
        self._rows: list[dict] = []
        self._total = 0
        self.sort_key: str | None = None
        self.descending = False

    # Qt overrides (camelCase, as Qt names them)
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        column = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.label
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = column.tooltip or column.label
            return tip if column.sort is not None else f"{tip} (non triable)"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        value = row.get(column.key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return display(column, value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.kind in ("money", "int"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.kind == "money" and value is None:
            return GREY
        if role == SORT_ROLE:
            return value
        if role == ROW_ROLE:
            return row
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if parent.isValid():
            return
        page = self._fetch(len(self._rows), PAGE_SIZE)
        if not page:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting happens in the database (by value, over all matching rows)."""
        if not 0 <= column < len(self._columns) or self._columns[column].sort is None:
            return
        self.sort_key = self._columns[column].key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    # our API
    @property
    def columns(self) -> list[ColumnSpec]:
        return list(self._columns)

    @property
    def total(self) -> int:
        return self._total

    def reload(self) -> None:
        self.beginResetModel()
        self._total = self._count()
        self._rows = self._fetch(0, PAGE_SIZE) if self._total else []
        self.endResetModel()

    def row(self, index: int) -> dict:
        return self._rows[index]
