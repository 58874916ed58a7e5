"""Qt models of the editors' choices, built once and shared by every combo box.

A database of 100 000 operations has thousands of organisations and 35 000
communes: one model each, shared, keeps opening an editor fast and light.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from db.editing import Choices

NONE = ""  # "no choice" (never None: see desktop.list_pages.ALL)


def item_model(items: list[tuple[str, Any]]) -> QStandardItemModel:
    model = QStandardItemModel()
    for label, value in items:
        item = QStandardItem(label)
        item.setData(value, Qt.ItemDataRole.UserRole)
        model.appendRow(item)
    return model


class ChoiceModels:
    def __init__(self, choices: Choices) -> None:
        self.choices = choices
        organisations = [(name, str(org_id)) for org_id, name, _ in choices.organisations]
        self.owners = item_model([("", NONE), *organisations])
        self.financers = item_model([("Financeur non précisé", NONE), *organisations])
        self.contracts = item_model([("", NONE)] + [(f"{ref} — {title}", str(cid))
                                                    for cid, ref, title in choices.contracts])
        self.commune_labels = QStringListModel([label for _, label in choices.communes])
        self.epci_labels = QStringListModel([label for _, label in choices.epcis])
