"""Combo boxes of the editors: plain choices, or searchable over a shared model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter

from desktop.choice_models import NONE


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


def searchable_combo(model: Any, name: str) -> QComboBox:
    """An editable combo box over a shared model, with completion on any part."""
    box = QComboBox()
    box.setAccessibleName(name)
    box.setToolTip(name)
    box.setEditable(True)
    # Sized without measuring thousands of items (the default reads them all).
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(12)
    box.setModel(model)
    complete_anywhere(box)
    return box


def select(box: QComboBox, value: Any) -> None:
    index = box.findData(value if value is not None else NONE)
    box.setCurrentIndex(max(index, 0))


def data(box: QComboBox) -> Any:
    value = box.currentData()
    return None if value in (None, NONE) else value


def known_choice(box: QComboBox) -> Any:
    """The chosen item's value, or None when the text typed matches no item."""
    index = box.findText(box.currentText(), Qt.MatchFlag.MatchExactly)
    value = box.itemData(index) if index >= 0 else None
    return None if value in (None, NONE) else value
