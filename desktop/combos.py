"""Combo boxes of the editors: plain choices, or searchable over a shared model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QComboBox, QCompleter

from desktop.choice_models import NONE, ChoiceItemModel, MatchingProxy


def complete_anywhere(box: QComboBox) -> None:
    """Typing any part of an item proposes it, whatever the case."""
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    completer = box.completer()
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)


def combo(items: list[tuple[str, Any]], name: str) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    box.setToolTip(name)
    for label, value in items:
        box.addItem(label, value)
    return box


class SearchableCombo(QComboBox):
    """An editable combo box whose completion matches names the way the base compares
    them (db.naming): "commune de maubeuge" proposes "Commune de Maubeuge", "Maubeuge"
    proposes the commune before the EPCI whose name contains it."""

    matcher: MatchingProxy | None = None

    def setModel(self, model: QAbstractItemModel) -> None:  # noqa: N802 (Qt name)
        super().setModel(model)  # which also gives the plain model to the completer
        if not isinstance(model, ChoiceItemModel):
            complete_anywhere(self)
            self.matcher = None
            return
        self.matcher = MatchingProxy(model, self)
        completer = QCompleter(self)
        completer.setModel(self.matcher)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        # The proxy filters and orders; the completer shows what it holds.
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.setCompleter(completer)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.lineEdit()
        if line is not None and not getattr(self, "_follows_typing", False):
            line.textEdited.connect(self._typed)  # before the completer's own update
            self._follows_typing = True

    def _typed(self, text: str) -> None:
        if self.matcher is not None:
            self.matcher.set_text(text)


def searchable_combo(model: Any, name: str) -> QComboBox:
    """An editable combo box over a shared model, with completion on any part."""
    box = SearchableCombo()
    box.setAccessibleName(name)
    box.setToolTip(name)
    box.setEditable(True)
    # Sized without measuring thousands of items (the default reads them all).
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(12)
    box.setModel(model)
    return box


def select(box: QComboBox, value: Any) -> None:
    index = box.findData(value if value is not None else NONE)
    box.setCurrentIndex(max(index, 0))


def data(box: QComboBox) -> Any:
    value = box.currentData()
    return None if value in (None, NONE) else value


def known_choice(box: QComboBox) -> Any:
    """The chosen item's value, or None when the text typed matches no item; a name
    written otherwise ("commune de maubeuge", "Ville de Maubeuge") is the item it
    designates ("Commune de Maubeuge")."""
    text = box.currentText()
    index = box.findText(text, Qt.MatchFlag.MatchExactly)
    matcher = getattr(box, "matcher", None)
    if index < 0 and matcher is not None:
        row = matcher.resolve(text)
        index = -1 if row is None else row
    value = box.itemData(index) if index >= 0 else None
    return None if value in (None, NONE) else value
