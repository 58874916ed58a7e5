"""A read-only table model over a paged query: rows are fetched as they are shown.

The query functions filter, sort and page in the database; the model keeps
only the rows already displayed (DESIGN.md §5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from db.formatting import euros, short_date

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 200

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]
    width: int = 120
    tooltip: str | None = None

    def display(self, row: Any) -> str:
        value = self.value(row)
        if isinstance(value, Decimal):
            return euros(value)
        if isinstance(value, date):
            return short_date(value)
        return "" if value is None else str(value)


class MoneyColumn(Column):
    """An amount; ``None`` shows as "non communiqué", never as 0."""

    def display(self, row: Any) -> str:
        return euros(self.value(row))


class PagedTableModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column],
                 count: Callable[[], int],
                 fetch: Callable[[int, int], list[Any]],
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._count = count
        self._fetch = fetch
        self._rows: list[Any] = []
        self._total = 0
        self.reload()

    # Qt overrides (camelCase, as Qt names them)
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        column = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip or column.title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.display(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if isinstance(column, MoneyColumn) or isinstance(column.value(row), int):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and isinstance(column, MoneyColumn):
            if column.value(row) is None:
                from PySide6.QtGui import QColor

                return QColor("#6b6b6b")
        if role == SORT_ROLE:
            return column.value(row)
        if role == ROW_ROLE:
            return row
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
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

    # our API
    @property
    def total(self) -> int:
        return self._total

    def reload(self) -> None:
        self.beginResetModel()
        self._total = self._count()
        self._rows = self._fetch(0, PAGE_SIZE) if self._total else []
        self.endResetModel()

    def row(self, index: int) -> Any:
        return self._rows[index]
