"""Qt models of the editors' choices, built once and shared by every combo box.

A database of 100 000 operations has thousands of organisations and 35 000
communes: one model each, shared, keeps opening an editor fast and light.

Names are listed in French order (db.naming.sort_name: "État" with the E). What is
typed in a searchable combo box matches the way names are compared everywhere
(db.naming.name_key: case, accents, hyphens, apostrophes and "Commune de" ignored),
through a :class:`MatchingProxy` of each box over the shared model.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel

from db.editing import Choices
from db.naming import match_rank, name_key, sort_name, words_key

NONE = ""  # "no choice" (never None: see desktop.list_pages.ALL)

Index = QModelIndex | QPersistentModelIndex


class ChoiceItemModel(QStandardItemModel):
    """Label/value items, with the matching keys of their labels computed once for all
    the combo boxes that share the model."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.labels = [label for label, _ in items]
        for label, value in items:
            item = QStandardItem(label)
            item.setData(value, Qt.ItemDataRole.UserRole)
            self.appendRow(item)
        self._keys: list[tuple[str, str]] | None = None

    def match_keys(self) -> list[tuple[str, str]]:
        """(name key, words) of each row, as :func:`db.naming.match_rank` takes them."""
        if self._keys is None:
            self._keys = [(name_key(label), words_key(label)) for label in self.labels]
        return self._keys


def item_model(items: list[tuple[str, Any]]) -> ChoiceItemModel:
    return ChoiceItemModel(items)


class MatchingProxy(QAbstractProxyModel):
    """The rows of a :class:`ChoiceItemModel` that match what is typed, best first: the
    name itself, then names that begin with it, then those with a word that begins with
    it… ("Maubeuge": "Commune de Maubeuge" before "CA Maubeuge Val de Sambre"); equal
    matches in the model's (French) order."""

    def __init__(self, source: ChoiceItemModel, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[int] = []
        self._positions: dict[int, int] = {}
        self.setSourceModel(source)

    def set_text(self, text: str) -> None:
        typed = name_key(text)
        source = self.sourceModel()
        keys = source.match_keys() if isinstance(source, ChoiceItemModel) else []
        ranked = []
        for row, (key, words) in enumerate(keys):
            rank = match_rank(typed, key, words)
            if rank is not None:
                ranked.append((rank, row))
        ranked.sort()
        self.beginResetModel()
        self._rows = [row for _, row in ranked]
        self._positions = {row: position for position, row in enumerate(self._rows)}
        self.endResetModel()

    def resolve(self, text: str) -> int | None:
        """The source row of the one name *text* designates (same key), or None."""
        typed = name_key(text)
        source = self.sourceModel()
        if not typed or not isinstance(source, ChoiceItemModel):
            return None
        for row, (key, _) in enumerate(source.match_keys()):
            if key == typed:
                return row
        return None

    # Qt overrides (camelCase, as Qt names them)
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not 0 <= row < len(self._rows) or column != 0:
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, *args: Any) -> Any:
        if not args:  # QObject.parent()
            return super().parent()
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else 1

    def mapToSource(self, proxy: Index) -> QModelIndex:  # noqa: N802
        if not proxy.isValid() or not 0 <= proxy.row() < len(self._rows):
            return QModelIndex()
        return self.sourceModel().index(self._rows[proxy.row()], proxy.column())

    def mapFromSource(self, source: Index) -> QModelIndex:  # noqa: N802
        position = self._positions.get(source.row()) if source.isValid() else None
        return QModelIndex() if position is None else self.createIndex(position,
                                                                       source.column())


class ChoiceModels:
    def __init__(self, choices: Choices) -> None:
        self.choices = choices
        organisations = sorted(((name, str(org_id)) for org_id, name, _ in
                                choices.organisations), key=lambda item: sort_name(item[0]))
        self.owners = item_model([("", NONE), *organisations])
        self.financers = item_model([("Financeur non précisé", NONE), *organisations])
        self.contracts = item_model([("", NONE)] + [(f"{ref} — {title}", str(cid))
                                                    for cid, ref, title in choices.contracts])
        self.commune_labels = QStringListModel(
            sorted((label for _, label in choices.communes), key=sort_name))
        self.epci_labels = QStringListModel(
            sorted((label for _, label in choices.epcis), key=sort_name))
