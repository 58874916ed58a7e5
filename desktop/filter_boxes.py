"""The filter boxes of the lists, filled when the agent first opens one.

With no arrondissement chosen, the commune filter alone offers the 34 969 communes of
France, and three lists have one: filling every box item by item at start-up cost
a third of a second. Each box now shows "Commune : tous" until it is opened, focused
or given a remembered value; its choices are then read once from the base (per
arrondissement) into one list model shared by every page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt
from PySide6.QtWidgets import QComboBox

from db import lists
from db.database import Database

# "No filter": an empty string, never None (PySide 6.12 miscounts references to a
# None item data and aborts after a few hundred of them).
ALL = ""


class ChoiceListModel(QAbstractListModel):
    """First row "<Label> : tous", then the (label, value) pairs, read-only."""

    def __init__(self, all_label: str, pairs: list[tuple[str, Any]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows = [(all_label, ALL), *pairs]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        label, value = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return label
        if role == Qt.ItemDataRole.UserRole:
            return value
        return None


class FilterChoices(QObject):
    """The choices of every filter key for one arrondissement (None: all France),
    read from the base the first time a box needs them, then shared."""

    def __init__(self, db: Database, arrondissement: str | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.arrondissement = arrondissement
        self._models: dict[tuple[str, str], ChoiceListModel] = {}

    def model(self, key: str, all_label: str,
              fixed: list[tuple[str, Any]] | None = None) -> ChoiceListModel:
        cached = self._models.get((key, all_label))
        if cached is None:
            pairs = fixed if fixed is not None else lists.filter_choices(
                self.db, self.arrondissement, keys=(key,)).get(key, [])
            cached = self._models[(key, all_label)] = ChoiceListModel(all_label, pairs, self)
        return cached


class FilterBox(QComboBox):
    """A combo box whose choices are loaded by *loader* when first needed."""

    def __init__(self, all_label: str, loader: Callable[[], QAbstractListModel]) -> None:
        super().__init__()
        self._loader = loader
        self._loaded = False
        self.view().setUniformItemSizes(True)  # 35 000 rows: no measuring of each
        self.addItem(all_label, ALL)

    @property
    def loaded(self) -> bool:
        return self._loaded

    def set_loader(self, loader: Callable[[], QAbstractListModel]) -> None:
        """New choices (another arrondissement): keep the value chosen if it still is one."""
        current = self.currentData() if self._loaded else ALL
        self._loader = loader
        self._loaded = False
        self.blockSignals(True)
        try:
            label = self.itemText(0)
            self.setModel(_placeholder(label, self))
            if current not in (None, ALL):
                self.ensure_loaded()
                self.setCurrentIndex(max(self.findData(current), 0))
        finally:
            self.blockSignals(False)

    def ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        signals = self.blockSignals(True)
        try:
            self.setModel(self._loader())
            self.setCurrentIndex(0)
        finally:
            self.blockSignals(signals)

    def select_value(self, value: Any) -> bool:
        """Choose *value* (a remembered filter); False when it is no longer offered."""
        self.ensure_loaded()
        index = next((i for i in range(self.count()) if _plain(self.itemData(i)) == value), -1)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0

    def offer(self, label: str, value: Any) -> None:
        """Add *value* to this box's choices and choose it: a value the arrondissement's
        choices lack (the Tableau de bord opens a list on an EPCI of another one)."""
        self.ensure_loaded()
        model = self.model()
        pairs = [(model.index(row, 0).data(), model.index(row, 0).data(Qt.ItemDataRole.UserRole))
                 for row in range(1, model.rowCount())]
        signals = self.blockSignals(True)
        try:
            self.setModel(ChoiceListModel(self.itemText(0), [*pairs, (label, value)], self))
        finally:
            self.blockSignals(signals)
        self.setCurrentIndex(self.count() - 1)

    # Every way of reaching the choices loads them first.
    def findData(self, *args: Any) -> int:  # noqa: N802 (Qt API)
        self.ensure_loaded()
        return super().findData(*args)

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        self.ensure_loaded()
        super().showPopup()

    def focusInEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        self.ensure_loaded()
        super().focusInEvent(event)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        self.ensure_loaded()
        super().keyPressEvent(event)

    def wheelEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        self.ensure_loaded()
        super().wheelEvent(event)


def _placeholder(label: str, parent: QObject) -> ChoiceListModel:
    return ChoiceListModel(label, [], parent)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int | str) else str(value)
