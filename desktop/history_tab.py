"""The « Historique » tab of the editors: who changed what in the record, when, and
where the change came from (an editor, an import, a field copy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.history import HistoryRow, record_history

Index = QModelIndex | QPersistentModelIndex

# (attribute of HistoryRow, header, width in pixels)
RECORD_COLUMNS = [("when", "Date", 158), ("login", "Agent", 85), ("origin", "Origine", 110),
                  ("record", "Élément", 210), ("change", "Changement", 140),
                  ("old", "Avant", 150), ("new", "Après", 150)]
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


class HistoryModel(QAbstractTableModel):
    """Rows of history, read-only; *fetch_more* (journal) brings the next page when the
    view scrolls to the end, as the lists do."""

    def __init__(self, columns: Sequence[tuple[str, str, int]],
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[HistoryRow] = []
        self.fetch_more: Callable[[], list[HistoryRow]] | None = None

    def set_rows(self, rows: list[HistoryRow],
                 fetch_more: Callable[[], list[HistoryRow]] | None = None) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.fetch_more = fetch_more
        self.endResetModel()

    # Qt overrides (camelCase, as Qt names them)
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return self.columns[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return getattr(row, self.columns[index.column()][0])
        if role == ROW_ROLE:
            return row
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self.fetch_more is not None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if self.fetch_more is None:
            return
        more = self.fetch_more()
        if not more:
            return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
        self.rows.extend(more)
        self.endInsertRows()

    def cell(self, row: int, key: str) -> str:
        """The text shown in a cell (tests and the journal's export read it)."""
        keys = [c[0] for c in self.columns]
        return self.data(self.index(row, keys.index(key)))


def history_view(model: HistoryModel, name: str) -> QTableView:
    """Fixed row heights and column widths: measuring thousands of rows to fit them
    takes seconds (DESIGN.md §7)."""
    view = QTableView()
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    for column, (_key, _label, width) in enumerate(model.columns):
        view.setColumnWidth(column, width)
    return view


class HistoryTab(QWidget):
    """Read when first shown (most editors are opened to change a field, not to read
    their history), read again after each save of the editor."""

    def __init__(self, db: Database, entity: str, record_id: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.entity = entity
        self.record_id = record_id
        self.stale = True
        self.model = HistoryModel(RECORD_COLUMNS, self)
        self.view = history_view(self.model, "Historique")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Résumé de l'historique")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        # An organisation has no child records: the « Élément » column would repeat it.
        self.alone = entity == "organisation"
        self.view.setColumnHidden([c[0] for c in RECORD_COLUMNS].index("record"), self.alone)
        self._widened = False

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self.stale:
            self.reload()
        window = self.window()
        if self.alone and not self._widened and window is not self:
            # The organisation editor is narrow; its history needs the values' room.
            self._widened = True
            window.resize(max(window.width(), 880), window.height())
        super().showEvent(event)

    def mark_stale(self) -> None:
        self.stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        self.stale = False
        record_id = self.record_id()
        if record_id is None:
            self.model.set_rows([])
            self.summary.setText("La fiche n'est pas encore enregistrée : son historique "
                                 "commencera au premier enregistrement.")
            return
        rows = record_history(self.db, self.entity, record_id)
        self.model.set_rows(rows)
        changes = len({(r.at, r.entity, r.record_id) for r in rows})
        what = {"operation": "de l'opération, de ses lignes de financement, de ses "
                             "versements, de ses dépenses et de ses rattachements",
                "contract": "du contrat, de ses axes, signataires, avenants et comités"}\
            .get(self.entity, "de la fiche")
        self.summary.setText(
            f"{changes} changement{'s' if changes > 1 else ''} {what}, le plus récent en "
            "haut. Origine : saisie dans la fenêtre, import d'un tableau, copie de terrain "
            "rapportée.")


def add_history_tab(editor: Any, tabs: QTabWidget, entity: str,
                    record_id: Callable[[], Any]) -> HistoryTab:
    """The « Historique » tab, last of *tabs*, refreshed each time *editor* saves."""
    tab = HistoryTab(editor.db, entity, record_id, editor)
    tabs.addTab(tab, "&Historique")
    editor.saved.connect(tab.mark_stale)
    return tab
